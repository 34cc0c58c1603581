/* httpd-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libmicrohttpd runs one epoll thread, and every handler runs there: none
 * may block. A request goes
 *
 *   headers   begin(): the server routes it and refuses what it can; then
 *             the Host, the client's rate, the body's length and type.
 *             A refused request that comes with a body is answered at
 *             once, before its body is read: the connection then closes,
 *             which is what an oversized or abusive upload deserves.
 *   body      copied out as it arrives, never beyond its declared length,
 *             which the guard reserved from the body budget (for a
 *             chunked body, the largest allowed; more is answered 413
 *             once it is in).
 *   answer    dispatch(): queued at once, or the request is suspended and
 *             resume() answers it later (the relay's writes and waits).
 *   end       completed: the guard, the counters, the request freed.
 *
 * A stop turns new requests away (503, and the connection closes), lets
 * the server wake what it holds suspended, waits a moment for answers in
 * flight, then stops the daemon: libmicrohttpd aborts if a connection is
 * still suspended then.
 */

#define G_LOG_DOMAIN "httpd-server"

#include "config.h"

#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <gnutls/gnutls.h>

#include "latchkey-protocol.h"
#include "httpd-errors.h"
#include "httpd-server.h"

#define DEFAULT_TOO_LARGE "The request body is too large"

struct _HttpdServer
{
  HttpdServerConfig    config;
  char                *listen_address;
  char                *tls_certificate;
  char                *tls_key;
  char                *stopping_message;
  const HttpdHandlers *handlers;
  gpointer             owner;

  HttpdLimiter        *limiter;
  HttpdGuard          *guard;
  HttpdLog            *log;
  struct MHD_Daemon   *daemon;
  MHD_socket           listener;
  guint                port;
  gboolean             tls;

  gint                 stopping;
  gint                 suspended;       /* requests suspended, not yet resumed */
  gint                 answering;       /* dispatched, not yet completed */
};

/* Responses */

struct MHD_Response *
httpd_response_new_text (char *text)
{
  return MHD_create_response_from_buffer_with_free_callback (strlen (text), text, g_free);
}

gboolean
httpd_is_json_content_type (const char *value)
{
  gsize len = strlen ("application/json");

  return value != NULL &&
         g_ascii_strncasecmp (value, "application/json", len) == 0 &&
         (value[len] == '\0' || value[len] == ';' || value[len] == ' ');
}

const char *
httpd_request_header (HttpdRequest *req,
                      const char   *name)
{
  return MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, name);
}

/* What every answer has, whichever request it answers: never cached,
 * never sniffed. */
void
httpd_response_add_common_headers (struct MHD_Response *response)
{
  MHD_add_response_header (response, "Cache-Control", "no-store");
  MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
}

/* Every answer: the common headers and the server's own. */
void
httpd_request_add_headers (HttpdRequest        *req,
                           struct MHD_Response *response,
                           guint                status)
{
  httpd_response_add_common_headers (response);
  if (req->server->handlers->decorate != NULL)
    req->server->handlers->decorate (req, response, status);
}

/**
 * httpd_request_json_response:
 * @retry_after: seconds for Retry-After, which a 429 and a 503 always have
 *
 * Builds an answer without queueing it: for one decided on another thread
 * and given when the request resumes.
 */
struct MHD_Response *
httpd_request_json_response (HttpdRequest *req,
                             guint         status,
                             JsonObject   *object,
                             guint         retry_after)
{
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), object);
  struct MHD_Response *response = httpd_response_new_text (lk_json_to_string (root));

  MHD_add_response_header (response, "Content-Type", "application/json");
  httpd_request_add_headers (req, response, status);
  if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE)
    retry_after = MAX (retry_after, 1);
  if (retry_after > 0)
    {
      g_autofree char *seconds = g_strdup_printf ("%u", retry_after);

      MHD_add_response_header (response, "Retry-After", seconds);
    }
  /* A stopping server closes each connection after its last answer. */
  if (g_atomic_int_get (&req->server->stopping))
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONNECTION, "close");
  return response;
}

/* Every error is {error, message}: a code to act on, a sentence to show.
 * Neither may hold what the client sent. */
struct MHD_Response *
httpd_request_error_response (HttpdRequest *req,
                              guint         status,
                              const char   *error,
                              const char   *message,
                              guint         retry_after)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "error", error);
  json_object_set_string_member (object, "message", message);
  return httpd_request_json_response (req, status, object, retry_after);
}

