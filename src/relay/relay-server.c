/* relay-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The relay's routes and rules, on the server kit (httpd-server.c), whose
 * epoll thread runs every handler here: none may block. Reads are answered
 * at once from a read-only store connection. Writes go to the store's
 * writer thread with the request suspended; its callback, once they are
 * durable, only resumes them, and the answer is made back on the epoll
 * thread (the writer has the next batch to apply). Waiting reads park
 * suspended requests in RelayWaiters until their mailbox changes or their
 * deadline.
 *
 * Per-client limits count address groups: the kit caps connections per
 * client, gives each request a deadline and keeps bodies within a memory
 * budget (httpd-guard.c) and the request rate (httpd-limiter.c); the store
 * keeps the mailbox limits; RelayWaiters the waiting reads.
 */

#define G_LOG_DOMAIN "relay-server"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <microhttpd.h>

#include "latchkey-protocol.h"
#include "httpd-server.h"
#include "httpd-system.h"
#include "relay-cache.h"
#include "relay-metrics.h"
#include "relay-page.h"
#include "relay-request.h"
#include "relay-resources.h"
#include "relay-server.h"
#include "relay-waiters.h"

/* How long a stop waits for answers already decided to be sent. */
#define STOP_DRAIN_USEC (5 * G_USEC_PER_SEC)
/* libmicrohttpd's messages: each kind at most once a minute. */
#define LOG_INTERVAL_SECONDS 60
#define LISTEN_BACKLOG       4096

typedef enum
{
  ROUTE_NONE,
  ROUTE_HEALTH,
  ROUTE_METRICS,
  ROUTE_MAILBOXES,   /* /v1/m */
  ROUTE_MAILBOX,     /* /v1/m/{id} */
} Route;

struct _RelayServer
{
  GObject              parent_instance;

  const RelayConfig   *config;
  RelayStore          *store;
  RelayWaiters        *waiters;
  RelayCache          *cache;
  HttpdServer         *httpd;
  gboolean             log_requests;
  RelayMetrics         metrics;
};

G_DEFINE_FINAL_TYPE (RelayServer, relay_server, G_TYPE_OBJECT)

/* What a request does with its mailbox once looked up (look_up()). */
typedef enum
{
  STEP_NONE,
  STEP_DISPLAY,
  STEP_READ,
  STEP_WAIT_END,
  STEP_METRICS,      /* a count, not a lookup */
} LookupStep;

typedef struct
{
  HttpdRequest           base;
  RelayServer           *server;
  Route                  route;
  char                   mailbox_id[40];
  RelayMetric            metric;

  char                  *claim;
  char                  *request_id;

  /* A create or update body that was refused: the answer unless the
   * request id shows a retry (the draft's 201 ignores the retry's body). */
  guint                  invalid_status;
  const char            *invalid_error;
  char                  *invalid_message;

  /* The store's answer: op_done says the store's callback has run, and
   * the answer is made from op once resumed, on the daemon's thread. */
  RelayOp               *op;
  gboolean               op_done;
  struct MHD_Response   *response;
  guint                  status;

  RelayWaiter            waiter;
  gboolean               waited;
  gint64                 known_version;

  /* A lookup on its way to a worker (relay_store_lookups_block()): where
   * the request goes on once resumed, and the cache epoch taken before. */
  LookupStep             step;
  guint64                epoch;
  /* How long its answer may be kept (relay_cache_store()): for ever with a
   * store of this instance's own; with a shared one, while the read lease
   * the lookup took lasts, counted from before it was asked for. */
  gint64                 lease_start;
  gint64                 lease_until;
} Request;

static void
request_clear (HttpdRequest *base)
{
  Request *req = (Request *) base;

  g_free (req->claim);
  g_free (req->request_id);
  g_free (req->invalid_message);
  g_clear_pointer (&req->op, relay_op_free);
  if (req->response != NULL)
    MHD_destroy_response (req->response);
}

/* Responses */

/* Every answer: the request id it echoes, and what a 405 allows. */
static void
decorate (HttpdRequest        *base,
          struct MHD_Response *response,
          guint                status)
{
  Request *req = (Request *) base;

  if (req->request_id != NULL)
    MHD_add_response_header (response, "Mailbox-Request-ID", req->request_id);
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
    MHD_add_response_header (response, "Allow",
                             req->route == ROUTE_MAILBOXES ? "POST" :
                             req->route == ROUTE_MAILBOX ? "GET, HEAD, POST, PUT, DELETE, PATCH" : "GET");
}

static void
answered (HttpdRequest *base,
          guint         status)
{
  Request *req = (Request *) base;

  relay_metrics_count_status (&req->server->metrics, status);
  /* Formatting a line nobody reads costs a fifth of a read: check first. */
  if (req->server->log_requests)
    g_debug ("%s %s%.8s → %u", base->method,
             req->route == ROUTE_MAILBOX ? "/v1/m/" : req->route == ROUTE_MAILBOXES ? "/v1/m" : "",
             req->mailbox_id, status);
}

