/* test-credential.c: key pairs and the credential model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-credential"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"

static void
test_key_pair (void)
{
  g_autoptr(LkKeyPair) pair = NULL;
  g_autoptr(LkKeyPair) restored = NULL;
  g_autoptr(LkKeyPair) public_only = NULL;
  g_autoptr(LkKeyPair) other = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("challenge", 9);
  g_autoptr(GBytes) altered = g_bytes_new_static ("challengE", 9);
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GBytes) private_der = NULL;
  g_autoptr(GBytes) none = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;

  pair = lk_key_pair_generate (&error);
  g_assert_no_error (error);
  g_assert_true (lk_key_pair_has_private (pair));
  /* A P-256 SubjectPublicKeyInfo is 91 bytes of DER. */
  g_assert_cmpuint (g_bytes_get_size (lk_key_pair_get_public (pair)), ==, 91);

  signature = lk_key_pair_sign (pair, message, &error);
  g_assert_no_error (error);
  g_assert_true (lk_key_pair_verify (pair, message, signature, &error));
  g_assert_no_error (error);
  g_assert_false (lk_key_pair_verify (pair, altered, signature, &error));
  g_assert_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);

  private_der = lk_key_pair_export_private (pair, &error);
  g_assert_no_error (error);
  restored = lk_key_pair_new_from_private (private_der, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (lk_key_pair_get_public (restored), lk_key_pair_get_public (pair)));

  public_only = lk_key_pair_new_from_public (lk_key_pair_get_public (pair), &error);
  g_assert_no_error (error);
  g_assert_false (lk_key_pair_has_private (public_only));
  g_assert_true (lk_key_pair_verify (public_only, message, signature, &error));
  none = lk_key_pair_sign (public_only, message, &error);
  g_assert_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_NO_PRIVATE_KEY);
  g_clear_error (&error);
  none = lk_key_pair_export_private (public_only, &error);
  g_assert_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_NO_PRIVATE_KEY);
  g_clear_error (&error);

  other = lk_key_pair_generate (NULL);
  g_assert_false (lk_key_pair_verify (other, message, signature, &error));
  g_assert_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);

  fingerprint = lk_key_pair_get_fingerprint (pair);
  g_assert_cmpuint (strlen (fingerprint), ==, 43);
}

static void
test_key_pair_rejects (void)
{
  g_autoptr(GBytes) junk = g_bytes_new_static ("\x30\x03\x02\x01\x00", 5);
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr(LkKeyPair) pair = NULL;
  g_autoptr(GError) error = NULL;

  pair = lk_key_pair_new_from_private (junk, &error);
  g_assert_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_INVALID_KEY);
  g_clear_error (&error);
  pair = lk_key_pair_new_from_public (junk, &error);
  g_assert_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_INVALID_KEY);
  g_clear_error (&error);
  pair = lk_key_pair_new_from_public (empty, &error);
  g_assert_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_INVALID_KEY);
  g_assert_null (pair);
}

static LkCredential *
make_car_key (void)
{
  LkCredential *credential = lk_credential_new (LK_VERTICAL_CAR, "Blue Hatchback", LK_CREDENTIAL_ROLE_SHARED);
  g_autoptr(LkKeyPair) pair = lk_key_pair_generate (NULL);
  g_autoptr(GDateTime) from = g_date_time_new_utc (2026, 11, 27, 9, 0, 0);
  g_autoptr(GDateTime) until = g_date_time_new_utc (2026, 11, 29, 18, 30, 0);
  const char *entitlements[] = { "open", "start", "drive", NULL };

  lk_credential_set_description (credential, "Parked on level 2");
  lk_credential_set_issuer (credential, "Example Motors");
  lk_credential_set_shared_by (credential, "Ben");
  lk_credential_set_entitlements (credential, entitlements);
  g_assert_true (lk_credential_set_validity (credential, from, until, NULL));
  lk_credential_set_key_pair (credential, pair);

  return credential;
}

