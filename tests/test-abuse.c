/* test-abuse.c: latchkey-relay and latchkey-partner under attack and faults
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test is a scaled-down attack from "The relay and the partner under
 * attack and faults": the limit it checks is set small, so that a handful of
 * requests reach it. tests/abuse-slow.py runs them at full size (the `slow`
 * suite). Other clients are other loopback addresses (127.0.0.2, …), or,
 * with --trust-forwarded-for, other X-Forwarded-For addresses.
 */

#define G_LOG_DOMAIN "test-abuse"

#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "latchkey-core.h"
#include "lk-test-http.h"
#include "lk-test-server.h"

#define PAYLOAD_DATA "oKGio6SlpqeoqaqrnToaQjemY8tAX6W3bh2pqhHALnH+2ycYsmlD6BrZ"
#define CREATE_BODY \
  "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"}," \
  "\"displayInformation\":{\"title\":\"Room 404\"}}"
#define UPDATE_BODY \
  "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"cmVwbHlyZXBseXJlcGx5cmVwbHlyZXBseXJlcGx5cmVwbHlyZXBseQ==\"}}"
#define MISSING "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e"

static SoupSession *
new_session (void)
{
  return soup_session_new_with_options ("timeout", 40, "max-conns", 64, "max-conns-per-host", 64, NULL);
}

static void
assert_json_error (LkTestReply *reply,
                   guint        status,
                   const char  *error)
{
  g_autoptr(JsonObject) object = NULL;

  if (reply->status != status)
    g_test_message ("expected %u, got %u: %s", status, reply->status, reply->body);
  g_assert_cmpuint (reply->status, ==, status);
  g_assert_true (g_str_has_prefix (soup_message_headers_get_content_type (reply->headers, NULL),
                                   "application/json"));
  object = lk_test_reply_json (reply);
  if (error != NULL)
    g_assert_cmpstr (json_object_get_string_member (object, "error"), ==, error);
  g_assert_nonnull (json_object_get_string_member (object, "message"));
}

static char *
body_of_size (gsize payload)
{
  g_autofree char *data = g_strnfill (payload - payload % 4, 'A');

  return g_strdup_printf ("{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"%s\"},"
                          "\"displayInformation\":{\"title\":\"t\"}}", data);
}