static void
refused (HttpdRequest *base,
         HttpdRefusal  refusal)
{
  Request *req = (Request *) base;

  switch (refusal)
    {
    case HTTPD_REFUSED_RATE:
      g_atomic_int_inc (&req->server->metrics.rejected_rate);
      break;
    case HTTPD_REFUSED_SIZE:
      g_atomic_int_inc (&req->server->metrics.rejected_size);
      break;
    case HTTPD_REFUSED_BODY_MEMORY:
    default:
      /* The guard counts these (body_memory). */
      break;
    }
}

static struct MHD_Response *
error_response (Request    *req,
                guint       status,
                const char *error,
                const char *message,
                guint       retry_after)
{
  return httpd_request_error_response (&req->base, status, error, message, retry_after);
}

static enum MHD_Result
queue (Request             *req,
       guint                status,
       struct MHD_Response *response)
{
  return httpd_request_queue (&req->base, status, response);
}

static enum MHD_Result
queue_error (Request    *req,
             guint       status,
             const char *error,
             const char *message)
{
  return httpd_request_queue_error (&req->base, status, error, message);
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
  host = httpd_request_header (&req->base, MHD_HTTP_HEADER_HOST);
  if (host == NULL || strlen (host) > 260 || strspn (host, "abcdefghijklmnopqrstuvwxyz"
                                                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
                                              != strlen (host))
    return g_strdup_printf ("%s://%s:%u/v1/m/%s", httpd_server_get_tls (req->server->httpd) ? "https" : "http",
                            config->listen_address, httpd_server_get_port (req->server->httpd), id);

  return g_strdup_printf ("%s://%s/v1/m/%s", httpd_server_get_tls (req->server->httpd) ? "https" : "http", host, id);
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
content_response_common (RelayMailbox *mailbox)
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
  g_string_append (out, relay_mailbox_count_bound (mailbox) > 0 ? "\",\"recipientBound\":true"
                                                                : "\",\"recipientBound\":false");
  /* Ours too, and only for a mailbox that asked for several recipients
   * (PROTOCOL.md §6.9): a client that did not ask sees the answer it knows. */
  if (mailbox->max_recipients > 1)
    g_string_append_printf (out, ",\"maxRecipients\":%u,\"recipientsBound\":%u,\"recipientsDone\":%u",
                            mailbox->max_recipients, relay_mailbox_count_bound (mailbox),
                            relay_mailbox_count_done (mailbox));
  g_string_append_c (out, '}');

  response = httpd_response_new_text (g_string_free (out, FALSE));
  MHD_add_response_header (response, "Content-Type", "application/json");
  httpd_response_add_common_headers (response);
  g_snprintf (etag, sizeof etag, "\"%" G_GINT64_FORMAT "\"", mailbox->version);
  MHD_add_response_header (response, "ETag", etag);
  return response;
}

/* Without a request id it is the same for every request (decorate()), and
 * so can be kept. */
static struct MHD_Response *
content_response (Request      *req,
                  RelayMailbox *mailbox)
{
  struct MHD_Response *response = content_response_common (mailbox);

  decorate (&req->base, response, MHD_HTTP_OK);
  return response;
}

static struct MHD_Response *
not_modified_response (Request *req,
                       gint64   version)
{
  g_autofree char *etag = relay_format_etag (version);
  struct MHD_Response *response = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);

  httpd_request_add_headers (&req->base, response, MHD_HTTP_NOT_MODIFIED);
  MHD_add_response_header (response, "ETag", etag);
  return response;
}

/* The store's answer to an operation, as HTTP. On the epoll thread, once
 * resumed. */
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
            /* The relay sends no push (PROTOCOL.md §6.2): a client that
             * believed it would wait for one that never comes. */
            json_object_set_boolean_member (object, "isPushNotificationSupported", FALSE);
            /* Ours: the sender learns the expiration the relay granted. */
            json_object_set_string_member (object, "expiration", expiration);
            /* Ours too (PROTOCOL.md §6.9): the sender learns that several
             * may read; a relay without the extension leaves it out. */
            if (op->result->max_recipients > 1)
              json_object_set_int_member (object, "maxRecipients", op->result->max_recipients);
            response = httpd_request_json_response (&req->base, *status, object, 0);
            MHD_add_response_header (response, "ETag", etag);
            return response;
          }

        case RELAY_OP_UPDATE:
          {
            g_autofree char *etag = op->result ? relay_format_etag (op->result->version) : NULL;
            struct MHD_Response *response;

            /* The relay sends no push (PROTOCOL.md §6.2): a client that
             * believed it would wait for one that never comes. */
            json_object_set_boolean_member (object, "isPushNotificationSupported", FALSE);
            response = httpd_request_json_response (&req->base, *status, object, 0);
            if (etag != NULL)
              MHD_add_response_header (response, "ETag", etag);
            return response;
          }

        case RELAY_OP_READ:
          return content_response (req, op->result);

        case RELAY_OP_DELETE:
        case RELAY_OP_RELINQUISH:
        case RELAY_OP_PURGE:
        case RELAY_OP_COUNT:
        case RELAY_OP_LOOKUP:
        default:
          return httpd_request_json_response (&req->base, *status, object, 0);
        }

    case RELAY_STATUS_INVALID:
      *status = req->invalid_status;
      return error_response (req, *status, req->invalid_error, req->invalid_message, 0);

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
                     (op->kind != RELAY_OP_READ ||
                      relay_mailbox_find_recipient (op->result, op->claim) == RELAY_RECIPIENT_ACTIVE);

  if (op->status == RELAY_STATUS_CLIENT_FULL)
    g_atomic_int_inc (&self->metrics.rejected_mailboxes);
  else if (op->status == RELAY_STATUS_STORE_FULL || op->status == RELAY_STATUS_NO_SPACE)
    g_atomic_int_inc (&self->metrics.rejected_storage);

  /* Every change a reader could see drops the kept answer first. */
  if (op->kind != RELAY_OP_CREATE && op->status == RELAY_STATUS_OK)
    relay_cache_invalidate (self->cache, op->mailbox_id);

  /* The answer is made once resumed, on the daemon's thread: this runs on
   * the store's writer, which has the next batch to apply. */
  req->op_done = TRUE;

  /* The other side's waiting read learns of the change now, not at its timeout. */
  if (changed)
    relay_waiters_notify (self->waiters, op->mailbox_id);

  httpd_request_resume (&req->base);
}

