/* lk-transfer-engine.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine's public face, its jobs, and the outline every share follows
 * (PROTOCOL.md §7): share (create the mailbox, put the offer), receive
 * (claim, open the offer), step (read, answer), code, confirm, cancel and
 * revoke. Each job runs on a worker thread of its own
 * (lk-transfer-worker.c); a transfer must not be touched by the caller
 * while a job on it runs.
 *
 * What differs by kind of key is in one file per flow, both roles in each:
 *   generic  lk-transfer-generic.c  the share's own access token
 *   home     lk-transfer-home.c     a partner's provisioning token, redeemed
 *   car      lk-transfer-car.c      KeyCreationRequest, KeySigningRequest, KeyImportRequest
 * and the messages they share (ReceiverDone, ReceiverCancel, SenderCancel,
 * PinReEntryRequest and PinReEntryValue) in lk-transfer-exchange.c.
 */

#define G_LOG_DOMAIN "lk-transfer-engine"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>

#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-json.h"
#include "lk-text.h"
#include "lk-transfer-engine.h"
#include "lk-transfer-flow.h"
#include "lk-transfer-retention.h"

/* A new mailbox holds this much random filler until the offer replaces it. */
#define FILLER_LENGTH 16
/* Operations on the relay and the partner: how often, and how soon again. */
#define DEFAULT_MAX_ATTEMPTS  5
#define DEFAULT_BASE_DELAY_MS 200

struct _LkTransferEngine
{
  GObject  parent_instance;

  GMutex   lock;
  char    *relay_url;
  char    *ca_file;
  char    *receiver_name;     /* sent with this device's receipts (car) */
  guint    max_attempts;
  guint    base_delay_ms;
  guint    retention_days;
};

G_DEFINE_FINAL_TYPE (LkTransferEngine, lk_transfer_engine, G_TYPE_OBJECT)
G_DEFINE_QUARK (lk-transfer-error-quark, lk_transfer_error)

void
lk_share_options_clear (LkShareOptions *options)
{
  g_clear_pointer (&options->entitlements, g_strfreev);
  g_clear_pointer (&options->valid_from, g_date_time_unref);
  g_clear_pointer (&options->valid_until, g_date_time_unref);
  g_clear_pointer (&options->expires, g_date_time_unref);
  g_clear_pointer (&options->sender_name, g_free);
}

static void
lk_transfer_engine_finalize (GObject *object)
{
  LkTransferEngine *self = (LkTransferEngine *) object;

  g_free (self->relay_url);
  g_free (self->ca_file);
  g_free (self->receiver_name);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (lk_transfer_engine_parent_class)->finalize (object);
}

static void
lk_transfer_engine_class_init (LkTransferEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_transfer_engine_finalize;
}

static void
lk_transfer_engine_init (LkTransferEngine *self)
{
  g_mutex_init (&self->lock);
  self->max_attempts = DEFAULT_MAX_ATTEMPTS;
  self->base_delay_ms = DEFAULT_BASE_DELAY_MS;
}

/**
 * lk_transfer_engine_new:
 * @relay_url: the relay new shares go through (receipts use the link's)
 */
LkTransferEngine *
lk_transfer_engine_new (const char *relay_url)
{
  LkTransferEngine *self = g_object_new (LK_TYPE_TRANSFER_ENGINE, NULL);

  self->relay_url = g_strdup (relay_url);
  self->retention_days = lk_transfer_retention_days_from_env ();
  return self;
}

/**
 * lk_transfer_engine_set_retention_days:
 * @days: how long finished transfers are kept after they were made; 0 keeps
 *   them for ever. A share that gave a key still valid and not revoked is
 *   kept while it can be revoked, whatever @days.
 *
 * The default is LATCHKEY_RETENTION_DAYS, or LK_RETENTION_DEFAULT_DAYS.
 * Applied when transfers are listed.
 */
void
lk_transfer_engine_set_retention_days (LkTransferEngine *self,
                                       guint             days)
{
  g_mutex_lock (&self->lock);
  self->retention_days = MIN (days, LK_RETENTION_MAX_DAYS);
  g_mutex_unlock (&self->lock);
}

/**
 * lk_transfer_engine_set_relay_url:
 * @relay_url: (nullable): the relay new shares go through; %NULL for none
 *
 * Shares under way keep the relay they were made on.
 */
void
lk_transfer_engine_set_relay_url (LkTransferEngine *self,
                                  const char       *relay_url)
{
  g_mutex_lock (&self->lock);
  g_free (self->relay_url);
  self->relay_url = g_strdup (relay_url);
  g_mutex_unlock (&self->lock);
}

/**
 * lk_transfer_engine_dup_relay_url:
 *
 * Returns: (nullable): the relay new shares go through, if one is set
 */
char *
lk_transfer_engine_dup_relay_url (LkTransferEngine *self)
{
  char *relay_url;

  g_mutex_lock (&self->lock);
  relay_url = g_strdup (self->relay_url);
  g_mutex_unlock (&self->lock);
  return relay_url;
}

/**
 * lk_transfer_engine_set_ca_file:
 *
 * Trusts the certificates in @path for a self-hosted relay or partner.
 */
