/* bench-relay-store.c: the relay's durable creates without HTTP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Drives a RelayStore directly with the creates that bench-relay.sh's wrk
 * sends over HTTP (the same 4 KiB body, one creator), keeping as many in
 * flight as wrk keeps connections. What it prints is what the store alone
 * allows on this machine: the share of a create's cost that parsing and
 * HTTP take is the difference to the relay's own figure (issue 14).
 *
 *   bench-relay-store --seconds S --in-flight N sqlite PATH
 *   bench-relay-store --seconds S --in-flight N redis HOST:PORT,...
 *
 * Prints one line: BENCH creates=… failed=… duration_s=… rps=…
 */

#define G_LOG_DOMAIN "bench-relay-store"

#include "config.h"

#include <gnutls/crypto.h>

#include "lk-crypto.h"
#include "relay-config.h"
#include "relay-redis-cluster.h"
#include "relay-store-redis.h"
#include "relay-store-sqlite.h"

/* bench-relay.sh's body: 2970 random bytes as base64, a title */
#define PAYLOAD_BYTES 2970

typedef struct
{
  RelayStore *store;
  char       *payload;
  char       *claim;
  HttpdKey    creator;
  gint        stop;
  gint        outstanding;
  gint        done;
  gint        failed;
} Bench;

static void submit_one (Bench *bench);

static void
on_done (RelayOp  *op,
         gpointer  user_data)
{
  Bench *bench = user_data;

  if (op->status != RELAY_STATUS_OK)
    g_atomic_int_inc (&bench->failed);
  else
    g_atomic_int_inc (&bench->done);
  relay_op_free (op);
  /* Called on a store thread: the next create keeps the count in flight. */
  if (!g_atomic_int_get (&bench->stop))
    submit_one (bench);
  else
    g_atomic_int_add (&bench->outstanding, -1);
}

static void
submit_one (Bench *bench)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  RelayMailbox *mailbox = relay_mailbox_new ();
  RelayOp *op = relay_op_new (RELAY_OP_CREATE, now);

  mailbox->has_creator = TRUE;
  mailbox->creator = bench->creator;
  mailbox->id = lk_uuid_new_random ();
  mailbox->initiator_claim = g_strdup (bench->claim);
  mailbox->access = RELAY_ACCESS_READ | RELAY_ACCESS_WRITE | RELAY_ACCESS_DELETE;
  mailbox->max_recipients = 1;
  mailbox->created = now;
  mailbox->expires = now + 24 * 3600;
  mailbox->payload_type = g_strdup ("AEAD_AES_256_GCM");
  mailbox->payload_data = g_strdup (bench->payload);
  mailbox->title = g_strdup ("Bench");

  op->claim = g_strdup (bench->claim);
  op->mailbox = mailbox;
  op->done = on_done;
  op->user_data = bench;
  relay_store_submit (bench->store, op);
}

int
main (int   argc,
      char *argv[])
{
  int seconds = 10, in_flight = 50;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "How long to run", "S" },
    { "in-flight", 0, 0, G_OPTION_ARG_INT, &in_flight, "Creates in flight", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("sqlite PATH | redis NODES");
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) store = NULL;
  g_autofree guint8 *raw = g_malloc (PAYLOAD_BYTES);
  g_autoptr(RelayConfig) config = relay_config_new ();
  RelayStoreLimits limits;
  Bench bench = { 0 };
  gint64 start, elapsed;
  int done_before, done;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 3 || seconds < 1 || in_flight < 1)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "usage: bench-relay-store [OPTION…] sqlite PATH | redis NODES");
      return 2;
    }

  /* The relay's defaults, and no per-client bounds: bench-relay.sh turns
   * them off, as all its requests come from one address. */
  limits = (RelayStoreLimits) {
    .max_mailboxes = config->max_mailboxes,
    .max_bytes = config->max_stored_bytes,
    .disk_reserve = config->disk_reserve,
  };
  if (g_str_equal (argv[1], "sqlite"))
    store = G_OBJECT (relay_store_sqlite_new (argv[2], &limits, &error));
  else if (g_str_equal (argv[1], "redis"))
    {
      g_auto(GStrv) nodes = NULL;

      if (relay_redis_parse_nodes (argv[2], &nodes, &error))
        store = G_OBJECT (relay_store_redis_new ((const char * const *) nodes, &limits,
                                                   RELAY_CONFIG_DEFAULT_REDIS_WORKERS, 0, &error));
    }
  else
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "unknown store %s", argv[1]);
  if (store == NULL)
    {
      g_printerr ("bench-relay-store: %s\n", error->message);
      return 1;
    }

  gnutls_rnd (GNUTLS_RND_NONCE, raw, PAYLOAD_BYTES);
  bench.payload = g_base64_encode (raw, PAYLOAD_BYTES);
  bench.claim = lk_uuid_new_random ();
  gnutls_rnd (GNUTLS_RND_NONCE, &bench.creator, sizeof bench.creator);
  bench.store = RELAY_STORE (store);

  /* One second to warm up (connections, statements), then the run. */
  g_atomic_int_set (&bench.outstanding, in_flight);
  for (int i = 0; i < in_flight; i++)
    submit_one (&bench);
  g_usleep (G_USEC_PER_SEC);
  done_before = g_atomic_int_get (&bench.done);
  start = g_get_monotonic_time ();
  g_usleep ((gulong) seconds * G_USEC_PER_SEC);
  done = g_atomic_int_get (&bench.done) - done_before;
  elapsed = g_get_monotonic_time () - start;
  g_print ("BENCH creates=%d failed=%d duration_s=%.3f rps=%.1f\n", done, g_atomic_int_get (&bench.failed),
           elapsed / 1e6, done / (elapsed / 1e6));

  g_atomic_int_set (&bench.stop, TRUE);
  while (g_atomic_int_get (&bench.outstanding) > 0)
    g_usleep (1000);
  relay_store_flush (bench.store);
  g_free (bench.payload);
  g_free (bench.claim);
  return 0;
}