static void
submit (Request *req,
        RelayOp *op)
{
  req->op = op;
  op->done = on_op_done;
  op->user_data = req;

  /* Suspend first: the writer may finish before submit returns. */
  httpd_request_suspend (&req->base);
  relay_store_submit (req->server->store, op);
}

static void
on_waiter_woken (RelayWaiter *waiter,
                 gpointer     user_data)
{
  Request *req = user_data;

  httpd_request_resume (&req->base);
}

/* Handlers, on the daemon's thread */

static const char *
header (Request    *req,
        const char *name)
{
  return httpd_request_header (&req->base, name);
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

/* A create's or an update's body. When it is refused and the request has
 * an id, the store is still asked: a retry of a request it has done is
 * answered 201 whatever its body (the draft's rule), and only a new one gets
 * the refusal. */
static gboolean
parse_body (Request   *req,
            gboolean   create,
            RelayBody *body)
{
  g_autoptr(GError) error = NULL;
  const char *data = (const char *) req->base.body->data;
  gsize len = req->base.body->len;

  if (!httpd_is_json_content_type (header (req, MHD_HTTP_HEADER_CONTENT_TYPE)))
    {
      req->invalid_status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
      req->invalid_error = "unsupported_media_type";
      req->invalid_message = g_strdup ("The body must be application/json");
      return FALSE;
    }

  if (create ? relay_parse_create_body (data, len, body, &error) : relay_parse_update_body (data, len, body, &error))
    return TRUE;

  req->invalid_status = MHD_HTTP_BAD_REQUEST;
  req->invalid_error = "bad_request";
  req->invalid_message = g_strdup (error->message);
  return FALSE;
}

static enum MHD_Result
queue_invalid (Request *req)
{
  return queue_error (req, req->invalid_status, req->invalid_error, req->invalid_message);
}

static enum MHD_Result go_on (Request      *req,
                              LookupStep    step,
                              RelayMailbox *mailbox,
                              gboolean      failed);

static void
on_lookup_done (RelayOp  *op,
                gpointer  user_data)
{
  Request *req = user_data;

  /* resume() takes the result from req->op. */
  httpd_request_resume (&req->base);
}

/* Looks the request's mailbox up, then goes on at @step: at once with a
 * local store; with one on the network, from resume() once a worker has
 * it, so that the HTTP thread never waits on the network. */
static void
submit_lookup (Request     *req,
               LookupStep   step,
               RelayOpKind  kind)
{
  RelayOp *op = relay_op_new (kind, now_seconds ());

  op->mailbox_id = g_strdup (req->mailbox_id);
  op->done = on_lookup_done;
  op->user_data = req;
  /* A lease is a write in the store: only for what is read again soon. */
  op->lease = step == STEP_READ && req->server->config->redis_read_lease_ms > 0 &&
              relay_cache_read_again (req->server->cache, req->mailbox_id, g_get_monotonic_time ());
  g_clear_pointer (&req->op, relay_op_free);
  req->op = op;
  req->step = step;
  req->lease_start = g_get_monotonic_time ();
  req->lease_until = 0;
  /* Suspend first: the worker may finish before submit returns. */
  httpd_request_suspend (&req->base);
  relay_store_submit (req->server->store, op);
}

static enum MHD_Result
look_up (Request    *req,
         LookupStep  step)
{
  RelayStore *store = req->server->store;

  if (!relay_store_lookups_block (store))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RelayMailbox) mailbox = relay_store_lookup (store, req->mailbox_id, &error);

      /* Only this instance writes: its own writes drop what it keeps. */
      req->lease_until = G_MAXINT64;
      return go_on (req, step, mailbox, error != NULL);
    }
  submit_lookup (req, step, RELAY_OP_LOOKUP);
  return MHD_YES;
}

