/* test-relay-faults.c: two relay instances on a Redis Cluster under faults,
 * with the counts of what was acknowledged and what was lost
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Issue 14. A client of the test's own makes creates through instances A
 * and B, each create with its own Mailbox-Request-ID, retried on the other
 * instance with the same id after a connection failure or a 503, as a
 * client behind a load balancer would. A fault strikes mid-stream: SIGKILL
 * of an instance, SIGKILL of a Redis primary (its replica is promoted), all
 * primaries hung (SIGSTOP). Afterwards every create that got a 2xx must be
 * readable: PROTOCOL.md §6.10 says a 2xx means the write is on a primary's
 * disk and a replica acknowledged it. And one hung primary holds up only
 * the requests for its own slots (/relay/faults/one-primary-hangs).
 */

#define G_LOG_DOMAIN "test-relay-faults"

#include "config.h"

#include <signal.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lk-test-redis.h"
#include "lk-test-server.h"
#include "relay-redis-cluster.h"

#define CREATE_BODY \
  "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"oKGio6SlpqeoqaqrnToaQjemY8tAX6W3bh2pqhHALnH+2ycYsmlD6BrZ\"}," \
  "\"displayInformation\":{\"title\":\"Room 404\",\"description\":\"Hotel Example\"}}"

#define CLIENTS              4
/* Far longer than any answer the relay may take: a request that takes
 * this long is a hang. */
#define ANSWER_TIMEOUT_S     60
/* What the relay may take to answer while the store hangs: an operation's
 * budget (OP_BUDGET_MS in relay-store-redis.c, 6 s), and a last command
 * begun within it, with its connection (two 2 s timeouts). Measured: at
 * most 6.1 s in 12 runs, four at a time; 41 s before the budget. */
#define HUNG_ANSWER_MAX_USEC (12 * G_USEC_PER_SEC)
/* A client gives a create up after trying this long. */
#define CREATE_DEADLINE_USEC (90 * G_USEC_PER_SEC)
/* Deadlines for events the test waits for: generous, for a loaded machine. */
#define EVENT_DEADLINE_USEC  (120 * G_USEC_PER_SEC)
#define POLL_USEC            20000

typedef struct
{
  char  *id;
  guint  slot;       /* of its key, {m:ID} */
  guint  status;     /* 200: made by this attempt; 201: by an earlier one */
  gint64 time;       /* monotonic, when the 2xx came */
} Ack;

typedef struct
{
  LkTestServer *relays[2];
  char         *claim;
  GThread      *threads[CLIENTS];
  gint          stop;
  gint          next;          /* creates alternate between the instances */

  GMutex        lock;
  GPtrArray    *acks;          /* of Ack */
  gint64        slowest;       /* usec: the longest attempt */

  gint          retried;       /* creates that took more than one attempt */
  gint          unavailable;   /* 503 answers */
  gint          no_retry_after;
  gint          attempts;
  gint          broken;        /* attempts without an answer (connection refused or cut) */
  gint          unexpected;    /* any other answer */
  gint          given_up;      /* creates without a 2xx by their deadline */
} Stream;

static void
ack_free (Ack *ack)
{
  g_free (ack->id);
  g_free (ack);
}

/* One attempt. Returns the status, 0 if no answer came. */
static guint
create_once (Stream      *s,
             SoupSession *session,
             guint        target,
             const char  *request_id,
             char       **id)
{
  g_autofree char *url = g_strconcat (s->relays[target]->url, "/v1/m", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GBytes) body = g_bytes_new_static (CREATE_BODY, strlen (CREATE_BODY));
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);
  gint64 start = g_get_monotonic_time ();
  guint status;

  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  soup_message_headers_replace (headers, "Mailbox-Device-Claim", s->claim);
  soup_message_headers_replace (headers, "Mailbox-Request-ID", request_id);
  response = soup_session_send_and_read (session, msg, NULL, &error);
  status = error == NULL ? soup_message_get_status (msg) : 0;
  g_atomic_int_inc (&s->attempts);

  g_mutex_lock (&s->lock);
  s->slowest = MAX (s->slowest, g_get_monotonic_time () - start);
  g_mutex_unlock (&s->lock);

  if (status == 200 || status == 201)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonNode *root;
      const char *link, *slash;

      g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (response, NULL),
                                                 (gssize) g_bytes_get_size (response), NULL));
      root = json_parser_get_root (parser);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
      link = json_object_get_string_member (json_node_get_object (root), "urlLink");
      g_assert_nonnull (link);
      slash = strrchr (link, '/');
      g_assert_nonnull (slash);
      g_assert_true (g_uuid_string_is_valid (slash + 1));
      *id = g_strdup (slash + 1);
    }
  else if (status == 503)
    {
      g_atomic_int_inc (&s->unavailable);
      if (soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After") == NULL)
        g_atomic_int_inc (&s->no_retry_after);
    }
  else if (status == 0)
    g_atomic_int_inc (&s->broken);
  else
    {
      g_test_message ("a create got %u", status);
      g_atomic_int_inc (&s->unexpected);
    }
  return status;
}

