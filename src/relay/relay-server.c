/* relay-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libmicrohttpd runs one epoll thread; the access handler runs there and must
 * never block. Reads are answered at once from a read-only store connection.
 * Writes go to the store's writer thread with the connection suspended, and
 * are answered from its callback once durable. Waiting reads park suspended
 * connections in RelayWaiters until their mailbox changes or their deadline.
 *
 * Per-client limits count address groups (relay-limiter.c): the guard
 * (httpd-guard.c) caps connections per client, gives each request a deadline
 * for its headers and body, and keeps request bodies within a memory budget;
 * the store keeps the mailbox limits; RelayWaiters the waiting reads.
 */

#define G_LOG_DOMAIN "relay-server"

#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <gio/gio.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "latchkey-protocol.h"
#include "httpd-errors.h"
#include "httpd-guard.h"
#include "httpd-log.h"
#include "httpd-system.h"
#include "relay-cache.h"
#include "relay-limiter.h"
#include "relay-page.h"
#include "relay-request.h"
#include "relay-resources.h"
#include "relay-server.h"
#include "relay-waiters.h"

/* How long a stop waits for answers already decided to be sent. */
#define STOP_DRAIN_USEC (5 * G_USEC_PER_SEC)
/* libmicrohttpd's messages: each kind at most once a minute. */
#define LOG_INTERVAL_SECONDS 60

typedef enum
{
  ROUTE_NONE,
  ROUTE_HEALTH,
  ROUTE_METRICS,
  ROUTE_MAILBOXES,   /* /v1/m */
  ROUTE_MAILBOX,     /* /v1/m/{id} */
} Route;

typedef enum
{
  METRIC_CREATE,
  METRIC_READ,
  METRIC_DISPLAY,
  METRIC_UPDATE,
  METRIC_DELETE,
  METRIC_RELINQUISH,
  METRIC_WAIT,
  METRIC_OTHER,
  N_METRICS
} Metric;

static const char * const metric_names[] = {
  "create", "read", "display", "update", "delete", "relinquish", "wait", "other",
};

struct _RelayServer
{
  GObject              parent_instance;

  const RelayConfig   *config;
  RelayStore          *store;
  RelayLimiter        *limiter;
  RelayWaiters        *waiters;
  RelayCache          *cache;
  HttpdGuard          *guard;
  HttpdLog            *log;
  struct MHD_Daemon   *daemon;
  MHD_socket           listener;
  guint                port;
  gboolean             tls;
  gboolean             log_requests;

  /* For a clean stop: requests arriving now are turned away, and the daemon
   * only stops once no connection is suspended. */
  gint                 stopping;
  gint                 suspended;
  gint                 answering;        /* dispatched, not yet completed */

  /* Metrics, updated with atomics from MHD's and the writer's threads. */
  gint                 requests[N_METRICS];
  gint                 statuses[6];      /* 1xx … 5xx by class */
  gint                 rejected_rate;
  gint                 rejected_size;
  gint                 rejected_waiters;
  gint                 rejected_mailboxes;
  gint                 rejected_storage;
  gint                 rejected_busy;
  gint                 purged;
};

G_DEFINE_FINAL_TYPE (RelayServer, relay_server, G_TYPE_OBJECT)

typedef enum
{
  STATE_NEW,
  STATE_SUSPENDED,
  STATE_RESUMED,
} RequestState;

typedef struct
{
  RelayServer           *server;
  struct MHD_Connection *connection;
  const char            *method;
  Route                  route;
  char                   mailbox_id[40];
  HttpdKey               client;
  GByteArray            *body;
  gsize                  body_length;     /* declared */
  RequestState           state;
  Metric                 metric;
  gboolean               dispatched;

  /* An answer decided while reading headers, given once the body is in. */
  guint                  early_status;
  const char            *early_error;
  const char            *early_message;
  guint                  early_retry_after;

  char                  *claim;
  char                  *request_id;

  /* Filled by the store's callback, queued once resumed. */
  RelayOp               *op;
  struct MHD_Response   *response;
  guint                  status;

  RelayWaiter            waiter;
  gboolean               waited;
  gint64                 known_version;
} Request;

static void
request_free (Request *req)
{
  g_clear_pointer (&req->body, g_byte_array_unref);
  g_free (req->claim);
  g_free (req->request_id);
  g_clear_pointer (&req->op, relay_op_free);
  if (req->response != NULL)
    MHD_destroy_response (req->response);
  g_free (req);
}

/* Responses */

static void
add_common_headers (Request             *req,
                    struct MHD_Response *response)
{
  MHD_add_response_header (response, "Cache-Control", "no-store");
  MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
  if (req->request_id != NULL)
    MHD_add_response_header (response, "Mailbox-Request-ID", req->request_id);
}

static struct MHD_Response *
response_from_string (char *text)
{
  return MHD_create_response_from_buffer_with_free_callback (strlen (text), text, g_free);
}

static struct MHD_Response *
json_response (Request    *req,
               JsonObject *object)
{
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), object);
  struct MHD_Response *response = response_from_string (lk_json_to_string (root));

  MHD_add_response_header (response, "Content-Type", "application/json");
  add_common_headers (req, response);
  return response;
}

static struct MHD_Response *
error_response (Request    *req,
                guint       status,
                const char *error,
                const char *message,
                guint       retry_after)
{
  g_autoptr(JsonObject) object = json_object_new ();
  struct MHD_Response *response;

  json_object_set_string_member (object, "error", error);
  json_object_set_string_member (object, "message", message);
  response = json_response (req, object);

  if (retry_after > 0)
    {
      g_autofree char *seconds = g_strdup_printf ("%u", retry_after);
      MHD_add_response_header (response, "Retry-After", seconds);
    }
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
    MHD_add_response_header (response, "Allow",
                             req->route == ROUTE_MAILBOXES ? "POST" :
                             req->route == ROUTE_MAILBOX ? "GET, POST, PUT, DELETE, PATCH" : "GET");

  return response;
}

static enum MHD_Result
queue (Request             *req,
       guint                status,
       struct MHD_Response *response)
{
  enum MHD_Result result = MHD_queue_response (req->connection, status, response);

