/* relay-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "relay-store"

#include "config.h"

#include "relay-store.h"

G_DEFINE_INTERFACE (RelayStore, relay_store, G_TYPE_OBJECT)

static void
relay_store_default_init (RelayStoreInterface *iface)
{
}

RelayOp *
relay_op_new (RelayOpKind kind,
              gint64      now)
{
  RelayOp *op = g_new0 (RelayOp, 1);

  op->kind = kind;
  op->now = now;
  op->if_match = -1;
  return op;
}

void
relay_op_free (RelayOp *op)
{
  if (op == NULL)
    return;

  g_free (op->mailbox_id);
  g_free (op->claim);
  g_free (op->request_id);
  g_clear_pointer (&op->mailbox, relay_mailbox_unref);
  g_free (op->payload_type);
  g_free (op->payload_data);
  g_free (op->token);
  g_clear_pointer (&op->result, relay_mailbox_unref);
  g_clear_error (&op->error);
  g_free (op);
}

/**
 * relay_store_lookup:
 *
 * A read of committed state, callable from the HTTP thread.
 *
 * Returns: (transfer full) (nullable): the mailbox, tombstones and expired
 *   ones included (the caller judges liveness); %NULL without an error if
 *   there is no row
 */
RelayMailbox *
relay_store_lookup (RelayStore  *self,
                    const char  *id,
                    GError     **error)
{
  return RELAY_STORE_GET_IFACE (self)->lookup (self, id, error);
}

/**
 * relay_store_submit:
 *
 * Queues @op. Its done callback runs, on another thread, once the result is
 * durable: a caller that answers from the callback never acknowledges a
 * write that a crash could lose.
 */
void
relay_store_submit (RelayStore *self,
                    RelayOp    *op)
{
  RELAY_STORE_GET_IFACE (self)->submit (self, op);
}

gint64
relay_store_purge_expired (RelayStore  *self,
                           gint64       now,
                           GError     **error)
{
  return RELAY_STORE_GET_IFACE (self)->purge_expired (self, now, error);
}

gint64
relay_store_count_live (RelayStore *self,
                        gint64      now)
{
  return RELAY_STORE_GET_IFACE (self)->count_live (self, now);
}

/**
 * relay_store_flush:
 *
 * Waits until every submitted operation has completed.
 */
void
relay_store_flush (RelayStore *self)
{
  RELAY_STORE_GET_IFACE (self)->flush (self);
}

/**
 * relay_store_get_state:
 *
 * How full the store is, and whether the disk under it is.
 */
void
relay_store_get_state (RelayStore      *self,
                       RelayStoreState *state)
{
  RELAY_STORE_GET_IFACE (self)->get_state (self, state);
}

/**
 * relay_store_watch:
 * @func: (nullable): called with news of other instances' writes; %NULL
 *   stops them
 *
 * Returns once the store is listening, or has tried for a while: an
 * instance that starts should serve once it will hear of other instances'
 * writes. With %NULL, returns once @func will not be called again. A store
 * only this instance writes to has nothing to tell.
 */
void
relay_store_watch (RelayStore           *self,
                   RelayStoreChangeFunc  func,
                   gpointer              user_data)
{
  RelayStoreInterface *iface = RELAY_STORE_GET_IFACE (self);

  if (iface->watch != NULL)
    iface->watch (self, func, user_data);
}
