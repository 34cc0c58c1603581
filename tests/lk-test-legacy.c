/* lk-test-legacy.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The rows are written with SQLite while the partner is stopped, as the
 * previous partner wrote them; the partner is then started again.
 */

#define G_LOG_DOMAIN "lk-test-legacy"

#include "config.h"

#include <string.h>

#include <sqlite3.h>

#include "latchkey-core.h"
#include "lk-test-legacy.h"

/**
 * lk_test_legacy_pass_add:
 *
 * Stops @partner, adds a keyless generic owner credential with a bearer
 * token to its database, and starts it again.
 */
LkTestLegacyPass *
lk_test_legacy_pass_add (LkTestServer *partner)
{
  g_autofree char *db_path = g_build_filename (partner->data_dir, "db", "partner.sqlite", NULL);
  LkTestLegacyPass *pass = g_new0 (LkTestLegacyPass, 1);
  guint8 token_bytes[32];
  guint8 hash[LK_SHA256_LENGTH];
  sqlite3_stmt *stmt = NULL;
  sqlite3 *db = NULL;
  char *message = NULL;
  char *sql;
  int status;

  g_assert_true (lk_crypto_random (token_bytes, sizeof token_bytes, NULL));
  pass->access_token = lk_base64url_encode (token_bytes, sizeof token_bytes);
  pass->credential_id = lk_uuid_new_random ();
  pass->access_point_id = lk_uuid_new_random ();
  lk_crypto_sha256 (pass->access_token, strlen (pass->access_token), hash);

  g_assert_cmpint (lk_test_server_terminate (partner), ==, 0);

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  sql = sqlite3_mprintf ("INSERT INTO access_point (id, vertical, title, owner_id, created) "
                         "VALUES ('%q', 'generic', 'Old Pass', '%q', 1700000000);"
                         "INSERT INTO credential (id, access_point_id, vertical, role, title, entitlements, created) "
                         "VALUES ('%q', '%q', 'generic', 'owner', 'Old Pass', 'open', 1700000000);",
                         pass->access_point_id, pass->credential_id, pass->credential_id, pass->access_point_id);
  status = sqlite3_exec (db, sql, NULL, NULL, &message);
  sqlite3_free (sql);
  sqlite3_free (message);
  g_assert_cmpint (status, ==, SQLITE_OK);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO access_token (hash, credential_id, created) "
                                           "VALUES (?, ?, 1700000000)", -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_blob (stmt, 1, hash, sizeof hash, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, pass->credential_id, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);

  lk_test_server_start (partner);
  return pass;
}

void
lk_test_legacy_pass_free (LkTestLegacyPass *pass)
{
  if (pass == NULL)
    return;
  g_free (pass->credential_id);
  g_free (pass->access_point_id);
  g_free (pass->access_token);
  g_free (pass);
}
