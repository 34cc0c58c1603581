/* lk-transfer-generic.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A generic key (`v=a`, PROTOCOL.md §7.1, §8): the partner makes the share
 * a credential of its own with its own access token, which the offer
 * carries; the receiver keeps it and answers ReceiverDone.
 *
 *   sender   → {credential, accessToken, sharedBy?}
 *   receiver → ReceiverDone
 *
 * For several receivers (issue 13) the partner issues a token each of them
 * redeems for a share of its own, as for a home key; each receiver deletes
 * the mailbox for itself instead of answering:
 *
 *   sender   → {credential, partnerUrl, token, receivers, sharedBy?}
 *
 * With an activation code the token waits on the sender's device until the
 * receiver has given the code (as a car's PinReEntry):
 *
 *   sender   → {credential, codeRequired, sharedBy?}
 *   receiver → PinReEntryValue {activationCode}
 *   sender   → AccessToken {accessToken}  (or PinReEntryRequest, SenderCancel)
 *   receiver → ReceiverDone
 */

#define G_LOG_DOMAIN "lk-transfer-generic"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lk-error.h"
#include "lk-json.h"
#include "lk-transfer-engine.h"
#include "lk-transfer-flow.h"

/* A generic credential enrolled before owners had keys is a bearer token:
 * it gets a key at the partner before its first share or revocation, and
 * signs from then on (PROTOCOL.md §8). */
static gboolean
ensure_owner_key (LkWorker      *w,
                  LkCredential  *credential,
                  GError       **error)
{
  LkKeyPair *key = lk_credential_get_key_pair (credential);
  g_auto(LkWait) wait = { NULL };

  if (key != NULL && lk_key_pair_has_private (key))
    return TRUE;

  if (lk_credential_get_role (credential) != LK_CREDENTIAL_ROLE_OWNER ||
      lk_credential_get_access_token (credential) == NULL)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED,
                   _("Only this pass’s owner can share it or take it back"));
      return FALSE;
    }

  lk_partner_client_register_key_async (w->partner, credential, w->cancellable, lk_worker_done, &wait);
  return lk_partner_client_register_key_finish (w->partner, lk_worker_wait (w, &wait), error) &&
         lk_worker_save_credential (w, credential, error);
}

/* The share's own access token, with the share's entitlements and window,
 * which the owner revokes alone. */
static gboolean
request_share (LkWorker      *w,
               LkTransfer    *t,
               LkCredential  *credential,
               GError       **error)
{
  g_auto(LkWait) wait = { NULL };

  if (t->token != NULL)
    return TRUE;
  if (!ensure_owner_key (w, credential, error))
    return FALSE;

  lk_partner_client_request_share_async (w->partner, credential, (const char * const *) t->entitlements,
                                         t->valid_from, t->valid_until, w->cancellable, lk_worker_done, &wait);
  g_free (t->share_id);
  t->token = lk_partner_client_request_share_finish (w->partner, lk_worker_wait (w, &wait), &t->share_id, error);
  return t->token != NULL;
}

/* Sender */

