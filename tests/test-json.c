/* test-json.c: the strict parser every outside document goes through
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-json"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"

#define MAX_LEN (1024 * 1024)

static JsonNode *
parse (const char  *text,
       gsize        len,
       GError     **error)
{
  return lk_json_parse (text, len, MAX_LEN, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, error);
}

static void
assert_refused (const char *text,
                gsize       len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = parse (text, len, &error);
  g_autoptr(LkJsonDocument) document = NULL;
  g_autoptr(GError) document_error = NULL;
  LkJsonValue root;

  if (node != NULL)
    g_test_message ("accepted: %.*s", (int) MIN (len, 80), text);
  g_assert_null (node);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  /* Read in place, the same checks and the same error. */
  document = lk_json_document_parse_object (text, len, MAX_LEN, &root, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                            &document_error);
  g_assert_null (document);
  g_assert_error (document_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (document_error->message, ==, error->message);
}

/* What json-glib 1.6 takes and RFC 8259 does not. */
static void
test_refuses_non_json (void)
{
  static const char * const bad[] = {
    "{\"a\": 1 /* a comment */}",
    "{\"a\": 1 // a comment\n}",
    "/*\"*/{\"a\": 1}",
    "{'a': 1}",
    "{\"a\": 'x'}",
    "{\"a\": \"\\x41\"}",              /* invalid escape */
    "{\"a\": \"\\u12\"}",              /* short escape */
    "{\"a\": \"a\\udfffb\"}",          /* lone low surrogate */
    "{\"a\": \"a\\ud800\"}",           /* lone high surrogate */
    "{\"a\": \"\\ud800\\u0041\"}",     /* high surrogate, then not a low one */
    "{\"a\": \"x\\u0000y\"}",          /* NUL, later used as a C string */
    "{\"a\\u0000b\": 1}",              /* NUL in a member name */
    "{\"a\": \"\xed\xa0\x80\"}",       /* a surrogate encoded in UTF-8 */
    "{\"a\": \"\xff\"}",               /* not UTF-8 */
    "{\"a\": \"\xc0\xaf\"}",           /* overlong UTF-8 */
    "{\"a\": \"tab\there\"}",          /* raw control character */
    "{\"a\": 1, \"a\": 2}",            /* the same member twice */
    "{\"a\": 1} x",                    /* data after the value */
    "{\"a\": 1}{}",
    "[1, 2,]",
    "{\"a\": 1,}",
    "{\"a\": 01}",
    "{\"a\": NaN}",
    "{\"a\": Infinity}",
    "{\"a\": 0x10}",
    "{\"a\": 1e999}",
    "{\"a\": 99999999999999999999}",
    "{\"a\": 18446744073709551615}",  /* fits 64 bits unsigned only */
    "{\"a\": \"\\ud800\\udc00\\udc00\"}",  /* a pair, then a lone low surrogate */
    "{\"a\": \"\xed\xbf\xbf\"}",       /* a low surrogate encoded in UTF-8 */
    "{\"a\": \"\xf4\x90\x80\x80\"}",   /* past U+10FFFF */
    "\xef\xbb\xbf{}",               /* a byte order mark */
    "{\"a\": 1.}",
    "{\"a\": -}",
    "{\"a\": undefined}",
    "{a: 1}",
    "{\"a\" 1}",
    "",
    " ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_refused (bad[i], strlen (bad[i]));

  /* A NUL byte in the text itself, not escaped. */
  assert_refused ("{\"a\": \"x\0y\"}", 12);
  assert_refused ("{\"a\": 1}\0", 9);
}

static void
test_accepts_json (void)
{
  static const char text[] =
    "{\"z\": 1, \"a\": [true, false, null, -0, 1.5e3, \"\\ud83d\\ude00\", \"\\u00e9\\n\\\"\"], "
    "\"m\": {\"x\": {}}, \"big\": 9223372036854775807}";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = parse (text, strlen (text), &error);
  g_autoptr(GList) members = NULL;
  JsonObject *object;
  JsonArray *array;

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);

  /* Every member, in the document's order. */
  members = json_object_get_members (object);
  g_assert_cmpuint (g_list_length (members), ==, 4);
  g_assert_cmpstr (g_list_nth_data (members, 0), ==, "z");
  g_assert_cmpstr (g_list_nth_data (members, 1), ==, "a");
  g_assert_cmpstr (g_list_nth_data (members, 2), ==, "m");
  g_assert_cmpstr (g_list_nth_data (members, 3), ==, "big");

  g_assert_cmpint (json_object_get_int_member (object, "z"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "big"), ==, G_MAXINT64);
  array = json_object_get_array_member (object, "a");
  g_assert_cmpuint (json_array_get_length (array), ==, 7);
  g_assert_true (json_array_get_boolean_element (array, 0));
  g_assert_false (json_array_get_boolean_element (array, 1));
  g_assert_true (json_array_get_null_element (array, 2));
  g_assert_cmpint (json_node_get_value_type (json_array_get_element (array, 3)), ==, G_TYPE_INT64);
  g_assert_cmpfloat (json_array_get_double_element (array, 4), ==, 1500.0);
  g_assert_cmpstr (json_array_get_string_element (array, 5), ==, "\xf0\x9f\x98\x80");
  g_assert_cmpstr (json_array_get_string_element (array, 6), ==, "\xc3\xa9\n\"");
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_object_get_object_member (object, "m"), "x")));

  /* Any value at the root; only the _object variant insists. */
  {
    g_autoptr(JsonNode) scalar = parse ("\"s\"", 3, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (json_node_get_string (scalar), ==, "s");
    g_assert_null (lk_json_parse_object ("[]", 2, MAX_LEN, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  }
}

static char *
nested (guint       depth,
        const char *prefix)
{
  GString *text = g_string_new (prefix);

  for (guint i = 0; i < depth; i++)
    g_string_append (text, i % 2 ? "{\"a\":" : "[");
  g_string_append (text, "1");
  for (guint i = depth; i > 0; i--)
    g_string_append (text, (i - 1) % 2 ? "}" : "]");
  return g_string_free (text, FALSE);
}

static void
test_depth (void)
{
  g_autofree char *deepest = nested (LK_JSON_MAX_DEPTH, "");
  g_autofree char *too_deep = nested (LK_JSON_MAX_DEPTH + 1, "");
  g_autofree char *very_deep = nested (5000, "");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = parse (deepest, strlen (deepest), &error);
  g_autoptr(GString) bypass = g_string_new ("{\"payload\":/*\"*/");

  g_assert_no_error (error);
  g_assert_nonnull (node);
  assert_refused (too_deep, strlen (too_deep));
  assert_refused (very_deep, strlen (very_deep));

  /* The old guard took every quote for a string's start, and json-glib
   * skipped the comment: this crashed the receiver's stack. */
  for (guint i = 0; i < 250000; i++)
    g_string_append_c (bypass, '[');
  assert_refused (bypass->str, bypass->len);
  {
    g_autoptr(JsonNode) refused = parse (bypass->str, bypass->len, &error);

    g_assert_null (refused);
    /* What the receiver tells its user (test-e2e's hostile relay). */
    g_assert_nonnull (strstr (error->message, "not valid JSON"));
    g_clear_error (&error);
  }

  g_string_truncate (bypass, 0);
  g_string_append (bypass, "{\"a\":\"\\\"");
  for (guint i = 0; i < 250000; i++)
    g_string_append_c (bypass, '[');
  assert_refused (bypass->str, bypass->len);
}

static void
test_bounds_and_messages (void)
{
  static const char token[] = "{\"token\": \"Zq3s-SECRET-TOKEN-VALUE\" /* */}";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  /* Over the bound: refused before it is looked at. */
  node = lk_json_parse ("{\"a\": 1}", 8, 7, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, &error);
  g_assert_null (node);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* Errors say what is wrong, never what was there: the text may be a
   * token. Text that is not UTF-8 is also told where. */
  node = parse (token, strlen (token), &error);
  g_assert_null (node);
  g_assert_null (strstr (error->message, "SECRET"));
  g_assert_nonnull (strstr (error->message, "not valid JSON"));
  g_clear_error (&error);

  node = parse ("{\"a\": \"SECRET\xff\"}", 16, &error);
  g_assert_null (node);
  g_assert_null (strstr (error->message, "SECRET"));
  g_assert_nonnull (strstr (error->message, "(at byte 13)"));
  g_clear_error (&error);

  node = parse ("{\"a\": \"\\udfff\"}", 15, &error);
  g_assert_null (strstr (error->message, "dfff"));
  g_clear_error (&error);

  node = parse ("{\"a\": 1, \"a\": 2}", 16, &error);
  g_assert_nonnull (strstr (error->message, "twice"));
}

/* What we write, we read back: json-glib 1.6 writes U+001F unescaped, and
 * a double with an exponent as "1e+30.0" (both found by fuzz-json). */
static void
test_write_round_trip (void)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonNode) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  json_object_set_string_member (object, "title", "a\x1f b\x01 c\x7f d\t \xe9\x8d\xb5 \x1f \"1e+30.0\" \\\x1f");
  json_object_set_double_member (object, "big", 1e30);
  json_object_set_double_member (object, "small", -1e-300);
  json_object_set_double_member (object, "plain", 1.5);
  json_object_set_int_member (object, "int", -7);
  node = json_node_init_object (json_node_alloc (), object);
  text = lk_json_to_string (node);
  g_assert_null (memchr (text, 0x1f, strlen (text)));
  back = parse (text, strlen (text), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (back), "title"), ==,
                   "a\x1f b\x01 c\x7f d\t \xe9\x8d\xb5 \x1f \"1e+30.0\" \\\x1f");
  g_assert_cmpfloat (json_object_get_double_member (json_node_get_object (back), "big"), ==, 1e30);
  g_assert_cmpfloat (json_object_get_double_member (json_node_get_object (back), "small"), ==, -1e-300);
  g_assert_cmpfloat (json_object_get_double_member (json_node_get_object (back), "plain"), ==, 1.5);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (back), "int"), ==, -7);
}

