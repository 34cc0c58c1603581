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
 */

#define G_LOG_DOMAIN "relay-cache"

#include "config.h"

#include "relay-cache.h"

typedef struct
{
  gint64               version;
  gint64               expires;
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
};

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
  self->max_entries = max_entries;
  self->max_bytes = max_bytes;
  return self;
}

void
relay_cache_free (RelayCache *self)
{
  g_hash_table_unref (self->entries);
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
                   enum MHD_Result       *result)
{
  gboolean served = FALSE;
  Entry *entry;

  g_mutex_lock (&self->lock);
  entry = g_hash_table_lookup (self->entries, mailbox_id);
  if (entry != NULL && entry->expires > now && entry->version != known_version &&
      (g_strcmp0 (claim, entry->initiator_claim) == 0 || g_strcmp0 (claim, entry->recipient_claim) == 0))
    {
      /* Queued under the lock, so that a drop cannot free it first. */
      *result = MHD_queue_response (connection, MHD_HTTP_OK, entry->response);
      served = TRUE;
    }
  g_mutex_unlock (&self->lock);

  return served;
}

/**
 * relay_cache_store:
 * @response: the full answer to a read of @mailbox by either side
 *
 * Returns: %TRUE if the cache took @response over (the caller then queues it
 *   without destroying it); %FALSE if a write intervened
 */
gboolean
relay_cache_store (RelayCache          *self,
                   guint64              epoch,
                   const RelayMailbox  *mailbox,
                   struct MHD_Response *response)
{
  Entry *entry, *old;
  /* The answer is the mailbox's stored text and about half a kilobyte. */
  gsize bytes = (gsize) relay_mailbox_get_size (mailbox) + 1024;

  g_mutex_lock (&self->lock);
  if (epoch != self->epoch || bytes > self->max_bytes)
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
