/* test-e2e.c: shares between two devices, through the real relay and partner
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The sender and the receiver are separate latchkey-cli processes, each with
 * its own D-Bus session and gnome-keyring; they never run at the same time,
 * so every exchange also shows that a side can be offline and resume.
 *
 * With LATCHKEY_TEST_STORE=redis (the e2e-redis test, issue 14), every
 * world has two relay instances on one Redis Cluster behind one address:
 * the sender's requests go to instance A and everyone else's to B
 * (lk-test-balancer.c), so every share crosses from one instance to the
 * other through the store.
 */

#define G_LOG_DOMAIN "test-e2e"
#define _GNU_SOURCE   /* memmem */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "latchkey-core.h"
#include "lk-test-actor.h"
#include "lk-test-balancer.h"
#include "lk-test-legacy.h"
#include "lk-test-proxy.h"
#include "lk-test-redis.h"
#include "lk-test-server.h"
#include "lk-test-async.h"

/* Every step the other side took is already in the mailbox when a side
 * looks: one read each time is enough (--wait 0 reads once). */
#define WAIT "0"

static LkTestRedis *redis_cluster;

typedef struct
{
  LkTestServer *relay;
  LkTestServer *other;      /* the second instance, with the Redis store */
  LkTestBalancer *balancer; /* in front of both */
  LkTestServer *partner;
  LkTestProxy  *proxy;
  LkTestActor  *sender;
  LkTestActor  *receiver;
  LkTestActor  *third;
} World;

static World *
world_new_full (const char * const *relay_args,
                gboolean            use_proxy,
                LkTestProxyMode     mode)
{
  static const char * const default_args[] = { "--rate", "0", NULL };
  World *w = g_new0 (World, 1);
  const char *relay_url;

  if (relay_args == NULL)
    relay_args = default_args;
  if (redis_cluster != NULL)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      g_auto(GStrv) args = NULL;
      g_auto(GStrv) other_args = NULL;
      g_autofree char *shared_dir = NULL;

      /* Each world starts empty, as with a relay of its own. */
      lk_test_redis_flush (redis_cluster);
      g_strv_builder_addv (builder, (const char **) relay_args);
      g_strv_builder_add_many (builder, "--store", "redis", "--redis-nodes", redis_cluster->nodes, NULL);
      args = g_strv_builder_end (builder);
      w->relay = lk_test_server_new ("LATCHKEY_RELAY", (const char * const *) args);
      lk_test_server_start (w->relay);
      /* One limiter.key for both (PROTOCOL.md §6.10). */
      shared_dir = g_build_filename (w->relay->data_dir, "db", NULL);
      other_args = g_strdupv (args);
      {
        g_autoptr(GStrvBuilder) more = g_strv_builder_new ();

        g_strv_builder_addv (more, (const char **) other_args);
        g_strv_builder_add_many (more, "--data-dir", shared_dir, NULL);
        g_strfreev (other_args);
        other_args = g_strv_builder_end (more);
      }
      w->other = lk_test_server_new ("LATCHKEY_RELAY", (const char * const *) other_args);
      lk_test_server_start (w->other);
      w->balancer = lk_test_balancer_new (w->relay->port, w->other->port);
    }
  else
    {
      w->relay = lk_test_server_new ("LATCHKEY_RELAY", relay_args);
      lk_test_server_start (w->relay);
    }
  w->partner = lk_test_server_new ("LATCHKEY_PARTNER", NULL);
  lk_test_server_start (w->partner);

  relay_url = w->balancer != NULL ? lk_test_balancer_get_url (w->balancer) : w->relay->url;
  if (use_proxy)
    {
      w->proxy = lk_test_proxy_new (relay_url, mode);
      relay_url = lk_test_proxy_get_url (w->proxy);
    }

  w->sender = lk_test_actor_new ("sender", relay_url, w->partner->url);
  w->receiver = lk_test_actor_new ("receiver", relay_url, w->partner->url);
  w->third = lk_test_actor_new ("third", relay_url, w->partner->url);
  return w;
}

static World *
world_new (void)
{
  return world_new_full (NULL, FALSE, LK_TEST_PROXY_PASS);
}

static void
world_free (World *w)
{
  g_clear_pointer (&w->sender, lk_test_actor_free);
  g_clear_pointer (&w->receiver, lk_test_actor_free);
  g_clear_pointer (&w->third, lk_test_actor_free);
  g_clear_pointer (&w->proxy, lk_test_proxy_free);
  if (w->balancer != NULL)
    {
      guint a = lk_test_balancer_get_connections (w->balancer, 0);
      guint b = lk_test_balancer_get_connections (w->balancer, 1);

      g_test_message ("connections: %u to instance A (the sender's), %u to instance B", a, b);
    }
  g_clear_pointer (&w->balancer, lk_test_balancer_free);
  g_clear_pointer (&w->relay, lk_test_server_free);
  g_clear_pointer (&w->other, lk_test_server_free);
  g_clear_pointer (&w->partner, lk_test_server_free);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (World, world_free)

/* As Ben, the name the receiver sees. */
#define share_as_ben(actor, credential, ...) \
  lk_test_actor_share ((actor), (credential), "--name", "Ben", __VA_ARGS__)

/* A transfer's porcelain status line: id, state, role, vertical, credential,
 * received/receivers. */
static GStrv
status_fields (LkTestActor *actor,
               const char  *transfer,
               const char  *wait,
               int         *status)
{
  g_autoptr(LkTestRun) run = NULL;
  g_auto(GStrv) lines = NULL;

  if (wait != NULL)
    run = lk_test_actor_run (actor, NULL, "status", transfer, "--porcelain", "--wait", wait, "--confirm", NULL);
  else
    run = lk_test_actor_run (actor, NULL, "status", transfer, "--porcelain", NULL);
  if (status != NULL)
    *status = run->status;

  /* status prints each change it sees: the last line is where it ended. */
  lines = g_strsplit (g_strchomp (run->out), "\n", -1);
  g_assert_nonnull (lines[0]);
  return g_strsplit (lines[g_strv_length (lines) - 1], "\t", -1);
}

static char *
state_of (LkTestActor *actor,
          const char  *transfer,
          const char  *wait)
{
  g_auto(GStrv) fields = status_fields (actor, transfer, wait, NULL);

  /* Fields are only added at the end: the sixth is received/receivers. */
  g_assert_cmpuint (g_strv_length (fields), ==, 6);
  return g_strdup (fields[1]);
}

static char *
received_id (LkTestRun *run)
{
  g_auto(GStrv) words = g_strsplit_set (run->out, " \n", 2);

  g_assert_true (g_uuid_string_is_valid (words[0]));
  return g_strdup (words[0]);
}

static char *
wrong_code (const char *code,
            guint       offset)
{
  return g_strdup_printf ("%06u", ((guint) atoi (code) + offset) % 1000000);
}

static guint
count_keys (LkTestActor *actor)
{
  g_autoptr(LkTestRun) run = lk_test_actor_run (actor, NULL, "list", NULL);
  guint n = 0;

  for (const char *p = run->out; (p = strchr (p, '\n')) != NULL; p++)
    n++;
  return n;
}

/* Each vertical, end to end, with and without an activation code. */

typedef struct
{
  const char *vertical;
  gboolean    code;
} Flow;

static void
test_flow (gconstpointer data)
{
  const Flow *flow = data;
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->sender, flow->vertical, NULL);
  g_autoptr(LkTestShare) s = NULL;
  g_autoptr(LkTestRun) received = NULL;
  g_autoptr(LkTestRun) shown = NULL;
  g_autoptr(LkTestRun) revoked = NULL;
  g_autoptr(LkTestRun) denied = NULL;
  g_autoptr(LkTestRun) granted = NULL;
  g_autofree char *input = NULL;
  g_autofree char *receipt = NULL;
  g_autofree char *key = NULL;
  gboolean car = strcmp (flow->vertical, "car") == 0;
  const char *action = car ? "start" : "open";

  s = flow->code ? share_as_ben (w->sender, credential, "--code", NULL) : share_as_ben (w->sender, credential, NULL);
  g_assert_true (flow->code == (s->code != NULL));
  /* The code is never in the link. */
  if (s->code != NULL)
    g_assert_null (strstr (s->link, s->code));

  input = s->code ? g_strdup_printf ("%s\n%s\n", s->link, s->code) : g_strdup_printf ("%s\n", s->link);
  received = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_assert_cmpint (received->status, ==, 0);
  receipt = received_id (received);

  /* A car share, and a generic one with a code, need the sender a second time. */
  if (car || (flow->code && strcmp (flow->vertical, "generic") == 0))
    {
      g_autofree char *opened = state_of (w->receiver, receipt, NULL);
      int status;
      g_auto(GStrv) fields = NULL;

      /* The receiver is now offline; the sender comes back, checks, answers. */
      g_assert_cmpstr (opened, ==, "opened");
      if (car)
        {
          g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "status", s->id, "--porcelain",
                                                        "--wait", WAIT, NULL);
          g_autoptr(LkTestRun) confirmed = NULL;

          g_assert_cmpint (run->status, ==, 4);
          g_assert_nonnull (strstr (run->out, "awaiting-confirmation"));
          confirmed = lk_test_actor_run (w->sender, NULL, "confirm", s->id, NULL);
          g_assert_cmpint (confirmed->status, ==, 0);
        }
      else
        {
          /* The code was right: the token goes now. */
          g_autofree char *sent = state_of (w->sender, s->id, WAIT);
          g_assert_cmpstr (sent, ==, "opened");
        }

      fields = status_fields (w->receiver, receipt, WAIT, &status);
      g_assert_cmpstr (fields[1], ==, "done");
      key = g_strdup (fields[4]);
    }
  else
    {
      g_auto(GStrv) fields = status_fields (w->receiver, receipt, NULL, NULL);

      g_assert_cmpstr (fields[1], ==, "done");
      key = g_strdup (fields[4]);
    }

  /* The sender learns of it when it comes back. */
  {
    g_autofree char *done = state_of (w->sender, s->id, WAIT);
    g_assert_cmpstr (done, ==, "done");
  }
  /* With two instances, the sender spoke only to A and the receiver only
   * to B: what each wrote reached the other through the store. */
  if (w->balancer != NULL)
    {
      g_assert_cmpuint (lk_test_balancer_get_connections (w->balancer, 0), >, 0);
      g_assert_cmpuint (lk_test_balancer_get_connections (w->balancer, 1), >, 0);
    }

  shown = lk_test_actor_run (w->receiver, NULL, "show", key, NULL);
  g_assert_cmpint (shown->status, ==, 0);
  g_assert_nonnull (strstr (shown->out, "Shared by:    Ben"));

  /* The received key really opens the (simulated) car, room or door… */
  granted = lk_test_actor_run (w->receiver, NULL, "access", key, "--action", action, NULL);
  g_assert_cmpint (granted->status, ==, 0);

  /* …until the sender revokes it. */
  revoked = lk_test_actor_run (w->sender, NULL, "revoke", s->id, NULL);
  g_assert_cmpint (revoked->status, ==, 0);
  denied = lk_test_actor_run (w->receiver, NULL, "access", key, "--action", action, NULL);
  g_assert_cmpint (denied->status, ==, 6);
  g_assert_nonnull (strstr (denied->out, "revoked"));

  /* The owner's own key still works (a generic one with its new token). */
  {
    g_autoptr(LkTestRun) own = lk_test_actor_run (w->sender, NULL, "access", credential, "--action", action, NULL);
    g_assert_cmpint (own->status, ==, 0);
  }
}

