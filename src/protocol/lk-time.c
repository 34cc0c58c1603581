/* lk-time.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-time"

#include "config.h"

#include <string.h>
#include <time.h>

#include "lk-time.h"

/* GDateTime's range, which every time we read must fit. */
#define MIN_YEAR 1
#define MAX_YEAR 9999

/**
 * lk_time_format:
 * @time: (nullable): any time zone; written in UTC
 *
 * Returns: (nullable): the draft's form, to the second; %NULL for %NULL
 */
char *
lk_time_format (GDateTime *time)
{
  g_autoptr(GDateTime) utc = NULL;

  if (time == NULL)
    return NULL;
  utc = g_date_time_to_utc (time);
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

/**
 * lk_time_format_unix:
 *
 * The same for Unix seconds, without a GDateTime: the relay writes one for
 * every read.
 *
 * Returns: (nullable): the draft's form, or %NULL outside years 1 to 9999
 */
char *
lk_time_format_unix (gint64 unix_seconds)
{
  time_t t = (time_t) unix_seconds;
  struct tm tm;

  if (gmtime_r (&t, &tm) == NULL || tm.tm_year + 1900 < MIN_YEAR || tm.tm_year + 1900 > MAX_YEAR)
    return NULL;
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/**
 * lk_time_parse_exact:
 * @text: `YYYY-MM-DDThh:mm:ssZ`, nothing else
 *
 * Signatures cover the text as sent, so where one does, only one spelling
 * of an instant is accepted: what was signed is exactly what is stored and
 * shown.
 */
gboolean
lk_time_parse_exact (const char *text,
                     gint64     *unix_seconds)
{
  g_autoptr(GDateTime) when = NULL;
  g_autofree char *again = NULL;

  if (text == NULL || strlen (text) != LK_TIME_WIRE_LENGTH || text[LK_TIME_WIRE_LENGTH - 1] != 'Z')
    return FALSE;

  when = g_date_time_new_from_iso8601 (text, NULL);
  if (when == NULL)
    return FALSE;

  again = lk_time_format (when);
  if (again == NULL || strcmp (again, text) != 0)
    return FALSE;

  *unix_seconds = g_date_time_to_unix (when);
  return TRUE;
}

/**
 * lk_time_parse:
 * @text: (nullable): an ISO 8601 time with a time zone
 *
 * What the wallet reads from servers and offers, and the relay from
 * clients: any RFC 3339 or ISO 8601 spelling, as long as the zone is given.
 *
 * Returns: (nullable): the time, or %NULL for %NULL or anything else
 */
GDateTime *
lk_time_parse (const char *text)
{
  g_autofree char *upper = NULL;
  gsize len;

  if (text == NULL)
    return NULL;

  /* RFC 3339 (§5.6) lets the separator and the UTC zone be lower case, and
   * GLib reads only upper case; no other spelling changes meaning. */
  len = strlen (text);
  if (len < 11 || len > LK_TIME_MAX_TEXT || (text[10] != 't' && text[len - 1] != 'z'))
    return g_date_time_new_from_iso8601 (text, NULL);

  upper = g_strdup (text);
  if (upper[10] == 't')
    upper[10] = 'T';
  if (upper[len - 1] == 'z')
    upper[len - 1] = 'Z';
  return g_date_time_new_from_iso8601 (upper, NULL);
}
