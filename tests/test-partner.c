/* test-partner.c: latchkey-partner over loopback, every endpoint and refusal
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The partner runs as a child process on its own data directory. Requests
 * are signed here with lk-signing.h, as a wallet would sign them, so a
 * partner that built or checked a statement differently fails.
 */

#define G_LOG_DOMAIN "test-partner"

#include "config.h"

#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <libsoup/soup.h>
#include <sqlite3.h>

#include "latchkey-core.h"
#include "lk-test-http.h"
#include "lk-test-legacy.h"
#include "lk-test-server.h"

#define CODE "9Qx-482913"

static const char * const open_only[] = { "open", NULL };
static const char * const open_start[] = { "open", "start", NULL };
static const char * const open_start_drive[] = { "open", "start", "drive", NULL };

/* HTTP */

static void
assert_error_reply (LkTestReply      *reply,
                    guint       status,
                    const char *error)
{
  g_autoptr(JsonObject) object = NULL;

  lk_test_assert_status (reply, status);
  object = lk_test_reply_json (reply);
  g_assert_cmpstr (json_object_get_string_member (object, "error"), ==, error);
  g_assert_true (json_object_has_member (object, "message"));
  g_assert_nonnull (json_object_get_string_member (object, "message"));
  g_assert_true (g_str_has_prefix (soup_message_headers_get_content_type (reply->headers, NULL),
                                   "application/json"));
}

/* An access point's refusal: 403, not granted, and the reason. */
static void
assert_denied (LkTestReply      *reply,
               const char *error)
{
  g_autoptr(JsonObject) object = NULL;

  assert_error_reply (reply, 403, error);
  object = lk_test_reply_json (reply);
  g_assert_true (json_object_has_member (object, "granted"));
  g_assert_false (json_object_get_boolean_member (object, "granted"));
}

static void
assert_granted (LkTestReply      *reply,
                const char *action)
{
  g_autoptr(JsonObject) object = NULL;

  lk_test_assert_status (reply, 200);
  object = lk_test_reply_json (reply);
  g_assert_true (json_object_get_boolean_member (object, "granted"));
  g_assert_cmpstr (json_object_get_string_member (object, "action"), ==, action);
}

/* Fixture */

typedef struct
{
  LkTestServer *partner;
  SoupSession  *session;
  GPtrArray    *secrets;    /* what the partner's log must never show */
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->partner = lk_test_server_new ("LATCHKEY_PARTNER", data);
  lk_test_server_start (f->partner);
  f->session = soup_session_new_with_options ("timeout", 30, NULL);
  f->secrets = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (f->secrets, g_strdup (CODE));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *log = lk_test_server_read_log (f->partner);

  /* Tokens, access tokens, codes, keys and signatures never reach the log. */
  for (guint i = 0; i < f->secrets->len; i++)
    {
      if (strstr (log, f->secrets->pdata[i]) != NULL)
        g_error ("The log shows a secret: %s", (const char *) f->secrets->pdata[i]);
    }

  g_clear_object (&f->session);
  g_clear_pointer (&f->partner, lk_test_server_free);
  g_ptr_array_unref (f->secrets);
}

static void
keep_secret (Fixture    *f,
             const char *secret)
{
  g_ptr_array_add (f->secrets, g_strdup (secret));
}

static char *
url_for (Fixture    *f,
         const char *path)
{
  return g_strconcat (f->partner->url, path, NULL);
}

static LkTestReply *
post (Fixture    *f,
      const char *path,
      JsonObject *body)
{
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), body);
  g_autofree char *text = lk_json_to_string (root);
  g_autofree char *url = url_for (f, path);

  return lk_test_send (f->session, "POST", url, "application/json", text, NULL);
}

/* Values */

static char *
time_from_now (gint64 seconds)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_seconds (now, (gdouble) seconds);

  return g_date_time_format (then, "%Y-%m-%dT%H:%M:%SZ");
}

static JsonArray *
strv_array (const char * const *strv)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; strv[i] != NULL; i++)
    json_array_add_string_element (array, strv[i]);
  return array;
}

static LkKeyPair *
new_key (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  LkKeyPair *key = lk_key_pair_generate (&error);
  GBytes *der;

  g_assert_no_error (error);
  der = lk_key_pair_get_public (key);
  g_ptr_array_add (f->secrets, g_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der)));
  return key;
}

static char *
encode_key (LkKeyPair *key)
{
  GBytes *der = lk_key_pair_get_public (key);

  return g_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
}

static char *
sign (Fixture   *f,
      LkKeyPair *key,
      GBytes    *statement)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = lk_key_pair_sign (key, statement, &error);
  char *text;

  g_assert_no_error (error);
  text = g_base64_encode (g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  keep_secret (f, text);
  return text;
}

/* A P-384 key: valid, but not the one curve the partner takes. */
static char *
p384_public_key (void)
{
  gnutls_privkey_t private_key;
  gnutls_pubkey_t public_key;
  gnutls_datum_t der = { NULL, 0 };
  char *text;

  g_assert_cmpint (gnutls_privkey_init (&private_key), ==, 0);
  g_assert_cmpint (gnutls_privkey_generate2 (private_key, GNUTLS_PK_ECDSA,
                                             GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP384R1),
                                             0, NULL, 0), ==, 0);
  g_assert_cmpint (gnutls_pubkey_init (&public_key), ==, 0);
  g_assert_cmpint (gnutls_pubkey_import_privkey (public_key, private_key, 0, 0), ==, 0);
  g_assert_cmpint (gnutls_pubkey_export2 (public_key, GNUTLS_X509_FMT_DER, &der), ==, 0);
  text = g_base64_encode (der.data, der.size);
  gnutls_free (der.data);
  gnutls_pubkey_deinit (public_key);
  gnutls_privkey_deinit (private_key);
  return text;
}

static char *
new_challenge (Fixture *f)
{
  g_autofree char *url = url_for (f, "/v1/challenges");
  g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", url, NULL, NULL, NULL);
  g_autoptr(JsonObject) object = NULL;
  const char *challenge;

  lk_test_assert_status (reply, 200);
  object = lk_test_reply_json (reply);
  challenge = json_object_get_string_member (object, "challenge");
  g_assert_cmpuint (strlen (challenge), ==, 43);
  g_assert_cmpuint (strspn (challenge, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), ==, 43);
  return g_strdup (challenge);
}

/* A credential as its holder knows it. */
typedef struct
{
  char      *credential_id;
  char      *access_point_id;
  LkKeyPair *key;            /* NULL for a generic share, or a generic credential enrolled before keys */
  char      *access_token;   /* a generic share's, or such a credential's */
  char      *title;
} Holder;

static void
holder_free (Holder *holder)
{
  g_free (holder->credential_id);
  g_free (holder->access_point_id);
  g_clear_object (&holder->key);
  g_free (holder->access_token);
  g_free (holder->title);
  g_free (holder);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Holder, holder_free)

static LkTestReply *
enrol_request (Fixture    *f,
               const char *vertical,
               LkKeyPair  *key,
               const char *valid_from,
               const char *valid_until)
{
  g_autoptr(JsonObject) body = json_object_new ();

  json_object_set_string_member (body, "vertical", vertical);
  if (key != NULL)
    {
      g_autofree char *text = encode_key (key);
      json_object_set_string_member (body, "publicKey", text);
    }
  if (valid_from != NULL)
    json_object_set_string_member (body, "validFrom", valid_from);
  if (valid_until != NULL)
    json_object_set_string_member (body, "validUntil", valid_until);

  return post (f, "/v1/credentials", body);
}

static Holder *
holder_from_reply (LkTestReply     *reply,
                   LkKeyPair *key)
{
  g_autoptr(JsonObject) object = lk_test_reply_json (reply);
  Holder *holder = g_new0 (Holder, 1);

  holder->credential_id = g_strdup (json_object_get_string_member (object, "credentialId"));
  holder->access_point_id = g_strdup (json_object_get_string_member (object, "accessPointId"));
  holder->title = g_strdup (json_object_get_string_member (object, "title"));
  holder->key = key != NULL ? g_object_ref (key) : NULL;
  if (json_object_has_member (object, "accessToken"))
    holder->access_token = g_strdup (json_object_get_string_member (object, "accessToken"));
  g_assert_true (g_uuid_string_is_valid (holder->credential_id));
  g_assert_true (g_uuid_string_is_valid (holder->access_point_id));
  return holder;
}

static Holder *
enrol (Fixture    *f,
       const char *vertical,
       const char *valid_from,
       const char *valid_until)
{
  g_autoptr(LkKeyPair) key = new_key (f);
  g_autoptr(LkTestReply) reply = enrol_request (f, vertical, key, valid_from, valid_until);
  Holder *holder;

  lk_test_assert_status (reply, 201);
  holder = holder_from_reply (reply, key);
  if (holder->access_token != NULL)
    keep_secret (f, holder->access_token);
  return holder;
}

static LkTestReply *
request_token_with (Fixture            *f,
                    Holder             *sharer,
                    LkKeyPair          *signer,
                    const char         *challenge,
                    const char * const *entitlements,
                    const char         *valid_from,
                    const char         *valid_until,
                    const char         *code)
{
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(LkSecureString) verifier = code != NULL ? lk_signing_code_verifier (challenge, code) : NULL;
  g_autoptr(GBytes) statement = lk_signing_token_request (sharer->credential_id, challenge, entitlements,
                                                          valid_from, valid_until, verifier);
  g_autofree char *signature = sign (f, signer, statement);

  json_object_set_string_member (body, "credentialId", sharer->credential_id);
  json_object_set_string_member (body, "challenge", challenge);
  json_object_set_string_member (body, "signature", signature);
  json_object_set_array_member (body, "entitlements", strv_array (entitlements));
  if (valid_from != NULL)
    json_object_set_string_member (body, "validFrom", valid_from);
  if (valid_until != NULL)
    json_object_set_string_member (body, "validUntil", valid_until);
  if (code != NULL)
    json_object_set_string_member (body, "activationCode", code);

  return post (f, "/v1/tokens", body);
}

