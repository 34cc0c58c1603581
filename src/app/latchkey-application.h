/* latchkey-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lk-transfer-engine.h"
#include "latchkey-tracker-list.h"
#include "latchkey-window.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_APPLICATION (latchkey_application_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyApplication, latchkey_application, LATCHKEY, APPLICATION, AdwApplication)

LatchkeyApplication *latchkey_application_new              (void);
LatchkeyWindow      *latchkey_application_get_window       (LatchkeyApplication *self);
LkTransferEngine    *latchkey_application_get_engine       (LatchkeyApplication *self);
LatchkeyTrackerList *latchkey_application_get_trackers     (LatchkeyApplication *self);
void                 latchkey_application_resume           (LatchkeyApplication *self);

G_END_DECLS
