/* lk-mailbox-client.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The client never sees a share link, only mailbox URLs: the secret in a
 * link's fragment cannot reach the relay through it. As a second guard, a
 * URL with a fragment is refused outright.
 */

#define G_LOG_DOMAIN "lk-mailbox-client"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-json.h"
#include "lk-time.h"
#include "lk-mailbox-client.h"

#define MAX_RESPONSE_LENGTH (256 * 1024)

typedef enum
{
  OP_CREATE,
  OP_READ,
  OP_UPDATE,
  OP_DELETE,
  OP_RELINQUISH,
  OP_PREVIEW,
} Op;

struct _LkMailboxClient
{
  GObject  parent_instance;

  LkHttp  *http;
};

G_DEFINE_FINAL_TYPE (LkMailboxClient, lk_mailbox_client, G_TYPE_OBJECT)
G_DEFINE_QUARK (lk-mailbox-error-quark, lk_mailbox_error)

void
lk_mailbox_reply_free (LkMailboxReply *reply)
{
  if (reply == NULL)
    return;

  g_free (reply->url_link);
  g_clear_pointer (&reply->payload, json_object_unref);
  g_free (reply->title);
  g_free (reply->description);
  g_clear_pointer (&reply->expiration, g_date_time_unref);
  g_free (reply);
}

static void
lk_mailbox_client_finalize (GObject *object)
{
  LkMailboxClient *self = (LkMailboxClient *) object;

  g_clear_object (&self->http);

  G_OBJECT_CLASS (lk_mailbox_client_parent_class)->finalize (object);
}

static void
lk_mailbox_client_class_init (LkMailboxClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_mailbox_client_finalize;
}

static void
lk_mailbox_client_init (LkMailboxClient *self)
{
}

LkMailboxClient *
lk_mailbox_client_new (LkHttp *http)
{
  LkMailboxClient *self = g_object_new (LK_TYPE_MAILBOX_CLIENT, NULL);

  self->http = g_object_ref (http);
  return self;
}

static gint64
parse_etag (LkHttpResponse *response)
{
  const char *etag = soup_message_headers_get_one (response->headers, "ETag");
  guint64 version;
  g_autofree char *digits = NULL;

  if (etag == NULL)
    return -1;
  if (g_str_has_prefix (etag, "W/"))
    etag += 2;
  if (strlen (etag) < 3 || etag[0] != '"' || etag[strlen (etag) - 1] != '"')
    return -1;

  digits = g_strndup (etag + 1, strlen (etag) - 2);
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXINT64, &version, NULL))
    return -1;
  return (gint64) version;
}

static char *
format_etag (gint64 version)
{
  return g_strdup_printf ("\"%" G_GINT64_FORMAT "\"", version);
}

static JsonObject *
parse_body (LkHttpResponse  *response,
            GError         **error)
{
  gsize len;
  const char *data = g_bytes_get_data (response->body, &len);

  return lk_json_parse_object (data, len, MAX_RESPONSE_LENGTH,
                               LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_PROTOCOL, error);
}

/* The relay's own code (ours are documented in PROTOCOL.md), if any. */
static char *
relay_error_code (LkHttpResponse *response)
{
  g_autoptr(JsonObject) object = parse_body (response, NULL);
  const char *code;

  if (object == NULL)
    return NULL;
  code = lk_json_get_string (object, "error", 64, FALSE, 0, 0, NULL);
  return g_strdup (code);
}

static void
set_status_error (LkHttpResponse  *response,
                  Op               op,
                  GError         **error)
{
  g_autofree char *code = relay_error_code (response);

  switch (response->status)
    {
    case 404:
      g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_NOT_FOUND,
                   _("The invitation no longer exists: it expired, or the sender cancelled it. "
                     "Ask the sender to share the key again."));
      break;

    case 401:
      if (g_strcmp0 (code, "forbidden") == 0)
        g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_CLAIMED,
                     _("The invitation does not allow this step"));
      else if (op == OP_READ)
        g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_CLAIMED,
                     _("Another device already accepted this invitation. Ask the sender for a new one."));
      else
        g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_CLAIMED,
                     _("This device has no access to the invitation"));
      break;

    case 412:
      g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_CONFLICT,
                   _("The invitation changed meanwhile; it will be read again"));
      break;

    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
    case 507:   /* the relay's storage is full, for now */
      g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_UNAVAILABLE,
                   _("The relay is busy or unavailable (HTTP %u). Try again later."), response->status);
      break;

    default:
      if (response->status >= 400 && response->status < 500)
        g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_REJECTED,
                     _("The relay refused the request (HTTP %u%s%s)"), response->status,
                     code ? ": " : "", code ? code : "");
      else
        g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_PROTOCOL,
                     _("The relay gave an unexpected answer (HTTP %u)"), response->status);
      break;
    }
}

