/* lk-json-parser.cc
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * simdjson does the parsing: it refuses comments, single quotes, invalid
 * escapes, lone surrogates, invalid UTF-8 (overlong forms and encoded
 * surrogates included), raw control characters, numbers JSON does not
 * have or that overflow a double, and data after the value, and it stops
 * at LK_JSON_MAX_DEPTH itself (its max_depth), so no input nests a deep
 * tree or a deep call stack. Three rules are ours, checked on its tree
 * before anyone reads it: no member named twice, no NUL in a string or
 * member name (strings end up as C strings), and integers within 64 signed
 * bits. It validates and parses several bytes per instruction, where
 * jansson took about a hundred instructions per byte: the relay's create
 * path is mostly this parse.
 *
 * simdjson is C++; this file is the only C++ in the project, and gives C
 * the functions of lk-json-parser.h. Errors are codes, never exceptions.
 *
 * Its buffers hold what was parsed (decrypted messages and keyring items
 * pass through here): the copy of the input, its string buffer and its tape
 * are wiped after every document. Parsers are kept, one per thread, for
 * documents up to KEPT_CAPACITY: allocating one costs more than parsing a
 * relay request.
 *
 * Error messages say what is wrong, never what was there: the text may be
 * a token. simdjson gives no position, so only a UTF-8 error says where.
 */

#define G_LOG_DOMAIN "lk-json-parser"

#include "config.h"

#include <string.h>

#include <algorithm>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>
#include <simdjson.h>

#include "lk-json-parser.h"

namespace dom = simdjson::dom;

/* One parser per thread is kept for documents up to this size (a relay
 * request body at most); a larger document gets a parser of its own. */
#define KEPT_CAPACITY (64 * 1024)
/* The least a kept parser is made for, so that it is not grown by steps. */
#define MIN_CAPACITY 4096
/* Objects with more members than this are checked for repeated names by
 * sorting them, not by comparing each pair. */
#define PAIRWISE_MEMBERS 16
/* simdjson's max_depth counts one level more than our containers (the
 * document itself): LK_JSON_MAX_DEPTH containers pass, one more does not. */
#define PARSER_DEPTH (LK_JSON_MAX_DEPTH + 1)

struct _LkJsonDocument
{
  dom::parser *parser;
  char        *input;   /* the text with simdjson's padding after it */
  gsize        len;
  gboolean     parsed;  /* the tape is whole */
};

static thread_local std::unique_ptr<dom::parser> kept_parser;

static_assert (sizeof (dom::element) <= sizeof (LkJsonValue), "LkJsonValue is too small for a simdjson element");
static_assert (std::is_trivially_copyable<dom::element>::value, "simdjson elements must copy as bytes");

static void
store_value (LkJsonValue  *out,
             dom::element  value)
{
  memset (out, 0, sizeof *out);
  memcpy (static_cast<void *> (out), &value, sizeof value);
}

static dom::element
load_value (const LkJsonValue *in)
{
  dom::element value;

  memcpy (static_cast<void *> (&value), in, sizeof value);
  return value;
}

static dom::parser *
parser_take (gsize len)
{
  dom::parser *parser = NULL;

  if (len <= KEPT_CAPACITY && kept_parser)
    parser = kept_parser.release ();
  else
    parser = new (std::nothrow) dom::parser ();
  if (parser == NULL)
    return NULL;

  if (parser->capacity () < len || parser->max_depth () != PARSER_DEPTH)
    {
      gsize capacity = len <= KEPT_CAPACITY ? MAX (MAX (len, (gsize) MIN_CAPACITY), parser->capacity ()) : len;

      if (parser->allocate (capacity, PARSER_DEPTH) != simdjson::SUCCESS)
        {
          delete parser;
          return NULL;
        }
    }

  return parser;
}

/* What a document of @len bytes can have written: simdjson sizes its
 * buffers for a document of its capacity by the same rules
 * (document::allocate()). */
static void
parser_wipe (dom::parser *parser,
             gsize        len,
             gboolean     parsed)
{
  dom::document &doc = parser->doc;
  gsize capacity = doc.capacity ();
  gsize strings = SIMDJSON_ROUNDUP_N (5 * MIN (len, capacity) / 3 + simdjson::SIMDJSON_PADDING, 64);
  gsize words = MIN (len, capacity) + 3;

  if (capacity == 0)
    return;

  /* A whole tape says where it ends. */
  if (parsed)
    words = MIN (words, (gsize) (doc.tape[0] & simdjson::internal::JSON_VALUE_MASK) + 1);

  gnutls_memset (doc.string_buf.get (), 0, MIN (strings, SIMDJSON_ROUNDUP_N (5 * capacity / 3 + simdjson::SIMDJSON_PADDING, 64)));
  gnutls_memset (doc.tape.get (), 0, MIN (words, SIMDJSON_ROUNDUP_N (capacity + 3, 64)) * sizeof (uint64_t));
}

