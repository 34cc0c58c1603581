/* partner-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libmicrohttpd runs one epoll thread and every request is handled there,
 * start to finish: the only thing a handler waits for is SQLite, on a
 * small local database. That makes the partner single-threaded in effect,
 * which is all a reference partner needs, and keeps a challenge's consumption
 * and the checks that follow it free of races.
 *
 * Each client (an address group, httpd-address.h) has a request rate, a
 * share of the connections and of the memory for bodies, and a deadline for
 * each request's headers and body (httpd-guard.c).
 */

#define G_LOG_DOMAIN "partner-server"

#include "config.h"

#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "latchkey-protocol.h"
#include "httpd-errors.h"
#include "httpd-guard.h"
#include "httpd-log.h"
#include "httpd-rate.h"
#include "httpd-system.h"
#include "partner-request.h"
#include "partner-server.h"

/* Headers and MHD's own buffers; bodies are copied out as they arrive.
 * The worst case, every connection holding its pool and the body budget
 * full, is about 50 MB, well within the unit's MemoryMax=256M. */
#define CONNECTION_MEMORY_LIMIT (16 * 1024)
#define MAX_CONNECTIONS         1024
#define MAX_PER_CLIENT          64
#define CONNECTION_TIMEOUT      30
#define MAX_BODY_MEMORY         (32 * 1024 * 1024)
#define MAX_BODY_MEMORY_CLIENT  (1024 * 1024)
#define MAX_RATE_CLIENTS        16384
#define LOG_INTERVAL_SECONDS    60

typedef enum
{
  ROUTE_NONE,
  ROUTE_HEALTH,
  ROUTE_CHALLENGES,
  ROUTE_CREDENTIALS,
  ROUTE_TOKENS,
  ROUTE_REDEEM,
  ROUTE_REVOCATIONS,
  ROUTE_ACCESS,
  ROUTE_OWNER_KEYS,
} Route;

static const struct
{
  const char *path;
  Route       route;
} routes[] = {
  { "/healthz", ROUTE_HEALTH },
  { "/v1/challenges", ROUTE_CHALLENGES },
  { "/v1/credentials", ROUTE_CREDENTIALS },
  { "/v1/tokens", ROUTE_TOKENS },
  { "/v1/redeem", ROUTE_REDEEM },
  { "/v1/revocations", ROUTE_REVOCATIONS },
  { "/v1/access", ROUTE_ACCESS },
  { "/v1/owner-keys", ROUTE_OWNER_KEYS },
};

struct _PartnerServer
{
  GObject              parent_instance;

  const PartnerConfig *config;
  PartnerService      *service;
  HttpdGuard          *guard;
  HttpdRate           *rate;
  HttpdLog            *log;
  guint8               secret[32];   /* for clients' keyed hashes */
  struct MHD_Daemon   *daemon;
  guint                port;
};

G_DEFINE_FINAL_TYPE (PartnerServer, partner_server, G_TYPE_OBJECT)

typedef struct
{
  PartnerServer         *server;
  struct MHD_Connection *connection;
  const char            *method;
  const char            *path;      /* for the log: only our fixed paths */
  Route                  route;
  HttpdKey               client;
  GByteArray            *body;
  gsize                  body_length;   /* declared */
  gboolean               answered;

  /* An answer decided while reading headers, given once the body is in. */
  guint                  early_status;
  const char            *early_error;
  const char            *early_message;
  guint                  retry_after;
} Request;

static void
request_free (Request *req)
{
  g_clear_pointer (&req->body, g_byte_array_unref);
  g_free (req);
}

/* Responses */

static void
add_common_headers (struct MHD_Response *response)
{
  MHD_add_response_header (response, "Cache-Control", "no-store");
  MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
}

static struct MHD_Response *
response_from_string (char *text)
{
  return MHD_create_response_from_buffer_with_free_callback (strlen (text), text, g_free);
}

static enum MHD_Result
queue (Request             *req,
       guint                status,
       struct MHD_Response *response)
{
  enum MHD_Result result = MHD_queue_response (req->connection, status, response);

  MHD_destroy_response (response);
  req->answered = TRUE;
  g_debug ("%s %s → %u", req->method, req->path, status);
  return result;
}

static enum MHD_Result
queue_json (Request    *req,
            guint       status,
            JsonObject *object)
{
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), object);
  struct MHD_Response *response = response_from_string (lk_json_to_string (root));

  MHD_add_response_header (response, "Content-Type", "application/json");
  add_common_headers (response);
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
    MHD_add_response_header (response, "Allow", req->route == ROUTE_HEALTH ? "GET" : "POST");
  if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE)
    {
      g_autofree char *seconds = g_strdup_printf ("%u", MAX (req->retry_after, 1));

      MHD_add_response_header (response, "Retry-After", seconds);
    }
  return queue (req, status, response);
}

