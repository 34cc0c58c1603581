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
#include "relay-server.h"
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

/* Every waiting read holds a socket: allow as many descriptors as we may. */
static void
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(RelayConfig) config = relay_config_new ();
  g_autoptr(RelayStoreSqlite) store = NULL;
  g_autoptr(RelayServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db_path = NULL;
  sigset_t blocked, previous;

  /* stdout carries one line, for whoever started us; everything else is a log. */
  g_log_writer_default_set_use_stderr (TRUE);

  if (!relay_config_parse_args (config, &argc, &argv, &error))
    {
      g_printerr ("latchkey-relay: %s\n", error->message);
      return 2;
    }

  if (config->check_only)
    {
      g_print ("The configuration is valid.\n");
      return 0;
    }

  if (g_mkdir_with_parents (config->data_dir, 0700) != 0)
    {
      g_printerr ("latchkey-relay: cannot create %s: %s\n", config->data_dir, g_strerror (errno));
      return 1;
    }

  raise_fd_limit ();
  signal (SIGPIPE, SIG_IGN);

  /* Threads started from here on (libmicrohttpd's, the store's) inherit a
   * mask without SIGINT and SIGTERM, so that the main loop receives them. */
  sigemptyset (&blocked);
  sigaddset (&blocked, SIGINT);
  sigaddset (&blocked, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &blocked, &previous);

  db_path = g_build_filename (config->data_dir, "relay.sqlite", NULL);
  store = relay_store_sqlite_new (db_path, &error);
  if (store == NULL)
    {
      g_printerr ("latchkey-relay: %s\n", error->message);
      return 1;
    }

  server = relay_server_new (config, RELAY_STORE (store));
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
  relay_store_sqlite_close (store);

  return 0;
}
