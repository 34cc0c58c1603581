#!/usr/bin/env bash
# Benchmark latchkey-relay against nginx baselines run in the same invocation.
#
#   build-aux/bench-relay.sh [DURATION_SECONDS]     (default 10)
#
# Environment (optional):
#   BENCH_CONNECTIONS  wrk connections (default 50; one wrk thread)
#   BENCH_WAITERS      waiting readers to park (default 10000)
#   BENCH_LOG_DIR      if set, the raw wrk outputs and the relay's and
#                      nginx's logs are copied there
#   TMPDIR             where the temporary directory (relay database, nginx
#                      prefix) goes; it should be a real disk, not tmpfs,
#                      or the durable-create figures mean nothing
#
# Runs (wrk -t1 -cN, keep-alive, --latency):
#   A  nginx: GET of a 4 KiB static file (sendfile on)
#   B  nginx: POST of a 4 KiB body, body read and discarded, 204
#   C  relay: create of a mailbox with a 4 KiB body (durable before the 200)
#   R  relay: read of a 4 KiB mailbox by its bound recipient
#   W  relay: the same read with BENCH_WAITERS waiting reads parked
# (C runs first so that R and W see the same database, back to back.)
#
# This prints figures and PASS/MISS against the targets; a MISS is not a
# failure.  The exit status is non-zero only when something broke (build,
# startup, a run that could not be made).
#
# It installs missing packages with apt-get (root), builds its own release
# build in _build-bench, and leaves no process or temporary file behind.

set -Eeuo pipefail
trap 'printf "bench-relay: error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

DURATION=${1:-10}
STARTED=$SECONDS
CONNECTIONS=${BENCH_CONNECTIONS:-50}
WAITERS=${BENCH_WAITERS:-10000}
WAIT_SECONDS=30                 # Prefer: wait= of the parked reads
MAX_WAITER_RUN=15               # the run with waiters must end well within WAIT_SECONDS

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILDDIR=$SRCDIR/_build-bench
BENCHDIR=$SRCDIR/build-aux/bench
RELAY=$BUILDDIR/src/relay/latchkey-relay
PYTHON=/usr/bin/python3

log() { printf '%s\n' "$*" >&2; }
warn() { printf 'bench-relay: WARNING: %s\n' "$*" >&2; WARNINGS+=("$*"); }
die() { printf 'bench-relay: error: %s\n' "$*" >&2; exit 1; }

WARNINGS=()