static void
parser_give (dom::parser *parser,
             gsize        len,
             gboolean     parsed)
{
  parser_wipe (parser, len, parsed);
  if (!kept_parser && parser->capacity () <= KEPT_CAPACITY)
    kept_parser.reset (parser);
  else
    delete parser;
}

/**
 * lk_json_document_free:
 *
 * Wipes what the document held and frees it.
 */
void
lk_json_document_free (LkJsonDocument *self)
{
  if (self == NULL)
    return;

  if (self->parser != NULL)
    parser_give (self->parser, self->len, self->parsed);
  if (self->input != NULL)
    {
      gnutls_memset (self->input, 0, self->len);
      g_free (self->input);
    }
  g_free (self);
}

/* Where the text stops being UTF-8, as a byte offset; -1 for other errors:
 * simdjson does not say where it stopped. */
static gssize
error_position (LkJsonDocument        *self,
                simdjson::error_code   code)
{
  const char *end = NULL;

  if (code != simdjson::UTF8_ERROR)
    return -1;

  g_utf8_validate_len (self->input, self->len, &end);
  return end - self->input;
}

static void
set_error (gssize       position,
           const char  *what,
           GQuark       domain,
           int          code,
           GError     **error)
{
  if (position >= 0 && position <= G_MAXINT)
    /* Translators: %s is one of the sentences below; %d a byte offset */
    g_set_error (error, domain, code, _("%s (at byte %d)"), what, (int) position);
  else
    g_set_error_literal (error, domain, code, what);
}

static void
set_parse_error (LkJsonDocument        *self,
                 simdjson::error_code   parse_error,
                 GQuark                 domain,
                 int                    code,
                 GError               **error)
{
  const char *what;

  switch ((int) parse_error)
    {
    case simdjson::UTF8_ERROR:
      what = _("The document is not UTF-8 text");
      break;
    case simdjson::DEPTH_ERROR:
      what = _("The document is nested too deeply");
      break;
    case simdjson::NUMBER_OUT_OF_RANGE:
      what = _("The document holds a number out of range");
      break;
    case simdjson::EMPTY:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      what = _("The document ends too early");
      break;
    case simdjson::TRAILING_CONTENT:
      what = _("The document has data after its end");
      break;
    case simdjson::MEMALLOC:
      what = _("The document could not be read: out of memory");
      break;
    default:
      /* Comments, single quotes, invalid escapes or surrogates, raw control
       * characters and NUL bytes, and the rest; an unclosed string too,
       * which is what a quote inside a comment looks like. */
      what = _("The document is not valid JSON");
      break;
    }

  set_error (error_position (self, parse_error), what, domain, code, error);
}

typedef enum
{
  CHECK_OK,
  CHECK_NUL,
  CHECK_DUPLICATE,
  CHECK_RANGE,
} Check;

static gboolean
has_nul (std::string_view text)
{
  return memchr (text.data (), '\0', text.size ()) != NULL;
}

static gboolean
has_duplicate (dom::object object,
               gsize       n_members)
{
  std::string_view *keys;
  gboolean found = FALSE;
  gsize i = 0;

  if (n_members < 2)
    return FALSE;

  if (n_members <= PAIRWISE_MEMBERS)
    {
      std::string_view few[PAIRWISE_MEMBERS];

      for (dom::key_value_pair field : object)
        {
          for (gsize j = 0; j < i; j++)
            if (few[j] == field.key)
              return TRUE;
          few[i++] = field.key;
        }
      return FALSE;
    }

  /* A 64 KiB request can have thousands of members: sort, then compare
   * neighbours. */
  keys = g_new (std::string_view, n_members);
  for (dom::key_value_pair field : object)
    keys[i++] = field.key;
  std::sort (keys, keys + i);
  for (gsize j = 1; j < i && !found; j++)
    found = keys[j] == keys[j - 1];
  g_free (keys);
  return found;
}

/* Our rules on top of RFC 8259 (see above). The parser has bounded the
 * depth, and with it this recursion. */
