/* latchkey-credential-page.h: one key in the wallet
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lk-transfer-engine.h"
#include "latchkey-tracker-list.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_CREDENTIAL_PAGE (latchkey_credential_page_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyCredentialPage, latchkey_credential_page, LATCHKEY, CREDENTIAL_PAGE, AdwBin)

LatchkeyCredentialPage *latchkey_credential_page_new            (LkTransferEngine       *engine,
                                                                 LatchkeyTrackerList    *trackers,
                                                                 LkCredential           *credential);
LkCredential           *latchkey_credential_page_get_credential (LatchkeyCredentialPage *self);


G_END_DECLS
