/* httpd-rate.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A token bucket per client, in a table of bounded size. When the table is
 * full, the client seen least recently is forgotten: its next request finds
 * a full bucket again. A flood of addresses therefore makes the limit
 * forgetful for idle clients, and never puts anyone in someone else's
 * bucket. Clients are kept most recently seen last, so both eviction and the
 * sweep of full (idle) buckets take the oldest first, in constant time each.
 */

#define G_LOG_DOMAIN "httpd-rate"

#include "config.h"

#include "httpd-rate.h"

typedef struct
{
  HttpdKey key;        /* also the hash table's key */
  double   tokens;
  gint64   updated_us;
  GList    link;       /* in the recency queue; data points back here */
} Bucket;

struct _HttpdRate
{
  GMutex      lock;
  double      rate;
  double      burst;
  guint       max_clients;
  GHashTable *buckets;     /* HttpdKey → Bucket, owning */
  GQueue      recency;     /* least recently seen first */
  guint64     evictions;
};

/**
 * httpd_rate_new:
 * @rate: requests per second a client may make, on average (0: no limit)
 * @burst: how many it may make at once
 * @max_clients: clients remembered at once
 */
HttpdRate *
httpd_rate_new (double rate,
                double burst,
                guint  max_clients)
{
  HttpdRate *self = g_new0 (HttpdRate, 1);

  g_mutex_init (&self->lock);
  self->rate = rate;
  self->burst = MAX (burst, 1);
  self->max_clients = MAX (max_clients, 1);
  self->buckets = g_hash_table_new_full (httpd_key_hash, httpd_key_equal, NULL, g_free);
  g_queue_init (&self->recency);

  return self;
}

void
httpd_rate_free (HttpdRate *self)
{
  if (self == NULL)
    return;

  /* The queue's links live inside the buckets the table frees. */
  g_queue_init (&self->recency);
  g_hash_table_unref (self->buckets);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* The caller holds the lock. */
static void
forget (HttpdRate *self,
        Bucket    *bucket)
{
  g_queue_unlink (&self->recency, &bucket->link);
  g_hash_table_remove (self->buckets, &bucket->key);
}

/**
 * httpd_rate_allow:
 * @retry_after: (out): seconds until a request would be allowed
 *
 * Takes one token from @client's bucket.
 */
gboolean
httpd_rate_allow (HttpdRate      *self,
                  const HttpdKey *client,
                  gint64          now_us,
                  guint          *retry_after)
{
  Bucket *bucket;
  gboolean allowed;

  if (self->rate <= 0)
    return TRUE;

  g_mutex_lock (&self->lock);
  bucket = g_hash_table_lookup (self->buckets, client);
  if (bucket == NULL)
    {
      if (g_hash_table_size (self->buckets) >= self->max_clients)
        {
          forget (self, g_queue_peek_head (&self->recency));
          self->evictions++;
        }

      bucket = g_new0 (Bucket, 1);
      bucket->key = *client;
      bucket->tokens = self->burst;
      bucket->updated_us = now_us;
      bucket->link.data = bucket;
      g_hash_table_insert (self->buckets, &bucket->key, bucket);
    }
  else
    g_queue_unlink (&self->recency, &bucket->link);
  g_queue_push_tail_link (&self->recency, &bucket->link);

  bucket->tokens = MIN (self->burst,
                        bucket->tokens + MAX (now_us - bucket->updated_us, 0) * self->rate / G_USEC_PER_SEC);
  bucket->updated_us = now_us;

  allowed = bucket->tokens >= 1;
  if (allowed)
    bucket->tokens -= 1;
  else
    *retry_after = (guint) MAX (1, (1 - bucket->tokens) / self->rate + 0.999);
  g_mutex_unlock (&self->lock);

  return allowed;
}

/**
 * httpd_rate_sweep:
 *
 * Forgets the clients whose buckets have filled up again: remembering them
 * would change nothing.
 */
void
httpd_rate_sweep (HttpdRate *self,
                  gint64     now_us)
{
  Bucket *bucket;

  if (self->rate <= 0)
    return;

  g_mutex_lock (&self->lock);
  while ((bucket = g_queue_peek_head (&self->recency)) != NULL &&
         bucket->tokens + (now_us - bucket->updated_us) * self->rate / G_USEC_PER_SEC >= self->burst)
    forget (self, bucket);
  g_mutex_unlock (&self->lock);
}

guint
httpd_rate_get_n_clients (HttpdRate *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = g_hash_table_size (self->buckets);
  g_mutex_unlock (&self->lock);

  return n;
}

guint64
httpd_rate_get_evictions (HttpdRate *self)
{
  guint64 n;

  g_mutex_lock (&self->lock);
  n = self->evictions;
  g_mutex_unlock (&self->lock);

  return n;
}
