/* test-relay-cache.c: kept answers to reads, and what drops them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RelayCache queues a kept answer on a libmicrohttpd connection, so the
 * reads here go through a small daemon of the test's own on loopback, whose
 * handler asks the cache as the relay does; the rest is driven directly.
 */

#define G_LOG_DOMAIN "test-relay-cache"

#include "config.h"

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gio/gio.h>
#include <microhttpd.h>

#include "relay-cache.h"

#define MAILBOX   "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
#define OWNER     "0f8fad5b-d9cb-469f-a165-70867728950e"
#define RECIPIENT "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define STRANGER  "16fd2706-8baf-433b-82eb-8c7fada847da"
#define NOW       1000000

static RelayCache *cache;
/* Reads the cache said to take the lease again for (relay_cache_serve()) */
static guint renewals;

/* What the relay does with a read: the kept answer, if the cache has one
 * for this reader; else a miss (404 here). */
static enum MHD_Result
on_request (void                  *cls,
            struct MHD_Connection *connection,
            const char            *url,
            const char            *method,
            const char            *version,
            const char            *upload_data,
            size_t                *upload_data_size,
            void                 **con_cls)
{
  const char *claim = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "X-Claim");
  const char *now = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "X-Now");
  const char *known = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "X-Known");
  struct MHD_Response *response;
  enum MHD_Result result;
  gboolean renew;

  if (*con_cls == NULL)
    {
      *con_cls = GINT_TO_POINTER (1);
      return MHD_YES;
    }

  if (relay_cache_serve (cache, url + 1, claim, g_ascii_strtoll (now, NULL, 10), g_ascii_strtoll (known, NULL, 10),
                         connection, &result, &renew))
    {
      renewals += renew;
      return result;
    }

  /* With a type: the kit takes an error answer without one for one of
   * libmicrohttpd's own (httpd-errors.c). */
  response = MHD_create_response_from_buffer (4, (void *) "miss", MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header (response, "Content-Type", "text/plain");
  result = MHD_queue_response (connection, MHD_HTTP_NOT_FOUND, response);
  MHD_destroy_response (response);
  return result;
}

/* The body of the answer to a read of MAILBOX by @claim, or "miss". */
static char *
read_as (guint16      port,
         const char  *claim,
         gint64       now,
         gint64       known_version)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *request = g_strdup_printf ("GET /" MAILBOX " HTTP/1.1\r\nHost: x\r\nX-Claim: %s\r\n"
                                              "X-Now: %" G_GINT64_FORMAT "\r\nX-Known: %" G_GINT64_FORMAT "\r\n"
                                              "Connection: close\r\n\r\n", claim, now, known_version);
  g_autoptr(GString) answer = g_string_new (NULL);
  char buffer[1024];
  gssize n;
  const char *body;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), request, strlen (request),
                             NULL, NULL, &error);
  g_assert_no_error (error);
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (connection)), buffer, sizeof buffer,
                                   NULL, &error)) > 0)
    g_string_append_len (answer, buffer, n);
  g_assert_no_error (error);

  body = strstr (answer->str, "\r\n\r\n");
  if (body == NULL)
    g_error ("Not an HTTP answer: %s", answer->str);
  return g_strdup (body + 4);
}

static RelayMailbox *
mailbox_new (gint64 version)
{
  RelayMailbox *mailbox = relay_mailbox_new ();

  mailbox->id = g_strdup (MAILBOX);
  mailbox->version = version;
  mailbox->initiator_claim = g_strdup (OWNER);
  mailbox->recipient_claim = g_strdup (RECIPIENT);
  mailbox->access = RELAY_ACCESS_READ | RELAY_ACCESS_WRITE;
  mailbox->expires = NOW + 60;
  mailbox->payload_type = g_strdup ("AEAD_AES_256_GCM");
  mailbox->payload_data = g_strdup ("AAAA");
  return mailbox;
}

static struct MHD_Response *
answer (const char *text)
{
  return MHD_create_response_from_buffer (strlen (text), (void *) text, MHD_RESPMEM_MUST_COPY);
}

