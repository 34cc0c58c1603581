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

#include <string.h>

#include "lk-test-async.h"
#include "lk-test-transfer.h"

/* The receiver redeems the token at once and has a credential of its own;
 * revoking the token revokes it. */
static void
test_plain (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_HOME, "Front door");
  g_autoptr(LkTransfer) share = NULL;
  g_autoptr(LkTransfer) receipt = NULL;
  g_autoptr(LkCredential) received = NULL;

  /* Who received it: in the sender's list of who holds a copy. */
  lk_transfer_engine_set_receiver_name (wallets->receiver, "Carol");
  share = lk_test_share (wallets, owner, NULL);
  receipt = lk_test_receive (wallets, share, NULL);
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
  g_assert_cmpstr (lk_transfer_get_receiver_name (share), ==, "Carol");

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

/* A copy of the share @json under a new id, made @age_days ago, in @state,
 * put straight into the store: a host's history without a thousand trips
 * to the relay. */
static char *
old_share (const char *json,
           const char *state,
           gboolean    revoked,
           int         age_days,
           int         valid_days)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) created = g_date_time_add_days (now, -age_days);
  g_autoptr(GDateTime) valid_until = g_date_time_add_days (now, valid_days);
  g_autofree char *id = lk_uuid_new_random ();
  g_autofree char *created_text = g_date_time_format_iso8601 (created);
  g_autofree char *valid_text = g_date_time_format_iso8601 (valid_until);
  JsonObject *object;

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  json_object_set_string_member (object, "id", id);
  json_object_set_string_member (object, "state", state);
  json_object_set_boolean_member (object, "revoked", revoked);
  json_object_set_string_member (object, "created", created_text);
  json_object_set_string_member (object, "validUntil", valid_text);
  json_generator_set_root (generator, json_parser_get_root (parser));
  return json_generator_to_data (generator, NULL);
}

static GPtrArray *
list_transfers (LkTransferEngine *engine)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *items;

  lk_transfer_engine_list_async (engine, LK_STORE_KIND_TRANSFER, NULL, lk_test_on_done, &result);
  items = lk_transfer_engine_list_finish (engine, lk_test_wait_for (&result), &error);
  g_assert_no_error (error);
  return items;
}

static LkTransfer *
find_transfer (GPtrArray  *items,
               const char *id)
{
  for (guint i = 0; i < items->len; i++)
    if (g_strcmp0 (lk_transfer_get_id (g_ptr_array_index (items, i)), id) == 0)
      return g_ptr_array_index (items, i);
  return NULL;
}

/* A host's thousandth share: the 999 before it finished long ago; the
 * retention policy removes those that no longer matter and compacts the
 * rest; the thousandth, read back compacted, still revokes. */