  MHD_destroy_response (response);
  g_atomic_int_inc (&req->server->statuses[MIN (status / 100, 5)]);
  /* Formatting a line nobody reads costs a fifth of a read: check first. */
  if (req->server->log_requests)
    g_debug ("%s %s%.8s → %u", req->method,
             req->route == ROUTE_MAILBOX ? "/v1/m/" : req->route == ROUTE_MAILBOXES ? "/v1/m" : "",
             req->mailbox_id, status);
  return result;
}

static enum MHD_Result
queue_error (Request    *req,
             guint       status,
             const char *error,
             const char *message)
{
  guint retry_after = (status == MHD_HTTP_SERVICE_UNAVAILABLE) ? 1 : 0;
  struct MHD_Response *response = error_response (req, status, error, message, retry_after);

  /* A stopping relay closes each connection after its last answer. */
  if (g_atomic_int_get (&req->server->stopping))
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONNECTION, "close");
  return queue (req, status, response);
}

static char *
mailbox_url (Request    *req,
             const char *id)
{
  const RelayConfig *config = req->server->config;
  const char *host;

  if (config->public_url != NULL)
    {
      g_autoptr(GUri) uri = g_uri_parse (config->public_url, G_URI_FLAGS_NONE, NULL);
      int port = g_uri_get_port (uri);
      g_autofree char *port_text = port > 0 ? g_strdup_printf (":%d", port) : g_strdup ("");
      const char *h = g_uri_get_host (uri);
      gboolean v6 = strchr (h, ':') != NULL;

      return g_strdup_printf ("%s://%s%s%s%s/v1/m/%s", g_uri_get_scheme (uri),
                              v6 ? "[" : "", h, v6 ? "]" : "", port_text, id);
    }

  /* Without a configured origin, the Host the client used; it only shapes
   * the answer to that same client. */
  host = MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
  if (host == NULL || strlen (host) > 260 || strspn (host, "abcdefghijklmnopqrstuvwxyz"
                                                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
                                              != strlen (host))
    return g_strdup_printf ("%s://%s:%u/v1/m/%s", req->server->tls ? "https" : "http",
                            config->listen_address, req->server->port, id);

  return g_strdup_printf ("%s://%s/v1/m/%s", req->server->tls ? "https" : "http", host, id);
}

/* JSON string contents; values were valid UTF-8 when they were stored. */
static void
append_json_string (GString    *out,
                    const char *value)
{
  const char *p, *run = value;

  g_string_append_c (out, '"');
  for (p = value; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;

      g_string_append_len (out, run, p - run);
      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, c);
        }
      else
        g_string_append_printf (out, "\\u%04x", c);
      run = p + 1;
    }
  g_string_append_len (out, run, p - run);
  g_string_append_c (out, '"');
}

/* The hot path of every read: written out directly rather than through
 * json-glib, which escapes character by character. payload.type is one of
 * two fixed names and payload.data was checked to be base64 when it was
 * stored, so neither needs escaping. */
static struct MHD_Response *
content_response (Request      *req,
                  RelayMailbox *mailbox)
{
  g_autofree char *expiration = lk_time_format_unix (mailbox->expires);
  char etag[32];
  GString *out = g_string_sized_new (strlen (mailbox->payload_data) + 512);
  struct MHD_Response *response;

  g_string_append (out, "{\"payload\":{\"type\":\"");
  g_string_append (out, mailbox->payload_type);
  g_string_append (out, "\",\"data\":\"");
  g_string_append (out, mailbox->payload_data);
  g_string_append (out, "\"},\"displayInformation\":{\"title\":");
  append_json_string (out, mailbox->title ? mailbox->title : "");
  if (mailbox->description != NULL)
    {
      g_string_append (out, ",\"description\":");
      append_json_string (out, mailbox->description);
    }
  if (mailbox->image_url != NULL)
    {
      g_string_append (out, ",\"imageURL\":");
      append_json_string (out, mailbox->image_url);
    }
  g_string_append (out, "},\"expiration\":\"");
  g_string_append (out, expiration);
  /* Ours: lets the initiator see that the invitation was opened. */
  g_string_append (out, mailbox->recipient_claim != NULL ? "\",\"recipientBound\":true}"
                                                         : "\",\"recipientBound\":false}");

  response = response_from_string (g_string_free (out, FALSE));
  MHD_add_response_header (response, "Content-Type", "application/json");
  add_common_headers (req, response);
  g_snprintf (etag, sizeof etag, "\"%" G_GINT64_FORMAT "\"", mailbox->version);
  MHD_add_response_header (response, "ETag", etag);
  return response;
}

static struct MHD_Response *
not_modified_response (Request *req,
                       gint64   version)
{
  g_autofree char *etag = relay_format_etag (version);
  struct MHD_Response *response = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);

  add_common_headers (req, response);
  MHD_add_response_header (response, "ETag", etag);
  return response;
}

