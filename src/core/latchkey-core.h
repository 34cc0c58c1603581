/* latchkey-core.h: the wallet's core, without GTK: the protocol library,
 * plus the HTTP clients, the keyring and the transfer engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "latchkey-protocol.h"

#include "lk-http.h"
#include "lk-mailbox-client.h"
#include "lk-partner-client.h"
#include "lk-process.h"
#include "lk-store.h"
#include "lk-transfer.h"
#include "lk-transfer-engine.h"
