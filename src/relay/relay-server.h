/* relay-server.h: the relay's HTTP layer, on libmicrohttpd
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "relay-config.h"
#include "httpd-limiter.h"
#include "relay-store.h"

G_BEGIN_DECLS

#define RELAY_TYPE_SERVER (relay_server_get_type ())

G_DECLARE_FINAL_TYPE (RelayServer, relay_server, RELAY, SERVER, GObject)

RelayServer *relay_server_new        (const RelayConfig  *config,
                                      RelayStore         *store,
                                      HttpdLimiter       *limiter);
gboolean     relay_server_start      (RelayServer        *self,
                                      GError            **error);
guint        relay_server_get_port   (RelayServer        *self);
void         relay_server_sweep      (RelayServer        *self);
void         relay_server_stop       (RelayServer        *self);

G_END_DECLS
