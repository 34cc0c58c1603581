/* with-redis-cluster.c: run a command with a Redis Cluster of its own
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * with-redis-cluster COMMAND [ARG…] starts six nodes (lk-test-redis.c),
 * runs COMMAND with LATCHKEY_REDIS_NODES set to them, stops the cluster
 * and exits as COMMAND did. Scripts use it to run against a Redis-backed
 * relay (relay-draft-examples.sh).
 */

#define G_LOG_DOMAIN "with-redis-cluster"

#include "config.h"

#include "lk-test-redis.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(LkTestRedis) cluster = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;

  if (argc < 2)
    {
      g_printerr ("usage: %s COMMAND [ARG…]\n", argv[0]);
      return 2;
    }

  cluster = lk_test_redis_start ();
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv (launcher, "LATCHKEY_REDIS_NODES", cluster->nodes, TRUE);
  child = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv + 1, &error);
  if (child == NULL)
    {
      g_printerr ("%s: %s\n", argv[0], error->message);
      return 1;
    }
  g_subprocess_wait (child, NULL, NULL);

  return g_subprocess_get_if_exited (child) ? g_subprocess_get_exit_status (child) : 1;
}
