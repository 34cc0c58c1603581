/* lk-partner-client.h: the provisioning partner's API, from the client side
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lk-credential.h"
#include "lk-http.h"

G_BEGIN_DECLS

#define LK_PARTNER_ERROR (lk_partner_error_quark ())

/**
 * LkPartnerError:
 * @LK_PARTNER_ERROR_DENIED: the partner refused (a bad signature, a revoked credential…)
 * @LK_PARTNER_ERROR_WRONG_CODE: the activation code is wrong; attempts remain
 * @LK_PARTNER_ERROR_TOO_MANY_ATTEMPTS: the activation code was wrong too often
 * @LK_PARTNER_ERROR_TOKEN_GONE: the token was used, expired or revoked
 * @LK_PARTNER_ERROR_NOT_FOUND: the partner does not know the credential or token
 * @LK_PARTNER_ERROR_REJECTED: the partner refused the request as malformed
 * @LK_PARTNER_ERROR_UNAVAILABLE: the partner could not be reached, after retries
 * @LK_PARTNER_ERROR_PROTOCOL: the partner answered something unexpected
 */
typedef enum
{
  LK_PARTNER_ERROR_DENIED,
  LK_PARTNER_ERROR_WRONG_CODE,
  LK_PARTNER_ERROR_TOO_MANY_ATTEMPTS,
  LK_PARTNER_ERROR_TOKEN_GONE,
  LK_PARTNER_ERROR_NOT_FOUND,
  LK_PARTNER_ERROR_REJECTED,
  LK_PARTNER_ERROR_UNAVAILABLE,
  LK_PARTNER_ERROR_PROTOCOL,
} LkPartnerError;

typedef struct
{
  gboolean granted;
  char    *reason;      /* the partner's code when denied, such as "revoked" */
  char    *message;
} LkAccessResult;

void lk_access_result_free (LkAccessResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkAccessResult, lk_access_result_free)

#define LK_TYPE_PARTNER_CLIENT (lk_partner_client_get_type ())

G_DECLARE_FINAL_TYPE (LkPartnerClient, lk_partner_client, LK, PARTNER_CLIENT, GObject)

GQuark           lk_partner_error_quark              (void);
LkPartnerClient *lk_partner_client_new               (LkHttp               *http);

void             lk_partner_client_enroll_async      (LkPartnerClient      *self,
                                                      const char           *partner_url,
                                                      LkVertical            vertical,
                                                      const char           *title,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
LkCredential    *lk_partner_client_enroll_finish     (LkPartnerClient      *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

void             lk_partner_client_request_token_async (LkPartnerClient    *self,
                                                        LkCredential       *credential,
                                                        const char * const *entitlements,
                                                        GDateTime          *valid_from,
                                                        GDateTime          *valid_until,
                                                        const char         *activation_code,
                                                        guint               receivers,
                                                        GCancellable       *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer            user_data);
char            *lk_partner_client_request_token_finish (LkPartnerClient   *self,
                                                         GAsyncResult      *result,
                                                         GError           **error);

void             lk_partner_client_request_share_async (LkPartnerClient    *self,
                                                        LkCredential       *credential,
                                                        const char * const *entitlements,
                                                        GDateTime          *valid_from,
                                                        GDateTime          *valid_until,
                                                        GCancellable       *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer            user_data);
char            *lk_partner_client_request_share_finish (LkPartnerClient   *self,
                                                         GAsyncResult      *result,
                                                         char             **share_id,
                                                         GError           **error);

void             lk_partner_client_register_key_async (LkPartnerClient     *self,
                                                       LkCredential        *credential,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean         lk_partner_client_register_key_finish (LkPartnerClient    *self,
                                                        GAsyncResult       *result,
                                                        GError            **error);

void             lk_partner_client_redeem_async      (LkPartnerClient      *self,
                                                      const char           *partner_url,
                                                      const char           *token,
                                                      const char           *activation_code,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
LkCredential    *lk_partner_client_redeem_finish     (LkPartnerClient      *self,
                                                      GAsyncResult         *result,
                                                      guint                *attempts_left,
                                                      GError              **error);

void             lk_partner_client_revoke_async      (LkPartnerClient      *self,
                                                      LkCredential         *credential,
                                                      const char           *target,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
gboolean         lk_partner_client_revoke_finish     (LkPartnerClient      *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

void             lk_partner_client_access_async      (LkPartnerClient      *self,
                                                      LkCredential         *credential,
                                                      const char           *action,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
LkAccessResult  *lk_partner_client_access_finish     (LkPartnerClient      *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

G_END_DECLS
