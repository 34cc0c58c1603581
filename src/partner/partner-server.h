/* partner-server.h: the partner's HTTP layer, on libmicrohttpd
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "partner-config.h"
#include "partner-service.h"

G_BEGIN_DECLS

#define PARTNER_TYPE_SERVER (partner_server_get_type ())

G_DECLARE_FINAL_TYPE (PartnerServer, partner_server, PARTNER, SERVER, GObject)

PartnerServer *partner_server_new       (const PartnerConfig  *config,
                                         PartnerService       *service);
gboolean       partner_server_start     (PartnerServer        *self,
                                         GError              **error);
guint          partner_server_get_port  (PartnerServer        *self);
void           partner_server_stop      (PartnerServer        *self);

G_END_DECLS
