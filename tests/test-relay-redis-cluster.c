/* test-relay-redis-cluster.c: the relay's Redis Cluster client, against a real cluster
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-relay-redis-cluster"

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "lk-test-redis.h"
#include "relay-redis-cluster.h"

static LkTestRedis *cluster;

static RelayRedisCluster *
new_client (void)
{
  g_auto(GStrv) nodes = NULL;

  g_assert_true (relay_redis_parse_nodes (cluster->nodes, &nodes, NULL));
  return relay_redis_cluster_new ((const char * const *) nodes, 2000);
}

static redisReply *
command (RelayRedisCluster *client,
         const char        *key,
         const char        *a,
         const char        *b,
         const char        *c)
{
  const char *argv[] = { a, b, c };
  size_t argvlen[] = { strlen (a), b != NULL ? strlen (b) : 0, c != NULL ? strlen (c) : 0 };
  g_autoptr(GError) error = NULL;
  redisReply *reply = relay_redis_cluster_command (client, key, RELAY_REDIS_COMMAND_IDEMPOTENT,
                                                   c != NULL ? 3 : b != NULL ? 2 : 1, argv, argvlen, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  return reply;
}

/* Runs a command until a node answers it (a node backing off fails it at
 * once), for up to @seconds; asserts that one did. */
static redisReply *
command_once_back (RelayRedisCluster      *client,
                   const char             *key,
                   RelayRedisCommandFlags  flags,
                   int                     argc,
                   const char            **argv,
                   const size_t           *argvlen,
                   guint                   seconds)
{
  g_autoptr(GError) error = NULL;
  redisReply *reply = NULL;
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  do
    {
      g_clear_error (&error);
      reply = relay_redis_cluster_command (client, key, flags, argc, argv, argvlen, &error);
    }
  while (reply == NULL && g_get_monotonic_time () < deadline);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  return reply;
}

/* Values from the Redis Cluster specification's rules: the {hash tag} is
 * the first { to the next }, if that is not empty. */
static void
test_slot_rules (void)
{
  /* CRC16/XMODEM's check value: 0x31C3. */
  g_assert_cmpuint (relay_redis_key_slot ("123456789", 9), ==, 0x31C3);
  g_assert_cmpuint (relay_redis_key_slot ("foo", 3), ==, 12182);
  g_assert_cmpuint (relay_redis_key_slot ("{user1000}.following", 20), ==, relay_redis_key_slot ("user1000", 8));
  g_assert_cmpuint (relay_redis_key_slot ("foo{bar}{zap}", 13), ==, relay_redis_key_slot ("bar", 3));
  g_assert_cmpuint (relay_redis_key_slot ("foo{{bar}}zap", 13), ==, relay_redis_key_slot ("{bar", 4));
  g_assert_cmpuint (relay_redis_key_slot ("{m:a}:x", 7), ==, relay_redis_key_slot ("{m:a}", 5));
}

/* Our slot of many keys is the cluster's own (CLUSTER KEYSLOT). */
static void
test_slot_matches_cluster (void)
{
  g_autoptr(RelayRedisCluster) client = new_client ();
  g_autofree char *first = g_strdup_printf ("127.0.0.1:%u", cluster->ports[0]);
  const char *fixed[] = { "foo", "123456789", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "{", "}", "{}",
                          "a{b", "{m:0f8fad5b-d9cb-469f-a165-70867728950e}", "\xc3\xa9t\xc3\xa9" };

  for (guint i = 0; i < G_N_ELEMENTS (fixed) + 300; i++)
    {
      g_autofree char *random = g_strdup_printf ("k%u{%x}%u", g_random_int (), g_random_int () % 64, i);
      const char *key = i < G_N_ELEMENTS (fixed) ? fixed[i] : random;
      const char *argv[] = { "CLUSTER", "KEYSLOT", key };
      size_t argvlen[] = { 7, 7, strlen (key) };
      g_autoptr(GError) error = NULL;
      g_autoptr(redisReply) reply = relay_redis_cluster_command_at (client, first, 3, argv, argvlen, &error);

      g_assert_no_error (error);
      g_assert_cmpint (reply->type, ==, REDIS_REPLY_INTEGER);
      g_assert_cmpint (reply->integer, ==, relay_redis_key_slot (key, strlen (key)));
    }
}

/* Keys of every primary, written and read back with no redirection once
 * the map is known. */
