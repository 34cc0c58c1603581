/* latchkey-tracker-list.h: every transfer the app follows, newest first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "latchkey-tracker.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_TRACKER_LIST (latchkey_tracker_list_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyTrackerList, latchkey_tracker_list, LATCHKEY, TRACKER_LIST, GObject)

LatchkeyTrackerList *latchkey_tracker_list_new      (void);
LatchkeyTracker     *latchkey_tracker_list_find     (LatchkeyTrackerList *self,
                                                     const char          *id);
void                 latchkey_tracker_list_add      (LatchkeyTrackerList *self,
                                                     LatchkeyTracker     *tracker);
void                 latchkey_tracker_list_stop_all (LatchkeyTrackerList *self);

G_END_DECLS
