/* lk-json.h: typed, bounded access to members of parsed JSON
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "lk-json-parser.h"

G_BEGIN_DECLS

char       *lk_json_to_string       (JsonNode    *node);
void        lk_json_wipe_object     (JsonObject  *object);

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
