/* relay-waiters.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libmicrohttpd does not watch suspended connections, so a waiter whose
 * client left holds its socket until we resume it: every wait has a deadline,
 * kept in a sorted sequence that one timer thread serves, instead of a scan
 * of all waiters or one GSource each.
 */

#define G_LOG_DOMAIN "relay-waiters"

#include "config.h"

#include <string.h>

#include "relay-waiters.h"

struct _RelayWaiters
{
  GMutex         lock;
  GCond          cond;
  GHashTable    *by_mailbox;   /* mailbox id → GQueue of waiters */
  GHashTable    *by_client;    /* HttpdKey → how many wait (GUINT_TO_POINTER) */
  GSequence     *by_deadline;
  guint          count;
  guint          max_waiters;
  guint          max_per_client;
  gboolean       stopping;
  RelayWakeFunc  wake;
  GThread       *timer;
};

static int
compare_deadline (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  const RelayWaiter *wa = a, *wb = b;

  if (wa->deadline != wb->deadline)
    return wa->deadline < wb->deadline ? -1 : 1;
  return wa < wb ? -1 : (wa > wb ? 1 : 0);
}

/* Unlinks a waiter; the caller holds the lock and wakes it after releasing it. */
static void
detach (RelayWaiters     *self,
        RelayWaiter      *waiter,
        RelayWaiterState  state)
{
  GQueue *queue = g_hash_table_lookup (self->by_mailbox, waiter->mailbox_id);

  g_queue_unlink (queue, &waiter->link);
  if (queue->length == 0)
    g_hash_table_remove (self->by_mailbox, waiter->mailbox_id);

  g_sequence_remove (waiter->timer);
  waiter->timer = NULL;
  waiter->state = state;
  self->count--;

  if (self->max_per_client > 0)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->by_client, &waiter->client));

      if (n <= 1)
        g_hash_table_remove (self->by_client, &waiter->client);
      else
        g_hash_table_insert (self->by_client, g_memdup2 (&waiter->client, sizeof waiter->client),
                             GUINT_TO_POINTER (n - 1));
    }
}

static void
wake_all (RelayWaiters *self,
          GPtrArray    *woken)
{
  for (guint i = 0; i < woken->len; i++)
    {
      RelayWaiter *waiter = g_ptr_array_index (woken, i);

      self->wake (waiter, waiter->user_data);
    }
}

static gpointer
timer_thread (gpointer data)
{
  RelayWaiters *self = data;
  g_autoptr(GPtrArray) woken = g_ptr_array_new ();

  g_mutex_lock (&self->lock);
  while (!self->stopping)
    {
      GSequenceIter *first = g_sequence_get_begin_iter (self->by_deadline);
      gint64 now = g_get_monotonic_time ();

      if (g_sequence_iter_is_end (first))
        {
          g_cond_wait (&self->cond, &self->lock);
          continue;
        }

      if (((RelayWaiter *) g_sequence_get (first))->deadline > now)
        {
          g_cond_wait_until (&self->cond, &self->lock,
                             ((RelayWaiter *) g_sequence_get (first))->deadline);
          continue;
        }

      /* Everything due, in one batch: each resume makes libmicrohttpd walk
       * its suspended list, so fewer, larger batches are cheaper. */
      while (!g_sequence_iter_is_end (first = g_sequence_get_begin_iter (self->by_deadline)) &&
             ((RelayWaiter *) g_sequence_get (first))->deadline <= now)
        {
          RelayWaiter *waiter = g_sequence_get (first);

          detach (self, waiter, RELAY_WAITER_TIMED_OUT);
          g_ptr_array_add (woken, waiter);
        }

      g_mutex_unlock (&self->lock);
      wake_all (self, woken);
      g_ptr_array_set_size (woken, 0);
      g_mutex_lock (&self->lock);
    }
  g_mutex_unlock (&self->lock);

  return NULL;
}

/**
 * relay_waiters_new:
 * @max_waiters: how many may wait at once; more are refused
 * @max_per_client: how many of them one client may have (0: any number):
 *   without it, a few addresses could take every place
 * @wake: called once for each waiter that leaves the registry
 */
RelayWaiters *
relay_waiters_new (guint         max_waiters,
                   guint         max_per_client,
                   RelayWakeFunc wake)
{
  RelayWaiters *self = g_new0 (RelayWaiters, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->by_mailbox = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_queue_free);
  self->by_client = g_hash_table_new_full (httpd_key_hash, httpd_key_equal, g_free, NULL);
  self->by_deadline = g_sequence_new (NULL);
  self->max_waiters = max_waiters;
  self->max_per_client = max_per_client;
  self->wake = wake;
  self->timer = g_thread_new ("relay-waiters", timer_thread, self);

  return self;
}

/**
 * relay_waiters_shutdown:
 *
 * Wakes every waiter with %RELAY_WAITER_SHUTDOWN; later adds are refused.
 */
void
relay_waiters_shutdown (RelayWaiters *self)
{
  g_autoptr(GPtrArray) woken = g_ptr_array_new ();
  GSequenceIter *first;

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  while (!g_sequence_iter_is_end (first = g_sequence_get_begin_iter (self->by_deadline)))
    {
      RelayWaiter *waiter = g_sequence_get (first);

      detach (self, waiter, RELAY_WAITER_SHUTDOWN);
      g_ptr_array_add (woken, waiter);
    }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  wake_all (self, woken);
}