/* Our several-recipients extension; a relay without it says nothing, and a
 * count out of bounds is taken as nothing said. */
static void
parse_recipients (JsonObject     *object,
                  LkMailboxReply *reply)
{
  gint64 max = 0, bound = 0, done = 0;

  if (!lk_json_get_int (object, "maxRecipients", 1, LK_MAILBOX_MAX_RECIPIENTS, &max, 0, 0, NULL))
    return;
  reply->max_recipients = (guint) max;
  if (lk_json_get_int (object, "recipientsBound", 0, max, &bound, 0, 0, NULL))
    reply->recipients_bound = (guint) bound;
  if (lk_json_get_int (object, "recipientsDone", 0, max, &done, 0, 0, NULL))
    reply->recipients_done = (guint) done;
}

static gboolean
parse_read (LkHttpResponse  *response,
            LkMailboxReply  *reply,
            GError         **error)
{
  g_autoptr(JsonObject) object = parse_body (response, error);
  JsonObject *payload, *display;
  JsonNode *bound;

  if (object == NULL)
    return FALSE;

  payload = lk_json_get_object (object, "payload", TRUE, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_PROTOCOL, error);
  if (payload == NULL)
    return FALSE;
  reply->payload = json_object_ref (payload);

  display = lk_json_get_object (object, "displayInformation", FALSE, LK_MAILBOX_ERROR,
                                LK_MAILBOX_ERROR_PROTOCOL, NULL);
  if (display != NULL)
    {
      reply->title = g_strdup (lk_json_get_string (display, "title", 1024, FALSE, 0, 0, NULL));
      reply->description = g_strdup (lk_json_get_string (display, "description", 4096, FALSE, 0, 0, NULL));
    }

  reply->expiration = lk_json_get_time (object, "expiration");

  bound = json_object_get_member (object, "recipientBound");
  reply->recipient_bound = bound != NULL && JSON_NODE_HOLDS_VALUE (bound) &&
                           json_node_get_value_type (bound) == G_TYPE_BOOLEAN && json_node_get_boolean (bound);
  parse_recipients (object, reply);
  return TRUE;
}

static char *
og_content (const char *html,
            const char *property)
{
  g_autofree char *pattern = g_strdup_printf ("<meta\\s+property=\"og:%s\"\\s+content=\"([^\"]*)\"", property);
  g_autoptr(GRegex) regex = g_regex_new (pattern, G_REGEX_CASELESS, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *raw = NULL;
  GString *text;

  if (!g_regex_match (regex, html, 0, &match))
    return NULL;

  raw = g_match_info_fetch (match, 1);
  text = g_string_new (raw);
  g_string_replace (text, "&lt;", "<", 0);
  g_string_replace (text, "&gt;", ">", 0);
  g_string_replace (text, "&quot;", "\"", 0);
  g_string_replace (text, "&apos;", "'", 0);
  g_string_replace (text, "&#39;", "'", 0);
  g_string_replace (text, "&amp;", "&", 0);
  return g_string_free (text, FALSE);
}

static gboolean
parse_preview (LkHttpResponse  *response,
               LkMailboxReply  *reply,
               GError         **error)
{
  gsize len;
  const char *data = g_bytes_get_data (response->body, &len);
  g_autofree char *html = NULL;

  if (len > MAX_RESPONSE_LENGTH)
    {
      g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_PROTOCOL, _("The invitation page is too large"));
      return FALSE;
    }

  html = g_utf8_make_valid (data, len);
  reply->title = og_content (html, "title");
  reply->description = og_content (html, "description");
  if (reply->title == NULL)
    {
      g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_PROTOCOL,
                   _("The relay’s invitation page has no title"));
      return FALSE;
    }

  return TRUE;
}

