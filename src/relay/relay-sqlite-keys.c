/* relay-sqlite-keys.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "relay-sqlite-keys"

#include "config.h"

#include <string.h>

#include "relay-sqlite-keys.h"

/* The keys in memory are moved into the key table once there are this
 * many, or a 32nd of the live mailboxes if that is more: enough that a
 * flush writes each leaf of the table about once (relay-sqlite-ids.h).
 * A flush goes in key order, FLUSH_CHUNK with each transaction, so that
 * none waits long for it, or four for each operation of the transaction
 * if that is more: twice what its creates can add (an id and a retry key
 * each), so that memory never grows faster than flushes empty it. */
#define FLUSH_MIN     32768
#define FLUSH_DIVISOR 32
#define FLUSH_CHUNK   256

struct _RelaySqliteKeys
{
  RelaySqliteIds *memory;        /* the store's */
  gint64          mark;          /* the table has every key of the rows up to it */
  guint           flush_min;

  /* The flush under way, if any. */
  GArray         *flushing;      /* RelaySqliteId, sorted */
  char           *flushing_text; /* their keys, copied in one block */
  guint           flushed;       /* how many of them are in the table */
  gint64          flushing_mark; /* the rows they cover */

  /* The transaction's. */
  guint           batch_flushed; /* how far its flush chunk goes */
  gint64          batch_mark;    /* the mark it sets, or 0 */
  GArray         *added;         /* RelaySqliteId: its creates' keys */
  GPtrArray      *owned;         /* the keys of @added it owns */
  GPtrArray      *gone;          /* keys to take out of memory */
};

/**
 * relay_sqlite_keys_new:
 * @memory: the store's keys in memory, which it keeps until this is freed
 */
RelaySqliteKeys *
relay_sqlite_keys_new (RelaySqliteIds *memory)
{
  RelaySqliteKeys *self = g_new0 (RelaySqliteKeys, 1);

  self->memory = memory;
  self->flush_min = FLUSH_MIN;
  self->added = g_array_new (FALSE, FALSE, sizeof (RelaySqliteId));
  self->owned = g_ptr_array_new_with_free_func (g_free);
  self->gone = g_ptr_array_new_with_free_func (g_free);
  return self;
}

static void
flushing_clear (RelaySqliteKeys *self)
{
  g_clear_pointer (&self->flushing, g_array_unref);
  g_clear_pointer (&self->flushing_text, g_free);
}

void
relay_sqlite_keys_free (RelaySqliteKeys *self)
{
  if (self == NULL)
    return;
  flushing_clear (self);
  g_array_unref (self->added);
  g_ptr_array_unref (self->owned);
  g_ptr_array_unref (self->gone);
  g_free (self);
}

/* For tests, which cannot wait for tens of thousands of creates. */
void
relay_sqlite_keys_set_flush_min (RelaySqliteKeys *self,
                                 guint            min)
{
  g_return_if_fail (min > 0);
  self->flush_min = min;
}

/* At start, the mark the table records. */
void
relay_sqlite_keys_set_mark (RelaySqliteKeys *self,
                            gint64           mark)
{
  self->mark = mark;
}

/* The mark as the transaction leaves it: its flush may have moved it. */
gint64
relay_sqlite_keys_get_mark (RelaySqliteKeys *self)
{
  return self->batch_mark > 0 ? self->batch_mark : self->mark;
}

static void
clear_batch (RelaySqliteKeys *self)
{
  g_array_set_size (self->added, 0);
  g_ptr_array_set_size (self->owned, 0);
  g_ptr_array_set_size (self->gone, 0);
  self->batch_mark = 0;
  self->batch_flushed = self->flushed;
}

/* A key of a row the transaction created: in memory once it commits.
 * @key must live as long as the transaction. */
void
relay_sqlite_keys_add (RelaySqliteKeys *self,
                       const char      *key,
                       gint64           row)
{
  RelaySqliteId added = { key, row };

  g_array_append_val (self->added, added);
}

/* The same, for a key the transaction does not keep otherwise. */
void
relay_sqlite_keys_add_owned (RelaySqliteKeys *self,
                             char            *key,
                             gint64           row)
{
  g_ptr_array_add (self->owned, key);
  relay_sqlite_keys_add (self, key, row);
}

/* A key its row no longer has: out of memory once the transaction
 * commits. The store takes it out of the table itself. */
void
relay_sqlite_keys_forget (RelaySqliteKeys *self,
                          char            *key)
{
  g_ptr_array_add (self->gone, key);
}

/* The row of a key added earlier in this transaction, which is in
 * neither memory nor the table yet. */
gboolean
relay_sqlite_keys_lookup_added (RelaySqliteKeys *self,
                                const char      *key,
                                gint64          *row)
{
  for (guint i = 0; i < self->added->len; i++)
    {
      RelaySqliteId *added = &g_array_index (self->added, RelaySqliteId, i);

      if (strcmp (added->id, key) == 0)
        {
          *row = added->row;
          return TRUE;
        }
    }
  return FALSE;
}

