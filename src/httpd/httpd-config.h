/* httpd-config.h: settings both servers read the same way
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  HTTPD_SETTING_NUMBER,
  HTTPD_SETTING_DURATION,   /* 90, 90s, 15m, 48h, 7d: seconds */
  HTTPD_SETTING_SIZE,       /* 65536, 64K, 16M, 4G, 1T: bytes */
} HttpdSettingKind;

gboolean httpd_parse_duration       (const char        *text,
                                     gint64            *seconds);
gboolean httpd_parse_size           (const char        *text,
                                     guint64           *bytes);
gboolean httpd_key_file_get_string  (GKeyFile          *file,
                                     const char        *group,
                                     const char        *key,
                                     char             **field,
                                     GError           **error);
gboolean httpd_key_file_get_number  (GKeyFile          *file,
                                     const char        *group,
                                     const char        *key,
                                     HttpdSettingKind   kind,
                                     guint64            max,
                                     guint64           *out,
                                     gboolean          *found,
                                     GError           **error);
void     httpd_config_take_string   (char             **field,
                                     char             **value);
gboolean httpd_config_check_common  (const char        *data_dir,
                                     guint              port,
                                     GError           **error);

G_END_DECLS