static guint
count_lines (const char *text,
             const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* Fixture: one relay, with the test's arguments. */

typedef struct
{
  LkTestServer *relay;
  SoupSession  *session;
  char         *claim;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->relay = lk_test_server_new ("LATCHKEY_RELAY", data);
  lk_test_server_start (f->relay);
  f->session = new_session ();
  f->claim = lk_uuid_new_random ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *log = lk_test_server_read_log (f->relay);

  g_assert_null (strstr (log, f->claim));
  g_clear_object (&f->session);
  g_clear_pointer (&f->relay, lk_test_server_free);
  g_free (f->claim);
}

static char *
url_for (Fixture    *f,
         const char *path)
{
  return g_strconcat (f->relay->url, path, NULL);
}

/* A create as the client at @address (the relay trusts X-Forwarded-For). */
static LkTestReply *
create_as (Fixture    *f,
           const char *address,
           const char *body)
{
  g_autofree char *url = url_for (f, "/v1/m");

  if (address == NULL)
    return lk_test_send (f->session, "POST", url, "application/json", body, "Mailbox-Device-Claim", f->claim, NULL);
  return lk_test_send (f->session, "POST", url, "application/json", body,
                       "Mailbox-Device-Claim", f->claim, "X-Forwarded-For", address, NULL);
}

static char *
mailbox_path (LkTestReply *created)
{
  g_autoptr(JsonObject) object = lk_test_reply_json (created);

  return g_strdup (strstr (json_object_get_string_member (object, "urlLink"), "/v1/m/"));
}

/* A metric, asked for from another loopback address, so that it is answered
 * whatever this address is refused. */
static guint
metric (LkTestServer *server,
        const char   *name)
{
  static const char request[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  g_autoptr(LkTestReply) reply = lk_test_raw_exchange (server->port, "127.0.0.9", request, strlen (request));
  g_autofree char *needle = g_strconcat ("\n", name, " ", NULL);
  const char *line = strstr (reply->body, needle);

  if (line == NULL)
    g_error ("no metric %s in: %s", name, reply->body);
  return atoi (line + strlen (needle));
}

static LkTestReply *
raw_get (LkTestServer *server,
         const char   *source,
         const char   *path)
{
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);

  return lk_test_raw_exchange (server->port, source, request, strlen (request));
}

/* Finding 1: no lock-out of new clients. */

static const char * const ipv6_args[] = { "--rate", "0", "--trust-forwarded-for", "--max-mailboxes-per-client", "2", NULL };

static void
test_ipv6_prefix (Fixture       *f,
                  gconstpointer  data)
{
  const struct
  {
    const char *address;
    guint       status;
  } creates[] = {
    /* One /64 is one client, however many of its addresses it uses. */
    { "2001:db8:1:2::1", 200 },
    { "2001:db8:1:2:ffff:ffff:ffff:7", 200 },
    { "2001:db8:1:2::3", 429 },
    /* The next /64 is another client. */
    { "2001:db8:1:3::1", 200 },
    /* An IPv4 client is itself, also on a dual-stack socket. */
    { "::ffff:198.51.100.7", 200 },
    { "198.51.100.7", 200 },
    { "198.51.100.7", 429 },
    { "198.51.100.8", 200 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (creates); i++)
    {
      g_autoptr(LkTestReply) reply = create_as (f, creates[i].address, CREATE_BODY);

      if (creates[i].status == 200)
        lk_test_assert_status (reply, 200);
      else
        assert_json_error (reply, creates[i].status, "too_many_mailboxes");
    }
}

static const char * const restart_args[] = { "--rate", "0", "--max-mailboxes-per-client", "2", NULL };

static void
test_count_survives_restart (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(LkTestReply) first = create_as (f, NULL, CREATE_BODY);
  g_autoptr(LkTestReply) second = create_as (f, NULL, CREATE_BODY);
  g_autoptr(LkTestReply) third = NULL;
  g_autoptr(LkTestReply) deleted = NULL;
  g_autoptr(LkTestReply) again = NULL;
  g_autofree char *path = NULL;
  g_autofree char *url = NULL;

  lk_test_assert_status (first, 200);
  lk_test_assert_status (second, 200);

  /* The count is the store's, not the process's. */
  g_assert_cmpint (lk_test_server_terminate (f->relay), ==, 0);
  lk_test_server_start (f->relay);
  third = create_as (f, NULL, CREATE_BODY);
  assert_json_error (third, 429, "too_many_mailboxes");

  path = mailbox_path (first);
  url = url_for (f, path);
  deleted = lk_test_send (f->session, "DELETE", url, NULL, NULL, "Mailbox-Device-Claim", f->claim, NULL);
  lk_test_assert_status (deleted, 200);
  again = create_as (f, NULL, CREATE_BODY);
  lk_test_assert_status (again, 200);
}

static const char * const bound_args[] = { "--rate", "0", "--trust-forwarded-for", "--max-body-bytes", "4096",
                                            "--max-stored-bytes", "6K", NULL };

static void
test_global_bound (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *body = body_of_size (2500);
  g_autoptr(LkTestReply) a = create_as (f, "192.0.2.1", body);
  g_autoptr(LkTestReply) b = create_as (f, "192.0.2.2", body);
  g_autoptr(LkTestReply) c = create_as (f, "192.0.2.3", body);
  g_autoptr(LkTestReply) deleted = NULL;
  g_autoptr(LkTestReply) again = NULL;
  g_autofree char *path = NULL;
  g_autofree char *url = NULL;

  lk_test_assert_status (a, 200);
  lk_test_assert_status (b, 200);
  /* Every client is within its own limits, but the relay holds what it may. */
  assert_json_error (c, 507, "storage_full");
  g_assert_nonnull (soup_message_headers_get_one (c->headers, "Retry-After"));
  g_assert_cmpuint (metric (f->relay, "latchkey_relay_rejected_total{limit=\"storage\"}"), ==, 1);
  g_assert_cmpuint (metric (f->relay, "latchkey_relay_stored_bytes"), >, 5000);

  path = mailbox_path (a);
  url = url_for (f, path);
  deleted = lk_test_send (f->session, "DELETE", url, NULL, NULL, "Mailbox-Device-Claim", f->claim,
                          "X-Forwarded-For", "192.0.2.1", NULL);
  lk_test_assert_status (deleted, 200);
  again = create_as (f, "192.0.2.3", body);
  lk_test_assert_status (again, 200);
}

static const char * const count_bound_args[] = { "--rate", "0", "--trust-forwarded-for", "--max-mailboxes", "2", NULL };

static void
test_global_count (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(LkTestReply) a = create_as (f, "192.0.2.1", CREATE_BODY);
  g_autoptr(LkTestReply) b = create_as (f, "192.0.2.2", CREATE_BODY);
  g_autoptr(LkTestReply) c = create_as (f, "192.0.2.3", CREATE_BODY);

  lk_test_assert_status (a, 200);
  lk_test_assert_status (b, 200);
  assert_json_error (c, 507, "storage_full");
}

/* The rate limiter remembers 8 clients: a flood of 64 makes it forget, and
 * the next newcomer still has a bucket of its own. */
static const char * const forgetful_args[] = { "--rate", "1", "--burst", "2", "--trust-forwarded-for",
                                               "--max-rate-clients", "8", NULL };

static void
test_rate_no_shared_bucket (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *url = url_for (f, MISSING);

  for (guint i = 0; i < 64; i++)
    {
      g_autofree char *address = g_strdup_printf ("10.0.0.%u", i + 1);
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", url, NULL, NULL, "X-Forwarded-For", address, NULL);

      lk_test_assert_status (reply, 404);
    }

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", url, NULL, NULL,
                                                   "X-Forwarded-For", "198.51.100.1", NULL);

      /* Its own burst of two, then its own limit. */
      if (i < 2)
        lk_test_assert_status (reply, 404);
      else
        assert_json_error (reply, 429, "rate_limited");
    }
  g_assert_cmpuint (metric (f->relay, "latchkey_relay_clients"), <=, 8);
}

/* Finding 2: SIGTERM under keep-alive write traffic answers or closes every
 * write in flight, loses none, and exits 0. */

typedef struct
{
  Fixture   *f;
  GMutex     lock;
  GPtrArray *acknowledged;
  guint      refused;        /* 503 shutting_down */
  guint      unexpected;
} Writers;

/* Reads one answer off a keep-alive connection; NULL when it closed. */
static LkTestReply *
read_one_reply (GSocket *socket,
                GString *pending)
{
  for (;;)
    {
      const char *end = strstr (pending->str, "\r\n\r\n");
      char buffer[8192];
      gssize n;

      if (end != NULL)
        {
          g_autofree char *head = g_strndup (pending->str, end + 4 - pending->str);
          g_autoptr(LkTestReply) parsed = lk_test_raw_parse (head);
          goffset length = soup_message_headers_get_content_length (parsed->headers);
          gsize total = (end + 4 - pending->str) + length;

          if (parsed->status != 0 && pending->len >= total)
            {
              g_free (parsed->body);
              parsed->body = g_strndup (end + 4, length);
              g_string_erase (pending, 0, total);
              return g_steal_pointer (&parsed);
            }
        }

      n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL);
      if (n <= 0)
        return NULL;
      g_string_append_len (pending, buffer, n);
    }
}

/* Creates, one after the other, on one keep-alive connection, as fast as
 * the relay answers: a write is almost always in flight. */
