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
  LK_TEST_PROXY_DEEP,      /* answers reads with a comment that hides 250,000 brackets */
  LK_TEST_PROXY_BAD_TEXT,  /* answers reads with a lone surrogate in the title */
  LK_TEST_PROXY_ELSEWHERE, /* answers a create with a urlLink on another host */
  LK_TEST_PROXY_LEGACY,    /* a relay from before several recipients: drops the
                            * create's mailboxConfiguration.maxRecipients */
} LkTestProxyMode;

typedef struct _LkTestProxy LkTestProxy;

LkTestProxy *lk_test_proxy_new      (const char      *upstream,
                                     LkTestProxyMode  mode);
const char  *lk_test_proxy_get_url  (LkTestProxy     *self);
guint        lk_test_proxy_get_tampered (LkTestProxy *self);
void         lk_test_proxy_set_mode (LkTestProxy     *self,
                                     LkTestProxyMode  mode);
void         lk_test_proxy_free     (LkTestProxy     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestProxy, lk_test_proxy_free)

G_END_DECLS