static void
test_routing (void)
{
  g_autoptr(RelayRedisCluster) client = new_client ();
  g_autoptr(GPtrArray) primaries = NULL;

  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *key = g_strdup_printf ("route:%u", i);
      g_autofree char *value = g_strdup_printf ("v%u", i);
      g_autoptr(redisReply) set = command (client, key, "SET", key, value);
      g_autoptr(redisReply) get = command (client, key, "GET", key, NULL);

      g_assert_cmpint (set->type, ==, REDIS_REPLY_STATUS);
      g_assert_cmpint (get->type, ==, REDIS_REPLY_STRING);
      g_assert_cmpstr (get->str, ==, value);
    }
  g_assert_cmpuint (relay_redis_cluster_get_redirects (client), ==, 0);

  primaries = relay_redis_cluster_primaries (client);
  g_assert_cmpuint (primaries->len, ==, 3);
}

static char *
node_id (guint node)
{
  g_autofree char *out = lk_test_redis_cli (cluster, node, "CLUSTER MYID");

  return g_strdup (g_strstrip (out));
}

static int
node_of (const char *address)
{
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    {
      g_autofree char *mine = g_strdup_printf ("127.0.0.1:%u", cluster->ports[i]);

      if (g_str_equal (mine, address))
        return (int) i;
    }
  return -1;
}

/* A slot migrated while the client uses it: ASK during the migration
 * (ASKING, then the command at the importing node), MOVED after it (the
 * client's map was stale). */