/* The owner stays in control (issue 15): a signed car key is revocable at
 * once, before the receiver's acknowledgement is read; `show` lists who the
 * key was shared with; `status --wait` prints every change it observed,
 * "done" and "declined" included, also without an ID and with --porcelain. */
static void
test_owner_control (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *car = lk_test_actor_enroll (w->sender, "car", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, car, NULL);
  g_autoptr(LkTestShare) other = NULL;
  g_autofree char *input = g_strdup_printf ("%s\n", s->link);
  g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", "--name", "Ann", NULL);
  g_autofree char *receipt = received_id (received);
  g_autoptr(LkTestRun) waiting = NULL;
  g_autoptr(LkTestRun) confirmed = NULL;
  g_autoptr(LkTestRun) shown = NULL;
  g_autoptr(LkTestRun) revoked = NULL;
  g_autoptr(LkTestRun) shown_revoked = NULL;
  g_autoptr(LkTestRun) seen = NULL;
  g_autoptr(LkTestRun) declined = NULL;
  g_autoptr(LkTestRun) denied = NULL;
  g_autofree char *done = NULL;
  g_autofree char *key = NULL;
  g_autofree char *declined_input = NULL;
  g_autofree char *other_receipt = NULL;

  /* Without an ID: the change to awaiting-confirmation is printed. */
  waiting = lk_test_actor_run (w->sender, NULL, "status", "--wait", WAIT, NULL);
  g_assert_cmpint (waiting->status, ==, 4);
  g_assert_nonnull (strstr (waiting->out, s->id));
  g_assert_nonnull (strstr (waiting->out, "awaiting-confirmation"));
  g_assert_nonnull (strstr (waiting->out, "asked by Ann"));

  confirmed = lk_test_actor_run (w->sender, NULL, "confirm", s->id, NULL);
  g_assert_cmpint (confirmed->status, ==, 0);

  shown = lk_test_actor_run (w->sender, NULL, "show", car, NULL);
  g_assert_cmpint (shown->status, ==, 0);
  g_assert_nonnull (strstr (shown->out, "Shared with:"));
  g_assert_nonnull (strstr (shown->out, s->id));
  g_assert_nonnull (strstr (shown->out, "revocable"));
  g_assert_nonnull (strstr (shown->out, "  Ann  opened"));

  /* Signed, not yet acknowledged: revocable now. */
  revoked = lk_test_actor_run (w->sender, NULL, "revoke", s->id, NULL);
  g_assert_cmpint (revoked->status, ==, 0);
  g_assert_nonnull (strstr (revoked->out, "(revoked)"));
  shown_revoked = lk_test_actor_run (w->sender, NULL, "show", car, NULL);
  g_assert_nonnull (strstr (shown_revoked->out, "(revoked)"));
  g_assert_null (strstr (shown_revoked->out, "revocable"));

  done = state_of (w->receiver, receipt, WAIT);
  g_assert_cmpstr (done, ==, "done");
  {
    g_auto(GStrv) fields = status_fields (w->receiver, receipt, NULL, NULL);
    key = g_strdup (fields[4]);
  }
  denied = lk_test_actor_run (w->receiver, NULL, "access", key, "--action", "open", NULL);
  g_assert_cmpint (denied->status, ==, 6);

  /* A second share the receiver declines. */
  other = share_as_ben (w->sender, car, NULL);
  declined_input = g_strdup_printf ("%s\n", other->link);
  {
    g_autoptr(LkTestRun) got = lk_test_actor_run (w->receiver, declined_input, "receive", NULL);
    g_autoptr(LkTestRun) decline = NULL;

    other_receipt = received_id (got);
    decline = lk_test_actor_run (w->receiver, NULL, "cancel", other_receipt, NULL);
    g_assert_cmpint (decline->status, ==, 0);
  }

  /* The sender comes back: without an ID, both ends are printed as they
   * happen, a script needs no second call. */
  seen = lk_test_actor_run (w->sender, NULL, "status", "--wait", WAIT, NULL);
  g_assert_cmpint (seen->status, ==, 0);
  {
    g_autofree char *done_line = g_strdup_printf ("%s", s->id);
    const char *at = strstr (seen->out, done_line);

    g_assert_nonnull (at);
    g_assert_nonnull (strstr (at, "done"));
    at = strstr (seen->out, other->id);
    g_assert_nonnull (at);
    g_assert_nonnull (strstr (at, "declined"));
  }

  /* Nothing changed since: finished ones are not printed again… */
  {
    g_autoptr(LkTestRun) quiet = lk_test_actor_run (w->sender, NULL, "status", "--wait", WAIT, NULL);
    g_assert_cmpstr (quiet->out, ==, "");
  }

  /* …and --porcelain prints them all, as before. */
  declined = lk_test_actor_run (w->sender, NULL, "status", "--porcelain", NULL);
  g_assert_nonnull (strstr (declined->out, "\tdone\t"));
  g_assert_nonnull (strstr (declined->out, "\tdeclined\t"));
}

/* `status --porcelain --wait` prints every change as a line of its own. */
static void
test_status_porcelain_changes (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *home = lk_test_actor_enroll (w->sender, "home", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, home, NULL);
  g_autofree char *input = g_strdup_printf ("%s\n", s->link);
  g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_autoptr(LkTestRun) seen = NULL;
  g_autofree char *expected = NULL;

  g_assert_cmpint (received->status, ==, 0);
  seen = lk_test_actor_run (w->sender, NULL, "status", "--porcelain", "--wait", WAIT, NULL);
  g_assert_cmpint (seen->status, ==, 0);
  /* The fields scripts read, in their places; issue 13 added a sixth. */
  expected = g_strdup_printf ("%s\tdone\tinitiator\thome\t%s\t1/1\n", s->id, home);
  g_assert_nonnull (strstr (seen->out, expected));
}

