/* lk-test-transfer.h: two wallets in one test process, on a real relay and partner
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The sender's and the receiver's engines run in the test's process, so a
 * flow's tests drive both roles step by step, without latchkey-cli; the
 * relay and the partner are the real ones, on loopback. Both wallets use
 * the one keyring of the test's headless session (each item has its own
 * id). Every helper fails the test on an unexpected error.
 */

#pragma once

#include "latchkey-core.h"
#include "lk-test-server.h"

G_BEGIN_DECLS

typedef struct
{
  LkTestServer     *relay;
  LkTestServer     *partner;
  LkTransferEngine *sender;
  LkTransferEngine *receiver;
} LkTestWallets;

LkTestWallets  *lk_test_wallets_new        (void);
void            lk_test_wallets_free       (LkTestWallets     *self);

LkCredential   *lk_test_enroll             (LkTestWallets     *self,
                                            LkVertical         vertical,
                                            const char        *title);
LkTransfer     *lk_test_share              (LkTestWallets     *self,
                                            LkCredential      *credential,
                                            const LkShareOptions *options);
LkTransfer     *lk_test_receive            (LkTestWallets     *self,
                                            LkTransfer        *share,
                                            const char        *code);
void            lk_test_step               (LkTransferEngine  *engine,
                                            LkTransfer        *transfer);
void            lk_test_provide_code       (LkTransferEngine  *engine,
                                            LkTransfer        *transfer,
                                            const char        *code);
void            lk_test_confirm            (LkTransferEngine  *engine,
                                            LkTransfer        *transfer);
void            lk_test_cancel             (LkTransferEngine  *engine,
                                            LkTransfer        *transfer);
void            lk_test_revoke             (LkTransferEngine  *engine,
                                            LkTransfer        *transfer);
gboolean        lk_test_run_transfer       (LkTransferEngine  *engine,
                                            LkTransfer        *transfer,
                                            const char        *operation,
                                            GError           **error);
LkCredential   *lk_test_find_credential    (LkTransferEngine  *engine,
                                            const char        *id);
gboolean        lk_test_access             (LkTransferEngine  *engine,
                                            LkCredential      *credential,
                                            const char        *action);
char           *lk_test_wrong_code         (const char        *code);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestWallets, lk_test_wallets_free)

G_END_DECLS
