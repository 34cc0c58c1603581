/* test-transfer-generic.c: the generic flow, both roles in this process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * lk-transfer-generic.c against a real relay and partner on loopback, the
 * sender's and the receiver's engines driven step by step. Runs inside
 * build-aux/headless-session.sh, for a keyring of its own.
 */

#define G_LOG_DOMAIN "test-transfer-generic"

#include "config.h"

#include "lk-test-transfer.h"

/* Without a code the offer carries the share's own access token: the
 * receiver is done at once, the owner's token never travels, and revoking
 * the share stops it alone. */
static void
test_plain (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_GENERIC, "Gym pass");
  g_auto(LkShareOptions) options = { .sender_name = g_strdup ("Ben") };
  g_autoptr(LkTransfer) share = NULL;
  g_autoptr(LkTransfer) receipt = NULL;
  g_autoptr(LkCredential) received = NULL;

  /* Who received it: in the sender's list of who holds a copy. */
  lk_transfer_engine_set_receiver_name (wallets->receiver, "Carol");
  share = lk_test_share (wallets, owner, &options);
  receipt = lk_test_receive (wallets, share, NULL);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_DONE);
  received = lk_test_find_credential (wallets->receiver, lk_transfer_get_credential_id (receipt));
  g_assert_nonnull (received);
  g_assert_cmpstr (lk_credential_get_title (received), ==, "Gym pass");
  g_assert_cmpstr (lk_credential_get_shared_by (received), ==, "Ben");
  g_assert_cmpint (lk_credential_get_role (received), ==, LK_CREDENTIAL_ROLE_SHARED);
  g_assert_nonnull (lk_credential_get_access_token (received));
  g_assert_cmpstr (lk_credential_get_access_token (received), !=, lk_credential_get_access_token (owner));
  g_assert_true (lk_test_access (wallets->receiver, received, "open"));

  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_DONE);
  g_assert_cmpstr (lk_transfer_get_receiver_name (share), ==, "Carol");

  lk_test_revoke (wallets->sender, share);
  g_assert_true (lk_transfer_get_revoked (share));
  g_assert_false (lk_test_access (wallets->receiver, received, "open"));
  g_assert_true (lk_test_access (wallets->sender, owner, "open"));
}

/* With a code the token waits on the sender's device: a wrong code gets
 * PinReEntryRequest, the right one AccessToken. */
static void
test_code (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_GENERIC, "Library card");
  g_auto(LkShareOptions) options = { .activation_code = TRUE };
  g_autoptr(LkTransfer) share = lk_test_share (wallets, owner, &options);
  g_autoptr(LkTransfer) receipt = lk_test_receive (wallets, share, NULL);
  g_autofree char *wrong = lk_test_wrong_code (lk_transfer_get_activation_code (share));
  g_autoptr(LkCredential) received = NULL;

  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_AWAITING_CODE);

  lk_test_provide_code (wallets->receiver, receipt, wrong);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_OPENED);
  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_OPENED);
  g_assert_cmpuint (lk_transfer_get_attempts_left (share), ==, 2);
  lk_test_step (wallets->receiver, receipt);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_AWAITING_CODE);
  g_assert_cmpuint (lk_transfer_get_attempts_left (receipt), ==, 2);

  lk_test_provide_code (wallets->receiver, receipt, lk_transfer_get_activation_code (share));
  lk_test_step (wallets->sender, share);
  lk_test_step (wallets->receiver, receipt);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_DONE);
  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_DONE);

  received = lk_test_find_credential (wallets->receiver, lk_transfer_get_credential_id (receipt));
  g_assert_nonnull (received);
  g_assert_true (lk_test_access (wallets->receiver, received, "open"));
}

/* A pending share that is cancelled takes its credential at the partner
 * with it; the receiver learns of it at its next read. */
static void
test_cancel (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_GENERIC, "Parking");
  g_auto(LkShareOptions) options = { .activation_code = TRUE };
  g_autoptr(LkTransfer) share = lk_test_share (wallets, owner, &options);
  g_autoptr(LkTransfer) receipt = lk_test_receive (wallets, share, NULL);
  g_autofree char *wrong = lk_test_wrong_code (lk_transfer_get_activation_code (share));

  lk_test_provide_code (wallets->receiver, receipt, wrong);
  lk_test_cancel (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_CANCELLED);

  lk_test_step (wallets->receiver, receipt);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_CANCELLED);
  g_assert_true (lk_test_access (wallets->sender, owner, "open"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/transfer/generic/plain", test_plain);
  g_test_add_func ("/transfer/generic/code", test_code);
  g_test_add_func ("/transfer/generic/cancel", test_cancel);

  return g_test_run ();
}