gboolean
lk_transfer_engine_set_ca_file (LkTransferEngine  *self,
                                const char        *path,
                                GError           **error)
{
  g_autoptr(GTlsDatabase) database = g_tls_file_database_new (path, error);

  if (database == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  g_free (self->ca_file);
  self->ca_file = g_strdup (path);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * lk_transfer_engine_set_receiver_name:
 * @name: (nullable): how this device's user is named to a sender, who
 *   sees it before signing a car key; %NULL or empty: no name (the draft
 *   requires no identity). It travels encrypted, like the rest.
 */
void
lk_transfer_engine_set_receiver_name (LkTransferEngine *self,
                                      const char       *name)
{
  g_return_if_fail (LK_IS_TRANSFER_ENGINE (self));

  g_mutex_lock (&self->lock);
  g_free (self->receiver_name);
  self->receiver_name = lk_text_clean_name (name);
  g_mutex_unlock (&self->lock);
}

void
lk_transfer_engine_set_retry_policy (LkTransferEngine *self,
                                     guint             max_attempts,
                                     guint             base_delay_ms)
{
  g_mutex_lock (&self->lock);
  self->max_attempts = max_attempts;
  self->base_delay_ms = base_delay_ms;
  g_mutex_unlock (&self->lock);
}

static void
worker_init (LkWorker         *w,
             LkTransferEngine *self,
             GCancellable     *cancellable)
{
  g_mutex_lock (&self->lock);
  lk_worker_init (w, self->relay_url, self->ca_file, self->max_attempts, self->base_delay_ms, cancellable);
  g_mutex_unlock (&self->lock);
}

/* Sharing */

/* Creates the mailbox (with filler: the relay names the mailbox only when
 * it creates it, and the first message names its mailbox) and the channel. */
static gboolean
create_mailbox (LkWorker    *w,
                LkTransfer  *t,
                GError     **error)
{
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(JsonObject) placeholder = json_object_new ();
  g_autofree char *placeholder_data = NULL;
  g_autofree char *request_id = lk_uuid_new_random ();
  guint8 filler[FILLER_LENGTH];
  LkWait wait = { NULL };

  if (!lk_crypto_random (filler, sizeof filler, error))
    return FALSE;
  sealed = lk_aead_seal (t->secret, NULL, filler, sizeof filler, error);
  if (sealed == NULL)
    return FALSE;
  placeholder_data = lk_base64_encode_bytes (sealed);
  json_object_set_string_member (placeholder, "type", lk_aead_type_for_key (g_bytes_get_size (t->secret)));
  json_object_set_string_member (placeholder, "data", placeholder_data);

  /* Several receivers read a mailbox they cannot write to (the relay
   * refuses several writers, PROTOCOL.md §6.9): each deletes it for itself. */
  lk_mailbox_client_create_async (w->mailbox, w->relay_url, t->claim, placeholder, t->description,
                                  /* Translators: shown by the relay to whoever opens the link (see above) */
                                  _("Open this link with Latchkey or another TIGRESS wallet to add the key."),
                                  t->receivers > 1 ? "RD" : "RWD", t->receivers, t->expires, request_id,
                                  w->cancellable, lk_worker_done, &wait);
  reply = lk_worker_mailbox_finish (w, &wait, error);
  if (reply == NULL)
    return FALSE;
  t->one_way = t->receivers > 1;

  /* Only a well-formed mailbox URL of the relay we asked is accepted: a
   * relay that named another host would steer the first message, and the
   * link, there. */
  link = lk_share_link_new_for_mailbox (reply->url_link, t->vertical, t->secret, error);
  if (link == NULL)
    return FALSE;
  if (!lk_share_link_is_on_server (link, w->relay_url))
    {
      g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_PROTOCOL,
                   _("The relay answered with an invitation on another server; no share was made"));
      return FALSE;
    }
  t->mailbox_url = lk_share_link_get_mailbox_url (link);
  t->version = reply->version >= 0 ? reply->version : 1;
  if (reply->expiration != NULL)
    {
      g_clear_pointer (&t->expires, g_date_time_unref);
      t->expires = g_date_time_ref (reply->expiration);
    }
  t->channel = lk_channel_new (t->secret, lk_share_link_get_mailbox_id (link), LK_ROLE_INITIATOR);

  /* A relay without the extension ignored it and lets one device read:
   * the share goes on for one, and the sender is told. */
  if (t->receivers > 1)
    {
      guint granted = MIN (reply->max_recipients, t->receivers);

      if (granted < t->receivers)
        {
          g_autofree char *detail = NULL;

          t->receivers = MAX (granted, 1);
          detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                 "The relay lets only %u device receive this invitation.",
                                                 "The relay lets only %u devices receive this invitation.",
                                                 t->receivers),
                                    t->receivers);
          _lk_transfer_set_state (t, LK_TRANSFER_STATE_WAITING, detail);
        }
    }
  return TRUE;
}

/* Deletes a mailbox whose share could not be made; best effort. */
static void
abandon_mailbox (LkWorker   *w,
                 LkTransfer *t)
{
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autofree char *request_id = lk_uuid_new_random ();
  LkWait wait = { NULL };

  lk_mailbox_client_delete_async (w->mailbox, t->mailbox_url, t->claim, request_id, NULL, lk_worker_done, &wait);
  reply = lk_worker_mailbox_finish (w, &wait, NULL);
}