static gpointer
stream_thread (gpointer data)
{
  Stream *s = data;
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", ANSWER_TIMEOUT_S, NULL);

  while (!g_atomic_int_get (&s->stop))
    {
      g_autofree char *request_id = g_uuid_string_random ();
      guint target = (guint) g_atomic_int_add (&s->next, 1) % 2;
      gint64 deadline = g_get_monotonic_time () + CREATE_DEADLINE_USEC;
      gulong pause = 10000;

      for (guint attempt = 0;; attempt++)
        {
          g_autofree char *id = NULL;
          guint status = create_once (s, session, target, request_id, &id);

          if (id != NULL)
            {
              Ack *ack = g_new0 (Ack, 1);
              g_autofree char *key = g_strdup_printf ("{m:%s}", id);

              ack->slot = relay_redis_key_slot (key, strlen (key));
              ack->status = status;
              ack->id = g_steal_pointer (&id);
              ack->time = g_get_monotonic_time ();
              g_mutex_lock (&s->lock);
              g_ptr_array_add (s->acks, ack);
              g_mutex_unlock (&s->lock);
            }
          if (attempt == 1)
            g_atomic_int_inc (&s->retried);
          if (status == 200 || status == 201 || (status != 0 && status != 503))
            break;
          if (g_get_monotonic_time () > deadline)
            {
              g_atomic_int_inc (&s->given_up);
              break;
            }
          /* The other instance, after a short back-off (the client's own,
           * not a synchronisation). */
          target ^= 1;
          g_usleep (pause);
          pause = MIN (pause * 2, 200000);
        }
    }
  return NULL;
}

static char **
relay_args (LkTestRedis *redis,
            const char  *shared_dir)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_add_many (builder, "--rate", "0", "--max-mailboxes-per-client", "0",
                           "--store", "redis", "--redis-nodes", redis->nodes, NULL);
  /* One limiter.key for both instances, as PROTOCOL.md §6.10 asks. */
  if (shared_dir != NULL)
    g_strv_builder_add_many (builder, "--data-dir", shared_dir, NULL);
  return g_strv_builder_end (builder);
}

static Stream *
stream_new (LkTestRedis *redis)
{
  Stream *s = g_new0 (Stream, 1);
  g_auto(GStrv) first_args = relay_args (redis, NULL);
  g_auto(GStrv) other_args = NULL;
  g_autofree char *shared_dir = NULL;

  s->relays[0] = lk_test_server_new ("LATCHKEY_RELAY", (const char * const *) first_args);
  lk_test_server_start (s->relays[0]);
  shared_dir = g_build_filename (s->relays[0]->data_dir, "db", NULL);
  other_args = relay_args (redis, shared_dir);
  s->relays[1] = lk_test_server_new ("LATCHKEY_RELAY", (const char * const *) other_args);
  lk_test_server_start (s->relays[1]);

  s->claim = g_uuid_string_random ();
  s->acks = g_ptr_array_new_with_free_func ((GDestroyNotify) ack_free);
  g_mutex_init (&s->lock);
  return s;
}

static void
stream_start (Stream *s)
{
  for (guint i = 0; i < CLIENTS; i++)
    s->threads[i] = g_thread_new ("client", stream_thread, s);
}

/* Each client finishes the create it is making (retries included). */
static void
stream_stop (Stream *s)
{
  g_atomic_int_set (&s->stop, 1);
  for (guint i = 0; i < CLIENTS; i++)
    g_clear_pointer (&s->threads[i], g_thread_join);
}

