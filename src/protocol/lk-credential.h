/* lk-credential.h: a credential in the wallet
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include <json-glib/json-glib.h>

#include "lk-key-pair.h"
#include "lk-share-link.h"
#include "lk-types.h"

G_BEGIN_DECLS

/* The serialised form is bounded so that a damaged or hostile store entry
 * cannot make us allocate without limit. */
#define LK_CREDENTIAL_MAX_JSON_LENGTH   (32 * 1024)
#define LK_CREDENTIAL_MAX_TITLE         256
#define LK_CREDENTIAL_MAX_DESCRIPTION   1024
#define LK_CREDENTIAL_MAX_ISSUER        512
#define LK_CREDENTIAL_MAX_ENTITLEMENTS  32
#define LK_CREDENTIAL_MAX_ENTITLEMENT   64
#define LK_CREDENTIAL_MAX_ACCESS_POINT  128
#define LK_CREDENTIAL_MAX_URL           LK_SHARE_LINK_MAX_LENGTH
/* A partner's token or access token, as text. */
#define LK_CREDENTIAL_MAX_TOKEN         256

/**
 * LkCredentialJsonFlags:
 * @LK_CREDENTIAL_JSON_PUBLIC: everything but the private key
 * @LK_CREDENTIAL_JSON_PRIVATE: also the private key, for the keyring store only
 */
typedef enum
{
  LK_CREDENTIAL_JSON_PUBLIC  = 0,
  LK_CREDENTIAL_JSON_PRIVATE = 1 << 0,
} LkCredentialJsonFlags;

#define LK_TYPE_CREDENTIAL (lk_credential_get_type ())

G_DECLARE_FINAL_TYPE (LkCredential, lk_credential, LK, CREDENTIAL, GObject)

LkCredential      *lk_credential_new               (LkVertical             vertical,
                                                    const char            *title,
                                                    LkCredentialRole       role);
LkCredential      *lk_credential_new_from_json     (const char            *json,
                                                    gsize                  len,
                                                    GError               **error);
char              *lk_credential_to_json           (LkCredential          *self,
                                                    LkCredentialJsonFlags  flags,
                                                    GError               **error);
JsonObject        *lk_credential_describe          (LkCredential          *self,
                                                    const char * const    *entitlements,
                                                    GDateTime             *valid_from,
                                                    GDateTime             *valid_until);
LkCredential      *lk_credential_new_from_description (JsonObject         *description,
                                                    LkVertical             vertical);
const char        *lk_credential_get_id            (LkCredential          *self);
LkVertical         lk_credential_get_vertical      (LkCredential          *self);
const char        *lk_credential_get_title         (LkCredential          *self);
void               lk_credential_set_title         (LkCredential          *self,
                                                    const char            *title);
const char        *lk_credential_get_description   (LkCredential          *self);
void               lk_credential_set_description   (LkCredential          *self,
                                                    const char            *description);
const char        *lk_credential_get_issuer        (LkCredential          *self);
void               lk_credential_set_issuer        (LkCredential          *self,
                                                    const char            *issuer);
GDateTime         *lk_credential_get_valid_from    (LkCredential          *self);
GDateTime         *lk_credential_get_valid_until   (LkCredential          *self);
gboolean           lk_credential_set_validity      (LkCredential          *self,
                                                    GDateTime             *valid_from,
                                                    GDateTime             *valid_until,
                                                    GError               **error);
gboolean           lk_credential_is_valid_at       (LkCredential          *self,
                                                    GDateTime             *when);
const char * const *lk_credential_get_entitlements (LkCredential          *self);
void               lk_credential_set_entitlements  (LkCredential          *self,
                                                    const char * const    *entitlements);
LkCredentialRole   lk_credential_get_role          (LkCredential          *self);
const char        *lk_credential_get_shared_by     (LkCredential          *self);
void               lk_credential_set_shared_by     (LkCredential          *self,
                                                    const char            *shared_by);
const char        *lk_credential_get_access_point_id (LkCredential        *self);
void               lk_credential_set_access_point_id (LkCredential        *self,
                                                      const char          *access_point_id);
const char        *lk_credential_get_partner_url   (LkCredential          *self);
void               lk_credential_set_partner_url   (LkCredential          *self,
                                                    const char            *partner_url);
const char        *lk_credential_get_access_token  (LkCredential          *self);
void               lk_credential_set_access_token  (LkCredential          *self,
                                                    const char            *access_token);
const char        *lk_credential_get_owner_signature (LkCredential        *self);
void               lk_credential_set_owner_signature (LkCredential        *self,
                                                      const char          *owner_signature);
LkKeyPair         *lk_credential_get_key_pair      (LkCredential          *self);
void               lk_credential_set_key_pair      (LkCredential          *self,
                                                    LkKeyPair             *key_pair);

G_END_DECLS
