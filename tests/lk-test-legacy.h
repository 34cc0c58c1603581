/* lk-test-legacy.h: state an older Latchkey left behind, for migration tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lk-test-server.h"

G_BEGIN_DECLS

/* A generic credential as the partner enrolled it before owners had keys:
 * a bearer access token and no key. */
typedef struct
{
  char *credential_id;
  char *access_point_id;
  char *access_token;
} LkTestLegacyPass;

LkTestLegacyPass *lk_test_legacy_pass_add  (LkTestServer     *partner);
void              lk_test_legacy_pass_free (LkTestLegacyPass *pass);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestLegacyPass, lk_test_legacy_pass_free)

G_END_DECLS