static LkTestReply *
request_token (Fixture            *f,
               Holder             *sharer,
               const char * const *entitlements,
               const char         *valid_from,
               const char         *valid_until,
               const char         *code)
{
  g_autofree char *challenge = new_challenge (f);

  return request_token_with (f, sharer, sharer->key, challenge, entitlements, valid_from, valid_until, code);
}

/* Asks for a token that must be issued, and returns it. */
static char *
share (Fixture            *f,
       Holder             *sharer,
       const char * const *entitlements,
       const char         *valid_from,
       const char         *valid_until,
       const char         *code)
{
  g_autoptr(LkTestReply) reply = request_token (f, sharer, entitlements, valid_from, valid_until, code);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GDateTime) expires = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  const char *token;
  GTimeSpan left;

  lk_test_assert_status (reply, 201);
  object = lk_test_reply_json (reply);
  token = json_object_get_string_member (object, "token");
  g_assert_cmpuint (strlen (token), ==, 43);
  keep_secret (f, token);

  g_assert_true (g_str_has_suffix (json_object_get_string_member (object, "expires"), "Z"));
  expires = g_date_time_new_from_iso8601 (json_object_get_string_member (object, "expires"), NULL);
  g_assert_nonnull (expires);
  left = g_date_time_difference (expires, now);
  g_assert_cmpint (left, >, 47 * G_TIME_SPAN_HOUR);
  g_assert_cmpint (left, <=, 48 * G_TIME_SPAN_HOUR + G_TIME_SPAN_SECOND);

  return g_strdup (token);
}

static LkTestReply *
redeem (Fixture    *f,
        const char *token,
        LkKeyPair  *key,
        const char *code)
{
  g_autoptr(JsonObject) body = json_object_new ();
  g_autofree char *key_text = encode_key (key);

  json_object_set_string_member (body, "token", token);
  json_object_set_string_member (body, "publicKey", key_text);
  if (code != NULL)
    json_object_set_string_member (body, "activationCode", code);

  return post (f, "/v1/redeem", body);
}

/* Redeems with a fresh key, which must succeed. */
static Holder *
redeem_ok (Fixture    *f,
           Holder     *sharer,
           const char *token,
           const char *code)
{
  g_autoptr(LkKeyPair) key = new_key (f);
  g_autoptr(LkTestReply) reply = redeem (f, token, key, code);
  g_autoptr(JsonObject) object = NULL;
  Holder *holder;

  lk_test_assert_status (reply, 201);
  object = lk_test_reply_json (reply);
  holder = holder_from_reply (reply, key);
  g_assert_cmpstr (holder->access_point_id, ==, sharer->access_point_id);
  g_assert_cmpstr (holder->credential_id, !=, sharer->credential_id);
  g_assert_cmpstr (json_object_get_string_member (object, "vertical"), ==, "home");
  g_assert_cmpstr (json_object_get_string_member (object, "title"), ==, sharer->title);
  g_assert_cmpstr (json_object_get_string_member (object, "issuer"), ==, "Latchkey Demo Partner");
  return holder;
}

static JsonObject *
access_body (const char *access_point_id,
             const char *action,
             const char *challenge)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "accessPointId", access_point_id);
  json_object_set_string_member (body, "action", action);
  json_object_set_string_member (body, "challenge", challenge);
  return body;
}

/* A credential signs a fresh challenge at @access_point_id. */
static LkTestReply *
access_at (Fixture    *f,
           const char *access_point_id,
           Holder     *holder,
           const char *action)
{
  g_autofree char *challenge = new_challenge (f);
  g_autoptr(JsonObject) body = access_body (access_point_id, action, challenge);
  g_autoptr(GBytes) statement = lk_signing_access (access_point_id, holder->credential_id, action, challenge);
  g_autofree char *signature = sign (f, holder->key, statement);

  json_object_set_string_member (body, "credentialId", holder->credential_id);
  json_object_set_string_member (body, "signature", signature);
  return post (f, "/v1/access", body);
}

static LkTestReply *
open_with (Fixture    *f,
           Holder     *holder,
           const char *action)
{
  return access_at (f, holder->access_point_id, holder, action);
}

static LkTestReply *
access_with_token (Fixture    *f,
                   const char *access_point_id,
                   const char *access_token,
                   const char *action)
{
  g_autofree char *challenge = new_challenge (f);
  g_autoptr(JsonObject) body = access_body (access_point_id, action, challenge);

  json_object_set_string_member (body, "accessToken", access_token);
  return post (f, "/v1/access", body);
}

static LkTestReply *
revoke_as (Fixture    *f,
           Holder     *actor,
           const char *target)
{
  g_autofree char *challenge = new_challenge (f);
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(GBytes) statement = lk_signing_revocation (actor->credential_id, target, challenge);
  g_autofree char *signature = sign (f, actor->key, statement);

  json_object_set_string_member (body, "credentialId", actor->credential_id);
  json_object_set_string_member (body, "challenge", challenge);
  json_object_set_string_member (body, "signature", signature);
  json_object_set_string_member (body, "target", target);
  return post (f, "/v1/revocations", body);
}

static void
assert_revoked_count (LkTestReply  *reply,
                      gint64  count)
{
  g_autoptr(JsonObject) object = NULL;

  lk_test_assert_status (reply, 200);
  object = lk_test_reply_json (reply);
  g_assert_cmpint (json_object_get_int_member (object, "revoked"), ==, count);
}

static void
assert_strv_member (JsonObject         *object,
                    const char         *member,
                    const char * const *expected)
{
  JsonArray *array = json_object_get_array_member (object, member);

  g_assert_nonnull (array);
  g_assert_cmpuint (json_array_get_length (array), ==, g_strv_length ((char **) expected));
  for (guint i = 0; expected[i] != NULL; i++)
    g_assert_cmpstr (json_array_get_string_element (array, i), ==, expected[i]);
}

/* Tests */

