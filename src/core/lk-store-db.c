/* lk-store-db.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where the wallet's items live: one row per credential or transfer, its
 * JSON sealed with AES-256-GCM under the wallet key (which lives in the
 * system keyring, see lk-store.c). The keyring daemon rewrites and
 * re-encrypts its whole file on every write, so a keyring item per key
 * made every step of every share cost time in proportion to the wallet;
 * here a write is one row. What is sealed starts with the item's kind and
 * id, so that a row copied under another id does not open. The file
 * holds the key's fingerprint (a hash, not the key), so that a wrong or
 * lost key is told apart from damaged rows.
 *
 * Synchronous: lk-store.c calls it from a worker thread. A connection per
 * operation, WAL and a busy timeout: the app and latchkey-cli may use the
 * same file at once.
 */

#define G_LOG_DOMAIN "lk-store-db"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <sqlite3.h>

#include "lk-crypto.h"
#include "lk-store-db.h"

/* Bounds for what the file may hand back: an item is a few KiB. */
#define MAX_SEALED_BYTES (1024 * 1024)
#define BUSY_TIMEOUT_MS  5000

struct _LkStoreDb
{
  sqlite3 *sqlite;
  GBytes  *key;
  char    *fingerprint;   /* the file's: hex of the key's SHA-256, or NULL */
};

static const char * const kind_names[] = { "credential", "transfer" };

static const char schema_sql[] =
  "PRAGMA journal_mode = WAL;"
  "PRAGMA synchronous = NORMAL;"
  "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS item ("
  "  kind INTEGER NOT NULL,"
  "  id TEXT NOT NULL,"
  "  sealed BLOB NOT NULL,"
  "  UNIQUE (kind, id));"
  /* Items moved in from an older Latchkey's keyring: never again, even if
   * the keyring still holds them (deleting there is slow, see lk-store.c). */
  "CREATE TABLE IF NOT EXISTS imported (kind INTEGER NOT NULL, id TEXT NOT NULL, UNIQUE (kind, id));";

static gboolean
check (LkStoreDb   *db,
       int          rc,
       const char  *what,
       GError     **error)
{
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
    return TRUE;
  g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED, _("The wallet file failed (%s): %s"), what,
               sqlite3_errmsg (db->sqlite));
  return FALSE;
}

/**
 * lk_store_db_default_path:
 *
 * Returns: $XDG_DATA_HOME/latchkey/wallet.db
 */
char *
lk_store_db_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "latchkey", "wallet.db", NULL);
}

static char *
fingerprint_of (GBytes *key)
{
  guint8 digest[LK_SHA256_LENGTH];
  gsize len;
  const guint8 *data = g_bytes_get_data (key, &len);

  lk_crypto_sha256 (data, len, digest);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, digest, sizeof digest);
}

static char *
read_fingerprint (LkStoreDb  *db,
                  GError    **error)
{
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;
  int rc = sqlite3_prepare_v2 (db->sqlite, "SELECT value FROM meta WHERE name = 'key'", -1, &stmt, NULL);

  if (!check (db, rc, "read", error))
    return NULL;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  else
    check (db, rc, "read", error);
  sqlite3_finalize (stmt);
  return value;
}

/**
 * lk_store_db_open:
 *
 * Opens the file at @path, creating it (and its directory) readable by the
 * user only.
 */
