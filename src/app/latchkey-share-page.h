/* latchkey-share-page.h: share a key, and follow the share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lk-transfer-engine.h"
#include "latchkey-tracker-list.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_SHARE_PAGE (latchkey_share_page_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeySharePage, latchkey_share_page, LATCHKEY, SHARE_PAGE, AdwBin)

LatchkeySharePage *latchkey_share_page_new             (LkTransferEngine    *engine,
                                                        LatchkeyTrackerList *trackers,
                                                        LkCredential        *credential);
LatchkeySharePage *latchkey_share_page_new_for_tracker (LkTransferEngine    *engine,
                                                        LatchkeyTrackerList *trackers,
                                                        LatchkeyTracker     *tracker);
LatchkeyTracker   *latchkey_share_page_get_tracker     (LatchkeySharePage *self);


G_END_DECLS
