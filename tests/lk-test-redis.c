/* lk-test-redis.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Six redis-server processes of the test's own, on free loopback ports, in
 * a temporary directory: appendonly with appendfsync always (as a relay's
 * cluster must run), cluster-node-timeout 1000. They are the test's
 * children and die with it (PR_SET_PDEATHSIG) if it dies first.
 */

#define G_LOG_DOMAIN "lk-test-redis"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "lk-test-redis.h"
#include "lk-test-server.h"

/* How long the cluster may take to form; it takes about a second. */
#define READY_TIMEOUT_USEC (60 * G_USEC_PER_SEC)

static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Whether @port and its cluster bus port (+10000) can be bound now. */
static gboolean
port_pair_free (guint port)
{
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL);
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port + i * 10000);

      if (socket == NULL || !g_socket_bind (socket, address, FALSE, NULL))
        return FALSE;
    }
  return TRUE;
}

/* Where the nodes' ports go: below the kernel's ephemeral range, bus ports
 * (+10000) included. Every outgoing connection takes a port of that range,
 * so one found free there could be taken before redis-server binds it, or
 * before a node a test killed is started again on it. */
static void
port_range (guint *lo,
            guint *hi)
{
  g_autofree char *text = NULL;
  guint ephemeral = 32768;

  if (g_file_get_contents ("/proc/sys/net/ipv4/ip_local_port_range", &text, NULL, NULL))
    ephemeral = (guint) g_ascii_strtoull (text, NULL, 10);
  *lo = 10000;
  *hi = ephemeral > 10000 ? ephemeral - 10000 : 0;
  /* An unusual range: anywhere, as before. */
  if (*hi < *lo + 1000)
    {
      *lo = 20000;
      *hi = 40000;
    }
}

/* Chooses LK_TEST_REDIS_NODES port pairs that are free now. */
static void
choose_ports (LkTestRedis *self)
{
  guint lo, hi, port;

  port_range (&lo, &hi);
  port = lo + g_random_int_range (0, (gint32) (hi - lo));
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    {
      while (!port_pair_free (port))
        port = port + 1 >= hi ? lo : port + 1;
      self->ports[i] = port;
      port = port + 1 >= hi ? lo : port + 1;
    }
}

char *
lk_test_redis_cli (LkTestRedis *self,
                   guint        node,
                   const char  *command)
{
  g_autofree char *port = g_strdup_printf ("%u", self->ports[node]);
  g_auto(GStrv) words = g_strsplit (command, " ", -1);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  char *out = NULL;

  g_ptr_array_add (argv, (char *) "redis-cli");
  /* Follow MOVED: a key's command reaches its slot's primary. */
  g_ptr_array_add (argv, (char *) "-c");
  g_ptr_array_add (argv, (char *) "-h");
  g_ptr_array_add (argv, (char *) "127.0.0.1");
  g_ptr_array_add (argv, (char *) "-p");
  g_ptr_array_add (argv, port);
  for (guint i = 0; words[i] != NULL; i++)
    g_ptr_array_add (argv, words[i]);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                     NULL, &out, NULL, NULL, NULL))
    return g_strdup ("");
  return out;
}

static gboolean
all_nodes_say (LkTestRedis *self,
               const char  *command,
               const char  *expected)
{
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    {
      g_autofree char *out = lk_test_redis_cli (self, i, command);

      if (strstr (out, expected) == NULL)
        return FALSE;
    }
  return TRUE;
}

/* Polls @command on every node until each answers @expected: the cluster's
 * own state, not a guess at how long it takes. */
static void
wait_for (LkTestRedis *self,
          const char  *command,
          const char  *expected)
{
  gint64 deadline = g_get_monotonic_time () + READY_TIMEOUT_USEC;

  while (!all_nodes_say (self, command, expected))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Redis nodes did not answer “%s” to %s", expected, command);
      g_usleep (20000);
    }
}

/* Whether every node answers PING, polling until one does or a node
 * exits: another test's node may have taken its port since
 * choose_ports() (FALSE then). */
