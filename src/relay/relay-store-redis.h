/* relay-store-redis.h: a store shared by many relay instances, on a Redis Cluster
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "relay-store.h"

G_BEGIN_DECLS

#define RELAY_TYPE_STORE_REDIS (relay_store_redis_get_type ())

G_DECLARE_FINAL_TYPE (RelayStoreRedis, relay_store_redis, RELAY, STORE_REDIS, GObject)

RelayStoreRedis *relay_store_redis_new   (const char * const      *nodes,
                                          const RelayStoreLimits  *limits,
                                          guint                    n_workers,
                                          guint                    lease_ms,
                                          GError                 **error);
void             relay_store_redis_close (RelayStoreRedis  *self);

G_END_DECLS