static enum MHD_Result
queue_error (Request    *req,
             guint       status,
             const char *error,
             const char *message)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "error", error);
  json_object_set_string_member (object, "message", message);
  return queue_json (req, status, object);
}

/* Dispatch */

static enum MHD_Result
handle_json (Request *req)
{
  PartnerService *service = req->server->service;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) request = NULL;
  g_autoptr(JsonObject) reply = NULL;
  guint status;

  request = partner_parse_body ((const char *) req->body->data, req->body->len, &error);
  if (request == NULL)
    return queue_error (req, MHD_HTTP_BAD_REQUEST, "bad_request", error->message);

  switch (req->route)
    {
    case ROUTE_CREDENTIALS:
      status = partner_service_enrol (service, request, &reply);
      break;
    case ROUTE_TOKENS:
      status = partner_service_issue_token (service, request, &reply);
      break;
    case ROUTE_REDEEM:
      status = partner_service_redeem (service, request, &reply);
      break;
    case ROUTE_REVOCATIONS:
      status = partner_service_revoke (service, request, &reply);
      break;
    case ROUTE_ACCESS:
      status = partner_service_access (service, request, &reply);
      break;
    case ROUTE_OWNER_KEYS:
      status = partner_service_register_key (service, request, &reply);
      break;
    case ROUTE_NONE:
    case ROUTE_HEALTH:
    case ROUTE_CHALLENGES:
    default:
      g_assert_not_reached ();
    }

  return queue_json (req, status, reply);
}

static enum MHD_Result
dispatch (Request *req)
{
  const char *method = req->method;

  if (req->early_status != 0)
    return queue_error (req, req->early_status, req->early_error, req->early_message);

  switch (req->route)
    {
    case ROUTE_HEALTH:
      if (strcmp (method, "GET") == 0)
        {
          struct MHD_Response *response = response_from_string (g_strdup ("ok\n"));

          MHD_add_response_header (response, "Content-Type", "text/plain");
          add_common_headers (response);
          return queue (req, MHD_HTTP_OK, response);
        }
      break;

    case ROUTE_CHALLENGES:
      if (strcmp (method, "POST") == 0)
        {
          g_autoptr(JsonObject) reply = NULL;
          guint status = partner_service_new_challenge (req->server->service, &req->client, &reply);

          return queue_json (req, status, reply);
        }
      break;

    case ROUTE_CREDENTIALS:
    case ROUTE_TOKENS:
    case ROUTE_REDEEM:
    case ROUTE_REVOCATIONS:
    case ROUTE_ACCESS:
    case ROUTE_OWNER_KEYS:
      if (strcmp (method, "POST") == 0)
        return handle_json (req);
      break;

    case ROUTE_NONE:
    default:
      return queue_error (req, MHD_HTTP_NOT_FOUND, "not_found", "There is nothing at this path");
    }

  return queue_error (req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                      "This path does not take that method");
}

static Route
route_for (const char  *url,
           const char **path)
{
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      if (strcmp (url, routes[i].path) == 0)
        {
          *path = routes[i].path;
          return routes[i].route;
        }
    }

  /* Never log what a client put in a path: it could be anything. */
  *path = "(other)";
  return ROUTE_NONE;
}

static gboolean
is_json_content_type (const char *value)
{
  gsize len = strlen ("application/json");

  return value != NULL &&
         g_ascii_strncasecmp (value, "application/json", len) == 0 &&
         (value[len] == '\0' || value[len] == ';' || value[len] == ' ');
}

static void
set_early (Request    *req,
           guint       status,
           const char *error,
           const char *message)
{
  if (req->early_status != 0)
    return;
  req->early_status = status;
  req->early_error = error;
  req->early_message = message;
}

static const char *
header (Request    *req,
        const char *name)
{
  return MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, name);
}

/* The first call, with the headers only: everything that can be refused
 * before reading a body is refused here. */
/* Who the client is: its address group, as a keyed hash. */
static void
client_of (PartnerServer         *self,
           struct MHD_Connection *connection,
           HttpdKey              *client)
{
  const union MHD_ConnectionInfo *info;
  HttpdGroup group;

  if (self->config->trust_forwarded_for)
    {
      const char *forwarded = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "X-Forwarded-For");

      /* The proxy appends the address it saw: the last entry is the one to trust. */
      if (forwarded != NULL && strlen (forwarded) < 1024)
        {
          const char *last = strrchr (forwarded, ',');
          g_autofree char *candidate = g_strstrip (g_strdup (last ? last + 1 : forwarded));

          if (httpd_group_from_string (&group, candidate, HTTPD_DEFAULT_IPV6_PREFIX))
            {
              httpd_group_key (&group, self->secret, sizeof self->secret, client);
              return;
            }
        }
    }

  info = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  httpd_group_from_sockaddr (&group, info != NULL ? info->client_addr : NULL, HTTPD_DEFAULT_IPV6_PREFIX);
  httpd_group_key (&group, self->secret, sizeof self->secret, client);
}

