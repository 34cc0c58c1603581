/* test-draft-peer.c: Latchkey and a wallet written from the draft alone (issue 13)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The peer here follows draft-vinokurov-tigress-http-00's text and nothing
 * of ours: the relay API (POST /v1/m, POST /v1/m/{id}, DELETE), the share
 * URL `https://HOST/v1/m/{id}?v=…#{secret}`, `payload` = `{type, data}` with
 * `data` = base64(IV ‖ ciphertext ‖ tag) under AES-GCM with the secret as the
 * key, and the plaintext `{format, content}`. It uses GnuTLS, libsoup and
 * json-glib directly, not Latchkey's link, crypto or channel code. What the
 * draft leaves to the provisioning partner (token requests, access) is our
 * reference partner's API, signed with lk-signing like any partner client.
 *
 * Latchkey is latchkey-cli, a device with its own keyring (lk-test-actor.c).
 */

#define G_LOG_DOMAIN "test-draft-peer"

#include "config.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-glib/json-glib.h>

#include "latchkey-protocol.h"
#include "lk-test-actor.h"
#include "lk-test-http.h"
#include "lk-test-server.h"

#define IV_LENGTH  12
#define TAG_LENGTH 16

typedef struct
{
  LkTestServer *relay;
  LkTestServer *partner;
  LkTestActor  *latchkey;
  SoupSession  *session;
  char         *claim;      /* the draft peer's Mailbox-Device-Claim */
} World;

static World *
world_new (void)
{
  static const char * const relay_args[] = { "--rate", "0", NULL };
  World *w = g_new0 (World, 1);

  w->relay = lk_test_server_new ("LATCHKEY_RELAY", relay_args);
  lk_test_server_start (w->relay);
  w->partner = lk_test_server_new ("LATCHKEY_PARTNER", NULL);
  lk_test_server_start (w->partner);
  w->latchkey = lk_test_actor_new ("latchkey", w->relay->url, w->partner->url);
  w->session = soup_session_new_with_options ("timeout", 30, NULL);
  w->claim = g_uuid_string_random ();
  return w;
}

