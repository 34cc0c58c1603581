/* httpd-rate.h: per-client request rates, in bounded memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "httpd-address.h"

G_BEGIN_DECLS

typedef struct _HttpdRate HttpdRate;

HttpdRate *httpd_rate_new            (double      rate,
                                      double      burst,
                                      guint       max_clients);
void       httpd_rate_free           (HttpdRate  *self);
gboolean   httpd_rate_allow          (HttpdRate  *self,
                                      const HttpdKey *client,
                                      gint64      now_us,
                                      guint      *retry_after);
void       httpd_rate_sweep          (HttpdRate  *self,
                                      gint64      now_us);
guint      httpd_rate_get_n_clients  (HttpdRate  *self);
guint64    httpd_rate_get_evictions  (HttpdRate  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpdRate, httpd_rate_free)

G_END_DECLS
