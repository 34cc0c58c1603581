/* relay-request.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "relay-request"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"
#include "relay-payload.h"
#include "relay-request.h"

G_DEFINE_QUARK (relay-request-error-quark, relay_request_error)

void
relay_body_clear (RelayBody *body)
{
  g_clear_pointer (&body->payload_type, g_free);
  g_clear_pointer (&body->payload_data, g_free);
  g_clear_pointer (&body->title, g_free);
  g_clear_pointer (&body->description, g_free);
  g_clear_pointer (&body->image_url, g_free);
  g_clear_pointer (&body->token, g_free);
}

#define FIELD_ERROR RELAY_REQUEST_ERROR, RELAY_REQUEST_ERROR_BAD_FIELD

static gboolean
parse_payload (const LkJsonValue  *root,
               RelayBody          *body,
               GError            **error)
{
  LkJsonValue payload;
  const char *type, *data;
  gsize len;

  if (!lk_json_value_get_object (root, "payload", TRUE, &payload, FIELD_ERROR, error))
    return FALSE;

  type = lk_json_value_get_string (&payload, "type", 64, TRUE, NULL, FIELD_ERROR, error);
  if (type == NULL)
    return FALSE;
  if (strcmp (type, "AEAD_AES_128_GCM") != 0 && strcmp (type, "AEAD_AES_256_GCM") != 0)
    {
      g_set_error (error, FIELD_ERROR, "“payload.type” must be AEAD_AES_128_GCM or AEAD_AES_256_GCM");
      return FALSE;
    }

  data = lk_json_value_get_string (&payload, "data", G_MAXSIZE, TRUE, &len, FIELD_ERROR, error);
  if (data == NULL)
    return FALSE;
  /* The relay cannot check the ciphertext, but it can refuse what is not
   * even an IV and a tag in base64. */
  if (len < 40 || !relay_payload_is_base64 (data))
    {
      g_set_error (error, FIELD_ERROR, "“payload.data” must be base64 of an IV, a ciphertext and a tag");
      return FALSE;
    }

  body->payload_type = g_strdup (type);
  body->payload_data = g_strndup (data, len);
  return TRUE;
}

static gboolean
parse_token (const LkJsonValue  *root,
             RelayBody          *body,
             GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) node = NULL;
  LkJsonValue token;
  const char *type, *data;
  JsonObject *copy;

  if (!lk_json_value_get_object (root, "notificationToken", FALSE, &token, FIELD_ERROR, &local_error))
    {
      if (local_error == NULL)
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* Both fields when present, as the draft says; both opaque to us. */
  type = lk_json_value_get_string (&token, "type", RELAY_MAX_TOKEN_TYPE, TRUE, NULL, FIELD_ERROR, error);
  if (type == NULL)
    return FALSE;
  data = lk_json_value_get_string (&token, "tokenData", RELAY_MAX_TOKEN_DATA, TRUE, NULL, FIELD_ERROR, error);
  if (data == NULL)
    return FALSE;

  copy = json_object_new ();
  json_object_set_string_member (copy, "type", type);
  json_object_set_string_member (copy, "tokenData", data);
  node = json_node_init_object (json_node_alloc (), copy);
  json_object_unref (copy);
  body->token = lk_json_to_string (node);
  return TRUE;
}

/* Read in place, without a copy into json-glib: the strict parser's checks
 * are the same (lk-json-parser.h). */
static LkJsonDocument *
parse_root (const char   *data,
            gsize         len,
            LkJsonValue  *root,
            GError      **error)
{
  return lk_json_document_parse_object (data, len, G_MAXSIZE, root,
                                        RELAY_REQUEST_ERROR, RELAY_REQUEST_ERROR_BAD_JSON, error);
}