/* Copies the keys of @ids into one block (memory may lose them while the
 * flush goes on): one allocation, given back whole once the flush is
 * done, rather than tens of thousands of small ones. */
static char *
copy_keys (GArray *ids)
{
  gsize size = 0;
  char *text, *next;

  for (guint i = 0; i < ids->len; i++)
    size += strlen (g_array_index (ids, RelaySqliteId, i).id) + 1;
  text = next = g_malloc (MAX (size, 1));
  for (guint i = 0; i < ids->len; i++)
    {
      RelaySqliteId *id = &g_array_index (ids, RelaySqliteId, i);
      char *copy = next;

      next = g_stpcpy (next, id->id) + 1;
      id->id = copy;
    }
  return text;
}

/**
 * relay_sqlite_keys_flush_chunk:
 * @batch_ops: the transaction's operations
 * @mailboxes: the live mailboxes
 * @last_row: the newest row, before the transaction's creates
 * @n_keys: (out): how many keys to write
 * @mark: (out): the mark to write after them, or 0
 *
 * What the transaction moves into the key table, before its own
 * operations: the next chunk of the flush under way, or of one that
 * starts now if memory holds enough keys. Write a key only if
 * relay_sqlite_keys_is_current() says so.
 *
 * Returns: (array length=n_keys): the keys, in key order; valid until
 *   the next transaction
 */
const RelaySqliteId *
relay_sqlite_keys_flush_chunk (RelaySqliteKeys *self,
                               guint            batch_ops,
                               gint64           mailboxes,
                               gint64           last_row,
                               guint           *n_keys,
                               gint64          *mark)
{
  guint threshold = (guint) MAX ((gint64) self->flush_min, mailboxes / FLUSH_DIVISOR);
  guint end;

  *n_keys = 0;
  *mark = 0;
  if (self->flushing == NULL)
    {
      if (relay_sqlite_ids_get_size (self->memory) < threshold)
        return NULL;

      self->flushing = relay_sqlite_ids_sorted (self->memory);
      self->flushing_text = copy_keys (self->flushing);
      self->flushed = 0;
      self->flushing_mark = last_row;
    }

  end = MIN (self->flushing->len,
             self->flushed + MAX ((gint64) batch_ops * 4, (gint64) self->flush_min * FLUSH_CHUNK / FLUSH_MIN));
  self->batch_flushed = end;
  if (end == self->flushing->len)
    *mark = self->batch_mark = self->flushing_mark;

  *n_keys = end - self->flushed;
  return &g_array_index (self->flushing, RelaySqliteId, self->flushed);
}

/* Whether @key, of a flush, is still its row's: the sweep, or the
 * initiator's write, may have taken it out of memory since the flush
 * began. Memory says so without reading the row, which for a large
 * database is a random read for every key of a flush. */
gboolean
relay_sqlite_keys_is_current (RelaySqliteKeys     *self,
                              const RelaySqliteId *key)
{
  gint64 row;

  return relay_sqlite_ids_lookup (self->memory, key->id, &row) && row == key->row;
}

/* After the transaction committed: the keys of a finished flush leave
 * memory, unless they came back for a newer row meanwhile; the keys the
 * transaction took away leave it, those it added enter it. */
void
relay_sqlite_keys_commit (RelaySqliteKeys *self)
{
  if (self->flushing != NULL)
    self->flushed = self->batch_flushed;
  if (self->batch_mark > 0)
    {
      for (guint i = 0; i < self->flushing->len; i++)
        {
          RelaySqliteId *id = &g_array_index (self->flushing, RelaySqliteId, i);

          relay_sqlite_ids_remove_row (self->memory, id->id, id->row);
        }
      flushing_clear (self);
      self->mark = self->batch_mark;
    }
  for (guint i = 0; i < self->gone->len; i++)
    relay_sqlite_ids_remove (self->memory, g_ptr_array_index (self->gone, i));
  for (guint i = 0; i < self->added->len; i++)
    {
      RelaySqliteId *id = &g_array_index (self->added, RelaySqliteId, i);

      relay_sqlite_ids_add (self->memory, id->id, id->row);
    }
  clear_batch (self);
}

/* After the transaction rolled back: nothing of it happened; its flush
 * chunk is written again by the next. */
void
relay_sqlite_keys_rollback (RelaySqliteKeys *self)
{
  clear_batch (self);
}

/**
 * relay_sqlite_keys_memory:
 * @max_mailboxes: the store's bound on live mailboxes; 0 for none
 *
 * Returns: the most the newest keys take in memory: a flush starts at its
 *   threshold and its chunks outpace the transactions' creates, so memory
 *   holds at most about twice the threshold, and a copy of it while
 *   flushing
 */
guint64
relay_sqlite_keys_memory (guint64 max_mailboxes)
{
  /* A retry key's entry (its 73 characters, the row, the hash table's
   * share) and its copy in a flush. */
  const guint64 entry = 160, copy = 96;
  guint64 threshold = MAX (FLUSH_MIN, max_mailboxes / FLUSH_DIVISOR);

  return threshold * (2 * entry + copy);
}
