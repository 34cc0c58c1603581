#!/usr/bin/env bash
# Replays the example requests of draft-vinokurov-tigress-http ("the draft":
# draft-vinokurov-tigress-http.md in https://github.com/dimmyvi/tigress, as
# stored at commit 92ac736ea0e72a34bdb1583cd88a5ad99348799c; the repository's
# draft-vinokurov-tigress-http-00/index.html is only a branch index page)
# against latchkey-relay with curl, and checks the answers against the
# statuses the draft gives.  Prints TAP, for meson's protocol: 'tap'.
#
# Usage: tests/relay-draft-examples.sh /path/to/latchkey-relay
#
# Only bash, curl, grep, sed and date are used.
#
# General differences from the draft, which apply to every request below:
#
#  * The draft's examples are JSON bodies only.  It shows no request line and
#    no header values, so the method and path come from each section's
#    "Endpoint", and the headers from its "Header parameters" list.
#  * The draft has no example UUID for Mailbox-Device-Claim or
#    Mailbox-Request-ID (its only UUID is the mailbox id in the "Car Key Share
#    URL example"), so the claims and request ids below are made up.  They are
#    valid lowercase version 4 UUIDs, as the draft asks (RFC 4122), and the
#    initiator's and recipient's claims differ, as the draft requires.
#  * The draft requires https.  The relay is started on the loopback address
#    without TLS, so every URL here is http://127.0.0.1:PORT.
#  * Mailbox-Device-Attestation is optional and the draft has no example value
#    for it, so it is never sent.

set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 /path/to/latchkey-relay" >&2
  exit 2
fi
relay_bin=$1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/relay-draft-examples.XXXXXX") || {
  echo "Bail out! mktemp -d failed"
  exit 1
}
relay_pid=

