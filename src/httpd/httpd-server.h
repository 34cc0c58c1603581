/* httpd-server.h: the libmicrohttpd server both of ours are, less their routes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The daemon and its limits, the refusals that come before a body is read,
 * a request's life from its headers to its completion, JSON answers and
 * errors, and a clean stop. The relay and the partner give a table of
 * handlers (HttpdHandlers) for their routes and rules, and make requests of
 * their own that start with an HttpdRequest.
 */

#pragma once

#include <json-glib/json-glib.h>
#include <microhttpd.h>

#include "httpd-address.h"
#include "httpd-guard.h"
#include "httpd-limiter.h"
#include "httpd-log.h"

G_BEGIN_DECLS

typedef struct _HttpdServer HttpdServer;

typedef enum
{
  HTTPD_REQUEST_NEW,
  HTTPD_REQUEST_SUSPENDED,
  HTTPD_REQUEST_RESUMED,
} HttpdRequestState;

/* What a request's body must be, which the route decides. */
typedef enum
{
  HTTPD_BODY_ANY,           /* anything, or nothing */
  HTTPD_BODY_JSON,          /* declared application/json */
  HTTPD_BODY_JSON_IF_SENT,  /* the same, when there is a body */
} HttpdBodyRule;

/* A limit that turned a request away, for the server's counters. */
typedef enum
{
  HTTPD_REFUSED_RATE,       /* 429 rate_limited */
  HTTPD_REFUSED_SIZE,       /* 413: too large */
  HTTPD_REFUSED_BODY_MEMORY,/* 503 busy: the body budget is spent */
} HttpdRefusal;

typedef struct
{
  HttpdServer           *server;
  gpointer               owner;        /* the server's user data */
  struct MHD_Connection *connection;
  const char            *method;
  HttpdKey               client;       /* its address group, keyed */
  GByteArray            *body;
  gsize                  body_length;  /* declared, and reserved */
  gboolean               chunked;      /* no length declared: the largest allowed is reserved */
  HttpdRequestState      state;
  gboolean               dispatched;   /* an answer is being decided or sent */
  gboolean               answered;

  /* An answer decided with the headers, given once the body is in (or
   * refused before it: the connection then closes). */
  guint                  early_status;
  const char            *early_error;
  const char            *early_message;
  guint                  retry_after;  /* for a 429 or 503, seconds */
} HttpdRequest;

/* What the route decides for a request, in begin(). */
typedef struct
{
  gboolean       rate_limited;   /* counts against the client's request rate */
  HttpdBodyRule  body;
} HttpdRoute;

typedef struct
{
  /* Of the server's requests, which start with an HttpdRequest. */
  gsize             request_size;

  /* The headers are in: route the request and refuse what can be refused
   * now (httpd_request_refuse()). The kit then checks the Host, the rate,
   * the body's length and type. */
  void            (*begin)     (HttpdRequest         *req,
                                const char           *url,
                                HttpdRoute           *route);
  /* The body is in and nothing refused it: answer with
   * httpd_request_queue*(), or httpd_request_suspend(). */
  enum MHD_Result (*dispatch)  (HttpdRequest         *req);
  /* A suspended request was resumed (httpd_request_resume()): answer. */
  enum MHD_Result (*resume)    (HttpdRequest         *req);
  /* Headers of the server's own on every answer (and Allow on a 405). */
  void            (*decorate)  (HttpdRequest         *req,
                                struct MHD_Response  *response,
                                guint                 status);
  /* Every answer, once queued: a log line, the metrics. May be NULL. */
  void            (*answered)  (HttpdRequest         *req,
                                guint                 status);
  /* A limit turned the request away. May be NULL. */
  void            (*refused)   (HttpdRequest         *req,
                                HttpdRefusal          refusal);
  /* Frees what the server's request holds besides the HttpdRequest. */
  void            (*clear)     (HttpdRequest         *req);
  /* Stopping, after the daemon stopped accepting and before the wait for
   * answers in flight: wake whatever holds suspended requests. May be NULL. */
  void            (*stopping)  (gpointer              owner);
} HttpdHandlers;

typedef struct
{
  const char      *name;               /* "relay": "The relay is restarting" */
  const char      *listen_address;
  guint            port;               /* 0: any free one */
  const char      *tls_certificate;    /* PEM files; NULL: plain HTTP */
  const char      *tls_key;
  guint            max_connections;
  guint            connection_timeout; /* seconds idle */
  gsize            connection_memory;  /* MHD's pool per connection */
  guint            listen_backlog;
  gsize            max_body;           /* larger is refused, 413 */
  const char      *too_large_message;  /* with it; NULL: a plain one */
  gboolean         trust_forwarded_for;
  HttpdGuardLimits guard;
  guint            log_interval;       /* libmicrohttpd's messages: each kind at most once per */
  HttpdRedactFunc  redact;             /* for them; NULL: as they are */
  gint64           drain_usec;         /* how long a stop waits for answers in flight */
} HttpdServerConfig;

HttpdServer     *httpd_server_new               (const HttpdServerConfig *config,
                                                 const HttpdHandlers     *handlers,
                                                 HttpdLimiter            *limiter,
                                                 gpointer                 owner);
void             httpd_server_free              (HttpdServer             *self);
gboolean         httpd_server_start             (HttpdServer             *self,
                                                 GError                 **error);
guint            httpd_server_get_port          (HttpdServer             *self);
gboolean         httpd_server_get_tls           (HttpdServer             *self);
gboolean         httpd_server_is_stopping       (HttpdServer             *self);
guint            httpd_server_get_suspended     (HttpdServer             *self);
HttpdLimiter    *httpd_server_get_limiter       (HttpdServer             *self);
void             httpd_server_get_guard_stats   (HttpdServer             *self,
                                                 HttpdGuardStats         *stats);
guint64          httpd_server_get_log_suppressed (HttpdServer            *self);
void             httpd_server_stop              (HttpdServer             *self);

const char          *httpd_request_header       (HttpdRequest        *req,
                                                 const char          *name);
void                 httpd_request_refuse       (HttpdRequest        *req,
                                                 guint                status,
                                                 const char          *error,
                                                 const char          *message);
void                 httpd_response_add_common_headers (struct MHD_Response *response);
void                 httpd_request_add_headers  (HttpdRequest        *req,
                                                 struct MHD_Response *response,
                                                 guint                status);
struct MHD_Response *httpd_request_json_response (HttpdRequest       *req,
                                                 guint                status,
                                                 JsonObject          *object,
                                                 guint                retry_after);
struct MHD_Response *httpd_request_error_response (HttpdRequest      *req,
                                                 guint                status,
                                                 const char          *error,
                                                 const char          *message,
                                                 guint                retry_after);
enum MHD_Result      httpd_request_queue        (HttpdRequest        *req,
                                                 guint                status,
                                                 struct MHD_Response *response);
enum MHD_Result      httpd_request_queue_json   (HttpdRequest        *req,
                                                 guint                status,
                                                 JsonObject          *object);
enum MHD_Result      httpd_request_queue_error  (HttpdRequest        *req,
                                                 guint                status,
                                                 const char          *error,
                                                 const char          *message);
enum MHD_Result      httpd_request_queue_text   (HttpdRequest        *req,
                                                 guint                status,
                                                 const char          *content_type,
                                                 char                *text);
void                 httpd_request_suspend      (HttpdRequest        *req);
void                 httpd_request_resume       (HttpdRequest        *req);

struct MHD_Response *httpd_response_new_text    (char                *text);
gboolean             httpd_is_json_content_type (const char          *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpdServer, httpd_server_free)

G_END_DECLS
