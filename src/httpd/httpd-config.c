/* httpd-config.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Settings both servers read the same way: durations and sizes with units,
 * key files, and the checks every server makes of its listening address
 * and data directory.
 */

#define G_LOG_DOMAIN "httpd-config"

#include "config.h"

#include <string.h>

#include "httpd-config.h"

/**
 * httpd_parse_duration:
 * @text: a number of seconds, optionally with a unit: `90`, `90s`, `15m`, `48h`, `7d`
 */
gboolean
httpd_parse_duration (const char *text,
                      gint64     *seconds)
{
  guint64 value;
  char *end;
  gint64 unit = 1;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;

  value = g_ascii_strtoull (text, &end, 10);
  switch (*end)
    {
    case '\0':
    case 's':
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return FALSE;
    }
  if (*end != '\0' && end[1] != '\0')
    return FALSE;
  if (value > G_MAXINT32)
    return FALSE;

  *seconds = (gint64) value * unit;
  return TRUE;
}

/**
 * httpd_parse_size:
 * @text: a number of bytes, optionally with a binary unit: `65536`, `64K`, `16M`, `4G`
 */
gboolean
httpd_parse_size (const char *text,
                  guint64    *bytes)
{
  guint64 value;
  char *end;
  guint shift = 0;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;

  value = g_ascii_strtoull (text, &end, 10);
  switch (g_ascii_toupper (*end))
    {
    case '\0':
      break;
    case 'K':
      shift = 10;
      break;
    case 'M':
      shift = 20;
      break;
    case 'G':
      shift = 30;
      break;
    case 'T':
      shift = 40;
      break;
    default:
      return FALSE;
    }
  if (*end != '\0' && end[1] != '\0')
    return FALSE;
  if (value > ((guint64) G_MAXINT64 >> shift))
    return FALSE;

  *bytes = value << shift;
  return TRUE;
}

/**
 * httpd_key_file_get_string:
 * @field: (inout): set to the value if @key is in @group, else left alone
 */
gboolean
httpd_key_file_get_string (GKeyFile    *file,
                           const char  *group,
                           const char  *key,
                           char       **field,
                           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char *value = g_key_file_get_string (file, group, key, &local_error);

  if (value == NULL)
    {
      if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
          g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_free (*field);
  *field = value;
  return TRUE;
}

/**
 * httpd_key_file_get_number:
 * @max: the largest value allowed (in seconds for a duration, bytes for a size)
 * @out: (out): the value, if @found
 * @found: (out): whether @key is in @group
 *
 * A number, a duration (httpd_parse_duration()) or a size
 * (httpd_parse_size()); anything else, or more than @max, is an error.
 */
gboolean
httpd_key_file_get_number (GKeyFile         *file,
                           const char       *group,
                           const char       *key,
                           HttpdSettingKind  kind,
                           guint64           max,
                           guint64          *out,
                           gboolean         *found,
                           GError          **error)
{
  g_autofree char *text = NULL;
  gint64 seconds = 0;
  guint64 value = 0;
  gboolean valid;

  *found = FALSE;
  if (!httpd_key_file_get_string (file, group, key, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;

  switch (kind)
    {
    case HTTPD_SETTING_DURATION:
      valid = httpd_parse_duration (text, &seconds) && (guint64) seconds <= max;
      value = (guint64) seconds;
      break;
    case HTTPD_SETTING_SIZE:
      valid = httpd_parse_size (text, &value) && value <= max;
      break;
    case HTTPD_SETTING_NUMBER:
    default:
      valid = g_ascii_string_to_unsigned (text, 10, 0, max, &value, NULL);
      break;
    }
  if (!valid)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "“%s” has an invalid value “%s”", key, text);
      return FALSE;
    }

  *out = value;
  *found = TRUE;
  return TRUE;
}

/**
 * httpd_config_take_string:
 * @field: (inout): replaced by @value if @value is set
 * @value: (inout): an option's value, taken
 */
void
httpd_config_take_string (char **field,
                          char **value)
{
  if (*value == NULL)
    return;
  g_free (*field);
  *field = g_steal_pointer (value);
}

/* What every server needs: somewhere to keep its data, a port that is one. */
gboolean
httpd_config_check_common (const char  *data_dir,
                           guint        port,
                           GError     **error)
{
  if (data_dir == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "A data directory is required (--data-dir)");
      return FALSE;
    }
  if (port > G_MAXUINT16)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "The port must be at most 65535");
      return FALSE;
    }
  return TRUE;
}
