/* lk-test-redis.h: a real Redis Cluster (3 primaries, 3 replicas) on loopback, for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LK_TEST_REDIS_NODES 6

typedef struct
{
  char        *dir;                          /* removed by lk_test_redis_stop() */
  guint        ports[LK_TEST_REDIS_NODES];
  GSubprocess *servers[LK_TEST_REDIS_NODES];   /* NULL: killed */
  char        *nodes;                        /* 127.0.0.1:PORT,… for --redis-nodes */
} LkTestRedis;

LkTestRedis *lk_test_redis_start  (void);
void         lk_test_redis_flush  (LkTestRedis *self);
char        *lk_test_redis_cli    (LkTestRedis *self,
                                   guint        node,
                                   const char  *command);
void         lk_test_redis_pause_replicas (LkTestRedis *self,
                                           gboolean     paused);
gboolean     lk_test_redis_is_primary (LkTestRedis *self,
                                       guint        node);
void         lk_test_redis_signal (LkTestRedis *self,
                                   guint        node,
                                   int          signum);
void         lk_test_redis_kill   (LkTestRedis *self,
                                   guint        node);
void         lk_test_redis_restart (LkTestRedis *self,
                                    guint        node);
void         lk_test_redis_pause_all (LkTestRedis *self,
                                      gboolean     paused);
void         lk_test_redis_stop   (LkTestRedis *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestRedis, lk_test_redis_stop)

G_END_DECLS