/* The store's answer to an operation, as HTTP. Runs on the writer thread. */
static struct MHD_Response *
op_response (Request *req,
             RelayOp *op,
             guint   *status)
{
  g_autoptr(JsonObject) object = json_object_new ();

  switch (op->status)
    {
    case RELAY_STATUS_OK:
    case RELAY_STATUS_DUPLICATE:
      /* The draft answers a retried Mailbox-Request-ID with 201. */
      *status = op->status == RELAY_STATUS_DUPLICATE ? MHD_HTTP_CREATED : MHD_HTTP_OK;
      switch (op->kind)
        {
        case RELAY_OP_CREATE:
          {
            g_autofree char *url = mailbox_url (req, op->result->id);
            g_autofree char *etag = relay_format_etag (op->result->version);
            struct MHD_Response *response;

            g_autofree char *expiration = lk_time_format_unix (op->result->expires);

            json_object_set_string_member (object, "urlLink", url);
            json_object_set_boolean_member (object, "isPushNotificationSupported", TRUE);
            /* Ours: the sender learns the expiration the relay granted. */
            json_object_set_string_member (object, "expiration", expiration);
            response = json_response (req, object);
            MHD_add_response_header (response, "ETag", etag);
            return response;
          }

        case RELAY_OP_UPDATE:
          {
            g_autofree char *etag = op->result ? relay_format_etag (op->result->version) : NULL;
            struct MHD_Response *response;

            json_object_set_boolean_member (object, "isPushNotificationSupported", TRUE);
            response = json_response (req, object);
            if (etag != NULL)
              MHD_add_response_header (response, "ETag", etag);
            return response;
          }

        case RELAY_OP_READ:
          return content_response (req, op->result);

        case RELAY_OP_DELETE:
        case RELAY_OP_RELINQUISH:
        case RELAY_OP_PURGE:
        default:
          return json_response (req, object);
        }

    case RELAY_STATUS_NOT_FOUND:
      *status = MHD_HTTP_NOT_FOUND;
      return error_response (req, *status, "not_found", "There is no such mailbox, or it has expired", 0);

    case RELAY_STATUS_UNAUTHORIZED:
      *status = MHD_HTTP_UNAUTHORIZED;
      return error_response (req, *status, "unauthorized", "This device claim has no access to the mailbox", 0);

    case RELAY_STATUS_FORBIDDEN:
      *status = MHD_HTTP_UNAUTHORIZED;
      return error_response (req, *status, "forbidden",
                             "The mailbox's access rights do not allow this to the recipient", 0);

    case RELAY_STATUS_CONFLICT:
      {
        g_autofree char *etag = relay_format_etag (op->result->version);
        struct MHD_Response *response;

        *status = MHD_HTTP_PRECONDITION_FAILED;
        response = error_response (req, *status, "version_mismatch",
                                   "The mailbox changed since you last read it; read it again first", 0);
        MHD_add_response_header (response, "ETag", etag);
        return response;
      }

    case RELAY_STATUS_CLIENT_FULL:
      *status = MHD_HTTP_TOO_MANY_REQUESTS;
      return error_response (req, *status, "too_many_mailboxes",
                             "Too many live mailboxes, or too many bytes in them, from this address; "
                             "delete some first", (guint) MIN (req->server->config->sweep_interval, 3600));

    case RELAY_STATUS_STORE_FULL:
    case RELAY_STATUS_NO_SPACE:
      /* 507: the relay has no room to store it, for now. */
      *status = MHD_HTTP_INSUFFICIENT_STORAGE;
      return error_response (req, *status, "storage_full",
                             op->status == RELAY_STATUS_NO_SPACE
                               ? "The relay's disk is full; try again later"
                               : "The relay holds as much as it may; try again later",
                             (guint) MIN (req->server->config->sweep_interval, 3600));

    case RELAY_STATUS_FAILED:
    default:
      *status = MHD_HTTP_SERVICE_UNAVAILABLE;
      return error_response (req, *status, "unavailable", "The relay could not store this; try again", 1);
    }
}

static void
on_op_done (RelayOp  *op,
            gpointer  user_data)
{
  Request *req = user_data;
  RelayServer *self = req->server;
  gboolean changed = op->status == RELAY_STATUS_OK && op->kind != RELAY_OP_CREATE &&
                     (op->kind != RELAY_OP_READ || g_strcmp0 (op->result->recipient_claim, op->claim) == 0);

  if (op->status == RELAY_STATUS_CLIENT_FULL)
    g_atomic_int_inc (&self->rejected_mailboxes);
  else if (op->status == RELAY_STATUS_STORE_FULL || op->status == RELAY_STATUS_NO_SPACE)
    g_atomic_int_inc (&self->rejected_storage);

  /* Every change a reader could see drops the kept answer first. */
  if (op->kind != RELAY_OP_CREATE && op->status == RELAY_STATUS_OK)
    relay_cache_invalidate (self->cache, op->mailbox_id);

  req->response = op_response (req, op, &req->status);

  /* The other side's waiting read learns of the change now, not at its timeout. */
  if (changed)
    relay_waiters_notify (self->waiters, op->mailbox_id);

  MHD_resume_connection (req->connection);
}

static void
submit (Request *req,
        RelayOp *op)
{
  req->op = op;
  op->done = on_op_done;
  op->user_data = req;
  req->state = STATE_SUSPENDED;

  /* Suspend first: the writer may finish before submit returns. */
  g_atomic_int_inc (&req->server->suspended);
  MHD_suspend_connection (req->connection);
  relay_store_submit (req->server->store, op);
}

static void
on_waiter_woken (RelayWaiter *waiter,
                 gpointer     user_data)
{
  Request *req = user_data;

  MHD_resume_connection (req->connection);
}

/* Handlers, on MHD's thread */

static const char *
header (Request    *req,
        const char *name)
{
  return MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, name);
}

/* Claims are required wherever the draft lists them; a missing or malformed
 * one is the draft's "bad claim", 401. */
static gboolean
take_claim (Request *req)
{
  req->claim = relay_parse_uuid (header (req, "Mailbox-Device-Claim"));
  return req->claim != NULL;
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static enum MHD_Result
handle_create (Request *req)
{
  RelayServer *self = req->server;
  const RelayConfig *config = self->config;
  g_auto(RelayBody) body = { 0 };
  g_autoptr(GError) error = NULL;
  RelayMailbox *mailbox;
  RelayOp *op;
  gint64 now = now_seconds ();
  const char *attestation;

  if (!take_claim (req))
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "bad_claim",
                        "Mailbox-Device-Claim must be a UUID");

  attestation = header (req, "Mailbox-Device-Attestation");
  if (attestation != NULL && strlen (attestation) > RELAY_MAX_ATTESTATION)
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "bad_attestation",
                        "Mailbox-Device-Attestation is too long");

  if (!relay_parse_create_body ((const char *) req->body->data, req->body->len, &body, &error))
    return queue_error (req, MHD_HTTP_BAD_REQUEST, "bad_request", error->message);

  if (body.expiration != 0 && body.expiration <= now)
    return queue_error (req, MHD_HTTP_BAD_REQUEST, "bad_request",
                        "mailboxConfiguration.expiration is in the past");

  mailbox = relay_mailbox_new ();
  /* The store counts the creator's live mailboxes and bytes from this. */
  mailbox->has_creator = TRUE;
  mailbox->creator = req->client;
  mailbox->id = lk_uuid_new_random ();
  mailbox->initiator_claim = g_strdup (req->claim);
  mailbox->access = body.access;
  mailbox->created = now;
  /* Longer than allowed is shortened, not refused: the Read answer tells the
   * client the expiration it got. */
  mailbox->expires = body.expiration != 0 ? MIN (body.expiration, now + config->max_expiration)
                                          : now + config->default_expiration;
  mailbox->payload_type = g_steal_pointer (&body.payload_type);
  mailbox->payload_data = g_steal_pointer (&body.payload_data);
  mailbox->title = g_steal_pointer (&body.title);
  mailbox->description = g_steal_pointer (&body.description);
  mailbox->image_url = g_steal_pointer (&body.image_url);
  mailbox->initiator_token = g_steal_pointer (&body.token);

  op = relay_op_new (RELAY_OP_CREATE, now);
  op->claim = g_strdup (req->claim);
  op->request_id = g_strdup (req->request_id);
  op->mailbox = mailbox;
  g_strlcpy (req->mailbox_id, mailbox->id, sizeof req->mailbox_id);

  submit (req, op);
  return MHD_YES;
}