static void
test_enrol (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(LkKeyPair) key = new_key (f);
  g_autofree char *from = time_from_now (-3600);
  g_autofree char *until = time_from_now (86400);
  g_autofree char *p384 = p384_public_key ();

  {
    g_autoptr(LkTestReply) reply = enrol_request (f, "car", key, NULL, NULL);
    g_autoptr(JsonObject) object = NULL;

    lk_test_assert_status (reply, 201);
    object = lk_test_reply_json (reply);
    g_assert_cmpstr (json_object_get_string_member (object, "vertical"), ==, "car");
    g_assert_cmpstr (json_object_get_string_member (object, "title"), ==, "Demo Car");
    g_assert_cmpstr (json_object_get_string_member (object, "issuer"), ==, "Latchkey Demo Partner");
    assert_strv_member (object, "entitlements", open_start_drive);
    g_assert_false (json_object_has_member (object, "validFrom"));
    g_assert_false (json_object_has_member (object, "validUntil"));
    g_assert_false (json_object_has_member (object, "accessToken"));
    g_assert_cmpstr (json_object_get_string_member (object, "credentialId"), !=,
                     json_object_get_string_member (object, "accessPointId"));
  }
  {
    g_autoptr(LkTestReply) reply = enrol_request (f, "home", key, from, until);
    g_autoptr(JsonObject) object = NULL;

    lk_test_assert_status (reply, 201);
    object = lk_test_reply_json (reply);
    g_assert_cmpstr (json_object_get_string_member (object, "vertical"), ==, "home");
    g_assert_cmpstr (json_object_get_string_member (object, "title"), ==, "Hotel Room 404");
    assert_strv_member (object, "entitlements", open_only);
    g_assert_cmpstr (json_object_get_string_member (object, "validFrom"), ==, from);
    g_assert_cmpstr (json_object_get_string_member (object, "validUntil"), ==, until);
  }
  {
    /* A generic owner has a key too, and no bearer token of its own. */
    g_autoptr(LkTestReply) reply = enrol_request (f, "generic", key, NULL, NULL);
    g_autoptr(JsonObject) object = NULL;

    lk_test_assert_status (reply, 201);
    object = lk_test_reply_json (reply);
    g_assert_cmpstr (json_object_get_string_member (object, "vertical"), ==, "generic");
    g_assert_cmpstr (json_object_get_string_member (object, "title"), ==, "Demo Pass");
    assert_strv_member (object, "entitlements", open_only);
    g_assert_false (json_object_has_member (object, "accessToken"));
  }
  {
    /* A title of one's own. */
    g_autoptr(JsonObject) body = json_object_new ();
    g_autoptr(LkTestReply) reply = NULL;
    g_autoptr(JsonObject) object = NULL;
    g_autofree char *key_text = encode_key (key);

    json_object_set_string_member (body, "vertical", "home");
    json_object_set_string_member (body, "title", "Cabin by the Lake");
    json_object_set_string_member (body, "publicKey", key_text);
    reply = post (f, "/v1/credentials", body);
    lk_test_assert_status (reply, 201);
    object = lk_test_reply_json (reply);
    g_assert_cmpstr (json_object_get_string_member (object, "title"), ==, "Cabin by the Lake");
  }

  /* Refusals: a key for every owner, P-256 only, a known vertical, a real
   * window. */
  {
    g_autoptr(LkTestReply) reply = enrol_request (f, "home", NULL, NULL, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = enrol_request (f, "generic", NULL, NULL, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = enrol_request (f, "boat", key, NULL, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = enrol_request (f, "home", key, until, from);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = enrol_request (f, "home", key, "2026-01-01T00:00:00+01:00", NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(JsonObject) body = json_object_new ();
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "vertical", "car");
    json_object_set_string_member (body, "publicKey", p384);
    reply = post (f, "/v1/credentials", body);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(JsonObject) body = json_object_new ();
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "vertical", "car");
    json_object_set_string_member (body, "publicKey", "bm90IGEga2V5");
    reply = post (f, "/v1/credentials", body);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(JsonObject) body = json_object_new ();
    g_autoptr(LkTestReply) reply = NULL;
    g_autofree char *long_title = g_strnfill (257, 'x');
    g_autofree char *key_text = encode_key (key);

    json_object_set_string_member (body, "vertical", "home");
    json_object_set_string_member (body, "publicKey", key_text);
    json_object_set_string_member (body, "title", long_title);
    reply = post (f, "/v1/credentials", body);
    assert_error_reply (reply, 400, "bad_request");
  }
}

static void
test_share_home (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autoptr(Holder) guest = NULL;
  g_autoptr(LkKeyPair) other = new_key (f);
  g_autofree char *token = share (f, owner, open_only, NULL, NULL, CODE);
  g_autofree char *until = time_from_now (7200);

  guest = redeem_ok (f, owner, token, CODE);

  /* Both open the door with a fresh signed challenge; neither may start it. */
  {
    g_autoptr(LkTestReply) reply = open_with (f, owner, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, guest, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, guest, "start");
    assert_denied (reply, "not_entitled");
  }

  /* A token is single use. */
  {
    g_autoptr(LkTestReply) reply = redeem (f, token, other, CODE);
    assert_error_reply (reply, 410, "token_used");
  }
  {
    g_autoptr(LkTestReply) reply = redeem (f, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", other, NULL);
    assert_error_reply (reply, 404, "token_unknown");
  }

  /* A bad signature, a reused challenge, more than one has, and a window
   * wider than one's own are all refused. */
  {
    g_autofree char *challenge = new_challenge (f);
    g_autoptr(LkTestReply) reply = request_token_with (f, owner, other, challenge, open_only, NULL, NULL, NULL);
    assert_error_reply (reply, 403, "bad_signature");
  }
  {
    g_autofree char *challenge = new_challenge (f);
    g_autoptr(LkTestReply) first = request_token_with (f, owner, owner->key, challenge, open_only, NULL, NULL, NULL);
    g_autoptr(LkTestReply) again = request_token_with (f, owner, owner->key, challenge, open_only, NULL, NULL, NULL);
    g_autoptr(JsonObject) object = NULL;

    lk_test_assert_status (first, 201);
    object = lk_test_reply_json (first);
    keep_secret (f, json_object_get_string_member (object, "token"));
    assert_error_reply (again, 403, "bad_challenge");
  }
  {
    g_autoptr(LkTestReply) reply = request_token (f, owner, open_start, NULL, NULL, NULL);
    assert_error_reply (reply, 400, "bad_entitlements");
  }
  {
    /* The code is part of what is signed: another code, another request. */
    g_autofree char *challenge = new_challenge (f);
    g_autoptr(JsonObject) body = json_object_new ();
    g_autoptr(LkSecureString) verifier = lk_signing_code_verifier (challenge, CODE);
    g_autoptr(GBytes) statement = lk_signing_token_request (owner->credential_id, challenge, open_only,
                                                            NULL, NULL, verifier);
    g_autofree char *signature = sign (f, owner->key, statement);
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "credentialId", owner->credential_id);
    json_object_set_string_member (body, "challenge", challenge);
    json_object_set_string_member (body, "signature", signature);
    json_object_set_array_member (body, "entitlements", strv_array (open_only));
    json_object_set_string_member (body, "activationCode", "0000");
    reply = post (f, "/v1/tokens", body);
    assert_error_reply (reply, 403, "bad_signature");
  }
  {
    /* A verifier cannot be computed before the token exists: refused, not ignored. */
    g_autofree char *challenge = new_challenge (f);
    g_autoptr(JsonObject) body = json_object_new ();
    g_autoptr(GBytes) statement = lk_signing_token_request (owner->credential_id, challenge, open_only,
                                                            NULL, NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    g_autofree char *signature = sign (f, owner->key, statement);
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "credentialId", owner->credential_id);
    json_object_set_string_member (body, "challenge", challenge);
    json_object_set_string_member (body, "signature", signature);
    json_object_set_array_member (body, "entitlements", strv_array (open_only));
    json_object_set_string_member (body, "codeVerifier", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    reply = post (f, "/v1/tokens", body);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(Holder) bounded = enrol (f, "home", NULL, until);
    g_autoptr(LkTestReply) open_ended = request_token (f, bounded, open_only, NULL, NULL, NULL);
    g_autofree char *later = time_from_now (10800);
    g_autoptr(LkTestReply) beyond = request_token (f, bounded, open_only, NULL, later, NULL);
    g_autofree char *inside = time_from_now (3600);
    g_autofree char *token2 = share (f, bounded, open_only, NULL, inside, NULL);

    assert_error_reply (open_ended, 400, "bad_window");
    assert_error_reply (beyond, 400, "bad_window");
    g_assert_nonnull (token2);
  }
  {
    /* Tokens are for home credentials only. */
    g_autoptr(Holder) car = enrol (f, "car", NULL, NULL);
    g_autoptr(LkTestReply) reply = request_token (f, car, open_only, NULL, NULL, NULL);
    assert_error_reply (reply, 400, "wrong_vertical");
  }
  {
    g_autoptr(Holder) ghost = g_new0 (Holder, 1);
    g_autoptr(LkTestReply) reply = NULL;

    ghost->credential_id = lk_uuid_new_random ();
    ghost->key = new_key (f);
    reply = request_token (f, ghost, open_only, NULL, NULL, NULL);
    assert_error_reply (reply, 404, "unknown_credential");
  }
  {
    /* An expired credential shares nothing. */
    g_autofree char *from = time_from_now (-7200);
    g_autofree char *past = time_from_now (-3600);
    g_autoptr(Holder) expired = enrol (f, "home", from, past);
    g_autoptr(LkTestReply) reply = request_token (f, expired, open_only, from, past, NULL);
    assert_error_reply (reply, 403, "expired");
  }
}

static void
test_activation_code (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autoptr(LkKeyPair) key = new_key (f);
  g_autofree char *token = share (f, owner, open_only, NULL, NULL, CODE);
  g_autofree char *second = share (f, owner, open_only, NULL, NULL, CODE);
  g_autofree char *plain = share (f, owner, open_only, NULL, NULL, NULL);

  /* Two wrong codes (one of them none at all) leave one attempt, the
   * third ends the token, and then even the right code is too late. */
  {
    g_autoptr(LkTestReply) reply = redeem (f, token, key, "0000");
    g_autoptr(JsonObject) object = NULL;

    assert_error_reply (reply, 403, "wrong_code");
    object = lk_test_reply_json (reply);
    g_assert_cmpint (json_object_get_int_member (object, "attemptsLeft"), ==, 2);
  }
  {
    g_autoptr(LkTestReply) reply = redeem (f, token, key, NULL);
    g_autoptr(JsonObject) object = NULL;

    assert_error_reply (reply, 403, "wrong_code");
    object = lk_test_reply_json (reply);
    g_assert_cmpint (json_object_get_int_member (object, "attemptsLeft"), ==, 1);
  }
  {
    g_autoptr(LkTestReply) reply = redeem (f, token, key, "9Qx-482914");
    assert_error_reply (reply, 410, "too_many_attempts");
  }
  {
    g_autoptr(LkTestReply) reply = redeem (f, token, key, CODE);
    assert_error_reply (reply, 410, "too_many_attempts");
  }

  /* One wrong code, then the right one. */
  {
    g_autoptr(LkTestReply) reply = redeem (f, second, key, "123456");
    assert_error_reply (reply, 403, "wrong_code");
  }
  {
    g_autoptr(Holder) guest = redeem_ok (f, owner, second, CODE);
    g_autoptr(LkTestReply) reply = open_with (f, guest, "open");
    assert_granted (reply, "open");
  }

  /* A token without a code needs none. */
  {
    g_autoptr(Holder) guest = redeem_ok (f, owner, plain, NULL);
    g_autoptr(LkTestReply) reply = open_with (f, guest, "open");
    assert_granted (reply, "open");
  }
}

static void
test_access_denials (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autoptr(Holder) neighbour = enrol (f, "home", NULL, NULL);
  g_autoptr(LkKeyPair) other = new_key (f);
  g_autofree char *hour_ago = time_from_now (-3600);
  g_autofree char *two_hours_ago = time_from_now (-7200);
  g_autofree char *in_an_hour = time_from_now (3600);
  g_autofree char *in_two_hours = time_from_now (7200);

  /* A signature by another key. */
  {
    g_autofree char *challenge = new_challenge (f);
    g_autoptr(JsonObject) body = access_body (owner->access_point_id, "open", challenge);
    g_autoptr(GBytes) statement = lk_signing_access (owner->access_point_id, owner->credential_id, "open", challenge);
    g_autofree char *signature = sign (f, other, statement);
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "credentialId", owner->credential_id);
    json_object_set_string_member (body, "signature", signature);
    reply = post (f, "/v1/access", body);
    assert_denied (reply, "bad_signature");
  }
  /* A signature over another action. */
  {
    g_autofree char *challenge = new_challenge (f);
    g_autoptr(JsonObject) body = access_body (owner->access_point_id, "open", challenge);
    g_autoptr(GBytes) statement = lk_signing_access (owner->access_point_id, owner->credential_id, "start", challenge);
    g_autofree char *signature = sign (f, owner->key, statement);
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "credentialId", owner->credential_id);
    json_object_set_string_member (body, "signature", signature);
    reply = post (f, "/v1/access", body);
    assert_denied (reply, "bad_signature");
  }
  /* A good request replayed: the challenge is spent. */
  {
    g_autofree char *challenge = new_challenge (f);
    g_autoptr(JsonObject) body = access_body (owner->access_point_id, "open", challenge);
    g_autoptr(GBytes) statement = lk_signing_access (owner->access_point_id, owner->credential_id, "open", challenge);
    g_autofree char *signature = sign (f, owner->key, statement);
    g_autoptr(LkTestReply) first = NULL;
    g_autoptr(LkTestReply) again = NULL;

    json_object_set_string_member (body, "credentialId", owner->credential_id);
    json_object_set_string_member (body, "signature", signature);
    first = post (f, "/v1/access", body);
    assert_granted (first, "open");
    again = post (f, "/v1/access", body);
    assert_denied (again, "bad_challenge");
  }
  /* A challenge the partner never made. */
  {
    const char *challenge = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    g_autoptr(JsonObject) body = access_body (owner->access_point_id, "open", challenge);
    g_autoptr(GBytes) statement = lk_signing_access (owner->access_point_id, owner->credential_id, "open", challenge);
    g_autofree char *signature = sign (f, owner->key, statement);
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "credentialId", owner->credential_id);
    json_object_set_string_member (body, "signature", signature);
    reply = post (f, "/v1/access", body);
    assert_denied (reply, "bad_challenge");
  }
  /* Not entitled. */
  {
    g_autoptr(LkTestReply) reply = open_with (f, owner, "drive");
    assert_denied (reply, "not_entitled");
  }
  /* Another door, correctly signed for it. */
  {
    g_autoptr(LkTestReply) reply = access_at (f, neighbour->access_point_id, owner, "open");
    assert_denied (reply, "wrong_access_point");
  }
  /* A door that does not exist, a credential that does not exist. */
  {
    g_autofree char *nowhere = lk_uuid_new_random ();
    g_autoptr(LkTestReply) reply = access_at (f, nowhere, owner, "open");
    assert_error_reply (reply, 404, "unknown_access_point");
  }
  {
    g_autoptr(Holder) ghost = g_new0 (Holder, 1);
    g_autoptr(LkTestReply) reply = NULL;

    ghost->credential_id = lk_uuid_new_random ();
    ghost->access_point_id = g_strdup (owner->access_point_id);
    ghost->key = new_key (f);
    reply = open_with (f, ghost, "open");
    assert_denied (reply, "unknown_credential");
  }
  /* Windows: before validFrom, at and after validUntil. */
  {
    g_autoptr(Holder) early = enrol (f, "home", in_an_hour, in_two_hours);
    g_autoptr(LkTestReply) reply = open_with (f, early, "open");
    assert_denied (reply, "not_yet_valid");
  }
  {
    g_autoptr(Holder) late = enrol (f, "home", two_hours_ago, hour_ago);
    g_autoptr(LkTestReply) reply = open_with (f, late, "open");
    assert_denied (reply, "expired");
  }
  {
    g_autoptr(Holder) current = enrol (f, "home", hour_ago, in_an_hour);
    g_autoptr(LkTestReply) reply = open_with (f, current, "open");
    assert_granted (reply, "open");
  }
  /* A shared credential has the window it was shared with. */
  {
    g_autofree char *token = share (f, owner, open_only, in_an_hour, in_two_hours, NULL);
    g_autoptr(Holder) guest = redeem_ok (f, owner, token, NULL);
    g_autoptr(LkTestReply) reply = open_with (f, guest, "open");
    assert_denied (reply, "not_yet_valid");
  }
  {
    g_autofree char *token = share (f, owner, open_only, two_hours_ago, hour_ago, NULL);
    g_autoptr(Holder) guest = redeem_ok (f, owner, token, NULL);
    g_autoptr(LkTestReply) reply = open_with (f, guest, "open");
    assert_denied (reply, "expired");
  }
  /* A generic owner signs, like the others. */
  {
    g_autoptr(Holder) pass = enrol (f, "generic", NULL, NULL);
    g_autoptr(LkTestReply) reply = open_with (f, pass, "open");

    assert_granted (reply, "open");
    g_clear_object (&pass->key);
    pass->key = g_object_ref (other);
    g_clear_pointer (&reply, lk_test_reply_free);
    reply = open_with (f, pass, "open");
    assert_denied (reply, "bad_signature");
  }
}

