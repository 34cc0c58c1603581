/* relay-redis-subscriber.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sharded channels (Redis 7.0) live on the primary that owns their slot, so
 * the subscriber keeps one connection per primary that owns one of the
 * channels, and polls them all with the stop pipe. A fixed, small set of
 * channels rather than one per waiting mailbox: subscriptions never change
 * while the cluster does not, so there is no window between a reader
 * parking and its subscription taking effect, and re-subscribing after a
 * failure is one loop. The price is that every instance hears of every
 * write (docs/scaling.md counts it).
 *
 * A subscription can die silently (a partitioned node sends nothing): a
 * PING every second on each connection, and one left unanswered for the
 * timeout, ends it. A slot that moves away sends SUNSUBSCRIBE; a node that
 * dies closes its connections. Each of these tears every connection down
 * and subscribes again from a fresh slot map, with back-off.
 *
 * Messages come from the store, untrusted: a message that is not a
 * mailbox id is ignored.
 */

#define G_LOG_DOMAIN "relay-redis-subscriber"

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <hiredis/hiredis.h>

#include "relay-redis-cluster.h"
#include "relay-redis-subscriber.h"

#define N_CHANNELS          16
#define PING_INTERVAL_USEC  G_USEC_PER_SEC
#define BACKOFF_MIN_USEC    (10 * 1000)
#define BACKOFF_MAX_USEC    G_USEC_PER_SEC
/* A subscription that lasted this long was healthy: start the back-off over. */
#define HEALTHY_USEC        (10 * G_USEC_PER_SEC)
#define MAX_MESSAGE_LENGTH  64

struct _RelayRedisSubscriber
{
  GObject             parent_instance;

  GStrv               nodes;
  guint               timeout_ms;
  RelayRedisWakeFunc  func;
  gpointer            user_data;

  int                 stop_pipe[2];
  GThread            *thread;

  GMutex              lock;
  GCond               changed;
  gboolean            subscribed;
  guint64             subscriptions;
};

G_DEFINE_FINAL_TYPE (RelayRedisSubscriber, relay_redis_subscriber, G_TYPE_OBJECT)

typedef struct
{
  char         *address;
  redisContext *ctx;
  GPtrArray    *channels;
  gint64        ping_sent;   /* monotonic; 0: none unanswered */
} Link;

static void
link_free (Link *link)
{
  g_clear_pointer (&link->ctx, redisFree);
  g_ptr_array_unref (link->channels);
  g_free (link->address);
  g_free (link);
}

static char *
channel_name (guint n)
{
  return g_strdup_printf ("latchkey:wake:{%u}", n);
}

/**
 * relay_redis_wake_channel:
 *
 * Returns: the channel a write on @mailbox_id is published on
 */
char *
relay_redis_wake_channel (const char *mailbox_id)
{
  return channel_name (relay_redis_key_slot (mailbox_id, strlen (mailbox_id)) % N_CHANNELS);
}

static gboolean
is_string (const redisReply *reply,
           const char       *value)
{
  return reply != NULL && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) &&
         reply->str != NULL && (value == NULL || g_ascii_strcasecmp (reply->str, value) == 0);
}

static void
set_subscribed (RelayRedisSubscriber *self,
                gboolean              subscribed)
{
  g_mutex_lock (&self->lock);
  self->subscribed = subscribed;
  if (subscribed)
    self->subscriptions++;
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
}

