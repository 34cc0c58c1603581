/* relay-store-sqlite.h: the embedded store, SQLite in WAL mode
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "relay-store.h"

G_BEGIN_DECLS

#define RELAY_TYPE_STORE_SQLITE (relay_store_sqlite_get_type ())

G_DECLARE_FINAL_TYPE (RelayStoreSqlite, relay_store_sqlite, RELAY, STORE_SQLITE, GObject)

RelayStoreSqlite *relay_store_sqlite_new        (const char              *path,
                                                 const RelayStoreLimits  *limits,
                                                 GError                 **error);
void              relay_store_sqlite_close      (RelayStoreSqlite  *self);
gsize             relay_store_sqlite_get_commits (RelayStoreSqlite *self);
gsize             relay_store_sqlite_get_ops     (RelayStoreSqlite *self);
guint64           relay_store_sqlite_get_checkpoints (RelayStoreSqlite *self);
guint             relay_store_sqlite_get_wal_frames_max (RelayStoreSqlite *self);
void              relay_store_sqlite_set_ids_flush_min (RelayStoreSqlite *self,
                                                        guint             min);
guint             relay_store_sqlite_get_ids_in_memory (RelayStoreSqlite *self);
guint64           relay_store_sqlite_keys_memory       (guint64           max_mailboxes);

G_END_DECLS
