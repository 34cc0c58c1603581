/* lk-transfer-exchange.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The messages every flow uses (PROTOCOL.md §7): sealing and sending one,
 * the receiver's ReceiverDone and ReceiverCancel, the sender's SenderCancel,
 * the activation code exchange of the flows whose sender checks the code
 * (PinReEntryRequest, PinReEntryValue: car and generic), and the end of a
 * transfer.
 */

#define G_LOG_DOMAIN "lk-transfer-exchange"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-json.h"
#include "lk-text.h"
#include "lk-transfer-engine.h"
#include "lk-transfer-flow.h"

const char *
lk_transfer_display_title (LkVertical vertical)
{
  /* The relay shows these in clear, to anyone with the link: no names.
   * Translators: these are written in the sender's language and shown to
   * the receiver, who may speak another; keep them short and plain. */
  switch (vertical)
    {
    case LK_VERTICAL_CAR:
      return _("A car key shared with you");
    case LK_VERTICAL_HOME:
      return _("A room or door key shared with you");
    case LK_VERTICAL_GENERIC:
    default:
      return _("A key shared with you");
    }
}

/* A uniformly random code of LK_ACTIVATION_CODE_DIGITS digits, from
 * GnuTLS's generator. */
char *
lk_transfer_new_activation_code (GError **error)
{
  char code[LK_ACTIVATION_CODE_DIGITS + 1];

  for (guint i = 0; i < LK_ACTIVATION_CODE_DIGITS; i++)
    {
      guint8 byte;

      /* Rejection sampling: 250 is the largest multiple of 10 below 256. */
      do
        {
          if (!lk_crypto_random (&byte, 1, error))
            return NULL;
        }
      while (byte >= 250);
      code[i] = '0' + byte % 10;
    }
  code[LK_ACTIVATION_CODE_DIGITS] = '\0';

  return g_strdup (code);
}

/* Compares two codes in constant time, whatever their lengths. */
static gboolean
codes_equal (const char *expected,
             const char *given)
{
  guint8 a[LK_SHA256_LENGTH], b[LK_SHA256_LENGTH];

  if (expected == NULL || given == NULL)
    return FALSE;
  lk_crypto_sha256 (expected, strlen (expected), a);
  lk_crypto_sha256 (given, strlen (given), b);
  return lk_crypto_equal (a, b, sizeof a);
}

JsonObject *
lk_transfer_typed_content (const char *type)
{
  JsonObject *content = json_object_new ();

  json_object_set_string_member (content, "sharingDataType", type);
  return content;
}

/* Sending. The message is sealed (advancing the transcript) and saved with
 * its Mailbox-Request-ID before it is sent, so that after a crash the same
 * request is sent again and the relay recognises it. */

