/* test-httpd.c: the server kit's pieces, without a server: address groups,
 * rate buckets, the limiter and its key, log limits, JSON answers, settings
 * and SQLite
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-httpd"

#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <glib/gstdio.h>

#include "httpd-address.h"
#include "httpd-config.h"
#include "httpd-limiter.h"
#include "httpd-log.h"
#include "httpd-rate.h"
#include "httpd-server.h"
#include "httpd-sqlite.h"

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

static char *
temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("test-httpd-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

/* The limiter's key is what makes a client's hash the same after a
 * restart: kept in its file, made once, refused if damaged. */
static void
test_limiter_key (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "limiter.key", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HttpdLimiter) first = httpd_limiter_new (1, 1, 16, 64, path, &error);
  g_autoptr(HttpdLimiter) again = NULL;
  g_autoptr(HttpdLimiter) other = NULL;
  g_autoptr(HttpdLimiter) damaged = NULL;
  HttpdKey a, b, c;
  GStatBuf st;

  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 32);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  again = httpd_limiter_new (1, 1, 16, 64, path, &error);
  g_assert_no_error (error);
  other = httpd_limiter_new (1, 1, 16, 64, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (httpd_limiter_client_of_text (first, "192.0.2.1", &a));
  g_assert_true (httpd_limiter_client_of_text (again, "192.0.2.1", &b));
  g_assert_true (httpd_limiter_client_of_text (other, "192.0.2.1", &c));
  g_assert_true (httpd_key_equal (&a, &b));
  g_assert_false (httpd_key_equal (&a, &c));

  g_assert_true (g_file_set_contents (path, "short", -1, NULL));
  damaged = httpd_limiter_new (1, 1, 16, 64, path, &error);
  g_assert_null (damaged);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  g_remove (path);
  g_rmdir (dir);
}

/* A socket and the same address as a proxy forwards it are one client;
 * its prefix is the limiter's; its rate is its own. */
static void
test_limiter_clients (void)
{
  g_autoptr(HttpdLimiter) limiter = httpd_limiter_new (1, 2, 16, 48, NULL, NULL);
  struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
  struct sockaddr_in v4 = { .sin_family = AF_INET };
  HttpdKey socket_key, text_key, neighbour, stranger;
  guint retry = 0;
  gint64 now = 1000 * G_USEC_PER_SEC;

  g_assert_cmpint (inet_pton (AF_INET6, "2001:db8:1:2::1", &v6.sin6_addr), ==, 1);
  httpd_limiter_client_of_socket (limiter, (struct sockaddr *) &v6, &socket_key);
  g_assert_true (httpd_limiter_client_of_text (limiter, "2001:db8:1:2::1", &text_key));
  g_assert_true (httpd_key_equal (&socket_key, &text_key));
  /* /48: another /64 of the same site is the same client. */
  g_assert_true (httpd_limiter_client_of_text (limiter, "2001:db8:1:ffff::9", &neighbour));
  g_assert_true (httpd_key_equal (&socket_key, &neighbour));
  g_assert_false (httpd_limiter_client_of_text (limiter, "2001:db8:1:2::1, 10.0.0.1", &stranger));

  g_assert_cmpint (inet_pton (AF_INET, "198.51.100.7", &v4.sin_addr), ==, 1);
  httpd_limiter_client_of_socket (limiter, (struct sockaddr *) &v4, &stranger);
  g_assert_false (httpd_key_equal (&socket_key, &stranger));

  g_assert_true (httpd_limiter_allow (limiter, &socket_key, now, &retry));
  g_assert_true (httpd_limiter_allow (limiter, &socket_key, now, &retry));
  g_assert_false (httpd_limiter_allow (limiter, &socket_key, now, &retry));
  g_assert_true (httpd_limiter_allow (limiter, &stranger, now, &retry));
  g_assert_cmpuint (httpd_limiter_get_n_clients (limiter), ==, 2);
  httpd_limiter_sweep (limiter, now + 60 * G_USEC_PER_SEC);
  g_assert_cmpuint (httpd_limiter_get_n_clients (limiter), ==, 0);
}

static void
test_json_content_type (void)
{
  g_assert_true (httpd_is_json_content_type ("application/json"));
  g_assert_true (httpd_is_json_content_type ("application/json; charset=utf-8"));
  g_assert_true (httpd_is_json_content_type ("Application/JSON"));
  g_assert_false (httpd_is_json_content_type ("application/jsonp"));
  g_assert_false (httpd_is_json_content_type ("text/plain"));
  g_assert_false (httpd_is_json_content_type (NULL));
}

static gboolean decorated;

static void
decorate (HttpdRequest        *req,
          struct MHD_Response *response,
          guint                status)
{
  decorated = TRUE;
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
    MHD_add_response_header (response, "Allow", "GET");
}

/* Answers the kit builds, before any daemon runs: the headers every answer
 * has, the server's own, and Retry-After on every 429 and 503. */