static LkTransfer *
do_share (LkWorker              *w,
          LkCredential          *credential,
          const LkShareOptions  *options,
          GError               **error)
{
  g_autoptr(LkTransfer) t = _lk_transfer_new (LK_ROLE_INITIATOR, lk_credential_get_vertical (credential));
  g_autoptr(JsonObject) content = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  const LkTransferFlow *flow = lk_transfer_flow_for (lk_credential_get_vertical (credential));
  guint receivers = MAX (options->receivers, 1);

  if (w->relay_url == NULL)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED, _("No relay is configured"));
      return NULL;
    }
  if (!lk_share_link_check_server_url (w->relay_url, error))
    return NULL;

  /* Several receivers of one invitation (issue 13): the one-way flows only. */
  if (receivers > LK_TRANSFER_MAX_RECEIVERS)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED,
                   _("An invitation can go to at most %u devices"), LK_TRANSFER_MAX_RECEIVERS);
      return NULL;
    }
  if (receivers > 1 && t->vertical == LK_VERTICAL_CAR)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED,
                   _("A car key is signed for one device: share it with one receiver at a time"));
      return NULL;
    }
  if (receivers > 1 && t->vertical == LK_VERTICAL_GENERIC && options->activation_code)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED,
                   _("A pass for several devices cannot wait for an activation code: your device would have to "
                     "check each one. Share it without a code, or with one device at a time"));
      return NULL;
    }
  t->receivers = receivers;

  t->title = g_strdup (lk_credential_get_title (credential));
  t->description = g_strdup (lk_transfer_display_title (t->vertical));
  t->credential_id = g_strdup (lk_credential_get_id (credential));
  t->entitlements = options->entitlements ? g_strdupv (options->entitlements)
                                          : g_strdupv ((char **) lk_credential_get_entitlements (credential));
  t->valid_from = options->valid_from ? g_date_time_ref (options->valid_from) : g_date_time_ref (now);
  t->valid_until = options->valid_until ? g_date_time_ref (options->valid_until)
                 : lk_credential_get_valid_until (credential) ? g_date_time_ref (lk_credential_get_valid_until (credential))
                 : NULL;
  t->expires = options->expires ? g_date_time_ref (options->expires) : g_date_time_add (now, LK_DEFAULT_EXPIRATION);
  t->auto_confirm = options->auto_confirm;
  t->shared_by = g_strdup (options->sender_name);
  t->secret = lk_crypto_new_secret (error);
  if (t->secret == NULL)
    return NULL;
  if (options->activation_code && (t->code = lk_transfer_new_activation_code (error)) == NULL)
    return NULL;

  /* Several receivers: the mailbox first, so that the partner's token is
   * for as many as the relay lets read. One: the partner first, so that a
   * refused share leaves nothing on the relay. */
  if (t->receivers > 1 && !create_mailbox (w, t, error))
    return NULL;

  content = flow->build_offer (w, t, credential, error);
  if (content == NULL)
    {
      if (t->mailbox_url != NULL)
        abandon_mailbox (w, t);
      return NULL;
    }
  if (t->shared_by != NULL)
    json_object_set_string_member (content, "sharedBy", t->shared_by);

  if (t->mailbox_url == NULL && !create_mailbox (w, t, error))
    return NULL;

  if (!lk_transfer_send (w, t, flow->offer_format, content, error) || !lk_worker_save_transfer (w, t, error))
    return NULL;

  return g_steal_pointer (&t);
}


/* Receiving */

/* An offer may name its key's provider only by the rule every server the
 * wallet talks to follows (PROTOCOL.md §7.5): https, or http to this
 * machine. The sender chooses it; nothing goes there otherwise. */
static gboolean
check_offer_servers (JsonObject  *offer,
                     GError     **error)
{
  JsonObject *description = lk_json_get_object (offer, "credential", FALSE, 0, 0, NULL);
  const char *urls[] = {
    lk_json_get_string (offer, "partnerUrl", LK_CREDENTIAL_MAX_URL, FALSE, 0, 0, NULL),
    description != NULL ? lk_json_get_string (description, "partnerUrl", LK_CREDENTIAL_MAX_URL, FALSE, 0, 0, NULL)
                        : NULL,
  };

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (urls[i] != NULL && !lk_share_link_check_server_url (urls[i], &local_error))
        {
          g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                       _("The sender’s offer names the key’s provider at an address Latchkey does not use (%s). "
                         "Nothing was sent there or stored."), local_error->message);
          return FALSE;
        }
    }

  return TRUE;
}

/* A plain draft peer's offer (PROTOCOL.md §3.5) is taken only where the
 * chain adds nothing against a hostile relay: one message, read once. A car
 * key, or a generic key that waits for a code, takes several messages, which
 * such a relay could replay or reorder unseen. */
static gboolean
plain_offer_allowed (LkTransfer *t)
{
  switch (t->vertical)
    {
    case LK_VERTICAL_HOME:
      return TRUE;
    case LK_VERTICAL_GENERIC:
      return lk_json_get_string (t->offer, "accessToken", LK_CREDENTIAL_MAX_TOKEN, FALSE, 0, 0, NULL) != NULL;
    case LK_VERTICAL_CAR:
    default:
      return FALSE;
    }
}