/* A daemon on loopback whose handler asks the cache (on_request()). */
static struct MHD_Daemon *
start_daemon (guint16 *port)
{
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct MHD_Daemon *daemon;

  daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL,
                             MHD_OPTION_SOCK_ADDR, &address, MHD_OPTION_END);
  g_assert_nonnull (daemon);
  *port = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
  return daemon;
}

/* A kept answer goes to either side of the mailbox, until it expires or a
 * write drops it; never to a stranger, nor to a reader that has it. */
static void
test_serve (void)
{
  struct MHD_Daemon *daemon;
  g_autoptr(RelayMailbox) mailbox = mailbox_new (4);
  char *body;
  guint16 port;

  cache = relay_cache_new (16, 1024 * 1024);
  daemon = start_daemon (&port);

  g_assert_true (relay_cache_store (cache, relay_cache_get_epoch (cache), G_MAXINT64, mailbox, answer ("kept")));
  g_assert_cmpuint (relay_cache_get_size (cache), ==, 1);

#define ASSERT_READ(claim, now, known, expected) \
  G_STMT_START { body = read_as (port, claim, now, known); g_assert_cmpstr (body, ==, expected); g_free (body); } G_STMT_END
  ASSERT_READ (OWNER, NOW, -1, "kept");
  ASSERT_READ (RECIPIENT, NOW, 3, "kept");
  /* Again: a response is queued as often as it is asked for. */
  ASSERT_READ (OWNER, NOW, -1, "kept");
  ASSERT_READ (STRANGER, NOW, -1, "miss");
  /* The reader has this version: its answer is 304 or a wait, not this. */
  ASSERT_READ (OWNER, NOW, 4, "miss");
  ASSERT_READ (OWNER, NOW + 60, -1, "miss");

  relay_cache_invalidate (cache, MAILBOX);
  g_assert_cmpuint (relay_cache_get_size (cache), ==, 0);
  ASSERT_READ (OWNER, NOW, -1, "miss");

  /* A recipient without the right to read gets no kept answer. */
  mailbox->access = RELAY_ACCESS_WRITE;
  g_assert_true (relay_cache_store (cache, relay_cache_get_epoch (cache), G_MAXINT64, mailbox, answer ("kept")));
  ASSERT_READ (RECIPIENT, NOW, -1, "miss");
  ASSERT_READ (OWNER, NOW, -1, "kept");
#undef ASSERT_READ

  MHD_stop_daemon (daemon);
  g_clear_pointer (&cache, relay_cache_free);
}

/* An answer built while a write went through is stale: the epoch moved,
 * and it is not kept. */
static void
test_epoch (void)
{
  g_autoptr(RelayMailbox) mailbox = mailbox_new (1);
  guint64 before;
  struct MHD_Response *stale = answer ("stale");

  cache = relay_cache_new (16, 1024 * 1024);
  before = relay_cache_get_epoch (cache);
  relay_cache_invalidate (cache, "another");
  g_assert_cmpuint (relay_cache_get_epoch (cache), >, before);
  g_assert_false (relay_cache_store (cache, before, G_MAXINT64, mailbox, stale));
  MHD_destroy_response (stale);
  g_assert_cmpuint (relay_cache_get_size (cache), ==, 0);

  before = relay_cache_get_epoch (cache);
  relay_cache_clear (cache);
  g_assert_cmpuint (relay_cache_get_epoch (cache), >, before);
  g_clear_pointer (&cache, relay_cache_free);
}

/* Bounded in entries and in bytes: when full it starts over, and an answer
 * larger than the whole cache is not kept. */
static void
test_bounds (void)
{
  g_autoptr(RelayMailbox) big = mailbox_new (1);
  struct MHD_Response *too_big = answer ("big");

  cache = relay_cache_new (3, 64 * 1024);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(RelayMailbox) mailbox = mailbox_new (1);

      g_free (mailbox->id);
      mailbox->id = g_strdup_printf ("mailbox-%u", i);
      g_assert_true (relay_cache_store (cache, relay_cache_get_epoch (cache), G_MAXINT64, mailbox, answer ("kept")));
    }
  g_assert_cmpuint (relay_cache_get_size (cache), ==, 3);
  {
    g_autoptr(RelayMailbox) fourth = mailbox_new (1);

    g_assert_true (relay_cache_store (cache, relay_cache_get_epoch (cache), G_MAXINT64, fourth, answer ("kept")));
  }
  g_assert_cmpuint (relay_cache_get_size (cache), ==, 1);

  g_free (big->payload_data);
  big->payload_data = g_strnfill (64 * 1024, 'A');
  g_assert_false (relay_cache_store (cache, relay_cache_get_epoch (cache), G_MAXINT64, big, too_big));
  MHD_destroy_response (too_big);
  g_assert_cmpuint (relay_cache_get_size (cache), ==, 1);
  g_clear_pointer (&cache, relay_cache_free);
}

