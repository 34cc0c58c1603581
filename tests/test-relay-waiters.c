/* test-relay-waiters.c: waiting reads, woken by a write, a deadline or a stop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RelayWaiters without the relay around it: the wake function records who
 * was woken, from whichever thread, and the test waits for those events.
 */

#define G_LOG_DOMAIN "test-relay-waiters"

#include "config.h"

#include <string.h>

#include "relay-waiters.h"

#define MAILBOX_A "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
#define MAILBOX_B "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
/* Far enough that no deadline passes while a test runs, unless it means to. */
#define LATER (g_get_monotonic_time () + G_TIME_SPAN_HOUR)

static GAsyncQueue *woken;

static void
on_wake (RelayWaiter *waiter,
         gpointer     user_data)
{
  g_async_queue_push (woken, waiter);
}

/* The next waiter woken; the test fails if none comes within a bound. */
static RelayWaiter *
next_woken (void)
{
  RelayWaiter *waiter = g_async_queue_timeout_pop (woken, 10 * G_USEC_PER_SEC);

  g_assert_nonnull (waiter);
  return waiter;
}

static void
client (const char *name,
        HttpdKey   *key)
{
  memset (key, 0, sizeof *key);
  g_strlcpy ((char *) key->bytes, name, sizeof key->bytes);
}

/* A write wakes every read waiting on its mailbox, and no other. */
static void
test_notify (void)
{
  RelayWaiters *waiters = relay_waiters_new (100, 0, on_wake);
  RelayWaiter a1, a2, b;
  HttpdKey key;

  client ("one", &key);
  g_assert_cmpint (relay_waiters_add (waiters, &a1, MAILBOX_A, &key, LATER, NULL), ==, RELAY_WAITERS_ADDED);
  g_assert_cmpint (relay_waiters_add (waiters, &a2, MAILBOX_A, &key, LATER, NULL), ==, RELAY_WAITERS_ADDED);
  g_assert_cmpint (relay_waiters_add (waiters, &b, MAILBOX_B, &key, LATER, NULL), ==, RELAY_WAITERS_ADDED);
  g_assert_cmpuint (relay_waiters_get_count (waiters), ==, 3);

  g_assert_cmpuint (relay_waiters_notify (waiters, MAILBOX_A), ==, 2);
  g_assert_true (next_woken () != &b);
  g_assert_true (next_woken () != &b);
  g_assert_cmpint (a1.state, ==, RELAY_WAITER_CHANGED);
  g_assert_cmpint (a2.state, ==, RELAY_WAITER_CHANGED);
  g_assert_cmpint (b.state, ==, RELAY_WAITER_WAITING);
  g_assert_cmpuint (relay_waiters_notify (waiters, MAILBOX_A), ==, 0);
  g_assert_cmpuint (relay_waiters_get_count (waiters), ==, 1);

  /* A waiter is woken once: by the first of a wake and a notify. */
  relay_waiters_wake (waiters, &b);
  g_assert_true (next_woken () == &b);
  relay_waiters_wake (waiters, &b);
  g_assert_cmpuint (relay_waiters_notify (waiters, MAILBOX_B), ==, 0);
  g_assert_cmpint (g_async_queue_length (woken), ==, 0);

  relay_waiters_free (waiters);
  g_assert_cmpint (g_async_queue_length (woken), ==, 0);
}

/* Deadlines end waits in their order, whatever the order of the adds. */
static void
test_deadlines (void)
{
  RelayWaiters *waiters = relay_waiters_new (100, 0, on_wake);
  RelayWaiter late, soon;
  HttpdKey key;
  gint64 now = g_get_monotonic_time ();

  client ("one", &key);
  relay_waiters_add (waiters, &late, MAILBOX_A, &key, now + 200 * G_TIME_SPAN_MILLISECOND, NULL);
  relay_waiters_add (waiters, &soon, MAILBOX_B, &key, now + 50 * G_TIME_SPAN_MILLISECOND, NULL);

  g_assert_true (next_woken () == &soon);
  g_assert_cmpint (soon.state, ==, RELAY_WAITER_TIMED_OUT);
  g_assert_true (next_woken () == &late);
  g_assert_cmpint (late.state, ==, RELAY_WAITER_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time (), >=, now + 200 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (relay_waiters_get_count (waiters), ==, 0);

  relay_waiters_free (waiters);
}

/* Bounded in all and per client: a few clients cannot take every place,
 * and a place that is given back can be taken again. */
static void
test_limits (void)
{
  RelayWaiters *waiters = relay_waiters_new (3, 2, on_wake);
  RelayWaiter w[4];
  HttpdKey one, two, three;

  client ("one", &one);
  client ("two", &two);
  client ("three", &three);
  g_assert_cmpint (relay_waiters_add (waiters, &w[0], MAILBOX_A, &one, LATER, NULL), ==, RELAY_WAITERS_ADDED);
  g_assert_cmpint (relay_waiters_add (waiters, &w[1], MAILBOX_A, &one, LATER, NULL), ==, RELAY_WAITERS_ADDED);
  g_assert_cmpint (relay_waiters_add (waiters, &w[2], MAILBOX_A, &one, LATER, NULL), ==, RELAY_WAITERS_CLIENT_FULL);
  g_assert_cmpint (relay_waiters_add (waiters, &w[2], MAILBOX_B, &two, LATER, NULL), ==, RELAY_WAITERS_ADDED);
  g_assert_cmpint (relay_waiters_add (waiters, &w[3], MAILBOX_B, &three, LATER, NULL), ==, RELAY_WAITERS_FULL);

  relay_waiters_wake (waiters, &w[0]);
  g_assert_true (next_woken () == &w[0]);
  g_assert_cmpint (relay_waiters_add (waiters, &w[0], MAILBOX_B, &one, LATER, NULL), ==, RELAY_WAITERS_ADDED);
  g_assert_cmpuint (relay_waiters_get_count (waiters), ==, 3);

  relay_waiters_free (waiters);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (next_woken ()->state, ==, RELAY_WAITER_SHUTDOWN);
}

/* A stop wakes every waiter, and refuses new ones. */
static void
test_shutdown (void)
{
  RelayWaiters *waiters = relay_waiters_new (100, 0, on_wake);
  RelayWaiter a, b, c;
  HttpdKey key;

  client ("one", &key);
  relay_waiters_add (waiters, &a, MAILBOX_A, &key, LATER, NULL);
  relay_waiters_add (waiters, &b, MAILBOX_B, &key, LATER, NULL);
  relay_waiters_shutdown (waiters);
  g_assert_cmpint (next_woken ()->state, ==, RELAY_WAITER_SHUTDOWN);
  g_assert_cmpint (next_woken ()->state, ==, RELAY_WAITER_SHUTDOWN);
  g_assert_cmpint (relay_waiters_add (waiters, &c, MAILBOX_A, &key, LATER, NULL), ==, RELAY_WAITERS_STOPPING);
  g_assert_cmpuint (relay_waiters_get_count (waiters), ==, 0);

  relay_waiters_free (waiters);
  g_assert_cmpint (g_async_queue_length (woken), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  woken = g_async_queue_new ();

  g_test_add_func ("/relay-waiters/notify", test_notify);
  g_test_add_func ("/relay-waiters/deadlines", test_deadlines);
  g_test_add_func ("/relay-waiters/limits", test_limits);
  g_test_add_func ("/relay-waiters/shutdown", test_shutdown);

  return g_test_run ();
}
