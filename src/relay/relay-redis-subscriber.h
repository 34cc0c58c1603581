/* relay-redis-subscriber.h: news of writes made through other relay instances
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A waiting read is parked in the memory of the instance that received it;
 * a write made through another instance must wake it there. The writer
 * publishes the mailbox id with SPUBLISH on one of a few channels (chosen
 * by the id, relay_redis_wake_channel()); every instance listens to all of
 * them with SSUBSCRIBE, on a thread of its own.
 *
 * Threading: @func is called on the subscriber's thread, never under a lock
 * of this object. A message published while this instance is not
 * subscribed (a node failed, a failover, a slot moved) is lost, so after
 * every subscription, the first one included, @func is called with %NULL:
 * whatever waits must look at its mailbox again.
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* @mailbox_id: the mailbox another instance changed, or %NULL: any of them
 * may have changed */
typedef void (*RelayRedisWakeFunc) (const char *mailbox_id,
                                    gpointer    user_data);

#define RELAY_TYPE_REDIS_SUBSCRIBER (relay_redis_subscriber_get_type ())

G_DECLARE_FINAL_TYPE (RelayRedisSubscriber, relay_redis_subscriber, RELAY, REDIS_SUBSCRIBER, GObject)

char                 *relay_redis_wake_channel               (const char          *mailbox_id);

RelayRedisSubscriber *relay_redis_subscriber_new             (const char * const  *nodes,
                                                              guint                timeout_ms,
                                                              RelayRedisWakeFunc   func,
                                                              gpointer             user_data);
gboolean              relay_redis_subscriber_wait_subscribed (RelayRedisSubscriber *self,
                                                              guint                timeout_ms);
guint64               relay_redis_subscriber_get_subscriptions (RelayRedisSubscriber *self);
void                  relay_redis_subscriber_stop            (RelayRedisSubscriber *self);

G_END_DECLS