static gpointer
writer_thread (gpointer data)
{
  Writers *w = data;
  g_autoptr(GSocketConnection) connection = lk_test_raw_connect (w->f->relay->port, NULL);
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autoptr(GString) pending = g_string_new (NULL);
  g_autofree char *request = g_strdup_printf ("POST /v1/m HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                              "Mailbox-Device-Claim: %s\r\nContent-Length: %zu\r\n\r\n%s",
                                              w->f->claim, strlen (CREATE_BODY), CREATE_BODY);

  for (;;)
    {
      g_autoptr(LkTestReply) reply = NULL;

      if (g_socket_send (socket, request, strlen (request), NULL, NULL) != (gssize) strlen (request))
        break;
      reply = read_one_reply (socket, pending);
      if (reply == NULL)
        break;   /* closed: the relay is stopping or gone */

      g_mutex_lock (&w->lock);
      if (reply->status == 200)
        {
          g_autoptr(JsonObject) object = lk_test_reply_json (reply);

          g_ptr_array_add (w->acknowledged, g_strdup (json_object_get_string_member (object, "urlLink")));
        }
      else if (reply->status == 503 && strstr (reply->body, "shutting_down") != NULL)
        w->refused++;
      else
        w->unexpected++;
      g_mutex_unlock (&w->lock);
    }

  return NULL;
}

static const char * const sigterm_args[] = { "--rate", "0", "--max-mailboxes-per-client", "0", NULL };

static void
test_sigterm_under_writes (Fixture       *f,
                           gconstpointer  data)
{
  for (guint round = 0; round < 5; round++)
    {
      Writers w = { f, { 0 }, g_ptr_array_new_with_free_func (g_free), 0, 0 };
      GThread *threads[16];
      guint acknowledged, missing = 0;
      int status;

      g_mutex_init (&w.lock);
      for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
        threads[i] = g_thread_new ("writer", writer_thread, &w);

      do
        {
          g_usleep (1000);
          g_mutex_lock (&w.lock);
          acknowledged = w.acknowledged->len;
          g_mutex_unlock (&w.lock);
        }
      while (acknowledged < 300);

      g_test_message ("round %u: SIGTERM after %u writes acknowledged", round, acknowledged);
      status = lk_test_server_terminate (f->relay);
      for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
        g_thread_join (threads[i]);

      g_test_message ("round %u: exit status %d, %u writes acknowledged, %u refused while stopping",
                      round, status, w.acknowledged->len, w.refused);
      g_assert_cmpint (status, ==, 0);
      g_assert_cmpuint (w.unexpected, ==, 0);

      lk_test_server_start (f->relay);
      for (guint i = 0; i < w.acknowledged->len; i++)
        {
          const char *link = g_ptr_array_index (w.acknowledged, i);
          g_autofree char *url = url_for (f, strstr (link, "/v1/m/"));
          g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", url, NULL, NULL,
                                                       "Mailbox-Device-Claim", f->claim, NULL);

          missing += reply->status != 200;
        }
      g_assert_cmpuint (missing, ==, 0);

      g_ptr_array_unref (w.acknowledged);
      g_mutex_clear (&w.lock);
    }
}

/* Finding 3: one address cannot take the relay. */

static const char * const connections_args[] = { "--rate", "0", "--max-connections-per-client", "4", NULL };

static void
test_connections_per_client (Fixture       *f,
                             gconstpointer  data)
{
  GSocketConnection *held[4];
  g_autoptr(GSocketConnection) extra = NULL;
  g_autoptr(LkTestReply) other = NULL;
  g_autofree char *refused = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    {
      held[i] = lk_test_raw_connect (f->relay->port, "127.0.0.1");
      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (held[i])),
                                 "GET /healthz HTTP/1.1\r\n", 23, NULL, NULL, NULL);
    }
  while (metric (f->relay, "latchkey_relay_connections") < 4)
    g_usleep (1000);

  /* A fifth from the same address is closed at once, without a word... */
  extra = lk_test_raw_connect (f->relay->port, "127.0.0.1");
  refused = lk_test_raw_read_all (extra, 5);
  g_assert_cmpstr (refused, ==, "");

  /* ...while another address is served. */
  other = raw_get (f->relay, "127.0.0.2", "/healthz");
  g_assert_cmpuint (other->status, ==, 200);
  g_assert_cmpuint (metric (f->relay, "latchkey_relay_rejected_total{limit=\"connections\"}"), >=, 1);

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    g_object_unref (held[i]);
  while (metric (f->relay, "latchkey_relay_connections") > 1)
    g_usleep (1000);
  {
    g_autoptr(LkTestReply) again = raw_get (f->relay, "127.0.0.1", "/healthz");
    g_assert_cmpuint (again->status, ==, 200);
  }
}

/* Sends @start, then a byte of @drip every 100 ms until the relay closes
 * the connection (or 10 s pass); returns what the relay sent. */
static char *
drip (guint       port,
      const char *source,
      const char *start,
      const char *drip_text)
{
  g_autoptr(GSocketConnection) connection = lk_test_raw_connect (port, source);
  GSocket *socket = g_socket_connection_get_socket (connection);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  g_autoptr(GString) received = g_string_new (NULL);
  gsize sent = 0;

  g_socket_send (socket, start, strlen (start), NULL, NULL);
  while (g_get_monotonic_time () < deadline)
    {
      char buffer[4096];
      gssize n;

      if (!g_socket_condition_timed_wait (socket, G_IO_IN | G_IO_HUP, 100 * 1000, NULL, NULL))
        {
          /* Each byte is progress, and would reset an idle timer. */
          g_socket_send (socket, drip_text + sent % strlen (drip_text), 1, NULL, NULL);
          sent++;
          continue;
        }
      n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL);
      if (n <= 0)
        return g_string_free (g_steal_pointer (&received), FALSE);
      g_string_append_len (received, buffer, n);
    }

  g_string_append (received, " <still open>");
  return g_string_free (g_steal_pointer (&received), FALSE);
}

static const char * const deadline_args[] = { "--rate", "0", "--request-timeout", "1", "--connection-timeout", "30", NULL };