static LkTransfer *
do_receive (LkWorker       *w,
            LkShareLink  *link,
            const char   *code,
            const char   *receiver_name,
            GError      **error)
{
  g_autoptr(LkTransfer) t = _lk_transfer_new (LK_ROLE_RECIPIENT, lk_share_link_get_vertical (link));
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *format = NULL;
  g_auto(LkWait) wait = { NULL };

  t->mailbox_url = lk_share_link_get_mailbox_url (link);
  t->receiver_name = g_strdup (receiver_name);
  t->secret = g_bytes_ref (lk_share_link_get_secret (link));
  t->channel = lk_channel_new (t->secret, lk_share_link_get_mailbox_id (link), LK_ROLE_RECIPIENT);

  /* The claim below cannot be undone: make sure first that what it gets
   * can be kept, so a locked keyring costs a retry, not the invitation. */
  lk_store_check_async (w->store, w->cancellable, lk_worker_done, &wait);
  if (!lk_store_check_finish (w->store, lk_worker_wait (w, &wait), error))
    return NULL;
  lk_wait_clear (&wait);

  /* This read claims the mailbox for this device. */
  lk_mailbox_client_read_async (w->mailbox, t->mailbox_url, t->claim, -1, 0, w->cancellable, lk_worker_done, &wait);
  reply = lk_worker_mailbox_finish (w, &wait, error);
  if (reply == NULL)
    return NULL;

  t->version = reply->version;
  t->bound = TRUE;
  t->expires = reply->expiration ? g_date_time_ref (reply->expiration) : NULL;
  t->description = g_strdup (reply->title);

  t->offer = lk_channel_open (t->channel, reply->payload, &format, &local_error);
  if (t->offer == NULL || g_strcmp0 (format, lk_transfer_flow_for (t->vertical)->offer_format) != 0)
    {
      if (local_error == NULL)
        local_error = g_error_new (LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                                   _("the message is not the kind of key the link announced"));
      /* Nothing was stored, and nothing is kept but the failure. */
      g_clear_pointer (&t->offer, json_object_unref);
      if (!lk_transfer_fail_hostile (w, t, local_error, error))
        return NULL;
      return g_steal_pointer (&t);
    }

  {
    JsonObject *description = lk_json_get_object (t->offer, "credential", FALSE, 0, 0, NULL);
    const char *shared_by = lk_json_get_string (t->offer, "sharedBy", LK_CREDENTIAL_MAX_TITLE, FALSE, 0, 0, NULL);

    if (description != NULL)
      t->title = g_strdup (lk_json_get_string (description, "title", LK_CREDENTIAL_MAX_TITLE, FALSE, 0, 0, NULL));
    if (shared_by != NULL)
      t->shared_by = g_utf8_make_valid (shared_by, -1);
  }

  if (lk_channel_is_plain (t->channel) && !plain_offer_allowed (t))
    {
      g_autoptr(GError) cancel_error = NULL;

      if (!lk_transfer_send_typed (w, t, "ReceiverCancel", "unprotected", &cancel_error))
        g_debug ("Could not tell the sender: %s", cancel_error->message);
      g_clear_pointer (&t->offer, json_object_unref);
      if (!lk_transfer_finish (w, t, LK_TRANSFER_STATE_FAILED,
                               _("The sender’s wallet does not protect its messages against a misbehaving relay. "
                                 "This key takes several messages, which such a relay could replay or reorder, "
                                 "so Latchkey did not take it. Ask the sender to share it from Latchkey or another "
                                 "wallet that chains its messages, or without an activation code."),
                               error))
        return NULL;
      return g_steal_pointer (&t);
    }

  if (!check_offer_servers (t->offer, &local_error))
    {
      g_autoptr(GError) cancel_error = NULL;

      if (!lk_transfer_send_typed (w, t, "ReceiverCancel", "bad-offer", &cancel_error))
        g_debug ("Could not tell the sender: %s", cancel_error->message);
      if (!lk_transfer_finish (w, t, LK_TRANSFER_STATE_FAILED, local_error->message, error))
        return NULL;
      return g_steal_pointer (&t);
    }

  _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
  if (!lk_worker_save_transfer (w, t, error) || !lk_transfer_flow_for (t->vertical)->accept_offer (w, t, code, error))
    return NULL;

  return g_steal_pointer (&t);
}

/* One step: read the mailbox (waiting up to @wait_seconds for a change) and
 * act on what the other side wrote. */