/* Subscribes to every channel, each on the primary that owns its slot. */
static gboolean
subscribe_all (RelayRedisSubscriber  *self,
               RelayRedisCluster     *cluster,
               GPtrArray             *links,
               GError               **error)
{
  g_autoptr(GHashTable) by_address = g_hash_table_new (g_str_hash, g_str_equal);

  if (!relay_redis_cluster_refresh (cluster, error))
    return FALSE;

  for (guint n = 0; n < N_CHANNELS; n++)
    {
      g_autofree char *channel = channel_name (n);
      g_autofree char *address = relay_redis_cluster_address_for_slot (cluster,
                                                                       relay_redis_key_slot (channel, strlen (channel)));
      Link *link;

      if (address == NULL)
        {
          g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "No node serves channel %s", channel);
          return FALSE;
        }
      link = g_hash_table_lookup (by_address, address);
      if (link == NULL)
        {
          link = g_new0 (Link, 1);
          link->address = g_steal_pointer (&address);
          link->channels = g_ptr_array_new_with_free_func (g_free);
          g_ptr_array_add (links, link);
          g_hash_table_insert (by_address, link->address, link);
        }
      g_ptr_array_add (link->channels, g_steal_pointer (&channel));
    }

  for (guint i = 0; i < links->len; i++)
    {
      Link *link = g_ptr_array_index (links, i);

      link->ctx = relay_redis_cluster_connect_new (cluster, link->address, error);
      if (link->ctx == NULL)
        return FALSE;

      /* One command per channel, pipelined: the channels of one SSUBSCRIBE
       * must share a slot (CROSSSLOT otherwise). */
      for (guint c = 0; c < link->channels->len; c++)
        {
          const char *argv[] = { "SSUBSCRIBE", g_ptr_array_index (link->channels, c) };

          if (redisAppendCommandArgv (link->ctx, G_N_ELEMENTS (argv), argv, NULL) != REDIS_OK)
            {
              g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s",
                           link->address, link->ctx->errstr);
              return FALSE;
            }
        }

      /* One confirmation per channel: [ssubscribe, channel, count]. */
      for (guint c = 0; c < link->channels->len; c++)
        {
          g_autoptr(redisReply) reply = NULL;

          if (redisGetReply (link->ctx, (void **) &reply) != REDIS_OK || reply == NULL)
            {
              g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s",
                           link->address, link->ctx->errstr);
              return FALSE;
            }
          if (reply->type == REDIS_REPLY_ERROR)
            {
              /* MOVED: the map changed meanwhile; the next round reads it again. */
              g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_REPLY, "Redis node %s refused SSUBSCRIBE: %.200s",
                           link->address, reply->str != NULL ? reply->str : "");
              return FALSE;
            }
          if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
              !is_string (reply->element[0], "ssubscribe") || !is_string (reply->element[1], NULL) ||
              reply->element[2]->type != REDIS_REPLY_INTEGER)
            {
              g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL,
                           "Redis node %s answered SSUBSCRIBE with something else", link->address);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* FALSE: this subscription is over (a node failed or moved a slot, or
 * answered what a subscriber is not sent). */
static gboolean
handle_reply (RelayRedisSubscriber *self,
              Link                 *link,
              const redisReply     *reply,
              GError              **error)
{
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 && is_string (reply->element[0], NULL))
    {
      const char *kind = reply->element[0]->str;

      if (g_ascii_strcasecmp (kind, "smessage") == 0 && reply->elements == 3)
        {
          const redisReply *payload = reply->element[2];

          if (is_string (payload, NULL) && payload->len <= MAX_MESSAGE_LENGTH &&
              strlen (payload->str) == payload->len && g_uuid_string_is_valid (payload->str))
            self->func (payload->str, self->user_data);
          else
            g_debug ("Ignored a wake-up message that is not a mailbox id");
          return TRUE;
        }
      if (g_ascii_strcasecmp (kind, "pong") == 0)
        {
          link->ping_sent = 0;
          return TRUE;
        }
      if (g_ascii_strcasecmp (kind, "ssubscribe") == 0)
        return TRUE;
      if (g_ascii_strcasecmp (kind, "sunsubscribe") == 0)
        {
          g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                       "Redis node %s no longer serves a wake-up channel (its slot moved)", link->address);
          return FALSE;
        }
    }

  if (reply->type == REDIS_REPLY_ERROR)
    g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_REPLY, "Redis node %s: %.200s", link->address,
                 reply->str != NULL ? reply->str : "");
  else
    g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL,
                 "Redis node %s sent a subscriber something else than a message", link->address);
  return FALSE;
}

