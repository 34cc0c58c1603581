/* lk-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-error"

#include "config.h"

#include "lk-error.h"

G_DEFINE_QUARK (lk-link-error-quark, lk_link_error)
G_DEFINE_QUARK (lk-message-error-quark, lk_message_error)
G_DEFINE_QUARK (lk-crypto-error-quark, lk_crypto_error)
G_DEFINE_QUARK (lk-credential-error-quark, lk_credential_error)
