/* relay-redis-cluster.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * hiredis speaks to one server; a cluster client must route each key to the
 * primary that owns its slot (CRC16 of the key, or of its {hash tag}, mod
 * 16384), follow MOVED (the slot lives elsewhere now: update the map, retry)
 * and ASK (the slot is being migrated: ASKING, then retry there once), and
 * learn the map from CLUSTER SLOTS. This is that, synchronously, for one
 * thread: each store worker has its own client, so no locks are needed.
 *
 * The store's answers are untrusted input. Every reply is type-checked
 * before use, and a reply of the wrong shape is an error, never a crash.
 * Every connection has a timeout for connecting and for each command, and
 * a command (with its redirections, reconnections and map refreshes) stops
 * trying once it has tried for twice that: a store that hangs costs a
 * command a few timeouts, never a minute. A node that failed is not tried
 * again before its back-off (doubling, at most a second) has passed, and
 * its back-off ends only when it answers: a node that hangs still accepts
 * connections (the kernel does), and would cost a timeout on each.
 */

#define G_LOG_DOMAIN "relay-redis-cluster"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "relay-redis-cluster.h"

/* Redirections and reconnections one command may take: a failover or a
 * migration needs two or three; more means the cluster is unsettled and the
 * caller should be told (503) rather than kept waiting. */
#define MAX_ATTEMPTS        6
#define BACKOFF_MIN_USEC    (10 * 1000)
#define BACKOFF_MAX_USEC    (1000 * 1000)
/* How long a command keeps trying, in timeouts: room for a failover's
 * reconnection and refresh, not for a timeout on every node. */
#define BUDGET_TIMEOUTS     2
/* CLUSTER SLOTS of a sane cluster has one entry per slot range; more than
 * one per slot is not a cluster. */
#define MAX_SLOT_RANGES     RELAY_REDIS_SLOTS
#define MAX_HOST_LENGTH     255

G_DEFINE_QUARK (relay-redis-error-quark, relay_redis_error)

typedef struct
{
  char         *host;
  int           port;
  char         *address;      /* host:port, the table's key */
  redisContext *ctx;          /* NULL while disconnected */
  gint64        retry_after;  /* monotonic; no connection attempt before */
  gint64        backoff;      /* usec, doubled by each failure until an answer */
  gboolean      lost;         /* a connection failed; the next one is a reconnection */
} Node;

struct _RelayRedisCluster
{
  GObject     parent_instance;

  GStrv       seeds;
  guint       timeout_ms;
  GHashTable *nodes;                       /* address → Node, never removed while alive */
  Node      **slots;                       /* RELAY_REDIS_SLOTS of them; NULL: unknown */
  gboolean    stale;                       /* refresh the map before the next command */
  guint       max_attempts;
  gint64      deadline;                    /* monotonic; 0: none (set_deadline()) */
  GPtrArray  *deferred;                    /* of Deferred: clean-ups asked after it */
  Node       *last_node;                   /* where the last command ran, for WAIT */
  redisContext *last_ctx;                  /* on which connection */
  guint64     redirects;
  guint64     reconnects;
};

G_DEFINE_FINAL_TYPE (RelayRedisCluster, relay_redis_cluster, G_TYPE_OBJECT)

/* A clean-up kept past the caller's deadline, with copies of its words. */
typedef struct
{
  char        *key;
  RelayRedisCommandFlags flags;
  int          argc;
  char       **argv;
  size_t      *argvlen;
} Deferred;

/* Clean-ups kept at most; more are dropped (as if they had failed). */
#define MAX_DEFERRED 4096

/* Copies of a command's words (binary-safe: @argvlen, or NUL-terminated). */
static Deferred *
deferred_new (const char              *key,
              RelayRedisCommandFlags   flags,
              int                      argc,
              const char             **argv,
              const size_t            *argvlen)
{
  Deferred *d = g_new0 (Deferred, 1);

  d->key = g_strdup (key);
  d->flags = flags;
  d->argc = argc;
  d->argv = g_new0 (char *, argc);
  d->argvlen = g_new0 (size_t, argc);
  for (int i = 0; i < argc; i++)
    {
      d->argvlen[i] = argvlen != NULL ? argvlen[i] : strlen (argv[i]);
      d->argv[i] = g_malloc (d->argvlen[i] + 1);
      memcpy (d->argv[i], argv[i], d->argvlen[i]);
      d->argv[i][d->argvlen[i]] = '\0';
    }
  return d;
}

static void
deferred_free (Deferred *d)
{
  for (int i = 0; i < d->argc; i++)
    g_free (d->argv[i]);
  g_free (d->argv);
  g_free (d->argvlen);
  g_free (d->key);
  g_free (d);
}

static void
node_free (Node *node)
{
  g_clear_pointer (&node->ctx, redisFree);
  g_free (node->host);
  g_free (node->address);
  g_free (node);
}

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), as Redis Cluster's
 * key slots use it. Bitwise: a command costs far more than this loop. */
static guint16
crc16 (const char *data,
       gsize       length)
{
  guint16 crc = 0;

  for (gsize i = 0; i < length; i++)
    {
      crc ^= (guint16) ((guint8) data[i] << 8);
      for (int bit = 0; bit < 8; bit++)
        crc = (crc & 0x8000) ? (guint16) ((crc << 1) ^ 0x1021) : (guint16) (crc << 1);
    }
  return crc;
}