static void
test_ask_and_moved (void)
{
  g_autoptr(RelayRedisCluster) client = new_client ();
  g_autoptr(RelayRedisCluster) batch_client = new_client ();
  g_autoptr(GPtrArray) primaries = NULL;
  g_autofree char *tag = g_strdup_printf ("{mig%u}", g_random_int ());
  g_autofree char *key = g_strconcat (tag, "a", NULL);
  guint slot = relay_redis_key_slot (key, strlen (key));
  int source = -1, target = -1;
  g_autofree char *source_id = NULL;
  g_autofree char *target_id = NULL;
  guint64 redirects;

  /* Learn the map, and where the slot is. */
  g_clear_pointer (&primaries, g_ptr_array_unref);
  {
    g_autoptr(redisReply) reply = command (client, "warm", "SET", "warm", "1");
    g_autoptr(redisReply) batch_reply = command (batch_client, "warm", "GET", "warm", NULL);

    g_assert_cmpint (reply->type, ==, REDIS_REPLY_STATUS);
    g_assert_cmpint (batch_reply->type, ==, REDIS_REPLY_STRING);
  }
  primaries = relay_redis_cluster_primaries (client);
  for (guint i = 0; i < primaries->len; i++)
    {
      int node = node_of (g_ptr_array_index (primaries, i));
      g_autofree char *nodes = lk_test_redis_cli (cluster, (guint) node, "CLUSTER NODES");
      g_autofree char *myself = NULL;
      g_auto(GStrv) lines = g_strsplit (nodes, "\n", -1);

      g_assert_cmpint (node, >=, 0);
      /* The owner's line in its own CLUSTER NODES has "myself" and the range. */
      for (guint l = 0; lines[l] != NULL; l++)
        if (strstr (lines[l], "myself") != NULL)
          myself = g_strdup (lines[l]);
      g_assert_nonnull (myself);
      {
        g_auto(GStrv) fields = g_strsplit (myself, " ", -1);
        gboolean owns = FALSE;

        for (guint f = 8; fields[f] != NULL; f++)
          {
            guint64 lo, hi;
            g_auto(GStrv) range = g_strsplit (fields[f], "-", 2);

            if (range[0] == NULL || !g_ascii_string_to_unsigned (range[0], 10, 0, 16383, &lo, NULL))
              continue;
            hi = lo;
            if (range[1] != NULL && !g_ascii_string_to_unsigned (range[1], 10, 0, 16383, &hi, NULL))
              continue;
            owns = owns || (slot >= lo && slot <= hi);
          }
        if (owns)
          source = node;
        else if (target < 0)
          target = node;
      }
    }
  g_assert_cmpint (source, >=, 0);
  g_assert_cmpint (target, >=, 0);
  source_id = node_id ((guint) source);
  target_id = node_id ((guint) target);

  /* A key of the slot from before the migration, as other tests' writes
   * may have left one (CI saw the slot refused to move, once). */
  {
    g_autofree char *before = g_strconcat (tag, "before", NULL);
    g_autoptr(redisReply) set = command (client, before, "SET", before, "kept");

    g_assert_cmpint (set->type, ==, REDIS_REPLY_STATUS);
  }

  {
    g_autofree char *importing = g_strdup_printf ("CLUSTER SETSLOT %u IMPORTING %s", slot, source_id);
    g_autofree char *migrating = g_strdup_printf ("CLUSTER SETSLOT %u MIGRATING %s", slot, target_id);
    g_autofree char *a = lk_test_redis_cli (cluster, (guint) target, importing);
    g_autofree char *b = lk_test_redis_cli (cluster, (guint) source, migrating);

    g_assert_cmpstr (g_strstrip (a), ==, "OK");
    g_assert_cmpstr (g_strstrip (b), ==, "OK");
  }

  /* The key is not at the source: it answers ASK, the client asks the target. */
  redirects = relay_redis_cluster_get_redirects (client);
  {
    g_autoptr(redisReply) set = command (client, key, "SET", key, "moved");

    g_assert_cmpint (set->type, ==, REDIS_REPLY_STATUS);
  }
  g_assert_cmpuint (relay_redis_cluster_get_redirects (client), >, redirects);

  /* What other tests wrote into the slot before the migration began goes
   * to the target too, as a resharding moves it: the source refuses to
   * give away a slot it still holds keys of. (Once it is MIGRATING, new
   * keys of the slot are created at the target.) */
  for (;;)
    {
      g_autofree char *get = g_strdup_printf ("CLUSTER GETKEYSINSLOT %u 100", slot);
      g_autofree char *keys = lk_test_redis_cli (cluster, (guint) source, get);
      g_auto(GStrv) lines = g_strsplit (g_strstrip (keys), "\n", -1);
      guint moved = 0;

      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_autofree char *migrate = NULL;
          g_autofree char *out = NULL;

          if (*g_strstrip (lines[i]) == '\0')
            continue;
          migrate = g_strdup_printf ("MIGRATE 127.0.0.1 %u %s 0 5000", cluster->ports[target], lines[i]);
          out = lk_test_redis_cli (cluster, (guint) source, migrate);
          g_strstrip (out);
          /* NOKEY: it expired, or was deleted, meanwhile. */
          if (!g_str_equal (out, "NOKEY"))
            g_assert_cmpstr (out, ==, "OK");
          moved++;
        }
      if (moved == 0)
        break;
      g_test_message ("moved %u keys of slot %u that were there before the test's", moved, slot);
    }

  /* The slot is the target's now, for everyone. */
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    {
      g_autofree char *role = lk_test_redis_cli (cluster, i, "ROLE");
      g_autofree char *finish = g_strdup_printf ("CLUSTER SETSLOT %u NODE %s", slot, target_id);

      if (g_str_has_prefix (role, "master"))
        {
          g_autofree char *out = lk_test_redis_cli (cluster, i, finish);

          g_assert_cmpstr (g_strstrip (out), ==, "OK");
        }
    }

  /* The client's map still says the source: MOVED, and the value. */
  redirects = relay_redis_cluster_get_redirects (client);
  {
    g_autoptr(redisReply) get = command (client, key, "GET", key, NULL);
    g_autofree char *before = g_strconcat (tag, "before", NULL);
    g_autoptr(redisReply) kept = NULL;

    g_assert_cmpint (get->type, ==, REDIS_REPLY_STRING);
    g_assert_cmpstr (get->str, ==, "moved");
    kept = command (client, before, "GET", before, NULL);
    g_assert_cmpint (kept->type, ==, REDIS_REPLY_STRING);
    g_assert_cmpstr (kept->str, ==, "kept");
  }
  g_assert_cmpuint (relay_redis_cluster_get_redirects (client), >, redirects);

  /* A batch with a stale map: the command is sent again where MOVED says,
   * and the others of the batch are answered where they were. */
  {
    const char *get_key[] = { "GET", key };
    const char *get_warm[] = { "GET", "warm" };
    size_t key_len[] = { 3, strlen (key) };
    size_t warm_len[] = { 3, 4 };
    RelayRedisBatchCommand batch[] = {
      { .key = key, .flags = RELAY_REDIS_COMMAND_IDEMPOTENT, .argc = 2, .argv = get_key, .argvlen = key_len },
      { .key = "warm", .flags = RELAY_REDIS_COMMAND_IDEMPOTENT, .argc = 2, .argv = get_warm, .argvlen = warm_len },
    };

    redirects = relay_redis_cluster_get_redirects (batch_client);
    relay_redis_cluster_run_batch (batch_client, batch, G_N_ELEMENTS (batch), 0, 0);
    for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
      {
        g_assert_no_error (batch[i].error);
        g_assert_nonnull (batch[i].reply);
        g_assert_cmpint (batch[i].reply->type, ==, REDIS_REPLY_STRING);
        g_assert_cmpstr (batch[i].reply->str, ==, i == 0 ? "moved" : "1");
        relay_redis_batch_command_clear (&batch[i]);
      }
    g_assert_cmpuint (relay_redis_cluster_get_redirects (batch_client), >, redirects);
  }
}

/* Commands for every primary, pipelined, each followed by a WAIT on its
 * connection; then the same after every node closed the client's
 * connections: the idempotent ones run again, the others are never sent
 * twice and fail with their fate unknown. */
