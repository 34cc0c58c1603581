/* test-client.c: the HTTP plumbing under the mailbox and partner clients
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A SoupServer in the test (loopback, test-only) plays a relay that fails
 * on purpose, to see the retries, the backoff, Retry-After, TLS trust and
 * cancellation from the client's side.
 */

#define G_LOG_DOMAIN "test-client"

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "latchkey-core.h"
#include "lk-test-async.h"

typedef struct
{
  SoupServer *server;
  char       *url;
  guint       failures;       /* answer 503 this many times first */
  guint       status;         /* …with this status (503 or 429) */
  const char *retry_after;
  GPtrArray  *request_ids;    /* Mailbox-Request-ID of every request seen */
  GPtrArray  *paths;          /* and their paths with query and fragment */
} Server;

static void
handle (SoupServer        *server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  Server *s = user_data;
  const char *rid = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Mailbox-Request-ID");
  g_autofree char *uri = g_uri_to_string (soup_server_message_get_uri (msg));

  g_ptr_array_add (s->request_ids, g_strdup (rid ? rid : ""));
  g_ptr_array_add (s->paths, g_steal_pointer (&uri));

  if (s->failures > 0)
    {
      s->failures--;
      soup_server_message_set_status (msg, s->status, NULL);
      if (s->retry_after != NULL)
        soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", s->retry_after);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                        "{\"error\":\"unavailable\",\"message\":\"x\"}", 37);
      return;
    }

  soup_server_message_set_status (msg, 200, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "ETag", "\"7\"");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    "{\"isPushNotificationSupported\":true}", 36);
}

