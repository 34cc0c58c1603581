/* latchkey-tracker.h: follows one transfer for the user interface
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lk-transfer-engine.h"

G_BEGIN_DECLS

typedef enum
{
  LATCHKEY_TRACKER_CONFIRM,
  LATCHKEY_TRACKER_CANCEL,
  LATCHKEY_TRACKER_REVOKE,
  LATCHKEY_TRACKER_CODE,
} LatchkeyTrackerAction;

#define LATCHKEY_TYPE_TRACKER (latchkey_tracker_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyTracker, latchkey_tracker, LATCHKEY, TRACKER, GObject)

LatchkeyTracker *latchkey_tracker_new                 (LkTransferEngine       *engine,
                                                       LkTransfer             *transfer);
const char      *latchkey_tracker_get_id              (LatchkeyTracker        *self);
LkRole           latchkey_tracker_get_role            (LatchkeyTracker        *self);
LkVertical       latchkey_tracker_get_vertical        (LatchkeyTracker        *self);
LkTransferState  latchkey_tracker_get_state           (LatchkeyTracker        *self);
const char      *latchkey_tracker_get_detail          (LatchkeyTracker        *self);
const char      *latchkey_tracker_get_title           (LatchkeyTracker        *self);
const char      *latchkey_tracker_get_credential_id   (LatchkeyTracker        *self);
GDateTime       *latchkey_tracker_get_expires         (LatchkeyTracker        *self);
GDateTime       *latchkey_tracker_get_created         (LatchkeyTracker        *self);
const char      *latchkey_tracker_get_link            (LatchkeyTracker        *self);
const char      *latchkey_tracker_get_activation_code (LatchkeyTracker        *self);
guint            latchkey_tracker_get_attempts_left   (LatchkeyTracker        *self);
const char      *latchkey_tracker_get_provider_host   (LatchkeyTracker        *self);
gboolean         latchkey_tracker_get_revoked         (LatchkeyTracker        *self);
gboolean         latchkey_tracker_get_revocable       (LatchkeyTracker        *self);
guint            latchkey_tracker_get_receivers       (LatchkeyTracker        *self);
guint            latchkey_tracker_get_received        (LatchkeyTracker        *self);
const char * const *latchkey_tracker_get_entitlements (LatchkeyTracker        *self);
GDateTime       *latchkey_tracker_get_valid_from      (LatchkeyTracker        *self);
GDateTime       *latchkey_tracker_get_valid_until     (LatchkeyTracker        *self);
const char      *latchkey_tracker_get_friend_fingerprint (LatchkeyTracker     *self);
const char      *latchkey_tracker_get_own_fingerprint (LatchkeyTracker     *self);
gboolean         latchkey_tracker_get_code_required   (LatchkeyTracker        *self);
const char      *latchkey_tracker_get_receiver_name   (LatchkeyTracker        *self);
gboolean         latchkey_tracker_get_busy            (LatchkeyTracker        *self);
const GError    *latchkey_tracker_get_error           (LatchkeyTracker        *self);
char            *latchkey_tracker_describe_state      (LatchkeyTracker        *self);
void             latchkey_tracker_follow              (LatchkeyTracker        *self);
void             latchkey_tracker_stop                (LatchkeyTracker        *self);
void             latchkey_tracker_run                 (LatchkeyTracker        *self,
                                                       LatchkeyTrackerAction   action,
                                                       const char             *activation_code);

G_END_DECLS
