/* latchkey-share-page.h: share a key, and follow the share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lk-credential.h"
#include "latchkey-tracker.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_SHARE_PAGE (latchkey_share_page_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeySharePage, latchkey_share_page, LATCHKEY, SHARE_PAGE, AdwBin)

LatchkeySharePage *latchkey_share_page_new             (LkCredential      *credential);
LatchkeySharePage *latchkey_share_page_new_for_tracker (LatchkeyTracker   *tracker);
LatchkeyTracker   *latchkey_share_page_get_tracker     (LatchkeySharePage *self);

G_END_DECLS
