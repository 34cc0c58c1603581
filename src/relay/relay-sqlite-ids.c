/* relay-sqlite-ids.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A hash table under a read-write lock. Its keys are ids the relay made
 * itself from GnuTLS's random generator, so no client chooses where they
 * land; a client's id only ever probes.
 */

#define G_LOG_DOMAIN "relay-sqlite-ids"

#include "config.h"

#include <string.h>

#include "relay-sqlite-ids.h"

typedef struct
{
  gint64 row;
  char   id[];
} Entry;

struct _RelaySqliteIds
{
  GRWLock     lock;
  GHashTable *entries;   /* Entry.id → Entry */
};

RelaySqliteIds *
relay_sqlite_ids_new (void)
{
  RelaySqliteIds *self = g_new0 (RelaySqliteIds, 1);

  g_rw_lock_init (&self->lock);
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  return self;
}

void
relay_sqlite_ids_free (RelaySqliteIds *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->entries);
  g_rw_lock_clear (&self->lock);
  g_free (self);
}

/* Writer only. A second row for the same id replaces the first. */
void
relay_sqlite_ids_add (RelaySqliteIds *self,
                      const char     *id,
                      gint64          row)
{
  gsize len = strlen (id);
  Entry *entry = g_malloc (sizeof (Entry) + len + 1);

  entry->row = row;
  memcpy (entry->id, id, len + 1);
  g_rw_lock_writer_lock (&self->lock);
  g_hash_table_replace (self->entries, entry->id, entry);
  g_rw_lock_writer_unlock (&self->lock);
}

/**
 * relay_sqlite_ids_lookup:
 * @row: (out): the mailbox's row, if found
 *
 * Returns: whether @id is one of the newest mailboxes
 */
gboolean
relay_sqlite_ids_lookup (RelaySqliteIds *self,
                         const char     *id,
                         gint64         *row)
{
  Entry *entry;

  g_rw_lock_reader_lock (&self->lock);
  entry = g_hash_table_lookup (self->entries, id);
  if (entry != NULL)
    *row = entry->row;
  g_rw_lock_reader_unlock (&self->lock);
  return entry != NULL;
}

void
relay_sqlite_ids_remove (RelaySqliteIds *self,
                         const char     *id)
{
  g_rw_lock_writer_lock (&self->lock);
  g_hash_table_remove (self->entries, id);
  g_rw_lock_writer_unlock (&self->lock);
}

/* Removes @id only while it is @row's: the same key may have come back
 * for a newer row meanwhile. */
void
relay_sqlite_ids_remove_row (RelaySqliteIds *self,
                             const char     *id,
                             gint64          row)
{
  Entry *entry;

  g_rw_lock_writer_lock (&self->lock);
  entry = g_hash_table_lookup (self->entries, id);
  if (entry != NULL && entry->row == row)
    g_hash_table_remove (self->entries, id);
  g_rw_lock_writer_unlock (&self->lock);
}

guint
relay_sqlite_ids_get_size (RelaySqliteIds *self)
{
  guint size;

  g_rw_lock_reader_lock (&self->lock);
  size = g_hash_table_size (self->entries);
  g_rw_lock_reader_unlock (&self->lock);
  return size;
}

static gint
compare_ids (gconstpointer a,
             gconstpointer b)
{
  return strcmp (((const RelaySqliteId *) a)->id, ((const RelaySqliteId *) b)->id);
}

/**
 * relay_sqlite_ids_sorted:
 *
 * Writer only: the ids point into the table and stay valid until the
 * writer next changes it.
 *
 * Returns: (transfer full) (element-type RelaySqliteId): every id, in
 *   byte order, as an index on them is ordered
 */
GArray *
relay_sqlite_ids_sorted (RelaySqliteIds *self)
{
  GArray *ids;
  GHashTableIter iter;
  gpointer value;

  g_rw_lock_reader_lock (&self->lock);
  ids = g_array_sized_new (FALSE, FALSE, sizeof (RelaySqliteId), g_hash_table_size (self->entries));
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Entry *entry = value;
      RelaySqliteId id = { entry->id, entry->row };

      g_array_append_val (ids, id);
    }
  g_rw_lock_reader_unlock (&self->lock);

  g_array_sort (ids, compare_ids);
  return ids;
}

void
relay_sqlite_ids_clear (RelaySqliteIds *self)
{
  g_rw_lock_writer_lock (&self->lock);
  g_hash_table_remove_all (self->entries);
  g_rw_lock_writer_unlock (&self->lock);
}