cleanup () {
  if [ -n "$relay_pid" ] && kill -0 "$relay_pid" 2>/dev/null; then
    kill -TERM "$relay_pid" 2>/dev/null
    # The relay shuts down on SIGTERM; give it 5 s, then insist.
    for _ in $(seq 50); do
      kill -0 "$relay_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$relay_pid" 2>/dev/null
  fi
  [ -n "$relay_pid" ] && wait "$relay_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- TAP ---------------------------------------------------------------------

n=0
failed=0

# check DESCRIPTION COMMAND...: one TAP line, ok when COMMAND succeeds.
# On failure the last answer is printed as TAP diagnostics.
check () {
  local description=$1
  shift
  n=$((n + 1))
  if "$@"; then
    echo "ok $n - $description"
  else
    failed=$((failed + 1))
    echo "not ok $n - $description"
    echo "# last request: $last_request"
    echo "# answer status: $status"
    if [ -n "$body" ]; then
      printf "%s\n" "$body" | head -n 20 | sed "s/^/#   /"
    fi
  fi
}

# --- HTTP --------------------------------------------------------------------

status=000
body=
last_request=none
: > "$tmp/body"
: > "$tmp/headers"

# http METHOD URL [CURL-ARGUMENTS...]: sets status (000 when curl itself
# fails), body, and leaves the answer's headers in $tmp/headers.
http () {
  local method=$1 url=$2 rc
  shift 2
  last_request="$method $url"
  : > "$tmp/body"
  : > "$tmp/headers"
  status=$(curl -q -sS --noproxy '*' --max-time 10 \
                -X "$method" -o "$tmp/body" -D "$tmp/headers" \
                -w '%{http_code}' "$@" "$url" 2>"$tmp/curl.err")
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "# curl failed (exit $rc) for $method $url: $(head -n 1 "$tmp/curl.err")"
    status=000
  fi
  body=$(cat "$tmp/body")
}

# json_string NAME TEXT: the first string value of key NAME in TEXT.
json_string () {
  printf '%s' "$2" | tr -d '\n' | sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p'
}

# json_payload TEXT: the inside of the "payload" object in TEXT.
json_payload () {
  printf '%s' "$1" | tr -d '\n' | sed -n 's/.*"payload"[[:space:]]*:[[:space:]]*{\([^}]*\)}.*/\1/p'
}

html_escape () {
  local s=$1
  # Quoted replacements: bash 5.2 would otherwise expand "&" in them.
  s=${s//&/"&amp;"}
  s=${s//</"&lt;"}
  s=${s//>/"&gt;"}
  s=${s//\"/"&quot;"}
  s=${s//\'/"&#39;"}
  printf '%s' "$s"
}

status_is () { [ "$status" = "$1" ]; }

# payload_is TYPE DATA: the last answer echoes this payload.
payload_is () {
  local p
  p=$(json_payload "$body")
  [ -n "$p" ] && [ "$(json_string type "$p")" = "$1" ] && [ "$(json_string data "$p")" = "$2" ]
}

header_is () {
  grep -qi "^$1:[[:space:]]*$2"$'\r'"\?\$" "$tmp/headers"
}

body_has () { printf '%s' "$body" | grep -qE "$1"; }

# json_string_is NAME VALUE: the last answer has "NAME": "VALUE", not empty.
json_string_is () { [ -n "$2" ] && [ "$(json_string "$1" "$body")" = "$2" ]; }

uuid_re='[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}'

# url_link_is_mailbox: $url_link is this relay's origin, /v1/m/ and a UUID.
url_link_is_mailbox () {
  local id=${url_link#"$base/v1/m/"}
  [ -n "$url_link" ] && [ "$id" != "$url_link" ] && printf '%s\n' "$id" | grep -qx "$uuid_re"
}

# og_title_is TITLE: the last answer has an og:title meta tag of TITLE,
# HTML-escaped.
og_title_is () {
  grep -qF "property=\"og:title\" content=\"$(html_escape "$1")\"" "$tmp/body"
}

# --- Start the relay ---------------------------------------------------------

# With LATCHKEY_REDIS_NODES (tests/with-redis-cluster), the relay keeps its
# mailboxes on that Redis Cluster instead of SQLite (issue 14).
set -- --port 0 --data-dir "$tmp" --rate 0 --max-mailboxes-per-client 0
if [ -n "${LATCHKEY_REDIS_NODES:-}" ]; then
  set -- "$@" --store redis --redis-nodes "$LATCHKEY_REDIS_NODES"
fi
"$relay_bin" "$@" </dev/null >"$tmp/relay.out" 2>"$tmp/relay.log" &
relay_pid=$!

base=
for _ in $(seq 100); do
  base=$(sed -n 's|^latchkey-relay listening on \(http://127\.0\.0\.1:[0-9][0-9]*\)$|\1|p' "$tmp/relay.out")
  [ -n "$base" ] && break
  kill -0 "$relay_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "Bail out! latchkey-relay did not report its address within 10 s"
  sed 's/^/# /' "$tmp/relay.log"
  exit 1
fi
echo "# relay at $base"

# --- Values used by the examples ---------------------------------------------

initiator_claim=11111111-1111-4111-8111-111111111111
recipient_claim=22222222-2222-4222-8222-222222222222
third_claim=33333333-3333-4333-8333-333333333333
create_request_id=c0000000-0000-4000-8000-000000000001
update_request_id=c0000000-0000-4000-8000-000000000002
relinquish_request_id=c0000000-0000-4000-8000-000000000003
delete_request_id=c0000000-0000-4000-8000-000000000004
delete_again_request_id=c0000000-0000-4000-8000-000000000005

# The draft's "payload.data" is "FDEC...987654321": "." is not base64 and the
# 16 characters are too short for even an IV and a tag, which the relay
# refuses.  The "..." is filled with base64 characters, keeping the draft's
# first and last characters, to make 60 characters (45 bytes: a 12-byte IV,
# 17 bytes of ciphertext and a 16-byte tag, the draft's "IV ciphertext tag").
create_data=FDEC0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJK987654321
# The draft's UpdateMailbox example uses the same "FDEC...987654321" as its
# CreateMailbox example; with identical data the update could not be told
# from the original, so the filler differs here.
update_data=FDECzyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGF987654321

# The draft's expiration "2022-02-08T14:57:22Z" is in the past, and the relay
# refuses an expired mailbox.  One day from now, in the same format.
expiration=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null ||
             date -u -v+1d +%Y-%m-%dT%H:%M:%SZ)

# --- CreateMailbox -----------------------------------------------------------

# "Create Mailbox Request Example", POST /v1/m, headers from "Header
# parameters".  Differences from the draft's body:
#  * "tokenData" : “APNS...1234" opens with a typographic quote (U+201C),
#    which is not JSON; it is an ASCII quote here.  The value is unchanged.
#  * "data": see create_data above.
#  * "expiration": see expiration above.
create_body=$(cat <<EOF
{
    "displayInformation" : {
        "title" : "Hotel Pass",
        "description" : "Some Hotel Pass",
        "imageURL" : "https://example.com/sharingImage"
    },
    "payload" : {
        "type": "AEAD_AES_128_GCM",
        "data": "$create_data"
    },
    "notificationToken" : {
        "type" : "com.apple.apns",
        "tokenData" : "APNS...1234"
    },
    "mailboxConfiguration" : {
        "accessRights" : "RWD",
        "expiration" : "$expiration"
    }
}
EOF
)

http POST "$base/v1/m" \
  -H 'Content-Type: application/json' \
  -H "Mailbox-Device-Claim: $initiator_claim" \
  -H "Mailbox-Request-ID: $create_request_id" \
  --data-binary "$create_body"
check "CreateMailbox answers 200" status_is 200
check "CreateMailbox echoes Mailbox-Request-ID" header_is Mailbox-Request-ID "$create_request_id"
# "Create Mailbox Response Example" has "urlLink":
# "https://relayserver.example.com/m/12345678-9...A-BCD": a fixed host, no
# /v1 and an elided id.  What is checked is the form the draft's "Share URL"
# section gives, https://{RelayServerHost}/v{ApiVersion}/m/{MailboxIdentifier},
# with this relay's own origin and a real UUID.
url_link=$(json_string urlLink "$body")
check "CreateMailbox urlLink is $base/v1/m/<uuid>" url_link_is_mailbox
check "CreateMailbox answers isPushNotificationSupported" \
  body_has '"isPushNotificationSupported"[[:space:]]*:[[:space:]]*(true|false)'

# Every later request goes to the link the relay gave, as a recipient would
# (the draft's "Share URL" section); there is no fragment to remove.
mailbox=$url_link
[ -n "$mailbox" ] || mailbox="$base/v1/m/00000000-0000-4000-8000-000000000000"

# The same request again, as the draft's Mailbox-Request-ID section says a
# caller may retry: same claim, same Mailbox-Request-ID, same body.
http POST "$base/v1/m" \
  -H 'Content-Type: application/json' \
  -H "Mailbox-Device-Claim: $initiator_claim" \
  -H "Mailbox-Request-ID: $create_request_id" \
  --data-binary "$create_body"
check "retried CreateMailbox answers 201" status_is 201
check "retried CreateMailbox gives the same urlLink" \
  json_string_is urlLink "$url_link"

# --- ReadDisplayInformationFromMailbox ---------------------------------------

# GET /v1/m/{mailboxIdentifier}, no headers.  The draft's "Read Display
# Information Response Example" shows og:image
# "https://example.com/photos/photo.jpg", og:type "image/jpeg", og:url
# "share://" and an image size, none of which follow from the create
# example's body, so only the title is compared.
http GET "$mailbox"
check "ReadDisplayInformationFromMailbox answers 200" status_is 200
check "ReadDisplayInformationFromMailbox has og:title \"Hotel Pass\", HTML-escaped" \
  og_title_is "Hotel Pass"

# --- ReadSecureContentFromMailbox --------------------------------------------

# POST /v1/m/{mailboxIdentifier} with Mailbox-Device-Claim only: the draft
# gives this endpoint no Mailbox-Request-ID and no request body.  The first
# claim that is not the initiator's binds the recipient.
http POST "$mailbox" -H "Mailbox-Device-Claim: $recipient_claim"
check "ReadSecureContentFromMailbox by the recipient answers 200" status_is 200
# "Read Secure Content Response Example" shows the create example's payload
# and displayInformation, with "expiration": "2021-11-03T20:32:34Z" (which is
# not even the create example's "2022-02-08T14:57:22Z"); what is checked is
# that the stored payload and the expiration sent at creation come back.
# (Its “displayInformation" key also opens with a typographic quote.)
check "ReadSecureContentFromMailbox echoes the stored payload" \
  payload_is AEAD_AES_128_GCM "$create_data"
check "ReadSecureContentFromMailbox gives the expiration set at creation" \
  json_string_is expiration "$expiration"

# A third device, once the recipient is bound.
http POST "$mailbox" -H "Mailbox-Device-Claim: $third_claim"
check "ReadSecureContentFromMailbox by a third device answers 401" status_is 401

# --- UpdateMailbox -----------------------------------------------------------

# "Update Mailbox Request Example", PUT /v1/m/{mailboxIdentifier}, by the
# recipient, as in the draft's "Sharing Flow With API calls" diagram; the
# mailbox was created with "accessRights" : "RWD".  Differences from the
# draft's body:
#  * "tokenData" : “APNS...1234": typographic quote made ASCII, as above.
#  * "data": see update_data above.
update_body=$(cat <<EOF
{
     "payload" : {
        "type": "AEAD_AES_128_GCM",
        "data": "$update_data"
    },
    "notificationToken":{
        "type" : "com.apple.apns",
        "tokenData" : "APNS...1234"
    }
}
EOF
)

http PUT "$mailbox" \
  -H 'Content-Type: application/json' \
  -H "Mailbox-Device-Claim: $recipient_claim" \
  -H "Mailbox-Request-ID: $update_request_id" \
  --data-binary "$update_body"
check "UpdateMailbox by the recipient answers 200" status_is 200
check "UpdateMailbox answers isPushNotificationSupported" \
  body_has '"isPushNotificationSupported"[[:space:]]*:[[:space:]]*(true|false)'

http PUT "$mailbox" \
  -H 'Content-Type: application/json' \
  -H "Mailbox-Device-Claim: $recipient_claim" \
  -H "Mailbox-Request-ID: $update_request_id" \
  --data-binary "$update_body"
check "retried UpdateMailbox answers 201" status_is 201

# The initiator reads what the recipient wrote ("Initiator -> Relay:
# ReadSecureContentFromMailbox" in the diagram).
http POST "$mailbox" -H "Mailbox-Device-Claim: $initiator_claim"
check "ReadSecureContentFromMailbox by the initiator answers 200" status_is 200
check "the initiator reads the updated payload" \
  payload_is AEAD_AES_128_GCM "$update_data"

# --- RelinquishMailbox -------------------------------------------------------

# PATCH /v1/m/{mailboxIdentifier}, no body (the draft defines none).
http PATCH "$mailbox" \
  -H "Mailbox-Device-Claim: $recipient_claim" \
  -H "Mailbox-Request-ID: $relinquish_request_id"
check "RelinquishMailbox by the recipient answers 200" status_is 200

http PATCH "$mailbox" \
  -H "Mailbox-Device-Claim: $recipient_claim" \
  -H "Mailbox-Request-ID: $relinquish_request_id"
check "retried RelinquishMailbox answers 201" status_is 201

# The device refused above may now bind.
http POST "$mailbox" -H "Mailbox-Device-Claim: $third_claim"
check "after RelinquishMailbox another device binds: 200" status_is 200
check "the new recipient reads the current payload" \
  payload_is AEAD_AES_128_GCM "$update_data"

# --- DeleteMailbox -----------------------------------------------------------

# DELETE /v1/m/{mailboxIdentifier}, by the bound recipient, as in the
# diagram ("Recipient -> Relay: DeleteMailbox").
http DELETE "$mailbox" \
  -H "Mailbox-Device-Claim: $third_claim" \
  -H "Mailbox-Request-ID: $delete_request_id"
check "DeleteMailbox answers 200" status_is 200

# The draft: "Relay server may respond with 404 if the Mailbox Identifier
# passed by the caller is invalid or mailbox has already been deleted".  A new
# Mailbox-Request-ID, so that this is not a retry (a retry answers 201).
http DELETE "$mailbox" \
  -H "Mailbox-Device-Claim: $third_claim" \
  -H "Mailbox-Request-ID: $delete_again_request_id"
check "DeleteMailbox of a deleted mailbox answers 404" status_is 404

http POST "$mailbox" -H "Mailbox-Device-Claim: $initiator_claim"
check "ReadSecureContentFromMailbox after DeleteMailbox answers 404" status_is 404

# --- Car Key Share URL example -----------------------------------------------

# The draft's "Car Key Share URL example",
# https://relayserver.example.com/v1/m/2bba630e-519b-11ec-bf63-0242ac130002?v=c#hXlr6aRC7KgJpOLTNZaLsw==
# on this relay's origin, without the fragment (the Secret), which the draft
# says a Recipient Device MUST remove before calling the relay.  No such
# mailbox exists here.
http GET "$base/v1/m/2bba630e-519b-11ec-bf63-0242ac130002?v=c"
check "ReadDisplayInformationFromMailbox of the draft's share URL answers 404" status_is 404

echo "1..$n"
[ "$failed" -eq 0 ]
