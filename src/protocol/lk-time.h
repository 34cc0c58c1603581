/* lk-time.h: times as the drafts write them, `YYYY-MM-DDThh:mm:ssZ`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The relay's expirations, the partner's windows and tokens, the validity a
 * car owner signs and every offer's window travel in this one form. Where a
 * signature covers a time, it covers this text, so the sender writes it
 * with lk_time_format() and the partner accepts only this spelling
 * (lk_time_parse_exact()).
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The length of the draft's form; and the most we read of any time text
 * (an ISO 8601 time with fractions and an offset fits). */
#define LK_TIME_WIRE_LENGTH 20
#define LK_TIME_MAX_TEXT    64

char      *lk_time_format       (GDateTime   *time);
char      *lk_time_format_unix  (gint64       unix_seconds);
gboolean   lk_time_parse_exact  (const char  *text,
                                 gint64      *unix_seconds);
GDateTime *lk_time_parse        (const char  *text);

G_END_DECLS