static void
stream_free (Stream *s)
{
  stream_stop (s);
  for (guint i = 0; i < G_N_ELEMENTS (s->relays); i++)
    g_clear_pointer (&s->relays[i], lk_test_server_free);
  g_ptr_array_unref (s->acks);
  g_mutex_clear (&s->lock);
  g_free (s->claim);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Stream, stream_free)

static guint
acknowledged (Stream *s)
{
  guint n;

  g_mutex_lock (&s->lock);
  n = s->acks->len;
  g_mutex_unlock (&s->lock);
  return n;
}

/* Polls until @n creates are acknowledged. */
static void
wait_for_acks (Stream     *s,
               guint       n,
               const char *what)
{
  gint64 deadline = g_get_monotonic_time () + EVENT_DEADLINE_USEC;

  while (acknowledged (s) < n)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%u of %u creates acknowledged %s", acknowledged (s), n, what);
      g_usleep (POLL_USEC);
    }
}

/* The first @status (0: any 2xx) after @since on a slot @slots has (any
 * slot if NULL), or 0. */
static gint64
first_ack_after (Stream         *s,
                 gint64          since,
                 const gboolean *slots,
                 guint           status)
{
  gint64 first = 0;

  g_mutex_lock (&s->lock);
  for (guint i = 0; i < s->acks->len; i++)
    {
      Ack *ack = g_ptr_array_index (s->acks, i);

      if (ack->time > since && (slots == NULL || slots[ack->slot]) && (status == 0 || ack->status == status) &&
          (first == 0 || ack->time < first))
        first = ack->time;
    }
  g_mutex_unlock (&s->lock);
  return first;
}

static gint64
wait_for_ack_after (Stream         *s,
                    gint64          since,
                    const gboolean *slots,
                    guint           status,
                    const char     *what)
{
  gint64 deadline = g_get_monotonic_time () + EVENT_DEADLINE_USEC;
  gint64 first;

  while ((first = first_ack_after (s, since, slots, status)) == 0)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("no create acknowledged %s", what);
      g_usleep (POLL_USEC);
    }
  return first;
}

/* Reads every acknowledged mailbox through @relay: each must be there. */
static guint
count_lost (Stream       *s,
            LkTestServer *relay)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", ANSWER_TIMEOUT_S, NULL);
  guint lost = 0;

  for (guint i = 0; i < s->acks->len; i++)
    {
      Ack *ack = g_ptr_array_index (s->acks, i);
      g_autofree char *url = g_strdup_printf ("%s/v1/m/%s", relay->url, ack->id);
      g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
      g_autoptr(GBytes) response = NULL;
      guint status;

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Mailbox-Device-Claim", s->claim);
      response = soup_session_send_and_read (session, msg, NULL, NULL);
      status = soup_message_get_status (msg);
      if (status != 200)
        {
          g_test_message ("mailbox %.8s… (slot %u), acknowledged %u, reads %u", ack->id, ack->slot, ack->status,
                          status);
          lost++;
        }
    }
  return lost;
}

static void
report (Stream     *s,
        const char *fault,
        guint       lost)
{
  g_test_message ("%s: %u acknowledged, %u lost, %d retried, %d × 503 (%d without Retry-After), "
                  "%d attempts without an answer, %d other answers, %d given up, slowest attempt %.1f s",
                  fault, s->acks->len, lost, g_atomic_int_get (&s->retried), g_atomic_int_get (&s->unavailable),
                  g_atomic_int_get (&s->no_retry_after), g_atomic_int_get (&s->broken),
                  g_atomic_int_get (&s->unexpected), g_atomic_int_get (&s->given_up),
                  (double) s->slowest / G_USEC_PER_SEC);
  g_assert_cmpuint (lost, ==, 0);
  g_assert_cmpint (g_atomic_int_get (&s->no_retry_after), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&s->unexpected), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&s->given_up), ==, 0);
}

/* SIGKILL of instance A mid-stream: its clients retry on B, and nothing
 * either acknowledged is lost. */
