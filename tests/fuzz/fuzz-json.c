/* fuzz-json.c: libFuzzer target for the strict JSON parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything from outside goes through lk_json_parse(). Whatever it
 * accepts must be RFC 8259 text the same parser takes back: at most
 * LK_JSON_MAX_DEPTH deep, every string valid UTF-8 without NUL, and
 * json-glib's rendering of the tree parses again to the same rendering.
 * The in-place reader (lk_json_document_parse_object()) agrees with it.
 */

#define G_LOG_DOMAIN "fuzz-json"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static guint
check_node (JsonNode *node,
            guint     depth)
{
  guint deepest = depth;

  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        g_autoptr(GList) members = json_object_get_members (json_node_get_object (node));

        deepest = depth + 1;
        for (GList *l = members; l != NULL; l = l->next)
          {
            g_assert (g_utf8_validate (l->data, -1, NULL));
            deepest = MAX (deepest, check_node (json_object_get_member (json_node_get_object (node), l->data),
                                                depth + 1));
          }
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        deepest = depth + 1;
        for (guint i = 0; i < json_array_get_length (array); i++)
          deepest = MAX (deepest, check_node (json_array_get_element (array, i), depth + 1));
      }
      break;

    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_STRING)
        g_assert (g_utf8_validate (json_node_get_string (node), -1, NULL));
      break;

    case JSON_NODE_NULL:
    default:
      break;
    }

  return deepest;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = lk_json_parse ((const char *) data, size, 256 * 1024,
                                            G_IO_ERROR, G_IO_ERROR_INVALID_DATA, &error);
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *text = NULL;
  g_autofree char *again_text = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_autoptr(LkJsonDocument) document = NULL;
  g_autoptr(GError) document_error = NULL;
  LkJsonValue root;

  g_assert ((node == NULL) == (error != NULL));

  /* The in-place reader takes exactly the objects the copying one takes,
   * and refuses the rest with the same message. */
  document = lk_json_document_parse_object ((const char *) data, size, 256 * 1024, &root, G_IO_ERROR,
                                            G_IO_ERROR_INVALID_DATA, &document_error);
  g_assert ((document != NULL) == (node != NULL && JSON_NODE_HOLDS_OBJECT (node)));
  if (node == NULL)
    g_assert (strcmp (document_error->message, error->message) == 0);
  g_clear_pointer (&document, lk_json_document_free);

  if (node == NULL)
    {
      g_assert (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_INVALID_DATA);
      return 0;
    }

  g_assert (check_node (node, 0) <= LK_JSON_MAX_DEPTH);

  /* What it took, written back, it takes again, the same. */
  text = lk_json_to_string (node);
  again = lk_json_parse (text, strlen (text), G_MAXSIZE, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, NULL);
  g_assert (again != NULL);
  again_text = lk_json_to_string (again);
  g_assert (strcmp (text, again_text) == 0);

  object = lk_json_parse_object ((const char *) data, size, 256 * 1024, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, NULL);
  g_assert ((object != NULL) == JSON_NODE_HOLDS_OBJECT (node));

  return 0;
}