static JsonObject *
friend_key_object (Fixture            *f,
                   Holder             *owner,
                   LkKeyPair          *friend,
                   const char * const *signed_entitlements,
                   const char * const *sent_entitlements,
                   const char         *valid_from,
                   const char         *valid_until)
{
  JsonObject *object = json_object_new ();
  g_autofree char *key_text = encode_key (friend);
  g_autoptr(GBytes) grant = lk_signing_friend_key (owner->access_point_id, key_text, signed_entitlements,
                                                   valid_from, valid_until);
  g_autofree char *owner_signature = sign (f, owner->key, grant);

  json_object_set_string_member (object, "publicKey", key_text);
  json_object_set_array_member (object, "entitlements", strv_array (sent_entitlements));
  if (valid_from != NULL)
    json_object_set_string_member (object, "validFrom", valid_from);
  if (valid_until != NULL)
    json_object_set_string_member (object, "validUntil", valid_until);
  json_object_set_string_member (object, "ownerSignature", owner_signature);
  return object;
}

static LkTestReply *
friend_access (Fixture    *f,
               const char *access_point_id,
               JsonObject *friend_key,
               LkKeyPair  *signer,
               LkKeyPair  *friend,
               const char *action)
{
  g_autofree char *challenge = new_challenge (f);
  g_autoptr(JsonObject) body = access_body (access_point_id, action, challenge);
  g_autofree char *fingerprint = lk_key_pair_get_fingerprint (friend);
  g_autoptr(GBytes) statement = lk_signing_access (access_point_id, fingerprint, action, challenge);
  g_autofree char *signature = sign (f, signer, statement);

  json_object_set_object_member (body, "friendKey", json_object_ref (friend_key));
  json_object_set_string_member (body, "signature", signature);
  return post (f, "/v1/access", body);
}

static void
test_friend_key (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "car", NULL, NULL);
  g_autoptr(Holder) other_car = enrol (f, "car", NULL, NULL);
  g_autoptr(Holder) door = enrol (f, "home", NULL, NULL);
  g_autoptr(LkKeyPair) friend = new_key (f);
  g_autoptr(LkKeyPair) thief = new_key (f);
  g_autofree char *from = time_from_now (-3600);
  g_autofree char *until = time_from_now (3600);
  g_autofree char *hour_ago = time_from_now (-3600);
  g_autofree char *two_hours_ago = time_from_now (-7200);
  g_autoptr(JsonObject) key = friend_key_object (f, owner, friend, open_start, open_start, from, until);
  g_autoptr(JsonObject) tampered = friend_key_object (f, owner, friend, open_start, open_start_drive, from, until);
  g_autoptr(JsonObject) stale = friend_key_object (f, owner, friend, open_start, open_start, two_hours_ago, hour_ago);
  g_autoptr(JsonObject) endless = friend_key_object (f, owner, friend, open_start, open_start, from, NULL);
  g_autofree char *fingerprint = lk_key_pair_get_fingerprint (friend);
  g_autofree char *target = g_strconcat ("key:", fingerprint, NULL);

  {
    g_autoptr(LkTestReply) reply = friend_access (f, owner->access_point_id, key, friend, friend, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = friend_access (f, owner->access_point_id, key, friend, friend, "start");
    assert_granted (reply, "start");
  }
  {
    g_autoptr(LkTestReply) reply = friend_access (f, owner->access_point_id, key, friend, friend, "drive");
    assert_denied (reply, "not_entitled");
  }
  {
    /* More than the owner signed for. */
    g_autoptr(LkTestReply) reply = friend_access (f, owner->access_point_id, tampered, friend, friend, "drive");
    assert_denied (reply, "bad_owner_signature");
  }
  {
    /* Another car's owner never signed it. */
    g_autoptr(LkTestReply) reply = friend_access (f, other_car->access_point_id, key, friend, friend, "open");
    assert_denied (reply, "bad_owner_signature");
  }
  {
    /* Someone who copied the friend key but not its private key. */
    g_autoptr(LkTestReply) reply = friend_access (f, owner->access_point_id, key, thief, friend, "open");
    assert_denied (reply, "bad_signature");
  }
  {
    g_autoptr(LkTestReply) reply = friend_access (f, owner->access_point_id, stale, friend, friend, "open");
    assert_denied (reply, "expired");
  }
  {
    g_autoptr(LkTestReply) reply = friend_access (f, owner->access_point_id, endless, friend, friend, "open");
    assert_error_reply (reply, 400, "bad_request");
  }

  /* Revocation of a key is for a car's owner, on that car only: another
   * car's owner bars it from their own car, which changes nothing here. */
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, other_car, target);
    assert_revoked_count (reply, 1);
  }
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, door, target);
    assert_error_reply (reply, 403, "not_yours");
  }
  {
    g_autoptr(LkTestReply) reply = friend_access (f, owner->access_point_id, key, friend, friend, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, target);
    assert_revoked_count (reply, 1);
  }
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, target);
    assert_revoked_count (reply, 0);
  }
  {
    g_autoptr(LkTestReply) reply = friend_access (f, owner->access_point_id, key, friend, friend, "open");
    assert_denied (reply, "revoked");
  }
  /* The owner's own key still works, and the owner's door opens for it. */
  {
    g_autoptr(LkTestReply) reply = open_with (f, owner, "drive");
    assert_granted (reply, "drive");
  }
}