static Server *
server_new (GTlsCertificate *certificate)
{
  Server *s = g_new0 (Server, 1);
  g_autoptr(GError) error = NULL;
  GSList *uris;

  s->server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_handler (s->server, NULL, handle, s, NULL);
  soup_server_listen_local (s->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY |
                            (certificate ? SOUP_SERVER_LISTEN_HTTPS : 0), &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (s->server);
  {
    g_autofree char *text = g_uri_to_string (uris->data);
    s->url = g_strndup (text, strlen (text) - 1);
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  s->status = 503;
  s->request_ids = g_ptr_array_new_with_free_func (g_free);
  s->paths = g_ptr_array_new_with_free_func (g_free);
  return s;
}

static void
server_free (Server *s)
{
  soup_server_disconnect (s->server);
  g_object_unref (s->server);
  g_ptr_array_unref (s->request_ids);
  g_ptr_array_unref (s->paths);
  g_free (s->url);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_free)

static JsonObject *
payload_new (void)
{
  JsonObject *payload = json_object_new ();

  json_object_set_string_member (payload, "type", "AEAD_AES_256_GCM");
  json_object_set_string_member (payload, "data", "oKGio6SlpqeoqaqrnToaQjemY8tAX6W3bh2pqhHALnH+2ycYsmlD6BrZ");
  return payload;
}

static LkMailboxReply *
update (LkMailboxClient  *client,
        const char       *url,
        const char       *request_id,
        GCancellable     *cancellable,
        GError          **error)
{
  g_autoptr(JsonObject) payload = payload_new ();
  g_autoptr(GAsyncResult) result = NULL;

  lk_mailbox_client_update_async (client, url, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", payload, 3,
                                  request_id, cancellable, lk_test_on_done, &result);
  return lk_mailbox_client_finish (client, lk_test_wait_for (&result), error);
}

static void
test_retries_keep_request_id (void)
{
  g_autoptr(Server) s = server_new (NULL);
  g_autoptr(LkHttp) http = lk_http_new ();
  g_autoptr(LkMailboxClient) client = lk_mailbox_client_new (http);
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (s->url, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e", NULL);
  gint64 started = g_get_monotonic_time ();

  lk_http_set_retry_policy (http, 5, 50);
  s->failures = 2;
  reply = update (client, url, "c0000000-0000-4000-8000-000000000001", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (reply->version, ==, 7);

  /* Three sends, the same request id each time, after 50 then 100 ms. */
  g_assert_cmpuint (s->request_ids->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (g_ptr_array_index (s->request_ids, i), ==, "c0000000-0000-4000-8000-000000000001");
  g_assert_cmpint (g_get_monotonic_time () - started, >=, 150 * 1000);
}

static void
test_retry_after (void)
{
  g_autoptr(Server) s = server_new (NULL);
  g_autoptr(LkHttp) http = lk_http_new ();
  g_autoptr(LkMailboxClient) client = lk_mailbox_client_new (http);
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (s->url, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e", NULL);
  gint64 started = g_get_monotonic_time ();

  /* 429 with Retry-After: 1 waits a second, not the 10 ms backoff. */
  lk_http_set_retry_policy (http, 3, 10);
  s->failures = 1;
  s->status = 429;
  s->retry_after = "1";
  reply = update (client, url, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - started, >=, G_USEC_PER_SEC);
}

static void
test_gives_up (void)
{
  g_autoptr(Server) s = server_new (NULL);
  g_autoptr(LkHttp) http = lk_http_new ();
  g_autoptr(LkMailboxClient) client = lk_mailbox_client_new (http);
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (s->url, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e", NULL);
  g_autofree char *closed = NULL;

  lk_http_set_retry_policy (http, 3, 10);
  s->failures = 100;
  reply = update (client, url, NULL, NULL, &error);
  g_assert_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_UNAVAILABLE);
  g_assert_cmpuint (s->request_ids->len, ==, 3);
  g_clear_error (&error);

  /* Nobody listening: retried, then a clear error. */
  closed = g_strdup_printf ("http://127.0.0.1:%u/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e", 1);
  reply = update (client, closed, NULL, NULL, &error);
  g_assert_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "Could not reach the relay"));
}

static gboolean
cancel_soon (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel_during_backoff (void)
{
  g_autoptr(Server) s = server_new (NULL);
  g_autoptr(LkHttp) http = lk_http_new ();
  g_autoptr(LkMailboxClient) client = lk_mailbox_client_new (http);
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (s->url, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e", NULL);
  gint64 started = g_get_monotonic_time ();

  /* A 30 s backoff, cancelled after 100 ms: the answer comes at once. */
  lk_http_set_retry_policy (http, 3, 30 * 1000);
  s->failures = 100;
  g_timeout_add (100, cancel_soon, cancellable);
  reply = update (client, url, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 10 * G_USEC_PER_SEC);
}

/* A server in a thread of its own that never answers: every request is
 * in flight until its caller cancels it. */
typedef struct
{
  GMainContext *context;
  GMainLoop    *loop;
  GAsyncQueue  *url;
  GThread      *thread;
} SilentServer;

static void
hold (SoupServer        *server,
      SoupServerMessage *msg,
      const char        *path,
      GHashTable        *query,
      gpointer           user_data)
{
  soup_server_message_pause (msg);
}

static gpointer
silent_server_run (gpointer data)
{
  SilentServer *s = data;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (s->context);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, hold, s, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_async_queue_push (s->url, g_uri_to_string (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_loop_run (s->loop);
  soup_server_disconnect (server);
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

/* The cancellables lk-http makes for itself (one per attempt, which soup's
 * sockets hold) must be cancelled in the request's own thread, whatever
 * thread the caller cancels from: GLib 2.74 leaks a GCancellableSource
 * cancelled in one thread while it is disposed in another. Watched with
 * an emission hook on every cancellable's "cancelled". */
typedef struct
{
  GHashTable   *callers;        /* the test's own cancellables (read only) */
  GThread      *requester;
  gint          inner;          /* lk-http's own, cancelled */
  gint          inner_elsewhere;/* …in another thread than the request's */
} CancelWatch;

static gboolean
on_any_cancelled (GSignalInvocationHint *hint,
                  guint                  n_params,
                  const GValue          *params,
                  gpointer               user_data)
{
  CancelWatch *watch = user_data;
  GObject *cancellable = g_value_get_object (&params[0]);

  if (!g_hash_table_contains (watch->callers, cancellable))
    {
      g_atomic_int_inc (&watch->inner);
      if (g_thread_self () != watch->requester)
        g_atomic_int_inc (&watch->inner_elsewhere);
    }
  return TRUE;
}

#define CROSS_THREAD_REQUESTS 200

typedef struct
{
  const char    *url;
  GCancellable **cancellables;
  GAsyncQueue   *started;      /* the index of each request sent */
  guint          cancelled;    /* answers that were "cancelled" */
} Requester;

static gpointer
requester_run (gpointer data)
{
  Requester *r = data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(LkHttp) http = NULL;

  g_main_context_push_thread_default (context);
  http = lk_http_new ();
  for (guint i = 0; i < CROSS_THREAD_REQUESTS; i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(LkHttpResponse) response = NULL;
      g_autoptr(GError) error = NULL;

      lk_http_request_async (http, "GET", r->url, NULL, NULL, 0, r->cancellables[i], lk_test_on_done, &result);
      g_async_queue_push (r->started, GUINT_TO_POINTER (i + 1));
      while (result == NULL)
        g_main_context_iteration (context, TRUE);
      response = lk_http_request_finish (http, result, &error);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        r->cancelled++;
    }
  g_clear_object (&http);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
test_cancel_from_another_thread (void)
{
  SilentServer server = { 0 };
  Requester requester = { 0 };
  CancelWatch watch = { 0 };
  g_autofree char *url = NULL;
  g_autoptr(GRand) rand = g_rand_new ();
  GCancellable *cancellables[CROSS_THREAD_REQUESTS];
  guint hook;

  server.context = g_main_context_new ();
  server.loop = g_main_loop_new (server.context, FALSE);
  server.url = g_async_queue_new ();
  server.thread = g_thread_new ("silent-server", silent_server_run, &server);
  url = g_async_queue_pop (server.url);

  watch.callers = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < CROSS_THREAD_REQUESTS; i++)
    {
      cancellables[i] = g_cancellable_new ();
      g_hash_table_add (watch.callers, cancellables[i]);
    }
  hook = g_signal_add_emission_hook (g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE), 0,
                                     on_any_cancelled, &watch, NULL);

  requester.url = url;
  requester.cancellables = cancellables;
  requester.started = g_async_queue_new ();
  watch.requester = g_thread_new ("requester", requester_run, &requester);

  /* Each request cancelled from here as soon as it is sent, or a little
   * later (up to 2 ms), so that the cancel meets it at every stage. */
  for (guint i = 0; i < CROSS_THREAD_REQUESTS; i++)
    {
      guint started = GPOINTER_TO_UINT (g_async_queue_pop (requester.started));

      g_assert_cmpuint (started, ==, i + 1);
      g_usleep (g_rand_int_range (rand, 0, 2000));
      g_cancellable_cancel (cancellables[i]);
    }
  g_thread_join (watch.requester);
  g_signal_remove_emission_hook (g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE), hook);

  /* Every request ended cancelled (the server never answers), and every
   * cancel of lk-http's own happened in the requester's thread. */
  g_assert_cmpuint (requester.cancelled, ==, CROSS_THREAD_REQUESTS);
  g_assert_cmpint (watch.inner, >, 0);
  g_assert_cmpint (watch.inner_elsewhere, ==, 0);

  for (guint i = 0; i < CROSS_THREAD_REQUESTS; i++)
    g_object_unref (cancellables[i]);
  g_hash_table_unref (watch.callers);
  g_async_queue_unref (requester.started);
  g_main_loop_quit (server.loop);
  g_thread_join (server.thread);
  g_main_loop_unref (server.loop);
  g_main_context_unref (server.context);
  g_async_queue_unref (server.url);
}

static void
test_never_sends_fragment (void)
{
  g_autoptr(Server) s = server_new (NULL);
  g_autoptr(LkHttp) http = lk_http_new ();
  g_autoptr(LkMailboxClient) client = lk_mailbox_client_new (http);
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *link = g_strconcat (s->url, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e?v=c#"
                                       "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", NULL);
  g_autoptr(LkShareLink) parsed = lk_share_link_parse (link, NULL);
  g_autofree char *mailbox = lk_share_link_get_mailbox_url (parsed);

  /* A URL with a fragment is refused before anything is sent… */
  reply = update (client, link, NULL, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (s->paths->len, ==, 0);
  g_clear_error (&error);

  /* …and what the link gives the client has neither secret nor vertical. */
  reply = update (client, mailbox, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s->paths->len, ==, 1);
  g_assert_null (strchr (g_ptr_array_index (s->paths, 0), '#'));
  g_assert_null (strstr (g_ptr_array_index (s->paths, 0), "AAECAwQF"));
}

static void
test_tls_trust (void)
{
  const char *cert_path = g_getenv ("LATCHKEY_TEST_CERT");
  const char *key_path = g_getenv ("LATCHKEY_TEST_KEY");
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(Server) s = NULL;
  g_autoptr(LkHttp) http = lk_http_new ();
  g_autoptr(LkMailboxClient) client = lk_mailbox_client_new (http);
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  s = server_new (certificate);
  url = g_strconcat (s->url, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e", NULL);
  g_assert_true (g_str_has_prefix (url, "https://"));

  /* Verification is on: a self-signed relay is refused… */
  lk_http_set_retry_policy (http, 1, 10);
  reply = update (client, url, NULL, NULL, &error);
  g_assert_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "certificate"));
  g_clear_error (&error);

  /* …until its CA file is trusted. */
  g_assert_true (lk_http_set_ca_file (http, cert_path, &error));
  reply = update (client, url, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* A hostile server, by hand on a socket: an answer that is a gzip bomb
 * (200 MB of spaces in ~200 KB, sent whether or not the client asked for
 * gzip), or an answer that never ends. */

#define BOMB_MB 200

typedef enum
{
  HOSTILE_GZIP_BOMB,
  HOSTILE_ENDLESS,
} HostileKind;

typedef struct
{
  HostileKind       kind;
  GSocketListener  *listener;
  GCancellable     *stop;
  GThread          *thread;
  char             *url;
  gboolean          asked_for_gzip;
  guint             connections;
} Hostile;

static void
hostile_serve (Hostile           *h,
               GSocketConnection *connection)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr(GString) request = g_string_new (NULL);
  g_autofree char *chunk = g_malloc (1024 * 1024);
  const char *headers;
  char c;

  /* The request's head; our clients send these requests without a body. */
  while (!g_str_has_suffix (request->str, "\r\n\r\n") && request->len < 16384 &&
         g_input_stream_read (in, &c, 1, h->stop, NULL) == 1)
    g_string_append_c (request, c);
  {
    g_autofree char *lower = g_ascii_strdown (request->str, -1);
    g_autofree char *line = NULL;
    char *accept = strstr (lower, "\r\naccept-encoding:");

    if (accept != NULL)
      {
        line = g_strndup (accept, strcspn (accept + 2, "\r") + 2);
        h->asked_for_gzip = strstr (line, "gzip") != NULL;
      }
  }

  headers = h->kind == HOSTILE_GZIP_BOMB
            ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
  if (!g_output_stream_write_all (out, headers, strlen (headers), NULL, h->stop, NULL))
    return;

  memset (chunk, ' ', 1024 * 1024);
  if (h->kind == HOSTILE_GZIP_BOMB)
    {
      g_autoptr(GZlibCompressor) compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
      g_autoptr(GOutputStream) gzip = g_converter_output_stream_new (out, G_CONVERTER (compressor));

      g_filter_output_stream_set_close_base_stream (G_FILTER_OUTPUT_STREAM (gzip), FALSE);
      for (guint i = 0; i < BOMB_MB; i++)
        if (!g_output_stream_write_all (gzip, chunk, 1024 * 1024, NULL, h->stop, NULL))
          return;
      g_output_stream_close (gzip, h->stop, NULL);
    }
  else
    {
      /* Until the client hangs up (at most as much as the bomb holds). */
      for (guint i = 0; i < BOMB_MB; i++)
        if (!g_output_stream_write_all (out, chunk, 1024 * 1024, NULL, h->stop, NULL))
          return;
    }
}

static gpointer
hostile_thread (gpointer data)
{
  Hostile *h = data;

  for (;;)
    {
      g_autoptr(GSocketConnection) connection = g_socket_listener_accept (h->listener, NULL, h->stop, NULL);

      if (connection == NULL)
        return NULL;
      h->connections++;
      hostile_serve (h, connection);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    }
}

static Hostile *
hostile_new (HostileKind kind)
{
  Hostile *h = g_new0 (Hostile, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  h->kind = kind;
  h->listener = g_socket_listener_new ();
  h->stop = g_cancellable_new ();
  g_socket_listener_add_address (h->listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &bound, &error);
  g_assert_no_error (error);
  h->url = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  h->thread = g_thread_new ("hostile", hostile_thread, h);
  return h;
}

static void
hostile_free (Hostile *h)
{
  g_cancellable_cancel (h->stop);
  g_thread_join (h->thread);
  g_socket_listener_close (h->listener);
  g_object_unref (h->listener);
  g_object_unref (h->stop);
  g_free (h->url);
  g_free (h);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Hostile, hostile_free)

/* Resets the peak resident size, so that the next reading is this test's. */
static void
reset_peak_memory (void)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents_full ("/proc/self/clear_refs", "5", 1, G_FILE_SET_CONTENTS_NONE, 0, &error);
  g_assert_no_error (error);
}

/* The growth of the peak resident size since reset_peak_memory(), in MiB. */
static guint
peak_growth_mib (guint64 start_kib)
{
  g_autofree char *status = NULL;
  const char *line;
  guint64 peak;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "\nVmHWM:");
  g_assert_nonnull (line);
  peak = g_ascii_strtoull (line + strlen ("\nVmHWM:"), NULL, 10);
  return peak > start_kib ? (guint) ((peak - start_kib) / 1024) : 0;
}

static guint64
resident_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "\nVmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
}

static LkMailboxReply *
read_mailbox (LkMailboxClient  *client,
              const char       *url,
              GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lk_mailbox_client_read_async (client, url, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", -1, 0, NULL,
                                lk_test_on_done, &result);
  return lk_mailbox_client_finish (client, lk_test_wait_for (&result), error);
}

static void
test_hostile_answer (gconstpointer data)
{
  HostileKind kind = GPOINTER_TO_INT (data);
  g_autoptr(Hostile) h = hostile_new (kind);
  g_autoptr(LkHttp) http = lk_http_new ();
  g_autoptr(LkMailboxClient) client = lk_mailbox_client_new (http);
  g_autoptr(LkPartnerClient) partner = lk_partner_client_new (http);
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (h->url, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e", NULL);
  guint64 start;

  lk_http_set_retry_policy (http, 1, 10);
  reset_peak_memory ();
  start = resident_kib ();

  /* The relay's read (a preview reads the same way)… */
  reply = read_mailbox (client, url, &error);
  g_assert_null (reply);
  g_assert_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_PROTOCOL);
  g_test_message ("relay: %s", error->message);
  g_clear_error (&error);

  /* …and the partner's answers. */
  {
    g_autoptr(GAsyncResult) result = NULL;

    lk_partner_client_enroll_async (partner, h->url, LK_VERTICAL_HOME, NULL, NULL, lk_test_on_done, &result);
    credential = lk_partner_client_enroll_finish (partner, lk_test_wait_for (&result), &error);
    g_assert_null (credential);
    g_assert_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_PROTOCOL);
    g_test_message ("partner: %s", error->message);
  }

  /* Memory stayed bounded: nothing near the bomb's 200 MB was held. */
  g_test_message ("peak resident growth: %u MiB", peak_growth_mib (start));
  g_assert_cmpuint (peak_growth_mib (start), <, 32);

  /* We never asked for a coding. */
  g_assert_false (h->asked_for_gzip);
  g_assert_cmpuint (h->connections, >=, 2);
}

/* Every request the wallet makes is held to one rule, wherever the address
 * came from: https, or http to this machine only. Nothing is sent
 * otherwise (a host on TEST-NET would make a sent request hang). */
static void
test_server_url_policy (void)
{
  static const char * const bad[] = {
    "http://192.0.2.1/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e",
    "http://relay.example/v1/m",
    "https://user@192.0.2.1/v1/m",
    "file:///etc/passwd",
  };
  g_autoptr(LkHttp) http = lk_http_new ();
  g_autoptr(LkPartnerClient) partner = lk_partner_client_new (http);
  g_autoptr(LkTransferEngine) engine = lk_transfer_engine_new ("http://192.0.2.1:8080");
  g_autoptr(LkCredential) credential = lk_credential_new (LK_VERTICAL_GENERIC, "Pass", LK_CREDENTIAL_ROLE_OWNER);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(LkHttpResponse) response = NULL;

      lk_http_request_async (http, "GET", bad[i], NULL, NULL, 0, NULL, lk_test_on_done, &result);
      response = lk_http_request_finish (http, lk_test_wait_for (&result), &error);
      g_assert_null (response);
      g_assert_true (error->domain == LK_LINK_ERROR);
      g_clear_error (&error);
    }

  /* A partner address from anywhere: the keyring, an offer, the command line. */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(LkCredential) enrolled = NULL;

    lk_partner_client_enroll_async (partner, "http://192.0.2.1", LK_VERTICAL_HOME, NULL, NULL, lk_test_on_done, &result);
    enrolled = lk_partner_client_enroll_finish (partner, lk_test_wait_for (&result), &error);
    g_assert_null (enrolled);
    g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SCHEME);
    g_clear_error (&error);
  }

  /* The relay for new shares, from the settings or the environment. */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(LkTransfer) transfer = NULL;

    lk_credential_set_access_token (credential, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    lk_transfer_engine_share_async (engine, credential, NULL, NULL, lk_test_on_done, &result);
    transfer = lk_transfer_engine_transfer_finish (engine, lk_test_wait_for (&result), &error);
    g_assert_null (transfer);
    g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SCHEME);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/retries-keep-request-id", test_retries_keep_request_id);
  g_test_add_func ("/client/retry-after", test_retry_after);
  g_test_add_func ("/client/gives-up", test_gives_up);
  g_test_add_func ("/client/cancel-during-backoff", test_cancel_during_backoff);
  g_test_add_func ("/client/cancel-from-another-thread", test_cancel_from_another_thread);
  g_test_add_func ("/client/never-sends-fragment", test_never_sends_fragment);
  g_test_add_func ("/client/tls-trust", test_tls_trust);
  g_test_add_func ("/client/server-url-policy", test_server_url_policy);
  g_test_add_data_func ("/client/gzip-bomb", GINT_TO_POINTER (HOSTILE_GZIP_BOMB), test_hostile_answer);
  g_test_add_data_func ("/client/endless-answer", GINT_TO_POINTER (HOSTILE_ENDLESS), test_hostile_answer);

  return g_test_run ();
}
