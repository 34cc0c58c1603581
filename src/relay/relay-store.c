/* relay-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "relay-store"

#include "config.h"

#include "relay-store.h"

G_DEFINE_INTERFACE (RelayStore, relay_store, G_TYPE_OBJECT)

/* From a fraction of a millisecond (a SQLite read) to the seconds a Redis
 * timeout or failover takes. */
const gint64 relay_store_latency_bounds[RELAY_STORE_N_BUCKETS] = {
  100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 500000, 2500000,
};

/**
 * relay_store_stats_add:
 *
 * Adds to one of a RelayStoreStats' counters, from any thread.
 */
void
relay_store_stats_add (guint64 *counter,
                       guint64  n)
{
  __atomic_fetch_add (counter, n, __ATOMIC_RELAXED);
}

void
relay_store_stats_set_health (RelayStoreStats  *stats,
                              RelayStoreHealth  health,
                              guint             primaries,
                              guint             primaries_known)
{
  g_atomic_int_set ((gint *) &stats->primaries, (gint) primaries);
  g_atomic_int_set ((gint *) &stats->primaries_known, (gint) primaries_known);
  g_atomic_int_set (&stats->health, (gint) health);
}

static void
observe (RelayStore *self,
         guint       timed,
         gint64      started,
         gboolean    failed)
{
  RelayStoreStats *stats = RELAY_STORE_GET_IFACE (self)->stats (self);
  gint64 usec = MAX (g_get_monotonic_time () - started, 0);
  guint bucket = 0;

  while (bucket < RELAY_STORE_N_BUCKETS && usec > relay_store_latency_bounds[bucket])
    bucket++;
  relay_store_stats_add (&stats->latency[timed][bucket], 1);
  relay_store_stats_add (&stats->latency_sum_usec[timed], (guint64) usec);
  if (failed)
    relay_store_stats_add (&stats->errors[timed], 1);
}

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
  g_free (op->payload_bytes);
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
  g_autoptr(GError) local = NULL;
  gint64 started = g_get_monotonic_time ();
  RelayMailbox *mailbox = RELAY_STORE_GET_IFACE (self)->lookup (self, id, &local);

  observe (self, RELAY_STORE_TIMED_LOOKUP, started, local != NULL);
  if (local != NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  return mailbox;
}

static void
op_done (RelayOp  *op,
         gpointer  user_data)
{
  observe (op->store, op->kind, op->submitted,
           op->status == RELAY_STATUS_FAILED || op->status == RELAY_STATUS_NO_SPACE);
  /* The caller's callback may free @op. */
  op->done = op->caller_done;
  op->user_data = op->caller_data;
  op->done (op, op->user_data);
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
  RelayStoreInterface *iface = RELAY_STORE_GET_IFACE (self);

  /* Timed from here: the wait for a worker is part of what a client waits. */
  op->store = self;
  op->submitted = g_get_monotonic_time ();
  op->caller_done = op->done;
  op->caller_data = op->user_data;
  op->done = op_done;
  op->user_data = NULL;

  /* A store whose lookups are local answers them here, at once. */
  if ((op->kind == RELAY_OP_LOOKUP || op->kind == RELAY_OP_COUNT) &&
      (iface->lookups_block == NULL || !iface->lookups_block (self)))
    {
      if (op->kind == RELAY_OP_LOOKUP)
        op->result = iface->lookup (self, op->mailbox_id, &op->error);
      else
        op->count = iface->count_live (self, op->now);
      op->status = op->error != NULL ? RELAY_STATUS_FAILED : RELAY_STATUS_OK;
      op->done (op, op->user_data);
      return;
    }
  iface->submit (self, op);
}

typedef struct
{
  GMutex   lock;
  GCond    cond;
  gboolean done;
} RunWait;

static void
run_done (RelayOp  *op,
          gpointer  user_data)
{
  RunWait *wait = user_data;

  g_mutex_lock (&wait->lock);
  wait->done = TRUE;
  g_cond_signal (&wait->cond);
  g_mutex_unlock (&wait->lock);
}

/**
 * relay_store_run:
 * @submit: relay_store_submit(), or a store's own submit if the caller
 *   times the operation itself
 *
 * Submits @op and waits for its answer: for threads that may block (the
 * expiry sweep's, tests, benchmarks), never the HTTP thread. @op's done
 * callback is replaced.
 */
void
relay_store_run (RelayStore           *self,
                 RelayOp              *op,
                 RelayStoreSubmitFunc  submit)
{
  RunWait wait = { 0 };

  g_mutex_init (&wait.lock);
  g_cond_init (&wait.cond);
  op->done = run_done;
  op->user_data = &wait;
  submit (self, op);

  g_mutex_lock (&wait.lock);
  while (!wait.done)
    g_cond_wait (&wait.cond, &wait.lock);
  g_mutex_unlock (&wait.lock);
  g_mutex_clear (&wait.lock);
  g_cond_clear (&wait.cond);
}

/**
 * relay_store_lookups_block:
 *
 * Whether relay_store_lookup() and relay_store_count_live() wait on the
 * network. The HTTP thread must not: it submits a %RELAY_OP_LOOKUP or
 * %RELAY_OP_COUNT instead, and goes on in its callback.
 */
gboolean
relay_store_lookups_block (RelayStore *self)
{
  RelayStoreInterface *iface = RELAY_STORE_GET_IFACE (self);

  return iface->lookups_block != NULL && iface->lookups_block (self);
}

gint64
relay_store_purge_expired (RelayStore  *self,
                           gint64       now,
                           GError     **error)
{
  g_autoptr(GError) local = NULL;
  gint64 started = g_get_monotonic_time ();
  gint64 purged = RELAY_STORE_GET_IFACE (self)->purge_expired (self, now, &local);

  observe (self, RELAY_OP_PURGE, started, purged < 0);
  if (local != NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  return purged;
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

/**
 * relay_store_get_stats:
 *
 * A copy of the store's RelayStoreStats, from any thread, without asking
 * the store anything: for /metrics and /healthz.
 */
void
relay_store_get_stats (RelayStore      *self,
                       RelayStoreStats *stats)
{
  RelayStoreStats *live = RELAY_STORE_GET_IFACE (self)->stats (self);

#define LOAD(field) __atomic_load_n (&live->field, __ATOMIC_RELAXED)
  stats->kind = live->kind;
  for (guint i = 0; i < RELAY_STORE_N_TIMED; i++)
    {
      for (guint b = 0; b <= RELAY_STORE_N_BUCKETS; b++)
        stats->latency[i][b] = LOAD (latency[i][b]);
      stats->latency_sum_usec[i] = LOAD (latency_sum_usec[i]);
      stats->errors[i] = LOAD (errors[i]);
    }
  stats->health = g_atomic_int_get (&live->health);
  stats->primaries = (guint) g_atomic_int_get ((gint *) &live->primaries);
  stats->primaries_known = (guint) g_atomic_int_get ((gint *) &live->primaries_known);
  stats->redirects = LOAD (redirects);
  stats->reconnects = LOAD (reconnects);
  stats->not_replicated = LOAD (not_replicated);
  stats->lease_waits = LOAD (lease_waits);
  stats->lease_wait_usec = LOAD (lease_wait_usec);
  stats->wal_frames = LOAD (wal_frames);
  stats->checkpoint_waits = LOAD (checkpoint_waits);
  stats->checkpoint_wait_usec = LOAD (checkpoint_wait_usec);
#undef LOAD
}