/* The in-place reader answers as lk_json_get_object() and
 * lk_json_get_string() do, with the same errors. */
static void
test_document (void)
{
  static const char text[] =
    "{\"o\": {\"s\": \"caf\\u00e9\", \"n\": null, \"i\": 1, \"long\": \"abcdef\"}, \"x\": null, \"s\": \"t\"}";
  g_autoptr(JsonObject) copy = lk_json_parse_object (text, strlen (text), MAX_LEN, G_IO_ERROR,
                                                     G_IO_ERROR_INVALID_DATA, NULL);
  g_autoptr(LkJsonDocument) document = NULL;
  g_autoptr(LkJsonDocument) other = NULL;
  g_autoptr(GError) error = NULL;
  static const char * const members[] = { "s", "n", "i", "long", "absent" };
  LkJsonValue root, object, other_root;
  const char *value;
  gsize len = 0;

  document = lk_json_document_parse_object (text, strlen (text), MAX_LEN, &root, G_IO_ERROR,
                                            G_IO_ERROR_INVALID_DATA, &error);
  g_assert_no_error (error);
  g_assert_nonnull (document);

  /* Another document on the same thread leaves the first one whole. */
  other = lk_json_document_parse_object ("{\"s\": \"other\"}", 14, MAX_LEN, &other_root, G_IO_ERROR,
                                         G_IO_ERROR_INVALID_DATA, &error);
  g_assert_no_error (error);

  g_assert_true (lk_json_value_get_object (&root, "o", TRUE, &object, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (lk_json_value_get_string (&other_root, "s", 64, TRUE, NULL, G_IO_ERROR, 0, &error), ==, "other");
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    for (guint required = 0; required < 2; required++)
      {
        g_autoptr(GError) expected = NULL;
        const char *want = lk_json_get_string (json_object_get_object_member (copy, "o"), members[i], 5, required,
                                               G_IO_ERROR, G_IO_ERROR_INVALID_DATA, &expected);

        value = lk_json_value_get_string (&object, members[i], 5, required, &len, G_IO_ERROR,
                                          G_IO_ERROR_INVALID_DATA, &error);
        g_assert_cmpstr (value, ==, want);
        if (expected != NULL)
          {
            g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
            g_assert_cmpstr (error->message, ==, expected->message);
            g_clear_error (&error);
          }
        else
          g_assert_no_error (error);
      }

  value = lk_json_value_get_string (&object, "s", 5, TRUE, &len, G_IO_ERROR, 0, &error);
  g_assert_cmpstr (value, ==, "caf\xc3\xa9");
  g_assert_cmpuint (len, ==, 5);

  /* Objects: null is missing, a string is the wrong type. */
  g_assert_false (lk_json_value_get_object (&root, "x", FALSE, &object, G_IO_ERROR, 0, &error));
  g_assert_no_error (error);
  g_assert_false (lk_json_value_get_object (&root, "x", TRUE, &object, G_IO_ERROR, 0, &error));
  g_assert_cmpstr (error->message, ==, "“x” is missing");
  g_clear_error (&error);
  g_assert_false (lk_json_value_get_object (&root, "s", FALSE, &object, G_IO_ERROR, 0, &error));
  g_assert_cmpstr (error->message, ==, "“s” must be an object");
  g_clear_error (&error);

  /* Only objects at the root. */
  g_assert_null (lk_json_document_parse_object ("[1]", 3, MAX_LEN, &root, G_IO_ERROR, 0, &error));
  g_assert_cmpstr (error->message, ==, "The document is not a JSON object");
}

/* A document larger than the parser kept for each thread gets its own, and
 * the kept one still works after it. */
static void
test_large (void)
{
  g_autoptr(GString) text = g_string_new ("{\"a\": [");
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 20000; i++)
    g_string_append_printf (text, "%s\"%u\"", i ? "," : "", i);
  g_string_append (text, "]}");
  g_assert_cmpuint (text->len, >, 128 * 1024);

  node = parse (text->str, text->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (node), "a")), ==, 20000);
  g_clear_pointer (&node, json_node_unref);

  node = parse ("{\"b\": 1}", 8, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "b"), ==, 1);
}

