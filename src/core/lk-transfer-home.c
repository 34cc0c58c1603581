/* lk-transfer-home.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A home or hotel key (`v=h`, PROTOCOL.md §7.1): the sender's partner
 * issues a single-use provisioning token (and keeps the activation code's
 * verifier), the offer carries it, and the receiver redeems it at that
 * partner for a credential of its own.
 *
 *   sender   → {credential, partnerUrl, token, codeRequired, sharedBy?}
 *   receiver → ReceiverDone (or ReceiverCancel {reason: "activation-code"})
 *
 * The partner, not the sender's device, checks the code: no PinReEntry.
 */

#define G_LOG_DOMAIN "lk-transfer-home"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lk-error.h"
#include "lk-json.h"
#include "lk-transfer-flow.h"

/* Sender */

static JsonObject *
build_offer (LkWorker      *w,
             LkTransfer    *t,
             LkCredential  *credential,
             GError       **error)
{
  g_auto(LkWait) wait = { NULL };
  JsonObject *content;

  lk_partner_client_request_token_async (w->partner, credential, (const char * const *) t->entitlements,
                                         t->valid_from, t->valid_until, t->code, t->receivers, w->cancellable,
                                         lk_worker_done, &wait);
  t->token = lk_partner_client_request_token_finish (w->partner, lk_worker_wait (w, &wait), error);
  if (t->token == NULL)
    return NULL;

  content = json_object_new ();
  json_object_set_object_member (content, "credential",
                                 lk_credential_describe (credential, (const char * const *) t->entitlements,
                                                         t->valid_from, t->valid_until));
  json_object_set_string_member (content, "partnerUrl", lk_credential_get_partner_url (credential));
  json_object_set_string_member (content, "token", t->token);
  json_object_set_boolean_member (content, "codeRequired", t->code != NULL);
  /* Ours (issue 13): each receiver acknowledges by deleting the mailbox
   * for itself, which it cannot write to. */
  if (t->receivers > 1)
    json_object_set_int_member (content, "receivers", t->receivers);
  return content;
}

static gboolean
sender_handle (LkWorker    *w,
               LkTransfer  *t,
               const char  *type,
               JsonObject  *content,
               GError     **error)
{
  return lk_transfer_unexpected (w, t, type, error);
}

/* The token, which someone might still redeem (pending) or which gave the
 * receiver its credential: revoking it revokes that too. */
static gboolean
revoke_target (LkWorker      *w,
               LkTransfer    *t,
               LkCredential  *credential,
               gboolean       pending,
               char         **target,
               GError       **error)
{
  if (t->token != NULL)
    *target = g_strconcat ("token:", t->token, NULL);
  return TRUE;
}

/* Receiver: redeem the token at the partner, with the code if the offer
 * needs one; the partner counts wrong codes. */

static gboolean
accept_offer (LkWorker    *w,
              LkTransfer  *t,
              const char  *code,
              GError     **error)
{
  JsonObject *description = lk_json_get_object (t->offer, "credential", TRUE, LK_MESSAGE_ERROR,
                                                LK_MESSAGE_ERROR_MALFORMED, error);
  const char *partner_url = lk_json_get_string (t->offer, "partnerUrl", LK_CREDENTIAL_MAX_URL, TRUE,
                                                LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error);
  const char *token = lk_json_get_string (t->offer, "token", LK_CREDENTIAL_MAX_TOKEN, TRUE, LK_MESSAGE_ERROR,
                                          LK_MESSAGE_ERROR_MALFORMED, error);
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(LkWait) wait = { NULL };
  guint attempts_left = 0;

  if (description == NULL || partner_url == NULL || token == NULL)
    return FALSE;

  if (code == NULL && lk_transfer_offer_wants_code (t))
    return lk_transfer_wait_for_code (w, t, error);

  lk_partner_client_redeem_async (w->partner, partner_url, token, code, w->cancellable, lk_worker_done, &wait);
  credential = lk_partner_client_redeem_finish (w->partner, lk_worker_wait (w, &wait), &attempts_left,
                                                &local_error);

  if (credential == NULL)
    {
      if (g_error_matches (local_error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_WRONG_CODE))
        {
          t->attempts_left = attempts_left;
          _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CODE, local_error->message);
          return lk_worker_save_transfer (w, t, error);
        }
      if (g_error_matches (local_error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_TOO_MANY_ATTEMPTS))
        {
          t->attempts_left = 0;
          if (!lk_transfer_send_typed (w, t, "ReceiverCancel", "activation-code", error))
            return FALSE;
          return lk_transfer_finish (w, t, LK_TRANSFER_STATE_CANCELLED, local_error->message, error);
        }
    }
  return lk_transfer_take_redeemed (w, t, credential, g_steal_pointer (&local_error), description, error);
}

static gboolean
receiver_handle (LkWorker    *w,
                 LkTransfer  *t,
                 const char  *type,
                 JsonObject  *content,
                 GError     **error)
{
  return lk_transfer_unexpected (w, t, type, error);
}

const LkTransferFlow lk_transfer_flow_home = {
  .vertical = LK_VERTICAL_HOME,
  .offer_format = LK_FORMAT_HOME,
  .reply_format = LK_FORMAT_TRANSFER,
  .build_offer = build_offer,
  .accept_offer = accept_offer,
  .take_code = accept_offer,
  .sender_handle = sender_handle,
  .receiver_handle = receiver_handle,
  .code_accepted = NULL,
  .revoke_target = revoke_target,
  .confirm = NULL,
};