/* A generic share keeps its limits, and the receiver cannot take the pass
 * over: each share has its own token at the partner, with its own window,
 * that only the owner revokes (issue 10, finding 3). */
static void
test_generic_limits (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "generic", NULL);
  g_autoptr(LkTestShare) later = share_as_ben (w->sender, credential, "--valid-from", "1h", NULL);
  g_autoptr(LkTestShare) now = share_as_ben (w->sender, credential, NULL);
  g_autofree char *later_input = g_strdup_printf ("%s\n", later->link);
  g_autofree char *now_input = g_strdup_printf ("%s\n", now->link);
  g_autoptr(LkTestRun) got_later = lk_test_actor_run (w->receiver, later_input, "receive", NULL);
  g_autoptr(LkTestRun) got_now = lk_test_actor_run (w->third, now_input, "receive", NULL);
  g_autofree char *later_key = NULL;
  g_autofree char *now_key = NULL;
  g_autofree char *secrets = NULL;

  g_assert_cmpint (got_later->status, ==, 0);
  g_assert_cmpint (got_now->status, ==, 0);
  {
    g_autofree char *receipt = received_id (got_later);
    g_auto(GStrv) fields = status_fields (w->receiver, receipt, NULL, NULL);
    later_key = g_strdup (fields[4]);
  }
  {
    g_autofree char *receipt = received_id (got_now);
    g_auto(GStrv) fields = status_fields (w->third, receipt, NULL, NULL);
    now_key = g_strdup (fields[4]);
  }

  /* The window the sender chose holds at the door, not only in the wallet. */
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->receiver, NULL, "access", later_key, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 6);
    g_assert_nonnull (strstr (run->out, "not valid yet"));
  }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->third, NULL, "access", now_key, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 0);
  }

  /* What the receiver holds is the share's token, not the owner's: the
   * owner holds none, and signs. */
  secrets = lk_test_actor_keyring_secrets (w->sender);
  g_assert_null (strstr (secrets, "\"accessToken\""));
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "access", credential, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 0);
  }

  /* Revoking one share leaves the other and the owner. */
  {
    g_autofree char *done = state_of (w->sender, later->id, WAIT);
    g_assert_cmpstr (done, ==, "done");
  }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "revoke", later->id, NULL);
    g_assert_cmpint (run->status, ==, 0);
  }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->receiver, NULL, "access", later_key, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 6);
    g_assert_nonnull (strstr (run->out, "revoked"));
  }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->third, NULL, "access", now_key, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 0);
  }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "access", credential, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 0);
  }
}

/* A generic key enrolled before owners had keys, as an older Latchkey left
 * it in the keyring and at the partner: it keeps working, gets a key at
 * its first share, and its old shares (copies of its token) keep working
 * until it revokes them. */
static void
test_generic_migration (void)
{
  g_autoptr(World) w = world_new ();
  g_autoptr(LkTestLegacyPass) pass = lk_test_legacy_pass_add (w->partner);
  const char *credential_id = pass->credential_id;
  g_autofree char *copy_id = lk_uuid_new_random ();
  g_autofree char *transfer_id = lk_uuid_new_random ();
  g_autofree char *claim = lk_uuid_new_random ();
  g_autofree char *owned = g_strdup_printf ("{\"version\":1,\"id\":\"%s\",\"vertical\":\"generic\",\"role\":\"owner\","
                                            "\"title\":\"Old Pass\",\"issuer\":\"Latchkey Demo Partner\","
                                            "\"entitlements\":[\"open\"],\"accessPointId\":\"%s\","
                                            "\"partnerUrl\":\"%s\",\"accessToken\":\"%s\"}",
                                            credential_id, pass->access_point_id, w->partner->url,
                                            pass->access_token);
  g_autofree char *copied = g_strdup_printf ("{\"version\":1,\"id\":\"%s\",\"vertical\":\"generic\",\"role\":\"shared\","
                                             "\"title\":\"Old Pass\",\"entitlements\":[\"open\"],"
                                             "\"accessPointId\":\"%s\",\"partnerUrl\":\"%s\",\"accessToken\":\"%s\"}",
                                             copy_id, pass->access_point_id, w->partner->url, pass->access_token);
  /* The sender's record of the share that gave the copy away. */
  g_autofree char *old_share = g_strdup_printf ("{\"version\":1,\"id\":\"%s\",\"role\":\"initiator\","
                                                "\"vertical\":\"generic\",\"state\":\"done\",\"claim\":\"%s\","
                                                "\"title\":\"Old Pass\",\"credentialId\":\"%s\"}",
                                                transfer_id, claim, credential_id);
  g_autoptr(LkTestShare) s = NULL;
  g_autofree char *input = NULL;
  g_autofree char *key = NULL;
  g_autofree char *secrets = NULL;

  lk_test_actor_store_item (w->sender, "credential", credential_id, owned);
  lk_test_actor_store_item (w->sender, "transfer", transfer_id, old_share);
  lk_test_actor_store_item (w->third, "credential", copy_id, copied);

  /* Both still open. */
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "access", credential_id, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 0);
  }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->third, NULL, "access", copy_id, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 0);
  }

  /* The first share registers a key; the receiver gets a token of its own. */
  s = share_as_ben (w->sender, credential_id, NULL);
  input = g_strdup_printf ("%s\n", s->link);
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->receiver, input, "receive", NULL);
    g_autofree char *receipt = received_id (run);
    g_auto(GStrv) fields = status_fields (w->receiver, receipt, NULL, NULL);

    g_assert_cmpstr (fields[1], ==, "done");
    key = g_strdup (fields[4]);
  }
  secrets = lk_test_actor_keyring_secrets (w->receiver);
  g_assert_null (strstr (secrets, pass->access_token));
  g_clear_pointer (&secrets, g_free);
  secrets = lk_test_actor_keyring_secrets (w->sender);
  g_assert_null (strstr (secrets, pass->access_token));
  g_assert_nonnull (strstr (secrets, "privateKey"));

  /* Revoking the old share revokes the old token, every copy of it; the
   * owner (who signs now) and the new share go on. */
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "revoke", transfer_id, NULL);
    g_assert_cmpint (run->status, ==, 0);
  }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->third, NULL, "access", copy_id, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 6);
    g_assert_nonnull (strstr (run->out, "revoked"));
  }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "access", credential_id, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 0);
  }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->receiver, NULL, "access", key, "--action", "open", NULL);
    g_assert_cmpint (run->status, ==, 0);
  }
}

/* Issue 18: CI once failed in lk_test_actor_new with only "'appeared'
 * should be TRUE": a keyring that never took its bus name. Now it is
 * started again, and its messages are shown. Here the first start is one
 * that does nothing (a stand-in found first in PATH); the actor must
 * still come up, with a keyring that works. */
static void
test_keyring_started_again (void)
{
  g_autofree char *dir = g_dir_make_tmp ("latchkey-fake-keyring-XXXXXX", NULL);
  g_autofree char *script = g_build_filename (dir, "gnome-keyring-daemon", NULL);
  g_autofree char *marker = g_build_filename (dir, "started-once", NULL);
  g_autofree char *real = g_find_program_in_path ("gnome-keyring-daemon");
  g_autofree char *text = NULL;
  g_autofree char *old_path = g_strdup (g_getenv ("PATH"));
  g_autofree char *path = NULL;
  guint old_wait = lk_test_actor_keyring_wait_seconds;
  g_autoptr(LkTestActor) actor = NULL;
  g_autoptr(LkTestRun) listed = NULL;

  g_assert_nonnull (dir);
  g_assert_nonnull (real);
  text = g_strdup_printf ("#!/bin/sh\n"
                          "if [ ! -e '%s' ]; then\n"
                          "  touch '%s'; cat >/dev/null; echo 'a start that does nothing' >&2; exit 0\n"
                          "fi\n"
                          "exec '%s' \"$@\"\n", marker, marker, real);
  g_assert_true (g_file_set_contents (script, text, -1, NULL));
  g_assert_no_errno (g_chmod (script, 0755));
  path = g_strconcat (dir, ":", old_path, NULL);
  g_setenv ("PATH", path, TRUE);
  lk_test_actor_keyring_wait_seconds = 2;

  actor = lk_test_actor_new ("Kim", NULL, NULL);

  lk_test_actor_keyring_wait_seconds = old_wait;
  g_setenv ("PATH", old_path, TRUE);
  g_assert_true (g_file_test (marker, G_FILE_TEST_EXISTS));
  /* Reading the wallet needs the keyring. */
  listed = lk_test_actor_run (actor, NULL, "list", NULL);
  g_assert_cmpint (listed->status, ==, 0);
  lk_test_remove_tree (dir);
}

