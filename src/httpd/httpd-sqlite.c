/* httpd-sqlite.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "httpd-sqlite"

#include "config.h"

#include "httpd-sqlite.h"

/**
 * httpd_sqlite_open:
 * @flags: sqlite3_open_v2()'s
 * @setup: (nullable): SQL run first, such as pragmas
 *
 * Opens @path with extended result codes and a wait for locks.
 *
 * Returns: (nullable): the connection, or %NULL with @error set
 */
sqlite3 *
httpd_sqlite_open (const char  *path,
                   int          flags,
                   const char  *setup,
                   GError     **error)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db, flags, NULL);

  if (!httpd_sqlite_check (db, rc, "Could not open the database", error))
    {
      sqlite3_close (db);
      return NULL;
    }

  sqlite3_busy_timeout (db, HTTPD_SQLITE_BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (db, 1);

  if (setup != NULL)
    {
      rc = sqlite3_exec (db, setup, NULL, NULL, NULL);
      if (!httpd_sqlite_check (db, rc, "Could not set up the database", error))
        {
          sqlite3_close (db);
          return NULL;
        }
    }

  return db;
}

/**
 * httpd_sqlite_check:
 * @what: the step, for the message
 *
 * Returns: whether @rc is a success; if not, @error says which step failed
 *   and SQLite's reason, never data (G_IO_ERROR_NO_SPACE for a full disk)
 */
gboolean
httpd_sqlite_check (sqlite3     *db,
                    int          rc,
                    const char  *what,
                    GError     **error)
{
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
    return TRUE;

  g_set_error (error, G_IO_ERROR, (rc & 0xff) == SQLITE_FULL ? G_IO_ERROR_NO_SPACE : G_IO_ERROR_FAILED,
               "%s: %s", what, sqlite3_errmsg (db));
  return FALSE;
}

/* A NULL for %NULL; the text must outlive the statement's step. */
void
httpd_sqlite_bind_text (sqlite3_stmt *stmt,
                        int           index,
                        const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

char *
httpd_sqlite_column_text (sqlite3_stmt *stmt,
                          int           column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}