/* Queues @response, which it takes. */
enum MHD_Result
httpd_request_queue (HttpdRequest        *req,
                     guint                status,
                     struct MHD_Response *response)
{
  enum MHD_Result result = MHD_queue_response (req->connection, status, response);

  MHD_destroy_response (response);
  req->answered = TRUE;
  if (req->server->handlers->answered != NULL)
    req->server->handlers->answered (req, status);
  return result;
}

enum MHD_Result
httpd_request_queue_json (HttpdRequest *req,
                          guint         status,
                          JsonObject   *object)
{
  return httpd_request_queue (req, status, httpd_request_json_response (req, status, object, req->retry_after));
}

enum MHD_Result
httpd_request_queue_error (HttpdRequest *req,
                           guint         status,
                           const char   *error,
                           const char   *message)
{
  return httpd_request_queue (req, status,
                              httpd_request_error_response (req, status, error, message, req->retry_after));
}

/* Queues @text, which it takes. */
enum MHD_Result
httpd_request_queue_text (HttpdRequest *req,
                          guint         status,
                          const char   *content_type,
                          char         *text)
{
  struct MHD_Response *response = httpd_response_new_text (text);

  MHD_add_response_header (response, "Content-Type", content_type);
  httpd_request_add_headers (req, response, status);
  return httpd_request_queue (req, status, response);
}

/**
 * httpd_request_refuse:
 *
 * Decides the answer while the headers are read; the first refusal stands
 * (a limit's refusal replaces an earlier one: see begin()).
 */
void
httpd_request_refuse (HttpdRequest *req,
                      guint         status,
                      const char   *error,
                      const char   *message)
{
  if (req->early_status != 0)
    return;
  req->early_status = status;
  req->early_error = error;
  req->early_message = message;
}

/* A limit's refusal says why the request could not be taken, whatever
 * else was wrong with it. */
static void
refuse_at_limit (HttpdRequest *req,
                 HttpdRefusal  refusal,
                 guint         status,
                 const char   *error,
                 const char   *message)
{
  req->early_status = 0;
  httpd_request_refuse (req, status, error, message);
  if (req->server->handlers->refused != NULL)
    req->server->handlers->refused (req, refusal);
}

/**
 * httpd_request_suspend:
 *
 * For an answer that another thread decides: the request waits, without
 * holding the daemon's thread, until httpd_request_resume().
 */
void
httpd_request_suspend (HttpdRequest *req)
{
  req->state = HTTPD_REQUEST_SUSPENDED;
  g_atomic_int_inc (&req->server->suspended);
  MHD_suspend_connection (req->connection);
}

/* From any thread: the handlers' resume() then runs on the daemon's. */
void
httpd_request_resume (HttpdRequest *req)
{
  MHD_resume_connection (req->connection);
}

/* The request's life */

static void
request_free (HttpdRequest *req)
{
  if (req->server->handlers->clear != NULL)
    req->server->handlers->clear (req);
  g_clear_pointer (&req->body, g_byte_array_unref);
  g_free (req);
}

/* Who the client is: its address group, as a keyed hash. */
static void
client_of (HttpdServer           *self,
           struct MHD_Connection *connection,
           HttpdKey              *client)
{
  const union MHD_ConnectionInfo *info;

  if (self->config.trust_forwarded_for)
    {
      const char *forwarded = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "X-Forwarded-For");

      /* The proxy appends the address it saw: the last entry is the one to trust. */
      if (forwarded != NULL && strlen (forwarded) < 1024)
        {
          const char *last = strrchr (forwarded, ',');
          g_autofree char *candidate = g_strstrip (g_strdup (last ? last + 1 : forwarded));

          if (httpd_limiter_client_of_text (self->limiter, candidate, client))
            return;
        }
    }

  info = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  httpd_limiter_client_of_socket (self->limiter, info != NULL ? info->client_addr : NULL, client);
}

static enum MHD_Result
dispatch (HttpdRequest *req)
{
  req->dispatched = TRUE;
  g_atomic_int_inc (&req->server->answering);

  if (req->early_status != 0)
    return httpd_request_queue_error (req, req->early_status, req->early_error, req->early_message);

  return req->server->handlers->dispatch (req);
}

/* The length and type of the body, before a byte of it is read. Returns
 * whether there is one. */