static void
test_batch (void)
{
  g_autoptr(RelayRedisCluster) client = new_client ();
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  RelayRedisBatchCommand batch[60];
  const char *argv[G_N_ELEMENTS (batch)][3];
  size_t argvlen[G_N_ELEMENTS (batch)][3];
  GHashTable *nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint prefix = g_random_int ();

  for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
    {
      char *key = g_strdup_printf ("batch:%u:%u", prefix, i);
      char *value = g_strdup_printf ("v%u", i);

      g_ptr_array_add (keys, key);
      g_ptr_array_add (values, value);
    }

  for (guint round = 0; round < 2; round++)
    {
      memset (batch, 0, sizeof batch);
      for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
        {
          /* Every third one an INCR, which may not run twice. */
          gboolean incr = i % 3 == 2;

          argv[i][0] = incr ? "INCR" : "SET";
          argv[i][1] = keys->pdata[i];
          argv[i][2] = values->pdata[i];
          for (guint k = 0; k < 3; k++)
            argvlen[i][k] = strlen (argv[i][k]);
          batch[i] = (RelayRedisBatchCommand) { .key = keys->pdata[i], .argc = incr ? 2 : 3, .argv = argv[i],
                                                .argvlen = argvlen[i],
                                                .flags = incr ? RELAY_REDIS_COMMAND_NONE
                                                              : RELAY_REDIS_COMMAND_IDEMPOTENT };
        }
      if (round == 1)
        for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
          {
            g_autofree char *out = lk_test_redis_cli (cluster, i, "CLIENT KILL TYPE normal SKIPME yes");

            g_assert_cmpint (atoi (out), >=, 0);
          }

      relay_redis_cluster_run_batch (client, batch, G_N_ELEMENTS (batch), 1, 2000);

      for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
        {
          if (i % 3 != 2)
            {
              g_assert_no_error (batch[i].error);
              g_assert_cmpint (batch[i].reply->type, ==, REDIS_REPLY_STATUS);
              g_assert_true (batch[i].replicated);
            }
          else if (round == 0)
            {
              g_assert_no_error (batch[i].error);
              g_assert_cmpint (batch[i].reply->type, ==, REDIS_REPLY_INTEGER);
              g_assert_cmpint (batch[i].reply->integer, ==, 1);
              g_assert_true (batch[i].replicated);
            }
          else
            {
              g_assert_null (batch[i].reply);
              g_assert_error (batch[i].error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE);
            }
          relay_redis_batch_command_clear (&batch[i]);
        }
    }

  /* The SETs are there; no INCR ran twice. The batch spanned every primary. */
  for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
    {
      const char *key = keys->pdata[i];
      char *address = relay_redis_cluster_address_for_slot (client, relay_redis_key_slot (key, strlen (key)));
      g_autoptr(redisReply) get = command (client, keys->pdata[i], "GET", keys->pdata[i], NULL);

      g_assert_cmpint (get->type, ==, REDIS_REPLY_STRING);
      g_assert_cmpstr (get->str, ==, i % 3 == 2 ? "1" : values->pdata[i]);
      g_assert_nonnull (address);
      g_hash_table_add (nodes, address);
    }
  g_assert_cmpuint (g_hash_table_size (nodes), ==, 3);
  g_hash_table_unref (nodes);
}

/* Commands on keys spread over every primary, as a batch. */
static void
batch_fill (RelayRedisBatchCommand  *batch,
            guint                    n,
            const char            *(*argv)[3],
            size_t                 (*argvlen)[3],
            GPtrArray               *keys)
{
  memset (batch, 0, n * sizeof *batch);
  for (guint i = 0; i < n; i++)
    {
      argv[i][0] = "SET";
      argv[i][1] = keys->pdata[i];
      argv[i][2] = "v";
      for (guint k = 0; k < 3; k++)
        argvlen[i][k] = strlen (argv[i][k]);
      batch[i] = (RelayRedisBatchCommand) { .key = keys->pdata[i], .argc = 3, .argv = argv[i], .argvlen = argvlen[i],
                                            .flags = RELAY_REDIS_COMMAND_IDEMPOTENT };
    }
}

/* A "node" that accepts connections and never answers, as a stopped one. */
typedef struct
{
  GSocket      *listener;
  GCancellable *cancellable;
  GPtrArray    *connections;
  gint          accepted;
  char         *address;
  GThread      *thread;
} Mute;

static gpointer
mute_thread (gpointer data)
{
  Mute *mute = data;
  GSocket *connection;

  while ((connection = g_socket_accept (mute->listener, mute->cancellable, NULL)) != NULL)
    {
      g_ptr_array_add (mute->connections, connection);
      g_atomic_int_inc (&mute->accepted);
    }
  return NULL;
}

