/* partner-challenges.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A challenge lives for a minute and is used once, so losing them in a
 * restart costs a client one retry: memory is enough. All have the same
 * lifetime, so issue order is expiry order: one queue of all of them forgets
 * the expired, and one queue per client finds that client's oldest.
 *
 * A flood must not push out anyone else's challenge: a client over its own
 * share loses its own oldest, and when all places are taken new challenges
 * are refused (the caller answers 503), never someone else's evicted.
 */

#define G_LOG_DOMAIN "partner-challenges"

#include "config.h"

#include "latchkey-protocol.h"
#include "partner-challenges.h"

#define CHALLENGE_BYTES 32

typedef struct
{
  HttpdKey key;       /* also the hash table's key */
  GQueue   entries;   /* the client's challenges, oldest first (Entry.client_link) */
} Client;

typedef struct
{
  GList   link;         /* in the queue; data points back at the entry */
  GList   client_link;  /* in its client's queue */
  Client *client;
  char   *text;         /* also the hash table's key */
  gint64  expires;      /* monotonic µs */
} Entry;

struct _PartnerChallenges
{
  GMutex      lock;
  GHashTable *by_text;    /* text → Entry, owning */
  GHashTable *by_client;  /* HttpdKey → Client, owning */
  GQueue      order;      /* oldest first */
  guint       max_outstanding;
  guint       max_per_client;
  gint64      lifetime;
};

G_DEFINE_QUARK (partner-challenges-error-quark, partner_challenges_error)

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_free (entry->text);
  g_free (entry);
}

/**
 * partner_challenges_new:
 * @max_outstanding: challenges outstanding at once; more are refused
 * @max_per_client: of them, one client's; beyond, its own oldest goes
 */
PartnerChallenges *
partner_challenges_new (guint  max_outstanding,
                        guint  max_per_client,
                        gint64 lifetime_usec)
{
  PartnerChallenges *self;

  g_return_val_if_fail (max_outstanding > 0 && max_per_client > 0, NULL);

  self = g_new0 (PartnerChallenges, 1);
  g_mutex_init (&self->lock);
  self->by_text = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  self->by_client = g_hash_table_new_full (httpd_key_hash, httpd_key_equal, NULL, g_free);
  g_queue_init (&self->order);
  self->max_outstanding = max_outstanding;
  self->max_per_client = max_per_client;
  self->lifetime = lifetime_usec;

  return self;
}

void
partner_challenges_free (PartnerChallenges *self)
{
  if (self == NULL)
    return;

  /* The queue's links live inside the entries the table frees. */
  g_queue_init (&self->order);
  g_hash_table_unref (self->by_text);
  g_hash_table_unref (self->by_client);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* Called with the lock held. */
static void
drop (PartnerChallenges *self,
      Entry             *entry)
{
  Client *client = entry->client;

  g_queue_unlink (&self->order, &entry->link);
  g_queue_unlink (&client->entries, &entry->client_link);
  if (client->entries.length == 0)
    g_hash_table_remove (self->by_client, &client->key);
  g_hash_table_remove (self->by_text, entry->text);
}

static void
forget_expired (PartnerChallenges *self,
                gint64             now_usec)
{
  GList *head;

  while ((head = g_queue_peek_head_link (&self->order)) != NULL &&
         ((Entry *) head->data)->expires <= now_usec)
    drop (self, head->data);
}

/**
 * partner_challenges_issue:
 * @client: who asks, for the per-client share
 *
 * Returns: (transfer full): a new challenge, base64url of 32 random bytes;
 *   %NULL with %PARTNER_CHALLENGES_ERROR_FULL if every place is taken
 */
char *
partner_challenges_issue (PartnerChallenges  *self,
                          const HttpdKey     *key,
                          gint64              now_usec,
                          GError            **error)
{
  guint8 bytes[CHALLENGE_BYTES];
  Entry *entry, *old;
  Client *client;
  char *text;

  if (!lk_crypto_random (bytes, sizeof bytes, error))
    return NULL;

  entry = g_new0 (Entry, 1);
  entry->text = lk_base64url_encode (bytes, sizeof bytes);
  entry->expires = now_usec + self->lifetime;
  entry->link.data = entry;
  entry->client_link.data = entry;

  g_mutex_lock (&self->lock);
  forget_expired (self, now_usec);

  client = g_hash_table_lookup (self->by_client, key);
  /* Over its share, a client makes room among its own. */
  while (client != NULL && client->entries.length >= self->max_per_client)
    {
      drop (self, g_queue_peek_head (&client->entries));
      client = g_hash_table_lookup (self->by_client, key);
    }
  if (g_queue_get_length (&self->order) >= self->max_outstanding)
    {
      g_mutex_unlock (&self->lock);
      entry_free (entry);
      g_set_error_literal (error, PARTNER_CHALLENGES_ERROR, PARTNER_CHALLENGES_ERROR_FULL,
                           "Too many challenges are outstanding");
      return NULL;
    }

  /* 256 random bits do not collide; if they ever did, the older one goes. */
  old = g_hash_table_lookup (self->by_text, entry->text);
  if (old != NULL)
    drop (self, old);

  client = g_hash_table_lookup (self->by_client, key);
  if (client == NULL)
    {
      client = g_new0 (Client, 1);
      client->key = *key;
      g_queue_init (&client->entries);
      g_hash_table_insert (self->by_client, &client->key, client);
    }
  entry->client = client;
  text = g_strdup (entry->text);
  g_queue_push_tail_link (&self->order, &entry->link);
  g_queue_push_tail_link (&client->entries, &entry->client_link);
  g_hash_table_insert (self->by_text, entry->text, entry);
  g_mutex_unlock (&self->lock);

  return text;
}

/**
 * partner_challenges_consume:
 *
 * A challenge is gone once presented, whatever the request it came with
 * turns out to be: a failed attempt cannot be replayed either.
 *
 * Returns: whether @challenge was issued, has not expired and was not used
 */
gboolean
partner_challenges_consume (PartnerChallenges *self,
                            const char        *challenge,
                            gint64             now_usec)
{
  Entry *entry;
  gboolean live = FALSE;

  if (challenge == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  entry = g_hash_table_lookup (self->by_text, challenge);
  if (entry != NULL)
    {
      live = entry->expires > now_usec;
      drop (self, entry);
    }
  g_mutex_unlock (&self->lock);

  return live;
}

guint
partner_challenges_get_count (PartnerChallenges *self)
{
  guint count;

  g_mutex_lock (&self->lock);
  count = g_queue_get_length (&self->order);
  g_mutex_unlock (&self->lock);

  return count;
}