void
relay_waiters_free (RelayWaiters *self)
{
  relay_waiters_shutdown (self);
  g_thread_join (self->timer);

  g_hash_table_unref (self->by_mailbox);
  g_hash_table_unref (self->by_client);
  g_sequence_free (self->by_deadline);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

/**
 * relay_waiters_add:
 * @waiter: caller-owned storage, which must stay valid until it is woken
 * @client: who waits, for the per-client limit
 * @deadline: when the wait ends at the latest (monotonic µs)
 *
 * Returns: whether @waiter was added, or why not
 */
RelayWaitersResult
relay_waiters_add (RelayWaiters   *self,
                   RelayWaiter    *waiter,
                   const char     *mailbox_id,
                   const HttpdKey *client,
                   gint64          deadline,
                   gpointer        user_data)
{
  GQueue *queue;
  gboolean earliest;
  guint n = 0;

  g_return_val_if_fail (strlen (mailbox_id) < sizeof waiter->mailbox_id, RELAY_WAITERS_FULL);

  g_mutex_lock (&self->lock);
  if (self->stopping || self->count >= self->max_waiters)
    {
      gboolean stopping = self->stopping;

      g_mutex_unlock (&self->lock);
      return stopping ? RELAY_WAITERS_STOPPING : RELAY_WAITERS_FULL;
    }
  if (self->max_per_client > 0)
    {
      n = GPOINTER_TO_UINT (g_hash_table_lookup (self->by_client, client));
      if (n >= self->max_per_client)
        {
          g_mutex_unlock (&self->lock);
          return RELAY_WAITERS_CLIENT_FULL;
        }
      g_hash_table_insert (self->by_client, g_memdup2 (client, sizeof *client), GUINT_TO_POINTER (n + 1));
    }

  memset (waiter, 0, sizeof *waiter);
  g_strlcpy (waiter->mailbox_id, mailbox_id, sizeof waiter->mailbox_id);
  waiter->client = *client;
  waiter->deadline = deadline;
  waiter->state = RELAY_WAITER_WAITING;
  waiter->user_data = user_data;
  waiter->link.data = waiter;

  queue = g_hash_table_lookup (self->by_mailbox, waiter->mailbox_id);
  if (queue == NULL)
    {
      queue = g_queue_new ();
      g_hash_table_insert (self->by_mailbox, g_strdup (waiter->mailbox_id), queue);
    }
  g_queue_push_tail_link (queue, &waiter->link);

  waiter->timer = g_sequence_insert_sorted (self->by_deadline, waiter, compare_deadline, NULL);
  earliest = g_sequence_iter_is_begin (waiter->timer);
  self->count++;

  if (earliest)
    g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);

  return RELAY_WAITERS_ADDED;
}

/**
 * relay_waiters_wake:
 *
 * Wakes @waiter as changed, unless something woke it already.
 */
void
relay_waiters_wake (RelayWaiters *self,
                    RelayWaiter  *waiter)
{
  gboolean attached;

  g_mutex_lock (&self->lock);
  attached = waiter->timer != NULL;
  if (attached)
    detach (self, waiter, RELAY_WAITER_CHANGED);
  g_mutex_unlock (&self->lock);

  if (attached)
    self->wake (waiter, waiter->user_data);
}

/**
 * relay_waiters_notify:
 *
 * Wakes every waiter of @mailbox_id as changed.
 *
 * Returns: how many were woken
 */
guint
relay_waiters_notify (RelayWaiters *self,
                      const char   *mailbox_id)
{
  g_autoptr(GPtrArray) woken = g_ptr_array_new ();
  GQueue *queue;

  g_mutex_lock (&self->lock);
  while ((queue = g_hash_table_lookup (self->by_mailbox, mailbox_id)) != NULL)
    {
      RelayWaiter *waiter = queue->head->data;

      detach (self, waiter, RELAY_WAITER_CHANGED);
      g_ptr_array_add (woken, waiter);
    }
  g_mutex_unlock (&self->lock);

  wake_all (self, woken);
  return woken->len;
}

/**
 * relay_waiters_recheck:
 * @mailbox_id: (nullable): the mailbox, or %NULL for every waiter
 *
 * Wakes every waiter of @mailbox_id (or all) to look at its mailbox again:
 * news from another instance, which may be late or repeated, so each
 * answers "no change" if its version is still the one it knows.
 *
 * Returns: how many were woken
 */
guint
relay_waiters_recheck (RelayWaiters *self,
                       const char   *mailbox_id)
{
  g_autoptr(GPtrArray) woken = g_ptr_array_new ();

  g_mutex_lock (&self->lock);
  if (mailbox_id != NULL)
    {
      GQueue *queue;

      while ((queue = g_hash_table_lookup (self->by_mailbox, mailbox_id)) != NULL)
        {
          RelayWaiter *waiter = queue->head->data;

          detach (self, waiter, RELAY_WAITER_RECHECK);
          g_ptr_array_add (woken, waiter);
        }
    }
  else
    {
      GSequenceIter *first;

      while (!g_sequence_iter_is_end (first = g_sequence_get_begin_iter (self->by_deadline)))
        {
          RelayWaiter *waiter = g_sequence_get (first);

          detach (self, waiter, RELAY_WAITER_RECHECK);
          g_ptr_array_add (woken, waiter);
        }
    }
  g_mutex_unlock (&self->lock);

  wake_all (self, woken);
  return woken->len;
}

guint
relay_waiters_get_count (RelayWaiters *self)
{
  guint count;

  g_mutex_lock (&self->lock);
  count = self->count;
  g_mutex_unlock (&self->lock);

  return count;
}