static void
test_revocation (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autoptr(Holder) stranger = enrol (f, "home", NULL, NULL);
  g_autoptr(Holder) guest = NULL;
  g_autoptr(Holder) guest_of_guest = NULL;
  g_autoptr(Holder) sibling = NULL;
  g_autofree char *token = share (f, owner, open_only, NULL, NULL, NULL);
  g_autofree char *guest_target = NULL;
  g_autofree char *grandchild_target = NULL;
  g_autofree char *owner_target = g_strconcat ("credential:", owner->credential_id, NULL);
  g_autofree char *pending = NULL;

  guest = redeem_ok (f, owner, token, NULL);
  /* The guest shares on; that one and anything before it hang off the owner. */
  {
    g_autofree char *token2 = share (f, guest, open_only, NULL, NULL, NULL);
    guest_of_guest = redeem_ok (f, guest, token2, NULL);
  }
  {
    g_autofree char *token3 = share (f, owner, open_only, NULL, NULL, NULL);
    sibling = redeem_ok (f, owner, token3, NULL);
  }
  pending = share (f, guest, open_only, NULL, NULL, NULL);
  guest_target = g_strconcat ("credential:", guest->credential_id, NULL);
  grandchild_target = g_strconcat ("credential:", guest_of_guest->credential_id, NULL);

  {
    g_autoptr(LkTestReply) reply = open_with (f, guest_of_guest, "open");
    assert_granted (reply, "open");
  }

  /* Not someone else's, not one's own sharer, not with a bad signature. */
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, stranger, guest_target);
    assert_error_reply (reply, 403, "not_yours");
  }
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, guest, owner_target);
    assert_error_reply (reply, 403, "not_yours");
  }
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, sibling, grandchild_target);
    assert_error_reply (reply, 403, "not_yours");
  }
  {
    g_autofree char *challenge = new_challenge (f);
    g_autoptr(JsonObject) body = json_object_new ();
    g_autoptr(GBytes) statement = lk_signing_revocation (owner->credential_id, guest_target, challenge);
    g_autofree char *signature = sign (f, stranger->key, statement);
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "credentialId", owner->credential_id);
    json_object_set_string_member (body, "challenge", challenge);
    json_object_set_string_member (body, "signature", signature);
    json_object_set_string_member (body, "target", guest_target);
    reply = post (f, "/v1/revocations", body);
    assert_error_reply (reply, 403, "bad_signature");
  }
  {
    g_autofree char *nobody = g_strdup_printf ("credential:%s", stranger->access_point_id);
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, nobody);
    assert_error_reply (reply, 404, "unknown_credential");
  }
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, "credential:nope");
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, guest, "open");
    assert_granted (reply, "open");
  }

  /* The sharer revokes the guest: the guest, and whom the guest shared with. */
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, guest_target);
    assert_revoked_count (reply, 2);
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, guest, "open");
    assert_denied (reply, "revoked");
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, guest_of_guest, "open");
    assert_denied (reply, "revoked");
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, sibling, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, owner, "open");
    assert_granted (reply, "open");
  }
  /* What the revoked guest shared but was not yet redeemed dies with it,
   * and a revoked credential shares no more. */
  {
    g_autoptr(LkKeyPair) key = new_key (f);
    g_autoptr(LkTestReply) reply = redeem (f, pending, key, NULL);
    assert_error_reply (reply, 410, "token_revoked");
  }
  {
    g_autoptr(LkTestReply) reply = request_token (f, guest, open_only, NULL, NULL, NULL);
    assert_error_reply (reply, 403, "revoked");
  }

  /* Revoking a token: unredeemed, it stops working... */
  {
    g_autofree char *unused = share (f, owner, open_only, NULL, NULL, NULL);
    g_autofree char *unused_target = g_strconcat ("token:", unused, NULL);
    g_autoptr(LkKeyPair) key = new_key (f);
    g_autoptr(LkTestReply) by_stranger = revoke_as (f, stranger, unused_target);
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, unused_target);
    g_autoptr(LkTestReply) late = redeem (f, unused, key, NULL);

    assert_error_reply (by_stranger, 403, "not_yours");
    assert_revoked_count (reply, 1);
    assert_error_reply (late, 410, "token_revoked");
  }
  /* ...redeemed, the credential made from it goes. */
  {
    g_autofree char *used_target = g_strconcat ("token:", token, NULL);
    g_autofree char *token4 = share (f, owner, open_only, NULL, NULL, NULL);
    g_autofree char *token4_target = g_strconcat ("token:", token4, NULL);
    g_autoptr(Holder) another = redeem_ok (f, owner, token4, NULL);
    g_autoptr(LkTestReply) again = revoke_as (f, owner, used_target);
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, token4_target);
    g_autoptr(LkTestReply) denied = open_with (f, another, "open");

    assert_revoked_count (again, 0);
    assert_revoked_count (reply, 1);
    assert_denied (denied, "revoked");
  }
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, "token:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_error_reply (reply, 404, "token_unknown");
  }
}

/* A generic share: its own access token, for its own window and
 * entitlements, which only the owner (by signature) revokes. */
static Holder *
share_generic (Fixture            *f,
               Holder             *owner,
               const char * const *entitlements,
               const char         *valid_from,
               const char         *valid_until)
{
  g_autoptr(LkTestReply) reply = request_token (f, owner, entitlements, valid_from, valid_until, NULL);
  g_autoptr(JsonObject) object = NULL;
  Holder *share;

  lk_test_assert_status (reply, 201);
  object = lk_test_reply_json (reply);
  share = holder_from_reply (reply, NULL);
  g_assert_cmpstr (share->access_point_id, ==, owner->access_point_id);
  g_assert_cmpstr (share->credential_id, !=, owner->credential_id);
  g_assert_cmpstr (json_object_get_string_member (object, "role"), ==, "shared");
  g_assert_nonnull (share->access_token);
  g_assert_cmpuint (strlen (share->access_token), ==, 43);
  g_assert_false (json_object_has_member (object, "token"));
  assert_strv_member (object, "entitlements", entitlements);
  keep_secret (f, share->access_token);
  return share;
}

static LkTestReply *
rotate_with_token (Fixture    *f,
                   const char *access_token)
{
  g_autoptr(JsonObject) body = json_object_new ();

  json_object_set_string_member (body, "accessToken", access_token);
  json_object_set_boolean_member (body, "rotate", TRUE);
  return post (f, "/v1/revocations", body);
}

static LkTestReply *
register_key (Fixture    *f,
              const char *access_token,
              LkKeyPair  *key)
{
  g_autoptr(JsonObject) body = json_object_new ();
  g_autofree char *key_text = encode_key (key);

  json_object_set_string_member (body, "accessToken", access_token);
  json_object_set_string_member (body, "publicKey", key_text);
  return post (f, "/v1/owner-keys", body);
}

static void
test_generic (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "generic", NULL, NULL);
  g_autoptr(Holder) other = enrol (f, "generic", NULL, NULL);
  g_autoptr(Holder) share = share_generic (f, owner, open_only, NULL, NULL);
  g_autoptr(Holder) second = share_generic (f, owner, open_only, NULL, NULL);
  g_autofree char *hour_ago = time_from_now (-3600);
  g_autofree char *two_hours_ago = time_from_now (-7200);
  g_autofree char *in_an_hour = time_from_now (3600);
  g_autofree char *in_two_hours = time_from_now (7200);
  g_autofree char *share_target = g_strconcat ("credential:", share->credential_id, NULL);

  g_assert_cmpstr (share->access_token, !=, second->access_token);
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, owner->access_point_id, share->access_token, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, owner->access_point_id, share->access_token, "start");
    assert_denied (reply, "not_entitled");
  }
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, other->access_point_id, share->access_token, "open");
    assert_denied (reply, "wrong_access_point");
  }
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, owner->access_point_id,
                                                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "open");
    assert_denied (reply, "unknown_credential");
  }
  {
    /* The bearer still needs a fresh challenge. */
    g_autoptr(JsonObject) body = access_body (owner->access_point_id, "open", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "accessToken", share->access_token);
    reply = post (f, "/v1/access", body);
    assert_denied (reply, "bad_challenge");
  }

  /* The share's window is the share's, not the owner's. */
  {
    g_autoptr(Holder) later = share_generic (f, owner, open_only, in_an_hour, in_two_hours);
    g_autoptr(LkTestReply) reply = access_with_token (f, owner->access_point_id, later->access_token, "open");
    assert_denied (reply, "not_yet_valid");
  }
  {
    g_autoptr(Holder) over = share_generic (f, owner, open_only, two_hours_ago, hour_ago);
    g_autoptr(LkTestReply) reply = access_with_token (f, owner->access_point_id, over->access_token, "open");
    assert_denied (reply, "expired");
  }
  /* Nothing the owner does not have, and no code here (the owner's device
   * checks it). */
  {
    g_autoptr(LkTestReply) reply = request_token (f, owner, open_start, NULL, NULL, NULL);
    assert_error_reply (reply, 400, "bad_entitlements");
  }
  {
    g_autoptr(LkTestReply) reply = request_token (f, owner, open_only, NULL, NULL, CODE);
    assert_error_reply (reply, 400, "bad_request");
  }

  /* A receiver holds a token, not the pass: it can neither rotate nor
   * revoke, nor make itself an owner… */
  {
    g_autoptr(LkTestReply) reply = rotate_with_token (f, share->access_token);
    assert_error_reply (reply, 403, "signature_required");
  }
  {
    g_autoptr(LkKeyPair) key = new_key (f);
    g_autoptr(LkTestReply) reply = register_key (f, share->access_token, key);
    assert_error_reply (reply, 409, "has_key");
  }
  /* …nor can another credential's owner… */
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, other, share_target);
    assert_error_reply (reply, 403, "not_yours");
  }
  /* …so the owner and the share go on. */
  {
    g_autoptr(LkTestReply) reply = open_with (f, owner, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, owner->access_point_id, share->access_token, "open");
    assert_granted (reply, "open");
  }

  /* The owner revokes one share; the owner and the other share go on. */
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, share_target);
    assert_revoked_count (reply, 1);
  }
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, owner->access_point_id, share->access_token, "open");
    assert_denied (reply, "revoked");
  }
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, owner->access_point_id, second->access_token, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, owner, "open");
    assert_granted (reply, "open");
  }
}