static void
test_request_deadline (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *headers = drip (f->relay->port, NULL, "GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: y\r\n");
  g_autofree char *body = drip (f->relay->port, NULL,
                                "PUT " MISSING " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                "Content-Length: 1000\r\nMailbox-Device-Claim: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n\r\n{",
                                "\"payload\"");
  g_autoptr(LkTestReply) late_headers = lk_test_raw_parse (headers);
  g_autoptr(LkTestReply) late_body = lk_test_raw_parse (body);

  /* Both are cut at the deadline, with an answer that says so, although
   * every byte would have reset the 30 s idle timer. */
  assert_json_error (late_headers, 408, "request_timeout");
  assert_json_error (late_body, 408, "request_timeout");
  g_assert_cmpuint (metric (f->relay, "latchkey_relay_rejected_total{limit=\"request_timeout\"}"), ==, 2);
}

typedef struct
{
  Fixture     *f;
  char        *url;
  const char  *etag;
  const char  *address;
  LkTestReply *reply;
} Waiter;

static gpointer
wait_thread (gpointer data)
{
  Waiter *w = data;
  g_autoptr(SoupSession) session = new_session ();

  w->reply = lk_test_send (session, "POST", w->url, NULL, NULL, "Mailbox-Device-Claim", w->f->claim,
                           "If-None-Match", w->etag, "Prefer", "wait=30", "X-Forwarded-For", w->address, NULL);
  return NULL;
}

static const char * const waiters_args[] = { "--rate", "0", "--trust-forwarded-for", "--max-waiters-per-client", "2",
                                             "--max-waiters", "3", NULL };

static void
test_waiters_per_client (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(LkTestReply) created = create_as (f, "192.0.2.1", CREATE_BODY);
  g_autofree char *path = mailbox_path (created);
  g_autofree char *url = url_for (f, path);
  g_autoptr(LkTestReply) first = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", f->claim, NULL);
  const char *etag = soup_message_headers_get_one (first->headers, "ETag");
  Waiter waiters[3] = {
    { f, url, etag, "192.0.2.1", NULL },
    { f, url, etag, "192.0.2.1", NULL },
    { f, url, etag, "192.0.2.2", NULL },
  };
  GThread *threads[3];
  g_autoptr(LkTestReply) over_share = NULL;
  g_autoptr(LkTestReply) over_all = NULL;
  g_autoptr(LkTestReply) update = NULL;

  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new ("waiter", wait_thread, &waiters[i]);
  while (metric (f->relay, "latchkey_relay_waiters") < 2)
    g_usleep (1000);

  /* A client's third is over its share... */
  over_share = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", f->claim,
                             "If-None-Match", etag, "Prefer", "wait=30", "X-Forwarded-For", "192.0.2.1", NULL);
  assert_json_error (over_share, 429, "too_many_waiters");

  /* ...another client still has a place... */
  threads[2] = g_thread_new ("waiter", wait_thread, &waiters[2]);
  while (metric (f->relay, "latchkey_relay_waiters") < 3)
    g_usleep (1000);

  /* ...until all are taken. */
  over_all = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", f->claim,
                           "If-None-Match", etag, "Prefer", "wait=30", "X-Forwarded-For", "192.0.2.3", NULL);
  assert_json_error (over_all, 503, "too_many_waiters");

  update = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY, "Mailbox-Device-Claim", f->claim, NULL);
  lk_test_assert_status (update, 200);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_thread_join (threads[i]);
      lk_test_assert_status (waiters[i].reply, 200);
      lk_test_reply_free (waiters[i].reply);
    }
}

/* Issue 13: the default per-address limits fit a public relay, where a
 * mobile network's carrier-grade NAT or a privacy relay puts many people
 * behind one address. With nothing but the defaults, 96 people behind one
 * address each create an invitation and wait on it at once (two requests
 * each: within the default burst of 200 whatever the timing), and none is
 * refused (with the first defaults, 20 requests a second and a burst of
 * 100, 38 of the 96 were). The bounds themselves are tested with small
 * limits in the other tests. */

#define SHARED_ADDRESS_PEOPLE 96

static const char * const shared_address_args[] = { "--trust-forwarded-for", NULL };

static gint shared_address_answered;

/* A waiter answered before its mailbox changed was refused. */
static gpointer
counted_wait_thread (gpointer data)
{
  wait_thread (data);
  g_atomic_int_inc (&shared_address_answered);
  return NULL;
}

static void
test_shared_address (Fixture       *f,
                     gconstpointer  data)
{
  Waiter waiters[SHARED_ADDRESS_PEOPLE];
  GThread *threads[SHARED_ADDRESS_PEOPLE];
  g_autoptr(GPtrArray) created = g_ptr_array_new_with_free_func ((GDestroyNotify) lk_test_reply_free);

  for (guint i = 0; i < SHARED_ADDRESS_PEOPLE; i++)
    {
      LkTestReply *reply = create_as (f, "198.51.100.7", CREATE_BODY);

      lk_test_assert_status (reply, 200);
      g_ptr_array_add (created, reply);
      waiters[i] = (Waiter) { f, NULL, soup_message_headers_get_one (reply->headers, "ETag"), "198.51.100.7", NULL };
      g_assert_nonnull (waiters[i].etag);
      {
        g_autofree char *path = mailbox_path (reply);

        waiters[i].url = url_for (f, path);
      }
    }

  g_atomic_int_set (&shared_address_answered, 0);
  for (guint i = 0; i < SHARED_ADDRESS_PEOPLE; i++)
    threads[i] = g_thread_new ("waiter", counted_wait_thread, &waiters[i]);
  while (metric (f->relay, "latchkey_relay_waiters") < SHARED_ADDRESS_PEOPLE &&
         g_atomic_int_get (&shared_address_answered) == 0)
    g_usleep (1000);
  g_assert_cmpint (g_atomic_int_get (&shared_address_answered), ==, 0);

  /* Each answer comes (from another address), and wakes its reader. */
  for (guint i = 0; i < SHARED_ADDRESS_PEOPLE; i++)
    {
      g_autoptr(LkTestReply) update = lk_test_send (f->session, "PUT", waiters[i].url, "application/json", UPDATE_BODY,
                                                    "Mailbox-Device-Claim", f->claim, NULL);

      lk_test_assert_status (update, 200);
    }
  for (guint i = 0; i < SHARED_ADDRESS_PEOPLE; i++)
    {
      g_thread_join (threads[i]);
      lk_test_assert_status (waiters[i].reply, 200);
      lk_test_reply_free (waiters[i].reply);
      g_free (waiters[i].url);
    }
}