static void
on_response (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Op op = GPOINTER_TO_INT (g_task_get_task_data (task));
  g_autoptr(LkHttpResponse) response = NULL;
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) error = NULL;

  response = lk_http_request_finish (LK_HTTP (source), result, &error);
  if (response == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || error->domain == LK_LINK_ERROR)
        g_task_return_error (task, g_steal_pointer (&error));
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE) ||
               g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
        g_task_return_new_error (task, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_PROTOCOL,
                                 _("The relay answered something Latchkey cannot use: %s"), error->message);
      else if (error->domain == G_TLS_ERROR)
        g_task_return_new_error (task, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_UNAVAILABLE,
                                 _("The relay’s certificate is not trusted: %s"), error->message);
      else
        g_task_return_new_error (task, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_UNAVAILABLE,
                                 _("Could not reach the relay: %s"), error->message);
      return;
    }

  reply = g_new0 (LkMailboxReply, 1);
  reply->version = parse_etag (response);

  if (response->status == 304 && op == OP_READ)
    {
      reply->not_modified = TRUE;
      g_task_return_pointer (task, g_steal_pointer (&reply), (GDestroyNotify) lk_mailbox_reply_free);
      return;
    }

  if (response->status != 200 && response->status != 201)
    {
      set_status_error (response, op, &error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  switch (op)
    {
    case OP_CREATE:
      {
        g_autoptr(JsonObject) object = parse_body (response, &error);
        const char *link = object ? lk_json_get_string (object, "urlLink", 2048, TRUE, LK_MAILBOX_ERROR,
                                                        LK_MAILBOX_ERROR_PROTOCOL, &error) : NULL;

        if (link == NULL)
          {
            g_task_return_error (task, g_steal_pointer (&error));
            return;
          }
        reply->url_link = g_strdup (link);
        /* Our relay says which expiration it granted; others may not. */
        reply->expiration = lk_json_get_time (object, "expiration");
        /* And how many recipients it will let read, if we asked for several. */
        parse_recipients (object, reply);
      }
      break;

    case OP_READ:
      if (!parse_read (response, reply, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      break;

    case OP_PREVIEW:
      if (!parse_preview (response, reply, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      break;

    case OP_UPDATE:
    case OP_DELETE:
    case OP_RELINQUISH:
    default:
      break;
    }

  g_task_return_pointer (task, g_steal_pointer (&reply), (GDestroyNotify) lk_mailbox_reply_free);
}

static void
start (LkMailboxClient     *self,
       Op                   op,
       const char          *method,
       const char          *url,
       GPtrArray           *headers,
       JsonObject          *body,
       guint                wait_seconds,
       GCancellable        *cancellable,
       GAsyncReadyCallback  callback,
       gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GBytes) bytes = NULL;

  g_task_set_source_tag (task, start);
  g_task_set_task_data (task, GINT_TO_POINTER (op), NULL);

  /* Belt and braces: nothing with a fragment (a link's secret) goes out. */
  if (url == NULL || strchr (url, '#') != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "Refusing to send a URL with a fragment to the relay");
      g_object_unref (task);
      return;
    }

  if (body != NULL)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), body);
      char *text = lk_json_to_string (node);

      bytes = g_bytes_new_take (text, strlen (text));
    }

  g_ptr_array_add (headers, NULL);
  lk_http_request_async (self->http, method, url, (const char * const *) headers->pdata, bytes,
                         wait_seconds, cancellable, on_response, task);
}

static GPtrArray *
claim_headers (const char *claim,
               const char *request_id)
{
  GPtrArray *headers = g_ptr_array_new ();

  g_ptr_array_add (headers, (gpointer) "Mailbox-Device-Claim");
  g_ptr_array_add (headers, (gpointer) claim);
  if (request_id != NULL)
    {
      g_ptr_array_add (headers, (gpointer) "Mailbox-Request-ID");
      g_ptr_array_add (headers, (gpointer) request_id);
    }
  return headers;
}

/**
 * lk_mailbox_client_create_async:
 * @relay_url: the relay's origin
 * @payload: the draft's `payload` object
 * @access_rights: (nullable): such as "RWD"
 * @max_recipients: how many devices may read it (our extension, PROTOCOL.md
 *   §6.9); 0 or 1 asks nothing, the draft's one recipient
 * @expiration: (nullable): when the mailbox should expire
 * @request_id: a Mailbox-Request-ID, kept by the caller so that a retry after
 *   a restart is recognised
 */
void
lk_mailbox_client_create_async (LkMailboxClient     *self,
                                const char          *relay_url,
                                const char          *claim,
                                JsonObject          *payload,
                                const char          *title,
                                const char          *description,
                                const char          *access_rights,
                                guint                max_recipients,
                                GDateTime           *expiration,
                                const char          *request_id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GPtrArray) headers = claim_headers (claim, request_id);
  g_autoptr(JsonObject) body = json_object_new ();
  g_autofree char *url = g_strconcat (relay_url, "/v1/m", NULL);
  JsonObject *display = json_object_new ();

  json_object_set_object_member (body, "payload", json_object_ref (payload));
  json_object_set_string_member (display, "title", title);
  if (description != NULL)
    json_object_set_string_member (display, "description", description);
  json_object_set_object_member (body, "displayInformation", display);

  if (access_rights != NULL || expiration != NULL || max_recipients > 1)
    {
      JsonObject *config = json_object_new ();

      /* A relay that does not know it ignores it, and lets one read. */
      if (max_recipients > 1)
        json_object_set_int_member (config, "maxRecipients", max_recipients);
      if (access_rights != NULL)
        json_object_set_string_member (config, "accessRights", access_rights);
      if (expiration != NULL)
        {
          g_autofree char *text = lk_time_format (expiration);

          json_object_set_string_member (config, "expiration", text);
        }
      json_object_set_object_member (body, "mailboxConfiguration", config);
    }

  start (self, OP_CREATE, "POST", url, headers, body, 0, cancellable, callback, user_data);
}