static enum MHD_Result
handle_display (Request *req)
{
  g_autoptr(RelayMailbox) mailbox = NULL;
  g_autoptr(GError) error = NULL;
  struct MHD_Response *response;
  guint status = MHD_HTTP_OK;

  mailbox = relay_store_lookup (req->server->store, req->mailbox_id, &error);
  if (error != NULL)
    return queue_error (req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "The relay could not read its store");

  if (mailbox == NULL || !relay_mailbox_is_live (mailbox, now_seconds ()))
    {
      status = MHD_HTTP_NOT_FOUND;
      response = response_from_string (relay_page_render_not_found ());
    }
  else
    {
      g_autofree char *url = mailbox_url (req, mailbox->id);

      response = response_from_string (relay_page_render (mailbox, url));
    }

  MHD_add_response_header (response, "Content-Type", "text/html; charset=utf-8");
  MHD_add_response_header (response, "Content-Security-Policy", relay_page_get_csp ());
  MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
  MHD_add_response_header (response, "X-Frame-Options", "DENY");
  add_common_headers (req, response);
  return queue (req, status, response);
}

/* Answers a read with what the mailbox holds now, and keeps the answer for
 * the next read unless it echoes a request id. */
static enum MHD_Result
answer_read (Request      *req,
             RelayMailbox *mailbox,
             guint64       epoch)
{
  struct MHD_Response *response;
  enum MHD_Result result;

  if (mailbox == NULL || !relay_mailbox_is_live (mailbox, now_seconds ()))
    return queue_error (req, MHD_HTTP_NOT_FOUND, "not_found", "There is no such mailbox, or it has expired");

  response = content_response (req, mailbox);
  if (req->request_id != NULL)
    return queue (req, MHD_HTTP_OK, response);

  /* Queued before it is shared, so that a drop cannot free it first. */
  result = MHD_queue_response (req->connection, MHD_HTTP_OK, response);
  g_atomic_int_inc (&req->server->statuses[2]);
  if (!relay_cache_store (req->server->cache, epoch, mailbox, response))
    MHD_destroy_response (response);
  return result;
}

/* A wait ends when asked, or when the mailbox expires if that is sooner:
 * the reader then learns at once that it is gone. */
static gint64
wait_deadline (const RelayMailbox *mailbox,
               guint               seconds)
{
  gint64 now = g_get_monotonic_time ();
  /* A few milliseconds after, so that the expiry has happened by then. */
  gint64 until_expiry = mailbox->expires * G_USEC_PER_SEC - g_get_real_time () + 5000;

  return now + MIN ((gint64) seconds * G_USEC_PER_SEC, MAX (until_expiry, 0));
}

static enum MHD_Result
handle_read (Request *req)
{
  RelayServer *self = req->server;
  g_autoptr(RelayMailbox) mailbox = NULL;
  g_autoptr(GError) error = NULL;
  const char *if_none_match;
  guint wait = 0;
  guint64 epoch;
  gboolean initiator, recipient;

  if (!take_claim (req))
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "bad_claim", "Mailbox-Device-Claim must be a UUID");

  /* The common case: a side reading a mailbox that has not changed. */
  if_none_match = header (req, MHD_HTTP_HEADER_IF_NONE_MATCH);
  if (if_none_match == NULL || !relay_parse_etag (if_none_match, &req->known_version))
    req->known_version = -1;
  if (req->request_id == NULL)
    {
      enum MHD_Result result;

      if (relay_cache_serve (self->cache, req->mailbox_id, req->claim, now_seconds (), req->known_version,
                             req->connection, &result))
        {
          g_atomic_int_inc (&self->statuses[2]);
          return result;
        }
    }

  epoch = relay_cache_get_epoch (self->cache);
  mailbox = relay_store_lookup (self->store, req->mailbox_id, &error);
  if (error != NULL)
    return queue_error (req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "The relay could not read its store");
  if (mailbox == NULL || !relay_mailbox_is_live (mailbox, now_seconds ()))
    return queue_error (req, MHD_HTTP_NOT_FOUND, "not_found", "There is no such mailbox, or it has expired");

  initiator = g_strcmp0 (req->claim, mailbox->initiator_claim) == 0;
  recipient = g_strcmp0 (req->claim, mailbox->recipient_claim) == 0;

  if (!initiator && !recipient)
    {
      RelayOp *op;

      if (mailbox->recipient_claim != NULL)
        return queue_error (req, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                            "This mailbox was already claimed by another device");

      /* The first recipient read binds the claim: a durable write. */
      op = relay_op_new (RELAY_OP_READ, now_seconds ());
      op->mailbox_id = g_strdup (req->mailbox_id);
      op->claim = g_strdup (req->claim);
      submit (req, op);
      return MHD_YES;
    }

  if (recipient && !(mailbox->access & RELAY_ACCESS_READ))
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "forbidden",
                        "The mailbox's access rights do not allow this to the recipient");

  /* Our extension: If-None-Match with the version the client has, and
   * Prefer: wait=N, park the read until the mailbox changes. */
  if (req->known_version >= 0 && req->known_version == mailbox->version)
    {
      relay_parse_prefer_wait (header (req, "Prefer"), &wait);
      if (wait == 0)
        return queue (req, MHD_HTTP_NOT_MODIFIED, not_modified_response (req, mailbox->version));

      req->metric = METRIC_WAIT;
      req->state = STATE_SUSPENDED;
      req->waited = TRUE;
      g_atomic_int_inc (&self->suspended);
      MHD_suspend_connection (req->connection);
      switch (relay_waiters_add (self->waiters, &req->waiter, req->mailbox_id, &req->client,
                                 wait_deadline (mailbox, wait), req))
        {
        case RELAY_WAITERS_ADDED:
          break;

        case RELAY_WAITERS_CLIENT_FULL:
          /* One client's share of the places, so that a few cannot take them all. */
          g_atomic_int_inc (&self->rejected_waiters);
          req->waited = FALSE;
          req->response = error_response (req, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_waiters",
                                          "Too many waiting reads from this address; poll again shortly", 1);
          req->status = MHD_HTTP_TOO_MANY_REQUESTS;
          MHD_resume_connection (req->connection);
          return MHD_YES;

        case RELAY_WAITERS_STOPPING:
          req->waited = FALSE;
          req->response = error_response (req, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down",
                                          "The relay is restarting", 1);
          req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
          MHD_resume_connection (req->connection);
          return MHD_YES;

        case RELAY_WAITERS_FULL:
        default:
          g_atomic_int_inc (&self->rejected_waiters);
          req->waited = FALSE;
          req->response = error_response (req, MHD_HTTP_SERVICE_UNAVAILABLE, "too_many_waiters",
                                          "Too many waiting reads; poll again shortly", 1);
          req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
          MHD_resume_connection (req->connection);
          return MHD_YES;
        }

      /* A write that landed between the lookup and the registration has
       * already notified; look again so it is not missed. */
      {
        g_autoptr(RelayMailbox) again = relay_store_lookup (self->store, req->mailbox_id, NULL);

        if (again == NULL || again->version != req->known_version || again->deleted)
          relay_waiters_wake (self->waiters, &req->waiter);
      }
      return MHD_YES;
    }

  return answer_read (req, mailbox, epoch);
}