gboolean
lk_transfer_flush_outbox (LkWorker    *w,
                          LkTransfer  *t,
                          GError     **error)
{
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) local_error = NULL;
  LkWait wait = { NULL };

  if (t->outbox == NULL)
    return TRUE;

  lk_mailbox_client_update_async (w->mailbox, t->mailbox_url, t->claim, t->outbox, t->outbox_if_match,
                                  t->outbox_request_id, w->cancellable, lk_worker_done, &wait);
  reply = lk_worker_mailbox_finish (w, &wait, &local_error);
  if (reply == NULL)
    {
      /* Both sides wrote at once: the transcripts have forked, and no
       * message can follow on both. */
      if (g_error_matches (local_error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_CONFLICT))
        {
          g_clear_pointer (&t->outbox, json_object_unref);
          return lk_transfer_finish (w, t, LK_TRANSFER_STATE_FAILED,
                                     _("Both sides changed the invitation at the same moment; share again."),
                                     error);
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_free (t->last_sent);
  t->last_sent = g_strdup (json_object_get_string_member (t->outbox, "data"));
  if (reply->version >= 0)
    t->version = reply->version;
  g_clear_pointer (&t->outbox, json_object_unref);
  g_clear_pointer (&t->outbox_request_id, g_free);
  t->outbox_if_match = -1;

  /* Not saved here: every caller saves its next state, and a crash before
   * that only means the same request is sent again, which the relay
   * answers 201 without change. Keyring writes are the slow part of a step. */
  return TRUE;
}

gboolean
lk_transfer_send (LkWorker    *w,
                  LkTransfer  *t,
                  const char  *format,
                  JsonObject  *content,
                  GError     **error)
{
  /* The relay keeps one message: a second one in a row replaces the first,
   * which the other side may never read (PROTOCOL.md §3.3). */
  LkSealFlags flags = lk_channel_last_is_own (t->channel) ? LK_SEAL_FLAGS_REPLACE : LK_SEAL_FLAGS_NONE;
  JsonObject *payload = lk_channel_seal (t->channel, format, content, flags, error);

  if (payload == NULL)
    return FALSE;

  g_clear_pointer (&t->outbox, json_object_unref);
  t->outbox = payload;
  g_free (t->outbox_request_id);
  t->outbox_request_id = lk_uuid_new_random ();
  /* Never overwrite a message of the other side that we have not read. */
  t->outbox_if_match = t->version;

  return lk_worker_save_transfer (w, t, error) && lk_transfer_flush_outbox (w, t, error);
}

/* Sends, then the other side's answer is awaited. */
gboolean
lk_transfer_send_and_wait (LkWorker    *w,
                           LkTransfer  *t,
                           const char  *format,
                           JsonObject  *content,
                           GError     **error)
{
  if (!lk_transfer_send (w, t, format, content, error))
    return FALSE;
  _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
  return lk_worker_save_transfer (w, t, error);
}

/* ReceiverDone, ReceiverCancel, SenderCancel: a type and maybe a reason,
 * in the flow's format for everything after the offer. */
gboolean
lk_transfer_send_typed (LkWorker    *w,
                        LkTransfer  *t,
                        const char  *type,
                        const char  *reason,
                        GError     **error)
{
  g_autoptr(JsonObject) content = lk_transfer_typed_content (type);
  const LkTransferFlow *flow = lk_transfer_flow_for (t->vertical);

  if (reason != NULL)
    json_object_set_string_member (content, "reason", reason);
  /* Who received it, for the sender's list of who holds a copy: every
   * flow's receiver says it with its answer (a car's, with its signing
   * request too). Not to a plain draft peer, which expects no more. */
  if (g_strcmp0 (type, "ReceiverDone") == 0 && t->role == LK_ROLE_RECIPIENT && t->receiver_name != NULL &&
      !lk_channel_is_plain (t->channel))
    json_object_set_string_member (content, "receiverName", t->receiver_name);
  /* A plain draft peer knows the format it sent, not ours (PROTOCOL.md §3.5). */
  return lk_transfer_send (w, t, lk_channel_is_plain (t->channel) ? flow->offer_format : flow->reply_format,
                           content, error);
}

/* Ending. The sender removes the mailbox once the exchange is over,
 * whatever the outcome; a mailbox that is already gone is fine. */
static void
delete_mailbox (LkWorker   *w,
                LkTransfer *t)
{
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *request_id = lk_uuid_new_random ();
  LkWait wait = { NULL };

  lk_mailbox_client_delete_async (w->mailbox, t->mailbox_url, t->claim, request_id, w->cancellable,
                                  lk_worker_done, &wait);
  reply = lk_worker_mailbox_finish (w, &wait, &error);
  if (reply == NULL && !g_error_matches (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_NOT_FOUND))
    g_debug ("Could not delete a finished mailbox: %s", error->message);
}

gboolean
lk_transfer_finish (LkWorker         *w,
                    LkTransfer       *t,
                    LkTransferState   state,
                    const char       *detail,
                    GError          **error)
{
  _lk_transfer_set_state (t, state, detail);
  lk_secure_clear_str (&t->private_key);
  if (t->role == LK_ROLE_INITIATOR)
    delete_mailbox (w, t);
  return lk_worker_save_transfer (w, t, error);
}

/* A message the relay cannot have made correctly ends the transfer, and
 * nothing from it is kept. */
gboolean
lk_transfer_fail_hostile (LkWorker    *w,
                          LkTransfer  *t,
                          GError      *cause,
                          GError     **error)
{
  g_autofree char *detail = g_strdup_printf (_("The exchange was altered on the way (%s). Nothing was stored; "
                                               "the relay may be misbehaving."), cause->message);

  return lk_transfer_finish (w, t, LK_TRANSFER_STATE_FAILED, detail, error);
}

/* A message the flow does not allow at this step. */
gboolean
lk_transfer_unexpected (LkWorker    *w,
                        LkTransfer  *t,
                        const char  *type,
                        GError     **error)
{
  g_autoptr(GError) cause = g_error_new (LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                                         _("an unexpected “%s” message"), type ? type : "?");

  return lk_transfer_fail_hostile (w, t, cause, error);
}

/* The messages that end every flow: the receiver's ReceiverDone and
 * ReceiverCancel, the sender's SenderCancel. */
gboolean
lk_transfer_handle_common (LkWorker    *w,
                           LkTransfer  *t,
                           const char  *type,
                           JsonObject  *content,
                           gboolean    *handled,
                           GError     **error)
{
  const char *reason = lk_json_get_string (content, "reason", LK_TRANSFER_MAX_WORD, FALSE, 0, 0, NULL);

  *handled = TRUE;
  if (t->role == LK_ROLE_INITIATOR)
    {
      /* The receiver's name, from whichever of its messages carries it
       * first (cleaned to bounded text, as the car flow's). */
      if (t->receiver_name == NULL)
        t->receiver_name = lk_text_clean_name (lk_json_get_string (content, "receiverName", LK_TEXT_MAX_NAME * 4,
                                                                   FALSE, 0, 0, NULL));
      if (g_strcmp0 (type, "ReceiverDone") == 0)
        return lk_transfer_finish (w, t, LK_TRANSFER_STATE_DONE, NULL, error);

      if (g_strcmp0 (type, "ReceiverCancel") == 0)
        {
          if (g_strcmp0 (reason, "activation-code") == 0)
            return lk_transfer_finish (w, t, LK_TRANSFER_STATE_CANCELLED,
                                       _("The activation code was entered wrong too many times."), error);
          return lk_transfer_finish (w, t, LK_TRANSFER_STATE_DECLINED, NULL, error);
        }
    }
  else if (g_strcmp0 (type, "SenderCancel") == 0)
    return lk_transfer_finish (w, t, LK_TRANSFER_STATE_CANCELLED,
                               g_strcmp0 (reason, "activation-code") == 0
                               ? _("The activation code was entered wrong three times; the sender’s device cancelled the share.")
                               : _("The sender cancelled the share."),
                               error);

  *handled = FALSE;
  return TRUE;
}

/* Receiving: the user's turn to give the activation code. */
gboolean
lk_transfer_wait_for_code (LkWorker    *w,
                           LkTransfer  *t,
                           GError     **error)
{
  _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CODE, NULL);
  return lk_worker_save_transfer (w, t, error);
}

