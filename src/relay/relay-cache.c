/* relay-cache.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The bound recipient (or the initiator) reading a mailbox that has not
 * changed is the relay's most common request. Its answer, headers and all,
 * is kept as one libmicrohttpd response and queued again, which it allows:
 * responses are reference-counted. Any write to the mailbox drops it.
 *
 * A read that started before a write could otherwise put back what the
 * write replaced; every drop raises an epoch, and an answer is kept only if
 * the epoch did not move while it was being built.
 *
 * With a store other instances write to, an answer is kept only as long as
 * the store's read lease on it lasts (valid_until): a write through another
 * instance is acknowledged only after every other instance's lease ended
 * (PROTOCOL.md §6.10). Asking for a lease is a write in the store, so it is
 * asked only for a mailbox read again within a second (read_again()).
 */

#define G_LOG_DOMAIN "relay-cache"

#include "config.h"

#include "relay-cache.h"

typedef struct
{
  gint64               version;
  gint64               expires;
  gint64               valid_until;       /* monotonic µs */
  gint64               renew_after;       /* half-way there: a lease is taken again */
  gboolean             renewing;
  char                *initiator_claim;
  char                *recipient_claim;   /* only if it may read */
  struct MHD_Response *response;
  gsize                bytes;
} Entry;

struct _RelayCache
{
  GMutex      lock;
  GHashTable *entries;
  guint64     epoch;
  guint       max_entries;
  gsize       max_bytes;
  gsize       bytes;
  /* Mailbox id → monotonic µs of its last read that was not served here */
  GHashTable *missed;
};

#define READ_AGAIN_USEC G_USEC_PER_SEC

static void
entry_free (Entry *entry)
{
  g_free (entry->initiator_claim);
  g_free (entry->recipient_claim);
  MHD_destroy_response (entry->response);
  g_free (entry);
}

/**
 * relay_cache_new:
 * @max_entries: answers kept at most
 * @max_bytes: their bytes at most: a read answer may be 90 KB
 */
RelayCache *
relay_cache_new (guint max_entries,
                 gsize max_bytes)
{
  RelayCache *self = g_new0 (RelayCache, 1);

  g_mutex_init (&self->lock);
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) entry_free);
  self->missed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->max_entries = max_entries;
  self->max_bytes = max_bytes;
  return self;
}