static enum MHD_Result
begin_request (PartnerServer          *self,
               struct MHD_Connection  *connection,
               const char             *url,
               const char             *method,
               const char             *version,
               void                  **con_cls)
{
  Request *req = g_new0 (Request, 1);
  const char *length, *encoding;
  gboolean has_body = FALSE;

  req->server = self;
  req->connection = connection;
  req->method = method;
  req->body = g_byte_array_new ();
  req->route = route_for (url, &req->path);
  *con_cls = req;

  /* Checked here rather than by libmicrohttpd, whose own answer to it is
   * malformed (its headers twice). */
  if (strcmp (version, MHD_HTTP_VERSION_1_1) == 0 && header (req, MHD_HTTP_HEADER_HOST) == NULL)
    set_early (req, MHD_HTTP_BAD_REQUEST, "bad_request", "An HTTP/1.1 request needs a Host header");

  client_of (self, connection, &req->client);
  if (req->route != ROUTE_HEALTH &&
      !httpd_rate_allow (self->rate, &req->client, g_get_monotonic_time (), &req->retry_after))
    {
      req->early_status = 0;
      set_early (req, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited", "Too many requests; slow down");
    }

  encoding = header (req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  length = header (req, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (encoding != NULL)
    {
      /* A body of unknown length could only be refused half-read, which
       * means a hard close: ask for a Content-Length instead. */
      set_early (req, MHD_HTTP_CONTENT_TOO_LARGE, "length_required",
                 "Send the body with a Content-Length, not chunked");
      has_body = TRUE;
    }
  else if (length != NULL)
    {
      guint64 value = 0;

      if (!g_ascii_string_to_unsigned (length, 10, 0, G_MAXUINT64, &value, NULL))
        set_early (req, MHD_HTTP_BAD_REQUEST, "bad_request", "Content-Length is not a number");
      else if (value > PARTNER_MAX_BODY)
        set_early (req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "The request body is larger than 64 KiB");
      else if (req->early_status == 0 && value > 0)
        {
          /* Bodies share a memory budget, taken before a byte is read. */
          if (!httpd_guard_reserve_body (self->guard, connection, value))
            set_early (req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "Too many uploads at once; try again shortly");
          else
            {
              req->body_length = value;
              g_byte_array_unref (req->body);
              req->body = g_byte_array_sized_new ((guint) value);
            }
        }
      has_body = value > 0;
    }

  /* Challenges take no body, so they do not care what it is. */
  if (has_body && strcmp (method, "POST") == 0 && req->route != ROUTE_CHALLENGES &&
      req->route != ROUTE_NONE && !is_json_content_type (header (req, MHD_HTTP_HEADER_CONTENT_TYPE)))
    set_early (req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
               "The body must be application/json");

  /* Refusing a request that comes with a body before reading it closes the
   * connection, which is what an oversized upload deserves. */
  if (req->early_status != 0 && has_body)
    return dispatch (req);

  return MHD_YES;
}

static enum MHD_Result
access_handler (void                   *cls,
                struct MHD_Connection  *connection,
                const char             *url,
                const char             *method,
                const char             *version,
                const char             *upload_data,
                size_t                 *upload_data_size,
                void                  **con_cls)
{
  PartnerServer *self = cls;
  Request *req = *con_cls;

  if (req == NULL)
    return begin_request (self, connection, url, method, version, con_cls);

  if (req->answered)
    {
      /* Refused early: what still arrives is dropped. */
      *upload_data_size = 0;
      return MHD_YES;
    }

  if (*upload_data_size > 0)
    {
      /* Never more than the declared length, which the budget reserved. */
      if (req->body->len + *upload_data_size > req->body_length)
        return MHD_NO;
      g_byte_array_append (req->body, (const guint8 *) upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }

  httpd_guard_request_received (self->guard, connection);
  return dispatch (req);
}

static void
request_completed (void                             *cls,
                   struct MHD_Connection            *connection,
                   void                            **con_cls,
                   enum MHD_RequestTerminationCode   code)
{
  PartnerServer *self = cls;

  httpd_guard_request_completed (self->guard, connection);
  g_clear_pointer ((Request **) con_cls, request_free);
}

static void
partner_server_finalize (GObject *object)
{
  PartnerServer *self = (PartnerServer *) object;

  partner_server_stop (self);
  g_clear_object (&self->service);
  g_clear_pointer (&self->guard, httpd_guard_free);
  g_clear_pointer (&self->rate, httpd_rate_free);
  g_clear_pointer (&self->log, httpd_log_free);
  gnutls_memset (self->secret, 0, sizeof self->secret);

  G_OBJECT_CLASS (partner_server_parent_class)->finalize (object);
}

static void
partner_server_class_init (PartnerServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = partner_server_finalize;
}

static void
partner_server_init (PartnerServer *self)
{
}

/**
 * partner_server_new:
 * @config: the settings; must outlive the server
 */
PartnerServer *
partner_server_new (const PartnerConfig *config,
                    PartnerService      *service)
{
  PartnerServer *self = g_object_new (PARTNER_TYPE_SERVER, NULL);
  HttpdGuardLimits limits = {
    /* Behind a proxy every connection is the proxy's: nginx's limit_conn
     * counts per client instead. */
    .max_per_client = config->trust_forwarded_for ? 0 : MAX_PER_CLIENT,
    .request_timeout = config->request_timeout,
    .idle_timeout = CONNECTION_TIMEOUT,
    .max_body_memory = MAX_BODY_MEMORY,
    .max_body_memory_per_client = MAX_BODY_MEMORY_CLIENT,
    .ipv6_prefix = HTTPD_DEFAULT_IPV6_PREFIX,
    .tls = FALSE,
  };

  self->config = config;
  self->service = g_object_ref (service);
  self->guard = httpd_guard_new (&limits);
  self->rate = httpd_rate_new (config->rate, config->burst, MAX_RATE_CLIENTS);
  self->log = httpd_log_new (LOG_INTERVAL_SECONDS, NULL);
  lk_crypto_random (self->secret, sizeof self->secret, NULL);

  return self;
}

gboolean
partner_server_start (PartnerServer  *self,
                      GError        **error)
{
  const PartnerConfig *config = self->config;
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  struct sockaddr_storage native;
  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  const union MHD_DaemonInfo *info;
  guint64 fd_limit = httpd_system_raise_fd_limit (NULL);
  guint connections = (guint) MIN ((guint64) MAX_CONNECTIONS,
                                   fd_limit > HTTPD_RESERVED_FDS ? fd_limit - HTTPD_RESERVED_FDS : 16);

  if (!httpd_errors_check (error))
    return FALSE;
  if (connections < MAX_CONNECTIONS)
    g_warning ("The descriptor limit (%" G_GUINT64_FORMAT ") allows %u connections of %u: raise LimitNOFILE=",
               fd_limit, connections, MAX_CONNECTIONS);

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

  /* The logger must come first, or MHD logs the other options' messages itself. */
  /* MHD's messages may quote a request line; paths hold nothing secret
   * here, since every secret travels in a body. */
  self->daemon = MHD_start_daemon (flags, 0, httpd_guard_accept_policy, self->guard, access_handler, self,
                                   MHD_OPTION_EXTERNAL_LOGGER, httpd_log_mhd, self->log,
                                   MHD_OPTION_SOCK_ADDR, &native,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned int) connections,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) CONNECTION_TIMEOUT,
                                   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_MEMORY_LIMIT,
                                   MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 1024,
                                   MHD_OPTION_NOTIFY_COMPLETED, request_completed, self,
                                   MHD_OPTION_NOTIFY_CONNECTION, httpd_guard_notify_connection, self->guard,
                                   /* Strictness 1 adds only the Host check, which begin_request() does. */
                                   MHD_OPTION_STRICT_FOR_CLIENT, (int) 0,
                                   MHD_OPTION_END);
  if (self->daemon == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Could not listen on %s port %u (is it in use?)", config->listen_address, config->port);
      return FALSE;
    }

  info = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
  self->port = info != NULL ? info->port : config->port;

  return TRUE;
}

guint
partner_server_get_port (PartnerServer *self)
{
  return self->port;
}

/**
 * partner_server_stop:
 *
 * Stops accepting, gives answers on their way a moment to leave, then
 * stops the daemon. Every write was committed before it was answered, so
 * nothing is lost by stopping.
 */
void
partner_server_stop (PartnerServer *self)
{
  MHD_socket listener;

  if (self->daemon == NULL)
    return;

  listener = MHD_quiesce_daemon (self->daemon);

  for (guint i = 0; i < 100 && MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS)->num_connections > 0; i++)
    g_usleep (10 * 1000);

  MHD_stop_daemon (g_steal_pointer (&self->daemon));
  /* Quiescing hands the listening socket to us. */
  if (listener != MHD_INVALID_SOCKET)
    close (listener);
}