/**
 * relay_redis_key_slot:
 *
 * Returns: the cluster slot of @key: of the part between the first `{` and
 *   the next `}` if that part is not empty, else of the whole key
 */
guint
relay_redis_key_slot (const char *key,
                      gsize       length)
{
  const char *open = memchr (key, '{', length);

  if (open != NULL)
    {
      gsize start = (gsize) (open - key) + 1;
      const char *close = memchr (open + 1, '}', length - start);

      if (close != NULL && close > open + 1)
        return crc16 (open + 1, (gsize) (close - open - 1)) & (RELAY_REDIS_SLOTS - 1);
    }
  return crc16 (key, length) & (RELAY_REDIS_SLOTS - 1);
}

static gboolean
split_address (const char  *address,
               char       **host,
               int         *port)
{
  const char *colon = strrchr (address, ':');
  guint64 value;

  if (colon == NULL || colon == address || (gsize) (colon - address) > MAX_HOST_LENGTH)
    return FALSE;
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &value, NULL))
    return FALSE;
  /* Bracketed IPv6 ([::1]:7000) or a name or IPv4 address without spaces. */
  for (const char *p = address; p < colon; p++)
    if (g_ascii_isspace (*p) || *p == ',' || *p == '/')
      return FALSE;

  if (host != NULL)
    {
      if (address[0] == '[' && colon[-1] == ']')
        *host = g_strndup (address + 1, (gsize) (colon - address) - 2);
      else
        *host = g_strndup (address, (gsize) (colon - address));
    }
  if (port != NULL)
    *port = (int) value;
  return TRUE;
}

/**
 * relay_redis_parse_nodes:
 * @text: `host:port,host:port,…` (spaces around the commas are allowed)
 *
 * Returns: whether @text names at least one node, each as host:port
 */
gboolean
relay_redis_parse_nodes (const char  *text,
                         GStrv       *nodes,
                         GError     **error)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  guint n = 0;

  if (text == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "redis-nodes is empty: name at least one node as host:port");
      return FALSE;
    }

  parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *part = g_strstrip (parts[i]);

      if (!split_address (part, NULL, NULL))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "redis-nodes: “%s” is not host:port", part);
          return FALSE;
        }
      g_strv_builder_add (builder, part);
      n++;
    }

  if (n == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "redis-nodes is empty: name at least one node as host:port");
      return FALSE;
    }
  if (nodes != NULL)
    *nodes = g_strv_builder_end (builder);
  return TRUE;
}

static Node *
node_get (RelayRedisCluster *self,
          const char        *host,
          int                port)
{
  g_autofree char *address = strchr (host, ':') != NULL ? g_strdup_printf ("[%s]:%d", host, port)
                                                        : g_strdup_printf ("%s:%d", host, port);
  Node *node = g_hash_table_lookup (self->nodes, address);

  if (node != NULL)
    return node;

  node = g_new0 (Node, 1);
  node->host = g_strdup (host);
  node->port = port;
  node->address = g_steal_pointer (&address);
  g_hash_table_insert (self->nodes, node->address, node);
  return node;
}

static Node *
node_get_address (RelayRedisCluster *self,
                  const char        *address)
{
  g_autofree char *host = NULL;
  int port;

  if (!split_address (address, &host, &port))
    return NULL;
  return node_get (self, host, port);
}

static void
node_failed (RelayRedisCluster *self,
             Node              *node)
{
  g_clear_pointer (&node->ctx, redisFree);
  node->lost = TRUE;
  node->backoff = CLAMP (node->backoff * 2, BACKOFF_MIN_USEC, BACKOFF_MAX_USEC);
  node->retry_after = g_get_monotonic_time () + node->backoff;
  self->stale = TRUE;
}

/* The node answered: its next failure starts its back-off afresh. */
static void
node_answered (Node *node)
{
  node->backoff = 0;
}

static redisContext *
node_connect (RelayRedisCluster  *self,
              Node               *node,
              GError            **error)
{
  struct timeval tv = { self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000 };
  redisContext *ctx;

  if (node->ctx != NULL)
    return node->ctx;

  if (g_get_monotonic_time () < node->retry_after)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                   "Redis node %s is backing off after a failure", node->address);
      return NULL;
    }

  ctx = redisConnectWithTimeout (node->host, node->port, tv);
  if (ctx == NULL || ctx->err != 0 || redisSetTimeout (ctx, tv) != REDIS_OK)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Cannot connect to Redis node %s: %s",
                   node->address, ctx != NULL ? ctx->errstr : "out of memory");
      g_clear_pointer (&ctx, redisFree);
      node_failed (self, node);
      return NULL;
    }

  node->ctx = ctx;
  if (node->lost)
    self->reconnects++;
  node->lost = FALSE;
  return ctx;
}

static gboolean
reply_is_string (const redisReply *reply)
{
  return reply != NULL && reply->type == REDIS_REPLY_STRING && reply->str != NULL;
}