/* Finding 4: bodies in memory are bounded by the configuration. */

static const char * const body_memory_args[] = { "--rate", "0", "--max-body-bytes", "16384", "--max-body-memory", "64K", NULL };

static GSocketConnection *
start_upload (LkTestServer *server,
              const char   *source)
{
  GSocketConnection *connection = lk_test_raw_connect (server->port, source);
  static const char head[] =
    "PUT " MISSING " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16000\r\n"
    "Mailbox-Device-Claim: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n\r\n{\"payload\":";

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), head, strlen (head),
                             NULL, NULL, NULL);
  return connection;
}

static void
test_body_memory (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GSocketConnection) mine = start_upload (f->relay, "127.0.0.1");
  g_autoptr(GSocketConnection) again = NULL;
  GSocketConnection *others[4];
  g_autoptr(LkTestReply) refused = NULL;
  g_autoptr(LkTestReply) full = NULL;
  g_autofree char *text = NULL;

  while (metric (f->relay, "latchkey_relay_body_memory_bytes") < 16000)
    g_usleep (1000);

  /* One client's share of the budget is one body here: a second waits its turn. */
  again = start_upload (f->relay, "127.0.0.1");
  text = lk_test_raw_read_all (again, 5);
  refused = lk_test_raw_parse (text);
  assert_json_error (refused, 503, "busy");

  /* Three more clients fill the budget of four bodies... */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *source = g_strdup_printf ("127.0.0.%u", i + 2);

      others[i] = start_upload (f->relay, source);
    }
  while (metric (f->relay, "latchkey_relay_body_memory_bytes") < 64000)
    g_usleep (1000);

  /* ...and a fifth is turned away before it sends its body. */
  others[3] = start_upload (f->relay, "127.0.0.5");
  g_free (text);
  text = lk_test_raw_read_all (others[3], 5);
  full = lk_test_raw_parse (text);
  assert_json_error (full, 503, "busy");
  g_assert_cmpuint (metric (f->relay, "latchkey_relay_rejected_total{limit=\"body_memory\"}"), ==, 2);

  /* Bodies that go away give their memory back. */
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    g_object_unref (others[i]);
  g_clear_object (&mine);
  while (metric (f->relay, "latchkey_relay_body_memory_bytes") > 0)
    g_usleep (1000);
}