static void
mute_start (Mute *mute)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  mute->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (mute->listener, any, TRUE, NULL));
  g_assert_true (g_socket_listen (mute->listener, NULL));
  bound = g_socket_get_local_address (mute->listener, NULL);
  mute->address = g_strdup_printf ("127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  mute->cancellable = g_cancellable_new ();
  mute->connections = g_ptr_array_new_with_free_func (g_object_unref);
  mute->thread = g_thread_new ("mute-redis", mute_thread, mute);
}

static void
mute_stop (Mute *mute)
{
  g_cancellable_cancel (mute->cancellable);
  g_thread_join (mute->thread);
  g_ptr_array_unref (mute->connections);
  g_object_unref (mute->cancellable);
  g_object_unref (mute->listener);
  g_free (mute->address);
}

/* Every node hangs: one refresh asks each of them once, not once more as
 * a node that has failed (by then its short back-off has run out). */
static void
test_refresh_hung (void)
{
  Mute mutes[3] = { { 0 } };
  char *nodes[G_N_ELEMENTS (mutes) + 1] = { NULL };
  g_autoptr(RelayRedisCluster) client = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (mutes); i++)
    {
      mute_start (&mutes[i]);
      nodes[i] = mutes[i].address;
    }
  client = relay_redis_cluster_new ((const char * const *) nodes, 200);
  g_assert_false (relay_redis_cluster_refresh (client, &error));
  g_assert_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE);
  for (guint i = 0; i < G_N_ELEMENTS (mutes); i++)
    {
      gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

      /* Its thread may not have taken the last connection yet. */
      while (g_atomic_int_get (&mutes[i].accepted) == 0 && g_get_monotonic_time () < deadline)
        g_thread_yield ();
      g_assert_cmpint (g_atomic_int_get (&mutes[i].accepted), ==, 1);
      mute_stop (&mutes[i]);
    }
}

/* Past the caller's deadline a command fails at once, but a clean-up is
 * kept, and runs (binary-safe) when the caller asks, after its answer. */
static void
test_deferred (void)
{
  g_autoptr(RelayRedisCluster) client = new_client ();
  const char value[] = { 'a', '\0', 'b' };
  const char *set[] = { "SET", "deferred:k", value };
  size_t setlen[] = { 3, 10, sizeof value };
  const char *del[] = { "DEL", "deferred:k" };
  size_t dellen[] = { 3, 10 };
  g_autoptr(redisReply) gone = command (client, "deferred:k", "DEL", "deferred:k", NULL);

  g_assert_nonnull (gone);
  relay_redis_cluster_set_deadline (client, g_get_monotonic_time () - 1);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(redisReply) reply = relay_redis_cluster_command (client, "deferred:k", RELAY_REDIS_COMMAND_IDEMPOTENT,
                                                               2, del, dellen, &error);

    g_assert_null (reply);
    g_assert_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(redisReply) reply = relay_redis_cluster_command (client, "deferred:k",
                                                               RELAY_REDIS_COMMAND_IDEMPOTENT |
                                                                 RELAY_REDIS_COMMAND_CLEANUP,
                                                               3, set, setlen, &error);

    g_assert_null (reply);
    g_assert_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_DEFERRED);
  }
  relay_redis_cluster_set_deadline (client, 0);
  {
    g_autoptr(redisReply) before = command (client, "deferred:k", "GET", "deferred:k", NULL);

    g_assert_cmpint (before->type, ==, REDIS_REPLY_NIL);
  }

  g_assert_cmpuint (relay_redis_cluster_run_deferred (client), ==, 1);
  g_assert_cmpuint (relay_redis_cluster_run_deferred (client), ==, 0);
  {
    g_autoptr(redisReply) after = command (client, "deferred:k", "GET", "deferred:k", NULL);

    g_assert_cmpint (after->type, ==, REDIS_REPLY_STRING);
    g_assert_cmpmem (after->str, after->len, value, sizeof value);
  }
}

/* One primary hangs a moment, the first a batch reads: the others are read
 * with what was left of the batch's timeout, and their connections get
 * their whole timeout back afterwards, so that a command that takes some
 * milliseconds still runs on them (not sent twice: it may not be). */