static gboolean
do_step (LkWorker      *w,
         LkTransfer  *t,
         guint        wait_seconds,
         GError     **error)
{
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(JsonObject) content = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  const LkTransferFlow *flow = lk_transfer_flow_for (t->vertical);
  const char *data, *type;
  g_auto(LkWait) wait = { NULL };
  gboolean handled, ok;

  if (lk_transfer_state_is_final (t->state))
    return TRUE;

  if (t->outbox != NULL && (!lk_transfer_flush_outbox (w, t, error) || !lk_worker_save_transfer (w, t, error)))
    return FALSE;

  /* The user's turn: nothing to read until they act. */
  if (t->state == LK_TRANSFER_STATE_AWAITING_CODE || t->state == LK_TRANSFER_STATE_AWAITING_CONFIRMATION)
    return TRUE;

  lk_mailbox_client_read_async (w->mailbox, t->mailbox_url, t->claim, t->version, wait_seconds,
                                w->cancellable, lk_worker_done, &wait);
  reply = lk_worker_mailbox_finish (w, &wait, &local_error);

  if (reply == NULL)
    {
      gboolean expired = t->expires != NULL && g_date_time_compare (now, t->expires) >= 0;

      if (!g_error_matches (local_error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      /* Several receivers: the relay removes the mailbox once the last has
       * acknowledged, or when it expires; whoever received it, received it. */
      if (t->role == LK_ROLE_INITIATOR && t->one_way && (!expired || t->received > 0))
        {
          g_autofree char *detail = NULL;

          if (!expired)
            t->received = t->receivers;
          if (t->receivers > 1)
            detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u device received the key.",
                                                   "%u of %u devices received the key.", t->receivers),
                                      t->received, t->receivers);
          return lk_transfer_finish (w, t, LK_TRANSFER_STATE_DONE, detail, error);
        }
      if (expired)
        return lk_transfer_finish (w, t, LK_TRANSFER_STATE_EXPIRED, NULL, error);
      if (t->role == LK_ROLE_RECIPIENT)
        return lk_transfer_finish (w, t, LK_TRANSFER_STATE_CANCELLED, _("The sender cancelled the share."), error);
      /* A wallet that follows the draft alone ends a one-way share by
       * deleting the mailbox once it has read it (PROTOCOL.md §3.5); ours
       * answer ReceiverDone instead. The offer held all it needed. */
      if (t->bound && (t->vertical == LK_VERTICAL_HOME || (t->vertical == LK_VERTICAL_GENERIC && t->code == NULL)))
        return lk_transfer_finish (w, t, LK_TRANSFER_STATE_DONE,
                                   _("The receiver’s wallet took the invitation and removed it, as wallets "
                                     "following the TIGRESS draft do."), error);
      return lk_transfer_finish (w, t, LK_TRANSFER_STATE_FAILED,
                                 _("The invitation disappeared from the relay before it was completed."), error);
    }

  if (reply->not_modified)
    return TRUE;

  t->version = reply->version;
  if (reply->expiration != NULL)
    {
      g_clear_pointer (&t->expires, g_date_time_unref);
      t->expires = g_date_time_ref (reply->expiration);
    }
  if (t->role == LK_ROLE_INITIATOR && reply->recipient_bound && t->state == LK_TRANSFER_STATE_WAITING)
    {
      t->bound = TRUE;
      _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
    }
  /* Several receivers: each one's delete is counted by the relay. */
  if (t->role == LK_ROLE_INITIATOR && t->receivers > 1 && reply->max_recipients > 1)
    t->received = MIN (reply->recipients_done, t->receivers);

  /* Our own message, unread or read and not yet answered. */
  data = lk_json_get_string (reply->payload, "data", G_MAXSIZE, FALSE, 0, 0, NULL);
  if (data == NULL || g_strcmp0 (data, t->last_sent) == 0)
    return lk_worker_save_transfer (w, t, error);

  content = lk_channel_open (t->channel, reply->payload, NULL, &local_error);
  if (content == NULL)
    return lk_transfer_fail_hostile (w, t, local_error, error);

  type = lk_json_get_string (content, "sharingDataType", LK_TRANSFER_MAX_WORD, FALSE, 0, 0, NULL);
  ok = lk_transfer_handle_common (w, t, type, content, &handled, error);
  if (handled)
    return ok;
  return t->role == LK_ROLE_INITIATOR ? flow->sender_handle (w, t, type, content, error)
                                      : flow->receiver_handle (w, t, type, content, error);
}

static gboolean
do_provide_code (LkWorker      *w,
                 LkTransfer  *t,
                 const char  *code,
                 GError     **error)
{
  if (t->role != LK_ROLE_RECIPIENT || t->state != LK_TRANSFER_STATE_AWAITING_CODE)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                   _("This transfer is not waiting for an activation code"));
      return FALSE;
    }

  return lk_transfer_flow_for (t->vertical)->take_code (w, t, code, error);
}

static gboolean
do_cancel (LkWorker      *w,
           LkTransfer  *t,
           GError     **error)
{
  if (lk_transfer_state_is_final (t->state))
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                   _("This transfer is already over; revoke the key instead"));
      return FALSE;
    }

  if (t->role == LK_ROLE_INITIATOR)
    {
      g_autofree char *target = NULL;

      /* A token someone might still redeem or hold goes too. */
      lk_transfer_flow_for (t->vertical)->revoke_target (w, t, NULL, TRUE, &target, NULL);
      if (target != NULL)
        {
          g_autoptr(LkCredential) credential = lk_worker_load_credential (w, t->credential_id, NULL);
          g_auto(LkWait) wait = { NULL };

          if (credential != NULL)
            {
              lk_partner_client_revoke_async (w->partner, credential, target, w->cancellable, lk_worker_done, &wait);
              if (!lk_partner_client_revoke_finish (w->partner, lk_worker_wait (w, &wait), error))
                return FALSE;
            }
        }
      return lk_transfer_finish (w, t, LK_TRANSFER_STATE_CANCELLED, _("You cancelled the share."), error);
    }

  /* The receiver declines: tell the sender, if the mailbox is still there. */
  if (t->version >= 0)
    {
      g_autoptr(GError) local_error = NULL;

      g_clear_pointer (&t->outbox, json_object_unref);
      if (!lk_transfer_send_typed (w, t, "ReceiverCancel", NULL, &local_error))
        g_debug ("Could not tell the sender: %s", local_error->message);
    }
  return lk_transfer_finish (w, t, LK_TRANSFER_STATE_DECLINED, NULL, error);
}

