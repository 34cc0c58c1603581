/* lk-http.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Network errors, 5xx and 429 are retried with exponential backoff, and a
 * Retry-After is honoured. A request is sent identically each time, headers
 * included, so a Mailbox-Request-ID set by the caller makes the retries of a
 * write idempotent at the relay.
 */

#define G_LOG_DOMAIN "lk-http"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-http.h"

#define DEFAULT_ATTEMPTS      5
#define DEFAULT_BASE_DELAY_MS 200
#define MAX_DELAY_MS          (30 * 1000)
/* Beyond a waiting read's own wait, how long the server may take to answer. */
#define REQUEST_TIMEOUT_S     20

struct _LkHttp
{
  GObject      parent_instance;

  SoupSession *session;
  guint        max_attempts;
  guint        base_delay_ms;
};

G_DEFINE_FINAL_TYPE (LkHttp, lk_http, G_TYPE_OBJECT)

void
lk_http_response_free (LkHttpResponse *response)
{
  if (response == NULL)
    return;

  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_free (response);
}

static void
lk_http_finalize (GObject *object)
{
  LkHttp *self = (LkHttp *) object;

  g_clear_object (&self->session);

  G_OBJECT_CLASS (lk_http_parent_class)->finalize (object);
}

static void
lk_http_class_init (LkHttpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_http_finalize;
}

static void
lk_http_init (LkHttp *self)
{
  /* Timeouts are per request (see send_once), so the session has none. */
  self->session = soup_session_new_with_options ("user-agent", "Latchkey/" PACKAGE_VERSION,
                                                 "timeout", 0,
                                                 "idle-timeout", 60,
                                                 NULL);
  self->max_attempts = DEFAULT_ATTEMPTS;
  self->base_delay_ms = DEFAULT_BASE_DELAY_MS;
}

LkHttp *
lk_http_new (void)
{
  return g_object_new (LK_TYPE_HTTP, NULL);
}

/**
 * lk_http_set_ca_file:
 * @path: PEM certificates to trust instead of the system's, for a
 *   self-hosted relay or partner
 *
 * Verification stays on: only the set of trusted authorities changes.
 */
gboolean
lk_http_set_ca_file (LkHttp      *self,
                     const char  *path,
                     GError     **error)
{
  g_autoptr(GTlsDatabase) database = g_tls_file_database_new (path, error);

  if (database == NULL)
    return FALSE;

  soup_session_set_tls_database (self->session, database);
  return TRUE;
}

/**
 * lk_http_set_retry_policy:
 * @max_attempts: sends per request, at least 1
 * @base_delay_ms: the first backoff; each retry doubles it
 */
void
lk_http_set_retry_policy (LkHttp *self,
                          guint   max_attempts,
                          guint   base_delay_ms)
{
  self->max_attempts = MAX (max_attempts, 1);
  self->base_delay_ms = base_delay_ms;
}

typedef struct
{
  char          *method;
  char          *url;
  GStrv          headers;
  GBytes        *body;
  guint          wait_seconds;
  guint          attempt;
  GSource       *delay;
  GSource       *delay_cancel;
  GSource       *timeout;
  GCancellable  *request_cancellable;   /* ours, cancelled by the timeout */
  GCancellable  *caller_cancellable;
  gulong         cancelled_id;
  gboolean       timed_out;
} Request;

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
request_free (Request *req)
{
  if (req->caller_cancellable != NULL)
    {
      g_cancellable_disconnect (req->caller_cancellable, req->cancelled_id);
      g_clear_object (&req->caller_cancellable);
    }
  g_free (req->method);
  g_free (req->url);
  g_strfreev (req->headers);
  g_clear_pointer (&req->body, g_bytes_unref);
  destroy_source (&req->delay);
  destroy_source (&req->delay_cancel);
  destroy_source (&req->timeout);
  g_clear_object (&req->request_cancellable);
  g_free (req);
}

static void send_once (GTask *task);

static gboolean
is_transient (GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
         g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE) ||
         g_error_matches (error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_PARSING) ||
         g_error_matches (error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_ENCODING);
}

/* The delay ended, or the caller cancelled during it: send_once() tells. */
static gboolean
on_delay_done (gpointer user_data)
{
  GTask *task = user_data;
  Request *req = g_task_get_task_data (task);

  destroy_source (&req->delay);
  destroy_source (&req->delay_cancel);
  send_once (task);
  return G_SOURCE_REMOVE;
}

static gboolean
on_delay_cancelled (GCancellable *cancellable,
                    gpointer      user_data)
{
  return on_delay_done (user_data);
}

/* Waits before the next attempt, unless the caller cancels first. */
static void
retry_later (GTask *task,
             guint  delay_ms)
{
  Request *req = g_task_get_task_data (task);

  g_debug ("Retrying %s in %u ms (attempt %u)", req->method, delay_ms, req->attempt + 1);
  req->delay = g_timeout_source_new (delay_ms);
  g_source_set_callback (req->delay, on_delay_done, task, NULL);
  g_source_attach (req->delay, g_task_get_context (task));

  if (g_task_get_cancellable (task) != NULL)
    {
      req->delay_cancel = g_cancellable_source_new (g_task_get_cancellable (task));
      g_source_set_callback (req->delay_cancel, G_SOURCE_FUNC (on_delay_cancelled), task, NULL);
      g_source_attach (req->delay_cancel, g_task_get_context (task));
    }
}