static void
world_free (World *w)
{
  g_clear_pointer (&w->latchkey, lk_test_actor_free);
  g_clear_pointer (&w->relay, lk_test_server_free);
  g_clear_pointer (&w->partner, lk_test_server_free);
  g_clear_object (&w->session);
  g_free (w->claim);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (World, world_free)

/* The draft's payload encryption: AES-GCM, the secret as the key, a random
 * 96-bit IV, data = base64(IV ‖ ciphertext ‖ tag), no AAD. */

static gnutls_cipher_algorithm_t
cipher_for (GBytes *secret)
{
  return g_bytes_get_size (secret) == 16 ? GNUTLS_CIPHER_AES_128_GCM : GNUTLS_CIPHER_AES_256_GCM;
}

static JsonObject *
draft_seal (GBytes     *secret,
            const char *plaintext)
{
  gnutls_aead_cipher_hd_t handle;
  gnutls_datum_t key = { (guint8 *) g_bytes_get_data (secret, NULL), g_bytes_get_size (secret) };
  gsize len = strlen (plaintext);
  gsize out_len = len + TAG_LENGTH;
  g_autofree guint8 *out = g_malloc (IV_LENGTH + out_len);
  g_autofree char *data = NULL;
  JsonObject *payload = json_object_new ();

  g_assert_cmpint (gnutls_rnd (GNUTLS_RND_NONCE, out, IV_LENGTH), ==, 0);
  g_assert_cmpint (gnutls_aead_cipher_init (&handle, cipher_for (secret), &key), ==, 0);
  g_assert_cmpint (gnutls_aead_cipher_encrypt (handle, out, IV_LENGTH, NULL, 0, TAG_LENGTH, plaintext, len,
                                               out + IV_LENGTH, &out_len), ==, 0);
  gnutls_aead_cipher_deinit (handle);

  data = g_base64_encode (out, IV_LENGTH + out_len);
  json_object_set_string_member (payload, "type", g_bytes_get_size (secret) == 16 ? "AEAD_AES_128_GCM"
                                                                                  : "AEAD_AES_256_GCM");
  json_object_set_string_member (payload, "data", data);
  return payload;
}

static char *
draft_open (GBytes     *secret,
            JsonObject *payload)
{
  gnutls_aead_cipher_hd_t handle;
  gnutls_datum_t key = { (guint8 *) g_bytes_get_data (secret, NULL), g_bytes_get_size (secret) };
  gsize raw_len, out_len;
  g_autofree guint8 *raw = g_base64_decode (json_object_get_string_member (payload, "data"), &raw_len);
  char *out;

  g_assert_cmpuint (raw_len, >, IV_LENGTH + TAG_LENGTH);
  out_len = raw_len - IV_LENGTH;
  out = g_malloc0 (out_len + 1);
  g_assert_cmpint (gnutls_aead_cipher_init (&handle, cipher_for (secret), &key), ==, 0);
  g_assert_cmpint (gnutls_aead_cipher_decrypt (handle, raw, IV_LENGTH, NULL, 0, TAG_LENGTH, raw + IV_LENGTH,
                                               raw_len - IV_LENGTH, out, &out_len), ==, 0);
  gnutls_aead_cipher_deinit (handle);
  out[out_len] = '\0';
  return out;
}

static char *
to_json (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  return json_to_string (node, FALSE);
}

static JsonObject *
from_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static LkTestReply *
post_json (World      *w,
           const char *base,
           const char *path,
           JsonObject *body)
{
  g_autofree char *url = g_strconcat (base, path, NULL);
  g_autofree char *text = to_json (body);

  return lk_test_send (w->session, "POST", url, "application/json", text, NULL);
}

/* The draft peer as a sender: one message, `{format, content}`, in a new
 * mailbox; returns the share URL with the secret in its fragment. */
static char *
draft_share (World      *w,
             const char *vertical,
             const char *access_rights,
             const char *format,
             JsonObject *content,
             char      **mailbox_url)
{
  guint8 raw_secret[32];
  g_autoptr(GBytes) secret = NULL;
  g_autoptr(JsonObject) plaintext = json_object_new ();
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(JsonObject) display = json_object_new ();
  g_autofree char *text = NULL;
  g_autofree char *secret_text = NULL;
  g_autofree char *url = g_strconcat (w->relay->url, "/v1/m", NULL);
  g_autoptr(LkTestReply) reply = NULL;
  g_autoptr(JsonObject) answer = NULL;

  g_assert_cmpint (gnutls_rnd (GNUTLS_RND_KEY, raw_secret, sizeof raw_secret), ==, 0);
  secret = g_bytes_new (raw_secret, sizeof raw_secret);

  json_object_set_string_member (plaintext, "format", format);
  json_object_set_object_member (plaintext, "content", json_object_ref (content));
  text = to_json (plaintext);

  json_object_set_object_member (body, "payload", draft_seal (secret, text));
  json_object_set_string_member (display, "title", "A key for you");
  json_object_set_object_member (body, "displayInformation", json_object_ref (display));
  if (access_rights != NULL)
    {
      JsonObject *configuration = json_object_new ();

      json_object_set_string_member (configuration, "accessRights", access_rights);
      json_object_set_object_member (body, "mailboxConfiguration", configuration);
    }
  g_free (text);
  text = to_json (body);
  reply = lk_test_send (w->session, "POST", url, "application/json", text, "Mailbox-Device-Claim", w->claim, NULL);
  lk_test_assert_status (reply, 200);
  answer = from_json (reply->body);
  *mailbox_url = g_strdup (json_object_get_string_member (answer, "urlLink"));

  /* The draft's example secret is standard base64, as here. */
  secret_text = g_base64_encode (raw_secret, sizeof raw_secret);
  return g_strdup_printf ("%s?v=%s#%s", *mailbox_url, vertical, secret_text);
}

/* The draft peer reads a mailbox; NULL if it is gone (404). */
static JsonObject *
draft_read (World      *w,
            const char *mailbox_url,
            GBytes     *secret,
            guint      *status)
{
  g_autoptr(LkTestReply) reply = lk_test_send (w->session, "POST", mailbox_url, NULL, NULL,
                                               "Mailbox-Device-Claim", w->claim, NULL);
  g_autoptr(JsonObject) answer = NULL;
  g_autofree char *plaintext = NULL;

  *status = reply->status;
  if (reply->status != 200)
    return NULL;
  answer = from_json (reply->body);
  plaintext = draft_open (secret, json_object_get_object_member (answer, "payload"));
  return from_json (plaintext);
}

/* What a draft peer needs of the partner (not the draft's part). */

typedef struct
{
  LkKeyPair *key;
  char      *credential_id;
  char      *access_point_id;
  char      *title;
  JsonArray *entitlements;
} Owner;

static void
owner_clear (Owner *owner)
{
  g_clear_object (&owner->key);
  g_free (owner->credential_id);
  g_free (owner->access_point_id);
  g_free (owner->title);
  g_clear_pointer (&owner->entitlements, json_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Owner, owner_clear)

static char *
key_text (LkKeyPair *key)
{
  GBytes *der = lk_key_pair_get_public (key);

  return g_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
}

static char *
sign (LkKeyPair *key,
      GBytes    *statement)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = lk_key_pair_sign (key, statement, &error);

  g_assert_no_error (error);
  return g_base64_encode (g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
}

static char *
challenge (World *w)
{
  g_autofree char *url = g_strconcat (w->partner->url, "/v1/challenges", NULL);
  g_autoptr(LkTestReply) reply = lk_test_send (w->session, "POST", url, NULL, NULL, NULL);
  g_autoptr(JsonObject) object = NULL;

  lk_test_assert_status (reply, 200);
  object = from_json (reply->body);
  return g_strdup (json_object_get_string_member (object, "challenge"));
}

static void
enrol (World      *w,
       const char *vertical,
       Owner      *owner)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  g_autofree char *public_key = NULL;
  g_autoptr(LkTestReply) reply = NULL;
  g_autoptr(JsonObject) object = NULL;

  owner->key = lk_key_pair_generate (&error);
  g_assert_no_error (error);
  public_key = key_text (owner->key);
  json_object_set_string_member (body, "vertical", vertical);
  json_object_set_string_member (body, "publicKey", public_key);
  json_object_set_string_member (body, "title", strcmp (vertical, "home") == 0 ? "Harbour Hotel, Room 7"
                                                                               : "Boathouse Pass");
  reply = post_json (w, w->partner->url, "/v1/credentials", body);
  lk_test_assert_status (reply, 201);
  object = from_json (reply->body);
  owner->credential_id = g_strdup (json_object_get_string_member (object, "credentialId"));
  owner->access_point_id = g_strdup (json_object_get_string_member (object, "accessPointId"));
  owner->title = g_strdup (json_object_get_string_member (object, "title"));
  owner->entitlements = json_array_ref (json_object_get_array_member (object, "entitlements"));
}

/* POST /v1/tokens: a home token, or a generic share's own credential. */
static JsonObject *
request_token (World *w,
               Owner *owner)
{
  g_autofree char *nonce = challenge (w);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GBytes) statement = NULL;
  g_autofree char *signature = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(LkTestReply) reply = NULL;

  for (guint i = 0; i < json_array_get_length (owner->entitlements); i++)
    g_ptr_array_add (names, (gpointer) json_array_get_string_element (owner->entitlements, i));
  g_ptr_array_add (names, NULL);
  statement = lk_signing_token_request (owner->credential_id, nonce, (const char * const *) names->pdata,
                                        NULL, NULL, NULL);
  signature = sign (owner->key, statement);

  json_object_set_string_member (body, "credentialId", owner->credential_id);
  json_object_set_string_member (body, "challenge", nonce);
  json_object_set_string_member (body, "signature", signature);
  json_object_set_array_member (body, "entitlements", json_array_ref (owner->entitlements));
  reply = post_json (w, w->partner->url, "/v1/tokens", body);
  lk_test_assert_status (reply, 201);
  return from_json (reply->body);
}