/* One CLUSTER SLOTS entry: [start, end, [host, port, id, …], replicas…]. */
static gboolean
apply_slot_range (RelayRedisCluster *self,
                  Node              *asked,
                  const redisReply  *entry,
                  Node             **map)
{
  const redisReply *primary;
  const char *host;
  Node *node;

  if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 3 ||
      entry->element[0]->type != REDIS_REPLY_INTEGER || entry->element[1]->type != REDIS_REPLY_INTEGER)
    return FALSE;
  if (entry->element[0]->integer < 0 || entry->element[1]->integer >= RELAY_REDIS_SLOTS ||
      entry->element[0]->integer > entry->element[1]->integer)
    return FALSE;

  primary = entry->element[2];
  if (primary->type != REDIS_REPLY_ARRAY || primary->elements < 2 || !reply_is_string (primary->element[0]) ||
      primary->element[0]->len > MAX_HOST_LENGTH || primary->element[1]->type != REDIS_REPLY_INTEGER ||
      primary->element[1]->integer < 1 || primary->element[1]->integer > 65535)
    return FALSE;

  /* An empty or "?" host means: the address you asked. */
  host = primary->element[0]->str;
  if (*host == '\0' || g_str_equal (host, "?"))
    host = asked->host;
  if (strlen (host) != primary->element[0]->len && host == primary->element[0]->str)
    return FALSE;   /* a NUL inside */

  node = node_get (self, host, (int) primary->element[1]->integer);
  for (long long slot = entry->element[0]->integer; slot <= entry->element[1]->integer; slot++)
    map[slot] = node;
  return TRUE;
}

static gboolean
refresh_from (RelayRedisCluster  *self,
              Node               *node,
              GError            **error)
{
  g_autoptr(redisReply) reply = NULL;
  g_autofree Node **map = g_new0 (Node *, RELAY_REDIS_SLOTS);
  redisContext *ctx = node_connect (self, node, error);

  if (ctx == NULL)
    return FALSE;

  reply = redisCommand (ctx, "CLUSTER SLOTS");
  if (reply == NULL)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s", node->address,
                   ctx->errstr);
      node_failed (self, node);
      return FALSE;
    }
  node_answered (node);
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0 || reply->elements > MAX_SLOT_RANGES)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL,
                   "Redis node %s gave no slot map (is it a cluster node?)", node->address);
      return FALSE;
    }

  for (size_t i = 0; i < reply->elements; i++)
    if (!apply_slot_range (self, node, reply->element[i], map))
      {
        g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL,
                     "Redis node %s gave a malformed slot map", node->address);
        return FALSE;
      }

  memcpy (self->slots, map, RELAY_REDIS_SLOTS * sizeof *self->slots);
  self->stale = FALSE;
  return TRUE;
}

/* When a command begun now stops trying: after BUDGET_TIMEOUTS of its own,
 * or at the caller's deadline (set_deadline()) if that comes first. */
static gint64
command_deadline (RelayRedisCluster *self)
{
  gint64 own = g_get_monotonic_time () + (gint64) self->timeout_ms * 1000 * BUDGET_TIMEOUTS;

  return self->deadline != 0 ? MIN (own, self->deadline) : own;
}

/* Whether the caller's deadline has passed; @error says so. */
static gboolean
out_of_time (RelayRedisCluster  *self,
             GError            **error)
{
  if (self->deadline == 0 || g_get_monotonic_time () < self->deadline)
    return FALSE;
  g_set_error_literal (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                       "The Redis cluster did not answer in time");
  return TRUE;
}

/* Asks the nodes for the slot map until one answers or @deadline
 * (monotonic) has passed: first those that have not failed since they last
 * answered, the configured ones first, then the others (a node that hangs
 * costs a timeout, and the others usually know the map as well). */
static gboolean
refresh_until (RelayRedisCluster  *self,
               gint64              deadline,
               GError            **error)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  g_autoptr(GError) last = NULL;
  GHashTableIter iter;
  Node *node;

  for (guint i = 0; self->seeds[i] != NULL; i++)
    if ((node = node_get_address (self, self->seeds[i])) != NULL)
      g_ptr_array_add (all, node);
  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &node))
    if (!g_ptr_array_find (all, node, NULL))
      g_ptr_array_add (all, node);
  /* The order is decided before asking: a node that fails now must not be
   * asked again, later in this refresh, as one that had failed before. */
  for (guint failing = 0; failing < 2; failing++)
    for (guint i = 0; i < all->len; i++)
      if ((((Node *) all->pdata[i])->backoff > 0) == failing)
        g_ptr_array_add (candidates, all->pdata[i]);

  for (guint i = 0; i < candidates->len; i++)
    {
      if (last != NULL && g_get_monotonic_time () >= deadline)
        break;
      g_clear_error (&last);
      if (refresh_from (self, candidates->pdata[i], &last))
        return TRUE;
    }

  if (last != NULL)
    g_propagate_error (error, g_steal_pointer (&last));
  else
    g_set_error_literal (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "No Redis node is configured");
  return FALSE;
}

/**
 * relay_redis_cluster_refresh:
 *
 * Asks the nodes for the slot map until one answers: first those that
 * answered last time, the configured ones first, then the others.
 */
