/* test-transfer-car.c: the car flow, both roles in this process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * lk-transfer-car.c against a real relay and partner on loopback: the
 * receiver's own key, the owner's confirmation and signature, the car (the
 * partner's access point) checking it. Runs inside
 * build-aux/headless-session.sh, for a keyring of its own.
 */

#define G_LOG_DOMAIN "test-transfer-car"

#include "config.h"

#include "lk-test-async.h"
#include "lk-test-transfer.h"

static void
car_options (LkShareOptions *options,
             gboolean        code)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  const char * const entitlements[] = { "open", NULL };

  options->activation_code = code;
  options->entitlements = g_strdupv ((char **) entitlements);
  options->valid_until = g_date_time_add_days (now, 1);
}

/* KeyCreationRequest, KeySigningRequest, the owner's confirmation,
 * KeyImportRequest: the friend's key opens the car, for what the owner
 * allowed, until revoked. */
static void
test_confirm (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_CAR, "The van");
  g_auto(LkShareOptions) options = { 0 };
  g_autoptr(LkTransfer) share = NULL;
  g_autoptr(LkTransfer) receipt = NULL;
  g_autoptr(LkCredential) received = NULL;

  car_options (&options, FALSE);
  share = lk_test_share (wallets, owner, &options);
  receipt = lk_test_receive (wallets, share, NULL);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_OPENED);

  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_AWAITING_CONFIRMATION);
  lk_test_confirm (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_OPENED);

  lk_test_step (wallets->receiver, receipt);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_DONE);
  received = lk_test_find_credential (wallets->receiver, lk_transfer_get_credential_id (receipt));
  g_assert_nonnull (received);
  g_assert_nonnull (lk_credential_get_owner_signature (received));
  g_assert_true (lk_key_pair_has_private (lk_credential_get_key_pair (received)));
  g_assert_cmpstr (lk_credential_get_entitlements (received)[0], ==, "open");
  g_assert_null (lk_credential_get_entitlements (received)[1]);
  g_assert_nonnull (lk_credential_get_valid_until (received));
  g_assert_true (lk_test_access (wallets->receiver, received, "open"));
  g_assert_false (lk_test_access (wallets->receiver, received, "drive"));

  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_DONE);
  lk_test_revoke (wallets->sender, share);
  g_assert_false (lk_test_access (wallets->receiver, received, "open"));
  g_assert_true (lk_test_access (wallets->sender, owner, "open"));
}

/* Once the owner has signed, the friend's key is revocable at once, not
 * only after the receiver's acknowledgement has been read; before
 * signing there is nothing to revoke (cancel instead). */
static void
test_revoke_when_signed (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_CAR, "The truck");
  g_auto(LkShareOptions) options = { 0 };
  g_autoptr(LkTransfer) share = NULL;
  g_autoptr(LkTransfer) receipt = NULL;
  g_autoptr(LkCredential) received = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTransfer) refused = NULL;

  car_options (&options, FALSE);
  share = lk_test_share (wallets, owner, &options);
  receipt = lk_test_receive (wallets, share, NULL);
  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_AWAITING_CONFIRMATION);

  lk_transfer_engine_revoke_async (wallets->sender, share, NULL, lk_test_on_done, &result);
  refused = lk_transfer_engine_transfer_finish (wallets->sender, lk_test_wait_for (&result), &error);
  g_assert_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE);
  g_assert_null (refused);

  lk_test_confirm (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_OPENED);
  lk_test_revoke (wallets->sender, share);
  g_assert_true (lk_transfer_get_revoked (share));

  lk_test_step (wallets->receiver, receipt);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_DONE);
  received = lk_test_find_credential (wallets->receiver, lk_transfer_get_credential_id (receipt));
  g_assert_nonnull (received);
  g_assert_false (lk_test_access (wallets->receiver, received, "open"));
  g_assert_true (lk_test_access (wallets->sender, owner, "open"));
}

/* Who is asking: the receiver's name travels (encrypted) with its signing
 * request, cleaned to text; none is fine, the draft needs no identity. */
static void
test_receiver_name (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_CAR, "The minibus");
  g_auto(LkShareOptions) options = { 0 };
  g_autoptr(LkTransfer) share = NULL;
  g_autoptr(LkTransfer) receipt = NULL;
  g_autoptr(LkTransfer) anonymous_share = NULL;
  g_autoptr(LkTransfer) anonymous = NULL;
  g_autofree char *long_name = g_strnfill (200, 'x');
  g_autofree char *cleaned = NULL;

  car_options (&options, FALSE);
  lk_transfer_engine_set_receiver_name (wallets->receiver, "  Ben\x01 Example\n ");
  share = lk_test_share (wallets, owner, &options);
  receipt = lk_test_receive (wallets, share, NULL);
  g_assert_cmpstr (lk_transfer_get_receiver_name (receipt), ==, "Ben  Example");
  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_AWAITING_CONFIRMATION);
  g_assert_cmpstr (lk_transfer_get_receiver_name (share), ==, "Ben  Example");

  /* Bounded, and empty is none. */
  cleaned = lk_text_clean_name (long_name);
  g_assert_cmpuint (g_utf8_strlen (cleaned, -1), ==, LK_TEXT_MAX_NAME);
  g_assert_null (lk_text_clean_name (" \t\n"));
  g_assert_null (lk_text_clean_name (NULL));

  lk_transfer_engine_set_receiver_name (wallets->receiver, "");
  anonymous_share = lk_test_share (wallets, owner, &options);
  anonymous = lk_test_receive (wallets, anonymous_share, NULL);
  lk_test_step (wallets->sender, anonymous_share);
  g_assert_cmpint (lk_transfer_get_state (anonymous_share), ==, LK_TRANSFER_STATE_AWAITING_CONFIRMATION);
  g_assert_null (lk_transfer_get_receiver_name (anonymous_share));
}

