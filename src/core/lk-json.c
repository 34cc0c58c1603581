/* lk-json.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-json"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-json.h"

/* UTF-8 without NUL. Bodies are mostly base64, so ASCII is checked eight
 * bytes at a time before the general validator runs on what is left. */
static gboolean
text_is_valid (const char *data,
               gsize       len)
{
  gsize i = 0;

  for (; i + 8 <= len; i += 8)
    {
      guint64 word;

      memcpy (&word, data + i, 8);
      /* Any byte ≥ 0x80, or any zero byte, stops the fast path. */
      if ((word & G_GUINT64_CONSTANT (0x8080808080808080)) != 0 ||
          ((word - G_GUINT64_CONSTANT (0x0101010101010101)) & ~word & G_GUINT64_CONSTANT (0x8080808080808080)) != 0)
        break;
    }

  return memchr (data + i, '\0', len - i) == NULL && g_utf8_validate (data + i, len - i, NULL);
}

/**
 * lk_json_depth_within:
 *
 * json-glib recurses once per nesting level and has no limit of its own, so
 * the depth is measured with a linear scan before it sees the text.
 *
 * Returns: whether @data nests at most @max_depth arrays and objects
 */
gboolean
lk_json_depth_within (const char *data,
                      gsize       len,
                      guint       max_depth)
{
  gboolean in_string = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }

      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > max_depth)
            return FALSE;
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }

  return TRUE;
}

/**
 * lk_json_parse:
 * @max_len: the largest accepted input; longer input fails before parsing
 * @domain: @code: the error to report, so that callers keep their own domain
 *
 * Returns: (transfer full) (nullable): the root node
 */
JsonNode *
lk_json_parse (const char  *data,
               gsize        len,
               gsize        max_len,
               GQuark       domain,
               int          code,
               GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (data == NULL || len == 0)
    {
      g_set_error (error, domain, code, _("The document is empty"));
      return NULL;
    }

  if (len > max_len)
    {
      g_set_error (error, domain, code, _("The document is larger than %u bytes"), (guint) max_len);
      return NULL;
    }

  if (!text_is_valid (data, len))
    {
      g_set_error (error, domain, code, _("The document is not UTF-8 text"));
      return NULL;
    }

  if (!lk_json_depth_within (data, len, LK_JSON_MAX_DEPTH))
    {
      g_set_error (error, domain, code, _("The document is nested too deeply"));
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, len, &local_error))
    {
      g_set_error (error, domain, code, _("The document is not valid JSON: %s"), local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error (error, domain, code, _("The document is empty"));
      return NULL;
    }

  return json_node_ref (root);
}

/**
 * lk_json_parse_object:
 *
 * Returns: (transfer full) (nullable): the root object; anything else is an error
 */
JsonObject *
lk_json_parse_object (const char  *data,
                      gsize        len,
                      gsize        max_len,
                      GQuark       domain,
                      int          code,
                      GError     **error)
{
  g_autoptr(JsonNode) root = lk_json_parse (data, len, max_len, domain, code, error);

  if (root == NULL)
    return NULL;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, domain, code, _("The document is not a JSON object"));
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

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