static gboolean
check_body (HttpdServer           *self,
            HttpdRequest          *req,
            struct MHD_Connection *connection,
            const HttpdRoute      *route)
{
  const char *length = httpd_request_header (req, MHD_HTTP_HEADER_CONTENT_LENGTH);
  gboolean has_body = FALSE;

  if (httpd_request_header (req, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
    {
      /* A chunked body (RFC 9112) has no length up front: the largest a body
       * may be is reserved instead. One that turns out larger is refused
       * once it is in, as libmicrohttpd cannot answer in mid-upload. */
      has_body = TRUE;
      if (req->early_status == 0 && !httpd_guard_reserve_body (self->guard, connection, self->config.max_body))
        {
          httpd_request_refuse (req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                                "Too many uploads at once; try again shortly");
          if (self->handlers->refused != NULL)
            self->handlers->refused (req, HTTPD_REFUSED_BODY_MEMORY);
        }
      else if (req->early_status == 0)
        {
          req->body_length = self->config.max_body;
          req->chunked = TRUE;
        }
    }
  else if (length != NULL)
    {
      guint64 value = 0;

      if (!g_ascii_string_to_unsigned (length, 10, 0, G_MAXUINT64, &value, NULL))
        httpd_request_refuse (req, MHD_HTTP_BAD_REQUEST, "bad_request", "Content-Length is not a number");
      else if (value > self->config.max_body)
        refuse_at_limit (req, HTTPD_REFUSED_SIZE, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                         self->config.too_large_message);
      else if (req->early_status == 0 && value > 0)
        {
          /* Bodies share a memory budget, taken before a byte is read: many
           * slow uploads at once get 503, not the server's memory. */
          if (!httpd_guard_reserve_body (self->guard, connection, value))
            {
              httpd_request_refuse (req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                                    "Too many uploads at once; try again shortly");
              if (self->handlers->refused != NULL)
                self->handlers->refused (req, HTTPD_REFUSED_BODY_MEMORY);
            }
          else
            {
              req->body_length = value;
              g_byte_array_unref (req->body);
              req->body = g_byte_array_sized_new ((guint) value);
            }
        }
      has_body = value > 0;
    }

  if ((route->body == HTTPD_BODY_JSON || (route->body == HTTPD_BODY_JSON_IF_SENT && has_body)) &&
      !httpd_is_json_content_type (httpd_request_header (req, MHD_HTTP_HEADER_CONTENT_TYPE)))
    httpd_request_refuse (req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                          "The body must be application/json");

  return has_body;
}

/* The first call, with the headers only: everything that can be refused
 * before reading a body is refused here. */
static enum MHD_Result
begin_request (HttpdServer           *self,
               struct MHD_Connection *connection,
               const char            *url,
               const char            *method,
               const char            *version,
               void                 **con_cls)
{
  HttpdRequest *req = g_malloc0 (self->handlers->request_size);
  HttpdRoute route = { FALSE, HTTPD_BODY_ANY };

  req->server = self;
  req->owner = self->owner;
  req->connection = connection;
  req->method = method;
  req->body = g_byte_array_new ();
  *con_cls = req;

  self->handlers->begin (req, url, &route);

  /* Checked here rather than by libmicrohttpd, whose own answer to it is
   * malformed (its headers twice). */
  if (strcmp (version, MHD_HTTP_VERSION_1_1) == 0 && httpd_request_header (req, MHD_HTTP_HEADER_HOST) == NULL)
    httpd_request_refuse (req, MHD_HTTP_BAD_REQUEST, "bad_request", "An HTTP/1.1 request needs a Host header");

  /* Turned away while stopping: the client retries against the new server. */
  if (g_atomic_int_get (&self->stopping))
    httpd_request_refuse (req, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down", self->stopping_message);

  client_of (self, connection, &req->client);
  if (route.rate_limited &&
      !httpd_limiter_allow (self->limiter, &req->client, g_get_monotonic_time (), &req->retry_after))
    refuse_at_limit (req, HTTPD_REFUSED_RATE, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
                     "Too many requests; slow down");

  if (check_body (self, req, connection, &route) && req->early_status != 0)
    return dispatch (req);

  return MHD_YES;
}

static enum MHD_Result
access_handler (void                  *cls,
                struct MHD_Connection *connection,
                const char            *url,
                const char            *method,
                const char            *version,
                const char            *upload_data,
                size_t                *upload_data_size,
                void                 **con_cls)
{
  HttpdServer *self = cls;
  HttpdRequest *req = *con_cls;

  if (req == NULL)
    return begin_request (self, connection, url, method, version, con_cls);

  if (req->answered && *upload_data_size > 0)
    {
      /* Refused early: what still arrives is dropped. */
      *upload_data_size = 0;
      return MHD_YES;
    }

  if (*upload_data_size > 0)
    {
      /* A chunked body found too large: the rest is dropped as it comes (the
       * request's deadline bounds it), and the answer is 413 once it is in. */
      if (req->early_status != 0)
        {
          *upload_data_size = 0;
          return MHD_YES;
        }
      /* Never more than the declared length, which the budget reserved. */
      if (req->body->len + *upload_data_size > req->body_length)
        {
          if (!req->chunked)
            return MHD_NO;
          g_byte_array_set_size (req->body, 0);
          refuse_at_limit (req, HTTPD_REFUSED_SIZE, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                           self->config.too_large_message);
          *upload_data_size = 0;
          return MHD_YES;
        }
      g_byte_array_append (req->body, (const guint8 *) upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }

  switch (req->state)
    {
    case HTTPD_REQUEST_NEW:
      if (req->answered)
        return MHD_YES;
      httpd_guard_request_received (self->guard, connection);
      return dispatch (req);

    case HTTPD_REQUEST_SUSPENDED:
      g_atomic_int_dec_and_test (&self->suspended);
      req->state = HTTPD_REQUEST_RESUMED;
      return self->handlers->resume (req);

    case HTTPD_REQUEST_RESUMED:
    default:
      return MHD_NO;
    }
}

static void
request_completed (void                            *cls,
                   struct MHD_Connection           *connection,
                   void                           **con_cls,
                   enum MHD_RequestTerminationCode  code)
{
  HttpdServer *self = cls;
  HttpdRequest *req = *con_cls;

  httpd_guard_request_completed (self->guard, connection);
  if (req != NULL && req->dispatched)
    g_atomic_int_dec_and_test (&self->answering);
  /* Resumed, but closed before the handler ran again (the client left). */
  if (req != NULL && req->state == HTTPD_REQUEST_SUSPENDED)
    g_atomic_int_dec_and_test (&self->suspended);
  g_clear_pointer ((HttpdRequest **) con_cls, request_free);
}

/* The server */

/**
 * httpd_server_new:
 * @limiter: (transfer full): who clients are, and their rates
 * @owner: given to the handlers with each request (HttpdRequest.owner)
 */
HttpdServer *
httpd_server_new (const HttpdServerConfig *config,
                  const HttpdHandlers     *handlers,
                  HttpdLimiter            *limiter,
                  gpointer                 owner)
{
  HttpdServer *self = g_new0 (HttpdServer, 1);

  self->config = *config;
  self->listen_address = g_strdup (config->listen_address);
  self->tls_certificate = g_strdup (config->tls_certificate);
  self->tls_key = g_strdup (config->tls_key);
  self->stopping_message = g_strdup_printf ("The %s is restarting", config->name);
  self->config.listen_address = self->listen_address;
  self->config.tls_certificate = self->tls_certificate;
  self->config.tls_key = self->tls_key;
  if (self->config.too_large_message == NULL)
    self->config.too_large_message = DEFAULT_TOO_LARGE;
  self->config.guard.tls = config->tls_certificate != NULL;
  self->handlers = handlers;
  self->owner = owner;
  self->limiter = limiter;
  self->guard = httpd_guard_new (&self->config.guard);
  self->log = httpd_log_new (config->log_interval, config->redact);
  self->listener = MHD_INVALID_SOCKET;

  return self;
}

void
httpd_server_free (HttpdServer *self)
{
  if (self == NULL)
    return;

  httpd_server_stop (self);
  g_clear_pointer (&self->guard, httpd_guard_free);
  g_clear_pointer (&self->log, httpd_log_free);
  g_clear_pointer (&self->limiter, httpd_limiter_free);
  g_free (self->listen_address);
  g_free (self->tls_certificate);
  g_free (self->tls_key);
  g_free (self->stopping_message);
  g_free (self);
}

gboolean
httpd_server_start (HttpdServer  *self,
                    GError      **error)
{
  const HttpdServerConfig *config = &self->config;
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  struct sockaddr_storage native;
  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  const union MHD_DaemonInfo *info;
  struct MHD_OptionItem options[16];
  guint n = 0;

  if (!httpd_errors_check (error))
    return FALSE;

  address = g_inet_address_new_from_string (config->listen_address);
  if (address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not an IP address", config->listen_address);
      return FALSE;
    }
  socket_address = g_inet_socket_address_new (address, config->port);
  if (!g_socket_address_to_native (socket_address, &native, sizeof native, error))
    return FALSE;
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    flags |= MHD_USE_IPv6;

  if (config->tls_certificate != NULL)
    {
      if (!g_file_get_contents (config->tls_certificate, &cert, NULL, error) ||
          !g_file_get_contents (config->tls_key, &key, NULL, error))
        return FALSE;
      flags |= MHD_USE_TLS;
      self->tls = TRUE;
    }

#define OPTION(o, v, p) options[n++] = (struct MHD_OptionItem) { o, (intptr_t) (v), (void *) (p) }
  OPTION (MHD_OPTION_SOCK_ADDR, 0, &native);
  OPTION (MHD_OPTION_CONNECTION_LIMIT, config->max_connections, NULL);
  OPTION (MHD_OPTION_CONNECTION_TIMEOUT, config->connection_timeout, NULL);
  OPTION (MHD_OPTION_CONNECTION_MEMORY_LIMIT, config->connection_memory, NULL);
  OPTION (MHD_OPTION_LISTEN_BACKLOG_SIZE, config->listen_backlog, NULL);
  OPTION (MHD_OPTION_NOTIFY_COMPLETED, request_completed, self);
  OPTION (MHD_OPTION_NOTIFY_CONNECTION, httpd_guard_notify_connection, self->guard);
  /* Strictness 1 adds only the Host check, which begin_request() does. */
  OPTION (MHD_OPTION_STRICT_FOR_CLIENT, 0, NULL);
  if (cert != NULL)
    {
      OPTION (MHD_OPTION_HTTPS_MEM_CERT, 0, cert);
      OPTION (MHD_OPTION_HTTPS_MEM_KEY, 0, key);
    }
  OPTION (MHD_OPTION_END, 0, NULL);
#undef OPTION

  /* The logger must come first, or MHD logs the other options' messages itself. */
  self->daemon = MHD_start_daemon (flags, 0, httpd_guard_accept_policy, self->guard, access_handler, self,
                                   MHD_OPTION_EXTERNAL_LOGGER, httpd_log_mhd, self->log,
                                   MHD_OPTION_ARRAY, options, MHD_OPTION_END);
  if (key != NULL)
    gnutls_memset (key, 0, strlen (key));

  if (self->daemon == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Could not listen on %s port %u (in use, or a bad TLS certificate or key?)",
                   config->listen_address, config->port);
      return FALSE;
    }

  info = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
  self->port = info != NULL ? info->port : config->port;
  return TRUE;
}

guint
httpd_server_get_port (HttpdServer *self)
{
  return self->port;
}

gboolean
httpd_server_get_tls (HttpdServer *self)
{
  return self->tls;
}

gboolean
httpd_server_is_stopping (HttpdServer *self)
{
  return g_atomic_int_get (&self->stopping);
}

guint
httpd_server_get_suspended (HttpdServer *self)
{
  return (guint) MAX (g_atomic_int_get (&self->suspended), 0);
}

HttpdLimiter *
httpd_server_get_limiter (HttpdServer *self)
{
  return self->limiter;
}

void
httpd_server_get_guard_stats (HttpdServer     *self,
                              HttpdGuardStats *stats)
{
  httpd_guard_get_stats (self->guard, stats);
}

guint64
httpd_server_get_log_suppressed (HttpdServer *self)
{
  return httpd_log_get_suppressed (self->log);
}

/**
 * httpd_server_stop:
 *
 * Stops accepting and turns new requests away, lets the server answer what
 * it holds (handlers' stopping()), gives the answers a moment to leave,
 * then stops the daemon.
 */
void
httpd_server_stop (HttpdServer *self)
{
  gint64 deadline;

  if (self->daemon == NULL)
    return;

  g_atomic_int_set (&self->stopping, TRUE);
  self->listener = MHD_quiesce_daemon (self->daemon);
  if (self->handlers->stopping != NULL)
    self->handlers->stopping (self->owner);

  deadline = g_get_monotonic_time () + self->config.drain_usec;
  while (g_atomic_int_get (&self->answering) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (1000);

  MHD_stop_daemon (g_steal_pointer (&self->daemon));
  /* Quiescing hands the listening socket to us. */
  if (self->listener != MHD_INVALID_SOCKET)
    close (self->listener);
  self->listener = MHD_INVALID_SOCKET;
}