static void
test_json_answers (void)
{
  static const HttpdHandlers handlers = { .request_size = sizeof (HttpdRequest), .decorate = decorate };
  HttpdServerConfig config = { .name = "test", .listen_address = "127.0.0.1", .guard = { .request_timeout = 0 } };
  g_autoptr(HttpdServer) server = httpd_server_new (&config, &handlers, httpd_limiter_new (1, 1, 4, 64, NULL, NULL),
                                                    NULL);
  HttpdRequest req = { .server = server };
  struct MHD_Response *response;

  response = httpd_request_error_response (&req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "Busy", 0);
  g_assert_true (decorated);
  g_assert_cmpstr (MHD_get_response_header (response, "Content-Type"), ==, "application/json");
  g_assert_cmpstr (MHD_get_response_header (response, "Cache-Control"), ==, "no-store");
  g_assert_cmpstr (MHD_get_response_header (response, "X-Content-Type-Options"), ==, "nosniff");
  g_assert_cmpstr (MHD_get_response_header (response, "Retry-After"), ==, "1");
  MHD_destroy_response (response);

  response = httpd_request_error_response (&req, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited", "Slow", 7);
  g_assert_cmpstr (MHD_get_response_header (response, "Retry-After"), ==, "7");
  MHD_destroy_response (response);

  response = httpd_request_error_response (&req, MHD_HTTP_NOT_FOUND, "not_found", "No", 0);
  g_assert_null (MHD_get_response_header (response, "Retry-After"));
  g_assert_null (MHD_get_response_header (response, "Allow"));
  MHD_destroy_response (response);

  response = httpd_request_error_response (&req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "No", 0);
  g_assert_cmpstr (MHD_get_response_header (response, "Allow"), ==, "GET");
  MHD_destroy_response (response);
}

/* Key files: strings and numbers with units, bounded, absent left alone. */
static void
test_key_file (void)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup ("before");
  g_autofree char *other = g_strdup ("kept");
  guint64 value = 0;
  gboolean found = FALSE;

  g_assert_true (g_key_file_load_from_data (file, "[server]\nname=after\nwait=15m\nsize=64K\ncount=7\nbad=7x\n",
                                            -1, G_KEY_FILE_NONE, NULL));
  g_assert_true (httpd_key_file_get_string (file, "server", "name", &name, &error));
  g_assert_cmpstr (name, ==, "after");
  g_assert_true (httpd_key_file_get_string (file, "server", "missing", &other, &error));
  g_assert_true (httpd_key_file_get_string (file, "nogroup", "name", &other, &error));
  g_assert_cmpstr (other, ==, "kept");

  g_assert_true (httpd_key_file_get_number (file, "server", "wait", HTTPD_SETTING_DURATION, 3600, &value, &found,
                                            &error));
  g_assert_true (found);
  g_assert_cmpuint (value, ==, 900);
  g_assert_true (httpd_key_file_get_number (file, "server", "size", HTTPD_SETTING_SIZE, G_MAXINT32, &value, &found,
                                            &error));
  g_assert_cmpuint (value, ==, 65536);
  g_assert_true (httpd_key_file_get_number (file, "server", "missing", HTTPD_SETTING_NUMBER, 10, &value, &found,
                                            &error));
  g_assert_false (found);
  g_assert_no_error (error);

  g_assert_false (httpd_key_file_get_number (file, "server", "count", HTTPD_SETTING_NUMBER, 5, &value, &found,
                                             &error));
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_clear_error (&error);
  g_assert_false (httpd_key_file_get_number (file, "server", "bad", HTTPD_SETTING_SIZE, G_MAXINT32, &value, &found,
                                             &error));
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_clear_error (&error);

  g_assert_true (httpd_config_check_common ("/tmp", 65535, &error));
  g_assert_false (httpd_config_check_common (NULL, 80, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (httpd_config_check_common ("/tmp", 65536, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
}

/* SQLite: opened and set up in one call; its errors name the step and
 * SQLite's reason, never the data. */
static void
test_sqlite (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "test.sqlite", NULL);
  g_autofree char *missing = g_build_filename (dir, "no", "such", "dir.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *text = NULL;
  sqlite3 *db;

  db = httpd_sqlite_open (path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          "PRAGMA journal_mode = WAL; CREATE TABLE t (a TEXT);", &error);
  g_assert_no_error (error);
  g_assert_nonnull (db);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO t (a) VALUES (?), (?)", -1, &stmt, NULL), ==, SQLITE_OK);
  httpd_sqlite_bind_text (stmt, 1, "secret value");
  httpd_sqlite_bind_text (stmt, 2, NULL);
  g_assert_true (httpd_sqlite_check (db, sqlite3_step (stmt), "insert", &error));
  g_clear_pointer (&stmt, sqlite3_finalize);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT a FROM t ORDER BY a IS NULL", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  text = httpd_sqlite_column_text (stmt, 0);
  g_assert_cmpstr (text, ==, "secret value");
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_null (httpd_sqlite_column_text (stmt, 0));
  g_clear_pointer (&stmt, sqlite3_finalize);

  g_assert_false (httpd_sqlite_check (db, sqlite3_exec (db, "INSERT INTO nowhere VALUES ('secret value')",
                                                        NULL, NULL, NULL), "insert", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "insert: "));
  g_assert_null (strstr (error->message, "secret value"));
  g_clear_error (&error);
  sqlite3_close (db);

  g_assert_null (httpd_sqlite_open (missing, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (httpd_sqlite_open (path, SQLITE_OPEN_READWRITE, "NOT SQL", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *file = g_strconcat (path, (const char *[]) { "", "-wal", "-shm" }[i], NULL);

      g_remove (file);
    }
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/httpd/groups", test_groups);
  g_test_add_func ("/httpd/rate-eviction", test_rate_eviction);
  g_test_add_func ("/httpd/log-limit", test_log_limit);
  g_test_add_func ("/httpd/limiter-key", test_limiter_key);
  g_test_add_func ("/httpd/limiter-clients", test_limiter_clients);
  g_test_add_func ("/httpd/json-content-type", test_json_content_type);
  g_test_add_func ("/httpd/json-answers", test_json_answers);
  g_test_add_func ("/httpd/key-file", test_key_file);
  g_test_add_func ("/httpd/sqlite", test_sqlite);

  return g_test_run ();
}
