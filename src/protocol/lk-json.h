/* lk-json.h: typed, bounded access to members of parsed JSON
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "lk-json-parser.h"

G_BEGIN_DECLS

/**
 * LkJsonStrvFlags:
 * @LK_JSON_STRV_LENIENT: keep the first entries that fit, drop the others
 * @LK_JSON_STRV_STRICT: refuse the whole list if an entry does not fit, or
 *   if there are too many
 * @LK_JSON_STRV_SIGNABLE: entries must hold no comma and no newline, which
 *   the signed statements of lk-signing.h refuse
 */
typedef enum
{
  LK_JSON_STRV_LENIENT  = 0,
  LK_JSON_STRV_STRICT   = 1 << 0,
  LK_JSON_STRV_SIGNABLE = 1 << 1,
} LkJsonStrvFlags;

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
GStrv       lk_json_get_strv        (JsonObject  *object,
                                     const char  *member,
                                     gboolean     required,
                                     guint        max_items,
                                     gsize        max_len,
                                     LkJsonStrvFlags flags,
                                     GQuark       domain,
                                     int          code,
                                     GError     **error);
JsonArray  *lk_json_array_new_strv  (const char * const *strv);
GDateTime  *lk_json_get_time        (JsonObject  *object,
                                     const char  *member);
void        lk_json_set_time        (JsonObject  *object,
                                     const char  *member,
                                     GDateTime   *time);

G_END_DECLS