/**
 * lk_mailbox_client_read_async:
 * @known_version: the version we have, or -1
 * @wait_seconds: with @known_version, how long the relay may wait for a
 *   change before answering "not modified" (at most 30)
 *
 * Reads the secure content; the first read by a recipient claims the mailbox.
 */
void
lk_mailbox_client_read_async (LkMailboxClient     *self,
                              const char          *mailbox_url,
                              const char          *claim,
                              gint64               known_version,
                              guint                wait_seconds,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GPtrArray) headers = claim_headers (claim, NULL);
  g_autofree char *etag = NULL;
  g_autofree char *prefer = NULL;

  if (known_version >= 0)
    {
      etag = format_etag (known_version);
      g_ptr_array_add (headers, (gpointer) "If-None-Match");
      g_ptr_array_add (headers, etag);
      if (wait_seconds > 0)
        {
          prefer = g_strdup_printf ("wait=%u", MIN (wait_seconds, 30));
          g_ptr_array_add (headers, (gpointer) "Prefer");
          g_ptr_array_add (headers, prefer);
        }
    }
  else
    wait_seconds = 0;

  start (self, OP_READ, "POST", mailbox_url, headers, NULL, MIN (wait_seconds, 30),
         cancellable, callback, user_data);
}

/**
 * lk_mailbox_client_update_async:
 * @if_match: the version we last read, or -1 to overwrite unconditionally
 */
void
lk_mailbox_client_update_async (LkMailboxClient     *self,
                                const char          *mailbox_url,
                                const char          *claim,
                                JsonObject          *payload,
                                gint64               if_match,
                                const char          *request_id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GPtrArray) headers = claim_headers (claim, request_id);
  g_autoptr(JsonObject) body = json_object_new ();
  g_autofree char *etag = NULL;

  if (if_match >= 0)
    {
      etag = format_etag (if_match);
      g_ptr_array_add (headers, (gpointer) "If-Match");
      g_ptr_array_add (headers, etag);
    }
  json_object_set_object_member (body, "payload", json_object_ref (payload));

  start (self, OP_UPDATE, "PUT", mailbox_url, headers, body, 0, cancellable, callback, user_data);
}

void
lk_mailbox_client_delete_async (LkMailboxClient     *self,
                                const char          *mailbox_url,
                                const char          *claim,
                                const char          *request_id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GPtrArray) headers = claim_headers (claim, request_id);

  start (self, OP_DELETE, "DELETE", mailbox_url, headers, NULL, 0, cancellable, callback, user_data);
}

void
lk_mailbox_client_relinquish_async (LkMailboxClient     *self,
                                    const char          *mailbox_url,
                                    const char          *claim,
                                    const char          *request_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GPtrArray) headers = claim_headers (claim, request_id);

  start (self, OP_RELINQUISH, "PATCH", mailbox_url, headers, NULL, 0, cancellable, callback, user_data);
}

/**
 * lk_mailbox_client_preview_async:
 *
 * Reads the public display information (the OpenGraph page). It claims
 * nothing, so it is safe before the user accepts.
 */
void
lk_mailbox_client_preview_async (LkMailboxClient     *self,
                                 const char          *mailbox_url,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GPtrArray) headers = g_ptr_array_new ();

  g_ptr_array_add (headers, (gpointer) "Accept");
  g_ptr_array_add (headers, (gpointer) "text/html");
  start (self, OP_PREVIEW, "GET", mailbox_url, headers, NULL, 0, cancellable, callback, user_data);
}

/**
 * lk_mailbox_client_finish:
 *
 * Returns: (transfer full): the reply, or %NULL with an #LK_MAILBOX_ERROR
 *   (or %G_IO_ERROR_CANCELLED)
 */
LkMailboxReply *
lk_mailbox_client_finish (LkMailboxClient  *self,
                          GAsyncResult     *result,
                          GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
