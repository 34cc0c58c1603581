/* lk-http.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Network errors, 5xx and 429 are retried with exponential backoff, and a
 * Retry-After is honoured. A request is sent identically each time, headers
 * included, so a Mailbox-Request-ID set by the caller makes the retries of a
 * write idempotent at the relay.
 *
 * Answers are bounded as they arrive: the body is read into a buffer that
 * stops at the limit, so a server cannot make us hold more than that. No
 * content coding is asked for or accepted (our answers are small JSON), so
 * a gzip bomb is refused before a byte of it is decoded.
 */

#define G_LOG_DOMAIN "lk-http"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>

#include "lk-crypto.h"
#include "lk-http.h"
#include "lk-share-link.h"

#define DEFAULT_ATTEMPTS      5
#define DEFAULT_BASE_DELAY_MS 200
#define MAX_DELAY_MS          (30 * 1000)
/* Beyond a waiting read's own wait, how long the server may take to answer. */
#define REQUEST_TIMEOUT_S     20
#define READ_CHUNK            (16 * 1024)

struct _LkHttp
{
  GObject      parent_instance;

  SoupSession *session;
  guint        max_attempts;
  guint        base_delay_ms;
  gsize        max_body;
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
  /* No Accept-Encoding, and nothing decoded behind our back. */
  soup_session_remove_feature_by_type (self->session, SOUP_TYPE_CONTENT_DECODER);
  self->max_attempts = DEFAULT_ATTEMPTS;
  self->base_delay_ms = DEFAULT_BASE_DELAY_MS;
  self->max_body = LK_HTTP_DEFAULT_MAX_BODY;
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
 * lk_http_set_max_body:
 * @max_body: the largest answer body, in bytes; a larger one fails the
 *   request with %G_IO_ERROR_MESSAGE_TOO_LARGE once that many have arrived
 */
void
lk_http_set_max_body (LkHttp *self,
                      gsize   max_body)
{
  self->max_body = max_body;
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
  GSource       *timeout;
  GCancellable  *request_cancellable;   /* ours, cancelled by the timeout */
  GCancellable  *caller_cancellable;
  gulong         cancelled_id;
  GSource       *cancel_wake;           /* the caller's cancel, in our thread */
  gboolean       timed_out;

  /* The answer being read: wiped, as it may hold a token */
  SoupMessage   *msg;
  GInputStream  *stream;
  guint8        *buffer;
  gsize          length;
  gsize          capacity;
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
clear_answer (Request *req)
{
  g_clear_object (&req->msg);
  g_clear_object (&req->stream);
  if (req->buffer != NULL)
    gnutls_memset (req->buffer, 0, req->capacity);
  g_clear_pointer (&req->buffer, g_free);
  req->length = req->capacity = 0;
}

static void
request_free (Request *req)
{
  clear_answer (req);
  if (req->caller_cancellable != NULL)
    {
      /* Returns only once a handler running in another thread is done,
       * so nothing wakes the source below after this. */
      g_cancellable_disconnect (req->caller_cancellable, req->cancelled_id);
      g_clear_object (&req->caller_cancellable);
    }
  destroy_source (&req->cancel_wake);
  g_free (req->method);
  g_free (req->url);
  g_strfreev (req->headers);
  g_clear_pointer (&req->body, g_bytes_unref);
  destroy_source (&req->delay);
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
  send_once (task);
  return G_SOURCE_REMOVE;
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

/* A failure of the attempt: retried if it may pass, else the answer. */
static void
fail_attempt (GTask  *task,
              GError *error)
{
  LkHttp *self = g_task_get_source_object (task);
  Request *req = g_task_get_task_data (task);

  destroy_source (&req->timeout);
  clear_answer (req);

  if (req->timed_out && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
    {
      g_clear_error (&error);
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, _("The server did not answer in time"));
    }

  if (is_transient (error) && req->attempt < self->max_attempts)
    {
      g_error_free (error);
      retry_later (task, backoff_ms (self, req));
      return;
    }

  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
finish_answer (GTask *task)
{
  Request *req = g_task_get_task_data (task);
  LkHttpResponse *response;

  destroy_source (&req->timeout);

  response = g_new0 (LkHttpResponse, 1);
  response->status = soup_message_get_status (req->msg);
  response->headers = soup_message_headers_ref (soup_message_get_response_headers (req->msg));
  response->body = lk_secure_bytes_new (req->buffer != NULL ? req->buffer : (guint8 *) "", req->length);
  response->attempts = req->attempt;
  clear_answer (req);
  g_task_return_pointer (task, response, (GDestroyNotify) lk_http_response_free);
  g_object_unref (task);
}

/* Grows the buffer by copying, so that no unwiped copy is left behind. */
static void
grow_buffer (Request *req,
             gsize    capacity)
{
  guint8 *bigger = g_malloc (capacity);

  if (req->buffer != NULL)
    {
      memcpy (bigger, req->buffer, req->length);
      gnutls_memset (req->buffer, 0, req->capacity);
      g_free (req->buffer);
    }
  req->buffer = bigger;
  req->capacity = capacity;
}

static void read_more (GTask *task);

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  LkHttp *self = g_task_get_source_object (task);
  Request *req = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (g_task_return_error_if_cancelled (task))
    {
      g_clear_error (&error);
      clear_answer (req);
      g_object_unref (task);
      return;
    }

  if (n < 0)
    {
      fail_attempt (task, error);
      return;
    }

  if (n == 0)
    {
      finish_answer (task);
      return;
    }

  req->length += n;
  if (req->length > self->max_body)
    {
      fail_attempt (task, g_error_new (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                                       _("The server’s answer is larger than %u bytes"), (guint) self->max_body));
      return;
    }

  read_more (task);
}

/* Reads at most one byte past the limit, which is enough to know. */
static void
read_more (GTask *task)
{
  LkHttp *self = g_task_get_source_object (task);
  Request *req = g_task_get_task_data (task);

  if (req->length == req->capacity)
    grow_buffer (req, MIN (MAX (req->capacity * 2, READ_CHUNK), self->max_body + 1));

  g_input_stream_read_async (req->stream, req->buffer + req->length, req->capacity - req->length,
                             G_PRIORITY_DEFAULT, req->request_cancellable, on_read, task);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  LkHttp *self = g_task_get_source_object (task);
  Request *req = g_task_get_task_data (task);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  SoupMessageHeaders *headers;
  GError *error = NULL;
  const char *coding;
  goffset declared;
  guint status;

  req->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  req->msg = g_object_ref (msg);

  if (g_task_return_error_if_cancelled (task))
    {
      g_clear_error (&error);
      destroy_source (&req->timeout);
      clear_answer (req);
      g_object_unref (task);
      return;
    }

  if (req->stream == NULL)
    {
      fail_attempt (task, error);
      return;
    }

  status = soup_message_get_status (msg);
  if ((SOUP_STATUS_IS_SERVER_ERROR (status) || status == 429) &&
      req->attempt < self->max_attempts)
    {
      destroy_source (&req->timeout);
      clear_answer (req);
      retry_later (task, retry_after_ms (msg, backoff_ms (self, req)));
      return;
    }

  /* We asked for no coding: one is a server we cannot trust to be small. */
  headers = soup_message_get_response_headers (msg);
  coding = soup_message_headers_get_list (headers, "Content-Encoding");
  if (coding != NULL && g_ascii_strcasecmp (coding, "identity") != 0)
    {
      fail_attempt (task, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                       _("The server compressed its answer, which Latchkey does not accept")));
      return;
    }

  declared = soup_message_headers_get_content_length (headers);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH && declared > (goffset) self->max_body)
    {
      fail_attempt (task, g_error_new (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                                       _("The server’s answer is larger than %u bytes"), (guint) self->max_body));
      return;
    }
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH && declared > 0)
    grow_buffer (req, (gsize) declared + 1);

