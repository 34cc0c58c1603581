/* test-httpd.c: address groups, rate buckets and log limits, without a server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-httpd"

#include "config.h"

#include <string.h>

#include "httpd-address.h"
#include "httpd-log.h"
#include "httpd-rate.h"

static const guint8 secret[32] = { 1, 2, 3 };

static void
key_of (const char *address,
        guint       prefix,
        HttpdKey   *key)
{
  HttpdGroup group;

  g_assert_true (httpd_group_from_string (&group, address, prefix));
  httpd_group_key (&group, secret, sizeof secret, key);
}

static gboolean
same_client (const char *a,
             const char *b,
             guint       prefix)
{
  HttpdKey ka, kb;

  key_of (a, prefix, &ka);
  key_of (b, prefix, &kb);
  return httpd_key_equal (&ka, &kb);
}

static void
test_groups (void)
{
  HttpdGroup group;

  /* IPv6: the prefix is the client. */
  g_assert_true (same_client ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", 64));
  g_assert_false (same_client ("2001:db8:1:2::1", "2001:db8:1:3::1", 64));
  g_assert_true (same_client ("2001:db8:1:2::1", "2001:db8:1:3::1", 48));
  g_assert_false (same_client ("2001:db8:1:2::1", "2001:db8:1:2::2", 128));
  /* A prefix that is not a whole number of bytes. */
  g_assert_true (same_client ("2001:db8:1:2::1", "2001:db8:1:3::1", 63));
  g_assert_false (same_client ("2001:db8:1:2::1", "2001:db8:1:4::1", 63));

  /* IPv4: the address is the client, mapped or not. */
  g_assert_true (same_client ("198.51.100.7", "::ffff:198.51.100.7", 64));
  g_assert_false (same_client ("198.51.100.7", "198.51.100.8", 64));
  /* Not an IPv4 client: an IPv6 address that merely ends the same. */
  g_assert_false (same_client ("198.51.100.7", "::198.51.100.7", 64));

  g_assert_false (httpd_group_from_string (&group, "not an address", 64));
  g_assert_false (httpd_group_from_string (&group, "198.51.100.7, 10.0.0.1", 64));
  g_assert_false (httpd_group_from_string (&group, NULL, 64));
}

static void
test_rate_eviction (void)
{
  g_autoptr(HttpdRate) rate = httpd_rate_new (1, 2, 4);
  gint64 now = 1000 * G_USEC_PER_SEC;
  guint retry = 0;
  HttpdKey key;

  /* A client's own bucket: two at once, then one a second. */
  key_of ("192.0.2.1", 64, &key);
  g_assert_true (httpd_rate_allow (rate, &key, now, &retry));
  g_assert_true (httpd_rate_allow (rate, &key, now, &retry));
  g_assert_false (httpd_rate_allow (rate, &key, now, &retry));
  g_assert_cmpuint (retry, ==, 1);

  /* A flood of 100 clients in a table of 4: each newcomer still has a full
   * bucket of its own, and the table stays at 4. */
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *address = g_strdup_printf ("10.0.%u.%u", i / 250, i % 250 + 1);
      HttpdKey other;

      key_of (address, 64, &other);
      g_assert_true (httpd_rate_allow (rate, &other, now, &retry));
      g_assert_true (httpd_rate_allow (rate, &other, now, &retry));
      g_assert_false (httpd_rate_allow (rate, &other, now, &retry));
    }
  g_assert_cmpuint (httpd_rate_get_n_clients (rate), ==, 4);
  g_assert_cmpuint (httpd_rate_get_evictions (rate), ==, 97);

  /* The first client was forgotten: a full bucket again, never a shared one. */
  g_assert_true (httpd_rate_allow (rate, &key, now, &retry));

  /* Buckets that filled up again are swept. */
  httpd_rate_sweep (rate, now + 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (httpd_rate_get_n_clients (rate), ==, 0);
}

static void
test_log_limit (void)
{
  HttpdLogLimit limit = { 0 };
  guint64 suppressed = 99;

  g_assert_true (httpd_log_limit_allow (&limit, 60, &suppressed));
  g_assert_cmpuint (suppressed, ==, 0);
  for (guint i = 0; i < 1000; i++)
    g_assert_false (httpd_log_limit_allow (&limit, 60, &suppressed));

  /* After the interval, one line, with how many were held back. */
  limit.last_us -= 61 * G_USEC_PER_SEC;
  g_assert_true (httpd_log_limit_allow (&limit, 60, &suppressed));
  g_assert_cmpuint (suppressed, ==, 1000);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/httpd/groups", test_groups);
  g_test_add_func ("/httpd/rate-eviction", test_rate_eviction);
  g_test_add_func ("/httpd/log-limit", test_log_limit);

  return g_test_run ();
}
