/* test-partner-service.c: the partner's challenges and tokens, without HTTP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * PartnerChallenges directly, and the token rules through PartnerService
 * (JSON in, status and JSON out) on a database in a directory of the
 * test's own: what test-partner.c checks over the wire, here one rule at a
 * time.
 */

#define G_LOG_DOMAIN "test-partner-service"

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "partner-challenges.h"
#include "partner-service.h"

#define LIFETIME (60 * G_USEC_PER_SEC)

static void
client (const char *name,
        HttpdKey   *key)
{
  memset (key, 0, sizeof *key);
  g_strlcpy ((char *) key->bytes, name, sizeof key->bytes);
}

/* Single use, until they expire. */
static void
test_challenges_single_use (void)
{
  g_autoptr(PartnerChallenges) challenges = partner_challenges_new (100, 10, LIFETIME);
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  HttpdKey key;
  gint64 now = 1000 * G_USEC_PER_SEC;

  client ("one", &key);
  first = partner_challenges_issue (challenges, &key, now, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (first), ==, 43);
  second = partner_challenges_issue (challenges, &key, now, &error);
  g_assert_cmpstr (first, !=, second);
  g_assert_cmpuint (partner_challenges_get_count (challenges), ==, 2);

  g_assert_true (partner_challenges_consume (challenges, first, now + 1));
  g_assert_false (partner_challenges_consume (challenges, first, now + 1));
  g_assert_false (partner_challenges_consume (challenges, "never issued", now));
  g_assert_false (partner_challenges_consume (challenges, NULL, now));

  /* Expired: refused, and gone. */
  g_assert_false (partner_challenges_consume (challenges, second, now + LIFETIME));
  g_assert_cmpuint (partner_challenges_get_count (challenges), ==, 0);
}

/* A client over its share loses its own oldest; when every place is taken,
 * newcomers are refused and nobody else's challenge goes. */