static void
test_batch_after_hung_node (void)
{
  enum { TIMEOUT_MS = 500 };
  static const char slow[] = "local i = 0 while i < 3000000 do i = i + 1 end return i";
  g_auto(GStrv) nodes = NULL;
  g_autoptr(RelayRedisCluster) client = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *hung = NULL;
  RelayRedisBatchCommand batch[30];
  const char *argv[G_N_ELEMENTS (batch)][3];
  size_t argvlen[G_N_ELEMENTS (batch)][3];
  guint hung_node = LK_TEST_REDIS_NODES;
  guint others = 0;

  g_assert_true (relay_redis_parse_nodes (cluster->nodes, &nodes, NULL));
  client = relay_redis_cluster_new ((const char * const *) nodes, TIMEOUT_MS);
  for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
    g_ptr_array_add (keys, g_strdup_printf ("after:%u", i));
  batch_fill (batch, G_N_ELEMENTS (batch), argv, argvlen, keys);
  relay_redis_cluster_run_batch (client, batch, G_N_ELEMENTS (batch), 0, 0);
  for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
    {
      g_assert_no_error (batch[i].error);
      relay_redis_batch_command_clear (&batch[i]);
    }

  /* The node of the first command is the first one read. */
  hung = relay_redis_cluster_address_for_slot (client, relay_redis_key_slot (keys->pdata[0], strlen (keys->pdata[0])));
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    {
      g_autofree char *port = g_strdup_printf (":%u", cluster->ports[i]);

      if (g_str_has_suffix (hung, port))
        hung_node = i;
    }
  g_assert_cmpuint (hung_node, <, LK_TEST_REDIS_NODES);

  /* Shorter than cluster-node-timeout: no failover. */
  lk_test_redis_signal (cluster, hung_node, SIGSTOP);
  batch_fill (batch, G_N_ELEMENTS (batch), argv, argvlen, keys);
  relay_redis_cluster_run_batch (client, batch, G_N_ELEMENTS (batch), 0, 0);
  lk_test_redis_signal (cluster, hung_node, SIGCONT);

  for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
    {
      const char *key = keys->pdata[i];
      g_autofree char *address = relay_redis_cluster_address_for_slot (client, relay_redis_key_slot (key, strlen (key)));

      if (g_str_equal (address, hung))
        g_assert_error (batch[i].error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE);
      else
        {
          const char *eval[] = { "EVAL", slow, "1", key };
          size_t evallen[] = { 4, strlen (slow), 1, strlen (key) };
          g_autoptr(GError) error = NULL;
          g_autoptr(redisReply) reply = NULL;

          g_assert_no_error (batch[i].error);
          g_assert_cmpint (batch[i].reply->type, ==, REDIS_REPLY_STATUS);
          reply = relay_redis_cluster_command (client, key, RELAY_REDIS_COMMAND_NONE, G_N_ELEMENTS (eval), eval,
                                               evallen, &error);
          g_assert_no_error (error);
          g_assert_cmpint (reply->type, ==, REDIS_REPLY_INTEGER);
          others++;
        }
      relay_redis_batch_command_clear (&batch[i]);
    }
  g_assert_cmpuint (others, >, 0);
}

/* Every primary hangs (SIGSTOP), after the client last saw each of them
 * answer: the kernel still accepts connections to them. A batch over all
 * of them costs one timeout, not one per primary; a command stops trying
 * after its budget, not after a timeout per attempt and per node; once the
 * caller's deadline has passed, a command fails at once. Then they run
 * again, and so does the client. */