static void
test_kill_relay (void)
{
  g_autoptr(LkTestRedis) redis = lk_test_redis_start ();
  g_autoptr(Stream) s = stream_new (redis);
  guint before;

  stream_start (s);
  wait_for_acks (s, 100, "before the kill");
  before = acknowledged (s);
  lk_test_server_kill (s->relays[0]);
  /* Creates go on, through B. */
  wait_for_acks (s, before + 100, "after the kill");
  stream_stop (s);

  g_test_message ("%u creates acknowledged before instance A's SIGKILL", before);
  report (s, "relay SIGKILL", count_lost (s, s->relays[1]));
  /* The kill was felt: creates sent to A were retried on B. */
  g_assert_cmpint (g_atomic_int_get (&s->retried), >, 0);
}

/* A slot field of CLUSTER NODES: "N" or "N-M" (migration fields such as
 * "[N->-id]" are not ranges). */
static gboolean
slot_range (const char *field,
            guint64    *first,
            guint64    *last)
{
  char *end;

  *first = g_ascii_strtoull (field, &end, 10);
  if (end == field)
    return FALSE;
  *last = *end == '-' ? g_ascii_strtoull (end + 1, NULL, 10) : *first;
  return TRUE;
}

/* The port of the primary that owns @slot, as @node's CLUSTER NODES says
 * (not one marked failed), or 0. */
static guint
slot_owner (LkTestRedis *redis,
            guint        node,
            guint        slot)
{
  g_autofree char *out = lk_test_redis_cli (redis, node, "CLUSTER NODES");
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", -1);

      if (g_strv_length (fields) < 9 || strstr (fields[2], "master") == NULL || strstr (fields[2], "fail") != NULL)
        continue;
      for (guint j = 8; fields[j] != NULL; j++)
        {
          guint64 first, last;

          if (slot_range (fields[j], &first, &last) && slot >= first && slot <= last)
            return atoi (strchr (fields[1], ':') + 1);
        }
    }
  return 0;
}

/* Marks in @slots the slots @node serves, as its own CLUSTER NODES says. */
static guint
own_slots (LkTestRedis *redis,
           guint        node,
           gboolean    *slots)
{
  g_autofree char *out = lk_test_redis_cli (redis, node, "CLUSTER NODES");
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", -1);

      if (g_strv_length (fields) < 9 || strstr (fields[2], "myself") == NULL)
        continue;
      for (guint j = 8; fields[j] != NULL; j++)
        {
          guint64 first, last;

          if (!slot_range (fields[j], &first, &last))
            continue;
          for (guint64 slot = first; slot <= last && slot < RELAY_REDIS_SLOTS; slot++)
            {
              slots[slot] = TRUE;
              n++;
            }
        }
    }
  return n;
}

/* SIGKILL of a Redis primary mid-stream: its replica is promoted, the
 * relays follow the new slot map without a restart, and every create
 * acknowledged before, during or after is readable. The killed node is then
 * restarted, as its supervisor would, and rejoins as the new primary's
 * replica: until then, writes to its slots cannot be replicated and are
 * 503 (WAIT 1 fails).
 *
 * With @data TRUE, the replica lags when the primary dies: it is stopped and
 * its link cut (CLIENT KILL on the primary) a while before, so that what the
 * primary takes meanwhile never reaches it, and the failover loses it. A
 * relay that answered 2xx without WAIT would have acknowledged those writes:
 * this is the case that tells. */