static gboolean
nodes_up (LkTestRedis *self)
{
  gint64 deadline = g_get_monotonic_time () + READY_TIMEOUT_USEC;

  while (!all_nodes_say (self, "PING", "PONG"))
    {
      for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
        if (g_subprocess_get_identifier (self->servers[i]) == NULL)
          return FALSE;
      if (g_get_monotonic_time () > deadline)
        g_error ("Redis nodes did not answer PONG to PING");
      g_usleep (20000);
    }
  return TRUE;
}

/* Starts node @i on its port, in its directory: a restarted node finds its
 * nodes.conf and AOF there, as one restarted by its supervisor would. */
static void
spawn_node (LkTestRedis *self,
            guint        i)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                      G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_strdup_printf ("%s/n%u", self->dir, self->ports[i]);
  g_autofree char *port_text = g_strdup_printf ("%u", self->ports[i]);
  g_autofree char *log = g_build_filename (dir, "log", NULL);
  const char *argv[] = {
    "redis-server", "--port", port_text, "--bind", "127.0.0.1", "--dir", dir,
    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000",
    "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
    "--logfile", log,
    /* A replica's first sync would otherwise wait 5 s for others to join it. */
    "--repl-diskless-sync-delay", "0", NULL,
  };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_clear_object (&self->servers[i]);
  self->servers[i] = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
}

/**
 * lk_test_redis_start:
 *
 * Returns once the cluster says cluster_state:ok on every node and every
 * primary has its replica connected (so that WAIT can succeed).
 */
LkTestRedis *
lk_test_redis_start (void)
{
  LkTestRedis *self = g_new0 (LkTestRedis, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) create = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) nodes = g_string_new (NULL);
  int status = 0;

  self->dir = g_dir_make_tmp ("latchkey-redis-XXXXXX", &error);
  g_assert_no_error (error);

  for (guint attempt = 0;; attempt++)
    {
      choose_ports (self);
      for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
        spawn_node (self, i);
      if (nodes_up (self))
        break;
      g_assert_cmpuint (attempt, <, 5);
      for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
        {
          g_subprocess_force_exit (self->servers[i]);
          g_subprocess_wait (self->servers[i], NULL, NULL);
          g_clear_object (&self->servers[i]);
        }
    }

  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    {
      g_string_append_printf (nodes, "%s127.0.0.1:%u", i > 0 ? "," : "", self->ports[i]);
      g_ptr_array_add (create, g_strdup_printf ("127.0.0.1:%u", self->ports[i]));
    }
  self->nodes = g_string_free (g_steal_pointer (&nodes), FALSE);

  g_ptr_array_insert (create, 0, g_strdup ("--cluster"));
  g_ptr_array_insert (create, 1, g_strdup ("create"));
  g_ptr_array_insert (create, 0, g_strdup ("redis-cli"));
  g_ptr_array_add (create, g_strdup ("--cluster-replicas"));
  g_ptr_array_add (create, g_strdup ("1"));
  g_ptr_array_add (create, g_strdup ("--cluster-yes"));
  g_ptr_array_add (create, NULL);
  g_spawn_sync (NULL, (char **) create->pdata, NULL,
                G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  wait_for (self, "CLUSTER INFO", "cluster_state:ok");
  /* Three primaries with a replica each, replication up on every replica. */
  for (;;)
    {
      guint up = 0;

      for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
        {
          g_autofree char *out = lk_test_redis_cli (self, i, "INFO replication");

          if (strstr (out, "master_link_status:up") != NULL)
            up++;
        }
      if (up == LK_TEST_REDIS_NODES / 2)
        break;
      g_usleep (20000);
    }

  return self;
}

/**
 * lk_test_redis_flush:
 *
 * Empties the cluster between tests (FLUSHALL on the primaries; replicas
 * refuse it and follow).
 */
void
lk_test_redis_flush (LkTestRedis *self)
{
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    {
      g_autofree char *role = lk_test_redis_cli (self, i, "ROLE");

      if (g_str_has_prefix (role, "master"))
        {
          g_autofree char *out = lk_test_redis_cli (self, i, "FLUSHALL");

          g_assert_cmpstr (g_strstrip (out), ==, "OK");
        }
    }
}