static void
test_forwarded_link (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "car", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, NULL);
  g_autofree char *input = g_strdup_printf ("%s\n", s->link);
  g_autoptr(LkTestRun) first = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_autoptr(LkTestRun) forwarded = lk_test_actor_run (w->third, input, "receive", NULL);

  g_assert_cmpint (first->status, ==, 0);
  /* The relay bound the first device: a forwarded link is refused. */
  g_assert_cmpint (forwarded->status, ==, 1);
  g_assert_nonnull (strstr (forwarded->err, "Another device already accepted"));
  g_assert_cmpuint (count_keys (w->third), ==, 0);
}

/* Issue 13: the link as a messenger delivers it (with fbclid and utm_*
 * added) and without its secret, which the sender sent another way, as the
 * draft recommends; latchkey-cli takes it from the next line. */
static void
test_secret_apart (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "home", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, NULL);
  g_auto(GStrv) parts = g_strsplit (s->link, "#", 2);
  g_autofree char *input = g_strdup_printf ("%s&fbclid=IwAR0xyz&utm_source=chat\n%s\n", parts[0], parts[1]);
  g_autoptr(LkTestRun) received = NULL;
  g_autofree char *receipt = NULL;
  g_autofree char *key = NULL;
  g_autoptr(LkTestRun) granted = NULL;

  g_assert_nonnull (parts[1]);
  received = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_assert_cmpint (received->status, ==, 0);
  receipt = received_id (received);
  {
    g_auto(GStrv) fields = status_fields (w->receiver, receipt, NULL, NULL);

    g_assert_cmpstr (fields[1], ==, "done");
    key = g_strdup (fields[4]);
  }
  granted = lk_test_actor_run (w->receiver, NULL, "access", key, "--action", "open", NULL);
  g_assert_cmpint (granted->status, ==, 0);
}

static void
test_home_wrong_codes (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "home", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, "--code", NULL);
  g_autofree char *wrong1 = wrong_code (s->code, 1);
  g_autofree char *wrong2 = wrong_code (s->code, 2);
  g_autofree char *wrong3 = wrong_code (s->code, 3);
  g_autofree char *input = g_strdup_printf ("%s\n%s\n%s\n%s\n", s->link, wrong1, wrong2, wrong3);
  g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_autofree char *receipt = received_id (received);
  g_autofree char *right = g_strdup_printf ("%s\n", s->code);
  g_autoptr(LkTestRun) too_late = lk_test_actor_run (w->receiver, right, "code", receipt, NULL);
  g_autofree char *sender_state = state_of (w->sender, s->id, WAIT);

  /* Three wrong codes: the partner burns the token. */
  g_assert_cmpint (received->status, ==, 5);
  g_assert_nonnull (strstr (received->out, "cancelled"));
  g_assert_cmpint (too_late->status, ==, 3);
  g_assert_cmpstr (sender_state, ==, "cancelled");
  g_assert_cmpuint (count_keys (w->receiver), ==, 0);
}

static void
test_home_one_wrong_code (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "home", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, "--code", NULL);
  g_autofree char *wrong = wrong_code (s->code, 7);
  g_autofree char *input = g_strdup_printf ("%s\n%s\n%s\n", s->link, wrong, s->code);
  g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);

  g_assert_cmpint (received->status, ==, 0);
  g_assert_nonnull (strstr (received->err, "wrong"));
  g_assert_nonnull (strstr (received->out, "done"));
}

static void
test_wrong_codes_checked_by_sender (gconstpointer data)
{
  const char *vertical = data;
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->sender, vertical, NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, "--code", NULL);
  g_autofree char *receipt = NULL;

  /* The code goes to the sender's device inside the mailbox; each wrong one
   * comes back as a PinReEntryRequest, and the third cancels the share. */
  for (guint attempt = 1; attempt <= 3; attempt++)
    {
      g_autofree char *wrong = wrong_code (s->code, attempt);
      g_autoptr(LkTestRun) run = NULL;
      g_autofree char *sender_state = NULL;
      g_autofree char *receiver_state = NULL;

      if (attempt == 1)
        {
          g_autofree char *input = g_strdup_printf ("%s\n%s\n", s->link, wrong);

          run = lk_test_actor_run (w->receiver, input, "receive", NULL);
          receipt = received_id (run);
        }
      else
        {
          g_autofree char *input = g_strdup_printf ("%s\n", wrong);

          receiver_state = state_of (w->receiver, receipt, WAIT);
          g_assert_cmpstr (receiver_state, ==, "awaiting-code");
          run = lk_test_actor_run (w->receiver, input, "code", receipt, NULL);
        }
      g_assert_cmpint (run->status, ==, 0);

      sender_state = state_of (w->sender, s->id, WAIT);
      g_assert_cmpstr (sender_state, ==, attempt < 3 ? "opened" : "cancelled");
    }

  {
    g_autofree char *final = state_of (w->receiver, receipt, WAIT);
    g_assert_cmpstr (final, ==, "cancelled");
  }
  g_assert_cmpuint (count_keys (w->receiver), ==, 0);
}

static void
test_car_one_wrong_code (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "car", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, "--code", "--auto-confirm", NULL);
  g_autofree char *wrong = wrong_code (s->code, 5);
  g_autofree char *input = g_strdup_printf ("%s\n%s\n", s->link, wrong);
  g_autofree char *right = g_strdup_printf ("%s\n", s->code);
  g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_autofree char *receipt = received_id (received);
  g_autofree char *sender_state = state_of (w->sender, s->id, WAIT);
  g_autofree char *receiver_state = state_of (w->receiver, receipt, WAIT);
  g_autoptr(LkTestRun) coded = lk_test_actor_run (w->receiver, right, "code", receipt, NULL);
  g_autofree char *signed_state = state_of (w->sender, s->id, WAIT);
  g_autofree char *done = state_of (w->receiver, receipt, WAIT);

  g_assert_cmpstr (sender_state, ==, "opened");
  g_assert_cmpstr (receiver_state, ==, "awaiting-code");
  g_assert_cmpint (coded->status, ==, 0);
  g_assert_cmpstr (signed_state, ==, "opened");   /* signed; waiting for the receiver's done */
  g_assert_cmpstr (done, ==, "done");
}