static void
test_retention (void)
{
  g_autoptr(LkTestWallets) wallets = lk_test_wallets_new ();
  g_autoptr(LkCredential) owner = lk_test_enroll (wallets, LK_VERTICAL_HOME, "Holiday home");
  g_autoptr(LkTransfer) first = lk_test_share (wallets, owner, NULL);
  g_autoptr(LkTransfer) first_receipt = lk_test_receive (wallets, first, NULL);
  g_autoptr(LkTransfer) last = NULL;
  g_autoptr(LkTransfer) last_receipt = NULL;
  g_autoptr(LkCredential) received = NULL;
  g_autoptr(LkStore) store = lk_store_new ();
  g_autoptr(GPtrArray) kept_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) removed_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(LkSecureString) template = NULL;
  LkTransfer *listed;
  guint before;

  g_assert_cmpint (lk_transfer_get_state (first_receipt), ==, LK_TRANSFER_STATE_DONE);
  lk_test_step (wallets->sender, first);
  g_assert_cmpint (lk_transfer_get_state (first), ==, LK_TRANSFER_STATE_DONE);
  template = lk_transfer_to_json (first);
  /* What this session's earlier tests left, all recent, with the first. */
  items = list_transfers (wallets->sender);
  before = items->len;
  g_clear_pointer (&items, g_ptr_array_unref);

  /* 998 more, 60 days old: revoked, cancelled, expired, or a key no longer
   * valid, all to go; and 20 whose keys can still be revoked, to stay. */
  for (guint i = 0; i < 998; i++)
    {
      static const char * const states[] = { "done", "cancelled", "expired", "done" };
      gboolean revocable = i < 20;
      g_autofree char *json = revocable ? old_share (template, "done", FALSE, 60, 30)
                                        : old_share (template, states[i % 4], i % 4 == 0, 60, -1);
      g_autoptr(LkTransfer) parsed = lk_transfer_new_from_json (json, strlen (json), NULL);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_nonnull (parsed);
      lk_store_save_async (store, LK_STORE_KIND_TRANSFER, lk_transfer_get_id (parsed), "Latchkey test share", json,
                           NULL, lk_test_on_done, &result);
      g_assert_true (lk_store_save_finish (store, lk_test_wait_for (&result), &error));
      g_assert_no_error (error);
      g_ptr_array_add (revocable ? kept_ids : removed_ids, g_strdup (lk_transfer_get_id (parsed)));
    }

  /* The thousandth. */
  last = lk_test_share (wallets, owner, NULL);
  last_receipt = lk_test_receive (wallets, last, NULL);
  g_assert_cmpint (lk_transfer_get_state (last_receipt), ==, LK_TRANSFER_STATE_DONE);
  lk_test_step (wallets->sender, last);
  g_assert_cmpint (lk_transfer_get_state (last), ==, LK_TRANSFER_STATE_DONE);
  received = lk_test_find_credential (wallets->receiver, lk_transfer_get_credential_id (last_receipt));
  g_assert_true (lk_test_access (wallets->receiver, received, "open"));

  lk_transfer_engine_set_retention_days (wallets->sender, 30);
  items = list_transfers (wallets->sender);
  /* Both wallets share this session's store: the 20, the thousandth and
   * its receipt. */
  g_assert_cmpuint (items->len, ==, before + 22);
  for (guint i = 0; i < removed_ids->len; i++)
    g_assert_null (find_transfer (items, g_ptr_array_index (removed_ids, i)));
  for (guint i = 0; i < kept_ids->len; i++)
    g_assert_nonnull (find_transfer (items, g_ptr_array_index (kept_ids, i)));
  g_clear_pointer (&items, g_ptr_array_unref);

  /* Read back: compacted, the link's secret gone; and it revokes. */
  items = list_transfers (wallets->sender);
  g_assert_cmpuint (items->len, ==, before + 22);
  listed = find_transfer (items, lk_transfer_get_id (last));
  g_assert_nonnull (listed);
  g_assert_null (lk_transfer_get_link (listed));
  {
    g_autoptr(LkSecureString) json = lk_transfer_to_json (listed);

    g_assert_null (strstr (json, "\"secret\""));
    g_assert_null (strstr (json, "\"channel\""));
    g_assert_nonnull (strstr (json, lk_transfer_get_credential_id (last)));
  }
  lk_test_revoke (wallets->sender, listed);
  g_assert_true (lk_transfer_get_revoked (listed));
  g_assert_false (lk_test_access (wallets->receiver, received, "open"));
  g_assert_true (lk_test_access (wallets->sender, owner, "open"));

  /* With 0 days, nothing finished is removed. */
  g_clear_pointer (&items, g_ptr_array_unref);
  lk_transfer_engine_set_retention_days (wallets->sender, 0);
  items = list_transfers (wallets->sender);
  g_assert_cmpuint (items->len, ==, before + 22);
  g_assert_true (lk_transfer_get_revoked (find_transfer (items, lk_transfer_get_id (last))));
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
  g_test_add_func ("/transfer/home/retention", test_retention);

  return g_test_run ();
}