gboolean
relay_redis_cluster_refresh (RelayRedisCluster  *self,
                             GError            **error)
{
  return refresh_until (self, G_MAXINT64, error);
}

/* MOVED 3999 127.0.0.1:6381 / ASK 3999 127.0.0.1:6381 */
static Node *
parse_redirect (RelayRedisCluster *self,
                const redisReply  *reply,
                guint              slot)
{
  g_auto(GStrv) words = g_strsplit (reply->str, " ", 4);
  guint64 moved_slot;

  if (g_strv_length (words) != 3 ||
      !g_ascii_string_to_unsigned (words[1], 10, 0, RELAY_REDIS_SLOTS - 1, &moved_slot, NULL) ||
      moved_slot != slot)
    return NULL;
  return node_get_address (self, words[2]);
}

static redisReply *
run (RelayRedisCluster  *self,
     Node               *fixed,
     guint               slot,
     RelayRedisCommandFlags flags,
     int                 argc,
     const char        **argv,
     const size_t       *argvlen,
     GError            **error)
{
  g_autoptr(GError) last = NULL;
  Node *asking = NULL;
  gint64 pause = BACKOFF_MIN_USEC;
  gint64 deadline = command_deadline (self);

  self->last_node = NULL;
  self->last_ctx = NULL;
  if (out_of_time (self, error))
    return NULL;

  for (guint attempt = 0; attempt < self->max_attempts; attempt++)
    {
      redisReply *reply;
      redisContext *ctx;
      Node *node = fixed;
      gint64 sent;

      if (attempt > 0 && g_get_monotonic_time () >= deadline)
        break;
      if (node == NULL)
        {
          if (self->stale || self->slots[slot] == NULL)
            {
              g_clear_error (&last);
              if (!refresh_until (self, deadline, &last) && self->slots[slot] == NULL)
                {
                  g_usleep ((gulong) pause);
                  pause = MIN (pause * 2, BACKOFF_MAX_USEC / 4);
                  continue;
                }
            }
          node = asking != NULL ? asking : self->slots[slot];
        }

      g_clear_error (&last);
      ctx = node_connect (self, node, &last);
      if (ctx == NULL)
        {
          self->stale = TRUE;
          g_usleep ((gulong) pause);
          pause = MIN (pause * 2, BACKOFF_MAX_USEC / 4);
          continue;
        }

      if (asking != NULL)
        {
          g_autoptr(redisReply) ok = redisCommand (ctx, "ASKING");

          asking = NULL;
          if (ok == NULL)
            {
              g_set_error (&last, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s",
                           node->address, ctx->errstr);
              node_failed (self, node);
              continue;
            }
        }

      sent = g_get_monotonic_time ();
      reply = redisCommandArgv (ctx, argc, argv, argvlen);
      if (reply == NULL)
        {
          /* A timeout or a closed connection (a node restarted, a failover
           * closed it): the command may or may not have run. Only one
           * that may run twice is sent again, on a new connection, and
           * not after a timeout: a node that hangs would hang again, and
           * the attempts' timeouts would add up to a minute. (Timed out:
           * it took about the whole timeout; hiredis 0.14 has no error
           * code of its own for it.) */
          gboolean timed_out = g_get_monotonic_time () - sent >= (gint64) self->timeout_ms * 900;

          g_set_error (&last, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s",
                       node->address, ctx->errstr);
          node_failed (self, node);
          if (!(flags & RELAY_REDIS_COMMAND_IDEMPOTENT) || timed_out)
            break;
          /* At once: the node's back-off is for new failures. */
          node->retry_after = 0;
          continue;
        }
      node_answered (node);

      if (reply->type == REDIS_REPLY_ERROR && reply->str != NULL && fixed == NULL)
        {
          if (g_str_has_prefix (reply->str, "MOVED "))
            {
              Node *target = parse_redirect (self, reply, slot);

              self->redirects++;
              freeReplyObject (reply);
              if (target == NULL)
                {
                  g_set_error_literal (&last, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL,
                                       "Redis gave a malformed MOVED redirection");
                  break;
                }
              /* This slot now; the others may have moved with it. */
              self->slots[slot] = target;
              self->stale = TRUE;
              continue;
            }
          if (g_str_has_prefix (reply->str, "ASK "))
            {
              self->redirects++;
              asking = parse_redirect (self, reply, slot);
              freeReplyObject (reply);
              if (asking == NULL)
                {
                  g_set_error_literal (&last, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL,
                                       "Redis gave a malformed ASK redirection");
                  break;
                }
              continue;
            }
          if (g_str_has_prefix (reply->str, "TRYAGAIN") || g_str_has_prefix (reply->str, "CLUSTERDOWN"))
            {
              g_set_error (&last, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis: %s", reply->str);
              freeReplyObject (reply);
              self->stale = TRUE;
              g_usleep ((gulong) pause);
              pause = MIN (pause * 2, BACKOFF_MAX_USEC / 4);
              continue;
            }
        }

      self->last_node = node;
      self->last_ctx = ctx;
      return reply;
    }

  if (last == NULL)
    g_set_error_literal (&last, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                         "The Redis cluster did not settle");
  g_propagate_error (error, g_steal_pointer (&last));
  return NULL;
}

/**
 * relay_redis_cluster_command:
 * @key: the key whose slot the command runs on
 *
 * Runs one command on the primary of @key's slot, following redirections.
 *
 * Returns: (transfer full) (nullable): the reply, which may be an error
 *   reply of the command's own (not a redirection); %NULL and @error if no
 *   node could run it
 */
redisReply *
relay_redis_cluster_command (RelayRedisCluster      *self,
                             const char             *key,
                             RelayRedisCommandFlags  flags,
                             int                     argc,
                             const char            **argv,
                             const size_t           *argvlen,
                             GError                **error)
{
  if ((flags & RELAY_REDIS_COMMAND_CLEANUP) && self->deadline != 0 && g_get_monotonic_time () >= self->deadline &&
      self->deferred->len < MAX_DEFERRED)
    {
      g_ptr_array_add (self->deferred, deferred_new (key, flags, argc, argv, argvlen));
      g_set_error_literal (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_DEFERRED,
                           "Deferred until after the answer");
      return NULL;
    }
  return run (self, NULL, relay_redis_key_slot (key, strlen (key)), flags, argc, argv, argvlen, error);
}

/**
 * relay_redis_cluster_command_at:
 * @address: host:port of one node
 *
 * Runs one command on that node, without redirections (administration and
 * tests: FLUSHALL, INFO).
 */
redisReply *
relay_redis_cluster_command_at (RelayRedisCluster  *self,
                                const char         *address,
                                int                 argc,
                                const char        **argv,
                                const size_t       *argvlen,
                                GError            **error)
{
  Node *node = node_get_address (self, address);

  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "“%s” is not host:port", address);
      return NULL;
    }
  return run (self, node, 0, RELAY_REDIS_COMMAND_NONE, argc, argv, argvlen, error);
}