static Check
check_value (dom::element value)
{
  switch (value.type ())
    {
    case dom::element_type::OBJECT:
      {
        dom::object object = value.get_object ().value_unsafe ();
        gsize n_members = 0;

        for (dom::key_value_pair field : object)
          {
            Check check;

            if (has_nul (field.key))
              return CHECK_NUL;
            check = check_value (field.value);
            if (check != CHECK_OK)
              return check;
            n_members++;
          }
        return has_duplicate (object, n_members) ? CHECK_DUPLICATE : CHECK_OK;
      }

    case dom::element_type::ARRAY:
      {
        dom::array elements = value.get_array ().value_unsafe ();

        for (dom::element element : elements)
          {
            Check check = check_value (element);

            if (check != CHECK_OK)
              return check;
          }
        return CHECK_OK;
      }

    case dom::element_type::STRING:
      return has_nul (value.get_string ().value_unsafe ()) ? CHECK_NUL : CHECK_OK;

    case dom::element_type::UINT64:
      /* Above G_MAXINT64: jansson refused these, and json-glib has no
       * unsigned integers. */
      return CHECK_RANGE;

    case dom::element_type::INT64:
    case dom::element_type::DOUBLE:
    case dom::element_type::BOOL:
    case dom::element_type::NULL_VALUE:
    default:
      return CHECK_OK;
    }
}

static LkJsonDocument *
document_parse (const char    *data,
                gsize          len,
                gsize          max_len,
                dom::element  *root,
                GQuark         domain,
                int            code,
                GError       **error)
{
  g_autoptr(LkJsonDocument) self = NULL;
  simdjson::error_code parse_error;

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

  self = g_new0 (LkJsonDocument, 1);
  self->len = len;
  self->parser = parser_take (len);
  if (self->parser == NULL)
    {
      g_set_error (error, domain, code, _("The document could not be read: out of memory"));
      return NULL;
    }

  /* simdjson reads up to SIMDJSON_PADDING bytes past the end. */
  self->input = static_cast<char *> (g_malloc (len + simdjson::SIMDJSON_PADDING));
  memcpy (self->input, data, len);
  memset (self->input + len, 0, simdjson::SIMDJSON_PADDING);

  parse_error = self->parser->parse (reinterpret_cast<const uint8_t *> (self->input), len, false).get (*root);
  if (parse_error != simdjson::SUCCESS)
    {
      set_parse_error (self, parse_error, domain, code, error);
      return NULL;
    }
  self->parsed = TRUE;

  switch (check_value (*root))
    {
    case CHECK_NUL:
      g_set_error_literal (error, domain, code, _("The document holds a NUL character"));
      return NULL;
    case CHECK_DUPLICATE:
      g_set_error_literal (error, domain, code, _("The document names a member twice"));
      return NULL;
    case CHECK_RANGE:
      g_set_error_literal (error, domain, code, _("The document holds a number out of range"));
      return NULL;
    case CHECK_OK:
    default:
      break;
    }

  return g_steal_pointer (&self);
}

