/* lk-store-db.h: the wallet's items, sealed, in a local SQLite file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "lk-store.h"

G_BEGIN_DECLS

/* The wallet key: AES-256-GCM. */
#define LK_STORE_DB_KEY_LENGTH 32

typedef struct _LkStoreDb LkStoreDb;

char      *lk_store_db_default_path   (void);
LkStoreDb *lk_store_db_open           (const char   *path,
                                       GError      **error);
void       lk_store_db_close          (LkStoreDb    *db);
gboolean   lk_store_db_begin          (LkStoreDb    *db,
                                       GError      **error);
gboolean   lk_store_db_commit         (LkStoreDb    *db,
                                       GError      **error);
gboolean   lk_store_db_has_key        (LkStoreDb    *db);
gboolean   lk_store_db_set_key        (LkStoreDb    *db,
                                       GBytes       *key,
                                       GError      **error);
gboolean   lk_store_db_put            (LkStoreDb    *db,
                                       LkStoreKind   kind,
                                       const char   *id,
                                       const char   *json,
                                       gboolean      replace,
                                       GError      **error);
char      *lk_store_db_get            (LkStoreDb    *db,
                                       LkStoreKind   kind,
                                       const char   *id,
                                       GError      **error);
GPtrArray *lk_store_db_get_all        (LkStoreDb    *db,
                                       LkStoreKind   kind,
                                       GError      **error);
gboolean   lk_store_db_import         (LkStoreDb    *db,
                                       LkStoreKind   kind,
                                       const char   *id,
                                       const char   *json,
                                       GError      **error);
gboolean   lk_store_db_remove         (LkStoreDb    *db,
                                       LkStoreKind   kind,
                                       const char   *id,
                                       GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkStoreDb, lk_store_db_close)

G_END_DECLS