static gboolean
send_ping (Link    *link,
           GError **error)
{
  int done = 0;

  if (redisAppendCommand (link->ctx, "PING") != REDIS_OK)
    goto failed;
  while (!done)
    if (redisBufferWrite (link->ctx, &done) != REDIS_OK)
      goto failed;
  link->ping_sent = g_get_monotonic_time ();
  return TRUE;

failed:
  g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s", link->address,
               link->ctx->errstr);
  return FALSE;
}

/* Hands messages to func until the subscription ends (FALSE, @error says
 * why) or stop is asked (TRUE). */
static gboolean
listen_links (RelayRedisSubscriber  *self,
              GPtrArray             *links,
              GError               **error)
{
  g_autofree struct pollfd *fds = g_new0 (struct pollfd, links->len + 1);
  gint64 next_ping = g_get_monotonic_time () + PING_INTERVAL_USEC;
  gint64 timeout = (gint64) self->timeout_ms * 1000;

  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      int ready;

      fds[0] = (struct pollfd) { .fd = self->stop_pipe[0], .events = POLLIN };
      for (guint i = 0; i < links->len; i++)
        fds[i + 1] = (struct pollfd) { .fd = ((Link *) g_ptr_array_index (links, i))->ctx->fd, .events = POLLIN };

      ready = poll (fds, links->len + 1, (int) (MAX (next_ping - now, 0) / 1000 + 1));
      if (ready < 0 && errno != EINTR)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "poll: %s", g_strerror (errno));
          return FALSE;
        }
      if (ready > 0 && fds[0].revents != 0)
        return TRUE;

      for (guint i = 0; ready > 0 && i < links->len; i++)
        {
          Link *link = g_ptr_array_index (links, i);

          if (fds[i + 1].revents == 0)
            continue;
          if (redisBufferRead (link->ctx) != REDIS_OK)
            {
              g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s",
                           link->address, link->ctx->errstr);
              return FALSE;
            }
          for (;;)
            {
              g_autoptr(redisReply) reply = NULL;

              if (redisGetReplyFromReader (link->ctx, (void **) &reply) != REDIS_OK)
                {
                  g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL, "Redis node %s: %s",
                               link->address, link->ctx->errstr);
                  return FALSE;
                }
              if (reply == NULL)
                break;
              if (!handle_reply (self, link, reply, error))
                return FALSE;
            }
        }

      now = g_get_monotonic_time ();
      if (now < next_ping)
        continue;
      for (guint i = 0; i < links->len; i++)
        {
          Link *link = g_ptr_array_index (links, i);

          if (link->ping_sent != 0)
            {
              if (now - link->ping_sent > timeout)
                {
                  g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                               "Redis node %s did not answer a PING in %u ms", link->address, self->timeout_ms);
                  return FALSE;
                }
              continue;
            }
          if (!send_ping (link, error))
            return FALSE;
        }
      next_ping = now + PING_INTERVAL_USEC;
    }
}

/* TRUE if stop was asked meanwhile. */
static gboolean
pause_or_stop (RelayRedisSubscriber *self,
               gint64                usec)
{
  struct pollfd fd = { .fd = self->stop_pipe[0], .events = POLLIN };

  return poll (&fd, 1, (int) (usec / 1000)) > 0;
}

static gpointer
subscriber_thread (gpointer data)
{
  RelayRedisSubscriber *self = data;
  g_autoptr(RelayRedisCluster) cluster = relay_redis_cluster_new ((const char * const *) self->nodes,
                                                                  self->timeout_ms);
  gint64 backoff = 0;
  gboolean told = FALSE;   /* that it is not subscribed, once per outage */

  for (;;)
    {
      g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func ((GDestroyNotify) link_free);
      g_autoptr(GError) error = NULL;

      if (subscribe_all (self, cluster, links, &error))
        {
          gint64 since = g_get_monotonic_time ();
          gboolean stop;

          set_subscribed (self, TRUE);
          if (told)
            g_message ("Subscribed again to wake-ups from other relay instances");
          told = FALSE;
          /* Whatever was published while not subscribed is lost: every
           * waiting read looks again. */
          self->func (NULL, self->user_data);

          stop = listen_links (self, links, &error);
          set_subscribed (self, FALSE);
          if (stop)
            break;
          if (g_get_monotonic_time () - since > HEALTHY_USEC)
            backoff = 0;
        }

      if (!told)
        g_message ("Not subscribed to wake-ups from other relay instances (%s): their writes reach waiting reads "
                   "here when this is back, or at the end of each wait", error->message);
      else
        g_debug ("Still not subscribed: %s", error->message);
      told = TRUE;

      backoff = CLAMP (backoff * 2, BACKOFF_MIN_USEC, BACKOFF_MAX_USEC);
      g_clear_pointer (&links, g_ptr_array_unref);
      if (pause_or_stop (self, backoff))
        break;
    }

  return NULL;
}