static int
run_check_config (const char * const *extra,
                  char              **out)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *dir = g_dir_make_tmp ("latchkey-check-XXXXXX", NULL);
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("LATCHKEY_RELAY"));
  g_ptr_array_add (argv, (char *) "--check-config");
  g_ptr_array_add (argv, (char *) "--data-dir");
  g_ptr_array_add (argv, dir);
  for (guint i = 0; extra[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra[i]);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err, &status, &error);
  g_assert_no_error (error);
  g_rmdir (dir);
  g_test_message ("%s%s", *out, err);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_check_config_memory (void)
{
  const char * const fits[] = { "--memory-limit", "512M", NULL };
  const char * const too_many[] = { "--memory-limit", "512M", "--max-connections", "30000", NULL };
  const char * const too_little[] = { "--memory-limit", "128M", NULL };
  g_autofree char *out = NULL;

  /* The defaults fit the unit's MemoryMax=512M, and the check says how. */
  g_assert_cmpint (run_check_config (fits, &out), ==, 0);
  g_assert_nonnull (strstr (out, "Memory, worst case"));
  g_assert_nonnull (strstr (out, "It fits"));
  g_clear_pointer (&out, g_free);

  /* Settings whose worst case would not fit are refused. */
  g_assert_cmpint (run_check_config (too_many, &out), ==, 1);
  g_assert_nonnull (strstr (out, "does not fit"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_check_config (too_little, &out), ==, 1);
}

/* Finding 6: headers and errors. */

static void
test_attestation (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/v1/m");
  /* An Android key attestation chain comes near 8 KiB of DER: in base64,
   * 10,924 characters, beside the other headers in the connection's pool. */
  g_autofree char *fits = g_strnfill (4 * ((8192 + 2) / 3), 'A');
  g_autofree char *most = g_strnfill (12288, 'A');
  g_autofree char *over = g_strnfill (12289, 'A');
  g_autoptr(LkTestReply) at_most = lk_test_send (f->session, "POST", url, "application/json", CREATE_BODY,
                                                 "Mailbox-Device-Claim", f->claim,
                                                 "Mailbox-Device-Attestation", most,
                                                 "User-Agent", "Latchkey/1.0 (a user agent of ordinary length)",
                                                 "Accept-Language", "en-GB,en;q=0.9,fr;q=0.8", NULL);
  g_autoptr(LkTestReply) accepted = lk_test_send (f->session, "POST", url, "application/json", CREATE_BODY,
                                                  "Mailbox-Device-Claim", f->claim,
                                                  "Mailbox-Device-Attestation", fits, NULL);
  g_autoptr(LkTestReply) refused = lk_test_send (f->session, "POST", url, "application/json", CREATE_BODY,
                                                 "Mailbox-Device-Claim", f->claim,
                                                 "Mailbox-Device-Attestation", over, NULL);

  /* PROTOCOL.md §6.2: attestations up to 12 KiB. */
  lk_test_assert_status (accepted, 200);
  lk_test_assert_status (at_most, 200);
  assert_json_error (refused, 401, "bad_attestation");
}

typedef struct
{
  const char *name;
  const char *request;
  guint       status;
  const char *error;
} RawCase;

static void
check_raw_errors (LkTestServer *server)
{
  g_autofree char *filler = g_strnfill (40000, 'a');
  g_autofree char *long_header = g_strdup_printf ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", filler);
  g_autofree char *long_uri = g_strdup_printf ("GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", filler);
  const RawCase cases[] = {
    { "not HTTP", "THIS IS NOT HTTP\r\n\r\n", 400, "bad_request" },
    { "HTTP/2.0", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported" },
    { "HTTP/0.9", "GET /healthz HTTP/0.9\r\nHost: x\r\n\r\n", 505, "http_version_not_supported" },
    { "no Host", "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "bad_request" },
    /* libmicrohttpd 0.9.75 would repeat its headers here: no reply at all. */
    { "Content-Length not a number", "POST /v1/m HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n", 0, NULL },
    { "Content-Length too large", "POST /v1/m HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      0, NULL },
    { "headers over the pool", long_header, 431, "headers_too_large" },
    { "request line over the pool", long_uri, 414, "uri_too_long" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_raw_exchange (server->port, NULL, cases[i].request,
                                                           strlen (cases[i].request));

      g_test_message ("%s: %u %s", cases[i].name, reply->status, reply->body);
      /* One answer, in the documented form, whoever wrote it; or none. */
      if (cases[i].status == 0)
        {
          g_assert_cmpuint (reply->status, ==, 0);
          g_assert_cmpstr (reply->body, ==, "");
        }
      else
        assert_json_error (reply, cases[i].status, cases[i].error);
    }
}

static void
test_server_errors_json (Fixture       *f,
                         gconstpointer  data)
{
  check_raw_errors (f->relay);
}

/* Finding 7: a full disk. */

static gboolean
can_mount_tmpfs (void)
{
  const char * const argv[] = { "unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                                "d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs \"$d\"", NULL };
  int status = -1;

  return g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                       G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL) &&
         g_spawn_check_wait_status (status, NULL);
}

static void
test_disk_full (void)
{
  const char * const args[] = { "--rate", "0", "--max-mailboxes-per-client", "0", "--max-bytes-per-client", "0",
                                "--disk-reserve", "6M", "--sweep-interval", "1s", NULL };
  g_autoptr(LkTestServer) relay = NULL;
  g_autoptr(SoupSession) session = new_session ();
  g_autofree char *db_dir = NULL;
  g_autofree char *create_url = NULL;
  g_autofree char *health_url = NULL;
  g_autofree char *body = body_of_size (40000);
  g_autofree char *claim = lk_uuid_new_random ();
  g_autofree char *log = NULL;
  g_autoptr(GPtrArray) created = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(LkTestReply) full = NULL;
  gint64 deadline;

  if (!can_mount_tmpfs ())
    {
      g_test_skip ("Cannot mount a tmpfs in a user namespace here (unshare --user --mount)");
      return;
    }

  /* The relay's database on a 12 MB file system of its own, in a mount
   * namespace of its own: a real ENOSPC, without privileges. */
  relay = lk_test_server_new ("LATCHKEY_RELAY", args);
  db_dir = g_build_filename (relay->data_dir, "db", NULL);
  g_mkdir (db_dir, 0700);
  {
    const char * const wrapper[] = { "unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                                     "mount -t tmpfs -o size=12m tmpfs \"$1\" && shift && exec \"$@\"", "sh", db_dir, NULL };
    lk_test_server_set_wrapper (relay, wrapper);
  }
  lk_test_server_start (relay);
  create_url = g_strconcat (relay->url, "/v1/m", NULL);
  health_url = g_strconcat (relay->url, "/healthz", NULL);

  for (guint i = 0; i < 400 && full == NULL; i++)
    {
      LkTestReply *reply = lk_test_send (session, "POST", create_url, "application/json", body,
                                         "Mailbox-Device-Claim", claim, NULL);

      if (reply->status == 200)
        {
          g_ptr_array_add (created, mailbox_path (reply));
          lk_test_reply_free (reply);
        }
      else
        full = reply;
    }

  /* 507, in the documented form; health says so, and so does a metric. */
  g_assert_nonnull (full);
  g_test_message ("%u creates before the disk was full", created->len);
  g_assert_cmpuint (created->len, >, 10);
  assert_json_error (full, 507, "storage_full");
  g_assert_nonnull (soup_message_headers_get_one (full->headers, "Retry-After"));
  {
    g_autoptr(LkTestReply) health = lk_test_send (session, "GET", health_url, NULL, NULL, NULL);
    assert_json_error (health, 503, "storage_full");
  }
  g_assert_cmpuint (metric (relay, "latchkey_relay_storage_full"), ==, 1);

  /* More writes are refused the same way... */
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_send (session, "POST", create_url, "application/json", body,
                                                   "Mailbox-Device-Claim", claim, NULL);
      assert_json_error (reply, 507, "storage_full");
    }

  /* ...reads work, and deletes free space, on the full disk. */
  for (guint i = 0; i < created->len; i++)
    {
      g_autofree char *url = g_strconcat (relay->url, g_ptr_array_index (created, i), NULL);
      g_autoptr(LkTestReply) read = lk_test_send (session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", claim, NULL);
      g_autoptr(LkTestReply) deleted = lk_test_send (session, "DELETE", url, NULL, NULL,
                                                     "Mailbox-Device-Claim", claim, NULL);

      lk_test_assert_status (read, 200);
      lk_test_assert_status (deleted, 200);
    }

  /* Once there is room for its reserve again, the relay takes writes. */
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(LkTestReply) health = lk_test_send (session, "GET", health_url, NULL, NULL, NULL);

      if (health->status == 200)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100 * 1000);
    }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (session, "POST", create_url, "application/json", body,
                                                 "Mailbox-Device-Claim", claim, NULL);
    lk_test_assert_status (reply, 200);
  }

  /* One line when the disk filled, one when it was writable again: not one
   * per refused batch. */
  log = lk_test_server_read_log (relay);
  g_assert_cmpuint (count_lines (log, "The disk is full"), ==, 1);
  g_assert_cmpuint (count_lines (log, "room on the disk again"), ==, 1);
  g_assert_cmpuint (count_lines (log, "Store batch"), <=, 1);
}

/* Finding 8. */

static const char * const short_life_args[] = { "--rate", "0", "--default-expiration", "2s", "--max-expiration", "2s", NULL };

static void
test_waiting_read_expiry (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(LkTestReply) created = create_as (f, NULL, CREATE_BODY);
  g_autofree char *path = mailbox_path (created);
  g_autofree char *url = url_for (f, path);
  g_autoptr(LkTestReply) first = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", f->claim, NULL);
  Waiter w = { f, url, soup_message_headers_get_one (first->headers, "ETag"), "127.0.0.1", NULL };
  gint64 started = g_get_monotonic_time ();

  /* The mailbox expires within the 30 s wait: the reader learns then. */
  wait_thread (&w);
  assert_json_error (w.reply, 404, "not_found");
  g_assert_cmpint (g_get_monotonic_time () - started, <, 10 * G_USEC_PER_SEC);
  lk_test_reply_free (w.reply);
}

static void
test_fd_limit (void)
{
  const char * const wrapper[] = { "prlimit", "--nofile=256:256", "--", NULL };
  g_autoptr(LkTestServer) relay = lk_test_server_new ("LATCHKEY_RELAY", NULL);
  g_autofree char *log = NULL;
  GSocketConnection *held[200];

  lk_test_server_set_wrapper (relay, wrapper);
  lk_test_server_start (relay);
  log = lk_test_server_read_log (relay);
  /* Said at start, with what to do about it. */
  g_assert_nonnull (strstr (log, "max-connections is 12000, but the descriptor limit (256) allows 192"));

  /* And it serves within the limit rather than running out of descriptors. */
  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    {
      g_autofree char *source = g_strdup_printf ("127.0.1.%u", i + 1);

      held[i] = lk_test_raw_connect (relay->port, source);
    }
  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    g_object_unref (held[i]);
  {
    g_autoptr(LkTestReply) reply = NULL;
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    do
      {
        g_clear_pointer (&reply, lk_test_reply_free);
        reply = raw_get (relay, "127.0.0.2", "/healthz");
      }
    while (reply->status != 200 && g_get_monotonic_time () < deadline);
    g_assert_cmpuint (reply->status, ==, 200);
  }
}

static void
test_quiet_log (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *log = NULL;

  /* Fifty clients that go away half-way through their headers. */
  for (guint i = 0; i < 50; i++)
    {
      g_autoptr(GSocketConnection) connection = lk_test_raw_connect (f->relay->port, NULL);

      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                 "GET /healthz HTTP/1.1\r\nHo", 25, NULL, NULL, NULL);
      g_usleep (2000);
    }
  while (metric (f->relay, "latchkey_relay_log_suppressed_total") < 40)
    g_usleep (1000);

  log = lk_test_server_read_log (f->relay);
  g_assert_cmpuint (count_lines (log, "libmicrohttpd:"), <=, 2);
}

