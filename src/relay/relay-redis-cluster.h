/* relay-redis-cluster.h: a small synchronous Redis Cluster client over hiredis
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <hiredis/hiredis.h>

G_BEGIN_DECLS

#define RELAY_REDIS_SLOTS 16384

#define RELAY_REDIS_ERROR (relay_redis_error_quark ())

typedef enum
{
  RELAY_REDIS_ERROR_UNAVAILABLE,   /* no node answered, or the cluster is down */
  RELAY_REDIS_ERROR_PROTOCOL,      /* an answer of the wrong type or size */
  RELAY_REDIS_ERROR_REPLY,         /* the command itself failed (an error reply) */
  RELAY_REDIS_ERROR_NOT_REPLICATED, /* stored on the primary, no replica acknowledged in time */
  RELAY_REDIS_ERROR_DEFERRED       /* past the caller's deadline: kept for relay_redis_cluster_run_deferred() */
} RelayRedisError;

GQuark relay_redis_error_quark (void);

typedef enum
{
  RELAY_REDIS_COMMAND_NONE       = 0,
  /* Running it twice is the same as once: after a connection fails with
   * the command's fate unknown, run it again (reconnecting) instead of
   * failing. */
  RELAY_REDIS_COMMAND_IDEMPOTENT = 1 << 0,
  /* A clean-up whose answer nobody waits for: asked after the caller's
   * deadline (relay_redis_cluster_set_deadline()), it is kept and run by
   * relay_redis_cluster_run_deferred() instead of failing at once. */
  RELAY_REDIS_COMMAND_CLEANUP    = 1 << 1,
} RelayRedisCommandFlags;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (redisReply, freeReplyObject)

/* One command of relay_redis_cluster_run_batch(). */
typedef struct
{
  const char             *key;       /* the key whose slot it runs on */
  RelayRedisCommandFlags  flags;
  int                     argc;
  const char            **argv;
  const size_t           *argvlen;

  /* Set by the batch. reply: as relay_redis_cluster_command() gives it, or
   * NULL and error. replicated: with wait_replicas, whether a WAIT after it
   * on its connection saw them; if not, error says why (reply kept). */
  redisReply             *reply;
  GError                 *error;
  gboolean                replicated;
} RelayRedisBatchCommand;

void relay_redis_batch_command_clear (RelayRedisBatchCommand *command);

#define RELAY_TYPE_REDIS_CLUSTER (relay_redis_cluster_get_type ())

G_DECLARE_FINAL_TYPE (RelayRedisCluster, relay_redis_cluster, RELAY, REDIS_CLUSTER, GObject)

guint              relay_redis_key_slot          (const char         *key,
                                                  gsize               length);
gboolean           relay_redis_parse_nodes       (const char         *text,
                                                  GStrv              *nodes,
                                                  GError            **error);

RelayRedisCluster *relay_redis_cluster_new       (const char * const *nodes,
                                                  guint               timeout_ms);
void               relay_redis_cluster_set_max_attempts (RelayRedisCluster *self,
                                                  guint               attempts);
void               relay_redis_cluster_set_deadline (RelayRedisCluster *self,
                                                  gint64              deadline);
guint              relay_redis_cluster_run_deferred (RelayRedisCluster *self);
gboolean           relay_redis_cluster_refresh   (RelayRedisCluster  *self,
                                                  GError            **error);
redisReply        *relay_redis_cluster_command   (RelayRedisCluster  *self,
                                                  const char         *key,
                                                  RelayRedisCommandFlags flags,
                                                  int                 argc,
                                                  const char        **argv,
                                                  const size_t       *argvlen,
                                                  GError            **error);
void               relay_redis_cluster_run_batch (RelayRedisCluster  *self,
                                                  RelayRedisBatchCommand *commands,
                                                  guint               n_commands,
                                                  guint               wait_replicas,
                                                  guint               wait_timeout_ms);
gboolean           relay_redis_cluster_wait      (RelayRedisCluster  *self,
                                                  const char         *key,
                                                  guint               replicas,
                                                  guint               timeout_ms,
                                                  GError            **error);
GPtrArray         *relay_redis_cluster_primaries (RelayRedisCluster  *self);
redisReply        *relay_redis_cluster_command_at (RelayRedisCluster *self,
                                                  const char         *address,
                                                  int                 argc,
                                                  const char        **argv,
                                                  const size_t       *argvlen,
                                                  GError            **error);
char              *relay_redis_cluster_address_for_slot (RelayRedisCluster *self,
                                                  guint               slot);
redisContext      *relay_redis_cluster_connect_new (RelayRedisCluster *self,
                                                  const char         *address,
                                                  GError            **error);
guint64            relay_redis_cluster_get_redirects (RelayRedisCluster *self);
guint64            relay_redis_cluster_get_reconnects (RelayRedisCluster *self);
guint              relay_redis_cluster_count_covered (RelayRedisCluster *self);

G_END_DECLS
