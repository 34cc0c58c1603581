/* partner-credential.h: a credential the partner enrolled or provisioned
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "latchkey-protocol.h"

G_BEGIN_DECLS

typedef struct
{
  char             *id;
  char             *access_point_id;
  LkVertical        vertical;
  LkCredentialRole  role;
  char             *parent_id;        /* the sharer's credential; NULL for an owner */
  char             *title;
  GStrv             entitlements;
  gint64            valid_from;       /* Unix seconds, or PARTNER_OPEN_START */
  gint64            valid_until;      /* Unix seconds, or PARTNER_OPEN_END */
  char             *public_key;       /* base64 DER SPKI; NULL for generic */
  gboolean          revoked;
  gint64            created;
} PartnerCredential;

PartnerCredential *partner_credential_new      (void);
void               partner_credential_free     (PartnerCredential  *self);
LkKeyPair         *partner_credential_get_key  (PartnerCredential  *self,
                                                GError            **error);
JsonObject        *partner_credential_to_json  (PartnerCredential  *self,
                                                const char         *issuer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PartnerCredential, partner_credential_free)

G_END_DECLS