/**
 * relay_redis_subscriber_wait_subscribed:
 *
 * Waits until subscribed, for at most @timeout_ms: an instance that starts
 * should serve once it will hear of other instances' writes.
 *
 * Returns: whether it is subscribed
 */
gboolean
relay_redis_subscriber_wait_subscribed (RelayRedisSubscriber *self,
                                        guint                 timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean subscribed;

  g_mutex_lock (&self->lock);
  while (!self->subscribed && g_cond_wait_until (&self->changed, &self->lock, deadline))
    ;
  subscribed = self->subscribed;
  g_mutex_unlock (&self->lock);

  return subscribed;
}

/**
 * relay_redis_subscriber_get_subscriptions:
 *
 * Returns: how many times it subscribed (1 if it never had to again)
 */
guint64
relay_redis_subscriber_get_subscriptions (RelayRedisSubscriber *self)
{
  guint64 n;

  g_mutex_lock (&self->lock);
  n = self->subscriptions;
  g_mutex_unlock (&self->lock);

  return n;
}

/**
 * relay_redis_subscriber_stop:
 *
 * Returns once func will not be called again.
 */
void
relay_redis_subscriber_stop (RelayRedisSubscriber *self)
{
  if (self->thread == NULL)
    return;

  while (write (self->stop_pipe[1], "x", 1) < 0 && errno == EINTR)
    ;
  g_thread_join (g_steal_pointer (&self->thread));
}

static void
relay_redis_subscriber_finalize (GObject *object)
{
  RelayRedisSubscriber *self = (RelayRedisSubscriber *) object;

  relay_redis_subscriber_stop (self);
  for (guint i = 0; i < 2; i++)
    if (self->stop_pipe[i] >= 0)
      close (self->stop_pipe[i]);
  g_strfreev (self->nodes);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->changed);

  G_OBJECT_CLASS (relay_redis_subscriber_parent_class)->finalize (object);
}

static void
relay_redis_subscriber_class_init (RelayRedisSubscriberClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = relay_redis_subscriber_finalize;
}

static void
relay_redis_subscriber_init (RelayRedisSubscriber *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->changed);
  self->stop_pipe[0] = self->stop_pipe[1] = -1;
}

/**
 * relay_redis_subscriber_new:
 * @nodes: host:port of one or more cluster nodes
 * @timeout_ms: for connecting, for each answer, and for a PING's answer
 * @func: called on the subscriber's thread (see the header)
 *
 * Starts subscribing at once, in the background.
 */
RelayRedisSubscriber *
relay_redis_subscriber_new (const char * const *nodes,
                            guint               timeout_ms,
                            RelayRedisWakeFunc  func,
                            gpointer            user_data)
{
  RelayRedisSubscriber *self = g_object_new (RELAY_TYPE_REDIS_SUBSCRIBER, NULL);
  g_autoptr(GError) error = NULL;

  self->nodes = g_strdupv ((char **) nodes);
  self->timeout_ms = MAX (timeout_ms, 1);
  self->func = func;
  self->user_data = user_data;
  if (!g_unix_open_pipe (self->stop_pipe, FD_CLOEXEC, &error))
    g_error ("Cannot make a pipe: %s", error->message);
  self->thread = g_thread_new ("relay-redis-subscriber", subscriber_thread, self);

  return self;
}