/* One receiver of several (issue 13): the credential of the @receiver'th
 * redemption of the share's token, and what it shared on. */
static gboolean
do_revoke_receiver (LkWorker    *w,
                    LkTransfer  *t,
                    guint        receiver,
                    GError     **error)
{
  g_autoptr(LkCredential) credential = NULL;
  g_autofree char *target = NULL;
  g_auto(LkWait) wait = { NULL };

  if (t->role != LK_ROLE_INITIATOR || t->receivers < 2 || t->token == NULL)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                   _("This share went to one device; revoke the whole share instead"));
      return FALSE;
    }
  if (receiver < 1 || receiver > t->receivers)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                   _("This share has receivers 1 to %u"), t->receivers);
      return FALSE;
    }

  credential = lk_worker_load_credential (w, t->credential_id, error);
  if (credential == NULL)
    return FALSE;

  target = g_strdup_printf ("redemption:%u:%s", receiver, t->token);
  lk_partner_client_revoke_async (w->partner, credential, target, w->cancellable, lk_worker_done, &wait);
  if (!lk_partner_client_revoke_finish (w->partner, lk_worker_wait (w, &wait), error))
    return FALSE;

  t->revoked_receivers |= 1u << (receiver - 1);
  return lk_worker_save_transfer (w, t, error);
}

static gboolean
do_revoke (LkWorker      *w,
           LkTransfer  *t,
           GError     **error)
{
  g_autoptr(LkCredential) credential = NULL;
  g_autofree char *target = NULL;
  g_auto(LkWait) wait = { NULL };

  gboolean pending = !lk_transfer_state_is_final (t->state);

  /* A share is revocable from the moment something usable left this
   * device (a signed car key, an issued token), whatever the receiver has
   * acknowledged since. */
  if (t->role != LK_ROLE_INITIATOR || (!pending && t->state != LK_TRANSFER_STATE_DONE))
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                   _("Only a key you shared can be revoked"));
      return FALSE;
    }

  credential = lk_worker_load_credential (w, t->credential_id, error);
  if (credential == NULL)
    return FALSE;

  if (!lk_transfer_flow_for (t->vertical)->revoke_target (w, t, credential, pending, &target, error))
    return FALSE;
  if (target == NULL)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                   _("Nothing was handed over yet; cancel the share instead"));
      return FALSE;
    }

  lk_partner_client_revoke_async (w->partner, credential, target, w->cancellable, lk_worker_done, &wait);
  if (!lk_partner_client_revoke_finish (w->partner, lk_worker_wait (w, &wait), error))
    return FALSE;

  t->revoked = TRUE;
  return lk_worker_save_transfer (w, t, error);
}

/* The public asynchronous face */

typedef enum
{
  JOB_SHARE,
  JOB_RECEIVE,
  JOB_PREVIEW,
  JOB_STEP,
  JOB_CODE,
  JOB_CONFIRM,
  JOB_CANCEL,
  JOB_REVOKE,
  JOB_ENROLL,
  JOB_ACCESS,
  JOB_LIST,
  JOB_DELETE,
} JobKind;

typedef struct
{
  JobKind         kind;
  LkTransfer     *transfer;
  LkCredential   *credential;
  LkShareLink    *link;
  LkShareOptions  options;
  char           *code;
  char           *text;        /* partner URL, action, id */
  char           *title;
  LkVertical      vertical;
  LkStoreKind     store_kind;
  guint           wait_seconds;
  guint           receiver;    /* revoke: one of several receivers; 0: all */
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->transfer);
  g_clear_object (&job->credential);
  g_clear_object (&job->link);
  lk_share_options_clear (&job->options);
  lk_secure_clear_str (&job->code);
  g_free (job->text);
  g_free (job->title);
  g_free (job);
}