/* The partner: finding 5, and its halves of 3 and 6. */

typedef struct
{
  LkTestServer *partner;
  SoupSession  *session;
} Partner;

static void
partner_set_up (Partner       *p,
                gconstpointer  data)
{
  p->partner = lk_test_server_new ("LATCHKEY_PARTNER", data);
  lk_test_server_start (p->partner);
  p->session = new_session ();
}

static void
partner_tear_down (Partner       *p,
                   gconstpointer  data)
{
  g_clear_object (&p->session);
  g_clear_pointer (&p->partner, lk_test_server_free);
}

static char *
challenge_from (Partner    *p,
                const char *source)
{
  static const char request[] = "POST /v1/challenges HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  g_autoptr(LkTestReply) reply = lk_test_raw_exchange (p->partner->port, source, request, strlen (request));
  g_autoptr(JsonObject) object = NULL;

  lk_test_assert_status (reply, 200);
  object = lk_test_reply_json (reply);
  return g_strdup (json_object_get_string_member (object, "challenge"));
}

/* Whether the partner still holds @challenge: using it at an access point
 * that does not exist gets past the challenge (404), or not (403). Asked
 * from an address of its own, whose rate nobody used up. */
static gboolean
challenge_held (Partner    *p,
                const char *challenge)
{
  g_autofree char *token = g_strnfill (43, 'A');
  g_autofree char *body = g_strdup_printf ("{\"accessPointId\":\"0f8fad5b-d9cb-469f-a165-70867728950e\","
                                           "\"action\":\"open\",\"challenge\":\"%s\",\"accessToken\":\"%s\"}",
                                           challenge, token);
  g_autofree char *request = g_strdup_printf ("POST /v1/access HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                              "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                              strlen (body), body);
  g_autoptr(LkTestReply) reply = lk_test_raw_exchange (p->partner->port, "127.0.0.8", request, strlen (request));

  if (reply->status == 403)
    {
      assert_json_error (reply, 403, "bad_challenge");
      return FALSE;
    }
  assert_json_error (reply, 404, "unknown_access_point");
  return TRUE;
}

static const char * const flood_args[] = { "--max-challenges", "50", NULL };

static void
test_challenge_flood (Partner       *p,
                      gconstpointer  data)
{
  g_autofree char *mine = challenge_from (p, "127.0.0.2");
  g_autoptr(GSocketConnection) flood = lk_test_raw_connect (p->partner->port, "127.0.0.1");
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (flood));
  g_autofree char *answers = NULL;
  guint ok, limited;

  /* 500 challenges asked for at once, on one keep-alive connection, from
   * another address: ten times as many as the partner keeps. */
  for (guint i = 0; i < 500; i++)
    {
      const char *request = i < 499 ? "POST /v1/challenges HTTP/1.1\r\nHost: x\r\n\r\n"
                                    : "POST /v1/challenges HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

      g_output_stream_write_all (out, request, strlen (request), NULL, NULL, NULL);
    }
  answers = lk_test_raw_read_all (flood, 10);
  ok = count_lines (answers, "HTTP/1.1 200");
  limited = count_lines (answers, "HTTP/1.1 429");
  g_test_message ("flood: %u challenges given, %u refused with 429", ok, limited);

  /* The other client's challenge is still there... */
  g_assert_true (challenge_held (p, mine));
  /* ...and the flood was slowed down. */
  g_assert_cmpuint (ok + limited, ==, 500);
  g_assert_cmpuint (limited, >, 0);
}

