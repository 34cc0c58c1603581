/* lk-json.h: bounded JSON parsing and typed member access
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deep enough for every message we define, shallow enough that a hostile
 * document cannot exhaust the parser's stack. */
#define LK_JSON_MAX_DEPTH 32

gboolean    lk_json_depth_within    (const char  *data,
                                     gsize        len,
                                     guint        max_depth);
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
char       *lk_json_to_string       (JsonNode    *node);

const char *lk_json_get_string      (JsonObject  *object,
                                     const char  *member,
                                     gsize        max_len,
                                     gboolean     required,
                                     GQuark       domain,
                                     int          code,
                                     GError     **error);
gboolean    lk_json_get_int         (JsonObject  *object,
                                     const char  *member,
                                     gint64       min,
                                     gint64       max,
                                     gint64      *value,
                                     GQuark       domain,
                                     int          code,
                                     GError     **error);
JsonObject *lk_json_get_object      (JsonObject  *object,
                                     const char  *member,
                                     gboolean     required,
                                     GQuark       domain,
                                     int          code,
                                     GError     **error);
JsonArray  *lk_json_get_array       (JsonObject  *object,
                                     const char  *member,
                                     gboolean     required,
                                     GQuark       domain,
                                     int          code,
                                     GError     **error);

G_END_DECLS