static void
test_cancel_and_decline (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *home = lk_test_actor_enroll (w->sender, "home", NULL);
  g_autofree char *car = lk_test_actor_enroll (w->sender, "car", NULL);

  /* The sender cancels before anyone opened it: the link is dead. */
  {
    g_autoptr(LkTestShare) s = share_as_ben (w->sender, home, NULL);
    g_autoptr(LkTestRun) cancel = lk_test_actor_run (w->sender, NULL, "cancel", s->id, NULL);
    g_autofree char *input = g_strdup_printf ("%s\n", s->link);
    g_autoptr(LkTestRun) late = lk_test_actor_run (w->receiver, input, "receive", NULL);

    g_assert_cmpint (cancel->status, ==, 0);
    g_assert_cmpint (late->status, ==, 1);
    g_assert_nonnull (strstr (late->err, "no longer exists"));
  }

  /* The sender cancels while its confirmation is awaited (car). */
  {
    g_autoptr(LkTestShare) s = share_as_ben (w->sender, car, NULL);
    g_autofree char *input = g_strdup_printf ("%s\n", s->link);
    g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
    g_autofree char *receipt = received_id (received);
    g_autofree char *awaiting = NULL;
    g_autoptr(LkTestRun) cancel = NULL;
    g_autofree char *cancelled = NULL;

    {
      g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "status", s->id, "--porcelain",
                                                    "--wait", WAIT, NULL);
      awaiting = g_strdup (run->out);
    }
    g_assert_nonnull (strstr (awaiting, "awaiting-confirmation"));
    cancel = lk_test_actor_run (w->sender, NULL, "cancel", s->id, NULL);
    g_assert_cmpint (cancel->status, ==, 0);
    cancelled = state_of (w->receiver, receipt, WAIT);
    g_assert_cmpstr (cancelled, ==, "cancelled");
  }

  /* The receiver declines a car key it opened. */
  {
    g_autoptr(LkTestShare) s = share_as_ben (w->sender, car, NULL);
    g_autofree char *input = g_strdup_printf ("%s\n", s->link);
    g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
    g_autofree char *receipt = received_id (received);
    g_autoptr(LkTestRun) decline = lk_test_actor_run (w->receiver, NULL, "cancel", receipt, NULL);
    g_autofree char *declined = state_of (w->sender, s->id, WAIT);

    g_assert_cmpint (decline->status, ==, 0);
    g_assert_cmpstr (declined, ==, "declined");
  }

  /* The receiver declines while the activation code is asked for (home). */
  {
    g_autoptr(LkTestShare) s = share_as_ben (w->sender, home, "--code", NULL);
    g_autofree char *input = g_strdup_printf ("%s\n", s->link);
    g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
    g_autofree char *receipt = received_id (received);
    g_autoptr(LkTestRun) decline = NULL;
    g_autofree char *declined = NULL;

    g_assert_cmpint (received->status, ==, 4);
    decline = lk_test_actor_run (w->receiver, NULL, "cancel", receipt, NULL);
    g_assert_cmpint (decline->status, ==, 0);
    declined = state_of (w->sender, s->id, WAIT);
    g_assert_cmpstr (declined, ==, "declined");
  }

  /* A completed share is not cancelled but revoked. */
  {
    g_autoptr(LkTestShare) s = share_as_ben (w->sender, home, NULL);
    g_autofree char *input = g_strdup_printf ("%s\n", s->link);
    g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
    g_autofree char *done = state_of (w->sender, s->id, WAIT);
    g_autoptr(LkTestRun) cancel = lk_test_actor_run (w->sender, NULL, "cancel", s->id, NULL);

    g_assert_cmpint (received->status, ==, 0);
    g_assert_cmpstr (done, ==, "done");
    g_assert_cmpint (cancel->status, ==, 3);
    g_assert_nonnull (strstr (cancel->err, "revoke"));
  }

  g_assert_cmpuint (count_keys (w->receiver), ==, 1);
}

static void
test_expiry (void)
{
  static const char * const args[] = { "--rate", "0", "--default-expiration", "2s", "--max-expiration", "2s", NULL };
  g_autoptr(World) w = world_new_full (args, FALSE, LK_TEST_PROXY_PASS);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "generic", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, NULL);
  g_autofree char *input = g_strdup_printf ("%s\n", s->link);
  g_autoptr(LkTestRun) late = NULL;
  g_autofree char *expired = NULL;
  gint64 deadline = g_get_real_time () + 2500 * 1000;

  /* Expiry is the clock's business: wait for it. */
  while (g_get_real_time () < deadline)
    g_usleep (deadline - g_get_real_time ());

  late = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_assert_cmpint (late->status, ==, 1);
  g_assert_nonnull (strstr (late->err, "expired"));
  expired = state_of (w->sender, s->id, NULL);
  g_assert_cmpstr (expired, ==, "expired");
}

/* A relay that misbehaves is caught, and nothing is stored. */

static void
test_hostile_replay (void)
{
  g_autoptr(World) w = world_new_full (NULL, TRUE, LK_TEST_PROXY_REPLAY);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "car", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, "--auto-confirm", NULL);
  g_autofree char *input = g_strdup_printf ("%s\n", s->link);
  g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_autofree char *receipt = received_id (received);
  g_autofree char *signed_state = state_of (w->sender, s->id, WAIT);
  g_autoptr(LkTestRun) run = lk_test_actor_run (w->receiver, NULL, "status", receipt, "--wait", WAIT, NULL);

  /* The receiver is served the first message again instead of the import. */
  g_assert_cmpstr (signed_state, ==, "opened");
  g_assert_cmpuint (lk_test_proxy_get_tampered (w->proxy), >, 0);
  g_assert_cmpint (run->status, ==, 5);
  g_assert_nonnull (strstr (run->out, "failed"));
  g_assert_nonnull (strstr (run->out, "replayed"));
  g_assert_cmpuint (count_keys (w->receiver), ==, 0);
}

static void
test_hostile_swap (void)
{
  g_autoptr(World) w = world_new_full (NULL, TRUE, LK_TEST_PROXY_SWAP);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "generic", NULL);
  g_autoptr(LkTestShare) first = share_as_ben (w->sender, credential, NULL);
  g_autoptr(LkTestShare) second = share_as_ben (w->sender, credential, NULL);
  g_autofree char *first_input = g_strdup_printf ("%s\n", first->link);
  g_autofree char *second_input = g_strdup_printf ("%s\n", second->link);
  g_autoptr(LkTestRun) ok = lk_test_actor_run (w->receiver, first_input, "receive", NULL);
  g_autoptr(LkTestRun) swapped = lk_test_actor_run (w->receiver, second_input, "receive", NULL);

  /* The second mailbox is answered with the first one's message. */
  g_assert_cmpint (ok->status, ==, 0);
  g_assert_cmpuint (lk_test_proxy_get_tampered (w->proxy), >, 0);
  g_assert_cmpint (swapped->status, ==, 5);
  g_assert_nonnull (strstr (swapped->out, "altered"));
  g_assert_cmpuint (count_keys (w->receiver), ==, 1);
}

static void
test_hostile_corrupt (void)
{
  g_autoptr(World) w = world_new_full (NULL, TRUE, LK_TEST_PROXY_CORRUPT);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "home", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, NULL);
  g_autofree char *input = g_strdup_printf ("%s\n", s->link);
  g_autoptr(LkTestRun) corrupted = lk_test_actor_run (w->receiver, input, "receive", NULL);

  g_assert_cmpuint (lk_test_proxy_get_tampered (w->proxy), >, 0);
  g_assert_cmpint (corrupted->status, ==, 5);
  g_assert_nonnull (strstr (corrupted->out, "altered"));
  g_assert_cmpuint (count_keys (w->receiver), ==, 0);
}

/* A relay that answers with JSON nested past any stack (behind a comment,
 * which fooled the old guard) crashed the receiver, and with a pending
 * receipt `status` crashed every time. Now it is a clear error. */
static void
test_hostile_deep (void)
{
  g_autoptr(World) w = world_new_full (NULL, TRUE, LK_TEST_PROXY_PASS);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "car", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, NULL);
  g_autoptr(LkTestShare) other = share_as_ben (w->sender, credential, NULL);
  g_autofree char *input = g_strdup_printf ("%s\n", s->link);
  g_autofree char *other_input = g_strdup_printf ("%s\n", other->link);
  g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_autofree char *receipt = received_id (received);

  lk_test_proxy_set_mode (w->proxy, LK_TEST_PROXY_DEEP);

  /* lk_test_actor_run fails the test if the CLI dies of a signal. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(LkTestRun) run = lk_test_actor_run (w->receiver, NULL, "status", receipt, "--wait", WAIT, NULL);

      /* The step fails and says why; the receipt waits where it was. */
      g_assert_nonnull (strstr (run->err, "not valid JSON"));
      g_assert_nonnull (strstr (run->out, "opened"));
    }
  {
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->receiver, other_input, "receive", NULL);

    g_assert_cmpint (run->status, ==, 1);
    g_assert_nonnull (strstr (run->err, "not valid JSON"));
  }
  g_assert_cmpuint (lk_test_proxy_get_tampered (w->proxy), >=, 3);
  g_assert_cmpuint (count_keys (w->receiver), ==, 0);

  /* The relay behaves again: the receipt goes on where it was. */
  lk_test_proxy_set_mode (w->proxy, LK_TEST_PROXY_PASS);
  {
    g_autofree char *state = state_of (w->receiver, receipt, WAIT);
    g_assert_cmpstr (state, ==, "opened");
  }
}

/* Invalid Unicode from the relay (a stored lone surrogate) never reaches
 * the wallet. */
static void
test_hostile_bad_text (void)
{
  g_autoptr(World) w = world_new_full (NULL, TRUE, LK_TEST_PROXY_BAD_TEXT);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "generic", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, NULL);
  g_autofree char *input = g_strdup_printf ("%s\n", s->link);
  g_autoptr(LkTestRun) run = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_autoptr(LkTestRun) list = lk_test_actor_run (w->receiver, NULL, "status", NULL);

  g_assert_cmpuint (lk_test_proxy_get_tampered (w->proxy), >, 0);
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, "not valid JSON"));
  g_assert_cmpuint (count_keys (w->receiver), ==, 0);
  /* Nothing was claimed into the keyring either. */
  g_assert_cmpstr (list->out, ==, "");
}

