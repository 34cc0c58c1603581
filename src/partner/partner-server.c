/* partner-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The partner's routes, on the server kit (httpd-server.c). Every request
 * is handled on its epoll thread, start to finish: the only thing a
 * handler waits for is SQLite, on a small local database. That makes the
 * partner single-threaded in effect, which is all a reference partner
 * needs, and keeps a challenge's consumption and the checks that follow it
 * free of races.
 *
 * Each client (an address group, httpd-address.h) has a request rate, a
 * share of the connections and of the memory for bodies, and a deadline for
 * each request's headers and body (httpd-guard.c).
 */

#define G_LOG_DOMAIN "partner-server"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <microhttpd.h>

#include "latchkey-protocol.h"
#include "httpd-server.h"
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
#define LISTEN_BACKLOG          1024
/* Every write was committed before it was answered: a stop only gives the
 * answers on their way a moment to leave. */
#define STOP_DRAIN_USEC         G_USEC_PER_SEC

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
  HttpdServer         *httpd;
};

G_DEFINE_FINAL_TYPE (PartnerServer, partner_server, G_TYPE_OBJECT)

typedef struct
{
  HttpdRequest   base;
  PartnerServer *server;
  const char    *path;      /* for the log: only our fixed paths */
  Route          route;
} Request;

/* Responses */

static void
decorate (HttpdRequest        *base,
          struct MHD_Response *response,
          guint                status)
{
  Request *req = (Request *) base;

  if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
    MHD_add_response_header (response, "Allow", req->route == ROUTE_HEALTH ? "GET" : "POST");
}

static void
answered (HttpdRequest *base,
          guint         status)
{
  Request *req = (Request *) base;

  g_debug ("%s %s → %u", base->method, req->path, status);
}

/* Dispatch */

static enum MHD_Result
handle_json (Request *req)
{
  PartnerService *service = req->server->service;
  HttpdRequest *base = &req->base;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) request = NULL;
  g_autoptr(JsonObject) reply = NULL;
  guint status;

  request = partner_parse_body ((const char *) base->body->data, base->body->len, &error);
  if (request == NULL)
    return httpd_request_queue_error (base, MHD_HTTP_BAD_REQUEST, "bad_request", error->message);

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

  return httpd_request_queue_json (base, status, reply);
}

static enum MHD_Result
dispatch (HttpdRequest *base)
{
  Request *req = (Request *) base;
  const char *method = base->method;

  switch (req->route)
    {
    case ROUTE_HEALTH:
      if (strcmp (method, "GET") == 0)
        return httpd_request_queue_text (base, MHD_HTTP_OK, "text/plain", g_strdup ("ok\n"));
      break;

    case ROUTE_CHALLENGES:
      if (strcmp (method, "POST") == 0)
        {
          g_autoptr(JsonObject) reply = NULL;
          guint status = partner_service_new_challenge (req->server->service, &base->client, &reply);

          return httpd_request_queue_json (base, status, reply);
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
      return httpd_request_queue_error (base, MHD_HTTP_NOT_FOUND, "not_found", "There is nothing at this path");
    }

  return httpd_request_queue_error (base, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
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

static void
begin (HttpdRequest *base,
       const char   *url,
       HttpdRoute   *route)
{
  Request *req = (Request *) base;

  req->server = base->owner;
  req->route = route_for (url, &req->path);
  route->rate_limited = req->route != ROUTE_HEALTH;
  /* Challenges take no body, so they do not care what it is. */
  route->body = strcmp (base->method, "POST") == 0 && req->route != ROUTE_CHALLENGES && req->route != ROUTE_NONE
                ? HTTPD_BODY_JSON_IF_SENT : HTTPD_BODY_ANY;
}

/* Nothing is ever suspended. */
static enum MHD_Result
resume (HttpdRequest *base)
{
  return MHD_NO;
}

static const HttpdHandlers handlers = {
  .request_size = sizeof (Request),
  .begin = begin,
  .dispatch = dispatch,
  .resume = resume,
  .decorate = decorate,
  .answered = answered,
};

static void
partner_server_finalize (GObject *object)
{
  PartnerServer *self = (PartnerServer *) object;

  g_clear_pointer (&self->httpd, httpd_server_free);
  g_clear_object (&self->service);

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
  guint64 fd_limit = httpd_system_raise_fd_limit (NULL);
  guint connections = (guint) MIN ((guint64) MAX_CONNECTIONS,
                                   fd_limit > HTTPD_RESERVED_FDS ? fd_limit - HTTPD_RESERVED_FDS : 16);
  HttpdServerConfig server = {
    .name = "partner",
    .listen_address = config->listen_address,
    .port = config->port,
    .max_connections = connections,
    .connection_timeout = CONNECTION_TIMEOUT,
    .connection_memory = CONNECTION_MEMORY_LIMIT,
    .listen_backlog = LISTEN_BACKLOG,
    .max_body = PARTNER_MAX_BODY,
    .too_large_message = "The request body is larger than 64 KiB",
    .trust_forwarded_for = config->trust_forwarded_for,
    .guard = {
      /* Behind a proxy every connection is the proxy's: nginx's limit_conn
       * counts per client instead. */
      .max_per_client = config->trust_forwarded_for ? 0 : MAX_PER_CLIENT,
      .request_timeout = config->request_timeout,
      .idle_timeout = CONNECTION_TIMEOUT,
      .max_body_memory = MAX_BODY_MEMORY,
      .max_body_memory_per_client = MAX_BODY_MEMORY_CLIENT,
      .ipv6_prefix = HTTPD_DEFAULT_IPV6_PREFIX,
    },
    /* MHD's messages may quote a request line; paths hold nothing secret
     * here, since every secret travels in a body. */
    .log_interval = LOG_INTERVAL_SECONDS,
    .redact = NULL,
    .drain_usec = STOP_DRAIN_USEC,
  };

  if (connections < MAX_CONNECTIONS)
    g_warning ("The descriptor limit (%" G_GUINT64_FORMAT ") allows %u connections of %u: raise LimitNOFILE=",
               fd_limit, connections, MAX_CONNECTIONS);

  self->config = config;
  self->service = g_object_ref (service);
  /* The partner keeps no client across runs: a key of this run only. */
  self->httpd = httpd_server_new (&server, &handlers,
                                  httpd_limiter_new (config->rate, config->burst, MAX_RATE_CLIENTS,
                                                     HTTPD_DEFAULT_IPV6_PREFIX, NULL, NULL),
                                  self);
  return self;
}

gboolean
partner_server_start (PartnerServer  *self,
                      GError        **error)
{
  return httpd_server_start (self->httpd, error);
}

guint
partner_server_get_port (PartnerServer *self)
{
  return httpd_server_get_port (self->httpd);
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
  if (self->httpd != NULL)
    httpd_server_stop (self->httpd);
}
