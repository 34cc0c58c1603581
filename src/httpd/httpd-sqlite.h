/* httpd-sqlite.h: what both servers do with SQLite besides their queries
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* How long a connection waits for another's lock before it fails. */
#define HTTPD_SQLITE_BUSY_TIMEOUT_MS 5000

sqlite3  *httpd_sqlite_open         (const char    *path,
                                     int            flags,
                                     const char    *setup,
                                     GError       **error);
gboolean  httpd_sqlite_check        (sqlite3       *db,
                                     int            rc,
                                     const char    *what,
                                     GError       **error);
void      httpd_sqlite_bind_text    (sqlite3_stmt  *stmt,
                                     int            index,
                                     const char    *text);
char     *httpd_sqlite_column_text  (sqlite3_stmt  *stmt,
                                     int            column);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

G_END_DECLS