/* Whether a WAIT's @reply (NULL: its connection failed) counts @replicas. */
static gboolean
wait_answered (RelayRedisCluster  *self,
               Node               *node,
               const redisReply   *reply,
               guint               replicas,
               guint               timeout_ms,
               GError            **error)
{
  if (reply == NULL)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s", node->address,
                   node->ctx->errstr);
      node_failed (self, node);
      return FALSE;
    }
  node_answered (node);
  if (reply->type != REDIS_REPLY_INTEGER)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL, "Redis node %s: WAIT gave no number",
                   node->address);
      return FALSE;
    }
  if (reply->integer < (long long) replicas)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_NOT_REPLICATED,
                   "Redis node %s: %lld of %u replicas acknowledged the write in %u ms", node->address,
                   reply->integer, replicas, timeout_ms);
      return FALSE;
    }
  return TRUE;
}

/**
 * relay_redis_cluster_wait:
 * @key: the key of the last command; only checked against it
 *
 * WAIT on the connection the last command ran on: whether at least
 * @replicas replicas acknowledged every write this connection made, within
 * @timeout_ms. If that connection is gone, nothing can be said, and the
 * answer is an error.
 */
gboolean
relay_redis_cluster_wait (RelayRedisCluster  *self,
                          const char         *key,
                          guint               replicas,
                          guint               timeout_ms,
                          GError            **error)
{
  g_autoptr(redisReply) reply = NULL;
  Node *node = self->last_node;

  if (node == NULL || node->ctx == NULL || node->ctx != self->last_ctx)
    {
      g_set_error_literal (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                           "The connection of the write is gone; its replication is unknown");
      return FALSE;
    }
  /* Not held to the caller's deadline: the write has run, and WAIT is
   * bounded by @timeout_ms on a connection that just answered. */

  reply = redisCommand (node->ctx, "WAIT %u %u", replicas, timeout_ms);
  return wait_answered (self, node, reply, replicas, timeout_ms, error);
}

void
relay_redis_batch_command_clear (RelayRedisBatchCommand *command)
{
  g_clear_pointer (&command->reply, freeReplyObject);
  g_clear_error (&command->error);
  command->replicated = FALSE;
}

/* A reply that says the command did not run there: run() follows it. */
static gboolean
is_redirect (RelayRedisCluster *self,
             const redisReply  *reply)
{
  if (reply->type != REDIS_REPLY_ERROR || reply->str == NULL)
    return FALSE;
  if (g_str_has_prefix (reply->str, "MOVED ") || g_str_has_prefix (reply->str, "ASK "))
    self->redirects++;
  else if (!g_str_has_prefix (reply->str, "TRYAGAIN") && !g_str_has_prefix (reply->str, "CLUSTERDOWN"))
    return FALSE;
  self->stale = TRUE;
  return TRUE;
}

/* Sends @node's share of a batch, and WAIT after it; FALSE if the
 * connection failed (@sent: whether any of it may have gone out). */
