/* lk-json.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-json"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>

#include "lk-json.h"
#include "lk-time.h"

static void
wipe_node (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      lk_json_wipe_object (json_node_get_object (node));
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        for (guint i = 0; i < json_array_get_length (array); i++)
          wipe_node (json_array_get_element (array, i));
      }
      break;

    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_STRING && json_node_get_string (node) != NULL)
        {
          /* json-glib owns the copy, sealed or not; it is about to be freed. */
          char *text = (char *) json_node_get_string (node);

          gnutls_memset (text, 0, strlen (text));
        }
      break;

    case JSON_NODE_NULL:
    default:
      break;
    }
}

/**
 * lk_json_wipe_object:
 *
 * Overwrites every string value in @object, however deep, with zeros: for
 * an object that held secrets and that nothing else uses any more, just
 * before it is unreferenced.
 */
static void
wipe_member (JsonObject  *object,
             const char  *member,
             JsonNode    *node,
             gpointer     user_data)
{
  wipe_node (node);
}

/* Not json_object_iter_next(): jansson, linked by other programs that may
 * load us, exports a function of that name too. */
void
lk_json_wipe_object (JsonObject *object)
{
  json_object_foreach_member (object, wipe_member, NULL);
}

/* Copies json-glib's text into @out, made JSON: json-glib 1.6 escapes the
 * control characters below U+001F but writes U+001F itself as it is (a
 * byte that can only be in a string, never part of a UTF-8 sequence), and
 * writes a double with an exponent as "1e+30.0". Neither is JSON, and the
 * strict parser (our own relay and wallet) refuses both. */
static void
repair_text (const char *text,
             gsize       len,
             char       *out)
{
  gboolean in_string = FALSE;
  gsize i = 0;

  while (i < len)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\' && i + 1 < len)
            {
              *out++ = text[i++];
              *out++ = text[i++];
              continue;
            }
          if (c == 0x1f)
            out = g_stpcpy (out, "\\u001f");
          else
            *out++ = c;
          in_string = c != '"';
          i++;
          continue;
        }

      if (c == '"')
        {
          in_string = TRUE;
          *out++ = text[i++];
          continue;
        }

      if (c == '-' || g_ascii_isdigit (c))
        {
          gsize start = i, end;
          gboolean exponent = FALSE;

          for (; i < len && (g_ascii_isdigit (text[i]) || strchr ("+-.eE", text[i]) != NULL); i++)
            if (text[i] == 'e' || text[i] == 'E')
              exponent = TRUE;
          end = i;
          if (exponent && end - start > 2 && text[end - 2] == '.' && text[end - 1] == '0')
            end -= 2;
          memcpy (out, text + start, end - start);
          out += end - start;
          continue;
        }

      *out++ = text[i++];
    }
  *out = '\0';
}

/**
 * lk_json_to_string:
 *
 * Returns: @node as JSON text that lk_json_parse() takes back. It may hold
 *   a secret: free it with lk_secure_str_free() when it does.
 */
char *
lk_json_to_string (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize len, escapes = 0;
  char *text, *repaired;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &len);

  for (const char *p = memchr (text, 0x1f, len); p != NULL; p = memchr (p + 1, 0x1f, len - (p + 1 - text)))
    escapes++;

  repaired = g_malloc (len + escapes * (strlen ("\\u001f") - 1) + 1);
  repair_text (text, len, repaired);
  gnutls_memset (text, 0, len);
  g_free (text);
  return repaired;
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

static gboolean
strv_entry_fits (JsonNode        *node,
                 gsize            max_len,
                 LkJsonStrvFlags  flags)
{
  const char *value;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  value = json_node_get_string (node);
  return strlen (value) <= max_len &&
         ((flags & LK_JSON_STRV_SIGNABLE) == 0 || strpbrk (value, ",\n") == NULL);
}

/**
 * lk_json_get_strv:
 * @max_items: the most entries taken (lenient) or accepted (strict)
 * @max_len: the longest entry, in bytes
 *
 * Reads an array of strings, such as entitlements. The lenient form is for
 * what we only show or pass on; the strict form for what we check.
 *
 * Returns: (transfer full) (nullable): the entries in their order, possibly
 *   none; %NULL if the member is absent (an error if @required), not an
 *   array (an error, unless lenient), or in the strict form with an entry
 *   that does not fit (an error)
 */
GStrv
lk_json_get_strv (JsonObject      *object,
                  const char      *member,
                  gboolean         required,
                  guint            max_items,
                  gsize            max_len,
                  LkJsonStrvFlags  flags,
                  GQuark           domain,
                  int              code,
                  GError         **error)
{
  gboolean strict = (flags & LK_JSON_STRV_STRICT) != 0;
  g_autoptr(GStrvBuilder) builder = NULL;
  JsonArray *array;
  guint n;

  array = lk_json_get_array (object, member, required, domain, code, strict || required ? error : NULL);
  if (array == NULL)
    return NULL;

  n = json_array_get_length (array);
  if (strict && n > max_items)
    {
      g_set_error (error, domain, code, _("“%s” has more than %u entries"), member, max_items);
      return NULL;
    }

  builder = g_strv_builder_new ();
  for (guint i = 0; i < MIN (n, max_items); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (strv_entry_fits (node, max_len, flags))
        g_strv_builder_add (builder, json_node_get_string (node));
      else if (strict)
        {
          g_set_error (error, domain, code, _("“%s” must hold strings of at most %u bytes"),
                       member, (guint) max_len);
          return NULL;
        }
    }

  return g_strv_builder_end (builder);
}

/**
 * lk_json_array_new_strv:
 * @strv: (nullable): the entries
 *
 * Returns: (transfer full): an array of the strings, possibly empty
 */
JsonArray *
lk_json_array_new_strv (const char * const *strv)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    json_array_add_string_element (array, strv[i]);
  return array;
}

/**
 * lk_json_get_time:
 *
 * Returns: (transfer full) (nullable): the time in @member, if it is an ISO
 *   8601 time with a zone; %NULL if absent or anything else
 */
GDateTime *
lk_json_get_time (JsonObject *object,
                  const char *member)
{
  return lk_time_parse (lk_json_get_string (object, member, LK_TIME_MAX_TEXT, FALSE, 0, 0, NULL));
}

/**
 * lk_json_set_time:
 * @time: (nullable): set nothing if %NULL
 *
 * Writes @time in the drafts' form (lk-time.h).
 */
void
lk_json_set_time (JsonObject *object,
                  const char *member,
                  GDateTime  *time)
{
  g_autofree char *text = lk_time_format (time);

  if (text != NULL)
    json_object_set_string_member (object, member, text);
}