static void
test_challenges_limits (void)
{
  g_autoptr(PartnerChallenges) challenges = partner_challenges_new (4, 2, LIFETIME);
  g_autoptr(GError) error = NULL;
  char *mine[3], *theirs[2];
  g_autofree char *refused = NULL;
  HttpdKey one, two, three;
  gint64 now = 1000 * G_USEC_PER_SEC;

  client ("one", &one);
  client ("two", &two);
  client ("three", &three);
  for (guint i = 0; i < 3; i++)
    mine[i] = partner_challenges_issue (challenges, &one, now, &error);
  g_assert_cmpuint (partner_challenges_get_count (challenges), ==, 2);
  for (guint i = 0; i < 2; i++)
    theirs[i] = partner_challenges_issue (challenges, &two, now, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (partner_challenges_get_count (challenges), ==, 4);

  refused = partner_challenges_issue (challenges, &three, now, &error);
  g_assert_null (refused);
  g_assert_error (error, PARTNER_CHALLENGES_ERROR, PARTNER_CHALLENGES_ERROR_FULL);

  g_assert_false (partner_challenges_consume (challenges, mine[0], now));
  g_assert_true (partner_challenges_consume (challenges, mine[1], now));
  g_assert_true (partner_challenges_consume (challenges, mine[2], now));
  g_assert_true (partner_challenges_consume (challenges, theirs[0], now));
  g_assert_true (partner_challenges_consume (challenges, theirs[1], now));

  for (guint i = 0; i < 3; i++)
    g_free (mine[i]);
  for (guint i = 0; i < 2; i++)
    g_free (theirs[i]);
}

/* A partner on a database of its own, and one enrolled home owner. */
typedef struct
{
  char           *dir;
  PartnerConfig  *config;
  PartnerStore   *store;
  PartnerService *service;
  LkKeyPair      *owner_key;
  char           *owner_id;
} Fixture;

static guint
call (Fixture     *f,
      guint      (*endpoint) (PartnerService *, JsonObject *, JsonObject **),
      JsonObject  *request,
      JsonObject **reply)
{
  g_clear_pointer (reply, json_object_unref);
  return endpoint (f->service, request, reply);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *db = NULL;
  g_autofree char *key_text = NULL;

  f->dir = g_dir_make_tmp ("test-partner-service-XXXXXX", &error);
  g_assert_no_error (error);
  db = g_build_filename (f->dir, "partner.sqlite", NULL);
  f->config = partner_config_new ();
  f->store = partner_store_new (db, &error);
  g_assert_no_error (error);
  f->service = partner_service_new (f->config, f->store);

  f->owner_key = lk_key_pair_generate (&error);
  g_assert_no_error (error);
  key_text = lk_base64_encode_bytes (lk_key_pair_get_public (f->owner_key));
  json_object_set_string_member (request, "vertical", "home");
  json_object_set_string_member (request, "publicKey", key_text);
  g_assert_cmpuint (call (f, partner_service_enrol, request, &reply), ==, 201);
  f->owner_id = g_strdup (json_object_get_string_member (reply, "credentialId"));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  g_clear_object (&f->service);
  partner_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_pointer (&f->config, partner_config_free);
  g_clear_object (&f->owner_key);
  g_free (f->owner_id);

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_remove (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static char *
challenge (Fixture *f)
{
  g_autoptr(JsonObject) reply = NULL;
  HttpdKey key;

  client ("test", &key);
  g_assert_cmpuint (partner_service_new_challenge (f->service, &key, &reply), ==, 200);
  return g_strdup (json_object_get_string_member (reply, "challenge"));
}

static char *
sign (Fixture *f,
      GBytes  *statement)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = lk_key_pair_sign (f->owner_key, statement, &error);

  g_assert_no_error (error);
  return lk_base64_encode_bytes (signature);
}

/* The owner asks for a token (with @code, if set); returns it. */
static char *
issue (Fixture    *f,
       const char *code)
{
  const char * const entitlements[] = { "open", NULL };
  g_autofree char *nonce = challenge (f);
  g_autofree char *verifier = code != NULL ? lk_signing_code_verifier (nonce, code) : NULL;
  g_autoptr(GBytes) statement = lk_signing_token_request (f->owner_id, nonce, entitlements, NULL, NULL, verifier);
  g_autofree char *signature = sign (f, statement);
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) replayed = NULL;

  json_object_set_string_member (request, "credentialId", f->owner_id);
  json_object_set_string_member (request, "challenge", nonce);
  json_object_set_string_member (request, "signature", signature);
  json_object_set_array_member (request, "entitlements", lk_json_array_new_strv (entitlements));
  if (code != NULL)
    json_object_set_string_member (request, "activationCode", code);
  g_assert_cmpuint (call (f, partner_service_issue_token, request, &reply), ==, 201);
  g_assert_cmpuint (strlen (json_object_get_string_member (reply, "token")), ==, 43);

  /* A challenge answers one request only. */
  g_assert_cmpuint (call (f, partner_service_issue_token, request, &replayed), ==, 403);
  g_assert_cmpstr (json_object_get_string_member (replayed, "error"), ==, "bad_challenge");
  return g_strdup (json_object_get_string_member (reply, "token"));
}

static guint
redeem (Fixture     *f,
        const char  *token,
        const char  *code,
        JsonObject **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkKeyPair) key = lk_key_pair_generate (&error);
  g_autofree char *key_text = lk_base64_encode_bytes (lk_key_pair_get_public (key));
  g_autoptr(JsonObject) request = json_object_new ();

  json_object_set_string_member (request, "token", token);
  json_object_set_string_member (request, "publicKey", key_text);
  if (code != NULL)
    json_object_set_string_member (request, "activationCode", code);
  return call (f, partner_service_redeem, request, reply);
}

static const char *
error_of (JsonObject *reply)
{
  return json_object_get_string_member (reply, "error");
}