LkStoreDb *
lk_store_db_open (const char  *path,
                  GError     **error)
{
  g_autoptr(LkStoreDb) db = g_new0 (LkStoreDb, 1);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) local_error = NULL;
  int rc;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED, _("Could not create %s: %s"), dir,
                   g_strerror (saved));
      return NULL;
    }

  rc = sqlite3_open_v2 (path, &db->sqlite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (!check (db, rc, "open", error))
    return NULL;
  /* Before the first write creates the journal, which takes its mode. */
  g_chmod (path, 0600);
  sqlite3_busy_timeout (db->sqlite, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (db->sqlite, 1);
  rc = sqlite3_exec (db->sqlite, schema_sql, NULL, NULL, NULL);
  if (!check (db, rc, "set up", error))
    return NULL;

  db->fingerprint = read_fingerprint (db, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_steal_pointer (&db);
}

void
lk_store_db_close (LkStoreDb *db)
{
  if (db == NULL)
    return;
  sqlite3_close (db->sqlite);
  g_clear_pointer (&db->key, g_bytes_unref);
  g_free (db->fingerprint);
  g_free (db);
}

/* A write lock at once: for creating the wallet key exactly once when
 * several processes start together. */
gboolean
lk_store_db_begin (LkStoreDb  *db,
                   GError    **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!check (db, sqlite3_exec (db->sqlite, "BEGIN IMMEDIATE", NULL, NULL, NULL), "lock", error))
    return FALSE;
  /* Another process may have set the key while we waited. */
  g_clear_pointer (&db->fingerprint, g_free);
  db->fingerprint = read_fingerprint (db, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

gboolean
lk_store_db_commit (LkStoreDb  *db,
                    GError    **error)
{
  return check (db, sqlite3_exec (db->sqlite, "COMMIT", NULL, NULL, NULL), "commit", error);
}

/* Whether the file was ever given a key (then only that key opens it). */
gboolean
lk_store_db_has_key (LkStoreDb *db)
{
  return db->fingerprint != NULL;
}

/**
 * lk_store_db_set_key:
 *
 * Uses @key from now on; a file without a key takes its fingerprint.
 *
 * Returns: %FALSE if the file belongs to another key
 */
gboolean
lk_store_db_set_key (LkStoreDb  *db,
                     GBytes     *key,
                     GError    **error)
{
  g_autofree char *fingerprint = NULL;

  if (g_bytes_get_size (key) != LK_STORE_DB_KEY_LENGTH)
    {
      g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED, _("The wallet key in the keyring is damaged"));
      return FALSE;
    }

  fingerprint = fingerprint_of (key);
  if (db->fingerprint == NULL)
    {
      g_autoptr(GError) local_error = NULL;
      sqlite3_stmt *stmt = NULL;
      /* OR IGNORE: another process may be setting it too; then both read
       * back the one that won. */
      int rc = sqlite3_prepare_v2 (db->sqlite, "INSERT OR IGNORE INTO meta (name, value) VALUES ('key', ?1)", -1,
                                   &stmt, NULL);

      if (!check (db, rc, "write", error))
        return FALSE;
      sqlite3_bind_text (stmt, 1, fingerprint, -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      if (!check (db, rc, "write", error))
        return FALSE;
      db->fingerprint = read_fingerprint (db, &local_error);
      if (db->fingerprint == NULL)
        {
          if (local_error != NULL)
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED, _("The wallet file is damaged"));
          return FALSE;
        }
    }
  if (strcmp (fingerprint, db->fingerprint) != 0)
    {
      /* Not secret: a hash of a hash of the key. */
      g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED,
                   _("The wallet file %s does not belong to the wallet key in this keyring"),
                   sqlite3_db_filename (db->sqlite, "main"));
      return FALSE;
    }

  g_clear_pointer (&db->key, g_bytes_unref);
  db->key = g_bytes_ref (key);
  return TRUE;
}

/* What is sealed: "kind\nid\n" and the JSON. */
static char *
header_for (LkStoreKind  kind,
            const char  *id)
{
  return g_strdup_printf ("%s\n%s\n", kind_names[kind], id);
}

gboolean
lk_store_db_put (LkStoreDb    *db,
                 LkStoreKind   kind,
                 const char   *id,
                 const char   *json,
                 gboolean      replace,
                 GError      **error)
{
  g_autofree char *header = header_for (kind, id);
  gsize header_len = strlen (header), json_len = strlen (json);
  gsize plain_len = header_len + json_len;
  g_autoptr(GBytes) sealed = NULL;
  sqlite3_stmt *stmt = NULL;
  char *plain;
  int rc;

  g_return_val_if_fail (db->key != NULL, FALSE);

  plain = g_malloc (plain_len);
  memcpy (plain, header, header_len);
  memcpy (plain + header_len, json, json_len);
  sealed = lk_aead_seal (db->key, NULL, plain, plain_len, error);
  gnutls_memset (plain, 0, plain_len);
  g_free (plain);
  if (sealed == NULL)
    return FALSE;

  rc = sqlite3_prepare_v2 (db->sqlite,
                           replace ? "INSERT INTO item (kind, id, sealed) VALUES (?1, ?2, ?3) "
                                     "ON CONFLICT (kind, id) DO UPDATE SET sealed = excluded.sealed"
                                   : "INSERT OR IGNORE INTO item (kind, id, sealed) VALUES (?1, ?2, ?3)",
                           -1, &stmt, NULL);
  if (!check (db, rc, "write", error))
    return FALSE;
  sqlite3_bind_int (stmt, 1, kind);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 3, g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return check (db, rc, "write", error);
}

/* Opens a row; NULL (with a warning) for one that does not. */
static char *
unseal (LkStoreDb     *db,
        LkStoreKind    kind,
        const char    *id,
        sqlite3_stmt  *stmt,
        int            column,
        GError       **error)
{
  const void *data = sqlite3_column_blob (stmt, column);
  int len = sqlite3_column_bytes (stmt, column);
  g_autofree char *header = header_for (kind, id);
  gsize header_len = strlen (header);
  g_autoptr(GBytes) plain = NULL;
  const char *text;
  gsize text_len;

  if (data == NULL || len <= 0 || len > MAX_SEALED_BYTES)
    {
      g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED, _("A wallet item is damaged"));
      return NULL;
    }
  plain = lk_aead_open (db->key, data, len, error);
  if (plain == NULL)
    return NULL;
  text = g_bytes_get_data (plain, &text_len);
  if (text_len < header_len || memcmp (text, header, header_len) != 0 ||
      memchr (text + header_len, '\0', text_len - header_len) != NULL)
    {
      g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED, _("A wallet item is not where it belongs"));
      return NULL;
    }
  return g_strndup (text + header_len, text_len - header_len);
}

