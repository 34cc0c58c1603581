/* httpd-log.h: libmicrohttpd's messages, without a line per dropped connection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <stdarg.h>

#include <glib.h>

G_BEGIN_DECLS

/* Returns the text to log, newly allocated; for identifiers to be cut short. */
typedef char *(*HttpdRedactFunc) (const char *text);

typedef struct _HttpdLog HttpdLog;

HttpdLog *httpd_log_new             (guint             interval_seconds,
                                     HttpdRedactFunc   redact);
void      httpd_log_free            (HttpdLog         *self);
void      httpd_log_mhd             (void             *log,
                                     const char       *format,
                                     va_list           args);
guint64   httpd_log_get_suppressed  (HttpdLog         *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpdLog, httpd_log_free)

/* For other repeated warnings: at most one line per interval. */
typedef struct
{
  gint64  last_us;
  guint64 suppressed;
} HttpdLogLimit;

gboolean  httpd_log_limit_allow     (HttpdLogLimit    *limit,
                                     guint             interval_seconds,
                                     guint64          *suppressed);

G_END_DECLS
