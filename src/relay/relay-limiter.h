/* relay-limiter.h: who a client is, and its request rate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sys/socket.h>

#include "httpd-address.h"

G_BEGIN_DECLS

typedef struct _RelayLimiter RelayLimiter;

RelayLimiter *relay_limiter_new              (double                  rate,
                                              double                  burst,
                                              guint                   max_clients,
                                              guint                   ipv6_prefix,
                                              const char             *key_path,
                                              GError                **error);
void          relay_limiter_free             (RelayLimiter           *self);
void          relay_limiter_client_of_socket (RelayLimiter           *self,
                                              const struct sockaddr  *address,
                                              HttpdKey               *client);
gboolean      relay_limiter_client_of_text   (RelayLimiter           *self,
                                              const char             *address,
                                              HttpdKey               *client);
gboolean      relay_limiter_allow            (RelayLimiter           *self,
                                              const HttpdKey         *client,
                                              gint64                  now_us,
                                              guint                  *retry_after);
void          relay_limiter_sweep            (RelayLimiter           *self,
                                              gint64                  now_us);
guint         relay_limiter_get_n_clients    (RelayLimiter           *self);
guint64       relay_limiter_get_evictions    (RelayLimiter           *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelayLimiter, relay_limiter_free)

G_END_DECLS