/* A relay that names another host in urlLink would steer the first message
 * and the link there: the sender refuses it. */
static void
test_hostile_elsewhere (void)
{
  g_autoptr(World) w = world_new_full (NULL, TRUE, LK_TEST_PROXY_ELSEWHERE);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "generic", NULL);
  g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "share", credential, NULL);

  g_assert_cmpuint (lk_test_proxy_get_tampered (w->proxy), >, 0);
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, "on another server"));
  g_assert_null (strstr (run->out, "attacker"));
}

/* A sender that writes its own offer, as a malicious one would: a mailbox
 * on the real relay whose first message is @content. Returns the link. */
static char *
offer_by_hand (World      *w,
               LkVertical  vertical,
               const char *format,
               JsonObject *content)
{
  g_autoptr(LkHttp) http = lk_http_new ();
  g_autoptr(LkMailboxClient) client = lk_mailbox_client_new (http);
  g_autoptr(GBytes) secret = lk_crypto_new_secret (NULL);
  g_autoptr(GBytes) filler = lk_aead_seal (secret, NULL, "0123456789abcdef", 16, NULL);
  g_autofree char *filler_data = g_base64_encode (g_bytes_get_data (filler, NULL), g_bytes_get_size (filler));
  g_autofree char *claim = lk_uuid_new_random ();
  g_autoptr(JsonObject) placeholder = json_object_new ();
  g_autoptr(JsonObject) payload = NULL;
  g_autoptr(LkMailboxReply) created = NULL;
  g_autoptr(LkMailboxReply) updated = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(LkChannel) channel = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *mailbox_url = NULL;

  json_object_set_string_member (placeholder, "type", "AEAD_AES_256_GCM");
  json_object_set_string_member (placeholder, "data", filler_data);
  lk_mailbox_client_create_async (client, w->relay->url, claim, placeholder, "A key shared with you", NULL, "RWD", 0,
                                  NULL, NULL, NULL, lk_test_on_done, &result);
  created = lk_mailbox_client_finish (client, lk_test_wait_for (&result), &error);
  g_assert_no_error (error);

  link = lk_share_link_new_for_mailbox (created->url_link, vertical, secret, &error);
  g_assert_no_error (error);
  mailbox_url = lk_share_link_get_mailbox_url (link);
  channel = lk_channel_new (secret, lk_share_link_get_mailbox_id (link), LK_ROLE_INITIATOR);
  payload = lk_channel_seal (channel, format, content, LK_SEAL_FLAGS_NONE, &error);
  g_assert_no_error (error);
  lk_mailbox_client_update_async (client, mailbox_url, claim, payload, 1, NULL, NULL, lk_test_on_done, &result2);
  updated = lk_mailbox_client_finish (client, lk_test_wait_for (&result2), &error);
  g_assert_no_error (error);

  return lk_share_link_to_string (link);
}

/* A sender names the key's provider: only by the rule every server the
 * wallet talks to follows (https, or http on loopback). Otherwise the
 * receiver sends nothing there and stores nothing (finding 4). */
static void
test_hostile_offer (void)
{
  g_autoptr(World) w = world_new ();
  static const struct {
    LkVertical  vertical;
    const char *format;
    gboolean    top_level;
  } offers[] = {
    { LK_VERTICAL_HOME, "io.github.latchkey.home.provisioningToken", TRUE },
    { LK_VERTICAL_GENERIC, "digitalwallet.generic.authorizationToken", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (offers); i++)
    {
      g_autoptr(JsonObject) content = json_object_new ();
      JsonObject *credential = json_object_new ();
      g_autoptr(LkTestRun) run = NULL;
      g_autofree char *link = NULL;
      g_autofree char *input = NULL;

      /* TEST-NET: a request there would hang the test, not fail it. */
      json_object_set_string_member (credential, "title", "Trap");
      json_object_set_string_member (credential, "partnerUrl", offers[i].top_level ? "https://partner.example"
                                                                                   : "http://192.0.2.1:8080");
      json_object_set_object_member (content, "credential", credential);
      if (offers[i].top_level)
        {
          json_object_set_string_member (content, "partnerUrl", "http://192.0.2.1:8080");
          json_object_set_string_member (content, "token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
          json_object_set_boolean_member (content, "codeRequired", FALSE);
        }
      else
        json_object_set_string_member (content, "accessToken", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

      link = offer_by_hand (w, offers[i].vertical, offers[i].format, content);
      input = g_strdup_printf ("%s\n", link);
      run = lk_test_actor_run (w->receiver, input, "receive", NULL);
      g_assert_cmpint (run->status, ==, 5);
      g_assert_nonnull (strstr (run->out, "does not use"));
      g_assert_cmpuint (count_keys (w->receiver), ==, 0);
    }
}

static void
test_hostile_reorder (void)
{
  g_autoptr(World) w = world_new_full (NULL, TRUE, LK_TEST_PROXY_REORDER);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, "car", NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, NULL);
  g_autofree char *input = g_strdup_printf ("%s\n", s->link);
  g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
  g_autofree char *receipt = received_id (received);
  g_autoptr(LkTestRun) decline = lk_test_actor_run (w->receiver, NULL, "cancel", receipt, NULL);
  g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, NULL, "status", s->id, "--wait", WAIT, NULL);

  /* The relay applies the receiver's two writes in the wrong order. With
   * one slot, a later message from the same side replaces the earlier one
   * (same sequence number, higher revision), so the order cannot be turned
   * against either side: the cancel wins, and the stale signing request
   * that arrives after it is never accepted. (A gap in the sequence would
   * be refused as out of order: see /channel/rejects.) */
  g_assert_cmpint (decline->status, ==, 0);
  g_assert_cmpint (run->status, ==, 5);
  g_assert_nonnull (strstr (run->out, "declined"));
  g_assert_cmpuint (lk_test_proxy_get_tampered (w->proxy), >, 0);
  g_assert_cmpuint (count_keys (w->receiver), ==, 0);
}

/* After a full run, no secret is anywhere it should not be. */

static void
collect_files (const char *path,
               GPtrArray  *files)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        collect_files (child, files);
      else if (g_file_test (child, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (files, g_steal_pointer (&child));
    }
}

static gboolean
contains (GBytes     *haystack,
          const void *needle,
          gsize       len,
          gboolean    whole_word)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (haystack, &size);
  const guint8 *p = data;

  while (len > 0 && (p = memmem (p, size - (p - data), needle, len)) != NULL)
    {
      /* A six-digit code also occurs inside random base64; count it only
       * where it stands on its own. */
      gboolean starts = p == data || !(g_ascii_isalnum (p[-1]) || p[-1] == '+' || p[-1] == '/');
      gboolean ends = p + len == data + size || !(g_ascii_isalnum (p[len]) || p[len] == '+' || p[len] == '/');

      if (!whole_word || (starts && ends))
        return TRUE;
      p++;
    }
  return FALSE;
}

typedef struct
{
  char     *what;
  GBytes   *bytes;
  gboolean  whole_word;
  gboolean  relay_only;   /* harmless elsewhere (the partner knows titles) */
} Secret;

static void
add_secret (GPtrArray  *secrets,
            const char *what,
            const void *data,
            gsize       len,
            gboolean    whole_word,
            gboolean    relay_only)
{
  Secret *secret = g_new0 (Secret, 1);

  secret->what = g_strdup (what);
  secret->bytes = g_bytes_new (data, len);
  secret->whole_word = whole_word;
  secret->relay_only = relay_only;
  g_ptr_array_add (secrets, secret);
}

static void
secret_free (Secret *secret)
{
  g_free (secret->what);
  g_bytes_unref (secret->bytes);
  g_free (secret);
}

/* A title or a name, which only the relay must not hold. Whole words:
 * "Ben" turns up by chance in a few kilobytes of base64 (ciphertext) or of
 * a binary file (Redis's AOF base); in clear it stands between quotes or
 * spaces. */
static void
add_title_secret (GPtrArray  *secrets,
                  const char *title)
{
  add_secret (secrets, title, title, strlen (title), TRUE, TRUE);
}

/* Secrets from a keyring dump: every value of the named members, and for
 * base64 ones their raw bytes too. */
