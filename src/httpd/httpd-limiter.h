/* httpd-limiter.h: who a client is, and its request rate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sys/socket.h>

#include "httpd-address.h"

G_BEGIN_DECLS

typedef struct _HttpdLimiter HttpdLimiter;

HttpdLimiter *httpd_limiter_new              (double                  rate,
                                              double                  burst,
                                              guint                   max_clients,
                                              guint                   ipv6_prefix,
                                              const char             *key_path,
                                              GError                **error);
void          httpd_limiter_free             (HttpdLimiter           *self);
void          httpd_limiter_client_of_socket (HttpdLimiter           *self,
                                              const struct sockaddr  *address,
                                              HttpdKey               *client);
gboolean      httpd_limiter_client_of_text   (HttpdLimiter           *self,
                                              const char             *address,
                                              HttpdKey               *client);
gboolean      httpd_limiter_allow            (HttpdLimiter           *self,
                                              const HttpdKey         *client,
                                              gint64                  now_us,
                                              guint                  *retry_after);
void          httpd_limiter_sweep            (HttpdLimiter           *self,
                                              gint64                  now_us);
guint         httpd_limiter_get_n_clients    (HttpdLimiter           *self);
guint64       httpd_limiter_get_evictions    (HttpdLimiter           *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpdLimiter, httpd_limiter_free)

G_END_DECLS
