/* test-relay-store-redis.c: the relay's Redis store, driven directly
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-relay-store-redis"

#include "config.h"

#include "lk-test-redis.h"
#include "relay-redis-cluster.h"
#include "relay-store-redis.h"

#define SUBMITTERS 4

static LkTestRedis *cluster;

typedef struct
{
  RelayStore *store;
  gint        submitted;
  gint        done;
  gint        closing;     /* answers "the store is closing" */
  gint        stop;
} Race;

static void
race_done (RelayOp  *op,
           gpointer  user_data)
{
  Race *race = user_data;

  if (g_error_matches (op->error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    g_atomic_int_inc (&race->closing);
  g_atomic_int_inc (&race->done);
  relay_op_free (op);
}

static gpointer
submitter (gpointer data)
{
  Race *race = data;

  while (!g_atomic_int_get (&race->stop))
    {
      /* Not a mailbox id: answered by a worker without a Redis command,
       * so that many reach the queue while the store closes. */
      RelayOp *op = relay_op_new (g_random_boolean () ? RELAY_OP_READ : RELAY_OP_DELETE, g_get_real_time ());

      op->mailbox_id = g_strdup ("not-an-id");
      op->claim = g_strdup ("claim");
      op->done = race_done;
      op->user_data = race;
      g_atomic_int_inc (&race->submitted);
      relay_store_submit (race->store, op);
    }
  return NULL;
}

/* Operations submitted while the store closes: each is answered exactly
 * once, by a worker or with "the store is closing", never left in a queue
 * that no thread reads any more. */
static void
test_close_while_submitting (void)
{
  for (guint round = 0; round < 20; round++)
    {
      g_auto(GStrv) nodes = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(RelayStoreRedis) store = NULL;
      RelayStoreLimits limits = { 0 };
      GThread *threads[SUBMITTERS];
      Race race = { 0 };
      gint64 deadline;

      g_assert_true (relay_redis_parse_nodes (cluster->nodes, &nodes, NULL));
      store = relay_store_redis_new ((const char * const *) nodes, &limits, 2, 0, &error);
      g_assert_no_error (error);
      race.store = RELAY_STORE (store);
      for (guint i = 0; i < SUBMITTERS; i++)
        threads[i] = g_thread_new ("submitter", submitter, &race);

      /* Close while the submitters are busy. */
      deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
      while (g_atomic_int_get (&race.done) < 200)
        {
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_thread_yield ();
        }
      relay_store_redis_close (store);
      while (g_atomic_int_get (&race.closing) < SUBMITTERS)
        {
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_thread_yield ();
        }
      g_atomic_int_set (&race.stop, TRUE);
      for (guint i = 0; i < SUBMITTERS; i++)
        g_thread_join (threads[i]);

      /* Every op is answered (an op left in a queue would never be, and
       * flush would wait for it for ever); then flush returns. */
      deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
      while (g_atomic_int_get (&race.done) < g_atomic_int_get (&race.submitted) &&
             g_get_monotonic_time () < deadline)
        g_thread_yield ();
      g_assert_cmpint (g_atomic_int_get (&race.done), ==, g_atomic_int_get (&race.submitted));
      relay_store_flush (RELAY_STORE (store));
    }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/relay-store-redis/close-while-submitting", test_close_while_submitting);

  cluster = lk_test_redis_start ();
  status = g_test_run ();
  g_clear_pointer (&cluster, lk_test_redis_stop);
  return status;
}