static JsonObject *
describe (World *w,
          Owner *owner)
{
  JsonObject *credential = json_object_new ();

  json_object_set_string_member (credential, "title", owner->title);
  json_object_set_array_member (credential, "entitlements", json_array_ref (owner->entitlements));
  json_object_set_string_member (credential, "accessPointId", owner->access_point_id);
  json_object_set_string_member (credential, "partnerUrl", w->partner->url);
  return credential;
}

static guint
access_status (World      *w,
               JsonObject *body,
               const char *access_point_id)
{
  g_autofree char *nonce = challenge (w);
  g_autoptr(LkTestReply) reply = NULL;

  json_object_set_string_member (body, "accessPointId", access_point_id);
  json_object_set_string_member (body, "action", "open");
  json_object_set_string_member (body, "challenge", nonce);
  reply = post_json (w, w->partner->url, "/v1/access", body);
  return reply->status;
}

/* Latchkey's side, through latchkey-cli. */

static GStrv
status_fields (World      *w,
               const char *transfer)
{
  g_autoptr(LkTestRun) run = lk_test_actor_run (w->latchkey, NULL, "status", transfer, "--porcelain", NULL);
  g_auto(GStrv) lines = g_strsplit (run->out, "\n", -1);

  g_assert_nonnull (lines[0]);
  return g_strsplit (lines[0], "\t", -1);
}

