/* lk-types.h: enumerations shared by the Latchkey core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LkVertical:
 * @LK_VERTICAL_GENERIC: a copied access token (`v=a` in a share link)
 * @LK_VERTICAL_HOME: a home or hotel lock, provisioned by a partner (`v=h`)
 * @LK_VERTICAL_CAR: a car key signed by the owner, CCC style (`v=c`)
 *
 * The credential vertical, as carried in the `v` query parameter of a
 * share link so that a receiving device can route it before decryption.
 */
typedef enum
{
  LK_VERTICAL_GENERIC,
  LK_VERTICAL_HOME,
  LK_VERTICAL_CAR,
} LkVertical;

/**
 * LkRole:
 * @LK_ROLE_INITIATOR: the device that created the mailbox (the sharer)
 * @LK_ROLE_RECIPIENT: the device that claimed the mailbox (the receiver)
 *
 * The two ends of a mailbox, named as in the relay draft.
 */
typedef enum
{
  LK_ROLE_INITIATOR,
  LK_ROLE_RECIPIENT,
} LkRole;

/**
 * LkCredentialRole:
 * @LK_CREDENTIAL_ROLE_OWNER: the credential was enrolled by this user
 * @LK_CREDENTIAL_ROLE_SHARED: the credential was received from someone else
 */
typedef enum
{
  LK_CREDENTIAL_ROLE_OWNER,
  LK_CREDENTIAL_ROLE_SHARED,
} LkCredentialRole;

/**
 * LkTransferState:
 * @LK_TRANSFER_STATE_WAITING: shared; nobody has opened the invitation yet
 * @LK_TRANSFER_STATE_OPENED: the other side has opened it; its answer is awaited
 * @LK_TRANSFER_STATE_AWAITING_CONFIRMATION: (car, sender) the friend's key is
 *   checked; the owner must confirm before it is signed
 * @LK_TRANSFER_STATE_AWAITING_CODE: (receiver) the activation code is needed
 * @LK_TRANSFER_STATE_DONE: the credential is stored on the receiving device
 * @LK_TRANSFER_STATE_DECLINED: the receiver declined
 * @LK_TRANSFER_STATE_CANCELLED: the sender cancelled, or too many wrong codes
 * @LK_TRANSFER_STATE_EXPIRED: the invitation expired before it was completed
 * @LK_TRANSFER_STATE_FAILED: the exchange broke (see the detail); nothing was stored
 */
typedef enum
{
  LK_TRANSFER_STATE_WAITING,
  LK_TRANSFER_STATE_OPENED,
  LK_TRANSFER_STATE_AWAITING_CONFIRMATION,
  LK_TRANSFER_STATE_AWAITING_CODE,
  LK_TRANSFER_STATE_DONE,
  LK_TRANSFER_STATE_DECLINED,
  LK_TRANSFER_STATE_CANCELLED,
  LK_TRANSFER_STATE_EXPIRED,
  LK_TRANSFER_STATE_FAILED,
} LkTransferState;

const char *lk_transfer_state_to_string   (LkTransferState   state);
gboolean    lk_transfer_state_from_string (const char       *str,
                                           LkTransferState  *state);
gboolean    lk_transfer_state_is_final    (LkTransferState   state);

const char *lk_vertical_to_code     (LkVertical        vertical);
gboolean    lk_vertical_from_code   (const char       *code,
                                     LkVertical       *vertical);
const char *lk_vertical_to_string   (LkVertical        vertical);
gboolean    lk_vertical_from_string (const char       *str,
                                     LkVertical       *vertical);
const char *lk_role_to_string       (LkRole            role);
gboolean    lk_role_from_string     (const char       *str,
                                     LkRole           *role);
const char *lk_credential_role_to_string   (LkCredentialRole  role);
gboolean    lk_credential_role_from_string (const char       *str,
                                            LkCredentialRole *role);

G_END_DECLS