static gboolean
get_optional_string (const LkJsonValue  *object,
                     const char         *member,
                     gsize               max_len,
                     char              **out,
                     GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;
  const char *value = lk_json_value_get_string (object, member, max_len, FALSE, &len, FIELD_ERROR, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  *out = value != NULL ? g_strndup (value, len) : NULL;
  return TRUE;
}

static gboolean
parse_display (const LkJsonValue  *root,
               RelayBody          *body,
               GError            **error)
{
  LkJsonValue display;

  if (!lk_json_value_get_object (root, "displayInformation", TRUE, &display, FIELD_ERROR, error))
    return FALSE;

  if (!get_optional_string (&display, "title", RELAY_MAX_TITLE, &body->title, error) ||
      !get_optional_string (&display, "description", RELAY_MAX_DESCRIPTION, &body->description, error) ||
      !get_optional_string (&display, "imageURL", RELAY_MAX_IMAGE_URL, &body->image_url, error))
    return FALSE;

  if (body->title == NULL)
    {
      g_set_error (error, FIELD_ERROR, "“displayInformation.title” is missing");
      return FALSE;
    }

  /* A preview image comes from the web; only HTTPS, never a page of ours. */
  if (body->image_url != NULL)
    {
      g_autoptr(GUri) uri = g_uri_parse (body->image_url, G_URI_FLAGS_NONE, NULL);

      if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 || g_uri_get_host (uri) == NULL)
        {
          g_set_error (error, FIELD_ERROR, "“displayInformation.imageURL” must be an https URL");
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
parse_configuration (const LkJsonValue  *root,
                     RelayBody          *body,
                     GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *rights = NULL;
  g_autofree char *expiration = NULL;
  LkJsonValue config;
  gint64 max_recipients = 1;

  body->access = RELAY_ACCESS_DEFAULT;
  body->max_recipients = 1;

  if (!lk_json_value_get_object (root, "mailboxConfiguration", FALSE, &config, FIELD_ERROR, &local_error))
    {
      if (local_error == NULL)
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!get_optional_string (&config, "accessRights", 8, &rights, error) ||
      !get_optional_string (&config, "expiration", LK_TIME_MAX_TEXT, &expiration, error) ||
      !lk_json_value_get_int (&config, "maxRecipients", 1, RELAY_MAX_RECIPIENTS, FALSE, &max_recipients,
                              FIELD_ERROR, error))
    return FALSE;

  if (rights != NULL && !relay_access_from_string (rights, &body->access))
    {
      g_set_error (error, FIELD_ERROR, "“mailboxConfiguration.accessRights” must combine R, W and D");
      return FALSE;
    }

  if (expiration != NULL)
    {
      g_autoptr(GDateTime) when = lk_time_parse (expiration);

      if (when == NULL)
        {
          g_set_error (error, FIELD_ERROR,
                       "“mailboxConfiguration.expiration” must be an RFC 3339 time such as 2026-01-31T12:00:00Z");
          return FALSE;
        }
      body->expiration = g_date_time_to_unix (when);
    }

  /* Ours (PROTOCOL.md §6.9): several receivers read one offer. A mailbox a
   * recipient writes to is a conversation with one device (a car key is
   * signed for one key), so the two do not go together. */
  body->max_recipients = (guint) max_recipients;
  if (body->max_recipients > 1 && (body->access & RELAY_ACCESS_WRITE))
    {
      g_set_error (error, FIELD_ERROR,
                   "“mailboxConfiguration.maxRecipients” above 1 needs a mailbox the recipients cannot write to");
      return FALSE;
    }

  return TRUE;
}

/**
 * relay_parse_create_body:
 *
 * The draft's CreateMailbox body: `payload` and `displayInformation`
 * required, `notificationToken` and `mailboxConfiguration` optional.
 * Unknown members are ignored, for later versions of the draft.
 */
gboolean
relay_parse_create_body (const char  *data,
                         gsize        len,
                         RelayBody   *body,
                         GError     **error)
{
  g_autoptr(LkJsonDocument) document = NULL;
  LkJsonValue root;

  document = parse_root (data, len, &root, error);
  if (document == NULL)
    return FALSE;

  return parse_payload (&root, body, error) &&
         parse_display (&root, body, error) &&
         parse_token (&root, body, error) &&
         parse_configuration (&root, body, error);
}

/**
 * relay_parse_update_body:
 *
 * The draft's UpdateMailbox body: `payload` required, `notificationToken`
 * optional.
 */
gboolean
relay_parse_update_body (const char  *data,
                         gsize        len,
                         RelayBody   *body,
                         GError     **error)
{
  g_autoptr(LkJsonDocument) document = NULL;
  LkJsonValue root;

  document = parse_root (data, len, &root, error);
  if (document == NULL)
    return FALSE;

  return parse_payload (&root, body, error) && parse_token (&root, body, error);
}

/**
 * relay_parse_uuid:
 *
 * Returns: (nullable): the UUID in lowercase, or %NULL if @value is not one
 */
char *
relay_parse_uuid (const char *value)
{
  if (value == NULL || !g_uuid_string_is_valid (value))
    return NULL;
  return g_ascii_strdown (value, -1);
}

/**
 * relay_parse_etag:
 * @value: an entity tag as we make them, `"N"`; weak tags are accepted
 *
 * Returns: whether @value is one of our tags
 */
gboolean
relay_parse_etag (const char *value,
                  gint64     *version)
{
  guint64 v;
  gsize len;
  char *end;

  if (value == NULL)
    return FALSE;
  if (g_str_has_prefix (value, "W/"))
    value += 2;

  len = strlen (value);
  if (len < 3 || len > 22 || value[0] != '"' || value[len - 1] != '"' || !g_ascii_isdigit (value[1]))
    return FALSE;

  v = g_ascii_strtoull (value + 1, &end, 10);
  if (end != value + len - 1 || v > G_MAXINT64)
    return FALSE;

  *version = (gint64) v;
  return TRUE;
}

char *
relay_format_etag (gint64 version)
{
  return g_strdup_printf ("\"%" G_GINT64_FORMAT "\"", version);
}

/**
 * relay_parse_prefer_wait:
 * @value: a Prefer header (RFC 7240), such as `wait=30`
 * @seconds: (out): the wait, capped at %RELAY_MAX_WAIT_SECONDS
 *
 * Returns: whether the header asks for a wait
 */
gboolean
relay_parse_prefer_wait (const char *value,
                         guint      *seconds)
{
  g_auto(GStrv) prefs = NULL;

  if (value == NULL || strlen (value) > 256)
    return FALSE;

  prefs = g_strsplit (value, ",", 8);
  for (guint i = 0; prefs[i] != NULL; i++)
    {
      const char *pref = g_strstrip (prefs[i]);
      guint64 v;
      char *end;

      if (g_ascii_strncasecmp (pref, "wait=", 5) != 0 || !g_ascii_isdigit (pref[5]))
        continue;

      v = g_ascii_strtoull (pref + 5, &end, 10);
      if (*end != '\0' && *end != ';' && !g_ascii_isspace (*end))
        continue;

      *seconds = (guint) MIN (v, RELAY_MAX_WAIT_SECONDS);
      return TRUE;
    }

  return FALSE;
}