static guint
backoff_ms (LkHttp  *self,
            Request *req)
{
  guint64 delay = (guint64) self->base_delay_ms << MIN (req->attempt - 1, 16);

  return (guint) MIN (delay, MAX_DELAY_MS);
}

static guint
retry_after_ms (SoupMessage *msg,
                guint        fallback)
{
  const char *value = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After");
  guint64 seconds;

  if (value != NULL && g_ascii_string_to_unsigned (value, 10, 0, 3600, &seconds, NULL))
    return (guint) MIN (seconds * 1000, MAX_DELAY_MS);
  return fallback;
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LkHttp *self = g_task_get_source_object (task);
  Request *req = g_task_get_task_data (task);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  LkHttpResponse *response;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  destroy_source (&req->timeout);

  if (g_task_return_error_if_cancelled (task))
    return;

  if (body == NULL)
    {
      if (req->timed_out)
        {
          g_clear_error (&error);
          error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, _("The server did not answer in time"));
        }

      if (is_transient (error) && req->attempt < self->max_attempts)
        {
          retry_later (g_steal_pointer (&task), backoff_ms (self, req));
          return;
        }

      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  status = soup_message_get_status (msg);
  if ((SOUP_STATUS_IS_SERVER_ERROR (status) || status == 429) &&
      req->attempt < self->max_attempts)
    {
      retry_later (g_steal_pointer (&task), retry_after_ms (msg, backoff_ms (self, req)));
      return;
    }

  response = g_new0 (LkHttpResponse, 1);
  response->status = status;
  response->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  response->body = g_steal_pointer (&body);
  response->attempts = req->attempt;
  g_task_return_pointer (task, response, (GDestroyNotify) lk_http_response_free);
}

static gboolean
on_timeout (gpointer user_data)
{
  Request *req = user_data;

  req->timed_out = TRUE;
  g_cancellable_cancel (req->request_cancellable);
  g_clear_pointer (&req->timeout, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
send_once (GTask *task)
{
  LkHttp *self = g_task_get_source_object (task);
  Request *req = g_task_get_task_data (task);
  g_autoptr(SoupMessage) msg = NULL;
  SoupMessageHeaders *headers;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  req->attempt++;
  req->timed_out = FALSE;

  msg = soup_message_new (req->method, req->url);
  if (msg == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("The address is not a valid URL"));
      g_object_unref (task);
      return;
    }

  headers = soup_message_get_request_headers (msg);
  soup_message_headers_replace (headers, "Accept", "application/json");
  for (guint i = 0; req->headers != NULL && req->headers[i] != NULL && req->headers[i + 1] != NULL; i += 2)
    soup_message_headers_replace (headers, req->headers[i], req->headers[i + 1]);
  if (req->body != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/json", req->body);

  /* Each attempt has its own deadline; the caller's cancellable still rules. */
  g_clear_object (&req->request_cancellable);
  req->request_cancellable = g_cancellable_new ();
  req->timeout = g_timeout_source_new_seconds (req->wait_seconds + REQUEST_TIMEOUT_S);
  g_source_set_callback (req->timeout, on_timeout, req, NULL);
  g_source_attach (req->timeout, g_task_get_context (task));

  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, req->request_cancellable,
                                    on_sent, task);
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  Request *req = user_data;

  /* Runs in the cancelling thread; GCancellable is thread-safe. */
  if (req->request_cancellable != NULL)
    g_cancellable_cancel (req->request_cancellable);
}

static void
request_data_free (gpointer data)
{
  request_free (data);
}

/**
 * lk_http_request_async:
 * @headers: (nullable): name, value pairs, %NULL-terminated
 * @json_body: (nullable): sent as application/json
 * @wait_seconds: how long the server may hold the request on purpose (a
 *   waiting read), added to the usual deadline
 *
 * Sends the request, retrying as described above. The response is returned
 * whatever its status; only transport failures are errors.
 */
void
lk_http_request_async (LkHttp              *self,
                       const char          *method,
                       const char          *url,
                       const char * const  *headers,
                       GBytes              *json_body,
                       guint                wait_seconds,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task;
  Request *req;

  g_return_if_fail (LK_IS_HTTP (self));
  g_return_if_fail (method != NULL && url != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lk_http_request_async);

  req = g_new0 (Request, 1);
  req->method = g_strdup (method);
  req->url = g_strdup (url);
  req->headers = g_strdupv ((char **) headers);
  req->body = json_body ? g_bytes_ref (json_body) : NULL;
  req->wait_seconds = wait_seconds;
  g_task_set_task_data (task, req, request_data_free);

  if (cancellable != NULL)
    {
      req->caller_cancellable = g_object_ref (cancellable);
      req->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled), req, NULL);
    }

  send_once (task);
}

LkHttpResponse *
lk_http_request_finish (LkHttp        *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