/**
 * lk_test_redis_pause_replicas:
 *
 * SIGSTOP (or SIGCONT) to every replica: the primaries go on, but no
 * replica acknowledges their writes (WAIT answers 0). A pause shorter than
 * cluster-node-timeout does not even mark them failing.
 */
void
lk_test_redis_pause_replicas (LkTestRedis *self,
                              gboolean     paused)
{
  static gboolean is_replica[LK_TEST_REDIS_NODES];

  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    {
      /* A stopped node cannot say its role: learn it while it runs. */
      if (paused)
        {
          g_autofree char *role = lk_test_redis_cli (self, i, "ROLE");

          is_replica[i] = g_str_has_prefix (role, "slave");
        }
      if (is_replica[i])
        g_subprocess_send_signal (self->servers[i], paused ? SIGSTOP : SIGCONT);
    }
}

/**
 * lk_test_redis_is_primary:
 *
 * Whether @node says it is a primary now (ROLE); %FALSE for a node that
 * does not answer.
 */
gboolean
lk_test_redis_is_primary (LkTestRedis *self,
                          guint        node)
{
  g_autofree char *role = lk_test_redis_cli (self, node, "ROLE");

  return g_str_has_prefix (role, "master");
}

/**
 * lk_test_redis_signal:
 *
 * Sends @signum to @node (SIGSTOP, SIGCONT: a node that hangs).
 */
void
lk_test_redis_signal (LkTestRedis *self,
                      guint        node,
                      int          signum)
{
  g_assert_nonnull (self->servers[node]);
  g_subprocess_send_signal (self->servers[node], signum);
}

/**
 * lk_test_redis_kill:
 *
 * SIGKILL to @node, as a crash or a power cut would stop it; returns once
 * it is gone.
 */
void
lk_test_redis_kill (LkTestRedis *self,
                    guint        node)
{
  g_assert_nonnull (self->servers[node]);
  g_subprocess_send_signal (self->servers[node], SIGKILL);
  g_subprocess_wait (self->servers[node], NULL, NULL);
  g_clear_object (&self->servers[node]);
}

/**
 * lk_test_redis_restart:
 *
 * Starts a killed @node again with its own files, and returns once it
 * answers PING. A primary that was failed over while it was down rejoins
 * as a replica of the node that took its slots.
 */
void
lk_test_redis_restart (LkTestRedis *self,
                       guint        node)
{
  gint64 deadline = g_get_monotonic_time () + READY_TIMEOUT_USEC;

  g_assert_null (self->servers[node]);
  spawn_node (self, node);
  for (;;)
    {
      g_autofree char *out = lk_test_redis_cli (self, node, "PING");

      if (strstr (out, "PONG") != NULL)
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("Redis node %u did not come back", node);
      g_usleep (20000);
    }
}

/**
 * lk_test_redis_pause_all:
 *
 * SIGSTOP (or SIGCONT) to every node: the cluster still accepts
 * connections but answers nothing, as a hung or unreachable one. The
 * nodes may fail over among themselves once resumed: use a cluster of the
 * test's own.
 */
void
lk_test_redis_pause_all (LkTestRedis *self,
                         gboolean     paused)
{
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    if (self->servers[i] != NULL)
      g_subprocess_send_signal (self->servers[i], paused ? SIGSTOP : SIGCONT);
}

void
lk_test_redis_stop (LkTestRedis *self)
{
  if (self == NULL)
    return;

  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    if (self->servers[i] != NULL)
      {
        g_subprocess_send_signal (self->servers[i], SIGTERM);
        /* A node a test stopped (SIGSTOP) must run to act on SIGTERM. */
        g_subprocess_send_signal (self->servers[i], SIGCONT);
        g_subprocess_wait (self->servers[i], NULL, NULL);
        g_clear_object (&self->servers[i]);
      }
  lk_test_remove_tree (self->dir);
  g_free (self->dir);
  g_free (self->nodes);
  g_free (self);
}