static void
test_kill_primary (gconstpointer data)
{
  gboolean lagging = GPOINTER_TO_INT (data);
  guint replica = LK_TEST_REDIS_NODES;
  g_autoptr(LkTestRedis) redis = lk_test_redis_start ();
  g_autoptr(Stream) s = stream_new (redis);
  g_autofree gboolean *dead_slots = g_new0 (gboolean, RELAY_REDIS_SLOTS);
  guint victim = LK_TEST_REDIS_NODES, first_slot = 0, n_slots, before, before_on_victim = 0;
  gint unavailable_before;
  gint64 killed, promoted, recovered, deadline, first_2xx;

  for (guint i = 0; i < LK_TEST_REDIS_NODES && victim == LK_TEST_REDIS_NODES; i++)
    if (lk_test_redis_is_primary (redis, i))
      victim = i;
  g_assert_cmpuint (victim, <, LK_TEST_REDIS_NODES);
  n_slots = own_slots (redis, victim, dead_slots);
  g_assert_cmpuint (n_slots, >=, RELAY_REDIS_SLOTS / 4);
  while (!dead_slots[first_slot])
    first_slot++;
  for (guint i = 0; i < LK_TEST_REDIS_NODES && replica == LK_TEST_REDIS_NODES; i++)
    {
      g_autofree char *role = lk_test_redis_cli (redis, i, "ROLE");
      g_autofree char *port = g_strdup_printf ("\n%u\n", redis->ports[victim]);

      if (g_str_has_prefix (role, "slave") && strstr (role, port) != NULL)
        replica = i;
    }
  g_assert_cmpuint (replica, <, LK_TEST_REDIS_NODES);

  stream_start (s);
  wait_for_acks (s, 150, "before the kill");

  unavailable_before = g_atomic_int_get (&s->unavailable);
  before = acknowledged (s);
  if (lagging)
    {
      g_autofree char *out = NULL;
      gint attempts;

      lk_test_redis_signal (redis, replica, SIGSTOP);
      out = lk_test_redis_cli (redis, victim, "CLIENT KILL TYPE replica");
      g_assert_cmpint (atoi (out), ==, 1);
      /* Some 30 creates meanwhile, a third of them on the primary's slots. */
      attempts = g_atomic_int_get (&s->attempts);
      deadline = g_get_monotonic_time () + EVENT_DEADLINE_USEC;
      while (g_atomic_int_get (&s->attempts) < attempts + 30)
        {
          if (g_get_monotonic_time () > deadline)
            g_error ("no creates while the replica lags");
          g_usleep (POLL_USEC);
        }
    }
  killed = g_get_monotonic_time ();
  lk_test_redis_kill (redis, victim);
  if (lagging)
    lk_test_redis_signal (redis, replica, SIGCONT);

  /* The survivors agree that another node serves the dead one's slots. */
  deadline = killed + EVENT_DEADLINE_USEC;
  for (;;)
    {
      gboolean settled = TRUE;

      for (guint i = 0; i < LK_TEST_REDIS_NODES && settled; i++)
        {
          g_autofree char *info = NULL;
          guint owner;

          if (i == victim)
            continue;
          info = lk_test_redis_cli (redis, i, "CLUSTER INFO");
          owner = slot_owner (redis, i, first_slot);
          settled = strstr (info, "cluster_state:ok") != NULL && owner != 0 && owner != redis->ports[victim];
        }
      if (settled)
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("no replica took over the killed primary's slots");
      g_usleep (POLL_USEC);
    }
  promoted = g_get_monotonic_time ();

  lk_test_redis_restart (redis, victim);
  /* A new mailbox there: replicated again. (A 201 may come sooner: a
   * retry whose first attempt reached the promoted replica.) */
  recovered = wait_for_ack_after (s, killed, dead_slots, 200, "on the killed primary's slots");
  /* And a good number more, everywhere. */
  wait_for_acks (s, acknowledged (s) + 100, "after the failover");
  stream_stop (s);
  first_2xx = first_ack_after (s, killed, dead_slots, 0);

  for (guint i = 0; i < before; i++)
    {
      Ack *ack = g_ptr_array_index (s->acks, i);

      if (dead_slots[ack->slot])
        before_on_victim++;
    }
  g_test_message ("primary SIGKILL%s (node %u, %u slots): %u creates acknowledged before, %u of them on its slots; "
                  "promotion seen after %.1f s; first 2xx on its slots %.1f s after the kill, "
                  "first 200 (a new mailbox, replicated) %.1f s; %d × 503 from the fault on",
                  lagging ? " with a lagging replica" : "", victim, n_slots, before, before_on_victim, (double) (promoted - killed) / G_USEC_PER_SEC,
                  (double) (first_2xx - killed) / G_USEC_PER_SEC, (double) (recovered - killed) / G_USEC_PER_SEC,
                  g_atomic_int_get (&s->unavailable) - unavailable_before);
  /* The acknowledged writes the failover puts to the test. */
  g_assert_cmpuint (before_on_victim, >, 0);
  report (s, lagging ? "primary SIGKILL, lagging replica" : "primary SIGKILL", count_lost (s, s->relays[0]));
}

/* All primaries hang (SIGSTOP): writes are 503 with Retry-After within the
 * timeouts, never a 2xx for a write that is not stored, never a hang; then
 * they run again (SIGCONT) and the same relay processes answer 2xx again. */
