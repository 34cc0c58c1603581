/* lk-signing.h: the exact bytes that credential keys sign
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One place builds every signed statement, so that the wallet, the CLI and
 * the provisioning partner cannot disagree about a byte. Each statement is a
 * version tag and its fields, one per line; a field may not hold a newline.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

GBytes *lk_signing_token_request    (const char         *credential_id,
                                     const char         *challenge,
                                     const char * const *entitlements,
                                     const char         *valid_from,
                                     const char         *valid_until,
                                     const char         *code_verifier);
GBytes *lk_signing_token_request_for (const char        *credential_id,
                                      const char         *challenge,
                                      const char * const *entitlements,
                                      const char         *valid_from,
                                      const char         *valid_until,
                                      const char         *code_verifier,
                                      guint               receivers);
GBytes *lk_signing_access           (const char         *access_point_id,
                                     const char         *subject,
                                     const char         *action,
                                     const char         *challenge);
GBytes *lk_signing_friend_key       (const char         *access_point_id,
                                     const char         *friend_public_key,
                                     const char * const *entitlements,
                                     const char         *valid_from,
                                     const char         *valid_until);
GBytes *lk_signing_revocation       (const char         *credential_id,
                                     const char         *target,
                                     const char         *challenge);
GBytes *lk_signing_key_possession   (const char         *mailbox_id,
                                     const char         *public_key);
char   *lk_signing_code_verifier    (const char         *token,
                                     const char         *code);

G_END_DECLS