  read_more (task);
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

  soup_session_send_async (self->session, msg, G_PRIORITY_DEFAULT, req->request_cancellable, on_sent, task);
}

/* The caller may cancel from any thread, and the app's windows do, while
 * the request runs in a transfer's worker thread. GLib 2.74 leaks a
 * GCancellableSource (soup's socket sources are such) when its
 * cancellable is cancelled in one thread just as the source is disposed
 * in another: the dispose keeps the source alive for a "cancelled"
 * handler that it then disconnects, so nothing ever drops that reference
 * (LeakSanitizer saw 120 bytes now and then in the GUI tests). So the
 * caller's cancel only wakes a source of ours on the task's context, and
 * everything that cancels or ends the request happens in that thread:
 * the cancellable soup holds is never cancelled from elsewhere. */
static gboolean
wake_dispatch (GSource     *source,
               GSourceFunc  callback,
               gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs wake_funcs = {
  .dispatch = wake_dispatch,
};

/* In the task's thread: end the wait before a retry (send_once() returns
 * the cancellation), or cancel the attempt under way. */
static gboolean
on_caller_cancelled_here (gpointer user_data)
{
  GTask *task = user_data;
  Request *req = g_task_get_task_data (task);

  if (req->delay != NULL)
    on_delay_done (task);
  else if (req->request_cancellable != NULL)
    g_cancellable_cancel (req->request_cancellable);
  return G_SOURCE_CONTINUE;
}

/* Runs in the cancelling thread: only wakes the task's thread
 * (g_source_set_ready_time() is thread-safe). */
static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  Request *req = user_data;

  g_source_set_ready_time (req->cancel_wake, 0);
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
 * whatever its status; only transport failures are errors, and a URL that
 * breaks the server rule (https, or http to this machine only) is an
 * #LK_LINK_ERROR without anything sent.
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
      /* Destroyed in request_free(), so never dispatched after the task. */
      req->cancel_wake = g_source_new (&wake_funcs, sizeof (GSource));
      g_source_set_ready_time (req->cancel_wake, -1);
      g_source_set_callback (req->cancel_wake, on_caller_cancelled_here, task, NULL);
      g_source_attach (req->cancel_wake, g_task_get_context (task));
      req->caller_cancellable = g_object_ref (cancellable);
      req->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled), req, NULL);
    }

  /* Every server the wallet talks to, wherever its address came from (a
   * setting, the command line, a link, a received offer, a server's
   * answer), is held to the same rule here. */
  {
    GError *error = NULL;

    if (!lk_share_link_check_request_url (url, &error))
      {
        g_task_return_error (task, error);
        g_object_unref (task);
        return;
      }
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