static gboolean
batch_send (RelayRedisCluster      *self,
            Node                   *node,
            RelayRedisBatchCommand *commands,
            Node                  **node_of,
            guint                   n_commands,
            guint                   wait_replicas,
            guint                   wait_timeout_ms,
            gboolean               *sent)
{
  redisContext *ctx = node_connect (self, node, NULL);
  gboolean ok = ctx != NULL;
  int done = 0;

  *sent = FALSE;
  for (guint i = 0; ok && i < n_commands; i++)
    if (node_of[i] == node)
      ok = redisAppendCommandArgv (ctx, commands[i].argc, commands[i].argv, commands[i].argvlen) == REDIS_OK;
  if (ok && wait_replicas > 0)
    ok = redisAppendCommand (ctx, "WAIT %u %u", wait_replicas, wait_timeout_ms) == REDIS_OK;
  while (ok && !done)
    {
      *sent = TRUE;
      ok = redisBufferWrite (ctx, &done) == REDIS_OK;
    }
  if (!ok && ctx != NULL)
    node_failed (self, node);
  return ok;
}

/* Sets the timeout of @node's connection (for its reads and writes). */
static gboolean
node_set_timeout (Node   *node,
                  gint64  usec)
{
  struct timeval tv = { usec / G_USEC_PER_SEC, usec % G_USEC_PER_SEC };

  return redisSetTimeout (node->ctx, tv) == REDIS_OK;
}

/* Reads @node's answers to what batch_send() sent. They are due by
 * @deadline, the client's timeout after they were sent: the nodes of a
 * batch are read one after the other, and a node that hangs must not make
 * the next one's wait start again. A command whose node failed before it
 * answered is run again alone (@alone) if it may run twice and the node did
 * not time out, else fails. */
static void
batch_receive (RelayRedisCluster      *self,
               Node                   *node,
               RelayRedisBatchCommand *commands,
               Node                  **node_of,
               gboolean               *alone,
               guint                   n_commands,
               guint                   wait_replicas,
               guint                   wait_timeout_ms,
               gint64                  deadline)
{
  g_autoptr(GError) lost = NULL;
  g_autoptr(GError) wait_error = NULL;
  gint64 full = (gint64) self->timeout_ms * 1000;
  gint64 left = deadline - g_get_monotonic_time ();
  /* Usually the batch went out a moment ago: no system calls for that. */
  gboolean shortened = left < full - full / 10;
  gboolean timed_out = FALSE;
  gboolean replicated = FALSE;

  if (shortened && !node_set_timeout (node, MAX (left, 1000)))
    {
      g_set_error (&lost, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s", node->address,
                   node->ctx->errstr);
      node_failed (self, node);
    }

  for (guint i = 0; i < n_commands; i++)
    {
      void *reply = NULL;

      if (node_of[i] != node)
        continue;
      if (lost == NULL && redisGetReply (node->ctx, &reply) != REDIS_OK)
        {
          /* As in run(): a node that took the whole timeout would again. */
          timed_out = g_get_monotonic_time () >= deadline - full / 10;
          g_set_error (&lost, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Redis node %s: %s",
                       node->address, node->ctx->errstr);
          node_failed (self, node);
        }
      if (lost != NULL)
        {
          if ((commands[i].flags & RELAY_REDIS_COMMAND_IDEMPOTENT) && !timed_out)
            alone[i] = TRUE;
          else
            commands[i].error = g_error_copy (lost);
          continue;
        }
      node_answered (node);
      if (is_redirect (self, reply))
        {
          freeReplyObject (reply);
          alone[i] = TRUE;
          continue;
        }
      commands[i].reply = reply;
    }

  if (wait_replicas > 0)
    {
      if (lost != NULL)
        g_set_error_literal (&wait_error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                             "The connection of the write is gone; its replication is unknown");
      else
        {
          g_autoptr(redisReply) reply = NULL;

          redisGetReply (node->ctx, (void **) &reply);
          replicated = wait_answered (self, node, reply, wait_replicas, wait_timeout_ms, &wait_error);
        }
      for (guint i = 0; i < n_commands; i++)
        if (node_of[i] == node && commands[i].reply != NULL)
          {
            commands[i].replicated = replicated;
            if (!replicated)
              commands[i].error = g_error_copy (wait_error);
          }
    }
  /* The connection keeps its full timeout for what comes next. */
  if (shortened && node->ctx != NULL && !node_set_timeout (node, full))
    node_failed (self, node);
}

/**
 * relay_redis_cluster_run_batch:
 * @wait_replicas: if not 0, WAIT for that many replicas after the commands
 *   on each connection, as relay_redis_cluster_wait() does
 *
 * Runs @commands as relay_redis_cluster_command() would, each on its key's
 * primary, but pipelined: all of a node's commands (and its WAIT) go out
 * together, to every node before any answer is read, so that a node runs
 * them in one turn of its loop and syncs its append-only file once for
 * them. A command that is redirected, or whose node failed, is run again
 * alone, with run()'s rules. Every command ends with a reply or an error.
 * The commands' reply, error and replicated are set, after freeing what
 * they held: zero them before their first batch.
 */