/* The receiver's app shows the same short fingerprint of its new key as
 * the owner's shows with the request, so that the two can compare before
 * the owner signs; another receipt, another key, another fingerprint. */
static void
test_fingerprints_match (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_CAR, "The camper");
  g_auto(LkShareOptions) options = { 0 };
  g_autoptr(LkTransfer) share = NULL;
  g_autoptr(LkTransfer) receipt = NULL;
  g_autoptr(LkTransfer) other_share = NULL;
  g_autoptr(LkTransfer) other_receipt = NULL;
  g_autofree char *theirs = NULL;
  g_autofree char *ours = NULL;
  g_autofree char *other = NULL;

  car_options (&options, FALSE);
  share = lk_test_share (wallets, owner, &options);
  g_assert_null (lk_transfer_dup_own_fingerprint (share));
  receipt = lk_test_receive (wallets, share, NULL);
  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_AWAITING_CONFIRMATION);

  theirs = lk_transfer_dup_friend_fingerprint (share);
  ours = lk_transfer_dup_own_fingerprint (receipt);
  g_assert_nonnull (theirs);
  g_assert_cmpstr (ours, ==, theirs);
  g_assert_true (g_regex_match_simple ("^[A-Za-z0-9_-]{4}( [A-Za-z0-9_-]{4}){3}$", ours, 0, 0));
  g_assert_null (lk_transfer_dup_friend_fingerprint (receipt));

  other_share = lk_test_share (wallets, owner, &options);
  other_receipt = lk_test_receive (wallets, other_share, NULL);
  other = lk_transfer_dup_own_fingerprint (other_receipt);
  g_assert_nonnull (other);
  g_assert_cmpstr (other, !=, ours);
}

/* The code goes to the owner's device with the signing request; three
 * wrong ones cancel the share on both sides. */
static void
test_wrong_codes (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_CAR, "The car");
  g_auto(LkShareOptions) options = { 0 };
  g_autoptr(LkTransfer) share = NULL;
  g_autoptr(LkTransfer) receipt = NULL;
  g_autofree char *wrong = NULL;

  car_options (&options, TRUE);
  share = lk_test_share (wallets, owner, &options);
  wrong = lk_test_wrong_code (lk_transfer_get_activation_code (share));
  receipt = lk_test_receive (wallets, share, NULL);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_AWAITING_CODE);

  for (guint left = 2; left > 0; left--)
    {
      g_autofree char *told = NULL;

      lk_test_provide_code (wallets->receiver, receipt, wrong);
      lk_test_step (wallets->sender, share);
      g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_OPENED);
      /* The owner is told of each wrong code, with the attempts left. */
      told = g_strdup_printf ("A wrong activation code was entered; %u attempt%s left.", left, left == 1 ? "" : "s");
      g_assert_cmpstr (lk_transfer_get_state_detail (share), ==, told);
      lk_test_step (wallets->receiver, receipt);
      g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_AWAITING_CODE);
      g_assert_cmpuint (lk_transfer_get_attempts_left (receipt), ==, left);
    }

  lk_test_provide_code (wallets->receiver, receipt, wrong);
  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_CANCELLED);
  lk_test_step (wallets->receiver, receipt);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_CANCELLED);
  g_assert_null (lk_transfer_get_credential_id (receipt));
}

/* With auto-confirm the owner's device signs as soon as the code is
 * right. */
static void
test_auto_confirm (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_CAR, "The bike");
  g_auto(LkShareOptions) options = { 0 };
  g_autoptr(LkTransfer) share = NULL;
  g_autoptr(LkTransfer) receipt = NULL;

  car_options (&options, TRUE);
  options.auto_confirm = TRUE;
  share = lk_test_share (wallets, owner, &options);
  receipt = lk_test_receive (wallets, share, lk_transfer_get_activation_code (share));
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_OPENED);

  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_OPENED);
  lk_test_step (wallets->receiver, receipt);
  g_assert_cmpint (lk_transfer_get_state (receipt), ==, LK_TRANSFER_STATE_DONE);
  lk_test_step (wallets->sender, share);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_DONE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/transfer/car/confirm", test_confirm);
  g_test_add_func ("/transfer/car/revoke-when-signed", test_revoke_when_signed);
  g_test_add_func ("/transfer/car/receiver-name", test_receiver_name);
  g_test_add_func ("/transfer/car/fingerprints-match", test_fingerprints_match);
  g_test_add_func ("/transfer/car/wrong-codes", test_wrong_codes);
  g_test_add_func ("/transfer/car/auto-confirm", test_auto_confirm);

  return g_test_run ();
}