static void
test_store_hangs (void)
{
  g_autoptr(LkTestRedis) redis = lk_test_redis_start ();
  g_autoptr(Stream) s = stream_new (redis);
  gboolean primary[LK_TEST_REDIS_NODES];
  GPid pids[2] = { lk_test_server_get_pid (s->relays[0]), lk_test_server_get_pid (s->relays[1]) };
  gint unavailable_before;
  gint64 stopped, resumed, recovered, deadline, slowest;
  guint before, during;

  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    primary[i] = lk_test_redis_is_primary (redis, i);

  stream_start (s);
  wait_for_acks (s, 100, "before the store hangs");

  unavailable_before = g_atomic_int_get (&s->unavailable);
  before = acknowledged (s);
  stopped = g_get_monotonic_time ();
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    if (primary[i])
      lk_test_redis_signal (redis, i, SIGSTOP);

  /* Both instances have refused a good number of writes. */
  deadline = stopped + EVENT_DEADLINE_USEC;
  while (g_atomic_int_get (&s->unavailable) < unavailable_before + 8)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("no 503 while the store hangs");
      g_usleep (POLL_USEC);
    }
  during = acknowledged (s) - before;
  g_mutex_lock (&s->lock);
  slowest = s->slowest;
  g_mutex_unlock (&s->lock);

  resumed = g_get_monotonic_time ();
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    if (primary[i])
      lk_test_redis_signal (redis, i, SIGCONT);

  recovered = wait_for_ack_after (s, resumed, NULL, 0, "after the store is back");
  wait_for_acks (s, acknowledged (s) + 100, "after the store is back");
  stream_stop (s);

  /* The same processes, not restarted. */
  g_assert_cmpint (lk_test_server_get_pid (s->relays[0]), ==, pids[0]);
  g_assert_cmpint (lk_test_server_get_pid (s->relays[1]), ==, pids[1]);

  g_test_message ("store hung %.1f s: %u creates acknowledged before, %u while it hung (answers in flight), "
                  "%d × 503 meanwhile, slowest attempt %.1f s; first 2xx %.1f s after SIGCONT",
                  (double) (resumed - stopped) / G_USEC_PER_SEC, before, during,
                  g_atomic_int_get (&s->unavailable) - unavailable_before, (double) slowest / G_USEC_PER_SEC,
                  (double) (recovered - resumed) / G_USEC_PER_SEC);
  g_assert_cmpint (slowest, <, HUNG_ANSWER_MAX_USEC);
  report (s, "store hung", count_lost (s, s->relays[0]));
}

typedef struct
{
  char  *url;
  char  *claim;
  guint  status;
  gint   done;
} Read;

/* A read by the mailbox's creator: a lookup, nothing written. */
static guint
read_mailbox (const char *url,
              const char *claim)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", ANSWER_TIMEOUT_S, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Mailbox-Device-Claim", claim);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  return error == NULL ? soup_message_get_status (msg) : 0;
}

static gpointer
read_thread (gpointer data)
{
  Read *r = data;

  r->status = read_mailbox (r->url, r->claim);
  g_atomic_int_set (&r->done, 1);
  return NULL;
}

/* The relay's count of read requests it has begun, from /metrics. */
static guint
reads_begun (const char *relay_url)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", ANSWER_TIMEOUT_S, NULL);
  g_autofree char *url = g_strconcat (relay_url, "/metrics", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);
  g_autofree char *text = NULL;
  const char *line;
  const char *name = "latchkey_relay_requests_total{operation=\"read\"} ";

  g_assert_nonnull (body);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  line = strstr (text, name);
  g_assert_nonnull (line);
  return (guint) g_ascii_strtoull (line + strlen (name), NULL, 10);
}

/* The primary of the mailbox's slot, as node 0 sees it. */
static guint
mailbox_owner (LkTestRedis *redis,
               const char  *id)
{
  g_autofree char *key = g_strdup_printf ("{m:%s}", id);
  guint port = slot_owner (redis, 0, relay_redis_key_slot (key, strlen (key)));

  g_assert_cmpuint (port, !=, 0);
  return port;
}

/* One primary hangs (SIGSTOP, its replica too, so that no failover ends
 * it): a read of a mailbox in its slots waits for it, and meanwhile the
 * same relay instance answers a read of a mailbox elsewhere, and /metrics.
 * With lookups made on the HTTP thread, both would wait behind the first:
 * that thread would be held for the Redis timeouts (2 s, up to 6 tries). */
