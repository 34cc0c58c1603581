/* lk-test-http.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-test-http"

#include "config.h"

#include <string.h>

#include "lk-json.h"
#include "lk-test-http.h"

/**
 * lk_test_send:
 * @content_type: (nullable): with @body
 * @body: (nullable): the request body
 * @...: extra headers as name, value pairs, then %NULL
 *
 * Sends a request and waits for the answer; a transport error fails the test.
 */
LkTestReply *
lk_test_send (SoupSession  *session,
              const char   *method,
              const char   *url,
              const char   *content_type,
              const char   *body,
              ...)
{
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GError) error = NULL;
  LkTestReply *reply = g_new0 (LkTestReply, 1);
  const char *name;
  va_list args;

  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, content_type, bytes);
    }

  va_start (args, body);
  while ((name = va_arg (args, const char *)) != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), name, va_arg (args, const char *));
  va_end (args);

  response = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);

  reply->status = soup_message_get_status (msg);
  reply->body = g_strndup (g_bytes_get_data (response, NULL), g_bytes_get_size (response));
  reply->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  return reply;
}

/* The body as a JSON object; anything else fails the test. */
JsonObject *
lk_test_reply_json (LkTestReply *reply)
{
  g_autoptr(GError) error = NULL;
  JsonObject *object = lk_json_parse_object (reply->body, strlen (reply->body), G_MAXSIZE,
                                             G_IO_ERROR, G_IO_ERROR_FAILED, &error);

  g_assert_no_error (error);
  return object;
}

void
lk_test_assert_status (LkTestReply *reply,
                       guint        status)
{
  if (reply->status != status)
    g_test_message ("expected %u, got %u: %s", status, reply->status, reply->body);
  g_assert_cmpuint (reply->status, ==, status);
}

void
lk_test_reply_free (LkTestReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->body);
  g_clear_pointer (&reply->headers, soup_message_headers_unref);
  g_free (reply);
}

/* Raw sockets, for what an HTTP client library will not send, and for
 * requests from another loopback address (127.0.0.2 is another client). */

/**
 * lk_test_raw_connect:
 * @source: (nullable): the local address to connect from
 */
GSocketConnection *
lk_test_raw_connect (guint       port,
                     const char *source)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  if (source != NULL)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (source);
      g_autoptr(GSocketAddress) local = g_inet_socket_address_new (address, 0);

      g_socket_client_set_local_address (client, local);
    }
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

/**
 * lk_test_raw_read_all:
 *
 * Returns: what arrives until the server closes, or until nothing arrived
 *   for @timeout_seconds (then what came, with " <timeout>" appended)
 */
char *
lk_test_raw_read_all (GSocketConnection *connection,
                      guint              timeout_seconds)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  GString *out = g_string_new (NULL);
  char buffer[16384];

  g_socket_set_timeout (socket, timeout_seconds);
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

      if (n > 0)
        {
          g_string_append_len (out, buffer, n);
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        g_string_append (out, " <timeout>");
      break;
    }
  return g_string_free (out, FALSE);
}

/**
 * lk_test_raw_parse:
 *
 * Returns: the first answer in @response; a status of 0 if there is none
 */
LkTestReply *
lk_test_raw_parse (const char *response)
{
  LkTestReply *reply = g_new0 (LkTestReply, 1);
  const char *end = strstr (response, "\r\n\r\n");

  reply->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  if (end == NULL ||
      !soup_headers_parse_response (response, end + 4 - response, reply->headers, NULL, &reply->status, NULL))
    {
      reply->status = 0;
      reply->body = g_strdup (response);
      return reply;
    }
  reply->body = g_strdup (end + 4);
  return reply;
}

/**
 * lk_test_raw_exchange:
 * @source: (nullable): the local address to connect from
 *
 * Sends @request as it is on a new connection, and reads until the server
 * closes it (or 5 s pass without a byte).
 */
LkTestReply *
lk_test_raw_exchange (guint       port,
                      const char *source,
                      const char *request,
                      gsize       length)
{
  g_autoptr(GSocketConnection) connection = lk_test_raw_connect (port, source);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr(GError) error = NULL;
  g_autofree char *response = NULL;

  g_output_stream_write_all (out, request, length, NULL, NULL, &error);
  g_assert_no_error (error);
  response = lk_test_raw_read_all (connection, 5);
  return lk_test_raw_parse (response);
}