[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [DURATION_SECONDS]"
[[ $CONNECTIONS =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONNECTIONS must be a positive integer"
[[ $WAITERS =~ ^[1-9][0-9]*$ ]] || die "BENCH_WAITERS must be a positive integer"

# ---------------------------------------------------------------------------
# Packages

install_missing() {
  local missing=() pkg
  command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
  for pkg in wrk curl python3 meson ninja-build gcc g++ pkgconf libmicrohttpd-dev libsqlite3-dev \
             libglib2.0-dev libjson-glib-dev libsimdjson-dev libgnutls28-dev libsoup-3.0-dev libzbar-dev libgdk-pixbuf-2.0-dev; do
    if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run as root or install them"
  log "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

install_missing
for tool in nginx wrk curl "$PYTHON" meson; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

# ---------------------------------------------------------------------------
# Build

cd "$SRCDIR"
if [[ ! -f $BUILDDIR/meson-private/coredata.dat ]]; then
  log "Configuring $BUILDDIR (release)"
  meson setup "$BUILDDIR" --buildtype=release -Dapp=false -Dcli=false -Dtests=false >&2
fi
log "Building"
BUILD_LOG=$(mktemp)
if ! meson compile -C "$BUILDDIR" >"$BUILD_LOG" 2>&1; then
  cat "$BUILD_LOG" >&2
  rm -f "$BUILD_LOG"
  die "build failed"
fi
rm -f "$BUILD_LOG"
[[ -x $RELAY ]] || die "$RELAY was not built"

# ---------------------------------------------------------------------------
# Descriptors: each side of the waiter benchmark holds WAITERS sockets.

hard=$(ulimit -Hn)
if [[ $hard == unlimited ]] || ((hard >= 65536)); then
  ulimit -n 65536
else
  ulimit -n "$hard"
fi
(($(ulimit -n) >= WAITERS + 1024)) ||
  die "open-file limit $(ulimit -n) is too low for $WAITERS waiters (need $((WAITERS + 1024)))"

# ---------------------------------------------------------------------------
# Temporary state and clean-up

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-relay.XXXXXX")
chmod 755 "$TMP"                # nginx workers (nobody) read the static file
NGINX_PID= RELAY_PID= WAITER_PID=

# Stop one process we started, by PID: TERM, then KILL after 5 s.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -KILL "$pid" 2>/dev/null; then
    log "bench-relay: PID $pid ignored SIGTERM for 5 s, killed"
  fi
  wait "$pid" 2>/dev/null || true
}

stop_nginx() {
  local workers
  [[ -n $NGINX_PID ]] || return 0
  workers=$(pgrep -P "$NGINX_PID" 2>/dev/null || true)
  stop_pid "$NGINX_PID"
  for pid in $workers; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  NGINX_PID=
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_pid "$WAITER_PID"; WAITER_PID=
  stop_pid "$RELAY_PID"; RELAY_PID=
  stop_nginx
  if [[ -n ${BENCH_LOG_DIR:-} ]]; then
    mkdir -p "$BENCH_LOG_DIR" &&
      cp -f "$TMP"/wrk-*.txt "$TMP"/relay.out "$TMP"/relay.err "$TMP"/waiters.out "$TMP"/waiters.err \
            "$TMP"/nginx/error.log "$BENCH_LOG_DIR"/ 2>/dev/null
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

uuid() { cat /proc/sys/kernel/random/uuid; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------------------
# Request bodies: a 4 KiB static file, a ~4 KiB create body.

mkdir -p "$TMP/www" "$TMP/nginx"
head -c 4096 /dev/urandom >"$TMP/www/static.bin"
# 2970 random bytes are 3960 base64 characters (no padding): the body is 4094 bytes.
printf '{"payload":{"type":"AEAD_AES_256_GCM","data":"%s"},"displayInformation":{"title":"Bench"},"mailboxConfiguration":{"accessRights":"RWD"}}' \
  "$(head -c 2970 /dev/urandom | base64 -w0)" >"$TMP/create.json"
chmod 644 "$TMP/www/static.bin" "$TMP/create.json"
chmod 755 "$TMP/www"

# ---------------------------------------------------------------------------
# wrk

declare -A RPS P50 P99 REQS NON2XX SOCKERR

# run_wrk KEY LABEL URL DURATION [VAR=VALUE...]: one wrk run; fills the arrays.
run_wrk() {
  local key=$1 label=$2 url=$3 duration=$4 out line
  shift 4
  out=$TMP/wrk-$key.txt
  log "[$key] $label: wrk -t1 -c$CONNECTIONS -d${duration}s"
  sleep 1                       # let the previous step settle
  if ! env "$@" wrk -t1 -c"$CONNECTIONS" -d"${duration}s" --latency \
         -s "$BENCHDIR/request.lua" "$url" >"$out" 2>&1; then
    cat "$out" >&2
    die "wrk failed for $label"
  fi
  line=$(grep '^BENCH ' "$out" || true)
  [[ -n $line ]] || { cat "$out" >&2; die "no summary from wrk for $label"; }
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  RPS[$key]=$(field rps)
  P50[$key]=$(field p50_us)
  P99[$key]=$(field p99_us)
  REQS[$key]=$(field requests)
  NON2XX[$key]=$(field status_errors)
  SOCKERR[$key]=$(( $(field connect_errors) + $(field read_errors) + $(field write_errors) + $(field timeouts) ))
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    warn "$label: wrk reports $(grep 'Non-2xx or 3xx responses' "$out" | sed 's/^ *//')"
  fi
  if grep -q 'Socket errors' "$out"; then
    warn "$label: wrk reports $(grep 'Socket errors' "$out" | sed 's/^ *//')"
  fi
  ((REQS[$key] > 0)) || warn "$label: no request completed"
}

# ---------------------------------------------------------------------------
# nginx baselines

NGINX_PORT=$(free_port)
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;

events {
  worker_connections 4096;
}

http {
  access_log off;
  sendfile on;
  keepalive_timeout 75s;
  keepalive_requests 10000000;
  default_type application/octet-stream;
  client_body_temp_path $TMP/nginx/client_body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;

  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;

    location = /static.bin {
    }

    # A 204 makes nginx read and discard the request body (it has to, to
    # keep the connection alive); checked with a keep-alive pair below.
    location = /post {
      client_max_body_size 64k;
      client_body_buffer_size 64k;
      return 204;
    }
  }
}
EOF

nginx -t -q -e "$TMP/nginx/error.log" -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" ||
  { cat "$TMP/nginx/error.log" >&2; die "nginx configuration rejected"; }
nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" \
  </dev/null >"$TMP/nginx/stdout" 2>&1 &
NGINX_PID=$!
NGINX_URL=http://127.0.0.1:$NGINX_PORT
for ((i = 0; i < 100; i++)); do
  curl -s -o /dev/null --max-time 1 "$NGINX_URL/static.bin" && break
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMP/nginx/error.log" >&2; die "nginx exited"; }
  sleep 0.1
done

check=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$NGINX_URL/static.bin" || true)
[[ $check == "200 4096" ]] || die "nginx static check failed: $check"
# Two POSTs on one connection: both 204 and the second reuses the connection
# (num_connects 0), so nginx consumed the first 4 KiB body off the socket.
check=$(curl -s -o /dev/null -w '%{http_code}/%{num_connects} ' -X POST \
          -H 'Content-Type: application/json' --data-binary "@$TMP/create.json" \
          "$NGINX_URL/post" "$NGINX_URL/post" || true)
[[ $check == "204/1 204/0 " ]] || die "nginx POST keep-alive check failed: $check"

run_wrk A "nginx static GET 4 KiB" "$NGINX_URL/static.bin" "$DURATION"
run_wrk B "nginx POST 4 KiB -> 204" "$NGINX_URL/post" "$DURATION" \
  BENCH_METHOD=POST BENCH_BODY_FILE="$TMP/create.json" BENCH_CONTENT_TYPE=application/json
stop_nginx

# ---------------------------------------------------------------------------
# Relay

DATA_DIR=$TMP/relay-data
# Every request comes from 127.0.0.1: per-client limits off.
"$RELAY" --port 0 --data-dir "$DATA_DIR" --rate 0 --max-mailboxes-per-client 0 --max-bytes-per-client 0 \
  --max-connections-per-client 0 --max-waiters-per-client 0 \
  --max-connections 20000 --max-waiters 12000 --connection-timeout 60 \
  </dev/null >"$TMP/relay.out" 2>"$TMP/relay.err" &
RELAY_PID=$!
RELAY_URL=
for ((i = 0; i < 150; i++)); do
  RELAY_URL=$(sed -n 's/^latchkey-relay listening on \(http:\/\/[^ ]*\)$/\1/p' "$TMP/relay.out")
  [[ -n $RELAY_URL ]] && break
  kill -0 "$RELAY_PID" 2>/dev/null || { cat "$TMP/relay.err" >&2; die "latchkey-relay exited"; }
  sleep 0.1
done
[[ -n $RELAY_URL ]] || { cat "$TMP/relay.err" >&2; die "latchkey-relay did not start"; }
RELAY_PORT=${RELAY_URL##*:}
DATA_FS=$(findmnt -n -o FSTYPE -T "$DATA_DIR" 2>/dev/null || echo '?')
[[ $DATA_FS == tmpfs ]] && warn "relay database on tmpfs: fsync is free, create figures are not durable ones"

metric() {
  { curl -s --max-time 5 "$RELAY_URL/metrics" || true; } | awk -v k="$1" '$1 == k { print $2 }'
}
relay_errors() {
  local a b
  a=$(metric 'latchkey_relay_responses_total{class="4xx"}')
  b=$(metric 'latchkey_relay_responses_total{class="5xx"}')
  echo $(( ${a:-0} + ${b:-0} ))
}

INITIATOR=$(uuid)
RECIPIENT=$(uuid)

# The mailbox to read: created once, the recipient bound by a first read.
created=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
            -H "Mailbox-Device-Claim: $INITIATOR" --data-binary "@$TMP/create.json" \
            "$RELAY_URL/v1/m" || true)
[[ ${created##*$'\n'} == 200 ]] || die "relay create check failed: $created"
link=$(sed -n 's/.*"urlLink":"\([^"]*\)".*/\1/p' <<<"${created%$'\n'*}")
MAILBOX_PATH=$(sed 's#^https\{0,1\}://[^/]*##' <<<"$link")
[[ $MAILBOX_PATH == /v1/m/* ]] || die "unexpected urlLink: $link"
MAILBOX_URL=$RELAY_URL$MAILBOX_PATH

check=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Mailbox-Device-Claim: $RECIPIENT" "$MAILBOX_URL" || true)
[[ $check == 200 ]] || die "relay recipient binding failed: $check"
headers=$(curl -s -D - -o "$TMP/read.json" -w '%{http_code} %{size_download}' -X POST \
            -H "Mailbox-Device-Claim: $RECIPIENT" "$MAILBOX_URL" || true)
check=${headers##*$'\n'}
[[ $check == "200 "* ]] || die "relay read check failed: $check"
READ_BYTES=${check#200 }
grep -q "$(sed -n 's/.*"data":"\([^"]\{1,64\}\).*/\1/p' "$TMP/create.json")" "$TMP/read.json" ||
  die "relay read does not return the payload"
ETAG=$(tr -d '\r' <<<"$headers" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')
[[ $ETAG =~ ^\"[0-9]+\"$ ]] || die "unexpected ETag: '$ETAG'"

# --- create -----------------------------------------------------------------

errors_before=$(relay_errors)
run_wrk C "relay create 4 KiB (durable)" "$RELAY_URL/v1/m" "$DURATION" \
  BENCH_METHOD=POST BENCH_BODY_FILE="$TMP/create.json" BENCH_CONTENT_TYPE=application/json \
  BENCH_CLAIM="$INITIATOR"
errors_after=$(relay_errors)
((errors_after == errors_before)) ||
  warn "relay create: the relay answered $((errors_after - errors_before)) 4xx/5xx"
MAILBOXES=$(metric latchkey_relay_mailboxes)

# --- read -------------------------------------------------------------------

errors_before=$(relay_errors)
run_wrk R "relay read 4 KiB" "$MAILBOX_URL" "$DURATION" \
  BENCH_METHOD=POST BENCH_CLAIM="$RECIPIENT"
errors_after=$(relay_errors)
((errors_after == errors_before)) ||
  warn "relay read: the relay answered $((errors_after - errors_before)) 4xx/5xx"

# --- waiting readers --------------------------------------------------------

WAITER_DURATION=$DURATION
if ((WAITER_DURATION > MAX_WAITER_RUN)); then
  WAITER_DURATION=$MAX_WAITER_RUN
  log "The run with waiters lasts ${WAITER_DURATION}s (it must end well within wait=$WAIT_SECONDS)"
fi

RSS_BEFORE=$(rss_kb "$RELAY_PID")
log "Parking $WAITERS waiting reads"
waiters_started=$(date +%s.%N)
"$PYTHON" "$BENCHDIR/waiters.py" --port "$RELAY_PORT" --path "$MAILBOX_PATH" \
  --claim "$RECIPIENT" --etag "$ETAG" --count "$WAITERS" --wait "$WAIT_SECONDS" \
  </dev/null >"$TMP/waiters.out" 2>"$TMP/waiters.err" &
WAITER_PID=$!

parked=0
for ((i = 0; i < 240; i++)); do         # at most about a minute
  parked=$(metric latchkey_relay_waiters)
  parked=${parked:-0}
  ((parked >= WAITERS)) && break
  kill -0 "$WAITER_PID" 2>/dev/null || break
  sleep 0.25
done
waiters_parked=$(date +%s.%N)
if ((parked < WAITERS)); then
  cat "$TMP/waiters.out" "$TMP/waiters.err" >&2
  tail -5 "$TMP/relay.err" >&2
  die "only $parked of $WAITERS waiting reads parked"
fi
PARK_SECONDS=$(awk -v a="$waiters_started" -v b="$waiters_parked" 'BEGIN { printf "%.1f", b - a }')
RSS_WITH=$(rss_kb "$RELAY_PID")

errors_before=$(relay_errors)
run_wrk W "relay read 4 KiB, $WAITERS waiting" "$MAILBOX_URL" "$WAITER_DURATION" \
  BENCH_METHOD=POST BENCH_CLAIM="$RECIPIENT"
errors_after=$(relay_errors)
((errors_after == errors_before)) ||
  warn "relay read with waiters: the relay answered $((errors_after - errors_before)) 4xx/5xx"
RSS_AFTER_W=$(rss_kb "$RELAY_PID")
still_parked=$(metric latchkey_relay_waiters)
waiters_done=$(date +%s.%N)
WAITER_SPAN=$(awk -v a="$waiters_started" -v b="$waiters_done" 'BEGIN { printf "%.1f", b - a }')
((${still_parked:-0} == WAITERS)) ||
  warn "only ${still_parked:-0} of $WAITERS waiters still parked after the run"
awk -v s="$WAITER_SPAN" -v w="$WAIT_SECONDS" 'BEGIN { exit !(s >= w) }' &&
  warn "the run with waiters ended ${WAITER_SPAN}s after they were sent (wait=$WAIT_SECONDS)"

stop_pid "$WAITER_PID"; WAITER_PID=
WAITER_SUMMARY=$(grep '^done ' "$TMP/waiters.out" || echo "done (no summary)")
[[ $WAITER_SUMMARY == *"responses=none"* ]] ||
  warn "waiter client: early responses: $WAITER_SUMMARY"
# The client closed its sockets; see whether the relay lets the waits go.
for ((i = 0; i < 30; i++)); do
  released=$(metric latchkey_relay_waiters)
  released=${released:-0}
  ((released == 0)) && break
  sleep 0.1
done

stop_pid "$RELAY_PID"; RELAY_PID=

# ---------------------------------------------------------------------------
# Report

ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB (%.1f MiB)", k * 1024 / 1e6, k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", (b > 0 ? a / b : 0) }'; }
fmt_x() { awk -v r="$1" 'BEGIN { printf "%.2fx", r }'; }
percent() { awk -v r="$1" 'BEGIN { printf "%.1f%%", r * 100 }'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
  ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "PASS" : "MISS" }'; }

label_of() {
  case $1 in
    A) echo "A  nginx static GET 4 KiB" ;;
    B) echo "B  nginx POST 4 KiB -> 204" ;;
    R) echo "R  relay read 4 KiB" ;;
    W) echo "W  relay read, $WAITERS waiting" ;;
    C) echo "C  relay create 4 KiB (fsync)" ;;
  esac
}

wrk_version=$( (wrk -v 2>&1 || true) | head -1 | sed 's/ Copyright.*//')
nginx_version=$(nginx -v 2>&1 | sed 's/^nginx version: //')
relay_rev=$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$SRCDIR" diff --quiet HEAD -- src 2>/dev/null || relay_rev="$relay_rev+local changes"

echo
echo "latchkey-relay benchmark"
echo "========================"
printf '%-12s %s\n' machine "$(nproc) CPUs, $(uname -srm), load at end $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %s\n' cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
printf '%-12s %s\n' nginx "$nginx_version"
printf '%-12s %s\n' wrk "$wrk_version"
printf '%-12s %s\n' relay "$relay_rev, release build, libmicrohttpd $(pkg-config --modversion libmicrohttpd), sqlite $(pkg-config --modversion sqlite3), data on $DATA_FS"
printf '%-12s %s\n' runs "wrk -t1 -c$CONNECTIONS keep-alive, ${DURATION}s each (W: ${WAITER_DURATION}s)"
printf '%-12s %s\n' sizes "static 4096 B, POST body $(stat -c %s "$TMP/create.json") B, relay read response $READ_BYTES B"
echo
printf '%-36s %12s %10s %10s %9s\n' run "requests/s" p50 p99 "non-2xx"
printf '%-36s %12s %10s %10s %9s\n' "------------------------------------" "----------" "--------" "--------" "-------"
for key in A B R W C; do
  printf '%-36s %12.0f %10s %10s %9s\n' "$(label_of "$key")" "${RPS[$key]}" \
    "$(ms "${P50[$key]}")" "$(ms "${P99[$key]}")" "${NON2XX[$key]}"
done
echo
read_ratio=$(ratio "${RPS[R]}" "${RPS[A]}")
create_ratio=$(ratio "${RPS[C]}" "${RPS[B]}")
waiter_ratio=$(ratio "${RPS[W]}" "${RPS[R]}")
rss_with_mb=$(awk -v k="$RSS_WITH" 'BEGIN { print k * 1024 / 1e6 }')
per_waiter=$(awk -v a="$RSS_WITH" -v b="$RSS_BEFORE" -v n="$WAITERS" 'BEGIN { printf "%.1f KiB", (a - b) / n }')
echo "waiting readers: $WAITERS parked in ${PARK_SECONDS}s; $still_parked still parked after run W (${WAITER_SPAN}s after the first was sent)"
echo "relay RSS:       before waiters $(mb "$RSS_BEFORE"); with $WAITERS parked $(mb "$RSS_WITH"); after run W $(mb "$RSS_AFTER_W"); ~$per_waiter per waiter"
echo "waiter client:   ${WAITER_SUMMARY#done }"
echo "after the waiter client closed its sockets: $released waits still counted 3 s later"
echo "mailboxes at end: ${MAILBOXES:-?}"
echo
printf '%-44s %-16s %-12s %s\n' target value goal verdict
printf '%-44s %-16s %-12s %s\n' "--------------------------------------------" "----------------" "------------" "-------"
printf '%-44s %-16s %-12s %s\n' "read / nginx static (R/A)" "$(fmt_x "$read_ratio")" ">= 0.70x" "$(verdict "$read_ratio" 0.7 '>=')"
printf '%-44s %-16s %-12s %s\n' "create / nginx POST (C/B)" "$(fmt_x "$create_ratio")" ">= 0.30x" "$(verdict "$create_ratio" 0.3 '>=')"
printf '%-44s %-16s %-12s %s\n' "RSS with $WAITERS waiting readers" "$(awk -v m="$rss_with_mb" 'BEGIN { printf "%.1f MB", m }')" "<= 100 MB" "$(verdict "$rss_with_mb" 100 '<=')"
printf '%-44s %-16s %-12s %s\n' "read with waiters / without (W/R)" "$(percent "$waiter_ratio")" ">= 90%" "$(verdict "$waiter_ratio" 0.9 '>=')"

echo
echo "total time: $((SECONDS - STARTED)) s"
if ((${#WARNINGS[@]})); then
  echo
  echo "warnings:"
  printf '  - %s\n' "${WARNINGS[@]}"
fi
exit 0
