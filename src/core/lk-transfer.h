/* lk-transfer.h: one share, as the sender or the receiver sees it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "lk-share-link.h"
#include "lk-types.h"

G_BEGIN_DECLS

/* The most devices one invitation may go to (issue 13). */
#define LK_TRANSFER_MAX_RECEIVERS 10

#define LK_TYPE_TRANSFER (lk_transfer_get_type ())

G_DECLARE_FINAL_TYPE (LkTransfer, lk_transfer, LK, TRANSFER, GObject)

LkTransfer      *lk_transfer_new_from_json       (const char    *json,
                                                  gsize          len,
                                                  GError       **error);
char            *lk_transfer_to_json             (LkTransfer    *self);
const char      *lk_transfer_get_id              (LkTransfer    *self);
LkRole           lk_transfer_get_role            (LkTransfer    *self);
LkVertical       lk_transfer_get_vertical        (LkTransfer    *self);
LkTransferState  lk_transfer_get_state           (LkTransfer    *self);
const char      *lk_transfer_get_state_detail    (LkTransfer    *self);
const char      *lk_transfer_get_title           (LkTransfer    *self);
const char      *lk_transfer_get_description     (LkTransfer    *self);
GDateTime       *lk_transfer_get_expires         (LkTransfer    *self);
GDateTime       *lk_transfer_get_created         (LkTransfer    *self);
const char      *lk_transfer_get_credential_id   (LkTransfer    *self);
const char      *lk_transfer_get_activation_code (LkTransfer    *self);
guint            lk_transfer_get_attempts_left   (LkTransfer    *self);
gboolean         lk_transfer_get_revoked         (LkTransfer    *self);
gboolean         lk_transfer_get_revocable       (LkTransfer    *self);
guint            lk_transfer_get_receivers       (LkTransfer    *self);
guint            lk_transfer_get_received        (LkTransfer    *self);
gboolean         lk_transfer_get_receiver_revoked (LkTransfer   *self,
                                                  guint         receiver);
const char      *lk_transfer_get_receiver_name   (LkTransfer    *self);
GDateTime       *lk_transfer_get_valid_until     (LkTransfer    *self);
GDateTime       *lk_transfer_get_valid_from      (LkTransfer    *self);
const char * const *lk_transfer_get_entitlements (LkTransfer    *self);
gboolean         lk_transfer_get_code_required   (LkTransfer    *self);
char            *lk_transfer_dup_friend_fingerprint (LkTransfer *self);
char            *lk_transfer_dup_own_fingerprint (LkTransfer    *self);
char            *lk_transfer_dup_provider_host   (LkTransfer    *self);
LkShareLink     *lk_transfer_get_link            (LkTransfer    *self);

G_END_DECLS