static void
add_keyring_secrets (GPtrArray  *secrets,
                     const char *dump)
{
  static const char * const members[] = { "\"privateKey\":\"", "\"accessToken\":\"", "\"token\":\"", "\"secret\":\"" };

  for (guint m = 0; m < G_N_ELEMENTS (members); m++)
    for (const char *p = dump; (p = strstr (p, members[m])) != NULL; )
      {
        const char *start = p + strlen (members[m]);
        const char *end = strchr (start, '"');
        g_autofree char *value = g_strndup (start, end - start);
        g_autofree guint8 *raw = NULL;
        gsize raw_len = 0;

        add_secret (secrets, members[m], value, strlen (value), FALSE, FALSE);
        raw = lk_base64_decode_strict (value, strlen (value), &raw_len);
        if (raw != NULL && raw_len >= 16)
          add_secret (secrets, members[m], raw, raw_len, FALSE, FALSE);
        p = end;
      }
}

static void
check_no_secrets_at_rest (void)
{
  g_autoptr(World) w = world_new ();
  g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) secret_free);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) relay_files = g_ptr_array_new_with_free_func (g_free);
  const char *verticals[] = { "generic", "home", "car" };
  const char *titles[] = { "Demo Pass", "Hotel Room 404", "Demo Car", "Ben" };

  for (guint i = 0; i < G_N_ELEMENTS (verticals); i++)
    {
      g_autofree char *credential = lk_test_actor_enroll (w->sender, verticals[i], NULL);
      g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, "--code", "--auto-confirm", NULL);
      g_autofree char *input = g_strdup_printf ("%s\n%s\n", s->link, s->code);
      g_autoptr(LkTestRun) received = lk_test_actor_run (w->receiver, input, "receive", NULL);
      g_autofree char *receipt = received_id (received);
      g_autofree char *secret_text = g_strdup (strrchr (s->link, '#') + 1);
      g_autofree guint8 *raw = NULL;
      g_autofree char *standard = NULL;
      gsize raw_len;

      g_free (state_of (w->sender, s->id, WAIT));
      g_free (state_of (w->receiver, receipt, WAIT));
      g_free (state_of (w->sender, s->id, WAIT));

      add_secret (secrets, "share secret", secret_text, strlen (secret_text), FALSE, FALSE);
      raw = lk_base64_decode_strict (secret_text, strlen (secret_text), &raw_len);
      add_secret (secrets, "share secret (raw)", raw, raw_len, FALSE, FALSE);
      standard = g_base64_encode (raw, raw_len);
      add_secret (secrets, "share secret (base64)", standard, strlen (standard), FALSE, FALSE);
      add_secret (secrets, "activation code", s->code, strlen (s->code), TRUE, FALSE);
    }

  g_assert_cmpuint (count_keys (w->receiver), ==, 3);

  {
    g_autofree char *sender_dump = lk_test_actor_keyring_secrets (w->sender);
    g_autofree char *receiver_dump = lk_test_actor_keyring_secrets (w->receiver);

    /* The keyring has them all: that is where they belong. */
    g_assert_nonnull (strstr (receiver_dump, "privateKey"));
    g_assert_nonnull (strstr (receiver_dump, "accessToken"));
    g_assert_nonnull (strstr (sender_dump, "\"token\""));
    add_keyring_secrets (secrets, sender_dump);
    add_keyring_secrets (secrets, receiver_dump);
  }
  for (guint i = 0; i < G_N_ELEMENTS (titles); i++)
    add_title_secret (secrets, titles[i]);

  /* Stop the servers so that their databases are complete on disk. */
  g_assert_cmpint (lk_test_server_terminate (w->relay), ==, 0);
  if (w->other != NULL)
    g_assert_cmpint (lk_test_server_terminate (w->other), ==, 0);
  g_assert_cmpint (lk_test_server_terminate (w->partner), ==, 0);

  collect_files (w->relay->data_dir, relay_files);
  /* With the Redis store, the mailboxes are in the cluster's files
   * (appendfsync always: complete on disk). */
  if (redis_cluster != NULL)
    collect_files (redis_cluster->dir, relay_files);
  collect_files (w->partner->data_dir, files);
  collect_files (w->sender->dir, files);
  collect_files (w->receiver->dir, files);
  g_assert_cmpuint (relay_files->len, >=, 2);   /* the database and the log */

  for (guint pass = 0; pass < 2; pass++)
    {
      GPtrArray *list = pass == 0 ? relay_files : files;

      for (guint f = 0; f < list->len; f++)
        {
          g_autofree char *data = NULL;
          g_autoptr(GBytes) bytes = NULL;
          gsize len;

          if (!g_file_get_contents (g_ptr_array_index (list, f), &data, &len, NULL))
            continue;
          bytes = g_bytes_new_take (g_steal_pointer (&data), len);

          for (guint s = 0; s < secrets->len; s++)
            {
              Secret *secret = g_ptr_array_index (secrets, s);
              gsize needle_len;
              const void *needle = g_bytes_get_data (secret->bytes, &needle_len);

              if (secret->relay_only && pass == 1)
                continue;
              if (contains (bytes, needle, needle_len, secret->whole_word))
                g_error ("%s found in %s", secret->what, (const char *) g_ptr_array_index (list, f));
            }
        }
    }

  g_test_message ("%u secrets looked for in %u relay files and %u other files",
                  secrets->len, relay_files->len, files->len);
}

/* The matcher of the no-secrets test: a short name inside base64 is chance,
 * between quotes it is a leak. (A run failed on "Ben" inside an AOF.) */
static void
test_secret_matcher (void)
{
  static const struct { const char *text; gboolean found; } cases[] = {
    { "{\"title\":\"Ben\"}", TRUE },
    { "shared by Ben", TRUE },
    { "Ben", TRUE },
    { "q9Zx+BenKw/a", FALSE },
    { "aBen", FALSE },
    { "Ben7", FALSE },
    { "/Ben+", FALSE },
  };

  g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) secret_free);
  Secret *ben;
  gsize len;
  const void *needle;

  add_title_secret (secrets, "Ben");
  ben = g_ptr_array_index (secrets, 0);
  needle = g_bytes_get_data (ben->bytes, &len);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (cases[i].text, strlen (cases[i].text));

      g_assert_true (contains (bytes, needle, len, ben->whole_word) == cases[i].found);
    }
}

/* With the Redis store, the cluster's files would hold every earlier
 * test's mailboxes too, where a short secret (a three-letter name) can turn
 * up by chance in their base64: this test has a cluster of its own. */
static void
test_no_secrets_at_rest (void)
{
  LkTestRedis *shared = redis_cluster;
  g_autoptr(LkTestRedis) own = NULL;

  if (shared != NULL)
    redis_cluster = own = lk_test_redis_start ();
  check_no_secrets_at_rest ();
  redis_cluster = shared;
}

/* Issue 13: one invitation, several receivers. */

/* The sender's "k of N received" line, after one read. */
static void
assert_received (LkTestActor *sender,
                 const char  *share,
                 const char  *expected)
{
  g_autoptr(LkTestRun) run = lk_test_actor_run (sender, NULL, "status", share, "--wait", WAIT, NULL);

  if (strstr (run->out, expected) == NULL)
    g_test_message ("status: %s", run->out);
  g_assert_nonnull (strstr (run->out, expected));
}

/* Receives @link on @actor; returns the key's id. */
static char *
receive_key (LkTestActor *actor,
             const char  *link)
{
  g_autofree char *input = g_strdup_printf ("%s\n", link);
  g_autoptr(LkTestRun) run = lk_test_actor_run (actor, input, "receive", NULL);
  g_autofree char *receipt = NULL;
  g_auto(GStrv) fields = NULL;

  if (run->status != 0)
    g_test_message ("receive: %s %s", run->out, run->err);
  g_assert_cmpint (run->status, ==, 0);
  receipt = received_id (run);
  fields = status_fields (actor, receipt, NULL, NULL);
  g_assert_cmpstr (fields[1], ==, "done");
  return g_strdup (fields[4]);
}

static void
assert_access (LkTestActor *actor,
               const char  *key,
               int          status)
{
  g_autoptr(LkTestRun) run = lk_test_actor_run (actor, NULL, "access", key, "--action", "open", NULL);

  g_assert_cmpint (run->status, ==, status);
}