static enum MHD_Result
resume_wait (Request *req)
{
  RelayServer *self = req->server;
  g_autoptr(RelayMailbox) mailbox = NULL;

  switch (req->waiter.state)
    {
    case RELAY_WAITER_CHANGED:
      {
        guint64 epoch = relay_cache_get_epoch (self->cache);

        mailbox = relay_store_lookup (self->store, req->mailbox_id, NULL);
        return answer_read (req, mailbox, epoch);
      }

    case RELAY_WAITER_TIMED_OUT:
      mailbox = relay_store_lookup (self->store, req->mailbox_id, NULL);
      if (mailbox == NULL || !relay_mailbox_is_live (mailbox, now_seconds ()))
        return queue_error (req, MHD_HTTP_NOT_FOUND, "not_found", "There is no such mailbox, or it has expired");
      return queue (req, MHD_HTTP_NOT_MODIFIED, not_modified_response (req, req->known_version));

    case RELAY_WAITER_SHUTDOWN:
    case RELAY_WAITER_WAITING:
    default:
      return queue_error (req, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down", "The relay is restarting");
    }
}

static enum MHD_Result
handle_update (Request *req)
{
  g_auto(RelayBody) body = { 0 };
  g_autoptr(GError) error = NULL;
  const char *if_match;
  const char *attestation;
  RelayOp *op;

  if (!take_claim (req))
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "bad_claim", "Mailbox-Device-Claim must be a UUID");

  attestation = header (req, "Mailbox-Device-Attestation");
  if (attestation != NULL && strlen (attestation) > RELAY_MAX_ATTESTATION)
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "bad_attestation", "Mailbox-Device-Attestation is too long");

  if (!relay_parse_update_body ((const char *) req->body->data, req->body->len, &body, &error))
    return queue_error (req, MHD_HTTP_BAD_REQUEST, "bad_request", error->message);

  op = relay_op_new (RELAY_OP_UPDATE, now_seconds ());
  if_match = header (req, MHD_HTTP_HEADER_IF_MATCH);
  if (if_match != NULL && !relay_parse_etag (if_match, &op->if_match))
    {
      relay_op_free (op);
      return queue_error (req, MHD_HTTP_BAD_REQUEST, "bad_request", "If-Match must be an entity tag we issued");
    }

  op->mailbox_id = g_strdup (req->mailbox_id);
  op->claim = g_strdup (req->claim);
  op->request_id = g_strdup (req->request_id);
  op->payload_type = g_steal_pointer (&body.payload_type);
  op->payload_data = g_steal_pointer (&body.payload_data);
  op->token = g_steal_pointer (&body.token);

  submit (req, op);
  return MHD_YES;
}

static enum MHD_Result
handle_simple_op (Request     *req,
                  RelayOpKind  kind)
{
  RelayOp *op;

  if (!take_claim (req))
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "bad_claim", "Mailbox-Device-Claim must be a UUID");

  op = relay_op_new (kind, now_seconds ());
  op->mailbox_id = g_strdup (req->mailbox_id);
  op->claim = g_strdup (req->claim);
  op->request_id = g_strdup (req->request_id);

  submit (req, op);
  return MHD_YES;
}

