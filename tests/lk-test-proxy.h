/* lk-test-proxy.h: a relay in the middle that misbehaves, for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  LK_TEST_PROXY_PASS,      /* forwards faithfully */
  LK_TEST_PROXY_REPLAY,    /* answers reads with the first message it saw */
  LK_TEST_PROXY_SWAP,      /* answers reads with another mailbox's message */
  LK_TEST_PROXY_CORRUPT,   /* flips a bit in every message it passes on */
  LK_TEST_PROXY_REORDER,   /* holds back a write until the other side read the next */
} LkTestProxyMode;

typedef struct _LkTestProxy LkTestProxy;

LkTestProxy *lk_test_proxy_new      (const char      *upstream,
                                     LkTestProxyMode  mode);
const char  *lk_test_proxy_get_url  (LkTestProxy     *self);
guint        lk_test_proxy_get_tampered (LkTestProxy *self);
void         lk_test_proxy_free     (LkTestProxy     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestProxy, lk_test_proxy_free)

G_END_DECLS
