/* relay-sqlite-ids.h: the SQLite store's newest keys, in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Why it exists: mailbox ids are 122 random bits (PROTOCOL.md §6.2) and
 * claims are new for every mailbox, so an index on either sends every
 * create to a different leaf, and with fsynced commits and checkpoints
 * writing that leaf halved the store's creates. The store keeps the keys of
 * its newest mailboxes here instead (the id, and a create's retry key) and
 * moves them into its key table in bulk, in key order, once there are
 * many; each leaf of that table is then written about once a flush, not
 * once a create. Nothing here needs to survive a crash: the rows it
 * indexes are newer than the table's mark, and the store finds them again
 * from the mark.
 *
 * Threads: only the store's writer adds, removes and clears; any thread
 * looks up. A lookup that misses here is looked up in the table.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RelaySqliteIds RelaySqliteIds;

typedef struct
{
  const char *id;
  gint64      row;
} RelaySqliteId;

RelaySqliteIds *relay_sqlite_ids_new      (void);
void            relay_sqlite_ids_free     (RelaySqliteIds  *self);
void            relay_sqlite_ids_add      (RelaySqliteIds  *self,
                                           const char      *id,
                                           gint64           row);
gboolean        relay_sqlite_ids_lookup   (RelaySqliteIds  *self,
                                           const char      *id,
                                           gint64          *row);
void            relay_sqlite_ids_remove   (RelaySqliteIds  *self,
                                           const char      *id);
void            relay_sqlite_ids_remove_row (RelaySqliteIds  *self,
                                             const char      *id,
                                             gint64           row);
guint           relay_sqlite_ids_get_size (RelaySqliteIds  *self);
GArray         *relay_sqlite_ids_sorted   (RelaySqliteIds  *self);
void            relay_sqlite_ids_clear    (RelaySqliteIds  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelaySqliteIds, relay_sqlite_ids_free)

G_END_DECLS