/* Whether the sender's offer says a code is needed. */
gboolean
lk_transfer_offer_wants_code (LkTransfer *t)
{
  JsonNode *required = json_object_get_member (t->offer, "codeRequired");

  return required != NULL && JSON_NODE_HOLDS_VALUE (required) && json_node_get_boolean (required);
}

/* Activation codes the sender's device checks (car, generic): the
 * receiver's PinReEntryValue, the sender's PinReEntryRequest after a wrong
 * one, and SenderCancel after the last. */

gboolean
lk_transfer_send_code (LkWorker    *w,
                       LkTransfer  *t,
                       const char  *code,
                       GError     **error)
{
  g_autoptr(JsonObject) content = lk_transfer_typed_content ("PinReEntryValue");

  json_object_set_string_member (content, "activationCode", code);
  return lk_transfer_send_and_wait (w, t, lk_transfer_flow_for (t->vertical)->reply_format, content, error);
}

gboolean
lk_transfer_code_requested (LkWorker    *w,
                            LkTransfer  *t,
                            JsonObject  *content,
                            GError     **error)
{
  gint64 left = 0;

  lk_json_get_int (content, "attemptsLeft", 0, LK_ACTIVATION_CODE_ATTEMPTS, &left, 0, 0, NULL);
  t->attempts_left = left;
  _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CODE, _("The activation code is wrong."));
  return lk_worker_save_transfer (w, t, error);
}

/* The code in the receiver's message (@content's activationCode), if the
 * share has one. */
gboolean
lk_transfer_check_code (LkWorker    *w,
                        LkTransfer  *t,
                        JsonObject  *content,
                        GError     **error)
{
  const char *code = lk_json_get_string (content, "activationCode", LK_TRANSFER_MAX_WORD, FALSE, 0, 0, NULL);

  if (t->code != NULL && !codes_equal (t->code, code))
    {
      g_autoptr(JsonObject) request = NULL;

      t->attempts_left = t->attempts_left > 0 ? t->attempts_left - 1 : 0;
      if (t->attempts_left == 0)
        {
          /* Three wrong codes: the link may be in the wrong hands. */
          if (!lk_transfer_send_typed (w, t, "SenderCancel", "activation-code", error))
            return FALSE;
          return lk_transfer_finish (w, t, LK_TRANSFER_STATE_CANCELLED,
                                     _("The activation code was entered wrong three times; the share was cancelled."),
                                     error);
        }

      request = lk_transfer_typed_content ("PinReEntryRequest");
      json_object_set_int_member (request, "attemptsLeft", t->attempts_left);
      if (!lk_transfer_send (w, t, lk_transfer_flow_for (t->vertical)->reply_format, request, error))
        return FALSE;

      /* The owner is told too: someone holding the link is guessing, or
       * the code was mistyped. */
      {
        g_autofree char *detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                                "A wrong activation code was entered; %u attempt left.",
                                                                "A wrong activation code was entered; %u attempts left.",
                                                                t->attempts_left),
                                                   t->attempts_left);

        _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, detail);
      }
      return lk_worker_save_transfer (w, t, error);
    }

  return lk_transfer_flow_for (t->vertical)->code_accepted (w, t, error);
}