static const char * const share_args[] = { "--max-challenges", "4", "--max-challenges-per-client", "2",
                                           "--rate", "0", NULL };

static void
test_challenge_shares (Partner       *p,
                       gconstpointer  data)
{
  g_autofree char *a1 = challenge_from (p, "127.0.0.2");
  g_autofree char *b1 = challenge_from (p, "127.0.0.3");
  g_autofree char *b2 = challenge_from (p, "127.0.0.3");
  g_autofree char *b3 = challenge_from (p, "127.0.0.3");
  g_autofree char *c1 = challenge_from (p, "127.0.0.4");
  static const char request[] = "POST /v1/challenges HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  g_autoptr(LkTestReply) full = NULL;

  /* Over its share, a client loses its own oldest, nobody else's. */
  g_assert_false (challenge_held (p, b1));
  /* All four places taken (a1, b2, b3, c1): a newcomer waits, and nobody loses one. */
  full = lk_test_raw_exchange (p->partner->port, "127.0.0.5", request, strlen (request));
  assert_json_error (full, 503, "busy");
  g_assert_nonnull (soup_message_headers_get_one (full->headers, "Retry-After"));
  g_assert_true (challenge_held (p, a1));
  g_assert_true (challenge_held (p, b2));
  g_assert_true (challenge_held (p, b3));
  g_assert_true (challenge_held (p, c1));
}

static const char * const partner_rate_args[] = { "--rate", "1", "--burst", "3", NULL };

static void
test_partner_rate (Partner       *p,
                   gconstpointer  data)
{
  g_autofree char *url = g_strconcat (p->partner->url, "/v1/challenges", NULL);
  g_autofree char *health = g_strconcat (p->partner->url, "/healthz", NULL);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_send (p->session, "POST", url, NULL, NULL, NULL);
      lk_test_assert_status (reply, 200);
    }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (p->session, "POST", url, NULL, NULL, NULL);
    assert_json_error (reply, 429, "rate_limited");
    g_assert_nonnull (soup_message_headers_get_one (reply->headers, "Retry-After"));
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (p->session, "GET", health, NULL, NULL, NULL);
    lk_test_assert_status (reply, 200);
  }
}

static const char * const partner_slow_args[] = { "--request-timeout", "1", NULL };

static void
test_partner_slow_clients (Partner       *p,
                           gconstpointer  data)
{
  GSocketConnection *held[64];
  g_autoptr(GSocketConnection) extra = NULL;
  g_autofree char *refused = NULL;
  g_autofree char *headers = NULL;
  g_autoptr(LkTestReply) other = NULL;
  g_autoptr(LkTestReply) late = NULL;

  /* 64 connections per address; the next is closed, another address served. */
  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    held[i] = lk_test_raw_connect (p->partner->port, "127.0.0.1");
  extra = lk_test_raw_connect (p->partner->port, "127.0.0.1");
  refused = lk_test_raw_read_all (extra, 5);
  g_assert_cmpstr (refused, ==, "");
  other = raw_get (p->partner, "127.0.0.2", "/healthz");
  g_assert_cmpuint (other->status, ==, 200);
  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    g_object_unref (held[i]);

  /* Headers sent a line at a time are cut at the deadline (from another
   * address: the partner may not have seen the 64 close yet). */
  headers = drip (p->partner->port, "127.0.0.3", "GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: y\r\n");
  late = lk_test_raw_parse (headers);
  assert_json_error (late, 408, "request_timeout");
}

static void
test_partner_errors_json (Partner       *p,
                          gconstpointer  data)
{
  check_raw_errors (p->partner);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define RELAY(path, func, args) \
  g_test_add ("/abuse/relay/" path, Fixture, args, fixture_set_up, func, fixture_tear_down)
#define PARTNER(path, func, args) \
  g_test_add ("/abuse/partner/" path, Partner, args, partner_set_up, func, partner_tear_down)
  RELAY ("ipv6-prefix", test_ipv6_prefix, ipv6_args);
  RELAY ("count-survives-restart", test_count_survives_restart, restart_args);
  RELAY ("global-bytes", test_global_bound, bound_args);
  RELAY ("global-count", test_global_count, count_bound_args);
  RELAY ("rate-no-shared-bucket", test_rate_no_shared_bucket, forgetful_args);
  RELAY ("sigterm-under-writes", test_sigterm_under_writes, sigterm_args);
  RELAY ("connections-per-client", test_connections_per_client, connections_args);
  RELAY ("request-deadline", test_request_deadline, deadline_args);
  RELAY ("waiters-per-client", test_waiters_per_client, waiters_args);
  RELAY ("shared-address", test_shared_address, shared_address_args);
  RELAY ("body-memory", test_body_memory, body_memory_args);
  g_test_add_func ("/abuse/relay/check-config-memory", test_check_config_memory);
  RELAY ("attestation", test_attestation, NULL);
  RELAY ("errors-json", test_server_errors_json, NULL);
  g_test_add_func ("/abuse/relay/disk-full", test_disk_full);
  RELAY ("waiting-read-expiry", test_waiting_read_expiry, short_life_args);
  g_test_add_func ("/abuse/relay/fd-limit", test_fd_limit);
  RELAY ("quiet-log", test_quiet_log, NULL);
  PARTNER ("challenge-flood", test_challenge_flood, flood_args);
  PARTNER ("challenge-shares", test_challenge_shares, share_args);
  PARTNER ("rate", test_partner_rate, partner_rate_args);
  PARTNER ("slow-clients", test_partner_slow_clients, partner_slow_args);
  PARTNER ("errors-json", test_partner_errors_json, NULL);
#undef RELAY
#undef PARTNER

  return g_test_run ();
}