static enum MHD_Result
handle_metrics (Request *req)
{
  RelayServer *self = req->server;
  GString *text = g_string_new (NULL);
  struct MHD_Response *response;
  gint64 live = relay_store_count_live (self->store, now_seconds ());
  RelayStoreState state;
  HttpdGuardStats guard;

  relay_store_get_state (self->store, &state);
  httpd_guard_get_stats (self->guard, &guard);

  g_string_append (text, "# HELP latchkey_relay_requests_total Requests by operation.\n"
                         "# TYPE latchkey_relay_requests_total counter\n");
  for (guint i = 0; i < N_METRICS; i++)
    g_string_append_printf (text, "latchkey_relay_requests_total{operation=\"%s\"} %d\n",
                            metric_names[i], g_atomic_int_get (&self->requests[i]));

  g_string_append (text, "# HELP latchkey_relay_responses_total Responses by status class.\n"
                         "# TYPE latchkey_relay_responses_total counter\n");
  for (guint i = 1; i <= 5; i++)
    g_string_append_printf (text, "latchkey_relay_responses_total{class=\"%uxx\"} %d\n",
                            i, g_atomic_int_get (&self->statuses[i]));

  g_string_append_printf (text,
                          "# HELP latchkey_relay_rejected_total Requests and connections refused at a limit.\n"
                          "# TYPE latchkey_relay_rejected_total counter\n"
                          "latchkey_relay_rejected_total{limit=\"rate\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"body_size\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"waiters\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"mailboxes\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"storage\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"body_memory\"} %" G_GUINT64_FORMAT "\n"
                          "latchkey_relay_rejected_total{limit=\"connections\"} %" G_GUINT64_FORMAT "\n"
                          "latchkey_relay_rejected_total{limit=\"request_timeout\"} %" G_GUINT64_FORMAT "\n"
                          "# HELP latchkey_relay_mailboxes Live mailboxes.\n"
                          "# TYPE latchkey_relay_mailboxes gauge\n"
                          "latchkey_relay_mailboxes %" G_GINT64_FORMAT "\n"
                          "# HELP latchkey_relay_stored_bytes Bytes stored in mailboxes not yet purged.\n"
                          "# TYPE latchkey_relay_stored_bytes gauge\n"
                          "latchkey_relay_stored_bytes %" G_GINT64_FORMAT "\n"
                          "# HELP latchkey_relay_storage_full 1 while the disk is full: writes get 507.\n"
                          "# TYPE latchkey_relay_storage_full gauge\n"
                          "latchkey_relay_storage_full %d\n"
                          "# HELP latchkey_relay_connections Open connections.\n"
                          "# TYPE latchkey_relay_connections gauge\n"
                          "latchkey_relay_connections %u\n"
                          "# HELP latchkey_relay_body_memory_bytes Request bodies held in memory.\n"
                          "# TYPE latchkey_relay_body_memory_bytes gauge\n"
                          "latchkey_relay_body_memory_bytes %" G_GSIZE_FORMAT "\n"
                          "# HELP latchkey_relay_waiters Waiting reads parked now.\n"
                          "# TYPE latchkey_relay_waiters gauge\n"
                          "latchkey_relay_waiters %u\n"
                          "# HELP latchkey_relay_clients Clients the rate limiter remembers.\n"
                          "# TYPE latchkey_relay_clients gauge\n"
                          "latchkey_relay_clients %u\n"
                          "# HELP latchkey_relay_purged_total Expired mailboxes purged.\n"
                          "# TYPE latchkey_relay_purged_total counter\n"
                          "latchkey_relay_purged_total %d\n"
                          "# HELP latchkey_relay_log_suppressed_total libmicrohttpd messages not logged, as repeats.\n"
                          "# TYPE latchkey_relay_log_suppressed_total counter\n"
                          "latchkey_relay_log_suppressed_total %" G_GUINT64_FORMAT "\n",
                          g_atomic_int_get (&self->rejected_rate),
                          g_atomic_int_get (&self->rejected_size),
                          g_atomic_int_get (&self->rejected_waiters),
                          g_atomic_int_get (&self->rejected_mailboxes),
                          g_atomic_int_get (&self->rejected_storage),
                          guard.refused_bodies,
                          guard.refused_connections,
                          guard.timed_out,
                          live,
                          state.bytes,
                          state.disk_full ? 1 : 0,
                          guard.connections,
                          guard.body_memory,
                          relay_waiters_get_count (self->waiters),
                          relay_limiter_get_n_clients (self->limiter),
                          g_atomic_int_get (&self->purged),
                          httpd_log_get_suppressed (self->log));

  response = response_from_string (g_string_free (text, FALSE));
  MHD_add_response_header (response, "Content-Type", "text/plain; version=0.0.4");
  add_common_headers (req, response);
  return queue (req, MHD_HTTP_OK, response);
}

static enum MHD_Result
dispatch (Request *req)
{
  const char *method = req->method;

  req->dispatched = TRUE;
  g_atomic_int_inc (&req->server->answering);

  if (req->early_status != 0)
    {
      struct MHD_Response *response = error_response (req, req->early_status, req->early_error,
                                                      req->early_message, req->early_retry_after);

      if (g_atomic_int_get (&req->server->stopping))
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONNECTION, "close");
      return queue (req, req->early_status, response);
    }

  switch (req->route)
    {
    case ROUTE_HEALTH:
      if (strcmp (method, "GET") == 0)
        {
          RelayStoreState state;
          struct MHD_Response *response;

          /* Reads still work on a full disk, but every write fails: degraded. */
          relay_store_get_state (req->server->store, &state);
          if (state.disk_full)
            return queue (req, MHD_HTTP_SERVICE_UNAVAILABLE,
                          error_response (req, MHD_HTTP_SERVICE_UNAVAILABLE, "storage_full",
                                          "Degraded: the disk is full, so writes are refused; reads work", 0));

          response = response_from_string (g_strdup ("ok\n"));
          MHD_add_response_header (response, "Content-Type", "text/plain");
          add_common_headers (req, response);
          return queue (req, MHD_HTTP_OK, response);
        }
      break;

    case ROUTE_METRICS:
      if (strcmp (method, "GET") == 0)
        return handle_metrics (req);
      break;

    case ROUTE_MAILBOXES:
      if (strcmp (method, "POST") == 0)
        return handle_create (req);
      break;

    case ROUTE_MAILBOX:
      if (strcmp (method, "GET") == 0)
        return handle_display (req);
      if (strcmp (method, "POST") == 0)
        return handle_read (req);
      if (strcmp (method, "PUT") == 0)
        return handle_update (req);
      if (strcmp (method, "DELETE") == 0)
        return handle_simple_op (req, RELAY_OP_DELETE);
      if (strcmp (method, "PATCH") == 0)
        return handle_simple_op (req, RELAY_OP_RELINQUISH);
      break;

    case ROUTE_NONE:
    default:
      return queue_error (req, MHD_HTTP_NOT_FOUND, "not_found", "There is nothing at this path");
    }

  return queue_error (req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                      "This path does not take that method");
}

