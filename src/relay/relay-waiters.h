/* relay-waiters.h: waiting reads, parked until their mailbox changes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "httpd-address.h"

G_BEGIN_DECLS

typedef enum
{
  RELAY_WAITER_WAITING,
  RELAY_WAITER_CHANGED,     /* the mailbox changed: answer with its content */
  RELAY_WAITER_TIMED_OUT,   /* the wait ended: answer "no change" */
  RELAY_WAITER_RECHECK,     /* it may have changed elsewhere: look, and answer
                             * with the content if it did, else "no change" */
  RELAY_WAITER_SHUTDOWN,    /* the relay is stopping */
} RelayWaiterState;

typedef struct _RelayWaiter RelayWaiter;

/* Called once per waiter, from any thread, outside every lock. */
typedef void (*RelayWakeFunc) (RelayWaiter *waiter, gpointer user_data);

struct _RelayWaiter
{
  /*< private >*/
  char             mailbox_id[40];
  gint64           deadline;         /* monotonic microseconds */
  RelayWaiterState state;
  gpointer         user_data;
  GSequenceIter   *timer;
  GList            link;
  HttpdKey         client;
};

typedef enum
{
  RELAY_WAITERS_ADDED,
  RELAY_WAITERS_FULL,          /* as many as the relay allows are waiting */
  RELAY_WAITERS_CLIENT_FULL,   /* as many as one client may have are waiting */
  RELAY_WAITERS_STOPPING,
} RelayWaitersResult;

typedef struct _RelayWaiters RelayWaiters;

RelayWaiters *relay_waiters_new          (guint          max_waiters,
                                          guint          max_per_client,
                                          RelayWakeFunc  wake);
void          relay_waiters_free         (RelayWaiters  *self);
RelayWaitersResult relay_waiters_add     (RelayWaiters  *self,
                                          RelayWaiter   *waiter,
                                          const char    *mailbox_id,
                                          const HttpdKey *client,
                                          gint64         deadline,
                                          gpointer       user_data);
void          relay_waiters_wake         (RelayWaiters  *self,
                                          RelayWaiter   *waiter);
guint         relay_waiters_notify       (RelayWaiters  *self,
                                          const char    *mailbox_id);
guint         relay_waiters_recheck      (RelayWaiters  *self,
                                          const char    *mailbox_id);
void          relay_waiters_shutdown     (RelayWaiters  *self);
guint         relay_waiters_get_count    (RelayWaiters  *self);

G_END_DECLS