static void
assert_same (LkCredential *a,
             LkCredential *b)
{
  g_assert_cmpstr (lk_credential_get_id (a), ==, lk_credential_get_id (b));
  g_assert_cmpint (lk_credential_get_vertical (a), ==, lk_credential_get_vertical (b));
  g_assert_cmpint (lk_credential_get_role (a), ==, lk_credential_get_role (b));
  g_assert_cmpstr (lk_credential_get_title (a), ==, lk_credential_get_title (b));
  g_assert_cmpstr (lk_credential_get_description (a), ==, lk_credential_get_description (b));
  g_assert_cmpstr (lk_credential_get_issuer (a), ==, lk_credential_get_issuer (b));
  g_assert_cmpstr (lk_credential_get_shared_by (a), ==, lk_credential_get_shared_by (b));
  g_assert_true (g_date_time_equal (lk_credential_get_valid_from (a), lk_credential_get_valid_from (b)));
  g_assert_true (g_date_time_equal (lk_credential_get_valid_until (a), lk_credential_get_valid_until (b)));
  g_assert_true (g_strv_equal (lk_credential_get_entitlements (a), lk_credential_get_entitlements (b)));
  g_assert_true (g_bytes_equal (lk_key_pair_get_public (lk_credential_get_key_pair (a)),
                                lk_key_pair_get_public (lk_credential_get_key_pair (b))));
}

static void
test_credential_round_trip (void)
{
  g_autoptr(LkCredential) credential = make_car_key ();
  g_autoptr(LkCredential) public_copy = NULL;
  g_autoptr(LkCredential) private_copy = NULL;
  g_autoptr(LkSecureString) private_json = NULL;
  g_autofree char *public_json = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_uuid_string_is_valid (lk_credential_get_id (credential)));

  public_json = lk_credential_to_json (credential, LK_CREDENTIAL_JSON_PUBLIC, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (public_json, "privateKey"));
  public_copy = lk_credential_new_from_json (public_json, strlen (public_json), &error);
  g_assert_no_error (error);
  assert_same (credential, public_copy);
  g_assert_false (lk_key_pair_has_private (lk_credential_get_key_pair (public_copy)));

  private_json = lk_credential_to_json (credential, LK_CREDENTIAL_JSON_PRIVATE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (private_json, "privateKey"));
  private_copy = lk_credential_new_from_json (private_json, strlen (private_json), &error);
  g_assert_no_error (error);
  assert_same (credential, private_copy);
  g_assert_true (lk_key_pair_has_private (lk_credential_get_key_pair (private_copy)));
}

static void
test_credential_validity (void)
{
  g_autoptr(LkCredential) credential = make_car_key ();
  g_autoptr(GDateTime) before = g_date_time_new_utc (2026, 11, 27, 8, 59, 59);
  g_autoptr(GDateTime) during = g_date_time_new_utc (2026, 11, 28, 12, 0, 0);
  g_autoptr(GDateTime) after = g_date_time_new_utc (2026, 11, 29, 18, 30, 0);
  g_autoptr(GError) error = NULL;

  g_assert_false (lk_credential_is_valid_at (credential, before));
  g_assert_true (lk_credential_is_valid_at (credential, during));
  g_assert_false (lk_credential_is_valid_at (credential, after));

  g_assert_false (lk_credential_set_validity (credential, after, before, &error));
  g_assert_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID);
  /* The old window stays. */
  g_assert_true (lk_credential_is_valid_at (credential, during));
}