static void
test_hung (void)
{
  enum { TIMEOUT_MS = 500 };
  g_auto(GStrv) nodes = NULL;
  g_autoptr(RelayRedisCluster) client = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  RelayRedisBatchCommand batch[30];
  const char *argv[G_N_ELEMENTS (batch)][3];
  size_t argvlen[G_N_ELEMENTS (batch)][3];
  const char *get[] = { "GET", "hung:k" };
  size_t getlen[] = { 3, 6 };
  gboolean primary[LK_TEST_REDIS_NODES];
  gint64 start, took;

  g_assert_true (relay_redis_parse_nodes (cluster->nodes, &nodes, NULL));
  client = relay_redis_cluster_new ((const char * const *) nodes, TIMEOUT_MS);
  for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
    g_ptr_array_add (keys, g_strdup_printf ("hung:%u", i));

  batch_fill (batch, G_N_ELEMENTS (batch), argv, argvlen, keys);
  relay_redis_cluster_run_batch (client, batch, G_N_ELEMENTS (batch), 0, 0);
  for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
    {
      g_assert_no_error (batch[i].error);
      relay_redis_batch_command_clear (&batch[i]);
    }

  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    if ((primary[i] = lk_test_redis_is_primary (cluster, i)))
      lk_test_redis_signal (cluster, i, SIGSTOP);

  start = g_get_monotonic_time ();
  batch_fill (batch, G_N_ELEMENTS (batch), argv, argvlen, keys);
  relay_redis_cluster_run_batch (client, batch, G_N_ELEMENTS (batch), 0, 0);
  took = g_get_monotonic_time () - start;
  g_test_message ("a batch over three hung primaries: %.2f s", (double) took / G_USEC_PER_SEC);
  for (guint i = 0; i < G_N_ELEMENTS (batch); i++)
    {
      g_assert_null (batch[i].reply);
      g_assert_error (batch[i].error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE);
      relay_redis_batch_command_clear (&batch[i]);
    }
  g_assert_cmpint (took, <, 3 * TIMEOUT_MS * 1000);

  /* Its map is stale now, and the hung primaries have not failed since
   * they last answered as far as a fresh client knows. */
  g_clear_object (&client);
  client = relay_redis_cluster_new ((const char * const *) nodes, TIMEOUT_MS);
  relay_redis_cluster_set_deadline (client, 0);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(redisReply) reply = NULL;

    start = g_get_monotonic_time ();
    reply = relay_redis_cluster_command (client, "hung:k", RELAY_REDIS_COMMAND_IDEMPOTENT, 2, get, getlen, &error);
    took = g_get_monotonic_time () - start;
    g_test_message ("a command with hung primaries: %.2f s", (double) took / G_USEC_PER_SEC);
    g_assert_null (reply);
    g_assert_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE);
    /* Its budget (two timeouts) and the last attempt's connection and
     * command; before, a refresh per attempt asked each hung primary. */
    g_assert_cmpint (took, <, 5 * TIMEOUT_MS * 1000);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(redisReply) reply = NULL;

    relay_redis_cluster_set_deadline (client, g_get_monotonic_time () - 1);
    start = g_get_monotonic_time ();
    reply = relay_redis_cluster_command (client, "hung:k", RELAY_REDIS_COMMAND_IDEMPOTENT, 2, get, getlen, &error);
    took = g_get_monotonic_time () - start;
    g_assert_null (reply);
    g_assert_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE);
    g_assert_cmpint (took, <, TIMEOUT_MS * 1000);
    relay_redis_cluster_set_deadline (client, 0);
  }

  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    if (primary[i])
      lk_test_redis_signal (cluster, i, SIGCONT);

  /* Back, after the back-off. */
  {
    g_autoptr(redisReply) reply = command_once_back (client, "hung:k", RELAY_REDIS_COMMAND_IDEMPOTENT, 2, get,
                                                     getlen, 10);

    g_assert_nonnull (reply);
  }
}

/* Every node closes the client's connections (as a restart or a failover
 * does): an idempotent command reconnects and runs; another is not sent
 * twice, and fails once, with its fate unknown; the next one reconnects. */
static void
test_reconnect (void)
{
  g_autoptr(RelayRedisCluster) client = new_client ();
  const char *argv[] = { "INCR", "reconnect:n" };
  size_t argvlen[] = { 4, 11 };

  for (guint round = 0; round < 2; round++)
    {
      gboolean idempotent = round == 0;
      g_autoptr(GError) error = NULL;
      g_autoptr(redisReply) warm = command (client, "reconnect:n", "GET", "reconnect:n", NULL);
      g_autoptr(redisReply) reply = NULL;

      g_assert_nonnull (warm);
      for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
        {
          g_autofree char *out = lk_test_redis_cli (cluster, i, "CLIENT KILL TYPE normal SKIPME yes");

          g_assert_cmpint (atoi (out), >=, 0);
        }

      reply = relay_redis_cluster_command (client, "reconnect:n",
                                           idempotent ? RELAY_REDIS_COMMAND_IDEMPOTENT : RELAY_REDIS_COMMAND_NONE,
                                           2, argv, argvlen, &error);
      if (idempotent)
        {
          g_assert_no_error (error);
          g_assert_cmpint (reply->type, ==, REDIS_REPLY_INTEGER);
        }
      else
        {
          g_assert_null (reply);
          g_assert_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE);
        }
    }

  /* And the next command finds a new connection, after the back-off. */
  {
    g_autoptr(redisReply) reply = command_once_back (client, "reconnect:n", RELAY_REDIS_COMMAND_NONE, 2, argv,
                                                     argvlen, 5);

    g_assert_cmpint (reply->type, ==, REDIS_REPLY_INTEGER);
    g_assert_cmpint (reply->integer, ==, 2);
  }
}

