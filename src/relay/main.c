/* main.c: latchkey-relay
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-relay"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "relay-config.h"
#include "httpd-limiter.h"
#include "relay-resources.h"
#include "relay-server.h"
#include "relay-redis-cluster.h"
#include "relay-store-redis.h"
#include "relay-store-sqlite.h"

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_sweep (gpointer user_data)
{
  relay_server_sweep (user_data);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(RelayConfig) config = relay_config_new ();
  g_autoptr(RelayStoreSqlite) sqlite_store = NULL;
  g_autoptr(RelayStoreRedis) redis_store = NULL;
  RelayStore *store;
  g_autoptr(RelayServer) server = NULL;
  g_autoptr(HttpdLimiter) limiter = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) report = g_string_new (NULL);
  g_autofree char *db_path = NULL;
  g_autofree char *key_path = NULL;
  RelayResources resources;
  RelayStoreLimits limits;
  guint wanted_connections;
  sigset_t blocked, previous;

  /* stdout carries one line, for whoever started us; everything else is a log. */
  g_log_writer_default_set_use_stderr (TRUE);

  if (!relay_config_parse_args (config, &argc, &argv, &error))
    {
      g_printerr ("latchkey-relay: %s\n", error->message);
      return 2;
    }

  /* Memory and descriptors for the worst case these settings allow: every
   * connection open, every body in memory. */
  wanted_connections = config->max_connections;
  if (!relay_resources_check (config, &resources, report, &error))
    {
      if (config->check_only)
        g_print ("%s", report->str);
      g_printerr ("latchkey-relay: %s\n", error->message);
      return 1;
    }

  if (config->check_only)
    {
      g_print ("%sThe configuration is valid.\n", report->str);
      return 0;
    }

  if (resources.served_connections < wanted_connections)
    g_warning ("max-connections is %u, but the descriptor limit (%" G_GUINT64_FORMAT ") allows %u: "
               "raise LimitNOFILE= or ulimit -n", wanted_connections, resources.fd_limit,
               resources.served_connections);

  if (g_mkdir_with_parents (config->data_dir, 0700) != 0)
    {
      g_printerr ("latchkey-relay: cannot create %s: %s\n", config->data_dir, g_strerror (errno));
      return 1;
    }

  signal (SIGPIPE, SIG_IGN);
  /* A file size limit makes writes fail, which the store answers; it must
   * not kill the relay. */
  signal (SIGXFSZ, SIG_IGN);

  /* Threads started from here on (libmicrohttpd's, the store's) inherit a
   * mask without SIGINT and SIGTERM, so that the main loop receives them. */
  sigemptyset (&blocked);
  sigaddset (&blocked, SIGINT);
  sigaddset (&blocked, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &blocked, &previous);

  key_path = g_build_filename (config->data_dir, "limiter.key", NULL);
  limiter = httpd_limiter_new (config->rate, config->burst, config->max_rate_clients, config->ipv6_prefix,
                               key_path, &error);
  if (limiter == NULL)
    {
      g_printerr ("latchkey-relay: %s\n", error->message);
      return 1;
    }

  limits = (RelayStoreLimits) {
    .max_mailboxes = config->max_mailboxes,
    .max_bytes = config->max_stored_bytes,
    .max_mailboxes_per_creator = config->max_mailboxes_per_client,
    .max_bytes_per_creator = config->max_bytes_per_client,
    .disk_reserve = config->disk_reserve,
  };
  if (config->store == RELAY_STORE_KIND_REDIS)
    {
      g_auto(GStrv) nodes = NULL;

      /* Validated with the configuration. The limiter's key must be the
       * same file on every instance, or one client counts as another on
       * each (docs: copy DATA_DIR/limiter.key). */
      if (relay_redis_parse_nodes (config->redis_nodes, &nodes, &error))
        redis_store = relay_store_redis_new ((const char * const *) nodes, &limits,
                                             config->redis_workers != 0 ? config->redis_workers
                                                                        : RELAY_CONFIG_DEFAULT_REDIS_WORKERS,
                                             config->redis_read_lease_ms, &error);
      store = RELAY_STORE (redis_store);
    }
  else
    {
      db_path = g_build_filename (config->data_dir, "relay.sqlite", NULL);
      sqlite_store = relay_store_sqlite_new (db_path, &limits, &error);
      store = RELAY_STORE (sqlite_store);
    }
  if (store == NULL)
    {
      g_printerr ("latchkey-relay: %s\n", error->message);
      return 1;
    }

  server = relay_server_new (config, store, g_steal_pointer (&limiter));
  if (!relay_server_start (server, &error))
    {
      g_printerr ("latchkey-relay: %s\n", error->message);
      return 1;
    }

  pthread_sigmask (SIG_SETMASK, &previous, NULL);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_timeout_add_seconds (config->sweep_interval, on_sweep, server);
  relay_server_sweep (server);

  /* Tests and scripts wait for this line: it means requests are served. */
  printf ("latchkey-relay listening on %s://%s:%u\n",
          config->tls_certificate ? "https" : "http", config->listen_address,
          relay_server_get_port (server));
  fflush (stdout);

  g_main_loop_run (loop);

  g_message ("Shutting down");
  relay_server_stop (server);
  if (sqlite_store != NULL)
    relay_store_sqlite_close (sqlite_store);
  if (redis_store != NULL)
    relay_store_redis_close (redis_store);

  return 0;
}
