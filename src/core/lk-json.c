/* lk-json.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-json"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-json.h"

char *
lk_json_to_string (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

/**
 * lk_json_get_string:
 * @max_len: the longest accepted value, in bytes
 * @required: whether a missing member is an error
 *
 * Returns: (nullable): the string value; %NULL with @error set if it has the
 *   wrong type or length, %NULL without an error if absent and not required
 */
const char *
lk_json_get_string (JsonObject  *object,
                    const char  *member,
                    gsize        max_len,
                    gboolean     required,
                    GQuark       domain,
                    int          code,
                    GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);
  const char *value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        g_set_error (error, domain, code, _("“%s” is missing"), member);
      return NULL;
    }

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, domain, code, _("“%s” must be a string"), member);
      return NULL;
    }

  value = json_node_get_string (node);
  if (strlen (value) > max_len)
    {
      g_set_error (error, domain, code, _("“%s” is longer than %u bytes"), member, (guint) max_len);
      return NULL;
    }

  return value;
}

gboolean
lk_json_get_int (JsonObject  *object,
                 const char  *member,
                 gint64       min,
                 gint64       max,
                 gint64      *value,
                 GQuark       domain,
                 int          code,
                 GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 v;

  if (node == NULL)
    {
      g_set_error (error, domain, code, _("“%s” is missing"), member);
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error (error, domain, code, _("“%s” must be an integer"), member);
      return FALSE;
    }

  v = json_node_get_int (node);
  if (v < min || v > max)
    {
      g_set_error (error, domain, code, _("“%s” is out of range"), member);
      return FALSE;
    }

  *value = v;
  return TRUE;
}

JsonObject *
lk_json_get_object (JsonObject  *object,
                    const char  *member,
                    gboolean     required,
                    GQuark       domain,
                    int          code,
                    GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        g_set_error (error, domain, code, _("“%s” is missing"), member);
      return NULL;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, domain, code, _("“%s” must be an object"), member);
      return NULL;
    }

  return json_node_get_object (node);
}

JsonArray *
lk_json_get_array (JsonObject  *object,
                   const char  *member,
                   gboolean     required,
                   GQuark       domain,
                   int          code,
                   GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        g_set_error (error, domain, code, _("“%s” is missing"), member);
      return NULL;
    }

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, domain, code, _("“%s” must be an array"), member);
      return NULL;
    }

  return json_node_get_array (node);
}