void
relay_cache_free (RelayCache *self)
{
  g_hash_table_unref (self->entries);
  g_hash_table_unref (self->missed);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/**
 * relay_cache_get_epoch:
 *
 * Read it before looking a mailbox up, and give it to relay_cache_store().
 */
guint64
relay_cache_get_epoch (RelayCache *self)
{
  guint64 epoch;

  g_mutex_lock (&self->lock);
  epoch = self->epoch;
  g_mutex_unlock (&self->lock);
  return epoch;
}

/**
 * relay_cache_serve:
 * @known_version: the version the client says it has, or -1; a match is
 *   left to the caller (the answer would be 304, or a wait)
 * @result: (out): what MHD_queue_response() returned
 * @renew: (out): whether the caller should look the mailbox up again with
 *   a new lease and store the answer, so that readers do not all wait for
 *   a lookup when this one runs out; said once per kept answer
 *
 * Returns: whether a kept answer was queued
 */
gboolean
relay_cache_serve (RelayCache            *self,
                   const char            *mailbox_id,
                   const char            *claim,
                   gint64                 now,
                   gint64                 known_version,
                   struct MHD_Connection *connection,
                   enum MHD_Result       *result,
                   gboolean              *renew)
{
  gboolean served = FALSE;
  gint64 now_usec = g_get_monotonic_time ();
  Entry *entry;

  *renew = FALSE;
  g_mutex_lock (&self->lock);
  entry = g_hash_table_lookup (self->entries, mailbox_id);
  if (entry != NULL && entry->expires > now && entry->version != known_version &&
      now_usec < entry->valid_until &&
      (g_strcmp0 (claim, entry->initiator_claim) == 0 || g_strcmp0 (claim, entry->recipient_claim) == 0))
    {
      /* Queued under the lock, so that a drop cannot free it first. */
      *result = MHD_queue_response (connection, MHD_HTTP_OK, entry->response);
      served = TRUE;
      if (now_usec >= entry->renew_after && !entry->renewing)
        *renew = entry->renewing = TRUE;
    }
  g_mutex_unlock (&self->lock);

  return served;
}

/**
 * relay_cache_store:
 * @valid_until: the monotonic time (µs) after which it is not served;
 *   %G_MAXINT64 while no other instance writes to the store
 * @response: the full answer to a read of @mailbox by either side
 *
 * Returns: %TRUE if the cache took @response over (the caller then queues it
 *   without destroying it); %FALSE if a write intervened
 */
gboolean
relay_cache_store (RelayCache          *self,
                   guint64              epoch,
                   gint64               valid_until,
                   const RelayMailbox  *mailbox,
                   struct MHD_Response *response)
{
  Entry *entry, *old;
  /* The answer is the mailbox's stored text and about half a kilobyte. */
  gsize bytes = (gsize) relay_mailbox_get_size (mailbox) + 1024;
  gint64 now_usec = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  if (epoch != self->epoch || bytes > self->max_bytes || valid_until <= now_usec)
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }

  old = g_hash_table_lookup (self->entries, mailbox->id);
  if (old != NULL)
    {
      self->bytes -= old->bytes;
      g_hash_table_remove (self->entries, mailbox->id);
    }

  /* Bounded: when full, start over; the hot mailboxes come straight back. */
  if (g_hash_table_size (self->entries) >= self->max_entries || self->bytes + bytes > self->max_bytes)
    {
      g_hash_table_remove_all (self->entries);
      self->bytes = 0;
    }

  entry = g_new0 (Entry, 1);
  entry->bytes = bytes;
  self->bytes += bytes;
  entry->version = mailbox->version;
  entry->expires = mailbox->expires;
  entry->valid_until = valid_until;
  entry->renew_after = valid_until == G_MAXINT64 ? G_MAXINT64 : now_usec + (valid_until - now_usec) / 2;
  entry->initiator_claim = g_strdup (mailbox->initiator_claim);
  /* Only the first recipient's reads are served from here, and not once it
   * acknowledged (one of several, PROTOCOL.md §6.9); the others are looked up. */
  if ((mailbox->access & RELAY_ACCESS_READ) &&
      relay_mailbox_find_recipient (mailbox, mailbox->recipient_claim) == RELAY_RECIPIENT_ACTIVE)
    entry->recipient_claim = g_strdup (mailbox->recipient_claim);
  entry->response = response;
  g_hash_table_insert (self->entries, g_strdup (mailbox->id), entry);
  g_mutex_unlock (&self->lock);

  return TRUE;
}

/**
 * relay_cache_read_again:
 * @now: monotonic µs
 *
 * Notes a read of @mailbox_id that was not served from here.
 *
 * Returns: whether it was read, and not served from here, within the last
 *   second too: keeping its answer is then likely worth a lease
 */
gboolean
relay_cache_read_again (RelayCache *self,
                        const char *mailbox_id,
                        gint64      now)
{
  gint64 *last;
  gboolean again = FALSE;

  g_mutex_lock (&self->lock);
  if (self->max_entries > 0)
    {
      last = g_hash_table_lookup (self->missed, mailbox_id);
      if (last != NULL)
        {
          again = now - *last < READ_AGAIN_USEC;
          *last = now;
        }
      else
        {
          /* Bounded as the answers are: when full, start over. */
          if (g_hash_table_size (self->missed) >= self->max_entries)
            g_hash_table_remove_all (self->missed);
          last = g_new (gint64, 1);
          *last = now;
          g_hash_table_insert (self->missed, g_strdup (mailbox_id), last);
        }
    }
  g_mutex_unlock (&self->lock);
  return again;
}

void
relay_cache_invalidate (RelayCache *self,
                        const char *mailbox_id)
{
  Entry *entry;

  g_mutex_lock (&self->lock);
  self->epoch++;
  entry = g_hash_table_lookup (self->entries, mailbox_id);
  if (entry != NULL)
    {
      self->bytes -= entry->bytes;
      g_hash_table_remove (self->entries, mailbox_id);
    }
  g_mutex_unlock (&self->lock);
}

void
relay_cache_clear (RelayCache *self)
{
  g_mutex_lock (&self->lock);
  self->epoch++;
  g_hash_table_remove_all (self->entries);
  g_hash_table_remove_all (self->missed);
  self->bytes = 0;
  g_mutex_unlock (&self->lock);
}

guint
relay_cache_get_size (RelayCache *self)
{
  guint size;

  g_mutex_lock (&self->lock);
  size = g_hash_table_size (self->entries);
  g_mutex_unlock (&self->lock);
  return size;
}
