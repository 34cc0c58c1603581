/* test-signing.c: the exact bytes every signed statement is
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The wallet, the CLI and the partner sign and check these; a byte that
 * moved would make every signature fail, or worse, let one statement pass
 * for another. Each is spelt out here in full.
 */

#define G_LOG_DOMAIN "test-signing"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"

static void
assert_statement (GBytes     *statement,
                  const char *expected)
{
  gsize len;
  const char *data = g_bytes_get_data (statement, &len);

  g_assert_cmpmem (data, len, expected, strlen (expected));
}

static void
test_token_request (void)
{
  const char * const entitlements[] = { "open", "start", NULL };
  g_autoptr(GBytes) full = lk_signing_token_request ("c-1", "challenge", entitlements,
                                                     "2026-01-31T12:00:00Z", "2026-02-01T12:00:00Z", "verifier");
  g_autoptr(GBytes) open = lk_signing_token_request ("c-1", "challenge", NULL, NULL, NULL, NULL);

  assert_statement (full, "latchkey/v1/token-request\nc-1\nchallenge\nopen,start\n"
                          "2026-01-31T12:00:00Z\n2026-02-01T12:00:00Z\nverifier");
  /* Absent fields are empty lines, so no field can slide into another's place. */
  assert_statement (open, "latchkey/v1/token-request\nc-1\nchallenge\n\n\n\n");
}

/* Issue 13: the receivers' count is a seventh line, only above one. */
static void
test_token_request_receivers (void)
{
  g_autoptr(GBytes) one = lk_signing_token_request ("c-1", "challenge", NULL, NULL, NULL, NULL);
  g_autoptr(GBytes) one_for = lk_signing_token_request_for ("c-1", "challenge", NULL, NULL, NULL, NULL, 1);
  g_autoptr(GBytes) three = lk_signing_token_request_for ("c-1", "challenge", NULL, NULL, NULL, NULL, 3);
  g_autoptr(GBytes) four = lk_signing_token_request_for ("c-1", "challenge", NULL, NULL, NULL, NULL, 4);

  g_assert_true (g_bytes_equal (one, one_for));
  assert_statement (three, "latchkey/v1/token-request\nc-1\nchallenge\n\n\n\n\nreceivers=3");
  g_assert_false (g_bytes_equal (three, four));
}

static void
test_access (void)
{
  g_autoptr(GBytes) statement = lk_signing_access ("ap-1", "c-1", "open", "challenge");

  assert_statement (statement, "latchkey/v1/access\nap-1\nc-1\nopen\nchallenge");
}

static void
test_friend_key (void)
{
  const char * const entitlements[] = { "open", NULL };
  g_autoptr(GBytes) statement = lk_signing_friend_key ("ap-1", "MFkw", entitlements, NULL, "2026-02-01T12:00:00Z");
  g_autoptr(GBytes) other = lk_signing_friend_key ("ap-1", "MFkw", entitlements, "2026-02-01T12:00:00Z", NULL);

  assert_statement (statement, "latchkey/v1/friend-key\nap-1\nMFkw\nopen\n\n2026-02-01T12:00:00Z");
  /* The same time as the start or as the end is another statement. */
  g_assert_false (g_bytes_equal (statement, other));
}

static void
test_revocation_and_possession (void)
{
  g_autoptr(GBytes) revoke = lk_signing_revocation ("c-1", "token:abc", "challenge");
  g_autoptr(GBytes) possession = lk_signing_key_possession ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "MFkw");

  assert_statement (revoke, "latchkey/v1/revoke\nc-1\ntoken:abc\nchallenge");
  assert_statement (possession, "latchkey/v1/key-possession\n6ba7b810-9dad-11d1-80b4-00c04fd430c8\nMFkw");
}

/* HMAC-SHA256 keyed by the token, base64url: a known answer (Python's hmac). */
static void
test_code_verifier (void)
{
  g_autofree char *verifier = lk_signing_code_verifier ("token-123", "123456");
  g_autofree char *other = lk_signing_code_verifier ("token-124", "123456");

  g_assert_cmpstr (verifier, ==, "DecYFwZE0UdoMLwK8Vhg-S_L4CSkljSjsm26YYI4U_A");
  g_assert_cmpstr (other, !=, verifier);
}

/* A newline in a field, or a comma in a list entry, could forge the next
 * field or entry: no statement is made of one. */
static void
test_refuses_separators (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GBytes) statement = lk_signing_access ("ap-1", "c-1\nopen", "drive", "challenge");

      g_assert_nonnull (statement);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*strchr (field, '\\n') == NULL*");
}

static void
test_refuses_commas (void)
{
  if (g_test_subprocess ())
    {
      const char * const entitlements[] = { "open,drive", NULL };
      g_autoptr(GBytes) statement = lk_signing_friend_key ("ap-1", "MFkw", entitlements, NULL, NULL);

      g_assert_nonnull (statement);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*strchr (items[i], ',') == NULL*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signing/token-request", test_token_request);
  g_test_add_func ("/signing/token-request-receivers", test_token_request_receivers);
  g_test_add_func ("/signing/access", test_access);
  g_test_add_func ("/signing/friend-key", test_friend_key);
  g_test_add_func ("/signing/revocation-and-possession", test_revocation_and_possession);
  g_test_add_func ("/signing/code-verifier", test_code_verifier);
  g_test_add_func ("/signing/refuses-newlines", test_refuses_separators);
  g_test_add_func ("/signing/refuses-commas", test_refuses_commas);

  return g_test_run ();
}
