/* lk-test-transfer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-test-transfer"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lk-test-transfer.h"
#include "lk-test-async.h"

/* How long a step waits for the other side's message; it is there already
 * when the other side's operation has finished, so this is only a bound. */
#define STEP_WAIT_SECONDS 5

LkTestWallets *
lk_test_wallets_new (void)
{
  static const char * const relay_args[] = { "--rate", "0", NULL };
  LkTestWallets *self = g_new0 (LkTestWallets, 1);

  self->relay = lk_test_server_new ("LATCHKEY_RELAY", relay_args);
  lk_test_server_start (self->relay);
  self->partner = lk_test_server_new ("LATCHKEY_PARTNER", NULL);
  lk_test_server_start (self->partner);

  self->sender = lk_transfer_engine_new (self->relay->url);
  self->receiver = lk_transfer_engine_new (self->relay->url);
  lk_transfer_engine_set_retry_policy (self->sender, 2, 10);
  lk_transfer_engine_set_retry_policy (self->receiver, 2, 10);
  return self;
}

void
lk_test_wallets_free (LkTestWallets *self)
{
  g_clear_object (&self->sender);
  g_clear_object (&self->receiver);
  g_clear_pointer (&self->relay, lk_test_server_free);
  g_clear_pointer (&self->partner, lk_test_server_free);
  g_free (self);
}

LkCredential *
lk_test_enroll (LkTestWallets *self,
                LkVertical     vertical,
                const char    *title)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LkCredential *credential;

  lk_transfer_engine_enroll_async (self->sender, self->partner->url, vertical, title, NULL, lk_test_on_done, &result);
  credential = lk_transfer_engine_enroll_finish (self->sender, lk_test_wait_for (&result), &error);
  g_assert_no_error (error);
  return credential;
}

LkTransfer *
lk_test_share (LkTestWallets        *self,
               LkCredential         *credential,
               const LkShareOptions *options)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LkTransfer *share;

  lk_transfer_engine_share_async (self->sender, credential, options, NULL, lk_test_on_done, &result);
  share = lk_transfer_engine_transfer_finish (self->sender, lk_test_wait_for (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (lk_transfer_get_state (share), ==, LK_TRANSFER_STATE_WAITING);
  return share;
}

/* The receiver opens the share's link, as given to it in text. */
LkTransfer *
lk_test_receive (LkTestWallets *self,
                 LkTransfer    *share,
                 const char    *code)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkShareLink) given = lk_transfer_get_link (share);
  g_autofree char *text = lk_share_link_to_string (given);
  g_autoptr(LkShareLink) link = lk_share_link_parse (text, &error);
  LkTransfer *receipt;

  g_assert_no_error (error);
  lk_transfer_engine_receive_async (self->receiver, link, code, NULL, lk_test_on_done, &result);
  receipt = lk_transfer_engine_transfer_finish (self->receiver, lk_test_wait_for (&result), &error);
  g_assert_no_error (error);
  return receipt;
}

/**
 * lk_test_run_transfer:
 * @operation: "step", "confirm", "cancel" or "revoke"
 *
 * Runs one operation on @transfer, which it changes in place.
 */
gboolean
lk_test_run_transfer (LkTransferEngine  *engine,
                      LkTransfer        *transfer,
                      const char        *operation,
                      GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LkTransfer) same = NULL;

  if (strcmp (operation, "step") == 0)
    lk_transfer_engine_step_async (engine, transfer, STEP_WAIT_SECONDS, NULL, lk_test_on_done, &result);
  else if (strcmp (operation, "confirm") == 0)
    lk_transfer_engine_confirm_async (engine, transfer, NULL, lk_test_on_done, &result);
  else if (strcmp (operation, "cancel") == 0)
    lk_transfer_engine_cancel_async (engine, transfer, NULL, lk_test_on_done, &result);
  else if (strcmp (operation, "revoke") == 0)
    lk_transfer_engine_revoke_async (engine, transfer, NULL, lk_test_on_done, &result);
  else
    g_assert_not_reached ();

  same = lk_transfer_engine_transfer_finish (engine, lk_test_wait_for (&result), error);
  g_assert_true (same == NULL || same == transfer);
  return same != NULL;
}

static void
run_or_fail (LkTransferEngine *engine,
             LkTransfer       *transfer,
             const char       *operation)
{
  g_autoptr(GError) error = NULL;

  lk_test_run_transfer (engine, transfer, operation, &error);
  g_assert_no_error (error);
}

void
lk_test_step (LkTransferEngine *engine,
              LkTransfer       *transfer)
{
  run_or_fail (engine, transfer, "step");
}

void
lk_test_confirm (LkTransferEngine *engine,
                 LkTransfer       *transfer)
{
  run_or_fail (engine, transfer, "confirm");
}

void
lk_test_cancel (LkTransferEngine *engine,
                LkTransfer       *transfer)
{
  run_or_fail (engine, transfer, "cancel");
}

void
lk_test_revoke (LkTransferEngine *engine,
                LkTransfer       *transfer)
{
  run_or_fail (engine, transfer, "revoke");
}

void
lk_test_provide_code (LkTransferEngine *engine,
                      LkTransfer       *transfer,
                      const char       *code)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTransfer) same = NULL;

  lk_transfer_engine_provide_code_async (engine, transfer, code, NULL, lk_test_on_done, &result);
  same = lk_transfer_engine_transfer_finish (engine, lk_test_wait_for (&result), &error);
  g_assert_no_error (error);
  g_assert_true (same == transfer);
}

/* The credential @id from the keyring, as the engine reads it back. */
LkCredential *
lk_test_find_credential (LkTransferEngine *engine,
                         const char       *id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;

  lk_transfer_engine_list_async (engine, LK_STORE_KIND_CREDENTIAL, NULL, lk_test_on_done, &result);
  items = lk_transfer_engine_list_finish (engine, lk_test_wait_for (&result), &error);
  g_assert_no_error (error);

  for (guint i = 0; i < items->len; i++)
    {
      LkCredential *credential = g_ptr_array_index (items, i);

      if (g_strcmp0 (lk_credential_get_id (credential), id) == 0)
        return g_object_ref (credential);
    }
  return NULL;
}

/* Whether the partner's access point lets @credential do @action. */
gboolean
lk_test_access (LkTransferEngine *engine,
                LkCredential     *credential,
                const char       *action)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LkAccessResult *access;
  gboolean granted;

  lk_transfer_engine_access_async (engine, credential, action, NULL, lk_test_on_done, &result);
  access = lk_transfer_engine_access_finish (engine, lk_test_wait_for (&result), &error);
  g_assert_no_error (error);
  granted = access->granted;
  lk_access_result_free (access);
  return granted;
}

char *
lk_test_wrong_code (const char *code)
{
  return g_strdup_printf ("%06u", ((guint) atoi (code) + 1) % 1000000);
}
