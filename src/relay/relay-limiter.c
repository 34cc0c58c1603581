/* relay-limiter.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Client addresses are kept only here, in memory, and only as a keyed hash:
 * the key is random per process, so nothing here maps back to an address
 * after a restart, and nothing of it is ever written with a mailbox.
 */

#define G_LOG_DOMAIN "relay-limiter"

#include "config.h"

#include <gnutls/crypto.h>

#include "lk-crypto.h"
#include "relay-limiter.h"

/* A client idle this long has a full bucket again and can be forgotten. */
#define IDLE_USEC (10 * G_USEC_PER_SEC)

typedef struct
{
  double  tokens;
  gint64  updated_us;
  guint   mailboxes;   /* live, or being created */
} Client;

typedef struct
{
  char   *client;
  gint64  expires;
} Owner;

struct _RelayLimiter
{
  GMutex      lock;
  double      rate;
  double      burst;
  guint       max_mailboxes;
  guint       max_clients;
  guint8      key[32];
  GHashTable *clients;    /* client key → Client */
  GHashTable *owners;     /* mailbox id → Owner */
};

static void
owner_free (Owner *owner)
{
  g_free (owner->client);
  g_free (owner);
}

/**
 * relay_limiter_new:
 * @rate: requests per second each client may make, on average (0: no limit)
 * @burst: how many it may make at once
 * @max_mailboxes: live mailboxes per client (0: no limit)
 * @max_clients: clients tracked at once; beyond, new ones share one bucket
 */
RelayLimiter *
relay_limiter_new (double rate,
                   double burst,
                   guint  max_mailboxes,
                   guint  max_clients)
{
  RelayLimiter *self = g_new0 (RelayLimiter, 1);

  g_mutex_init (&self->lock);
  self->rate = rate;
  self->burst = MAX (burst, 1);
  self->max_mailboxes = max_mailboxes;
  self->max_clients = MAX (max_clients, 1);
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->owners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) owner_free);
  lk_crypto_random (self->key, sizeof self->key, NULL);

  return self;
}

void
relay_limiter_free (RelayLimiter *self)
{
  g_hash_table_unref (self->clients);
  g_hash_table_unref (self->owners);
  gnutls_memset (self->key, 0, sizeof self->key);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/**
 * relay_limiter_client_key:
 *
 * Returns: a keyed hash of @address, the only form in which it is kept
 */
char *
relay_limiter_client_key (RelayLimiter *self,
                          const char   *address)
{
  guint8 digest[32];

  gnutls_hmac_fast (GNUTLS_MAC_SHA256, self->key, sizeof self->key,
                    address, strlen (address), digest);
  return lk_base64url_encode (digest, 16);
}

/* The caller holds the lock. */
static Client *
get_client (RelayLimiter *self,
            const char   *key,
            gint64        now_us)
{
  Client *client = g_hash_table_lookup (self->clients, key);

  if (client != NULL)
    return client;

  /* A flood of addresses must not grow the table without bound: past the
   * limit, unknown clients share one bucket, which throttles the flood. */
  if (g_hash_table_size (self->clients) >= self->max_clients)
    key = "overflow";

  client = g_hash_table_lookup (self->clients, key);
  if (client == NULL)
    {
      client = g_new0 (Client, 1);
      client->tokens = self->burst;
      client->updated_us = now_us;
      g_hash_table_insert (self->clients, g_strdup (key), client);
    }

  return client;
}

/**
 * relay_limiter_allow:
 * @retry_after: (out): seconds until a request would be allowed
 *
 * Takes one token from @client's bucket.
 */
gboolean
relay_limiter_allow (RelayLimiter *self,
                     const char   *client_key,
                     gint64        now_us,
                     guint        *retry_after)
{
  Client *client;
  gboolean allowed;

  if (self->rate <= 0)
    return TRUE;

  g_mutex_lock (&self->lock);
  client = get_client (self, client_key, now_us);
  client->tokens = MIN (self->burst,
                        client->tokens + (now_us - client->updated_us) * self->rate / G_USEC_PER_SEC);
  client->updated_us = now_us;

  allowed = client->tokens >= 1;
  if (allowed)
    client->tokens -= 1;
  else
    *retry_after = (guint) MAX (1, (1 - client->tokens) / self->rate + 0.999);
  g_mutex_unlock (&self->lock);

  return allowed;
}

/**
 * relay_limiter_reserve_mailbox:
 *
 * Counts a mailbox that @client is creating. Follow with
 * relay_limiter_commit_mailbox() or relay_limiter_cancel_mailbox().
 *
 * Returns: %FALSE if @client has as many live mailboxes as allowed
 */
gboolean
relay_limiter_reserve_mailbox (RelayLimiter *self,
                               const char   *client_key)
{
  Client *client;
  gboolean allowed;

  if (self->max_mailboxes == 0)
    return TRUE;

  g_mutex_lock (&self->lock);
  client = get_client (self, client_key, g_get_monotonic_time ());
  allowed = client->mailboxes < self->max_mailboxes;
  if (allowed)
    client->mailboxes++;
  g_mutex_unlock (&self->lock);

  return allowed;
}

void
relay_limiter_commit_mailbox (RelayLimiter *self,
                              const char   *client_key,
                              const char   *mailbox_id,
                              gint64        expires)
{
  Owner *owner;

  if (self->max_mailboxes == 0)
    return;

  owner = g_new0 (Owner, 1);
  owner->client = g_strdup (client_key);
  owner->expires = expires;

  g_mutex_lock (&self->lock);
  g_hash_table_replace (self->owners, g_strdup (mailbox_id), owner);
  g_mutex_unlock (&self->lock);
}

static void
release (RelayLimiter *self,
         const char   *client_key)
{
  Client *client = g_hash_table_lookup (self->clients, client_key);

  if (client != NULL && client->mailboxes > 0)
    client->mailboxes--;
}

void
relay_limiter_cancel_mailbox (RelayLimiter *self,
                              const char   *client_key)
{
  if (self->max_mailboxes == 0)
    return;

  g_mutex_lock (&self->lock);
  release (self, client_key);
  g_mutex_unlock (&self->lock);
}

/**
 * relay_limiter_forget_mailbox:
 *
 * A mailbox was deleted: its creator may create another.
 */
void
relay_limiter_forget_mailbox (RelayLimiter *self,
                              const char   *mailbox_id)
{
  Owner *owner;

  if (self->max_mailboxes == 0)
    return;

  g_mutex_lock (&self->lock);
  owner = g_hash_table_lookup (self->owners, mailbox_id);
  if (owner != NULL)
    {
      release (self, owner->client);
      g_hash_table_remove (self->owners, mailbox_id);
    }
  g_mutex_unlock (&self->lock);
}

/**
 * relay_limiter_sweep:
 *
 * Releases expired mailboxes and forgets idle clients that own none.
 */
void
relay_limiter_sweep (RelayLimiter *self,
                     gint64        now,
                     gint64        now_us)
{
  GHashTableIter iter;
  gpointer key, value;

  g_mutex_lock (&self->lock);

  g_hash_table_iter_init (&iter, self->owners);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Owner *owner = value;

      if (owner->expires <= now)
        {
          release (self, owner->client);
          g_hash_table_iter_remove (&iter);
        }
    }

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Client *client = value;

      if (client->mailboxes == 0 && now_us - client->updated_us > IDLE_USEC)
        g_hash_table_iter_remove (&iter);
    }

  g_mutex_unlock (&self->lock);
}

guint
relay_limiter_get_n_clients (RelayLimiter *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = g_hash_table_size (self->clients);
  g_mutex_unlock (&self->lock);

  return n;
}