static char *
latchkey_receives (World      *w,
                   const char *link,
                   int         expected_status,
                   char      **output)
{
  g_autofree char *input = g_strdup_printf ("%s\n", link);
  g_autoptr(LkTestRun) run = lk_test_actor_run (w->latchkey, input, "receive", NULL);
  g_auto(GStrv) words = NULL;

  if (run->status != expected_status)
    g_test_message ("receive: %d\n%s\n%s", run->status, run->out, run->err);
  g_assert_cmpint (run->status, ==, expected_status);
  if (output != NULL)
    *output = g_strconcat (run->out, run->err, NULL);
  words = g_strsplit_set (run->out, " \n", 2);
  g_assert_true (g_uuid_string_is_valid (words[0]));
  return g_strdup (words[0]);
}

static void
latchkey_opens (World      *w,
                const char *transfer)
{
  g_auto(GStrv) fields = status_fields (w, transfer);
  g_autoptr(LkTestRun) access = NULL;

  g_assert_cmpstr (fields[1], ==, "done");
  access = lk_test_actor_run (w->latchkey, NULL, "access", fields[4], "--action", "open", NULL);
  if (access->status != 0)
    g_test_message ("access: %s %s", access->out, access->err);
  g_assert_cmpint (access->status, ==, 0);
}

/* The acknowledgement Latchkey left: the draft's {format, content} and
 * nothing else, in the format the peer used. */
static void
assert_draft_ack (World      *w,
                  const char *mailbox_url,
                  const char *link,
                  const char *format,
                  const char *type)
{
  const char *fragment = strchr (link, '#');
  gsize raw_len;
  g_autofree guint8 *raw = g_base64_decode (fragment + 1, &raw_len);
  g_autoptr(GBytes) secret = g_bytes_new (raw, raw_len);
  guint status;
  g_autoptr(JsonObject) ack = draft_read (w, mailbox_url, secret, &status);
  g_autoptr(GList) members = NULL;
  JsonObject *content;

  g_assert_cmpuint (status, ==, 200);
  members = json_object_get_members (ack);
  g_assert_cmpuint (g_list_length (members), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (ack, "format"), ==, format);
  content = json_object_get_object_member (ack, "content");
  g_assert_cmpstr (json_object_get_string_member (content, "sharingDataType"), ==, type);
}

/* A draft wallet shares a generic key (digitalwallet.generic.authorizationToken)
 * in an `RD` mailbox, the draft's one-way flow; Latchkey takes it, ends the
 * draft's way (Delete: it may not write), and the key opens. */
static void
test_generic_from_draft_peer (void)
{
  g_autoptr(World) w = world_new ();
  g_auto(Owner) owner = { 0 };
  g_autoptr(JsonObject) share = NULL;
  g_autoptr(JsonObject) content = json_object_new ();
  g_autofree char *mailbox_url = NULL;
  g_autofree char *link = NULL;
  g_autofree char *transfer = NULL;
  g_autoptr(LkTestReply) after = NULL;

  enrol (w, "generic", &owner);
  share = request_token (w, &owner);
  json_object_set_object_member (content, "credential", describe (w, &owner));
  json_object_set_string_member (content, "accessToken", json_object_get_string_member (share, "accessToken"));
  link = draft_share (w, "a", NULL, "digitalwallet.generic.authorizationToken", content, &mailbox_url);

  transfer = latchkey_receives (w, link, 0, NULL);
  latchkey_opens (w, transfer);

  after = lk_test_send (w->session, "POST", mailbox_url, NULL, NULL, "Mailbox-Device-Claim", w->claim, NULL);
  lk_test_assert_status (after, 404);
}

/* A draft wallet shares a home token in an `RWD` mailbox: Latchkey redeems
 * it, answers ReceiverDone in the draft's form, and the key opens. */
