/* lk-json-parser.h: the one parser for JSON that comes from outside
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Relay and partner requests, every answer the app and the CLI read,
 * decrypted messages and keyring items all go through this parser: RFC
 * 8259 only (simdjson, strict), with the depth bound below enforced by the
 * parser itself. lk_json_parse() copies the result into a json-glib tree,
 * which most of the code reads; json-glib stays for building and writing
 * JSON. Hot paths (the relay's requests) read the checked document in
 * place instead, through LkJsonDocument and LkJsonValue.
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deep enough for every message we define (4 levels at most), shallow
 * enough that no tree we build from outside input is deep: a document
 * whose containers nest deeper is refused by the parser itself. */
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

/* A document that passed every check of lk_json_parse(), read in place. */
typedef struct _LkJsonDocument LkJsonDocument;

/* A value inside an LkJsonDocument; valid while the document is. */
typedef struct
{
  /*< private >*/
  gconstpointer priv[2];
} LkJsonValue;

LkJsonDocument *lk_json_document_parse_object (const char         *data,
                                               gsize               len,
                                               gsize               max_len,
                                               LkJsonValue        *root,
                                               GQuark              domain,
                                               int                 code,
                                               GError            **error);
void            lk_json_document_free         (LkJsonDocument     *self);

gboolean        lk_json_value_get_object      (const LkJsonValue  *object,
                                               const char         *member,
                                               gboolean            required,
                                               LkJsonValue        *value,
                                               GQuark              domain,
                                               int                 code,
                                               GError            **error);
const char     *lk_json_value_get_string      (const LkJsonValue  *object,
                                               const char         *member,
                                               gsize               max_len,
                                               gboolean            required,
                                               gsize              *len,
                                               GQuark              domain,
                                               int                 code,
                                               GError            **error);
gboolean        lk_json_value_get_int         (const LkJsonValue  *object,
                                               const char         *member,
                                               gint64              min,
                                               gint64              max,
                                               gboolean            required,
                                               gint64             *value,
                                               GQuark              domain,
                                               int                 code,
                                               GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkJsonDocument, lk_json_document_free)

G_END_DECLS