/* Redeemed once, by the right code; three wrong ones burn it. */
static void
test_token_codes (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *token = issue (f, "123456");
  g_autofree char *burnt = issue (f, "123456");
  g_autoptr(JsonObject) reply = NULL;

  g_assert_cmpuint (redeem (f, token, NULL, &reply), ==, 403);
  g_assert_cmpstr (error_of (reply), ==, "wrong_code");
  g_assert_cmpint (json_object_get_int_member (reply, "attemptsLeft"), ==, 2);
  g_assert_cmpuint (redeem (f, token, "654321", &reply), ==, 403);
  g_assert_cmpint (json_object_get_int_member (reply, "attemptsLeft"), ==, 1);
  g_assert_cmpuint (redeem (f, token, "123456", &reply), ==, 201);
  g_assert_true (g_uuid_string_is_valid (json_object_get_string_member (reply, "credentialId")));
  g_assert_cmpstr (json_object_get_string_member (reply, "role"), ==, "shared");
  g_assert_cmpuint (redeem (f, token, "123456", &reply), ==, 410);
  g_assert_cmpstr (error_of (reply), ==, "token_used");

  for (guint i = 0; i < 2; i++)
    g_assert_cmpuint (redeem (f, burnt, "000000", &reply), ==, 403);
  g_assert_cmpuint (redeem (f, burnt, "000000", &reply), ==, 410);
  g_assert_cmpstr (error_of (reply), ==, "too_many_attempts");
  g_assert_cmpuint (redeem (f, burnt, "123456", &reply), ==, 410);
  g_assert_cmpstr (error_of (reply), ==, "too_many_attempts");
}

/* A token nobody issued, and one its sharer revoked. */
static void
test_token_gone (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *token = issue (f, NULL);
  g_autofree char *nonce = challenge (f);
  g_autofree char *target = g_strconcat ("token:", token, NULL);
  g_autoptr(GBytes) statement = lk_signing_revocation (f->owner_id, target, nonce);
  g_autofree char *signature = sign (f, statement);
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonObject) reply = NULL;

  g_assert_cmpuint (redeem (f, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, &reply), ==, 404);
  g_assert_cmpstr (error_of (reply), ==, "token_unknown");

  json_object_set_string_member (request, "credentialId", f->owner_id);
  json_object_set_string_member (request, "challenge", nonce);
  json_object_set_string_member (request, "signature", signature);
  json_object_set_string_member (request, "target", target);
  g_assert_cmpuint (call (f, partner_service_revoke, request, &reply), ==, 200);
  g_assert_cmpuint (redeem (f, token, NULL, &reply), ==, 410);
  g_assert_cmpstr (error_of (reply), ==, "token_revoked");
}

/* Stored by name, read back by name. */
static void
test_token_states (void)
{
  const PartnerTokenState states[] = {
    PARTNER_TOKEN_ISSUED, PARTNER_TOKEN_REDEEMED, PARTNER_TOKEN_REVOKED, PARTNER_TOKEN_EXHAUSTED,
  };
  PartnerTokenState state;

  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    {
      g_assert_true (partner_token_state_from_string (partner_token_state_to_string (states[i]), &state));
      g_assert_cmpint (state, ==, states[i]);
    }
  g_assert_false (partner_token_state_from_string ("spent", &state));
  g_assert_false (partner_token_state_from_string (NULL, &state));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/partner/challenges/single-use", test_challenges_single_use);
  g_test_add_func ("/partner/challenges/limits", test_challenges_limits);
  g_test_add ("/partner/tokens/codes", Fixture, NULL, fixture_set_up, test_token_codes, fixture_tear_down);
  g_test_add ("/partner/tokens/gone", Fixture, NULL, fixture_set_up, test_token_gone, fixture_tear_down);
  g_test_add_func ("/partner/tokens/states", test_token_states);

  return g_test_run ();
}