static Route
route_for (const char *url,
           char        mailbox_id[40])
{
  mailbox_id[0] = '\0';

  if (strcmp (url, "/healthz") == 0)
    return ROUTE_HEALTH;
  if (strcmp (url, "/metrics") == 0)
    return ROUTE_METRICS;
  if (strcmp (url, "/v1/m") == 0)
    return ROUTE_MAILBOXES;
  if (g_str_has_prefix (url, "/v1/m/"))
    {
      g_autofree char *id = relay_parse_uuid (url + strlen ("/v1/m/"));

      if (id == NULL)
        return ROUTE_NONE;
      g_strlcpy (mailbox_id, id, 40);
      return ROUTE_MAILBOX;
    }

  return ROUTE_NONE;
}

static Metric
metric_for (Route       route,
            const char *method)
{
  if (route == ROUTE_MAILBOXES)
    return METRIC_CREATE;
  if (route != ROUTE_MAILBOX)
    return METRIC_OTHER;
  if (strcmp (method, "GET") == 0)
    return METRIC_DISPLAY;
  if (strcmp (method, "POST") == 0)
    return METRIC_READ;
  if (strcmp (method, "PUT") == 0)
    return METRIC_UPDATE;
  if (strcmp (method, "DELETE") == 0)
    return METRIC_DELETE;
  if (strcmp (method, "PATCH") == 0)
    return METRIC_RELINQUISH;
  return METRIC_OTHER;
}

/* Who the client is: its address group, as a keyed hash. */
static void
client_of (RelayServer           *self,
           struct MHD_Connection *connection,
           HttpdKey              *client)
{
  const union MHD_ConnectionInfo *info;

  if (self->config->trust_forwarded_for)
    {
      const char *forwarded = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "X-Forwarded-For");

      /* The proxy appends the address it saw: the last entry is the one to trust. */
      if (forwarded != NULL && strlen (forwarded) < 1024)
        {
          const char *last = strrchr (forwarded, ',');
          g_autofree char *candidate = g_strstrip (g_strdup (last ? last + 1 : forwarded));

          if (relay_limiter_client_of_text (self->limiter, candidate, client))
            return;
        }
    }

  info = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  relay_limiter_client_of_socket (self->limiter, info != NULL ? info->client_addr : NULL, client);
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

/* The first call, with the headers only: everything that can be refused
 * before reading a body is refused here. */