/* A generic credential enrolled before owners had keys: a bearer token in
 * a database the previous partner wrote, and perhaps in copies the owner
 * gave away. It keeps working, registers a key once, and from then on
 * signs; revoking its token (every copy) leaves its key and its new shares. */
static Holder *
add_legacy_generic (Fixture *f)
{
  g_autoptr(LkTestLegacyPass) pass = lk_test_legacy_pass_add (f->partner);
  Holder *legacy = g_new0 (Holder, 1);

  legacy->credential_id = g_strdup (pass->credential_id);
  legacy->access_point_id = g_strdup (pass->access_point_id);
  legacy->access_token = g_strdup (pass->access_token);
  legacy->title = g_strdup ("Old Pass");
  keep_secret (f, legacy->access_token);
  return legacy;
}

static void
test_generic_migration (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(Holder) other = enrol (f, "generic", NULL, NULL);
  g_autoptr(Holder) legacy = add_legacy_generic (f);
  g_autoptr(Holder) share = NULL;
  g_autoptr(LkKeyPair) key = new_key (f);
  g_autofree char *tokens_target = g_strconcat ("access-tokens:", legacy->credential_id, NULL);

  /* It still opens, and its token still cannot rotate itself. */
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, legacy->access_point_id, legacy->access_token, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = rotate_with_token (f, legacy->access_token);
    assert_error_reply (reply, 403, "signature_required");
  }
  /* Without a key it cannot sign a share. */
  {
    g_autoptr(LkKeyPair) stranger = new_key (f);
    g_autoptr(LkTestReply) reply = NULL;

    legacy->key = g_object_ref (stranger);
    reply = request_token (f, legacy, open_only, NULL, NULL, NULL);
    assert_error_reply (reply, 403, "bad_signature");
    g_clear_object (&legacy->key);
  }

  /* A key, once. */
  {
    g_autoptr(LkTestReply) reply = register_key (f, legacy->access_token, key);
    g_autoptr(JsonObject) object = NULL;

    lk_test_assert_status (reply, 200);
    object = lk_test_reply_json (reply);
    g_assert_cmpstr (json_object_get_string_member (object, "credentialId"), ==, legacy->credential_id);
    legacy->key = g_object_ref (key);
  }
  {
    g_autoptr(LkKeyPair) again = new_key (f);
    g_autoptr(LkTestReply) reply = register_key (f, legacy->access_token, again);
    assert_error_reply (reply, 409, "has_key");
  }

  /* Now it signs: it opens, and shares with tokens of their own. */
  {
    g_autoptr(LkTestReply) reply = open_with (f, legacy, "open");
    assert_granted (reply, "open");
  }
  share = share_generic (f, legacy, open_only, NULL, NULL);

  /* Only it revokes its old token, in every copy; its key and share stay. */
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, other, tokens_target);
    assert_error_reply (reply, 403, "not_yours");
  }
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, legacy, tokens_target);
    assert_revoked_count (reply, 1);
  }
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, legacy->access_point_id, legacy->access_token, "open");
    assert_denied (reply, "revoked");
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, legacy, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, legacy->access_point_id, share->access_token, "open");
    assert_granted (reply, "open");
  }
  /* A revoked token registers nothing. */
  {
    g_autoptr(LkKeyPair) late = new_key (f);
    g_autoptr(LkTestReply) reply = register_key (f, legacy->access_token, late);
    assert_error_reply (reply, 403, "revoked");
  }
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  gsize needle_len = strlen (needle);

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return FALSE;

  /* A database holds NUL bytes: search all of it, not up to the first. */
  for (gsize i = 0; i + needle_len <= len; i++)
    if (memcmp (contents + i, needle, needle_len) == 0)
      return TRUE;
  return FALSE;
}

static void
test_restart (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autoptr(Holder) car = enrol (f, "car", NULL, NULL);
  g_autoptr(Holder) pass = enrol (f, "generic", NULL, NULL);
  g_autoptr(Holder) pass_share = share_generic (f, pass, open_only, NULL, NULL);
  g_autofree char *token = share (f, owner, open_only, NULL, NULL, NULL);
  g_autofree char *pending = share (f, owner, open_only, NULL, NULL, CODE);
  g_autofree char *doomed = share (f, owner, open_only, NULL, NULL, NULL);
  g_autofree char *doomed_target = g_strconcat ("token:", doomed, NULL);
  g_autoptr(Holder) guest = redeem_ok (f, owner, token, NULL);
  g_autoptr(LkKeyPair) friend = new_key (f);
  g_autofree char *until = time_from_now (3600);
  g_autoptr(JsonObject) friend_key = friend_key_object (f, car, friend, open_only, open_only, NULL, until);
  g_autofree char *fingerprint = lk_key_pair_get_fingerprint (friend);
  g_autofree char *key_target = g_strconcat ("key:", fingerprint, NULL);
  g_autofree char *stale_challenge = new_challenge (f);
  g_autofree char *db_path = NULL;
  g_autofree char *wal_path = NULL;
  const char *secrets[5];
  int status;

  {
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, doomed_target);
    assert_revoked_count (reply, 1);
  }
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, car, key_target);
    assert_revoked_count (reply, 1);
  }
  {
    g_autoptr(LkKeyPair) key = new_key (f);
    g_autoptr(LkTestReply) reply = redeem (f, pending, key, "0000");
    assert_error_reply (reply, 403, "wrong_code");
  }

  status = lk_test_server_terminate (f->partner);
  g_assert_cmpint (status, ==, 0);

  /* Tokens and access tokens are on disk only as hashes; codes not at all. */
  db_path = g_build_filename (f->partner->data_dir, "db", "partner.sqlite", NULL);
  wal_path = g_strconcat (db_path, "-wal", NULL);
  g_assert_true (g_file_test (db_path, G_FILE_TEST_EXISTS));
  secrets[0] = token;
  secrets[1] = pending;
  secrets[2] = doomed;
  secrets[3] = pass_share->access_token;
  secrets[4] = CODE;
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_assert_false (file_contains (db_path, secrets[i]));
      g_assert_false (file_contains (wal_path, secrets[i]));
    }

  lk_test_server_start (f->partner);

  {
    g_autoptr(LkTestReply) reply = open_with (f, owner, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = open_with (f, guest, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkTestReply) reply = access_with_token (f, pass->access_point_id, pass_share->access_token, "open");
    assert_granted (reply, "open");
  }
  {
    g_autoptr(LkKeyPair) key = new_key (f);
    g_autoptr(LkTestReply) reply = redeem (f, token, key, NULL);
    assert_error_reply (reply, 410, "token_used");
  }
  {
    g_autoptr(LkKeyPair) key = new_key (f);
    g_autoptr(LkTestReply) reply = redeem (f, doomed, key, NULL);
    assert_error_reply (reply, 410, "token_revoked");
  }
  {
    g_autoptr(LkTestReply) reply = friend_access (f, car->access_point_id, friend_key, friend, friend, "open");
    assert_denied (reply, "revoked");
  }
  /* The attempt made before the restart still counts. */
  {
    g_autoptr(LkKeyPair) key = new_key (f);
    g_autoptr(LkTestReply) reply = redeem (f, pending, key, "1111");
    g_autoptr(JsonObject) object = NULL;

    assert_error_reply (reply, 403, "wrong_code");
    object = lk_test_reply_json (reply);
    g_assert_cmpint (json_object_get_int_member (object, "attemptsLeft"), ==, 1);
  }
  {
    g_autoptr(Holder) late_guest = redeem_ok (f, owner, pending, CODE);
    g_autoptr(LkTestReply) reply = open_with (f, late_guest, "open");
    assert_granted (reply, "open");
  }
  /* Challenges are kept in memory: one from before the restart is gone. */
  {
    g_autoptr(JsonObject) body = access_body (owner->access_point_id, "open", stale_challenge);
    g_autoptr(GBytes) statement = lk_signing_access (owner->access_point_id, owner->credential_id, "open",
                                                     stale_challenge);
    g_autofree char *signature = sign (f, owner->key, statement);
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "credentialId", owner->credential_id);
    json_object_set_string_member (body, "signature", signature);
    reply = post (f, "/v1/access", body);
    assert_denied (reply, "bad_challenge");
  }
}

static const char * const short_lifetime_args[] = { "--challenge-lifetime", "1", "--token-lifetime", "1", NULL };

