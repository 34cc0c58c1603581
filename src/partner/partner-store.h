/* partner-store.h: the partner's durable state, in SQLite
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "partner-access-point.h"
#include "partner-credential.h"
#include "partner-token.h"

G_BEGIN_DECLS

#define PARTNER_TYPE_STORE (partner_store_get_type ())

G_DECLARE_FINAL_TYPE (PartnerStore, partner_store, PARTNER, STORE, GObject)

PartnerStore       *partner_store_new                   (const char                *path,
                                                         GError                   **error);
void                partner_store_close                 (PartnerStore              *self);

gboolean            partner_store_begin                 (PartnerStore              *self,
                                                         GError                   **error);
gboolean            partner_store_commit                (PartnerStore              *self,
                                                         GError                   **error);
void                partner_store_rollback              (PartnerStore              *self);

gboolean            partner_store_add_access_point      (PartnerStore              *self,
                                                         const PartnerAccessPoint  *access_point,
                                                         GError                   **error);
PartnerAccessPoint *partner_store_get_access_point      (PartnerStore              *self,
                                                         const char                *id,
                                                         GError                   **error);

gboolean            partner_store_add_credential        (PartnerStore              *self,
                                                         const PartnerCredential   *credential,
                                                         GError                   **error);
PartnerCredential  *partner_store_get_credential        (PartnerStore              *self,
                                                         const char                *id,
                                                         GError                   **error);
gboolean            partner_store_chain_revoked         (PartnerStore              *self,
                                                         const char                *id,
                                                         gboolean                  *revoked,
                                                         GError                   **error);
gboolean            partner_store_is_descendant         (PartnerStore              *self,
                                                         const char                *ancestor_id,
                                                         const char                *id,
                                                         gboolean                  *descendant,
                                                         GError                   **error);
gint64              partner_store_revoke_tree           (PartnerStore              *self,
                                                         const char                *id,
                                                         gint64                     now,
                                                         GError                   **error);

gboolean            partner_store_set_public_key        (PartnerStore              *self,
                                                         const char                *credential_id,
                                                         const char                *public_key,
                                                         gboolean                  *set,
                                                         GError                   **error);

gboolean            partner_store_add_access_token      (PartnerStore              *self,
                                                         const guint8              *hash,
                                                         const char                *credential_id,
                                                         gint64                     now,
                                                         GError                   **error);
gboolean            partner_store_find_access_token     (PartnerStore              *self,
                                                         const guint8              *hash,
                                                         char                     **credential_id,
                                                         gboolean                  *revoked,
                                                         GError                   **error);
gint64              partner_store_revoke_access_tokens  (PartnerStore              *self,
                                                         const char                *credential_id,
                                                         gint64                     now,
                                                         GError                   **error);

gboolean            partner_store_add_token             (PartnerStore              *self,
                                                         const PartnerToken        *token,
                                                         GError                   **error);
PartnerToken       *partner_store_get_token             (PartnerStore              *self,
                                                         const guint8              *hash,
                                                         GError                   **error);
gboolean            partner_store_update_token          (PartnerStore              *self,
                                                         const PartnerToken        *token,
                                                         GError                   **error);
gboolean            partner_store_add_redemption        (PartnerStore              *self,
                                                         const PartnerToken        *token,
                                                         guint                      position,
                                                         const char                *credential_id,
                                                         GError                   **error);

gboolean            partner_store_revoke_key            (PartnerStore              *self,
                                                         const char                *access_point_id,
                                                         const char                *fingerprint,
                                                         gint64                     now,
                                                         gboolean                  *added,
                                                         GError                   **error);
gboolean            partner_store_is_key_revoked        (PartnerStore              *self,
                                                         const char                *access_point_id,
                                                         const char                *fingerprint,
                                                         gboolean                  *revoked,
                                                         GError                   **error);

G_END_DECLS
