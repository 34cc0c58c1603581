/* latchkey-receive-page.h: receive a key from a link
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lk-share-link.h"
#include "lk-transfer-engine.h"
#include "latchkey-tracker-list.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_RECEIVE_PAGE (latchkey_receive_page_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyReceivePage, latchkey_receive_page, LATCHKEY, RECEIVE_PAGE, AdwBin)

LatchkeyReceivePage *latchkey_receive_page_new             (LkTransferEngine    *engine,
                                                            LatchkeyTrackerList *trackers);
LatchkeyReceivePage *latchkey_receive_page_new_for_tracker (LkTransferEngine    *engine,
                                                            LatchkeyTrackerList *trackers,
                                                            LatchkeyTracker     *tracker);
void                 latchkey_receive_page_open_link       (LatchkeyReceivePage *self,
                                                            const char          *link);
void                 latchkey_receive_page_open_share_link (LatchkeyReceivePage *self,
                                                            LkShareLink         *link);
gboolean             latchkey_receive_page_is_idle         (LatchkeyReceivePage *self);
const char          *latchkey_receive_page_get_view        (LatchkeyReceivePage *self);
LatchkeyTracker     *latchkey_receive_page_get_tracker     (LatchkeyReceivePage *self);

G_END_DECLS