/* An object with many members is checked for a repeated name too. */
static void
test_many_members (void)
{
  g_autoptr(GString) text = g_string_new ("{");

  for (guint i = 0; i < 5000; i++)
    g_string_append_printf (text, "\"m%u\": %u,", i, i);
  g_string_append (text, "\"m4321\": 0}");
  assert_refused (text->str, text->len);
}

/* An object that held secrets is wiped before it goes. */
static void
test_wipe (void)
{
  static const char text[] = "{\"token\": \"SECRET-1\", \"inner\": {\"list\": [\"SECRET-2\", 3]}}";
  g_autoptr(JsonObject) object = lk_json_parse_object (text, strlen (text), MAX_LEN, G_IO_ERROR,
                                                       G_IO_ERROR_INVALID_DATA, NULL);
  const char *token = json_object_get_string_member (object, "token");
  const char *listed = json_array_get_string_element (
    json_object_get_array_member (json_object_get_object_member (object, "inner"), "list"), 0);

  g_assert_cmpstr (token, ==, "SECRET-1");
  lk_json_wipe_object (object);
  g_assert_cmpint (token[0], ==, 0);
  g_assert_cmpint (listed[0], ==, 0);
  g_assert_null (g_strstr_len (token, 8, "SECRET"));
}

/* The sealer refuses what the opener would: a string that is not text. */
static void
test_seal_refuses_invalid_text (void)
{
  static const guint8 key_bytes[32] = { 1 };
  g_autoptr(GBytes) key = g_bytes_new (key_bytes, sizeof key_bytes);
  g_autoptr(LkChannel) sender = lk_channel_new (key, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", LK_ROLE_INITIATOR);
  g_autoptr(JsonObject) content = json_object_new ();
  g_autoptr(JsonObject) payload = NULL;
  g_autoptr(GError) error = NULL;

  json_object_set_string_member (content, "bad", "\xed\xa0\x80");
  payload = lk_channel_seal (sender, "x", content, LK_SEAL_FLAGS_NONE, &error);
  g_assert_null (payload);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED);
  g_assert_cmpuint (lk_channel_get_n_messages (sender), ==, 0);
}