static void
test_credential_rejects (void)
{
  g_autoptr(LkCredential) a = make_car_key ();
  g_autoptr(LkCredential) b = make_car_key ();
  g_autoptr(LkSecureString) a_json = lk_credential_to_json (a, LK_CREDENTIAL_JSON_PRIVATE, NULL);
  g_autoptr(LkSecureString) b_json = lk_credential_to_json (b, LK_CREDENTIAL_JSON_PRIVATE, NULL);
  g_autoptr(JsonObject) a_obj = lk_json_parse_object (a_json, strlen (a_json), G_MAXSIZE, 0, 0, NULL);
  g_autoptr(JsonObject) b_obj = lk_json_parse_object (b_json, strlen (b_json), G_MAXSIZE, 0, 0, NULL);
  g_autofree char *mismatched = NULL;
  g_autofree char *too_many = NULL;
  g_autoptr(GString) entitlements = g_string_new ("[");
  static const char * const bad[] = {
    "",
    "[]",
    "{\"version\":2,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\",\"role\":\"owner\",\"title\":\"t\"}",
    "{\"version\":1,\"id\":\"nope\",\"vertical\":\"car\",\"role\":\"owner\",\"title\":\"t\"}",
    "{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"boat\",\"role\":\"owner\",\"title\":\"t\"}",
    "{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\",\"role\":\"thief\",\"title\":\"t\"}",
    "{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\",\"role\":\"owner\"}",
    "{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\",\"role\":\"owner\",\"title\":5}",
    "{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\",\"role\":\"owner\",\"title\":\"t\","
      "\"validFrom\":\"2026-12-01T00:00:00Z\",\"validUntil\":\"2026-11-01T00:00:00Z\"}",
    "{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\",\"role\":\"owner\",\"title\":\"t\","
      "\"validFrom\":\"yesterday\"}",
    "{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\",\"role\":\"owner\",\"title\":\"t\","
      "\"entitlements\":[1]}",
    "{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\",\"role\":\"owner\",\"title\":\"t\","
      "\"publicKey\":\"AAAA\"}",
    "{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\",\"role\":\"owner\",\"title\":\"t\","
      "\"privateKey\":\"!!\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(LkCredential) credential = NULL;
      g_autoptr(GError) error = NULL;

      credential = lk_credential_new_from_json (bad[i], strlen (bad[i]), &error);
      g_assert_nonnull (error);
      g_assert_true (error->domain == LK_CREDENTIAL_ERROR || error->domain == LK_CRYPTO_ERROR);
      g_assert_null (credential);
    }

  /* a's private key under b's public key */
  json_object_set_string_member (a_obj, "publicKey", json_object_get_string_member (b_obj, "publicKey"));
  {
    g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), a_obj);

    mismatched = lk_json_to_string (node);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(LkCredential) credential = lk_credential_new_from_json (mismatched, strlen (mismatched), &error);

    g_assert_null (credential);
    g_assert_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID);
  }

  for (guint i = 0; i <= LK_CREDENTIAL_MAX_ENTITLEMENTS; i++)
    g_string_append_printf (entitlements, "%s\"e%u\"", i ? "," : "", i);
  g_string_append (entitlements, "]");
  too_many = g_strdup_printf ("{\"version\":1,\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"vertical\":\"car\","
                              "\"role\":\"owner\",\"title\":\"t\",\"entitlements\":%s}", entitlements->str);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(LkCredential) credential = lk_credential_new_from_json (too_many, strlen (too_many), &error);

    g_assert_null (credential);
    g_assert_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID);
  }
}

static void
test_credential_bounds (void)
{
  g_autoptr(LkCredential) credential = lk_credential_new (LK_VERTICAL_HOME, "Room 404", LK_CREDENTIAL_ROLE_OWNER);
  g_autofree char *long_title = g_strnfill (LK_CREDENTIAL_MAX_TITLE + 50, 'x');

  /* Setters keep values valid and bounded instead of failing. */
  lk_credential_set_title (credential, long_title);
  g_assert_cmpuint (strlen (lk_credential_get_title (credential)), ==, LK_CREDENTIAL_MAX_TITLE);
  lk_credential_set_title (credential, "Caf\xc3\xa9 \xff");
  g_assert_true (g_utf8_validate (lk_credential_get_title (credential), -1, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/key-pair/sign-verify-export", test_key_pair);
  g_test_add_func ("/key-pair/rejects", test_key_pair_rejects);
  g_test_add_func ("/credential/round-trip", test_credential_round_trip);
  g_test_add_func ("/credential/validity", test_credential_validity);
  g_test_add_func ("/credential/rejects", test_credential_rejects);
  g_test_add_func ("/credential/bounds", test_credential_bounds);

  return g_test_run ();
}