/* The checked tree, as json-glib nodes. */
static JsonNode *
copy_value (dom::element value)
{
  switch (value.type ())
    {
    case dom::element_type::OBJECT:
      {
        dom::object members = value.get_object ().value_unsafe ();
        /* The node takes a reference of its own. */
        g_autoptr(JsonObject) object = json_object_new ();

        /* In the document's order. */
        for (dom::object::iterator field = members.begin (); field != members.end (); ++field)
          json_object_set_member (object, field.key_c_str (), copy_value (field.value ()));
        return json_node_init_object (json_node_alloc (), object);
      }

    case dom::element_type::ARRAY:
      {
        dom::array elements = value.get_array ().value_unsafe ();
        g_autoptr(JsonArray) array = json_array_sized_new (elements.size ());

        for (dom::element element : elements)
          json_array_add_element (array, copy_value (element));
        return json_node_init_array (json_node_alloc (), array);
      }

    case dom::element_type::STRING:
      return json_node_init_string (json_node_alloc (), value.get_c_str ().value_unsafe ());

    case dom::element_type::INT64:
      return json_node_init_int (json_node_alloc (), value.get_int64 ().value_unsafe ());

    case dom::element_type::DOUBLE:
      return json_node_init_double (json_node_alloc (), value.get_double ().value_unsafe ());

    case dom::element_type::BOOL:
      return json_node_init_boolean (json_node_alloc (), value.get_bool ().value_unsafe ());

    case dom::element_type::UINT64:     /* refused by check_value() */
    case dom::element_type::NULL_VALUE:
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
  g_autoptr(LkJsonDocument) document = NULL;
  dom::element root;

  document = document_parse (data, len, max_len, &root, domain, code, error);
  if (document == NULL)
    return NULL;

  return copy_value (root);
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

/**
 * lk_json_document_parse_object:
 * @root: (out): the root object
 *
 * Like lk_json_parse_object(), with the same checks and errors, but the
 * values are read in place with lk_json_value_get_object() and
 * lk_json_value_get_string(), without a copy.
 *
 * Returns: (transfer full) (nullable): the document, to free with
 *   lk_json_document_free() once its values are no longer used
 */
LkJsonDocument *
lk_json_document_parse_object (const char   *data,
                               gsize         len,
                               gsize         max_len,
                               LkJsonValue  *root,
                               GQuark        domain,
                               int           code,
                               GError      **error)
{
  g_autoptr(LkJsonDocument) document = NULL;
  dom::element value;

  document = document_parse (data, len, max_len, &value, domain, code, error);
  if (document == NULL)
    return NULL;

  if (!value.is_object ())
    {
      g_set_error (error, domain, code, _("The document is not a JSON object"));
      return NULL;
    }

  store_value (root, value);
  return g_steal_pointer (&document);
}

/* A member as lk_json_get_object() and lk_json_get_string() see it: null
 * is the same as missing. */
static gboolean
find_member (const LkJsonValue *object,
             const char        *member,
             dom::element      *value)
{
  dom::object members;

  if (load_value (object).get_object ().get (members) != simdjson::SUCCESS)
    return FALSE;
  return members.at_key (member).get (*value) == simdjson::SUCCESS && !value->is_null ();
}

/**
 * lk_json_value_get_object:
 * @object: an object of a document
 * @value: (out): the member's value
 *
 * lk_json_get_object() for a document read in place, with the same errors.
 *
 * Returns: whether @member is there, as an object; %FALSE with @error set
 *   if it is not an object (or is missing and @required)
 */
gboolean
lk_json_value_get_object (const LkJsonValue  *object,
                          const char         *member,
                          gboolean            required,
                          LkJsonValue        *value,
                          GQuark              domain,
                          int                 code,
                          GError            **error)
{
  dom::element found;

  if (!find_member (object, member, &found))
    {
      if (required)
        g_set_error (error, domain, code, _("“%s” is missing"), member);
      return FALSE;
    }

  if (!found.is_object ())
    {
      g_set_error (error, domain, code, _("“%s” must be an object"), member);
      return FALSE;
    }

  store_value (value, found);
  return TRUE;
}

/**
 * lk_json_value_get_string:
 * @object: an object of a document
 * @len: (out) (optional): the value's length in bytes
 *
 * lk_json_get_string() for a document read in place, with the same errors.
 *
 * Returns: (nullable): the string, valid while the document is; %NULL with
 *   @error set if it has the wrong type or length, %NULL without an error
 *   if absent and not required
 */
const char *
lk_json_value_get_string (const LkJsonValue  *object,
                          const char         *member,
                          gsize               max_len,
                          gboolean            required,
                          gsize              *len,
                          GQuark              domain,
                          int                 code,
                          GError            **error)
{
  std::string_view text;
  dom::element found;

  if (!find_member (object, member, &found))
    {
      if (required)
        g_set_error (error, domain, code, _("“%s” is missing"), member);
      return NULL;
    }

  if (found.get_string ().get (text) != simdjson::SUCCESS)
    {
      g_set_error (error, domain, code, _("“%s” must be a string"), member);
      return NULL;
    }

  if (text.size () > max_len)
    {
      g_set_error (error, domain, code, _("“%s” is longer than %u bytes"), member, (guint) max_len);
      return NULL;
    }

  if (len != NULL)
    *len = text.size ();
  /* simdjson ends each string with a NUL, and check_value() found none in it. */
  return text.data ();
}

/**
 * lk_json_value_get_int:
 * @object: an object of a document
 * @value: (out): the member's value, left alone when it is absent
 *
 * lk_json_get_int() for a document read in place: an integer (not 2.0, not
 * "2") from @min to @max.
 *
 * Returns: %FALSE with @error set if it is mistyped or out of range, or
 *   missing and @required; %TRUE otherwise
 */
gboolean
lk_json_value_get_int (const LkJsonValue  *object,
                       const char         *member,
                       gint64              min,
                       gint64              max,
                       gboolean            required,
                       gint64             *value,
                       GQuark              domain,
                       int                 code,
                       GError            **error)
{
  dom::element found;
  int64_t v;

  if (!find_member (object, member, &found))
    {
      if (required)
        {
          g_set_error (error, domain, code, _("“%s” is missing"), member);
          return FALSE;
        }
      return TRUE;
    }

  if (!found.is_int64 () || found.get_int64 ().get (v) != simdjson::SUCCESS)
    {
      g_set_error (error, domain, code, _("“%s” must be an integer"), member);
      return FALSE;
    }

  if (v < min || v > max)
    {
      g_set_error (error, domain, code, _("“%s” is out of range"), member);
      return FALSE;
    }

  *value = v;
  return TRUE;
}