static void
on_recheck_done (RelayOp  *op,
                 gpointer  user_data)
{
  RelayServer *self = user_data;

  if (op->status == RELAY_STATUS_FAILED || op->result == NULL || op->result->version != op->if_match ||
      op->result->deleted)
    relay_waiters_notify (self->waiters, op->mailbox_id);
  relay_op_free (op);
}

/* The look after a wait's registration, with a store on the network: an op
 * that names no request, since the request may be answered (woken, timed
 * out) before it completes. A change wakes every read waiting on the
 * mailbox, and each looks for itself; stopping() flushes the store, so
 * none outlives the server. */
static void
recheck (RelayServer *self,
         const char  *mailbox_id,
         gint64       known_version)
{
  RelayOp *op = relay_op_new (RELAY_OP_LOOKUP, now_seconds ());

  op->mailbox_id = g_strdup (mailbox_id);
  op->if_match = known_version;
  op->done = on_recheck_done;
  op->user_data = self;
  relay_store_submit (self->store, op);
}

static enum MHD_Result
handle_create (Request *req)
{
  RelayServer *self = req->server;
  const RelayConfig *config = self->config;
  g_auto(RelayBody) body = { 0 };
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

  if (!parse_body (req, TRUE, &body))
    {
      if (req->request_id == NULL)
        return queue_invalid (req);
      /* Without a mailbox: the store answers a retry, or RELAY_STATUS_INVALID. */
      op = relay_op_new (RELAY_OP_CREATE, now);
      op->claim = g_strdup (req->claim);
      op->request_id = g_strdup (req->request_id);
      submit (req, op);
      return MHD_YES;
    }

  if (body.expiration != 0 && body.expiration <= now)
    return queue_error (req, MHD_HTTP_BAD_REQUEST, "bad_request",
                        "mailboxConfiguration.expiration is in the past");

  mailbox = relay_mailbox_new ();
  /* The store counts the creator's live mailboxes and bytes from this. */
  mailbox->has_creator = TRUE;
  mailbox->creator = req->base.client;
  mailbox->id = lk_uuid_new_random ();
  mailbox->initiator_claim = g_strdup (req->claim);
  mailbox->access = body.access;
  mailbox->max_recipients = body.max_recipients;
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
finish_display (Request      *req,
                RelayMailbox *mailbox,
                gboolean      failed)
{
  struct MHD_Response *response;
  guint status = MHD_HTTP_OK;

  if (failed)
    return queue_error (req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "The relay could not read its store");

  if (mailbox == NULL || !relay_mailbox_is_live (mailbox, now_seconds ()))
    {
      status = MHD_HTTP_NOT_FOUND;
      response = httpd_response_new_text (relay_page_render_not_found ());
    }
  else
    {
      g_autofree char *url = mailbox_url (req, mailbox->id);

      response = httpd_response_new_text (relay_page_render (mailbox, url));
    }

  MHD_add_response_header (response, "Content-Type", "text/html; charset=utf-8");
  MHD_add_response_header (response, "Content-Security-Policy", relay_page_get_csp ());
  MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
  MHD_add_response_header (response, "X-Frame-Options", "DENY");
  httpd_request_add_headers (&req->base, response, status);
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
  result = MHD_queue_response (req->base.connection, MHD_HTTP_OK, response);
  relay_metrics_count_status (&req->server->metrics, MHD_HTTP_OK);
  if (!relay_cache_store (req->server->cache, epoch, req->lease_until, mailbox, response))
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

/* Until when an answer looked up under a read lease asked for at
 * @lease_start may be kept: the lease, less the margin for clocks. */
static gint64
lease_end (RelayServer *self,
           gint64       lease_start)
{
  return lease_start + (gint64) self->config->redis_read_lease_ms * 1000 - RELAY_STORE_LEASE_MARGIN_USEC;
}

typedef struct
{
  RelayServer *server;
  guint64      epoch;
  gint64       lease_start;
} Renewal;

static void
on_lease_renewed (RelayOp  *op,
                  gpointer  user_data)
{
  Renewal *renewal = user_data;
  RelayServer *self = renewal->server;

  if (op->leased && relay_mailbox_is_live (op->result, now_seconds ()))
    {
      struct MHD_Response *response = content_response_common (op->result);

      if (!relay_cache_store (self->cache, renewal->epoch, lease_end (self, renewal->lease_start), op->result,
                              response))
        MHD_destroy_response (response);
    }
  /* Else the kept answer runs out, and the next read looks it up. */
  relay_op_free (op);
  g_free (renewal);
}

/* Takes the read lease on a kept answer again before it runs out, with an
 * op that names no request (as recheck() does). */
static void
renew_lease (RelayServer *self,
             const char  *mailbox_id)
{
  RelayOp *op = relay_op_new (RELAY_OP_LOOKUP, now_seconds ());
  Renewal *renewal = g_new0 (Renewal, 1);

  renewal->server = self;
  renewal->epoch = relay_cache_get_epoch (self->cache);
  renewal->lease_start = g_get_monotonic_time ();
  op->mailbox_id = g_strdup (mailbox_id);
  op->lease = TRUE;
  op->done = on_lease_renewed;
  op->user_data = renewal;
  relay_store_submit (self->store, op);
}

static enum MHD_Result
handle_read (Request *req)
{
  RelayServer *self = req->server;
  const char *if_none_match;

  if (!take_claim (req))
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "bad_claim", "Mailbox-Device-Claim must be a UUID");

  /* The common case: a side reading a mailbox that has not changed. */
  if_none_match = header (req, MHD_HTTP_HEADER_IF_NONE_MATCH);
  if (if_none_match == NULL || !relay_parse_etag (if_none_match, &req->known_version))
    req->known_version = -1;
  if (req->request_id == NULL)
    {
      enum MHD_Result result;
      gboolean renew;

      if (relay_cache_serve (self->cache, req->mailbox_id, req->claim, now_seconds (), req->known_version,
                             req->base.connection, &result, &renew))
        {
          relay_metrics_count_status (&self->metrics, MHD_HTTP_OK);
          if (renew)
            renew_lease (self, req->mailbox_id);
          return result;
        }
    }

  req->epoch = relay_cache_get_epoch (self->cache);
  return look_up (req, STEP_READ);
}

static enum MHD_Result
finish_read (Request      *req,
             RelayMailbox *mailbox,
             gboolean      failed)
{
  RelayServer *self = req->server;
  guint wait = 0;
  gboolean initiator, recipient;

  if (failed)
    return queue_error (req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "The relay could not read its store");
  if (mailbox == NULL || !relay_mailbox_is_live (mailbox, now_seconds ()))
    return queue_error (req, MHD_HTTP_NOT_FOUND, "not_found", "There is no such mailbox, or it has expired");

  initiator = g_strcmp0 (req->claim, mailbox->initiator_claim) == 0;
  switch (relay_mailbox_find_recipient (mailbox, req->claim))
    {
    case RELAY_RECIPIENT_DONE:
      /* One of several recipients that deleted it for itself. */
      return queue_error (req, MHD_HTTP_NOT_FOUND, "not_found", "There is no such mailbox, or it has expired");
    case RELAY_RECIPIENT_ACTIVE:
      recipient = TRUE;
      break;
    case RELAY_RECIPIENT_NONE:
    default:
      recipient = FALSE;
      break;
    }

  if (!initiator && !recipient)
    {
      RelayOp *op;

      if (relay_mailbox_is_full (mailbox))
        return queue_error (req, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                            mailbox->max_recipients > 1 ? "This mailbox was already claimed by as many devices as it may"
                                                        : "This mailbox was already claimed by another device");

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

      req->metric = RELAY_METRIC_WAIT;
      req->waited = TRUE;
      httpd_request_suspend (&req->base);
      switch (relay_waiters_add (self->waiters, &req->waiter, req->mailbox_id, &req->base.client,
                                 wait_deadline (mailbox, wait), req))
        {
        case RELAY_WAITERS_ADDED:
          break;

        case RELAY_WAITERS_CLIENT_FULL:
          /* One client's share of the places, so that a few cannot take them all. */
          g_atomic_int_inc (&self->metrics.rejected_waiters);
          req->waited = FALSE;
          req->response = error_response (req, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_waiters",
                                          "Too many waiting reads from this address; poll again shortly", 1);
          req->status = MHD_HTTP_TOO_MANY_REQUESTS;
          httpd_request_resume (&req->base);
          return MHD_YES;

        case RELAY_WAITERS_STOPPING:
          req->waited = FALSE;
          req->response = error_response (req, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down",
                                          "The relay is restarting", 1);
          req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
          httpd_request_resume (&req->base);
          return MHD_YES;

        case RELAY_WAITERS_FULL:
        default:
          g_atomic_int_inc (&self->metrics.rejected_waiters);
          req->waited = FALSE;
          req->response = error_response (req, MHD_HTTP_SERVICE_UNAVAILABLE, "too_many_waiters",
                                          "Too many waiting reads; poll again shortly", 1);
          req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
          httpd_request_resume (&req->base);
          return MHD_YES;
        }

      /* A write that landed between the lookup and the registration has
       * already notified; look again so it is not missed. */
      if (relay_store_lookups_block (self->store))
        recheck (self, req->mailbox_id, req->known_version);
      else
        {
          g_autoptr(RelayMailbox) again = relay_store_lookup (self->store, req->mailbox_id, NULL);

          if (again == NULL || again->version != req->known_version || again->deleted)
            relay_waiters_wake (self->waiters, &req->waiter);
        }
      return MHD_YES;
    }

  return answer_read (req, mailbox, req->epoch);
}

/* A wait that ended: looked up again, then finish_wait(). */
static enum MHD_Result
resume_wait (Request *req)
{
  req->waited = FALSE;
  switch (req->waiter.state)
    {
    case RELAY_WAITER_CHANGED:
    case RELAY_WAITER_TIMED_OUT:
    case RELAY_WAITER_RECHECK:
      req->epoch = relay_cache_get_epoch (req->server->cache);
      return look_up (req, STEP_WAIT_END);

    case RELAY_WAITER_SHUTDOWN:
    case RELAY_WAITER_WAITING:
    default:
      return queue_error (req, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down", "The relay is restarting");
    }
}

static enum MHD_Result
finish_wait (Request      *req,
             RelayMailbox *mailbox,
             gboolean      failed)
{
  if (failed)
    return queue_error (req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "The relay could not read its store");
  if (req->waiter.state == RELAY_WAITER_CHANGED)
    return answer_read (req, mailbox, req->epoch);

  if (mailbox == NULL || !relay_mailbox_is_live (mailbox, now_seconds ()))
    return queue_error (req, MHD_HTTP_NOT_FOUND, "not_found", "There is no such mailbox, or it has expired");
  /* A change this instance was not told of (another instance wrote it,
   * with a shared store) is still a change: "no change" would be false. */
  if (mailbox->version != req->known_version)
    return answer_read (req, mailbox, req->epoch);
  return queue (req, MHD_HTTP_NOT_MODIFIED, not_modified_response (req, req->known_version));
}

static enum MHD_Result
go_on (Request      *req,
       LookupStep    step,
       RelayMailbox *mailbox,
       gboolean      failed)
{
  switch (step)
    {
    case STEP_DISPLAY:
      return finish_display (req, mailbox, failed);
    case STEP_READ:
      return finish_read (req, mailbox, failed);
    case STEP_WAIT_END:
      return finish_wait (req, mailbox, failed);
    case STEP_METRICS:
    case STEP_NONE:
    default:
      g_assert_not_reached ();
    }
}

static enum MHD_Result
handle_update (Request *req)
{
  g_auto(RelayBody) body = { 0 };
  const char *if_match;
  const char *attestation;
  RelayOp *op;
  gboolean valid;

  if (!take_claim (req))
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "bad_claim", "Mailbox-Device-Claim must be a UUID");

  attestation = header (req, "Mailbox-Device-Attestation");
  if (attestation != NULL && strlen (attestation) > RELAY_MAX_ATTESTATION)
    return queue_error (req, MHD_HTTP_UNAUTHORIZED, "bad_attestation", "Mailbox-Device-Attestation is too long");

  valid = parse_body (req, FALSE, &body);
  if (!valid && req->request_id == NULL)
    return queue_invalid (req);

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
  /* Without a payload when the body was refused: the store answers a
   * retry, or RELAY_STATUS_INVALID. */
  if (valid)
    {
      op->payload_type = g_steal_pointer (&body.payload_type);
      op->payload_data = g_steal_pointer (&body.payload_data);
      op->token = g_steal_pointer (&body.token);
    }

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

/* @mailboxes: the live count, or -1 if the store could not say. */
static enum MHD_Result
finish_metrics (Request *req,
                gint64   mailboxes)
{
  RelayServer *self = req->server;
  RelayStoreState state;
  RelayGauges gauges = { 0 };

  relay_store_get_state (self->store, &state);
  relay_store_get_stats (self->store, &gauges.store);
  gauges.mailboxes = mailboxes;
  gauges.stored_bytes = state.bytes;
  gauges.disk_full = state.disk_full;
  httpd_server_get_guard_stats (self->httpd, &gauges.guard);
  gauges.waiters = relay_waiters_get_count (self->waiters);
  gauges.clients = httpd_limiter_get_n_clients (httpd_server_get_limiter (self->httpd));
  gauges.log_suppressed = httpd_server_get_log_suppressed (self->httpd);

  return httpd_request_queue_text (&req->base, MHD_HTTP_OK, "text/plain; version=0.0.4",
                                   relay_metrics_render (&self->metrics, &gauges));
}

/* The live count is a question to the store: on a worker when the store is
 * on the network. */
static enum MHD_Result
handle_metrics (Request *req)
{
  if (!relay_store_lookups_block (req->server->store))
    return finish_metrics (req, relay_store_count_live (req->server->store, now_seconds ()));
  submit_lookup (req, STEP_METRICS, RELAY_OP_COUNT);
  return MHD_YES;
}

/* Seconds a load balancer or client should wait after a 503 of /healthz
 * for a store that cannot be reached: the store probes every second, a
 * failover takes a few. */
#define STORE_RETRY_AFTER 5

static const char *
health_message (RelayStoreHealth health)
{
  switch (health)
    {
    case RELAY_STORE_HEALTH_UNKNOWN:
      return "The store has not been reached yet; mailboxes cannot be served until it is";
    case RELAY_STORE_HEALTH_NO_NODE:
      return "The store cannot be reached: no Redis primary answers; mailboxes cannot be served";
    case RELAY_STORE_HEALTH_CLUSTER_DOWN:
      return "The Redis cluster is down (a primary says cluster_state:fail); mailboxes cannot be served";
    case RELAY_STORE_HEALTH_UNCOVERED:
      return "The Redis cluster does not cover every slot; some mailboxes cannot be served";
    case RELAY_STORE_HEALTH_OK:
    default:
      return "The store is unavailable";
    }
}

/* "ok", then a line naming the store, for whoever reads it. */
static char *
health_text (const RelayStoreStats *stats)
{
  if (stats->primaries_known == 0)
    return g_strdup_printf ("ok\nstore: %s\n", stats->kind);
  if (stats->primaries == stats->primaries_known)
    return g_strdup_printf ("ok\nstore: %s, %u primaries\n", stats->kind, stats->primaries);
  return g_strdup_printf ("ok\nstore: %s, %u of %u primaries answer\n", stats->kind, stats->primaries,
                          stats->primaries_known);
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
        {
          RelayStoreState state;
          RelayStoreStats stats;

          /* What the store last found; never a question over the network
           * here, so a hung store cannot hang the health check. */
          relay_store_get_stats (req->server->store, &stats);
          if (stats.health != RELAY_STORE_HEALTH_OK)
            return queue (req, MHD_HTTP_SERVICE_UNAVAILABLE,
                          error_response (req, MHD_HTTP_SERVICE_UNAVAILABLE, "store_unavailable",
                                          health_message (stats.health), STORE_RETRY_AFTER));

          /* Reads still work on a full disk, but every write fails: degraded. */
          relay_store_get_state (req->server->store, &state);
          if (state.disk_full)
            return queue (req, MHD_HTTP_SERVICE_UNAVAILABLE,
                          error_response (req, MHD_HTTP_SERVICE_UNAVAILABLE, "storage_full",
                                          "Degraded: the disk is full, so writes are refused; reads work", 0));

          return httpd_request_queue_text (base, MHD_HTTP_OK, "text/plain", health_text (&stats));
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
      /* HEAD as GET without the body (RFC 9110), which libmicrohttpd leaves out. */
      if (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0)
        return look_up (req, STEP_DISPLAY);
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

static RelayMetric
metric_for (Route       route,
            const char *method)
{
  if (route == ROUTE_MAILBOXES)
    return RELAY_METRIC_CREATE;
  if (route != ROUTE_MAILBOX)
    return RELAY_METRIC_OTHER;
  if (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0)
    return RELAY_METRIC_DISPLAY;
  if (strcmp (method, "POST") == 0)
    return RELAY_METRIC_READ;
  if (strcmp (method, "PUT") == 0)
    return RELAY_METRIC_UPDATE;
  if (strcmp (method, "DELETE") == 0)
    return RELAY_METRIC_DELETE;
  if (strcmp (method, "PATCH") == 0)
    return RELAY_METRIC_RELINQUISH;
  return RELAY_METRIC_OTHER;
}

/* With the headers: the route, and the relay's own checks. */
static void
begin (HttpdRequest *base,
       const char   *url,
       HttpdRoute   *route)
{
  Request *req = (Request *) base;
  const char *request_id;
  const char *method = base->method;

  req->server = base->owner;
  req->route = route_for (url, req->mailbox_id);
  req->metric = metric_for (req->route, method);
  g_atomic_int_inc (&req->server->metrics.requests[req->metric]);

  request_id = header (req, "Mailbox-Request-ID");
  if (request_id != NULL)
    {
      req->request_id = relay_parse_uuid (request_id);
      if (req->request_id == NULL)
        httpd_request_refuse (base, MHD_HTTP_BAD_REQUEST, "bad_request_id", "Mailbox-Request-ID must be a UUID");
    }

  route->rate_limited = req->route == ROUTE_MAILBOX || req->route == ROUTE_MAILBOXES;
  /* With a request id the handler checks the type itself, after the store
   * has had the chance to recognise a retry. */
  route->body = (strcmp (method, "PUT") == 0 || (strcmp (method, "POST") == 0 && req->route == ROUTE_MAILBOXES)) &&
                req->request_id == NULL ? HTTPD_BODY_JSON : HTTPD_BODY_ANY;
}

/* A request the store answered, or a wait that ended. */
static enum MHD_Result
resume (HttpdRequest *base)
{
  Request *req = (Request *) base;
  struct MHD_Response *response;

  if (req->step != STEP_NONE)
    {
      LookupStep step = req->step;
      g_autoptr(RelayOp) op = g_steal_pointer (&req->op);

      req->step = STEP_NONE;
      if (step == STEP_METRICS)
        return finish_metrics (req, op->status == RELAY_STATUS_FAILED ? -1 : op->count);
      if (op->leased)
        req->lease_until = lease_end (req->server, req->lease_start);
      return go_on (req, step, op->result, op->status == RELAY_STATUS_FAILED);
    }
  if (req->waited)
    return resume_wait (req);
  if (req->op_done)
    response = op_response (req, req->op, &req->status);
  else
    response = g_steal_pointer (&req->response);
  return queue (req, req->status, response);
}

/* Every waiting read is answered and every write made durable before the
 * daemon stops: it must not stop with a request suspended. */
static void
stopping (gpointer owner)
{
  RelayServer *self = owner;

  relay_waiters_shutdown (self->waiters);

  /* A handler may submit a write right after the flag changed: flush until
   * nothing is suspended. The store answers every write it is given. */
  do
    {
      relay_store_flush (self->store);
      if (httpd_server_get_suspended (self->httpd) > 0)
        g_usleep (1000);
    }
  while (httpd_server_get_suspended (self->httpd) > 0);
}

static const HttpdHandlers handlers = {
  .request_size = sizeof (Request),
  .begin = begin,
  .dispatch = dispatch,
  .resume = resume,
  .decorate = decorate,
  .answered = answered,
  .refused = refused,
  .clear = request_clear,
  .stopping = stopping,
};

/* MHD's own messages may quote request lines; cut mailbox ids short. */
static char *
redact_mhd (const char *text)
{
  g_autoptr(GRegex) uuid = g_regex_new ("([0-9a-fA-F]{8})-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                                        0, 0, NULL);

  return g_regex_replace (uuid, text, -1, 0, "\\1-…", 0, NULL);
}

/* Another instance wrote: its waiting reads here look again. */
static void
on_store_changed (const char *mailbox_id,
                  gpointer    user_data)
{
  RelayServer *self = user_data;

  /* Kept answers go first, so that the reads woken look in the store. */
  if (mailbox_id != NULL)
    relay_cache_invalidate (self->cache, mailbox_id);
  else
    relay_cache_clear (self->cache);
  relay_waiters_recheck (self->waiters, mailbox_id);
}

static void
relay_server_finalize (GObject *object)
{
  RelayServer *self = (RelayServer *) object;

  relay_server_stop (self);
  relay_store_watch (self->store, NULL, NULL);
  g_clear_pointer (&self->httpd, httpd_server_free);
  g_clear_pointer (&self->waiters, relay_waiters_free);
  g_clear_pointer (&self->cache, relay_cache_free);
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
}

/**
 * relay_server_new:
 * @config: the settings; must outlive the server
 * @limiter: (transfer full): who clients are, and their rates
 */
RelayServer *
relay_server_new (const RelayConfig *config,
                  RelayStore        *store,
                  HttpdLimiter      *limiter)
{
  RelayServer *self = g_object_new (RELAY_TYPE_SERVER, NULL);
  HttpdServerConfig server = {
    .name = "relay",
    .listen_address = config->listen_address,
    .port = config->port,
    .tls_certificate = config->tls_certificate,
    .tls_key = config->tls_key,
    .max_connections = config->max_connections,
    .connection_timeout = config->connection_timeout,
    .connection_memory = RELAY_CONNECTION_POOL,
    .listen_backlog = LISTEN_BACKLOG,
    .max_body = config->max_body,
    .trust_forwarded_for = config->trust_forwarded_for,
    .guard = {
      /* Behind a proxy every connection comes from the proxy: its own
       * per-address limit (nginx's limit_conn) takes this one's place. */
      .max_per_client = config->trust_forwarded_for ? 0 : config->max_connections_per_client,
      .request_timeout = config->request_timeout,
      .idle_timeout = config->connection_timeout,
      .max_body_memory = config->max_body_memory,
      .max_body_memory_per_client = MAX (config->max_body, config->max_body_memory / 32),
      .ipv6_prefix = config->ipv6_prefix,
    },
    .log_interval = LOG_INTERVAL_SECONDS,
    .redact = redact_mhd,
    .drain_usec = STOP_DRAIN_USEC,
  };

  self->config = config;
  self->store = g_object_ref (store);
  self->waiters = relay_waiters_new (config->max_waiters, config->max_waiters_per_client, on_waiter_woken);
  /* With a store other instances write to as well, an answer is kept only
   * while this instance's read lease on the mailbox lasts (req->lease_until). */
  self->cache = relay_cache_new (RELAY_CACHE_MAX_ENTRIES, RELAY_CACHE_MAX_BYTES);
  self->httpd = httpd_server_new (&server, &handlers, limiter, self);
  relay_store_watch (self->store, on_store_changed, self);
  self->log_requests = !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);

  return self;
}

gboolean
relay_server_start (RelayServer  *self,
                    GError      **error)
{
  return httpd_server_start (self->httpd, error);
}

guint
relay_server_get_port (RelayServer *self)
{
  return httpd_server_get_port (self->httpd);
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
      g_atomic_int_add (&self->metrics.purged, (gint) purged);
      g_info ("Purged %" G_GINT64_FORMAT " expired mailboxes", purged);
    }

  httpd_limiter_sweep (httpd_server_get_limiter (self->httpd), g_get_monotonic_time ());
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
 * durable and its request resumed, gives the answers a moment to leave,
 * then stops the daemon.
 */
void
relay_server_stop (RelayServer *self)
{
  if (self->httpd != NULL)
    httpd_server_stop (self->httpd);
}
