/* test-transfer-home.c: the home and hotel flow, both roles in this process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * lk-transfer-home.c against a real relay and partner on loopback: the
 * partner issues the token and checks the code. Runs inside
 * build-aux/headless-session.sh, for a keyring of its own.
 */

#define G_LOG_DOMAIN "test-transfer-home"

#include "config.h"

#include "lk-test-transfer.h"

/* The receiver redeems the token at once and has a credential of its own;
 * revoking the token revokes it. */
static void
test_plain (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_HOME, "Front door");
  g_autoptr(LkTransfer) share = lk_test_share (wallets, owner, NULL);
  g_autoptr(LkTransfer) receipt = lk_test_receive (wallets, share, NULL);
  g_autoptr(LkCredential) received = NULL;

  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_DONE);
  received = lk_test_find_credential (wallets->receiver, lk_transfer_get_credential_id (receipt));
  g_assert_nonnull (received);
  g_assert_cmpint (lk_credential_get_vertical (received), ==, LK_VERTICAL_HOME);
  g_assert_cmpint (lk_credential_get_role (received), ==, LK_CREDENTIAL_ROLE_SHARED);
  g_assert_nonnull (lk_credential_get_key_pair (received));
  g_assert_cmpstr (lk_credential_get_access_point_id (received), ==, lk_credential_get_access_point_id (owner));
  g_assert_true (lk_test_access (wallets->receiver, received, "open"));

  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_DONE);

  lk_test_revoke (wallets->sender, share);
  g_assert_false (lk_test_access (wallets->receiver, received, "open"));
  g_assert_true (lk_test_access (wallets->sender, owner, "open"));
}

/* The token is revocable from the moment it is issued: before the sender
 * has read the receiver's acknowledgement, the receiver's key stops
 * opening, and the share then ends done and revoked. */
static void
test_revoke_unacknowledged (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_HOME, "Back door");
  g_autoptr(LkTransfer) share = lk_test_share (wallets, owner, NULL);
  g_autoptr(LkTransfer) receipt = lk_test_receive (wallets, share, NULL);
  g_autoptr(LkCredential) received = NULL;

  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_DONE);
  received = lk_test_find_credential (wallets->receiver, lk_transfer_get_credential_id (receipt));
  g_assert_true (lk_test_access (wallets->receiver, received, "open"));

  g_assert_false (lk_transfer_state_is_final (lk_transfer_get_state (share)));
  lk_test_revoke (wallets->sender, share);
  g_assert_true (lk_transfer_get_revoked (share));
  g_assert_false (lk_test_access (wallets->receiver, received, "open"));
  g_assert_true (lk_test_access (wallets->sender, owner, "open"));

  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_DONE);
  g_assert_true (lk_transfer_get_revoked (share));
}

/* The partner counts wrong codes; the receiver can try again. */
static void
test_code (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_HOME, "Room 12");
  g_auto(LkShareOptions) options = { .activation_code = TRUE };
  g_autoptr(LkTransfer) share = lk_test_share (wallets, owner, &options);
  g_autoptr(LkTransfer) receipt = lk_test_receive (wallets, share, NULL);
  g_autofree char *wrong = lk_test_wrong_code (lk_transfer_get_activation_code (share));

  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_AWAITING_CODE);
  lk_test_provide_code (wallets->receiver, receipt, wrong);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_AWAITING_CODE);
  g_assert_cmpuint (lk_transfer_get_attempts_left (receipt), ==, 2);

  lk_test_provide_code (wallets->receiver, receipt, lk_transfer_get_activation_code (share));
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_DONE);
  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_DONE);
}

/* The receiver declines before the code; the sender sees it, and the
 * token goes when the sender cancels what is left. */
static void
test_decline (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_HOME, "Office");
  g_auto(LkShareOptions) options = { .activation_code = TRUE };
  g_autoptr(LkTransfer) share = lk_test_share (wallets, owner, &options);
  g_autoptr(LkTransfer) receipt = lk_test_receive (wallets, share, NULL);

  lk_test_cancel (wallets->receiver, receipt);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_DECLINED);
  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_DECLINED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/transfer/home/plain", test_plain);
  g_test_add_func ("/transfer/home/code", test_code);
  g_test_add_func ("/transfer/home/revoke-unacknowledged", test_revoke_unacknowledged);
  g_test_add_func ("/transfer/home/decline", test_decline);

  return g_test_run ();
}