void
relay_redis_cluster_run_batch (RelayRedisCluster      *self,
                               RelayRedisBatchCommand *commands,
                               guint                   n_commands,
                               guint                   wait_replicas,
                               guint                   wait_timeout_ms)
{
  g_autofree Node **node_of = g_new0 (Node *, n_commands);
  g_autofree Node **origin = g_new0 (Node *, n_commands);
  g_autofree gboolean *alone = g_new0 (gboolean, n_commands);
  g_autoptr(GPtrArray) nodes = g_ptr_array_new ();
  g_autoptr(GPtrArray) down = g_ptr_array_new ();
  g_autoptr(GPtrArray) down_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(GError) late = NULL;
  gint64 sent_at;

  if (out_of_time (self, &late))
    {
      for (guint i = 0; i < n_commands; i++)
        {
          relay_redis_batch_command_clear (&commands[i]);
          commands[i].error = g_error_copy (late);
        }
      return;
    }
  if (self->stale)
    refresh_until (self, command_deadline (self), NULL);

  for (guint i = 0; i < n_commands; i++)
    {
      relay_redis_batch_command_clear (&commands[i]);
      node_of[i] = self->slots[relay_redis_key_slot (commands[i].key, strlen (commands[i].key))];
      origin[i] = node_of[i];
      if (node_of[i] == NULL)
        alone[i] = TRUE;
      else if (!g_ptr_array_find (nodes, node_of[i], NULL))
        g_ptr_array_add (nodes, node_of[i]);
    }

  for (guint k = 0; k < nodes->len; k++)
    {
      gboolean sent;

      if (batch_send (self, nodes->pdata[k], commands, node_of, n_commands, wait_replicas, wait_timeout_ms, &sent))
        continue;
      for (guint i = 0; i < n_commands; i++)
        if (node_of[i] == nodes->pdata[k])
          {
            node_of[i] = NULL;
            if (!sent || (commands[i].flags & RELAY_REDIS_COMMAND_IDEMPOTENT))
              alone[i] = TRUE;
            else
              g_set_error (&commands[i].error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                           "Redis node %s: the connection failed while sending", ((Node *) nodes->pdata[k])->address);
          }
      nodes->pdata[k] = NULL;
    }

  sent_at = g_get_monotonic_time ();
  for (guint k = 0; k < nodes->len; k++)
    if (nodes->pdata[k] != NULL)
      batch_receive (self, nodes->pdata[k], commands, node_of, alone, n_commands, wait_replicas, wait_timeout_ms,
                     sent_at + (gint64) self->timeout_ms * 1000);

  /* Again alone, with run()'s redirections, reconnections and pauses; once
   * one of a node's commands failed that way, the others it had fail with
   * it, so that a node that is down costs the batch one command's
   * attempts, not every command's. */
  for (guint i = 0; i < n_commands; i++)
    {
      RelayRedisBatchCommand *c = &commands[i];
      guint failed;

      if (!alone[i])
        continue;
      if (g_ptr_array_find (down, origin[i], &failed))
        {
          c->error = g_error_copy (down_errors->pdata[failed]);
          continue;
        }
      c->reply = relay_redis_cluster_command (self, c->key, c->flags, c->argc, c->argv, c->argvlen, &c->error);
      if (c->reply == NULL)
        {
          g_ptr_array_add (down, origin[i]);
          g_ptr_array_add (down_errors, g_error_copy (c->error));
          continue;
        }
      if (wait_replicas > 0 && c->reply->type != REDIS_REPLY_ERROR)
        c->replicated = relay_redis_cluster_wait (self, c->key, wait_replicas, wait_timeout_ms, &c->error);
    }
}

/**
 * relay_redis_cluster_primaries:
 *
 * Returns: (transfer full) (element-type utf8): host:port of every primary
 *   in the slot map as last seen (empty before the first command)
 */
GPtrArray *
relay_redis_cluster_primaries (RelayRedisCluster *self)
{
  GPtrArray *result = g_ptr_array_new_with_free_func (g_free);

  for (guint slot = 0; slot < RELAY_REDIS_SLOTS; slot++)
    {
      Node *node = self->slots[slot];
      gboolean seen = FALSE;

      if (node == NULL)
        continue;
      for (guint i = 0; i < result->len && !seen; i++)
        seen = g_str_equal (g_ptr_array_index (result, i), node->address);
      if (!seen)
        g_ptr_array_add (result, g_strdup (node->address));
    }
  return result;
}

/**
 * relay_redis_cluster_address_for_slot:
 *
 * Returns: (nullable): host:port of the primary that owns @slot in the map
 *   as last seen, or %NULL if no node is known for it
 */
char *
relay_redis_cluster_address_for_slot (RelayRedisCluster *self,
                                      guint              slot)
{
  g_return_val_if_fail (slot < RELAY_REDIS_SLOTS, NULL);

  return self->slots[slot] != NULL ? g_strdup (self->slots[slot]->address) : NULL;
}

/**
 * relay_redis_cluster_connect_new:
 * @address: host:port
 *
 * A connection of the caller's own to @address, with this client's
 * timeouts, for what cannot share the client's connections: a subscriber
 * never answers commands again.
 *
 * Returns: (transfer full): the connection; free it with redisFree()
 */
redisContext *
relay_redis_cluster_connect_new (RelayRedisCluster  *self,
                                 const char         *address,
                                 GError            **error)
{
  struct timeval tv = { self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000 };
  g_autofree char *host = NULL;
  redisContext *ctx;
  int port;

  if (!split_address (address, &host, &port))
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL, "“%s” is not host:port", address);
      return NULL;
    }

  ctx = redisConnectWithTimeout (host, port, tv);
  if (ctx == NULL || ctx->err != 0 || redisSetTimeout (ctx, tv) != REDIS_OK)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE, "Cannot connect to Redis node %s: %s",
                   address, ctx != NULL ? ctx->errstr : "out of memory");
      g_clear_pointer (&ctx, redisFree);
      return NULL;
    }
  return ctx;
}