static void
test_expiry (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autoptr(LkKeyPair) key = new_key (f);
  g_autofree char *challenge = new_challenge (f);
  g_autofree char *token = NULL;

  {
    g_autoptr(LkTestReply) reply = request_token (f, owner, open_only, NULL, NULL, NULL);
    g_autoptr(JsonObject) object = NULL;

    lk_test_assert_status (reply, 201);
    object = lk_test_reply_json (reply);
    token = g_strdup (json_object_get_string_member (object, "token"));
    keep_secret (f, token);
  }

  g_usleep (2100 * G_TIME_SPAN_MILLISECOND);

  {
    g_autoptr(LkTestReply) reply = redeem (f, token, key, NULL);
    assert_error_reply (reply, 410, "token_expired");
  }
  {
    g_autoptr(LkTestReply) reply = request_token_with (f, owner, owner->key, challenge, open_only, NULL, NULL, NULL);
    assert_error_reply (reply, 403, "bad_challenge");
  }
  {
    /* A fresh one works. */
    g_autoptr(LkTestReply) reply = open_with (f, owner, "open");
    assert_granted (reply, "open");
  }
}

static const char * const limit_args[] = { "--max-challenges", "3", "--max-challenges-per-client", "2",
                                           "--name", "Grand Hotel", NULL };

static void
test_limits (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(LkKeyPair) key = new_key (f);
  g_autoptr(LkTestReply) enrolled = enrol_request (f, "home", key, NULL, NULL);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(Holder) owner = NULL;
  g_autofree char *oldest = NULL;
  g_autofree char *middle = NULL;
  g_autofree char *newest = NULL;

  /* The issuer is the partner's name. */
  lk_test_assert_status (enrolled, 201);
  object = lk_test_reply_json (enrolled);
  g_assert_cmpstr (json_object_get_string_member (object, "issuer"), ==, "Grand Hotel");
  owner = holder_from_reply (enrolled, key);

  /* A client's outstanding challenges are bounded: its own oldest goes
   * first (tests/test-abuse.c checks that nobody else's does). */
  oldest = new_challenge (f);
  middle = new_challenge (f);
  newest = new_challenge (f);
  {
    g_autoptr(LkTestReply) reply = request_token_with (f, owner, owner->key, oldest, open_only, NULL, NULL, NULL);
    assert_error_reply (reply, 403, "bad_challenge");
  }
  {
    g_autoptr(LkTestReply) reply = request_token_with (f, owner, owner->key, newest, open_only, NULL, NULL, NULL);
    g_autoptr(JsonObject) token = NULL;

    lk_test_assert_status (reply, 201);
    token = lk_test_reply_json (reply);
    keep_secret (f, json_object_get_string_member (token, "token"));
  }
  {
    g_autoptr(LkTestReply) reply = request_token_with (f, owner, owner->key, middle, open_only, NULL, NULL, NULL);
    g_autoptr(JsonObject) token = NULL;

    lk_test_assert_status (reply, 201);
    token = lk_test_reply_json (reply);
    keep_secret (f, json_object_get_string_member (token, "token"));
  }
}

static void
test_malformed (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autofree char *credentials_url = url_for (f, "/v1/credentials");
  g_autofree char *tokens_url = url_for (f, "/v1/tokens");
  g_autofree char *access_url = url_for (f, "/v1/access");
  g_autofree char *redeem_url = url_for (f, "/v1/redeem");
  g_autofree char *health_url = url_for (f, "/healthz");
  g_autofree char *nowhere_url = url_for (f, "/v1/nowhere");
  g_autofree char *challenges_url = url_for (f, "/v1/challenges");
  g_autofree char *huge = NULL;
  GString *deep = g_string_new (NULL);
  const char *bad_bodies[] = {
    "not json",
    "[1, 2, 3]",
    "{\"vertical\": 7}",
    "{\"vertical\": \"home\", \"publicKey\": 12}",
    "{\"vertical\": \"home\", \"publicKey\": \"***\"}",
    "{}",
    "\"just a string\"",
    "{\"vertical\": \"car\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad_bodies); i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", credentials_url, "application/json",
                                             bad_bodies[i], NULL);
      assert_error_reply (reply, 400, "bad_request");
    }

  for (guint i = 0; i < 100; i++)
    g_string_append_c (deep, '[');
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", credentials_url, "application/json", deep->str, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  g_string_free (deep, TRUE);

  /* Fields that could not have been signed, and missing ones. */
  {
    g_autofree char *challenge = new_challenge (f);
    g_autofree char *body = g_strdup_printf ("{\"credentialId\": \"%s\", \"challenge\": \"%s\", \"signature\": \"AAAA\","
                                             " \"entitlements\": [\"open,start\"]}", owner->credential_id, challenge);
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", tokens_url, "application/json", body, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autofree char *challenge = new_challenge (f);
    g_autofree char *body = g_strdup_printf ("{\"credentialId\": \"%s\", \"challenge\": \"%s\", \"signature\": \"AAAA\","
                                             " \"entitlements\": [\"open\"], \"validUntil\": \"2030-01-01T00:00:00Z\\nx\"}",
                                             owner->credential_id, challenge);
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", tokens_url, "application/json", body, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autofree char *body = g_strdup_printf ("{\"credentialId\": \"%s\", \"challenge\": \"short\", \"signature\": \"AAAA\","
                                             " \"entitlements\": [\"open\"]}", owner->credential_id);
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", tokens_url, "application/json", body, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autofree char *challenge = new_challenge (f);
    g_autofree char *body = g_strdup_printf ("{\"accessPointId\": \"%s\", \"action\": \"fly\", \"challenge\": \"%s\","
                                             " \"credentialId\": \"%s\", \"signature\": \"AAAA\"}",
                                             owner->access_point_id, challenge, owner->credential_id);
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", access_url, "application/json", body, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autofree char *challenge = new_challenge (f);
    g_autofree char *body = g_strdup_printf ("{\"accessPointId\": \"%s\", \"action\": \"open\", \"challenge\": \"%s\"}",
                                             owner->access_point_id, challenge);
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", access_url, "application/json", body, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", redeem_url, "application/json",
                                           "{\"token\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", NULL);
    assert_error_reply (reply, 400, "bad_request");
  }

  /* Size, type and method. */
  huge = g_strnfill (64 * 1024 + 1, ' ');
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", credentials_url, "application/json", huge,
                                           "Expect", "100-continue", NULL);
    assert_error_reply (reply, 413, "too_large");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", credentials_url, NULL,
                                           "{\"vertical\": \"generic\"}", NULL);
    assert_error_reply (reply, 415, "unsupported_media_type");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", credentials_url, "text/plain",
                                           "{\"vertical\": \"generic\"}", NULL);
    assert_error_reply (reply, 415, "unsupported_media_type");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", credentials_url, NULL, NULL, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", tokens_url, NULL, NULL, NULL);
    assert_error_reply (reply, 405, "method_not_allowed");
    g_assert_cmpstr (soup_message_headers_get_one (reply->headers, "Allow"), ==, "POST");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", challenges_url, NULL, NULL, NULL);
    assert_error_reply (reply, 405, "method_not_allowed");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", health_url, NULL, NULL, NULL);
    assert_error_reply (reply, 405, "method_not_allowed");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", nowhere_url, NULL, NULL, NULL);
    assert_error_reply (reply, 404, "not_found");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", health_url, NULL, NULL, NULL);
    lk_test_assert_status (reply, 200);
    g_assert_cmpstr (g_strchomp (reply->body), ==, "ok");
  }

  /* After all that, the partner still serves. */
  {
    g_autoptr(LkTestReply) reply = open_with (f, owner, "open");
    assert_granted (reply, "open");
  }
}

/* Only RFC 8259 comes in: invalid Unicode and the rest are refused at the
 * door, before any rule runs. */
static void
test_strict_json (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autofree char *credentials_url = url_for (f, "/v1/credentials");
  g_autofree char *redeem_url = url_for (f, "/v1/redeem");
  static const char * const bad_bodies[] = {
    "{\"vertical\": \"generic\", \"title\": \"a\\udfffb\"}",
    "{\"vertical\": \"generic\", \"title\": \"a\\ud800\"}",
    "{\"vertical\": \"generic\", \"title\": \"x\\u0000y\"}",
    "{\"vertical\": \"generic\", \"title\": \"\xed\xa0\x80\"}",
    "{\"vertical\": \"generic\", \"title\": \"\xff\"}",
    "{\"vertical\": \"generic\" /* a comment */}",
    "{'vertical': 'generic'}",
    "{\"vertical\": \"car\", \"vertical\": \"generic\"}",
  };
  g_autoptr(GString) bypass = g_string_new ("{\"token\":/*\"*/");

  for (guint i = 0; i < G_N_ELEMENTS (bad_bodies); i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", credentials_url, "application/json",
                                                   bad_bodies[i], NULL);
      assert_error_reply (reply, 400, "bad_request");
    }

  /* The comment that hid a quote from the old depth guard. */
  for (guint i = 0; i < 60000; i++)
    g_string_append_c (bypass, '[');
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", redeem_url, "application/json", bypass->str, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }

  {
    g_autoptr(LkTestReply) reply = open_with (f, owner, "open");
    assert_granted (reply, "open");
  }
}

/* Issue 13: a token for several receivers. */
static char *
share_for (Fixture    *f,
           Holder     *sharer,
           guint       receivers,
           const char *code,
           guint       expect_status)
{
  g_autofree char *challenge = new_challenge (f);
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(LkSecureString) verifier = code != NULL ? lk_signing_code_verifier (challenge, code) : NULL;
  g_autoptr(GBytes) statement = lk_signing_token_request_for (sharer->credential_id, challenge, open_only,
                                                              NULL, NULL, verifier, receivers);
  g_autofree char *signature = sign (f, sharer->key, statement);
  g_autoptr(LkTestReply) reply = NULL;
  g_autoptr(JsonObject) object = NULL;

  json_object_set_string_member (body, "credentialId", sharer->credential_id);
  json_object_set_string_member (body, "challenge", challenge);
  json_object_set_string_member (body, "signature", signature);
  json_object_set_array_member (body, "entitlements", strv_array (open_only));
  json_object_set_int_member (body, "receivers", receivers);
  if (code != NULL)
    json_object_set_string_member (body, "activationCode", code);
  reply = post (f, "/v1/tokens", body);
  lk_test_assert_status (reply, expect_status);
  if (expect_status != 201)
    return NULL;

  object = lk_test_reply_json (reply);
  g_assert_cmpint (json_object_get_int_member (object, "receivers"), ==, receivers);
  keep_secret (f, json_object_get_string_member (object, "token"));
  return g_strdup (json_object_get_string_member (object, "token"));
}