static JsonObject *
object_of (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonObject *object = lk_json_parse_object (text, strlen (text), MAX_LEN, G_IO_ERROR,
                                             G_IO_ERROR_INVALID_DATA, &error);

  g_assert_no_error (error);
  return object;
}

/* Lists of strings: the lenient reader keeps what fits and drops the rest,
 * the strict one refuses the list; both stop at their bounds. */
static void
test_strv (void)
{
  g_autoptr(JsonObject) object = object_of ("{\"list\": [\"open\", 7, \"a,b\", \"toolong\", \"start\", \"x\"],"
                                            " \"empty\": [], \"word\": \"open\"}");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lenient = NULL;
  g_auto(GStrv) signable = NULL;
  g_auto(GStrv) strict = NULL;
  g_auto(GStrv) empty = NULL;
  g_auto(GStrv) absent = NULL;
  g_autoptr(JsonArray) written = NULL;
  const char * const expected[] = { "open", "a,b", "start", NULL };

  lenient = lk_json_get_strv (object, "list", FALSE, 5, 5, LK_JSON_STRV_LENIENT, 0, 0, NULL);
  g_assert_cmpstrv (lenient, expected);
  signable = lk_json_get_strv (object, "list", FALSE, 32, 5, LK_JSON_STRV_SIGNABLE, 0, 0, NULL);
  g_assert_cmpuint (g_strv_length (signable), ==, 3);
  g_assert_cmpstr (signable[1], ==, "start");

  strict = lk_json_get_strv (object, "list", TRUE, 32, 64, LK_JSON_STRV_STRICT, G_IO_ERROR, G_IO_ERROR_FAILED,
                             &error);
  g_assert_null (strict);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "“list”"));
  g_clear_error (&error);
  strict = lk_json_get_strv (object, "list", TRUE, 2, 64, LK_JSON_STRV_STRICT, G_IO_ERROR, G_IO_ERROR_FAILED,
                             &error);
  g_assert_null (strict);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);

  empty = lk_json_get_strv (object, "empty", TRUE, 2, 64, LK_JSON_STRV_STRICT, G_IO_ERROR, G_IO_ERROR_FAILED,
                            &error);
  g_assert_no_error (error);
  g_assert_nonnull (empty);
  g_assert_null (empty[0]);

  /* Absent: nothing, and an error only if required; not a list: an error
   * only if checked. */
  absent = lk_json_get_strv (object, "none", FALSE, 2, 64, LK_JSON_STRV_STRICT, G_IO_ERROR, G_IO_ERROR_FAILED,
                             &error);
  g_assert_no_error (error);
  g_assert_null (absent);
  g_assert_null (lk_json_get_strv (object, "none", TRUE, 2, 64, LK_JSON_STRV_STRICT, G_IO_ERROR,
                                   G_IO_ERROR_FAILED, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (lk_json_get_strv (object, "word", FALSE, 2, 64, LK_JSON_STRV_LENIENT, 0, 0, NULL));
  g_assert_null (lk_json_get_strv (object, "word", FALSE, 2, 64, LK_JSON_STRV_STRICT, G_IO_ERROR,
                                   G_IO_ERROR_FAILED, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);

  written = lk_json_array_new_strv (expected);
  g_assert_cmpuint (json_array_get_length (written), ==, 3);
  g_assert_cmpstr (json_array_get_string_element (written, 1), ==, "a,b");
  json_array_unref (g_steal_pointer (&written));
  written = lk_json_array_new_strv (NULL);
  g_assert_cmpuint (json_array_get_length (written), ==, 0);
}

/* Times: one form written, any zone read; the exact parser takes only the
 * form that signatures cover. */
static void
test_time (void)
{
  g_autoptr(JsonObject) object = object_of ("{\"utc\": \"2026-01-31T12:00:00Z\", \"zoned\": \"2026-01-31T13:00:00+01:00\","
                                            " \"bad\": \"yesterday\", \"number\": 5}");
  g_autoptr(JsonObject) written = json_object_new ();
  g_autoptr(GDateTime) utc = lk_json_get_time (object, "utc");
  g_autoptr(GDateTime) zoned = lk_json_get_time (object, "zoned");
  g_autofree char *text = NULL;
  gint64 seconds = 0;

  g_assert_nonnull (utc);
  g_assert_nonnull (zoned);
  g_assert_true (g_date_time_equal (utc, zoned));
  g_assert_null (lk_json_get_time (object, "bad"));
  g_assert_null (lk_json_get_time (object, "number"));
  g_assert_null (lk_json_get_time (object, "none"));

  text = lk_time_format (zoned);
  g_assert_cmpstr (text, ==, "2026-01-31T12:00:00Z");
  g_assert_null (lk_time_format (NULL));
  lk_json_set_time (written, "at", zoned);
  lk_json_set_time (written, "never", NULL);
  g_assert_cmpstr (json_object_get_string_member (written, "at"), ==, "2026-01-31T12:00:00Z");
  g_assert_false (json_object_has_member (written, "never"));

  g_clear_pointer (&text, g_free);
  text = lk_time_format_unix (g_date_time_to_unix (utc));
  g_assert_cmpstr (text, ==, "2026-01-31T12:00:00Z");
  g_assert_null (lk_time_format_unix (G_GINT64_CONSTANT (300000000000)));

  g_assert_true (lk_time_parse_exact ("2026-01-31T12:00:00Z", &seconds));
  g_assert_cmpint (seconds, ==, g_date_time_to_unix (utc));
  g_assert_false (lk_time_parse_exact ("2026-01-31T13:00:00+01:00", &seconds));
  g_assert_false (lk_time_parse_exact ("2026-01-31T12:00:00.0Z", &seconds));
  g_assert_false (lk_time_parse_exact ("2026-02-30T12:00:00Z", &seconds));
  g_assert_false (lk_time_parse_exact ("2026-1-31T12:00:00Z", &seconds));
  g_assert_false (lk_time_parse_exact (NULL, &seconds));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json/refuses-non-json", test_refuses_non_json);
  g_test_add_func ("/json/accepts-json", test_accepts_json);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/bounds-and-messages", test_bounds_and_messages);
  g_test_add_func ("/json/seal-refuses-invalid-text", test_seal_refuses_invalid_text);
  g_test_add_func ("/json/write-round-trip", test_write_round_trip);
  g_test_add_func ("/json/wipe", test_wipe);
  g_test_add_func ("/json/strv", test_strv);
  g_test_add_func ("/json/time", test_time);
  g_test_add_func ("/json/document", test_document);
  g_test_add_func ("/json/large", test_large);
  g_test_add_func ("/json/many-members", test_many_members);

  return g_test_run ();
}