static JsonObject *
build_offer (LkWorker      *w,
             LkTransfer    *t,
             LkCredential  *credential,
             GError       **error)
{
  JsonObject *content;

  if (t->receivers > 1)
    {
      g_auto(LkWait) wait = { NULL };

      if (!ensure_owner_key (w, credential, error))
        return NULL;
      lk_partner_client_request_token_async (w->partner, credential, (const char * const *) t->entitlements,
                                             t->valid_from, t->valid_until, NULL, t->receivers, w->cancellable,
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
      json_object_set_int_member (content, "receivers", t->receivers);
      return content;
    }

  /* The receiver gets a token of the share's own, never the owner's. */
  if (!request_share (w, t, credential, error))
    return NULL;

  content = json_object_new ();
  json_object_set_object_member (content, "credential",
                                 lk_credential_describe (credential, (const char * const *) t->entitlements,
                                                         t->valid_from, t->valid_until));
  /* With a code, the token waits on the sender's device until the
   * receiver has given the code (as a car's PinReEntry). */
  if (t->code != NULL)
    json_object_set_boolean_member (content, "codeRequired", TRUE);
  else
    json_object_set_string_member (content, "accessToken", t->token);
  return content;
}

static gboolean
sender_handle (LkWorker    *w,
               LkTransfer  *t,
               const char  *type,
               JsonObject  *content,
               GError     **error)
{
  if (g_strcmp0 (type, "PinReEntryValue") == 0 && t->code != NULL)
    return lk_transfer_check_code (w, t, content, error);

  return lk_transfer_unexpected (w, t, type, error);
}

/* The code is right: now the share's token goes (asked for now if the
 * share was made before shares had tokens of their own). */
static gboolean
code_accepted (LkWorker    *w,
               LkTransfer  *t,
               GError     **error)
{
  g_autoptr(LkCredential) credential = lk_worker_load_credential (w, t->credential_id, error);
  g_autoptr(JsonObject) content = lk_transfer_typed_content ("AccessToken");

  if (credential == NULL || !request_share (w, t, credential, error) || !lk_worker_save_transfer (w, t, error))
    return FALSE;
  json_object_set_string_member (content, "accessToken", t->token);
  return lk_transfer_send_and_wait (w, t, LK_FORMAT_GENERIC, content, error);
}

static gboolean
revoke_target (LkWorker      *w,
               LkTransfer    *t,
               LkCredential  *credential,
               gboolean       pending,
               char         **target,
               GError       **error)
{
  if (t->share_id != NULL)
    {
      *target = g_strconcat ("credential:", t->share_id, NULL);
      return TRUE;
    }
  /* Several receivers: the token, and every share redeemed from it. */
  if (t->receivers > 1)
    {
      if (t->token != NULL)
        *target = g_strconcat ("token:", t->token, NULL);
      return TRUE;
    }
  if (pending)
    return TRUE;

  /* A share made before shares had tokens of their own gave away the
   * owner's: revoking it revokes that token, in every copy. The owner
   * signs from then on. */
  if (!ensure_owner_key (w, credential, error))
    return FALSE;
  *target = g_strconcat ("access-tokens:", lk_credential_get_id (credential), NULL);
  return TRUE;
}

/* Receiver */

static gboolean
store (LkWorker    *w,
       LkTransfer  *t,
       const char  *token,
       GError     **error)
{
  JsonObject *description = lk_json_get_object (t->offer, "credential", TRUE, LK_MESSAGE_ERROR,
                                                LK_MESSAGE_ERROR_MALFORMED, error);
  g_autoptr(LkCredential) credential = NULL;

  if (description == NULL)
    return FALSE;

  credential = lk_transfer_credential_from_offer (t, description);
  lk_credential_set_access_token (credential, token);
  return lk_transfer_store_received (w, t, credential, error);
}

/* One of several receivers: a share of its own, redeemed from the token. */
static gboolean
redeem (LkWorker    *w,
        LkTransfer  *t,
        const char  *token,
        GError     **error)
{
  const char *partner_url = lk_json_get_string (t->offer, "partnerUrl", LK_CREDENTIAL_MAX_URL, TRUE,
                                                LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error);
  JsonObject *description = partner_url ? lk_json_get_object (t->offer, "credential", TRUE, LK_MESSAGE_ERROR,
                                                               LK_MESSAGE_ERROR_MALFORMED, error) : NULL;
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(LkWait) wait = { NULL };
  guint attempts_left = 0;

  if (description == NULL)
    return FALSE;

  lk_partner_client_redeem_async (w->partner, partner_url, token, NULL, w->cancellable, lk_worker_done, &wait);
  credential = lk_partner_client_redeem_finish (w->partner, lk_worker_wait (w, &wait), &attempts_left,
                                                &local_error);
  return lk_transfer_take_redeemed (w, t, credential, g_steal_pointer (&local_error), description, error);
}

static gboolean
accept_offer (LkWorker    *w,
              LkTransfer  *t,
              const char  *code,
              GError     **error)
{
  const char *token = lk_json_get_string (t->offer, "accessToken", LK_CREDENTIAL_MAX_TOKEN, FALSE, 0, 0, NULL);
  const char *provisioning = lk_json_get_string (t->offer, "token", LK_CREDENTIAL_MAX_TOKEN, FALSE, 0, 0, NULL);

  if (token != NULL)
    return store (w, t, token, error);
  if (provisioning != NULL)
    return redeem (w, t, provisioning, error);

  /* The sender wants the code first. */
  if (code == NULL)
    return lk_transfer_wait_for_code (w, t, error);
  return lk_transfer_send_code (w, t, code, error);
}

static gboolean
receiver_handle (LkWorker    *w,
                 LkTransfer  *t,
                 const char  *type,
                 JsonObject  *content,
                 GError     **error)
{
  if (g_strcmp0 (type, "AccessToken") == 0)
    {
      const char *token = lk_json_get_string (content, "accessToken", LK_CREDENTIAL_MAX_TOKEN, TRUE,
                                              LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error);

      return token != NULL && store (w, t, token, error);
    }

  if (g_strcmp0 (type, "PinReEntryRequest") == 0)
    return lk_transfer_code_requested (w, t, content, error);

  return lk_transfer_unexpected (w, t, type, error);
}

const LkTransferFlow lk_transfer_flow_generic = {
  .vertical = LK_VERTICAL_GENERIC,
  .offer_format = LK_FORMAT_GENERIC,
  .reply_format = LK_FORMAT_TRANSFER,
  .build_offer = build_offer,
  .accept_offer = accept_offer,
  .take_code = lk_transfer_send_code,
  .sender_handle = sender_handle,
  .receiver_handle = receiver_handle,
  .code_accepted = code_accepted,
  .revoke_target = revoke_target,
  .confirm = NULL,
};
