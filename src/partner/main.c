/* main.c: latchkey-partner
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A reference TIGRESS provisioning partner, and the access points it
 * provisions, simulated: enough of a car maker's or a hotel's back end to
 * demo and test Latchkey end to end. Not for production.
 */

#define G_LOG_DOMAIN "latchkey-partner"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "partner-config.h"
#include "partner-server.h"
#include "partner-service.h"
#include "partner-store.h"

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PartnerConfig) config = partner_config_new ();
  g_autoptr(PartnerStore) store = NULL;
  g_autoptr(PartnerService) service = NULL;
  g_autoptr(PartnerServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db_path = NULL;
  sigset_t blocked, previous;
  gboolean v6;

  /* GLib sends info and debug messages to stdout, where our one line is
   * all that callers (and tests) read: a full pipe would block a handler. */
  g_log_writer_default_set_use_stderr (TRUE);

  if (!partner_config_parse_args (config, &argc, &argv, &error))
    {
      g_printerr ("latchkey-partner: %s\n", error->message);
      return 2;
    }

  if (g_mkdir_with_parents (config->data_dir, 0700) != 0)
    {
      g_printerr ("latchkey-partner: cannot create %s: %s\n", config->data_dir, g_strerror (errno));
      return 1;
    }

  signal (SIGPIPE, SIG_IGN);

  /* Threads started from here on (libmicrohttpd's) inherit a mask without
   * SIGINT and SIGTERM, so that the main loop receives them. */
  sigemptyset (&blocked);
  sigaddset (&blocked, SIGINT);
  sigaddset (&blocked, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &blocked, &previous);

  db_path = g_build_filename (config->data_dir, "partner.sqlite", NULL);
  store = partner_store_new (db_path, &error);
  if (store == NULL)
    {
      g_printerr ("latchkey-partner: %s\n", error->message);
      return 1;
    }

  service = partner_service_new (config, store);
  server = partner_server_new (config, service);
  if (!partner_server_start (server, &error))
    {
      g_printerr ("latchkey-partner: %s\n", error->message);
      return 1;
    }

  pthread_sigmask (SIG_SETMASK, &previous, NULL);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);

  /* Tests and scripts wait for this line: it means requests are served. */
  v6 = strchr (config->listen_address, ':') != NULL;
  printf ("latchkey-partner listening on http://%s%s%s:%u\n",
          v6 ? "[" : "", config->listen_address, v6 ? "]" : "", partner_server_get_port (server));
  fflush (stdout);

  g_main_loop_run (loop);

  g_message ("Shutting down");
  partner_server_stop (server);
  partner_store_close (store);

  return 0;
}