static void
test_home_from_draft_peer (void)
{
  g_autoptr(World) w = world_new ();
  g_auto(Owner) owner = { 0 };
  g_autoptr(JsonObject) token = NULL;
  g_autoptr(JsonObject) content = json_object_new ();
  g_autofree char *mailbox_url = NULL;
  g_autofree char *link = NULL;
  g_autofree char *transfer = NULL;

  enrol (w, "home", &owner);
  token = request_token (w, &owner);
  json_object_set_object_member (content, "credential", describe (w, &owner));
  json_object_set_string_member (content, "partnerUrl", w->partner->url);
  json_object_set_string_member (content, "token", json_object_get_string_member (token, "token"));
  json_object_set_boolean_member (content, "codeRequired", FALSE);
  link = draft_share (w, "h", "RWD", "io.github.latchkey.home.provisioningToken", content, &mailbox_url);

  transfer = latchkey_receives (w, link, 0, NULL);
  latchkey_opens (w, transfer);
  assert_draft_ack (w, mailbox_url, link, "io.github.latchkey.home.provisioningToken", "ReceiverDone");
}

/* A car key takes several messages: from a wallet that does not chain them,
 * Latchkey refuses it and says why, and tells the peer in the draft's form. */
static void
test_car_from_draft_peer (void)
{
  g_autoptr(World) w = world_new ();
  g_autoptr(JsonObject) content = json_object_new ();
  g_autoptr(JsonObject) credential = json_object_new ();
  g_autofree char *mailbox_url = NULL;
  g_autofree char *link = NULL;
  g_autofree char *transfer = NULL;
  g_autofree char *output = NULL;
  g_autoptr(LkTestRun) list = NULL;

  json_object_set_string_member (credential, "title", "Blue Hatchback");
  json_object_set_string_member (content, "sharingDataType", "KeyCreationRequest");
  json_object_set_object_member (content, "credential", g_steal_pointer (&credential));
  link = draft_share (w, "c", "RWD", "digitalwallet.carkey.ccc", content, &mailbox_url);

  /* 5: the transfer ended other than done. */
  transfer = latchkey_receives (w, link, 5, &output);
  g_assert_nonnull (strstr (output, "does not protect its messages"));
  {
    g_auto(GStrv) fields = status_fields (w, transfer);
    g_assert_cmpstr (fields[1], ==, "failed");
  }
  list = lk_test_actor_run (w->latchkey, NULL, "list", NULL);
  g_assert_cmpstr (list->out, ==, "");
  assert_draft_ack (w, mailbox_url, link, "digitalwallet.carkey.ccc", "ReceiverCancel");
}

/* So does a generic key that waits for an activation code: the code and
 * the token would take more messages. */
static void
test_coded_generic_from_draft_peer (void)
{
  g_autoptr(World) w = world_new ();
  g_auto(Owner) owner = { 0 };
  g_autoptr(JsonObject) content = json_object_new ();
  g_autofree char *mailbox_url = NULL;
  g_autofree char *link = NULL;
  g_autofree char *transfer = NULL;
  g_autofree char *output = NULL;

  enrol (w, "generic", &owner);
  json_object_set_object_member (content, "credential", describe (w, &owner));
  json_object_set_boolean_member (content, "codeRequired", TRUE);
  link = draft_share (w, "a", "RWD", "digitalwallet.generic.authorizationToken", content, &mailbox_url);

  transfer = latchkey_receives (w, link, 5, &output);
  g_assert_nonnull (strstr (output, "does not protect its messages"));
  assert_draft_ack (w, mailbox_url, link, "digitalwallet.generic.authorizationToken", "ReceiverCancel");
}

/* Latchkey shares; the draft wallet reads the mailbox, decrypts with the
 * secret from the fragment, takes `format` and `content` (ignoring the other
 * keys, as the draft allows formats to add them) and uses the key. */
