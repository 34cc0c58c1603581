/* latchkey-core.h: the Latchkey core library, without GTK
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lk-channel.h"
#include "lk-credential.h"
#include "lk-crypto.h"
#include "lk-enum-types.h"
#include "lk-error.h"
#include "lk-http.h"
#include "lk-json.h"
#include "lk-key-pair.h"
#include "lk-mailbox-client.h"
#include "lk-partner-client.h"
#include "lk-process.h"
#include "lk-share-link.h"
#include "lk-signing.h"
#include "lk-store.h"
#include "lk-transfer.h"
#include "lk-transfer-engine.h"
#include "lk-types.h"
