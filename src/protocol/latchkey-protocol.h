/* latchkey-protocol.h: what both ends of a share, the relay and the partner
 * agree on: share links, messages, credentials, keys, signed statements
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs only GLib, GnuTLS and the JSON parsers; the servers link this and
 * nothing of the wallet's side (latchkey-core.h).
 */

#pragma once

#include "lk-channel.h"
#include "lk-credential.h"
#include "lk-crypto.h"
#include "lk-enum-types.h"
#include "lk-error.h"
#include "lk-json.h"
#include "lk-json-parser.h"
#include "lk-key-pair.h"
#include "lk-share-link.h"
#include "lk-signing.h"
#include "lk-text.h"
#include "lk-time.h"
#include "lk-types.h"