/* Receiver: how many receivers the offer says it has (ours; 1 if none). */
guint
lk_transfer_offer_receivers (LkTransfer *t)
{
  gint64 receivers = 1;

  if (t->offer == NULL ||
      !lk_json_get_int (t->offer, "receivers", 1, LK_TRANSFER_MAX_RECEIVERS, &receivers, 0, 0, NULL))
    return 1;
  return (guint) receivers;
}

/* The receiver's end of every flow: the credential is kept, the sender
 * told (ReceiverDone), and the sender removes the mailbox. */
gboolean
lk_transfer_store_received (LkWorker      *w,
                            LkTransfer    *t,
                            LkCredential  *credential,
                            GError       **error)
{
  lk_credential_set_shared_by (credential, t->shared_by);
  if (!lk_worker_save_credential (w, credential, error))
    return FALSE;

  g_free (t->credential_id);
  t->credential_id = g_strdup (lk_credential_get_id (credential));
  g_free (t->title);
  t->title = g_strdup (lk_credential_get_title (credential));

  /* One of several receivers (issue 13): the mailbox is theirs to read,
   * not to write; deleting it is this receiver's acknowledgement, and the
   * relay keeps it for the others. */
  if (lk_transfer_offer_receivers (t) > 1)
    {
      delete_mailbox (w, t);
      return lk_transfer_finish (w, t, LK_TRANSFER_STATE_DONE, NULL, error);
    }

  /* A plain draft peer may have made the mailbox `RD`, as the draft's
   * one-way flow does, and so does our sender that asked for several
   * receivers of a relay that let only one: then the draft's end instead,
   * Delete. */
  {
    g_autoptr(GError) local_error = NULL;

    if (!lk_transfer_send_typed (w, t, "ReceiverDone", NULL, &local_error))
      {
        if (!g_error_matches (local_error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_CLAIMED))
          {
            g_propagate_error (error, g_steal_pointer (&local_error));
            return FALSE;
          }
        g_clear_pointer (&t->outbox, json_object_unref);
        delete_mailbox (w, t);
      }
  }
  return lk_transfer_finish (w, t, LK_TRANSFER_STATE_DONE, NULL, error);
}

/* The receiver's end of a flow that redeems a partner's token (home, and
 * the generic flow's several receivers), the same in both: the credential
 * kept with the sender's words for it (@description's "description"), or,
 * when the partner no longer has the token (used, expired, revoked, never
 * made), the transfer failed with the partner's reason. Any other error
 * is the worker's, which tries again. Takes @redeem_error. */
gboolean
lk_transfer_take_redeemed (LkWorker      *w,
                           LkTransfer    *t,
                           LkCredential  *credential,
                           GError        *redeem_error,
                           JsonObject    *description,
                           GError       **error)
{
  g_autoptr(GError) local_error = redeem_error;
  const char *description_text;

  if (credential == NULL)
    {
      if (g_error_matches (local_error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_TOKEN_GONE) ||
          g_error_matches (local_error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_NOT_FOUND))
        return lk_transfer_finish (w, t, LK_TRANSFER_STATE_FAILED, local_error->message, error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  description_text = lk_json_get_string (description, "description", LK_CREDENTIAL_MAX_DESCRIPTION,
                                         FALSE, 0, 0, NULL);
  if (description_text != NULL)
    lk_credential_set_description (credential, description_text);
  return lk_transfer_store_received (w, t, credential, error);
}

/* The receiver's credential as the offer describes it, named for what it
 * is if the sender gave no title. */
LkCredential *
lk_transfer_credential_from_offer (LkTransfer *t,
                                   JsonObject *description)
{
  LkCredential *credential = lk_credential_new_from_description (description, t->vertical);

  if (lk_credential_get_title (credential) == NULL)
    lk_credential_set_title (credential, lk_transfer_display_title (t->vertical));
  return credential;
}

const LkTransferFlow *
lk_transfer_flow_for (LkVertical vertical)
{
  switch (vertical)
    {
    case LK_VERTICAL_CAR:
      return &lk_transfer_flow_car;
    case LK_VERTICAL_HOME:
      return &lk_transfer_flow_home;
    case LK_VERTICAL_GENERIC:
    default:
      return &lk_transfer_flow_generic;
    }
}