static JsonObject *
draft_receive (World       *w,
               const char  *link,
               const char  *share_id,
               const char  *expected_format)
{
  g_auto(GStrv) parts = g_strsplit (link, "#", 2);
  g_autofree char *mailbox_url = NULL;
  g_autofree char *fragment = NULL;
  g_autofree guint8 *raw = NULL;
  g_autoptr(GBytes) secret = NULL;
  g_autoptr(JsonObject) plaintext = NULL;
  g_autoptr(LkTestReply) gone = NULL;
  gsize raw_len, n;
  guint status;

  /* The URL the relay is asked for: the link without query or fragment. */
  mailbox_url = g_strndup (parts[0], strcspn (parts[0], "?"));
  /* The fragment as base64 (a URL-safe one too: '-' '_' for '+' '/'). */
  fragment = g_strdup (parts[1]);
  g_strdelimit (fragment, "-", '+');
  g_strdelimit (fragment, "_", '/');
  n = strlen (fragment);
  {
    g_autofree char *padded = g_strnfill (n + (4 - n % 4) % 4, '=');

    memcpy (padded, fragment, n);
    raw = g_base64_decode (padded, &raw_len);
  }
  g_assert_true (raw_len == 16 || raw_len == 32);
  secret = g_bytes_new (raw, raw_len);

  plaintext = draft_read (w, mailbox_url, secret, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (plaintext, "format"), ==, expected_format);

  /* Latchkey sees its invitation opened. */
  {
    g_auto(GStrv) fields = status_fields (w, share_id);
    g_assert_cmpstr (fields[1], ==, "opened");
  }

  /* The one-way flow ends with the recipient's Delete. */
  gone = lk_test_send (w->session, "DELETE", mailbox_url, NULL, NULL, "Mailbox-Device-Claim", w->claim, NULL);
  lk_test_assert_status (gone, 200);

  /* …and then gone, the draft's end of a one-way share: done. */
  {
    g_auto(GStrv) fields = status_fields (w, share_id);
    g_assert_cmpstr (fields[1], ==, "done");
  }
  return json_object_ref (json_object_get_object_member (plaintext, "content"));
}

static void
test_generic_to_draft_peer (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->latchkey, "generic", "Garden Gate");
  g_autoptr(LkTestShare) share = lk_test_actor_share (w->latchkey, credential, NULL);
  g_autoptr(JsonObject) content = draft_receive (w, share->link, share->id,
                                                 "digitalwallet.generic.authorizationToken");
  JsonObject *description = json_object_get_object_member (content, "credential");
  g_autoptr(JsonObject) body = json_object_new ();

  json_object_set_string_member (body, "accessToken", json_object_get_string_member (content, "accessToken"));
  g_assert_cmpuint (access_status (w, body, json_object_get_string_member (description, "accessPointId")), ==, 200);
}

static void
test_home_to_draft_peer (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->latchkey, "home", "Lake House");
  g_autoptr(LkTestShare) share = lk_test_actor_share (w->latchkey, credential, NULL);
  g_autoptr(JsonObject) content = draft_receive (w, share->link, share->id,
                                                 "io.github.latchkey.home.provisioningToken");
  g_autoptr(GError) error = NULL;
  g_autoptr(LkKeyPair) key = lk_key_pair_generate (&error);
  g_autofree char *public_key = key_text (key);
  g_autoptr(JsonObject) redeem = json_object_new ();
  g_autoptr(LkTestReply) redeemed = NULL;
  g_autoptr(JsonObject) own = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  g_autofree char *nonce = NULL;
  g_autoptr(GBytes) statement = NULL;
  g_autofree char *signature = NULL;
  g_autoptr(LkTestReply) reply = NULL;
  const char *access_point_id;

  g_assert_no_error (error);
  json_object_set_string_member (redeem, "token", json_object_get_string_member (content, "token"));
  json_object_set_string_member (redeem, "publicKey", public_key);
  redeemed = post_json (w, json_object_get_string_member (content, "partnerUrl"), "/v1/redeem", redeem);
  lk_test_assert_status (redeemed, 201);
  own = from_json (redeemed->body);

  /* The redeemed key opens the door. */
  access_point_id = json_object_get_string_member (own, "accessPointId");
  nonce = challenge (w);
  statement = lk_signing_access (access_point_id, json_object_get_string_member (own, "credentialId"), "open", nonce);
  signature = sign (key, statement);
  json_object_set_string_member (body, "accessPointId", access_point_id);
  json_object_set_string_member (body, "action", "open");
  json_object_set_string_member (body, "challenge", nonce);
  json_object_set_string_member (body, "credentialId", json_object_get_string_member (own, "credentialId"));
  json_object_set_string_member (body, "signature", signature);
  reply = post_json (w, w->partner->url, "/v1/access", body);
  lk_test_assert_status (reply, 200);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/draft-peer/generic/from-peer", test_generic_from_draft_peer);
  g_test_add_func ("/draft-peer/home/from-peer", test_home_from_draft_peer);
  g_test_add_func ("/draft-peer/car/from-peer-refused", test_car_from_draft_peer);
  g_test_add_func ("/draft-peer/generic/coded-from-peer-refused", test_coded_generic_from_draft_peer);
  g_test_add_func ("/draft-peer/generic/to-peer", test_generic_to_draft_peer);
  g_test_add_func ("/draft-peer/home/to-peer", test_home_to_draft_peer);

  return g_test_run ();
}