static void
test_one_primary_hangs (void)
{
  g_autoptr(LkTestRedis) redis = lk_test_redis_start ();
  g_autoptr(Stream) s = stream_new (redis);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *hung_id = NULL, *other_id = NULL, *other_url = NULL;
  guint global_port = slot_owner (redis, 0, relay_redis_key_slot ("{g}", 3));
  guint hung_port = 0, other_port = 0, hung_node = G_MAXUINT, other;
  Read hung = { 0 };
  GThread *thread;
  gint64 deadline;

  /* A mailbox on a primary that does not hold the global count (which
   * /metrics asks), and one on another primary. */
  for (guint i = 0; i < 200 && other_id == NULL; i++)
    {
      g_autofree char *request_id = g_uuid_string_random ();
      g_autofree char *id = NULL;
      gint64 give_up = g_get_monotonic_time () + CREATE_DEADLINE_USEC;
      guint status, port;

      /* As a client would: a 503 (a replica slow to acknowledge on a
       * loaded machine) is retried, with the same request id. */
      while ((status = create_once (s, session, 0, request_id, &id)) == 503 && g_get_monotonic_time () < give_up)
        {
          g_autofree char *log = lk_test_server_read_log (s->relays[0]);
          const char *last = g_strrstr (log, "Store operation failed");

          if (last == NULL)
            last = "(no store failure logged)";
          g_test_message ("a create before the fault got 503: %.*s", (int) strcspn (last, "\n"), last);
          g_usleep (POLL_USEC);
        }
      g_assert_true (status == 200 || status == 201);
      port = mailbox_owner (redis, id);
      if (hung_id == NULL && port != global_port)
        {
          hung_id = g_steal_pointer (&id);
          hung_port = port;
        }
      else if (hung_id != NULL && port != hung_port)
        {
          other_id = g_steal_pointer (&id);
          other_port = port;
        }
    }
  g_assert_nonnull (other_id);
  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    if (redis->ports[i] == hung_port)
      hung_node = i;
  g_assert_cmpuint (hung_node, <, LK_TEST_REDIS_NODES);
  g_assert_cmpuint (reads_begun (s->relays[0]->url), ==, 0);

  lk_test_redis_pause_replicas (redis, TRUE);
  lk_test_redis_signal (redis, hung_node, SIGSTOP);

  hung.url = g_strdup_printf ("%s/v1/m/%s", s->relays[0]->url, hung_id);
  hung.claim = s->claim;
  thread = g_thread_new ("hung-read", read_thread, &hung);

  /* Once the relay has begun the hung read, /metrics and the other read
   * are answered while it still waits. */
  deadline = g_get_monotonic_time () + EVENT_DEADLINE_USEC;
  while (reads_begun (s->relays[0]->url) < 1)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("the relay never began the read");
      g_usleep (POLL_USEC);
    }
  other_url = g_strdup_printf ("%s/v1/m/%s", s->relays[0]->url, other_id);
  other = read_mailbox (other_url, s->claim);
  g_assert_cmpuint (other, ==, 200);
  g_assert_false (g_atomic_int_get (&hung.done));
  /* (No redis-cli here: the node it asks may be the stopped one.) */
  g_test_message ("with primary :%u hung, a read of a mailbox on :%u was answered while one on :%u waited",
                  hung_port, other_port, hung_port);

  lk_test_redis_signal (redis, hung_node, SIGCONT);
  lk_test_redis_pause_replicas (redis, FALSE);
  g_thread_join (thread);
  /* Answered, not hung: the mailbox, or 503 if the retries ran out first. */
  g_test_message ("the read on the hung primary got %u", hung.status);
  g_assert_true (hung.status == 200 || hung.status == 503);
  g_free (hung.url);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/relay/faults/kill-relay", test_kill_relay);
  g_test_add_data_func ("/relay/faults/kill-primary", GINT_TO_POINTER (FALSE), test_kill_primary);
  g_test_add_data_func ("/relay/faults/kill-primary-lagging-replica", GINT_TO_POINTER (TRUE), test_kill_primary);
  g_test_add_func ("/relay/faults/store-hangs", test_store_hangs);
  g_test_add_func ("/relay/faults/one-primary-hangs", test_one_primary_hangs);

  return g_test_run ();
}