static void
test_several_receivers (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autofree char *token = share_for (f, owner, 3, NULL, 201);
  g_autoptr(Holder) a = NULL;
  g_autoptr(Holder) b = NULL;
  g_autoptr(Holder) c = NULL;
  g_autoptr(LkKeyPair) fourth = new_key (f);
  g_autofree char *second = g_strdup_printf ("redemption:2:%s", token);
  g_autofree char *whole = g_strdup_printf ("token:%s", token);

  /* Three redemptions, each a credential of its own; a fourth is refused. */
  a = redeem_ok (f, owner, token, NULL);
  b = redeem_ok (f, owner, token, NULL);
  c = redeem_ok (f, owner, token, NULL);
  g_assert_cmpstr (a->credential_id, !=, b->credential_id);
  g_assert_cmpstr (b->credential_id, !=, c->credential_id);
  {
    g_autoptr(LkTestReply) reply = redeem (f, token, fourth, NULL);
    assert_error_reply (reply, 410, "token_used");
  }

  /* Each is revoked alone: the second receiver, and nobody else. */
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, second);
    assert_revoked_count (reply, 1);
  }
  {
    g_autoptr(LkTestReply) ra = open_with (f, a, "open");
    g_autoptr(LkTestReply) rb = open_with (f, b, "open");
    g_autoptr(LkTestReply) rc = open_with (f, c, "open");

    lk_test_assert_status (ra, 200);
    lk_test_assert_status (rb, 403);
    lk_test_assert_status (rc, 200);
  }
  /* A redemption that never happened, or a position out of range. */
  {
    g_autofree char *none = g_strdup_printf ("redemption:4:%s", token);
    g_autofree char *zero = g_strdup_printf ("redemption:0:%s", token);
    g_autoptr(LkTestReply) r4 = revoke_as (f, owner, none);
    g_autoptr(LkTestReply) r0 = revoke_as (f, owner, zero);

    assert_error_reply (r4, 404, "redemption_unknown");
    assert_error_reply (r0, 400, "bad_request");
  }
  /* The whole token takes every receiver's credential. */
  {
    g_autoptr(LkTestReply) reply = revoke_as (f, owner, whole);
    g_autoptr(LkTestReply) ra = NULL;
    g_autoptr(LkTestReply) rc = NULL;

    lk_test_assert_status (reply, 200);
    ra = open_with (f, a, "open");
    rc = open_with (f, c, "open");
    lk_test_assert_status (ra, 403);
    lk_test_assert_status (rc, 403);
  }
}

static void
test_several_receivers_code (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autofree char *token = share_for (f, owner, 2, "482915", 201);
  g_autoptr(Holder) a = redeem_ok (f, owner, token, "482915");
  g_autoptr(LkKeyPair) key = new_key (f);

  /* Wrong codes count against the whole token, not per receiver. */
  {
    g_autoptr(LkTestReply) r1 = redeem (f, token, key, "000000");
    g_autoptr(LkTestReply) r2 = redeem (f, token, key, "000001");
    g_autoptr(LkTestReply) r3 = redeem (f, token, key, "000002");
    g_autoptr(LkTestReply) ok = redeem (f, token, key, "482915");

    assert_error_reply (r1, 403, "wrong_code");
    assert_error_reply (r2, 403, "wrong_code");
    assert_error_reply (r3, 410, "too_many_attempts");
    assert_error_reply (ok, 410, "too_many_attempts");
  }
  g_assert_nonnull (a);
}

static void
test_several_receivers_bounds (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autoptr(Holder) generic = enrol (f, "generic", NULL, NULL);
  g_autofree char *zero = share_for (f, owner, 0, NULL, 400);
  g_autofree char *eleven = share_for (f, owner, 11, NULL, 400);
  g_autofree char *ten = share_for (f, owner, 10, NULL, 201);

  g_assert_null (zero);
  g_assert_null (eleven);
  g_assert_nonnull (ten);

  /* The count is signed: a request raised on the way no longer verifies. */
  {
    g_autofree char *challenge = new_challenge (f);
    g_autoptr(JsonObject) body = json_object_new ();
    g_autoptr(GBytes) statement = lk_signing_token_request_for (owner->credential_id, challenge, open_only,
                                                                NULL, NULL, NULL, 2);
    g_autofree char *signature = sign (f, owner->key, statement);
    g_autoptr(LkTestReply) reply = NULL;

    json_object_set_string_member (body, "credentialId", owner->credential_id);
    json_object_set_string_member (body, "challenge", challenge);
    json_object_set_string_member (body, "signature", signature);
    json_object_set_array_member (body, "entitlements", strv_array (open_only));
    json_object_set_int_member (body, "receivers", 5);
    reply = post (f, "/v1/tokens", body);
    assert_error_reply (reply, 403, "bad_signature");
  }

  /* A generic share for several receivers is a token too: each redemption
   * is a share of its own, opened by its own access token. */
  {
    g_autofree char *token = share_for (f, generic, 2, NULL, 201);
    g_autoptr(LkKeyPair) k1 = new_key (f);
    g_autoptr(LkKeyPair) k2 = new_key (f);
    g_autoptr(LkTestReply) r1 = redeem (f, token, k1, NULL);
    g_autoptr(LkTestReply) r2 = redeem (f, token, k2, NULL);
    g_autoptr(JsonObject) o1 = NULL;
    g_autoptr(JsonObject) o2 = NULL;
    g_autoptr(LkTestReply) revoke = NULL;
    g_autoptr(LkTestReply) a1 = NULL;
    g_autoptr(LkTestReply) a2 = NULL;
    g_autofree char *first = g_strdup_printf ("redemption:1:%s", token);

    lk_test_assert_status (r1, 201);
    lk_test_assert_status (r2, 201);
    o1 = lk_test_reply_json (r1);
    o2 = lk_test_reply_json (r2);
    keep_secret (f, json_object_get_string_member (o1, "accessToken"));
    keep_secret (f, json_object_get_string_member (o2, "accessToken"));
    g_assert_cmpstr (json_object_get_string_member (o1, "accessToken"), !=,
                     json_object_get_string_member (o2, "accessToken"));
    revoke = revoke_as (f, generic, first);
    lk_test_assert_status (revoke, 200);
    a1 = access_with_token (f, generic->access_point_id, json_object_get_string_member (o1, "accessToken"), "open");
    a2 = access_with_token (f, generic->access_point_id, json_object_get_string_member (o2, "accessToken"), "open");
    lk_test_assert_status (a1, 403);
    lk_test_assert_status (a2, 200);
  }
}

/* A database of schema 1 (single-use tokens) is migrated: its tokens are
 * one receiver's each, and tokens for several work from then on. */
static void
test_several_receivers_migration (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(Holder) owner = enrol (f, "home", NULL, NULL);
  g_autofree char *old = share (f, owner, open_only, NULL, NULL, NULL);
  g_autofree char *db_path = g_build_filename (f->partner->data_dir, "db", "partner.sqlite", NULL);
  g_autofree char *several = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (lk_test_server_terminate (f->partner), ==, 0);
  /* Back to what schema 1 wrote. */
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "DROP TABLE redemption; ALTER TABLE token DROP COLUMN receivers; "
                                     "PRAGMA user_version = 1;", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  lk_test_server_start (f->partner);

  {
    g_autoptr(Holder) first = redeem_ok (f, owner, old, NULL);
    g_autoptr(LkKeyPair) key = new_key (f);
    g_autoptr(LkTestReply) again = redeem (f, old, key, NULL);

    g_assert_nonnull (first);
    assert_error_reply (again, 410, "token_used");
  }

  several = share_for (f, owner, 2, NULL, 201);
  {
    g_autoptr(Holder) a = redeem_ok (f, owner, several, NULL);
    g_autoptr(Holder) b = redeem_ok (f, owner, several, NULL);

    g_assert_cmpstr (a->credential_id, !=, b->credential_id);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, args) \
  g_test_add ("/partner/" path, Fixture, args, fixture_set_up, func, fixture_tear_down)
  ADD ("enrol", test_enrol, NULL);
  ADD ("several-receivers", test_several_receivers, NULL);
  ADD ("several-receivers-code", test_several_receivers_code, NULL);
  ADD ("several-receivers-bounds", test_several_receivers_bounds, NULL);
  ADD ("several-receivers-migration", test_several_receivers_migration, NULL);
  ADD ("share-home", test_share_home, NULL);
  ADD ("activation-code", test_activation_code, NULL);
  ADD ("access-denials", test_access_denials, NULL);
  ADD ("friend-key", test_friend_key, NULL);
  ADD ("revocation", test_revocation, NULL);
  ADD ("generic", test_generic, NULL);
  ADD ("generic-migration", test_generic_migration, NULL);
  ADD ("restart", test_restart, NULL);
  ADD ("expiry", test_expiry, short_lifetime_args);
  ADD ("limits", test_limits, limit_args);
  ADD ("malformed", test_malformed, NULL);
  ADD ("strict-json", test_strict_json, NULL);
#undef ADD

  return g_test_run ();
}
