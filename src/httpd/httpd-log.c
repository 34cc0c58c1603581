/* httpd-log.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libmicrohttpd logs per connection: every refusal at its connection limit,
 * every client that went away half-way. Under a flood that is a flood of
 * lines. Its messages are told apart by their format string (a constant in
 * the library), and each kind is written at most once per interval, with
 * the number left out since.
 */

#define G_LOG_DOMAIN "httpd-log"

#include "config.h"

#include "httpd-log.h"

struct _HttpdLog
{
  GMutex           lock;
  GHashTable      *kinds;      /* format string → HttpdLogLimit */
  guint            interval;
  HttpdRedactFunc  redact;
  guint64          suppressed;
};

/**
 * httpd_log_limit_allow:
 * @suppressed: (out): how many were held back since the last one allowed
 *
 * The caller serialises calls for one @limit.
 */
gboolean
httpd_log_limit_allow (HttpdLogLimit *limit,
                       guint          interval_seconds,
                       guint64       *suppressed)
{
  gint64 now = g_get_monotonic_time ();

  if (limit->last_us != 0 && now - limit->last_us < (gint64) interval_seconds * G_USEC_PER_SEC)
    {
      limit->suppressed++;
      return FALSE;
    }

  *suppressed = limit->suppressed;
  limit->suppressed = 0;
  limit->last_us = now;
  return TRUE;
}

/**
 * httpd_log_new:
 * @interval_seconds: each kind of message is written at most this often
 * @redact: (nullable): applied to every line before it is written
 */
HttpdLog *
httpd_log_new (guint           interval_seconds,
               HttpdRedactFunc redact)
{
  HttpdLog *self = g_new0 (HttpdLog, 1);

  g_mutex_init (&self->lock);
  self->kinds = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->interval = interval_seconds;
  self->redact = redact;
  return self;
}

void
httpd_log_free (HttpdLog *self)
{
  if (self == NULL)
    return;

  g_hash_table_unref (self->kinds);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/**
 * httpd_log_mhd:
 *
 * libmicrohttpd's external logger (MHD_OPTION_EXTERNAL_LOGGER), with the
 * #HttpdLog as its argument.
 */
void
httpd_log_mhd (void       *log,
               const char *format,
               va_list     args)
{
  HttpdLog *self = log;
  HttpdLogLimit *limit;
  g_autofree char *text = NULL;
  g_autofree char *redacted = NULL;
  guint64 suppressed = 0;
  gboolean allowed;

  g_mutex_lock (&self->lock);
  limit = g_hash_table_lookup (self->kinds, format);
  if (limit == NULL)
    {
      limit = g_new0 (HttpdLogLimit, 1);
      g_hash_table_insert (self->kinds, (gpointer) format, limit);
    }
  allowed = httpd_log_limit_allow (limit, self->interval, &suppressed);
  if (!allowed)
    self->suppressed++;
  g_mutex_unlock (&self->lock);

  if (!allowed)
    return;

  /* The format is libmicrohttpd's own. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  text = g_strdup_vprintf (format, args);
#pragma GCC diagnostic pop
  g_strchomp (text);
  redacted = self->redact != NULL ? self->redact (text) : g_strdup (text);

  if (suppressed > 0)
    g_message ("libmicrohttpd: %s (and %" G_GUINT64_FORMAT " more like it in the last %u s)",
               redacted, suppressed, self->interval);
  else
    g_message ("libmicrohttpd: %s", redacted);
}

guint64
httpd_log_get_suppressed (HttpdLog *self)
{
  guint64 n;

  g_mutex_lock (&self->lock);
  n = self->suppressed;
  g_mutex_unlock (&self->lock);
  return n;
}
