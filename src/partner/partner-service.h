/* partner-service.h: what each endpoint does, apart from HTTP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each call takes the request's JSON object and gives back an HTTP status
 * and the JSON object to answer with, so that the rules can be read (and
 * driven) without libmicrohttpd in the way.
 */

#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "httpd-address.h"
#include "partner-config.h"
#include "partner-store.h"

G_BEGIN_DECLS

#define PARTNER_TYPE_SERVICE (partner_service_get_type ())

G_DECLARE_FINAL_TYPE (PartnerService, partner_service, PARTNER, SERVICE, GObject)

PartnerService *partner_service_new               (const PartnerConfig  *config,
                                                   PartnerStore         *store);
guint           partner_service_new_challenge     (PartnerService       *self,
                                                   const HttpdKey       *client,
                                                   JsonObject          **reply);
guint           partner_service_enrol             (PartnerService       *self,
                                                   JsonObject           *request,
                                                   JsonObject          **reply);
guint           partner_service_issue_token       (PartnerService       *self,
                                                   JsonObject           *request,
                                                   JsonObject          **reply);
guint           partner_service_redeem            (PartnerService       *self,
                                                   JsonObject           *request,
                                                   JsonObject          **reply);
guint           partner_service_revoke            (PartnerService       *self,
                                                   JsonObject           *request,
                                                   JsonObject          **reply);
guint           partner_service_register_key      (PartnerService       *self,
                                                   JsonObject           *request,
                                                   JsonObject          **reply);
guint           partner_service_access            (PartnerService       *self,
                                                   JsonObject           *request,
                                                   JsonObject          **reply);

G_END_DECLS