/* Kept under a lease (a store other instances write to): served until the
 * lease runs out, never after; half-way there, one read is told to take
 * the lease again, and only one. The lease is 2 s, so that a loaded
 * machine still reads within each half. */
static void
test_lease (void)
{
  struct MHD_Daemon *daemon;
  g_autoptr(RelayMailbox) mailbox = mailbox_new (4);
  struct MHD_Response *late = answer ("late");
  gint64 stored, valid_until;
  char *body;
  guint16 port;

  cache = relay_cache_new (16, 1024 * 1024);
  daemon = start_daemon (&port);

  /* A lease that ran out before its answer was built keeps nothing. */
  g_assert_false (relay_cache_store (cache, relay_cache_get_epoch (cache), g_get_monotonic_time () - 1, mailbox, late));
  MHD_destroy_response (late);

  stored = g_get_monotonic_time ();
  valid_until = stored + 2 * G_USEC_PER_SEC;
  renewals = 0;
  g_assert_true (relay_cache_store (cache, relay_cache_get_epoch (cache), valid_until, mailbox, answer ("kept")));

#define ASSERT_READ(expected) \
  G_STMT_START { body = read_as (port, OWNER, NOW, -1); g_assert_cmpstr (body, ==, expected); g_free (body); } G_STMT_END
  ASSERT_READ ("kept");
  g_assert_cmpuint (renewals, ==, 0);

  /* The time that passes is what is tested here. */
  g_usleep (stored + G_USEC_PER_SEC + G_USEC_PER_SEC / 10 - g_get_monotonic_time ());
  ASSERT_READ ("kept");
  ASSERT_READ ("kept");
  g_assert_cmpuint (renewals, ==, 1);

  g_usleep (MAX (valid_until - g_get_monotonic_time (), 0) + G_USEC_PER_SEC / 100);
  ASSERT_READ ("miss");
  g_assert_cmpuint (renewals, ==, 1);
#undef ASSERT_READ

  MHD_stop_daemon (daemon);
  g_clear_pointer (&cache, relay_cache_free);
}

/* Asking for a lease is a write: only for a mailbox that missed within the
 * last second too. A cache that keeps nothing asks for none. */
static void
test_read_again (void)
{
  gint64 now = 1000 * G_USEC_PER_SEC;

  cache = relay_cache_new (2, 64 * 1024);
  g_assert_false (relay_cache_read_again (cache, "a", now));
  g_assert_true (relay_cache_read_again (cache, "a", now + G_USEC_PER_SEC / 2));
  g_assert_false (relay_cache_read_again (cache, "a", now + 2 * G_USEC_PER_SEC));
  g_assert_false (relay_cache_read_again (cache, "b", now));
  /* Bounded: a third mailbox starts over, and "a" is forgotten. */
  g_assert_false (relay_cache_read_again (cache, "c", now));
  g_assert_false (relay_cache_read_again (cache, "a", now + 2 * G_USEC_PER_SEC + 1));
  relay_cache_clear (cache);
  g_assert_false (relay_cache_read_again (cache, "a", now + 2 * G_USEC_PER_SEC + 2));
  g_clear_pointer (&cache, relay_cache_free);

  cache = relay_cache_new (0, 0);
  g_assert_false (relay_cache_read_again (cache, "a", now));
  g_assert_false (relay_cache_read_again (cache, "a", now + 1));
  g_clear_pointer (&cache, relay_cache_free);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/relay-cache/serve", test_serve);
  g_test_add_func ("/relay-cache/epoch", test_epoch);
  g_test_add_func ("/relay-cache/bounds", test_bounds);
  g_test_add_func ("/relay-cache/lease", test_lease);
  g_test_add_func ("/relay-cache/read-again", test_read_again);

  return g_test_run ();
}