static void
run_job (GTask        *task,
         gpointer      source_object,
         gpointer      task_data,
         GCancellable *cancellable)
{
  LkTransferEngine *self = source_object;
  Job *job = task_data;
  g_autoptr(GError) error = NULL;
  LkWorker w = { NULL };
  gboolean ok = TRUE;
  gpointer result = NULL;
  GDestroyNotify destroy = g_object_unref;

  worker_init (&w, self, cancellable);

  switch (job->kind)
    {
    case JOB_SHARE:
      result = do_share (&w, job->credential, &job->options, &error);
      break;

    case JOB_RECEIVE:
      result = do_receive (&w, job->link, job->code, job->title, &error);
      break;

    case JOB_PREVIEW:
      {
        g_autofree char *url = lk_share_link_get_mailbox_url (job->link);
        g_auto(LkWait) wait = { NULL };

        lk_mailbox_client_preview_async (w.mailbox, url, w.cancellable, lk_worker_done, &wait);
        result = lk_worker_mailbox_finish (&w, &wait, &error);
        destroy = (GDestroyNotify) lk_mailbox_reply_free;
      }
      break;

    case JOB_STEP:
      ok = do_step (&w, job->transfer, job->wait_seconds, &error);
      break;

    case JOB_CODE:
      ok = do_provide_code (&w, job->transfer, job->code, &error);
      break;

    case JOB_CONFIRM:
      if (job->transfer->state != LK_TRANSFER_STATE_AWAITING_CONFIRMATION ||
          lk_transfer_flow_for (job->transfer->vertical)->confirm == NULL)
        {
          ok = FALSE;
          g_set_error (&error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                       _("This share is not waiting for your confirmation"));
        }
      else
        ok = lk_transfer_flow_for (job->transfer->vertical)->confirm (&w, job->transfer, &error);
      break;

    case JOB_CANCEL:
      ok = do_cancel (&w, job->transfer, &error);
      break;

    case JOB_REVOKE:
      ok = job->receiver > 0 ? do_revoke_receiver (&w, job->transfer, job->receiver, &error)
                             : do_revoke (&w, job->transfer, &error);
      break;

    case JOB_ENROLL:
      {
        g_auto(LkWait) wait = { NULL };

        lk_partner_client_enroll_async (w.partner, job->text, job->vertical, job->title, w.cancellable,
                                        lk_worker_done, &wait);
        result = lk_partner_client_enroll_finish (w.partner, lk_worker_wait (&w, &wait), &error);
        if (result != NULL && !lk_worker_save_credential (&w, result, &error))
          g_clear_object (&result);
      }
      break;

    case JOB_ACCESS:
      {
        g_auto(LkWait) wait = { NULL };

        lk_partner_client_access_async (w.partner, job->credential, job->text, w.cancellable, lk_worker_done, &wait);
        result = lk_partner_client_access_finish (w.partner, lk_worker_wait (&w, &wait), &error);
        destroy = (GDestroyNotify) lk_access_result_free;
      }
      break;

    case JOB_LIST:
      result = lk_worker_load_all (&w, job->store_kind, &error);
      destroy = (GDestroyNotify) g_ptr_array_unref;
      if (result != NULL && job->store_kind == LK_STORE_KIND_TRANSFER)
        {
          guint days;

          g_mutex_lock (&self->lock);
          days = self->retention_days;
          g_mutex_unlock (&self->lock);
          lk_transfer_retention_apply (&w, result, days);
        }
      break;

    case JOB_DELETE:
      {
        g_auto(LkWait) wait = { NULL };

        lk_store_delete_async (w.store, job->store_kind, job->text, w.cancellable, lk_worker_done, &wait);
        ok = lk_store_delete_finish (w.store, lk_worker_wait (&w, &wait), &error);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  lk_worker_clear (&w);

  if (job->transfer != NULL && job->kind != JOB_SHARE && job->kind != JOB_RECEIVE)
    {
      /* Operations on a transfer return it, changed. */
      if (ok)
        g_task_return_pointer (task, g_object_ref (job->transfer), g_object_unref);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (job->kind == JOB_DELETE)
    {
      if (ok)
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (result != NULL)
    g_task_return_pointer (task, result, destroy);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
start_job (LkTransferEngine    *self,
           Job                 *job,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, start_job);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, run_job);
}

static Job *
job_new (JobKind kind)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  return job;
}

/**
 * lk_transfer_engine_share_async:
 *
 * Creates a share of @credential: a mailbox on the relay holding the first
 * message. Finish with lk_transfer_engine_transfer_finish(); the transfer's
 * link and activation code are then for the user to pass on.
 */
void
lk_transfer_engine_share_async (LkTransferEngine     *self,
                                LkCredential         *credential,
                                const LkShareOptions *options,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data)
{
  Job *job = job_new (JOB_SHARE);

  job->credential = g_object_ref (credential);
  if (options != NULL)
    {
      job->options.activation_code = options->activation_code;
      job->options.entitlements = g_strdupv (options->entitlements);
      job->options.valid_from = options->valid_from ? g_date_time_ref (options->valid_from) : NULL;
      job->options.valid_until = options->valid_until ? g_date_time_ref (options->valid_until) : NULL;
      job->options.expires = options->expires ? g_date_time_ref (options->expires) : NULL;
      job->options.auto_confirm = options->auto_confirm;
      job->options.sender_name = g_strdup (options->sender_name);
      job->options.receivers = options->receivers;
    }
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_preview_async:
 *
 * Reads what the relay shows of an invitation, claiming nothing: safe to do
 * before the user accepts. Finish with lk_transfer_engine_preview_finish().
 */
void
lk_transfer_engine_preview_async (LkTransferEngine    *self,
                                  LkShareLink         *link,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  Job *job = job_new (JOB_PREVIEW);

  job->link = g_object_ref (link);
  start_job (self, job, cancellable, callback, user_data);
}

LkMailboxReply *
lk_transfer_engine_preview_finish (LkTransferEngine  *self,
                                   GAsyncResult      *result,
                                   GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lk_transfer_engine_receive_async:
 * @activation_code: (nullable): if the sender gave one
 *
 * Accepts an invitation: claims the mailbox for this device and goes as far
 * as it can without the sender.
 */
void
lk_transfer_engine_receive_async (LkTransferEngine    *self,
                                  LkShareLink         *link,
                                  const char          *activation_code,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  Job *job = job_new (JOB_RECEIVE);

  job->link = g_object_ref (link);
  job->code = g_strdup (activation_code);
  g_mutex_lock (&self->lock);
  job->title = g_strdup (self->receiver_name);   /* the name, for a receipt */
  g_mutex_unlock (&self->lock);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_step_async:
 * @wait_seconds: how long to wait for the other side (0: just look)
 *
 * Looks at the mailbox once and acts on what the other side wrote.
 */
void
lk_transfer_engine_step_async (LkTransferEngine    *self,
                               LkTransfer          *transfer,
                               guint                wait_seconds,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Job *job = job_new (JOB_STEP);

  job->transfer = g_object_ref (transfer);
  job->wait_seconds = wait_seconds;
  start_job (self, job, cancellable, callback, user_data);
}

void
lk_transfer_engine_provide_code_async (LkTransferEngine    *self,
                                       LkTransfer          *transfer,
                                       const char          *activation_code,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  Job *job = job_new (JOB_CODE);

  job->transfer = g_object_ref (transfer);
  job->code = g_strdup (activation_code);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_confirm_async:
 *
 * The car owner agrees to sign the friend's key.
 */
void
lk_transfer_engine_confirm_async (LkTransferEngine    *self,
                                  LkTransfer          *transfer,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  Job *job = job_new (JOB_CONFIRM);

  job->transfer = g_object_ref (transfer);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_cancel_async:
 *
 * The sender cancels a pending share (its mailbox is deleted, and a home
 * token revoked), or the receiver declines one.
 */
void
lk_transfer_engine_cancel_async (LkTransferEngine    *self,
                                 LkTransfer          *transfer,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_CANCEL);

  job->transfer = g_object_ref (transfer);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_revoke_async:
 *
 * Revokes, at the partner, the credential a completed share gave.
 */
void
lk_transfer_engine_revoke_async (LkTransferEngine    *self,
                                 LkTransfer          *transfer,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_REVOKE);

  job->transfer = g_object_ref (transfer);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_revoke_receiver_async:
 * @receiver: 1 for the first device to redeem the share, and so on
 *
 * Revokes, at the partner, what one receiver of a share for several got;
 * the others keep theirs. Finish with lk_transfer_engine_transfer_finish().
 */
void
lk_transfer_engine_revoke_receiver_async (LkTransferEngine    *self,
                                          LkTransfer          *transfer,
                                          guint                receiver,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  Job *job = job_new (JOB_REVOKE);

  job->transfer = g_object_ref (transfer);
  job->receiver = MAX (receiver, 1);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_transfer_finish:
 *
 * Finishes share, receive, step, provide-code, confirm, cancel and revoke.
 *
 * Returns: (transfer full): the transfer, in its new state
 */
LkTransfer *
lk_transfer_engine_transfer_finish (LkTransferEngine  *self,
                                    GAsyncResult      *result,
                                    GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lk_transfer_engine_enroll_async:
 *
 * Enrols a demo owner credential with a partner and keeps it in the keyring.
 */
void
lk_transfer_engine_enroll_async (LkTransferEngine    *self,
                                 const char          *partner_url,
                                 LkVertical           vertical,
                                 const char          *title,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_ENROLL);

  job->text = g_strdup (partner_url);
  job->vertical = vertical;
  job->title = g_strdup (title);
  start_job (self, job, cancellable, callback, user_data);
}

LkCredential *
lk_transfer_engine_enroll_finish (LkTransferEngine  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
lk_transfer_engine_access_async (LkTransferEngine    *self,
                                 LkCredential        *credential,
                                 const char          *action,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_ACCESS);

  job->credential = g_object_ref (credential);
  job->text = g_strdup (action);
  start_job (self, job, cancellable, callback, user_data);
}

LkAccessResult *
lk_transfer_engine_access_finish (LkTransferEngine  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lk_transfer_engine_list_async:
 *
 * Reads every credential (#LkCredential) or transfer (#LkTransfer) in the
 * keyring.
 */
void
lk_transfer_engine_list_async (LkTransferEngine    *self,
                               LkStoreKind          kind,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Job *job = job_new (JOB_LIST);

  job->store_kind = kind;
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_list_finish:
 *
 * Returns: (transfer full) (element-type GObject): the items
 */
GPtrArray *
lk_transfer_engine_list_finish (LkTransferEngine  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
lk_transfer_engine_delete_async (LkTransferEngine    *self,
                                 LkStoreKind          kind,
                                 const char          *id,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_DELETE);

  job->store_kind = kind;
  job->text = g_strdup (id);
  start_job (self, job, cancellable, callback, user_data);
}

gboolean
lk_transfer_engine_delete_finish (LkTransferEngine  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
