/* latchkey-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lk-transfer-engine.h"
#include "latchkey-tracker-list.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_WINDOW (latchkey_window_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyWindow, latchkey_window, LATCHKEY, WINDOW, AdwApplicationWindow)

LatchkeyWindow *latchkey_window_new             (GtkApplication      *application,
                                                 LkTransferEngine    *engine,
                                                 LatchkeyTrackerList *trackers);
GtkWidget      *latchkey_window_get_page        (LatchkeyWindow      *self);
void            latchkey_window_dismiss_toasts  (LatchkeyWindow      *self);
void            latchkey_window_show_tracker    (LatchkeyWindow      *self,
                                                 LatchkeyTracker     *tracker);
void            latchkey_window_receive         (LatchkeyWindow      *self,
                                                 const char          *link);
void            latchkey_window_scan            (LatchkeyWindow      *self);

G_END_DECLS