static enum MHD_Result
begin_request (RelayServer           *self,
               struct MHD_Connection *connection,
               const char            *url,
               const char            *method,
               const char            *version,
               void                 **con_cls)
{
  Request *req = g_new0 (Request, 1);
  const char *length, *encoding, *content_type, *request_id;
  gboolean has_body = FALSE;
  guint retry_after = 0;

  req->server = self;
  req->connection = connection;
  req->method = method;
  req->body = g_byte_array_new ();
  req->route = route_for (url, req->mailbox_id);
  req->metric = metric_for (req->route, method);
  *con_cls = req;

  g_atomic_int_inc (&self->requests[req->metric]);

  request_id = header (req, "Mailbox-Request-ID");
  if (request_id != NULL)
    {
      req->request_id = relay_parse_uuid (request_id);
      if (req->request_id == NULL)
        set_early (req, MHD_HTTP_BAD_REQUEST, "bad_request_id", "Mailbox-Request-ID must be a UUID");
    }

  /* Checked here rather than by libmicrohttpd, whose own answer to it is
   * malformed (its headers twice). */
  if (strcmp (version, MHD_HTTP_VERSION_1_1) == 0 && header (req, MHD_HTTP_HEADER_HOST) == NULL)
    set_early (req, MHD_HTTP_BAD_REQUEST, "bad_request", "An HTTP/1.1 request needs a Host header");

  /* Turned away while stopping: the client retries against the new relay. */
  if (g_atomic_int_get (&self->stopping))
    set_early (req, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down", "The relay is restarting");

  client_of (self, connection, &req->client);
  if (req->route == ROUTE_MAILBOX || req->route == ROUTE_MAILBOXES)
    {
      if (!relay_limiter_allow (self->limiter, &req->client, g_get_monotonic_time (), &retry_after))
        {
          g_atomic_int_inc (&self->rejected_rate);
          req->early_retry_after = retry_after;
          req->early_status = 0;
          set_early (req, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited", "Too many requests; slow down");
        }
    }

  encoding = header (req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  length = header (req, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (encoding != NULL)
    {
      /* A body of unknown length could only be refused half-read, which
       * means a hard close: ask for a Content-Length instead. */
      g_atomic_int_inc (&self->rejected_size);
      req->early_status = 0;
      set_early (req, MHD_HTTP_CONTENT_TOO_LARGE, "length_required",
                 "Send the body with a Content-Length, not chunked");
      has_body = TRUE;
    }
  else if (length != NULL)
    {
      guint64 value = 0;

      if (!g_ascii_string_to_unsigned (length, 10, 0, G_MAXUINT64, &value, NULL))
        set_early (req, MHD_HTTP_BAD_REQUEST, "bad_request", "Content-Length is not a number");
      else if (value > self->config->max_body)
        {
          g_atomic_int_inc (&self->rejected_size);
          req->early_status = 0;
          set_early (req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "The request body is too large");
        }
      else if (req->early_status == 0 && value > 0)
        {
          /* Bodies share a memory budget, taken before a byte is read: many
           * slow uploads at once get 503, not the relay's memory. */
          if (!httpd_guard_reserve_body (self->guard, connection, value))
            {
              g_atomic_int_inc (&self->rejected_busy);
              set_early (req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "Too many uploads at once; try again shortly");
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

  content_type = header (req, MHD_HTTP_HEADER_CONTENT_TYPE);
  if ((strcmp (method, "PUT") == 0 || (strcmp (method, "POST") == 0 && req->route == ROUTE_MAILBOXES)) &&
      !relay_is_json_content_type (content_type))
    set_early (req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
               "The body must be application/json");

  /* Refusing a request that comes with a body before reading it closes the
   * connection, which is what an oversized or abusive upload deserves. */
  if (req->early_status != 0 && has_body)
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
  RelayServer *self = cls;
  Request *req = *con_cls;

  if (req == NULL)
    return begin_request (self, connection, url, method, version, con_cls);

  if (*upload_data_size > 0)
    {
      /* Never more than the declared length, which the budget reserved. */
      if (req->body->len + *upload_data_size > req->body_length)
        return MHD_NO;
      g_byte_array_append (req->body, (const guint8 *) upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }

  switch (req->state)
    {
    case STATE_NEW:
      httpd_guard_request_received (self->guard, connection);
      return dispatch (req);

    case STATE_SUSPENDED:
      g_atomic_int_dec_and_test (&self->suspended);
      req->state = STATE_RESUMED;
      if (req->waited)
        return resume_wait (req);
      {
        struct MHD_Response *response = g_steal_pointer (&req->response);

        return queue (req, req->status, response);
      }

    case STATE_RESUMED:
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
  RelayServer *self = cls;
  Request *req = *con_cls;

  httpd_guard_request_completed (self->guard, connection);
  if (req != NULL && req->dispatched)
    g_atomic_int_dec_and_test (&self->answering);
  /* Resumed, but closed before the handler ran again (the client left). */
  if (req != NULL && req->state == STATE_SUSPENDED)
    g_atomic_int_dec_and_test (&self->suspended);
  g_clear_pointer ((Request **) con_cls, request_free);
}

/* MHD's own messages may quote request lines; cut mailbox ids short. */
static char *
redact_mhd (const char *text)
{
  g_autoptr(GRegex) uuid = g_regex_new ("([0-9a-fA-F]{8})-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                                        0, 0, NULL);

  return g_regex_replace (uuid, text, -1, 0, "\\1-…", 0, NULL);
}

static void
relay_server_finalize (GObject *object)
{
  RelayServer *self = (RelayServer *) object;

  relay_server_stop (self);
  g_clear_pointer (&self->waiters, relay_waiters_free);
  g_clear_pointer (&self->cache, relay_cache_free);
  g_clear_pointer (&self->limiter, relay_limiter_free);
  g_clear_pointer (&self->guard, httpd_guard_free);
  g_clear_pointer (&self->log, httpd_log_free);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (relay_server_parent_class)->finalize (object);
}

static void
relay_server_class_init (RelayServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = relay_server_finalize;
}

static void
relay_server_init (RelayServer *self)
{
  self->listener = MHD_INVALID_SOCKET;
}

/**
 * relay_server_new:
 * @config: the settings; must outlive the server
 * @limiter: (transfer full): who clients are, and their rates
 */
RelayServer *
relay_server_new (const RelayConfig *config,
                  RelayStore        *store,
                  RelayLimiter      *limiter)
{
  RelayServer *self = g_object_new (RELAY_TYPE_SERVER, NULL);
  HttpdGuardLimits limits = {
    /* Behind a proxy every connection comes from the proxy: its own
     * per-address limit (nginx's limit_conn) takes this one's place. */
    .max_per_client = config->trust_forwarded_for ? 0 : config->max_connections_per_client,
    .request_timeout = config->request_timeout,
    .idle_timeout = config->connection_timeout,
    .max_body_memory = config->max_body_memory,
    .max_body_memory_per_client = MAX (config->max_body, config->max_body_memory / 32),
    .ipv6_prefix = config->ipv6_prefix,
    .tls = config->tls_certificate != NULL,
  };

  self->config = config;
  self->store = g_object_ref (store);
  self->limiter = limiter;
  self->waiters = relay_waiters_new (config->max_waiters, config->max_waiters_per_client, on_waiter_woken);
  self->cache = relay_cache_new (RELAY_CACHE_MAX_ENTRIES, RELAY_CACHE_MAX_BYTES);
  self->guard = httpd_guard_new (&limits);
  self->log = httpd_log_new (LOG_INTERVAL_SECONDS, redact_mhd);
  self->log_requests = !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);

  return self;
}

gboolean
relay_server_start (RelayServer  *self,
                    GError      **error)
{
  const RelayConfig *config = self->config;
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
  OPTION (MHD_OPTION_CONNECTION_MEMORY_LIMIT, RELAY_CONNECTION_POOL, NULL);
  OPTION (MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096, NULL);
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
  self->port = info ? info->port : config->port;

  return TRUE;
}

guint
relay_server_get_port (RelayServer *self)
{
  return self->port;
}

/**
 * relay_server_sweep:
 *
 * Purges expired mailboxes and forgets idle clients. Blocks until the store
 * has done it; call it from the main thread, not from a handler.
 */
void
relay_server_sweep (RelayServer *self)
{
  g_autoptr(GError) error = NULL;
  gint64 purged;

  purged = relay_store_purge_expired (self->store, now_seconds (), &error);
  if (purged < 0)
    g_debug ("Could not purge expired mailboxes: %s", error->message);
  else if (purged > 0)
    {
      g_atomic_int_add (&self->purged, (gint) purged);
      g_info ("Purged %" G_GINT64_FORMAT " expired mailboxes", purged);
    }

  relay_limiter_sweep (self->limiter, g_get_monotonic_time ());
  /* Expired answers are never served; this frees their memory. */
  relay_cache_clear (self->cache);
  /* And what closed connections left in the allocator goes back too. */
  httpd_system_trim_memory ();
}

/**
 * relay_server_stop:
 *
 * Stops accepting and turns new requests away (503, and the connection is
 * closed), answers every waiting read, waits until every write in flight is
 * durable and its connection resumed, gives the answers a moment to leave,
 * then stops the daemon: libmicrohttpd aborts if a connection is still
 * suspended then.
 */
void
relay_server_stop (RelayServer *self)
{
  gint64 deadline;

  if (self->daemon == NULL)
    return;

  g_atomic_int_set (&self->stopping, TRUE);
  self->listener = MHD_quiesce_daemon (self->daemon);
  relay_waiters_shutdown (self->waiters);

  /* A handler may submit a write right after the flag changed: flush until
   * nothing is suspended. The store answers every write it is given. */
  do
    {
      relay_store_flush (self->store);
      if (g_atomic_int_get (&self->suspended) > 0)
        g_usleep (1000);
    }
  while (g_atomic_int_get (&self->suspended) > 0);

  deadline = g_get_monotonic_time () + STOP_DRAIN_USEC;
  while (g_atomic_int_get (&self->answering) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (1000);

  MHD_stop_daemon (g_steal_pointer (&self->daemon));
  /* Quiescing hands the listening socket to us. */
  if (self->listener != MHD_INVALID_SOCKET)
    close (self->listener);
  self->listener = MHD_INVALID_SOCKET;
}
