/* lk-json-parser.h: the one parser for JSON that comes from outside
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Relay and partner requests, every answer the app and the CLI read,
 * decrypted messages and keyring items all go through lk_json_parse(): RFC
 * 8259 only (jansson, strict), then copied into a json-glib tree, which
 * the rest of the code reads. json-glib stays for building and writing JSON.
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deep enough for every message we define (4 levels at most), shallow
 * enough that no tree we build from outside input is deep. The parser
 * itself stops at jansson's JSON_PARSER_MAX_DEPTH (2048), so that nesting
 * costs a bounded stack before this bound is checked. */
#define LK_JSON_MAX_DEPTH 32

JsonNode   *lk_json_parse           (const char  *data,
                                     gsize        len,
                                     gsize        max_len,
                                     GQuark       domain,
                                     int          code,
                                     GError     **error);
JsonObject *lk_json_parse_object    (const char  *data,
                                     gsize        len,
                                     gsize        max_len,
                                     GQuark       domain,
                                     int          code,
                                     GError     **error);

G_END_DECLS