guint64
relay_redis_cluster_get_redirects (RelayRedisCluster *self)
{
  return self->redirects;
}

/**
 * relay_redis_cluster_get_reconnects:
 *
 * Returns: how many connections were made to a node after one to it failed
 */
guint64
relay_redis_cluster_get_reconnects (RelayRedisCluster *self)
{
  return self->reconnects;
}

/**
 * relay_redis_cluster_count_covered:
 *
 * Returns: how many slots have a primary in the slot map as last seen
 */
guint
relay_redis_cluster_count_covered (RelayRedisCluster *self)
{
  guint n = 0;

  for (guint slot = 0; slot < RELAY_REDIS_SLOTS; slot++)
    n += self->slots[slot] != NULL;
  return n;
}

static void
relay_redis_cluster_finalize (GObject *object)
{
  RelayRedisCluster *self = (RelayRedisCluster *) object;

  g_ptr_array_unref (self->deferred);
  g_hash_table_unref (self->nodes);
  g_free (self->slots);
  g_strfreev (self->seeds);

  G_OBJECT_CLASS (relay_redis_cluster_parent_class)->finalize (object);
}

static void
relay_redis_cluster_class_init (RelayRedisClusterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = relay_redis_cluster_finalize;
}

static void
relay_redis_cluster_init (RelayRedisCluster *self)
{
  self->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) node_free);
  self->slots = g_new0 (Node *, RELAY_REDIS_SLOTS);
  self->stale = TRUE;
  self->max_attempts = MAX_ATTEMPTS;
  self->deferred = g_ptr_array_new_with_free_func ((GDestroyNotify) deferred_free);
}

/**
 * relay_redis_cluster_set_max_attempts:
 *
 * How many tries (redirections, reconnections, pauses) one command may take:
 * fewer for a caller that must not wait long, such as the HTTP thread.
 */
void
relay_redis_cluster_set_max_attempts (RelayRedisCluster *self,
                                      guint              attempts)
{
  self->max_attempts = CLAMP (attempts, 1, MAX_ATTEMPTS);
}

/**
 * relay_redis_cluster_set_deadline:
 * @deadline: monotonic time, or 0 for none
 *
 * Until it is set again, no command starts trying after @deadline: one
 * asked later fails at once, and one under way stops at its next attempt.
 * For a caller whose work takes several commands and must still answer in
 * time when the store hangs (each command's own limit would add up).
 */
void
relay_redis_cluster_set_deadline (RelayRedisCluster *self,
                                  gint64             deadline)
{
  self->deadline = deadline;
}

/**
 * relay_redis_cluster_run_deferred:
 *
 * Runs the clean-ups kept past the caller's deadline, as one batch without
 * WAIT and without a deadline (the caller has answered by now). Failures
 * are only logged: a clean-up that fails is left as if it had not been
 * asked.
 *
 * Returns: how many were run
 */
guint
relay_redis_cluster_run_deferred (RelayRedisCluster *self)
{
  g_autoptr(GPtrArray) deferred = NULL;
  g_autofree RelayRedisBatchCommand *commands = NULL;
  gint64 deadline = self->deadline;
  guint n;

  if (self->deferred->len == 0)
    return 0;
  deferred = g_steal_pointer (&self->deferred);
  self->deferred = g_ptr_array_new_with_free_func ((GDestroyNotify) deferred_free);
  n = deferred->len;
  commands = g_new0 (RelayRedisBatchCommand, n);
  for (guint i = 0; i < n; i++)
    {
      Deferred *d = deferred->pdata[i];

      commands[i] = (RelayRedisBatchCommand) { .key = d->key, .flags = d->flags & ~RELAY_REDIS_COMMAND_CLEANUP,
                                               .argc = d->argc, .argv = (const char **) d->argv,
                                               .argvlen = d->argvlen };
    }

  self->deadline = 0;
  relay_redis_cluster_run_batch (self, commands, n, 0, 0);
  self->deadline = deadline;

  for (guint i = 0; i < n; i++)
    {
      if (commands[i].error != NULL)
        g_debug ("A deferred clean-up failed: %s", commands[i].error->message);
      else if (commands[i].reply->type == REDIS_REPLY_ERROR)
        g_debug ("A deferred clean-up failed: %s", commands[i].reply->str != NULL ? commands[i].reply->str : "");
      relay_redis_batch_command_clear (&commands[i]);
    }
  return n;
}

/**
 * relay_redis_cluster_new:
 * @nodes: host:port of one or more nodes, to learn the cluster from
 * @timeout_ms: for connecting, and for each command's answer
 *
 * Connects lazily, at the first command.
 */
RelayRedisCluster *
relay_redis_cluster_new (const char * const *nodes,
                         guint               timeout_ms)
{
  RelayRedisCluster *self = g_object_new (RELAY_TYPE_REDIS_CLUSTER, NULL);

  self->seeds = g_strdupv ((char **) nodes);
  self->timeout_ms = MAX (timeout_ms, 1);
  return self;
}
