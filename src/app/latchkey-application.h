/* latchkey-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lk-transfer-engine.h"
#include "latchkey-tracker.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_APPLICATION (latchkey_application_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyApplication, latchkey_application, LATCHKEY, APPLICATION, AdwApplication)

LatchkeyApplication *latchkey_application_new              (void);
LkTransferEngine    *latchkey_application_get_engine       (LatchkeyApplication *self);
char                *latchkey_application_dup_relay_url    (LatchkeyApplication *self);
char                *latchkey_application_dup_partner_url  (LatchkeyApplication *self);
GListModel          *latchkey_application_get_trackers     (LatchkeyApplication *self);
LatchkeyTracker     *latchkey_application_find_tracker     (LatchkeyApplication *self,
                                                            const char          *id);
void                 latchkey_application_add_tracker      (LatchkeyApplication *self,
                                                            LatchkeyTracker     *tracker);
void                 latchkey_application_resume           (LatchkeyApplication *self);
void                 latchkey_application_remove_tracker   (LatchkeyApplication *self,
                                                            LatchkeyTracker     *tracker);

G_END_DECLS
