/* lk-transfer-engine.h: drives shares and receipts, and keeps the wallet
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lk-credential.h"
#include "lk-mailbox-client.h"
#include "lk-partner-client.h"
#include "lk-share-link.h"
#include "lk-store.h"
#include "lk-transfer.h"

G_BEGIN_DECLS

#define LK_TRANSFER_ERROR (lk_transfer_error_quark ())

/**
 * LkTransferError:
 * @LK_TRANSFER_ERROR_INVALID_STATE: the transfer is not at a step where this is possible
 * @LK_TRANSFER_ERROR_NOT_FOUND: no such credential or transfer in the keyring
 * @LK_TRANSFER_ERROR_UNSUPPORTED: the credential cannot be shared this way
 */
typedef enum
{
  LK_TRANSFER_ERROR_INVALID_STATE,
  LK_TRANSFER_ERROR_NOT_FOUND,
  LK_TRANSFER_ERROR_UNSUPPORTED,
} LkTransferError;

typedef struct
{
  gboolean    activation_code;   /* make a code the receiver must enter */
  GStrv       entitlements;      /* NULL: the credential's own */
  GDateTime  *valid_from;        /* NULL: now */
  GDateTime  *valid_until;       /* NULL: the credential's end (car: required) */
  GDateTime  *expires;           /* the invitation's; NULL: 48 hours */
  gboolean    auto_confirm;      /* car: sign the friend's key without asking */
  char       *sender_name;       /* shown to the receiver; NULL: none */
  guint       receivers;         /* devices that may receive it, 1..10 (home and
                                  * generic without a code); 0: one */
} LkShareOptions;

void lk_share_options_clear (LkShareOptions *options);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LkShareOptions, lk_share_options_clear)

#define LK_TYPE_TRANSFER_ENGINE (lk_transfer_engine_get_type ())

G_DECLARE_FINAL_TYPE (LkTransferEngine, lk_transfer_engine, LK, TRANSFER_ENGINE, GObject)

GQuark            lk_transfer_error_quark              (void);
LkTransferEngine *lk_transfer_engine_new               (const char          *relay_url);
void              lk_transfer_engine_set_relay_url     (LkTransferEngine    *self,
                                                        const char          *relay_url);
char             *lk_transfer_engine_dup_relay_url     (LkTransferEngine    *self);
gboolean          lk_transfer_engine_set_ca_file       (LkTransferEngine    *self,
                                                        const char          *path,
                                                        GError             **error);
void              lk_transfer_engine_set_receiver_name (LkTransferEngine    *self,
                                                        const char          *name);
void              lk_transfer_engine_set_retry_policy  (LkTransferEngine    *self,
                                                        guint                max_attempts,
                                                        guint                base_delay_ms);
void              lk_transfer_engine_set_retention_days (LkTransferEngine   *self,
                                                        guint                days);

void              lk_transfer_engine_share_async       (LkTransferEngine    *self,
                                                        LkCredential        *credential,
                                                        const LkShareOptions *options,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
void              lk_transfer_engine_preview_async     (LkTransferEngine    *self,
                                                        LkShareLink         *link,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
void              lk_transfer_engine_receive_async     (LkTransferEngine    *self,
                                                        LkShareLink         *link,
                                                        const char          *activation_code,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
void              lk_transfer_engine_step_async        (LkTransferEngine    *self,
                                                        LkTransfer          *transfer,
                                                        guint                wait_seconds,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
void              lk_transfer_engine_provide_code_async (LkTransferEngine   *self,
                                                        LkTransfer          *transfer,
                                                        const char          *activation_code,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
void              lk_transfer_engine_confirm_async     (LkTransferEngine    *self,
                                                        LkTransfer          *transfer,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
void              lk_transfer_engine_cancel_async      (LkTransferEngine    *self,
                                                        LkTransfer          *transfer,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
void              lk_transfer_engine_revoke_async      (LkTransferEngine    *self,
                                                        LkTransfer          *transfer,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
void              lk_transfer_engine_revoke_receiver_async (LkTransferEngine *self,
                                                        LkTransfer          *transfer,
                                                        guint                receiver,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
LkTransfer       *lk_transfer_engine_transfer_finish   (LkTransferEngine    *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
LkMailboxReply   *lk_transfer_engine_preview_finish    (LkTransferEngine    *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

void              lk_transfer_engine_enroll_async      (LkTransferEngine    *self,
                                                        const char          *partner_url,
                                                        LkVertical           vertical,
                                                        const char          *title,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
LkCredential     *lk_transfer_engine_enroll_finish     (LkTransferEngine    *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void              lk_transfer_engine_access_async      (LkTransferEngine    *self,
                                                        LkCredential        *credential,
                                                        const char          *action,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
LkAccessResult   *lk_transfer_engine_access_finish     (LkTransferEngine    *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

void              lk_transfer_engine_list_async        (LkTransferEngine    *self,
                                                        LkStoreKind          kind,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
GPtrArray        *lk_transfer_engine_list_finish       (LkTransferEngine    *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void              lk_transfer_engine_delete_async      (LkTransferEngine    *self,
                                                        LkStoreKind          kind,
                                                        const char          *id,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean          lk_transfer_engine_delete_finish     (LkTransferEngine    *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

G_END_DECLS
