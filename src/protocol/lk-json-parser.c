/* lk-json-parser.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * jansson does the parsing: it refuses comments, single quotes, invalid
 * escapes, lone surrogates, \u0000 (strings end up as C strings), invalid
 * UTF-8, duplicate members (JSON_REJECT_DUPLICATES) and data after the
 * value, and it stops at its own depth limit. json-glib 1.6, which the
 * rest of the code reads, accepts comments and single quotes and recurses
 * without a limit, so it never sees outside text: the jansson tree is copied
 * into json-glib nodes here, refusing anything nested deeper than
 * LK_JSON_MAX_DEPTH on the way.
 *
 * jansson's error texts quote the input ("near '…'"), which may be a token:
 * our messages say what is wrong and where, never what was there.
 *
 * Both libraries export json_object_iter_next(), with different meanings
 * (each under its own symbol version). A plain reference from our code
 * would bind to whichever library the linker saw first, so jansson's is
 * looked up in jansson itself, and its header's declaration is renamed out
 * of json-glib's way.
 */

#define G_LOG_DOMAIN "lk-json-parser"
#define _GNU_SOURCE   /* dlvsym */

#include "config.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>

#include "lk-json-parser.h"

#define json_object_iter_next lk_json_parser_unused_iter_next
#include <jansson.h>
#undef json_object_iter_next

#define JANSSON_SONAME "libjansson.so.4"

typedef void *(*IterNextFunc) (json_t *object, void *iter);

static IterNextFunc jansson_iter_next;

/* Everything jansson allocates (its copies of strings, keys and its read
 * buffer) is wiped when freed: decrypted messages and keyring items pass
 * through it. */
static void *
wiped_malloc (size_t size)
{
  return malloc (size);
}

static void
wiped_free (void *ptr)
{
  if (ptr == NULL)
    return;
  gnutls_memset (ptr, 0, malloc_usable_size (ptr));
  free (ptr);
}

static IterNextFunc
find_iter_next (void)
{
  gpointer symbol = dlvsym (RTLD_DEFAULT, "json_object_iter_next", JANSSON_SONAME);

  /* A jansson built without symbol versions: ask the library itself. */
  if (symbol == NULL)
    {
      void *handle = dlopen (JANSSON_SONAME, RTLD_LAZY | RTLD_NOLOAD);

      if (handle != NULL)
        {
          symbol = dlsym (handle, "json_object_iter_next");
          dlclose (handle);
        }
    }

  if (symbol == NULL)
    g_error ("Cannot find jansson's json_object_iter_next in " JANSSON_SONAME);
  return (IterNextFunc) symbol;
}

static void
ensure_initialized (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      json_set_alloc_funcs (wiped_malloc, wiped_free);
      jansson_iter_next = find_iter_next ();
      g_once_init_leave (&done, 1);
    }
}

static void
set_parse_error (const json_error_t  *parse_error,
                 GQuark               domain,
                 int                  code,
                 GError             **error)
{
  const char *what;

  switch ((int) json_error_code (parse_error))
    {
    case json_error_invalid_utf8:
      what = _("The document is not UTF-8 text");
      break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
      what = _("The document holds a NUL character");
      break;
    case json_error_duplicate_key:
      what = _("The document names a member twice");
      break;
    case json_error_stack_overflow:
      what = _("The document is nested too deeply");
      break;
    case json_error_numeric_overflow:
      what = _("The document holds a number out of range");
      break;
    case json_error_premature_end_of_input:
      what = _("The document ends too early");
      break;
    case json_error_end_of_input_expected:
      what = _("The document has data after its end");
      break;
    case json_error_out_of_memory:
      what = _("The document could not be read: out of memory");
      break;
    default:
      /* Comments, single quotes, invalid escapes or surrogates, and the rest. */
      what = _("The document is not valid JSON");
      break;
    }

  /* Translators: %s is one of the sentences above; %d a byte offset */
  g_set_error (error, domain, code, _("%s (at byte %d)"), what, parse_error->position);
}

/* Returns: (nullable): the copy, or %NULL if @value nests too deeply */
static JsonNode *
copy_value (json_t *value,
            guint   depth)
{
  switch (json_typeof (value))
    {
    case JSON_OBJECT:
      {
        g_autoptr(JsonObject) object = NULL;
        void *iter;

        if (depth >= LK_JSON_MAX_DEPTH)
          return NULL;
        object = json_object_new ();
        /* In the document's order (jansson 2.14 keeps it). */
        for (iter = json_object_iter (value); iter != NULL; iter = jansson_iter_next (value, iter))
          {
            JsonNode *node = copy_value (json_object_iter_value (iter), depth + 1);

            if (node == NULL)
              return NULL;
            json_object_set_member (object, json_object_iter_key (iter), node);
          }
        return json_node_init_object (json_node_alloc (), object);
      }

    case JSON_ARRAY:
      {
        g_autoptr(JsonArray) array = NULL;
        gsize i;
        json_t *element;

        if (depth >= LK_JSON_MAX_DEPTH)
          return NULL;
        array = json_array_sized_new (json_array_size (value));
        json_array_foreach (value, i, element)
          {
            JsonNode *node = copy_value (element, depth + 1);

            if (node == NULL)
              return NULL;
            json_array_add_element (array, node);
          }
        return json_node_init_array (json_node_alloc (), array);
      }

    case JSON_STRING:
      return json_node_init_string (json_node_alloc (), json_string_value (value));

    case JSON_INTEGER:
      return json_node_init_int (json_node_alloc (), json_integer_value (value));

    case JSON_REAL:
      return json_node_init_double (json_node_alloc (), json_real_value (value));

    case JSON_TRUE:
    case JSON_FALSE:
      return json_node_init_boolean (json_node_alloc (), json_is_true (value));

    case JSON_NULL:
    default:
      return json_node_init_null (json_node_alloc ());
    }
}

/**
 * lk_json_parse:
 * @max_len: the largest accepted input; longer input fails before parsing
 * @domain: @code: the error to report, so that callers keep their own domain
 *
 * Parses @data strictly (see above) and refuses nesting deeper than
 * %LK_JSON_MAX_DEPTH.
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
  json_error_t parse_error;
  json_t *root;
  JsonNode *node;

  if (data == NULL || len == 0)
    {
      g_set_error (error, domain, code, _("The document is empty"));
      return NULL;
    }

  if (len > max_len)
    {
      g_set_error (error, domain, code, _("The document is larger than %u bytes"), (guint) MIN (max_len, G_MAXUINT));
      return NULL;
    }

  ensure_initialized ();
  root = json_loadb (data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &parse_error);
  if (root == NULL)
    {
      set_parse_error (&parse_error, domain, code, error);
      return NULL;
    }

  node = copy_value (root, 0);
  json_decref (root);
  if (node == NULL)
    {
      g_set_error (error, domain, code, _("The document is nested too deeply"));
      return NULL;
    }

  return node;
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
