/* relay-sqlite-checkpointer.h: the SQLite store's checkpoints, on a thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Why it exists: a checkpoint copies the WAL's pages into the database and
 * syncs it, about 7 ms for 1,000 pages here, and on the writer it held up
 * every operation waiting meanwhile: a third of the writer's time under
 * creates, and their p99. Here a thread with a connection of its own
 * copies the WAL as it grows. SQLite starts the WAL afresh only when a
 * write begins with every frame copied, which under steady writes never
 * happens by itself; so once the WAL is long, the writer waits, between
 * two transactions, for a checkpoint of the few frames copied last (about
 * 1 ms), and its next transaction starts the WAL from its beginning.
 *
 * Threads: the store's writer pokes and waits; the thread checkpoints.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RelaySqliteCheckpointer RelaySqliteCheckpointer;

RelaySqliteCheckpointer *relay_sqlite_checkpointer_new      (const char               *path,
                                                             GError                  **error);
void                     relay_sqlite_checkpointer_free     (RelaySqliteCheckpointer  *self);
void                     relay_sqlite_checkpointer_poke     (RelaySqliteCheckpointer  *self);
void                     relay_sqlite_checkpointer_catch_up (RelaySqliteCheckpointer  *self);
guint64                  relay_sqlite_checkpointer_get_runs (RelaySqliteCheckpointer  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelaySqliteCheckpointer, relay_sqlite_checkpointer_free)

G_END_DECLS