/* Nothing listens: an error at once, not a hang. */
static void
test_unreachable (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *node = NULL;
  g_autoptr(RelayRedisCluster) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(redisReply) reply = NULL;
  const char *argv[] = { "GET", "k" };
  size_t argvlen[] = { 3, 1 };
  gint64 start;

  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  node = g_strdup_printf ("127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  client = relay_redis_cluster_new ((const char * const *) (char *[]) { node, NULL }, 500);

  start = g_get_monotonic_time ();
  reply = relay_redis_cluster_command (client, "k", RELAY_REDIS_COMMAND_IDEMPOTENT, 2, argv, argvlen, &error);
  g_assert_null (reply);
  g_assert_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
}

/* A "node" that answers CLUSTER SLOTS with the given bytes. */
typedef struct
{
  GSocket    *listener;
  const char *answer;
} Fake;

static gpointer
fake_thread (gpointer data)
{
  Fake *fake = data;
  g_autoptr(GSocket) connection = g_socket_accept (fake->listener, NULL, NULL);
  char buffer[4096];

  /* Every request gets the same answer, until the client hangs up. */
  while (connection != NULL && g_socket_receive (connection, buffer, sizeof buffer, NULL, NULL) > 0)
    g_socket_send (connection, fake->answer, strlen (fake->answer), NULL, NULL);
  return NULL;
}

/* What a store says is untrusted: a slot map of the wrong shape is an
 * error, never a crash or a route to nowhere. */
static void
test_malformed_slot_map (void)
{
  static const char * const answers[] = {
    ":5\r\n",                                                     /* a number */
    "*0\r\n",                                                     /* no ranges */
    "*1\r\n*3\r\n:0\r\n:99999\r\n*2\r\n$9\r\n127.0.0.1\r\n:1\r\n", /* slot out of range */
    "*1\r\n*3\r\n:9\r\n:1\r\n*2\r\n$9\r\n127.0.0.1\r\n:1\r\n",     /* start after end */
    "*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n:1\r\n:1\r\n",              /* host a number */
    "*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:0\r\n", /* port 0 */
    "*1\r\n*2\r\n:0\r\n:16383\r\n",                                /* no primary */
    "-ERR This instance has cluster support disabled\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    {
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
      g_autoptr(GSocketAddress) bound = NULL;
      g_autofree char *node = NULL;
      g_autoptr(RelayRedisCluster) client = NULL;
      g_autoptr(GError) error = NULL;
      Fake fake = { g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL),
                    answers[i] };
      GThread *thread;

      g_assert_true (g_socket_bind (fake.listener, any, TRUE, NULL));
      g_assert_true (g_socket_listen (fake.listener, NULL));
      bound = g_socket_get_local_address (fake.listener, NULL);
      node = g_strdup_printf ("127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
      thread = g_thread_new ("fake-redis", fake_thread, &fake);

      client = relay_redis_cluster_new ((const char * const *) (char *[]) { node, NULL }, 1000);
      g_assert_false (relay_redis_cluster_refresh (client, &error));
      g_assert_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL);

      g_clear_object (&client);   /* hangs up: the fake's thread ends */
      g_thread_join (thread);
      g_object_unref (fake.listener);
    }
}

static void
test_parse_nodes (void)
{
  static const char * const good[] = { "127.0.0.1:7000", "a:1, b:2 ,c:65535", "[::1]:7000", "redis-0.local:6379" };
  static const char * const bad[] = { "", " ", ",", "127.0.0.1", "127.0.0.1:", ":7000", "h:0", "h:65536", "h:7x",
                                      "h:1,,h:2", "h o:1", "h:1/2" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_auto(GStrv) nodes = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_true (relay_redis_parse_nodes (good[i], &nodes, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (g_strv_length (nodes), >=, 1);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto(GStrv) nodes = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", bad[i]);
      g_assert_false (relay_redis_parse_nodes (bad[i], &nodes, &error));
      g_assert_nonnull (error);
    }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/relay-redis-cluster/slot-rules", test_slot_rules);
  g_test_add_func ("/relay-redis-cluster/parse-nodes", test_parse_nodes);
  g_test_add_func ("/relay-redis-cluster/unreachable", test_unreachable);
  g_test_add_func ("/relay-redis-cluster/malformed-slot-map", test_malformed_slot_map);
  g_test_add_func ("/relay-redis-cluster/slot-matches-cluster", test_slot_matches_cluster);
  g_test_add_func ("/relay-redis-cluster/routing", test_routing);
  g_test_add_func ("/relay-redis-cluster/ask-and-moved", test_ask_and_moved);
  g_test_add_func ("/relay-redis-cluster/reconnect", test_reconnect);
  g_test_add_func ("/relay-redis-cluster/batch", test_batch);
  g_test_add_func ("/relay-redis-cluster/hung", test_hung);
  g_test_add_func ("/relay-redis-cluster/refresh-hung", test_refresh_hung);
  g_test_add_func ("/relay-redis-cluster/deferred", test_deferred);
  g_test_add_func ("/relay-redis-cluster/batch-after-hung-node", test_batch_after_hung_node);

  cluster = lk_test_redis_start ();
  status = g_test_run ();
  g_clear_pointer (&cluster, lk_test_redis_stop);
  return status;
}