/**
 * lk_store_db_get:
 *
 * Returns: the item's JSON (wipe it when done: lk_secure_str_free())
 */
char *
lk_store_db_get (LkStoreDb    *db,
                 LkStoreKind   kind,
                 const char   *id,
                 GError      **error)
{
  sqlite3_stmt *stmt = NULL;
  char *json = NULL;
  int rc = sqlite3_prepare_v2 (db->sqlite, "SELECT sealed FROM item WHERE kind = ?1 AND id = ?2", -1, &stmt, NULL);

  g_return_val_if_fail (db->key != NULL, NULL);

  if (!check (db, rc, "read", error))
    return NULL;
  sqlite3_bind_int (stmt, 1, kind);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    json = unseal (db, kind, id, stmt, 0, error);
  else if (rc == SQLITE_DONE)
    g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_NOT_FOUND, _("The keyring holds no such item"));
  else
    check (db, rc, "read", error);
  sqlite3_finalize (stmt);
  return json;
}

/**
 * lk_store_db_get_all:
 *
 * Returns: (element-type utf8): every readable item of @kind, oldest first;
 *   wiped when the array is freed. A row that does not open is passed over
 *   with a warning: one damaged item must not hide the others.
 */
GPtrArray *
lk_store_db_get_all (LkStoreDb    *db,
                     LkStoreKind   kind,
                     GError      **error)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) lk_secure_str_free);
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db->sqlite, "SELECT id, sealed FROM item WHERE kind = ?1 ORDER BY rowid", -1,
                               &stmt, NULL);

  g_return_val_if_fail (db->key != NULL, NULL);

  if (!check (db, rc, "read", error))
    return NULL;
  sqlite3_bind_int (stmt, 1, kind);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *id = (const char *) sqlite3_column_text (stmt, 0);
      g_autoptr(GError) local_error = NULL;
      char *json = id != NULL ? unseal (db, kind, id, stmt, 1, &local_error) : NULL;

      if (json != NULL)
        g_ptr_array_add (all, json);
      else
        g_warning ("Skipping a damaged wallet item: %s", local_error ? local_error->message : "no id");
    }
  sqlite3_finalize (stmt);
  if (!check (db, rc, "read", error))
    return NULL;
  return g_steal_pointer (&all);
}

gboolean
lk_store_db_remove (LkStoreDb    *db,
                    LkStoreKind   kind,
                    const char   *id,
                    GError      **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db->sqlite, "DELETE FROM item WHERE kind = ?1 AND id = ?2", -1, &stmt, NULL);

  if (!check (db, rc, "delete", error))
    return FALSE;
  sqlite3_bind_int (stmt, 1, kind);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (!check (db, rc, "delete", error))
    return FALSE;
  if (sqlite3_changes (db->sqlite) == 0)
    {
      g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_NOT_FOUND, _("The keyring holds no such item"));
      return FALSE;
    }
  return TRUE;
}

/**
 * lk_store_db_import:
 *
 * Takes in an item an older Latchkey kept in the keyring, unless it was
 * taken in before (and maybe deleted since): that must not bring it back.
 */
gboolean
lk_store_db_import (LkStoreDb    *db,
                    LkStoreKind   kind,
                    const char   *id,
                    const char   *json,
                    GError      **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db->sqlite, "INSERT OR IGNORE INTO imported (kind, id) VALUES (?1, ?2)", -1, &stmt,
                               NULL);

  if (!check (db, rc, "write", error))
    return FALSE;
  sqlite3_bind_int (stmt, 1, kind);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (!check (db, rc, "write", error))
    return FALSE;
  if (sqlite3_changes (db->sqlite) == 0)
    return TRUE;
  return lk_store_db_put (db, kind, id, json, FALSE, error);
}
