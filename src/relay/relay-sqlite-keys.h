/* relay-sqlite-keys.h: what the SQLite store's writer does with its keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Why it exists: the store finds a mailbox by its id, and a retried create
 * by its retry key (claim and request id), from memory for its newest rows
 * (relay-sqlite-ids.h) and from its key table for the others. Keeping the
 * two exact takes bookkeeping of its own, apart from the store's SQL: the
 * keys a transaction adds or takes away reach memory only once it commits;
 * a flush moves the keys in memory into the table in key order, a chunk
 * with each transaction, and then moves the mark, the row up to which the
 * table has every key. The store writes what this says to write, in the
 * same transaction.
 *
 * Invariant, at every commit: the rows after the mark have their keys in
 * memory, the others in the table; no row is newer than the mark and in
 * neither, because rows are numbered in order and never twice.
 *
 * Threads: the store's writer only; readers look up in the memory it was
 * made with.
 */

#pragma once

#include <glib.h>

#include "relay-sqlite-ids.h"

G_BEGIN_DECLS

typedef struct _RelaySqliteKeys RelaySqliteKeys;

RelaySqliteKeys     *relay_sqlite_keys_new            (RelaySqliteIds         *memory);
void                 relay_sqlite_keys_free           (RelaySqliteKeys        *self);
void                 relay_sqlite_keys_set_flush_min  (RelaySqliteKeys        *self,
                                                       guint                   min);
void                 relay_sqlite_keys_set_mark       (RelaySqliteKeys        *self,
                                                       gint64                  mark);
gint64               relay_sqlite_keys_get_mark       (RelaySqliteKeys        *self);

/* A transaction: what it adds and forgets, until relay_sqlite_keys_commit()
 * or relay_sqlite_keys_rollback(), either of which leaves the next empty */
void                 relay_sqlite_keys_add            (RelaySqliteKeys        *self,
                                                       const char             *key,
                                                       gint64                  row);
void                 relay_sqlite_keys_add_owned      (RelaySqliteKeys        *self,
                                                       char                   *key,
                                                       gint64                  row);
void                 relay_sqlite_keys_forget         (RelaySqliteKeys        *self,
                                                       char                   *key);
gboolean             relay_sqlite_keys_lookup_added   (RelaySqliteKeys        *self,
                                                       const char             *key,
                                                       gint64                 *row);
const RelaySqliteId *relay_sqlite_keys_flush_chunk    (RelaySqliteKeys        *self,
                                                       guint                   batch_ops,
                                                       gint64                  mailboxes,
                                                       gint64                  last_row,
                                                       guint                  *n_keys,
                                                       gint64                 *mark);
gboolean             relay_sqlite_keys_is_current     (RelaySqliteKeys        *self,
                                                       const RelaySqliteId    *key);
void                 relay_sqlite_keys_commit         (RelaySqliteKeys        *self);
void                 relay_sqlite_keys_rollback       (RelaySqliteKeys        *self);

guint64              relay_sqlite_keys_memory         (guint64                 max_mailboxes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelaySqliteKeys, relay_sqlite_keys_free)

G_END_DECLS
