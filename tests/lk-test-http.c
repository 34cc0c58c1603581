/* lk-test-http.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-test-http"

#include "config.h"

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