static void
test_several_receivers (gconstpointer data)
{
  const char *vertical = data;
  g_autoptr(World) w = world_new ();
  g_autoptr(LkTestActor) fourth = lk_test_actor_new ("fourth", w->relay->url, w->partner->url);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, vertical, NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, "--receivers", "3", NULL);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;

  /* One link for all three; each device binds its own claim and redeems
   * its own key, and the sender sees how many have. */
  assert_received (w->sender, s->id, "0 of 3 received");
  a = receive_key (w->receiver, s->link);
  assert_received (w->sender, s->id, "1 of 3 received");
  b = receive_key (w->third, s->link);
  assert_received (w->sender, s->id, "2 of 3 received");
  c = receive_key (fourth, s->link);
  g_assert_cmpstr (a, !=, b);
  g_assert_cmpstr (b, !=, c);

  /* A fourth device is refused, as a second one is for one receiver. */
  {
    g_autofree char *input = g_strdup_printf ("%s\n", s->link);
    g_autoptr(LkTestRun) run = lk_test_actor_run (w->sender, input, "receive", NULL);

    g_assert_cmpint (run->status, !=, 0);
  }

  /* The relay removed the mailbox after the last: the share is done. */
  {
    g_auto(GStrv) fields = status_fields (w->sender, s->id, WAIT, NULL);

    g_assert_cmpuint (g_strv_length (fields), ==, 6);
    g_assert_cmpstr (fields[1], ==, "done");
    g_assert_cmpstr (fields[5], ==, "3/3");
  }
  assert_received (w->sender, s->id, "3 of 3 received");

  assert_access (w->receiver, a, 0);
  assert_access (w->third, b, 0);
  assert_access (fourth, c, 0);

  /* The second to receive is revoked alone. */
  {
    g_autoptr(LkTestRun) revoked = lk_test_actor_run (w->sender, NULL, "revoke", s->id, "--receiver", "2", NULL);
    g_autoptr(LkTestRun) status = NULL;

    g_assert_cmpint (revoked->status, ==, 0);
    status = lk_test_actor_run (w->sender, NULL, "status", s->id, NULL);
    g_assert_nonnull (strstr (status->out, "revoked receivers: 2"));
  }
  assert_access (w->receiver, a, 0);
  assert_access (w->third, b, 6);
  assert_access (fourth, c, 0);

  /* The whole share takes the others. */
  {
    g_autoptr(LkTestRun) revoked = lk_test_actor_run (w->sender, NULL, "revoke", s->id, NULL);

    g_assert_cmpint (revoked->status, ==, 0);
  }
  assert_access (w->receiver, a, 6);
  assert_access (fourth, c, 6);
}

/* A car key is signed for one device; a generic pass with a code needs the
 * sender's device for each receiver. */
static void
test_several_receivers_refused (void)
{
  g_autoptr(World) w = world_new ();
  g_autofree char *car = lk_test_actor_enroll (w->sender, "car", NULL);
  g_autofree char *generic = lk_test_actor_enroll (w->sender, "generic", NULL);
  g_autoptr(LkTestRun) by_car = lk_test_actor_run (w->sender, NULL, "share", car, "--no-qr", "--receivers", "2", NULL);
  g_autoptr(LkTestRun) coded = lk_test_actor_run (w->sender, NULL, "share", generic, "--no-qr", "--code",
                                                  "--receivers", "2", NULL);
  g_autoptr(LkTestRun) eleven = lk_test_actor_run (w->sender, NULL, "share", generic, "--no-qr",
                                                   "--receivers", "11", NULL);
  g_autoptr(LkTestRun) status = lk_test_actor_run (w->sender, NULL, "status", "--porcelain", NULL);

  g_assert_cmpint (by_car->status, !=, 0);
  g_assert_nonnull (strstr (by_car->err, "A car key is signed for one device"));
  g_assert_cmpint (coded->status, !=, 0);
  g_assert_nonnull (strstr (coded->err, "activation code"));
  g_assert_cmpint (eleven->status, ==, 2);
  /* Nothing was shared. */
  g_assert_cmpstr (status->out, ==, "");
}

/* A relay from before the extension ignores it: the share goes on for one
 * receiver, and the sender is told. */
static void
test_several_receivers_old_relay (gconstpointer data)
{
  const char *vertical = data;
  g_autoptr(World) w = world_new_full (NULL, TRUE, LK_TEST_PROXY_LEGACY);
  g_autofree char *credential = lk_test_actor_enroll (w->sender, vertical, NULL);
  g_autoptr(LkTestShare) s = share_as_ben (w->sender, credential, "--receivers", "3", NULL);
  g_autofree char *a = NULL;

  g_assert_cmpuint (lk_test_proxy_get_tampered (w->proxy), ==, 1);
  {
    g_autoptr(LkTestRun) status = lk_test_actor_run (w->sender, NULL, "status", s->id, NULL);

    g_assert_nonnull (strstr (status->out, "The relay lets only 1 device receive this invitation"));
  }

  a = receive_key (w->receiver, s->link);
  {
    g_autofree char *input = g_strdup_printf ("%s\n", s->link);
    g_autoptr(LkTestRun) second = lk_test_actor_run (w->third, input, "receive", NULL);

    g_assert_cmpint (second->status, !=, 0);
  }
  {
    g_auto(GStrv) fields = status_fields (w->sender, s->id, WAIT, NULL);

    g_assert_cmpstr (fields[1], ==, "done");
    g_assert_cmpstr (fields[5], ==, "1/1");
  }
  assert_access (w->receiver, a, 0);
}

int
main (int   argc,
      char *argv[])
{
  static const Flow flows[] = {
    { "generic", FALSE }, { "generic", TRUE },
    { "home", FALSE }, { "home", TRUE },
    { "car", FALSE }, { "car", TRUE },
  };

  int status;

  g_test_init (&argc, &argv, NULL);
  if (g_strcmp0 (g_getenv ("LATCHKEY_TEST_STORE"), "redis") == 0)
    redis_cluster = lk_test_redis_start ();

  for (guint i = 0; i < G_N_ELEMENTS (flows); i++)
    {
      g_autofree char *path = g_strdup_printf ("/e2e/flow/%s%s", flows[i].vertical, flows[i].code ? "-code" : "");
      g_test_add_data_func (path, &flows[i], test_flow);
    }
  g_test_add_func ("/e2e/keyring-started-again", test_keyring_started_again);
  g_test_add_func ("/e2e/forwarded-link", test_forwarded_link);
  g_test_add_func ("/e2e/secret-apart", test_secret_apart);
  g_test_add_func ("/e2e/generic/limits", test_generic_limits);
  g_test_add_func ("/e2e/generic/migration", test_generic_migration);
  g_test_add_func ("/e2e/home/wrong-codes", test_home_wrong_codes);
  g_test_add_func ("/e2e/home/one-wrong-code", test_home_one_wrong_code);
  g_test_add_data_func ("/e2e/car/wrong-codes", "car", test_wrong_codes_checked_by_sender);
  g_test_add_data_func ("/e2e/generic/wrong-codes", "generic", test_wrong_codes_checked_by_sender);
  g_test_add_func ("/e2e/car/one-wrong-code", test_car_one_wrong_code);
  g_test_add_func ("/e2e/cancel-and-decline", test_cancel_and_decline);
  g_test_add_func ("/e2e/owner-control", test_owner_control);
  g_test_add_func ("/e2e/status-porcelain-changes", test_status_porcelain_changes);
  g_test_add_func ("/e2e/expiry", test_expiry);
  g_test_add_func ("/e2e/hostile/replay", test_hostile_replay);
  g_test_add_func ("/e2e/hostile/swap", test_hostile_swap);
  g_test_add_func ("/e2e/hostile/corrupt", test_hostile_corrupt);
  g_test_add_func ("/e2e/hostile/reorder", test_hostile_reorder);
  g_test_add_func ("/e2e/hostile/deep", test_hostile_deep);
  g_test_add_func ("/e2e/hostile/bad-text", test_hostile_bad_text);
  g_test_add_func ("/e2e/hostile/elsewhere", test_hostile_elsewhere);
  g_test_add_func ("/e2e/hostile/offer-partner", test_hostile_offer);
  g_test_add_func ("/e2e/secret-matcher", test_secret_matcher);
  g_test_add_func ("/e2e/no-secrets-at-rest", test_no_secrets_at_rest);
  g_test_add_data_func ("/e2e/several-receivers/home", "home", test_several_receivers);
  g_test_add_data_func ("/e2e/several-receivers/generic", "generic", test_several_receivers);
  g_test_add_func ("/e2e/several-receivers/refused", test_several_receivers_refused);
  g_test_add_data_func ("/e2e/several-receivers/old-relay-home", "home", test_several_receivers_old_relay);
  g_test_add_data_func ("/e2e/several-receivers/old-relay-generic", "generic", test_several_receivers_old_relay);

  status = g_test_run ();
  g_clear_pointer (&redis_cluster, lk_test_redis_stop);
  return status;
}
