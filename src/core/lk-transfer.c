/* lk-transfer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A transfer is saved whole, as JSON, in the keyring after every step, so
 * that either side can quit and resume: the share secret, the transcript
 * position, and whatever the next step needs.
 */

#define G_LOG_DOMAIN "lk-transfer"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-credential.h"
#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-json.h"
#include "lk-time.h"
#include "lk-transfer-private.h"

#define TRANSFER_JSON_VERSION 1
#define MAX_TRANSFER_JSON     (256 * 1024)
/* The longest string member read back (the last message sent is one). */
#define MAX_MEMBER            8192

G_DEFINE_FINAL_TYPE (LkTransfer, lk_transfer, G_TYPE_OBJECT)

static void
lk_transfer_finalize (GObject *object)
{
  LkTransfer *self = (LkTransfer *) object;

  g_free (self->id);
  g_free (self->state_detail);
  g_clear_pointer (&self->created, g_date_time_unref);
  g_clear_pointer (&self->expires, g_date_time_unref);
  g_free (self->mailbox_url);
  /* The claim is the bearer of our access to the mailbox. */
  lk_secure_clear_str (&self->claim);
  g_clear_pointer (&self->secret, g_bytes_unref);
  g_clear_object (&self->channel);
  g_free (self->last_sent);
  g_free (self->title);
  g_free (self->description);
  g_free (self->credential_id);
  g_strfreev (self->entitlements);
  g_clear_pointer (&self->valid_from, g_date_time_unref);
  g_clear_pointer (&self->valid_until, g_date_time_unref);
  g_free (self->shared_by);
  g_free (self->receiver_name);
  lk_secure_clear_str (&self->code);
  lk_secure_clear_str (&self->token);
  g_free (self->share_id);
  g_free (self->friend_key);
  /* A received offer holds the token or access token it brought. Nothing
   * else holds it once its transfer goes. */
  if (self->offer != NULL)
    lk_json_wipe_object (self->offer);
  g_clear_pointer (&self->offer, json_object_unref);
  lk_secure_clear_str (&self->private_key);
  g_clear_pointer (&self->outbox, json_object_unref);
  g_free (self->outbox_request_id);

  G_OBJECT_CLASS (lk_transfer_parent_class)->finalize (object);
}

static void
lk_transfer_class_init (LkTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_transfer_finalize;
}

static void
lk_transfer_init (LkTransfer *self)
{
  self->version = -1;
  self->outbox_if_match = -1;
  self->attempts_left = LK_ACTIVATION_CODE_ATTEMPTS;
  self->receivers = 1;
}

LkTransfer *
_lk_transfer_new (LkRole     role,
                  LkVertical vertical)
{
  LkTransfer *self = g_object_new (LK_TYPE_TRANSFER, NULL);

  self->id = lk_uuid_new_random ();
  self->role = role;
  self->vertical = vertical;
  self->state = LK_TRANSFER_STATE_WAITING;
  self->created = g_date_time_new_now_utc ();
  self->claim = lk_uuid_new_random ();

  return self;
}

void
_lk_transfer_set_state (LkTransfer      *self,
                        LkTransferState  state,
                        const char      *detail)
{
  self->state = state;
  g_free (self->state_detail);
  self->state_detail = g_strdup (detail);
}

/* Serialisation */

static void
set_string (JsonObject *object,
            const char *member,
            const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, member, value);
}

static void
set_time (JsonObject *object,
          const char *member,
          GDateTime  *value)
{
  g_autofree char *text = NULL;

  if (value == NULL)
    return;
  text = g_date_time_format_iso8601 (value);
  json_object_set_string_member (object, member, text);
}

/**
 * lk_transfer_to_json:
 *
 * Returns: everything needed to resume, secrets included: for the keyring
 *   only. Free it with lk_secure_str_free().
 */
char *
lk_transfer_to_json (LkTransfer *self)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(LkSecureString) secret = NULL;

  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);

  json_object_set_int_member (object, "version", TRANSFER_JSON_VERSION);
  json_object_set_string_member (object, "id", self->id);
  json_object_set_string_member (object, "role", lk_role_to_string (self->role));
  json_object_set_string_member (object, "vertical", lk_vertical_to_string (self->vertical));
  json_object_set_string_member (object, "state", lk_transfer_state_to_string (self->state));
  set_string (object, "stateDetail", self->state_detail);
  set_time (object, "created", self->created);
  set_time (object, "expires", self->expires);

  set_string (object, "mailboxUrl", self->mailbox_url);
  json_object_set_string_member (object, "claim", self->claim);
  if (self->secret != NULL)
    {
      secret = lk_base64url_encode (g_bytes_get_data (self->secret, NULL), g_bytes_get_size (self->secret));
      json_object_set_string_member (object, "secret", secret);
    }
  if (self->channel != NULL)
    json_object_set_object_member (object, "channel", lk_channel_save_state (self->channel));
  json_object_set_int_member (object, "mailboxVersion", self->version);
  set_string (object, "lastSent", self->last_sent);
  json_object_set_boolean_member (object, "bound", self->bound);

  set_string (object, "title", self->title);
  set_string (object, "description", self->description);
  set_string (object, "credentialId", self->credential_id);
  if (self->entitlements != NULL)
    {
      JsonArray *array = json_array_new ();

      for (guint i = 0; self->entitlements[i] != NULL; i++)
        json_array_add_string_element (array, self->entitlements[i]);
      json_object_set_array_member (object, "entitlements", array);
    }
  set_time (object, "validFrom", self->valid_from);
  set_time (object, "validUntil", self->valid_until);
  set_string (object, "sharedBy", self->shared_by);
  set_string (object, "receiverName", self->receiver_name);

  set_string (object, "activationCode", self->code);
  json_object_set_int_member (object, "attemptsLeft", self->attempts_left);
  set_string (object, "token", self->token);
  set_string (object, "shareId", self->share_id);
  set_string (object, "friendKey", self->friend_key);
  json_object_set_boolean_member (object, "autoConfirm", self->auto_confirm);
  json_object_set_boolean_member (object, "keySigned", self->key_signed);
  json_object_set_boolean_member (object, "revoked", self->revoked);
  if (self->one_way)
    json_object_set_boolean_member (object, "oneWay", TRUE);
  if (self->receivers > 1)
    {
      json_object_set_int_member (object, "receivers", self->receivers);
      json_object_set_int_member (object, "received", self->received);
      json_object_set_int_member (object, "revokedReceivers", self->revoked_receivers);
    }

  if (self->offer != NULL)
    json_object_set_object_member (object, "offer", json_object_ref (self->offer));
  set_string (object, "privateKey", self->private_key);
  if (self->outbox != NULL)
    {
      json_object_set_object_member (object, "outbox", json_object_ref (self->outbox));
      set_string (object, "outboxRequestId", self->outbox_request_id);
      json_object_set_int_member (object, "outboxIfMatch", self->outbox_if_match);
    }

  root = json_node_init_object (json_node_alloc (), object);
  return lk_json_to_string (root);
}

#define TRANSFER_ERROR LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID

static gboolean
get_string (JsonObject  *object,
            const char  *member,
            gboolean     required,
            char       **out,
            GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *value = lk_json_get_string (object, member, MAX_MEMBER, required, TRANSFER_ERROR, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_free (*out);
  *out = g_strdup (value);
  return TRUE;
}

static gboolean
get_time (JsonObject  *object,
          const char  *member,
          GDateTime  **out,
          GError     **error)
{
  g_autofree char *text = NULL;

  if (!get_string (object, member, FALSE, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;

  *out = g_date_time_new_from_iso8601 (text, NULL);
  if (*out == NULL)
    {
      g_set_error (error, TRANSFER_ERROR, "“%s” is not a time", member);
      return FALSE;
    }
  return TRUE;
}

static gboolean
get_bool (JsonObject *object,
          const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN && json_node_get_boolean (node);
}

/**
 * lk_transfer_new_from_json:
 *
 * Returns: (transfer full) (nullable): the transfer saved by
 *   lk_transfer_to_json(), or %NULL if it is damaged
 */
LkTransfer *
lk_transfer_new_from_json (const char  *json,
                           gsize        len,
                           GError     **error)
{
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(LkTransfer) self = NULL;
  g_autofree char *role = NULL;
  g_autofree char *vertical = NULL;
  g_autofree char *state = NULL;
  g_autoptr(LkSecureString) secret = NULL;
  JsonObject *channel, *offer, *outbox;
  gint64 version, number;

  object = lk_json_parse_object (json, len, MAX_TRANSFER_JSON, TRANSFER_ERROR, error);
  if (object == NULL)
    return NULL;

  if (!lk_json_get_int (object, "version", TRANSFER_JSON_VERSION, TRANSFER_JSON_VERSION, &version,
                        TRANSFER_ERROR, error))
    return NULL;

  self = g_object_new (LK_TYPE_TRANSFER, NULL);

  if (!get_string (object, "id", TRUE, &self->id, error) ||
      !get_string (object, "role", TRUE, &role, error) ||
      !get_string (object, "vertical", TRUE, &vertical, error) ||
      !get_string (object, "state", TRUE, &state, error) ||
      !get_string (object, "stateDetail", FALSE, &self->state_detail, error) ||
      !get_time (object, "created", &self->created, error) ||
      !get_time (object, "expires", &self->expires, error) ||
      !get_string (object, "mailboxUrl", FALSE, &self->mailbox_url, error) ||
      !get_string (object, "claim", TRUE, &self->claim, error) ||
      !get_string (object, "secret", FALSE, &secret, error) ||
      !get_string (object, "lastSent", FALSE, &self->last_sent, error) ||
      !get_string (object, "title", FALSE, &self->title, error) ||
      !get_string (object, "description", FALSE, &self->description, error) ||
      !get_string (object, "credentialId", FALSE, &self->credential_id, error) ||
      !get_time (object, "validFrom", &self->valid_from, error) ||
      !get_time (object, "validUntil", &self->valid_until, error) ||
      !get_string (object, "sharedBy", FALSE, &self->shared_by, error) ||
      !get_string (object, "receiverName", FALSE, &self->receiver_name, error) ||
      !get_string (object, "activationCode", FALSE, &self->code, error) ||
      !get_string (object, "token", FALSE, &self->token, error) ||
      !get_string (object, "shareId", FALSE, &self->share_id, error) ||
      !get_string (object, "friendKey", FALSE, &self->friend_key, error) ||
      !get_string (object, "privateKey", FALSE, &self->private_key, error) ||
      !get_string (object, "outboxRequestId", FALSE, &self->outbox_request_id, error))
    return NULL;

  if (!g_uuid_string_is_valid (self->id) || !g_uuid_string_is_valid (self->claim) ||
      !lk_role_from_string (role, &self->role) ||
      !lk_vertical_from_string (vertical, &self->vertical) ||
      !lk_transfer_state_from_string (state, &self->state))
    {
      g_set_error (error, TRANSFER_ERROR, "The saved transfer is damaged");
      return NULL;
    }

  if (lk_json_get_int (object, "mailboxVersion", -1, G_MAXINT64, &number, 0, 0, NULL))
    self->version = number;
  if (lk_json_get_int (object, "attemptsLeft", 0, LK_ACTIVATION_CODE_ATTEMPTS, &number, 0, 0, NULL))
    self->attempts_left = number;
  if (lk_json_get_int (object, "outboxIfMatch", -1, G_MAXINT64, &number, 0, 0, NULL))
    self->outbox_if_match = number;
  self->bound = get_bool (object, "bound");
  self->auto_confirm = get_bool (object, "autoConfirm");
  self->key_signed = get_bool (object, "keySigned");
  self->revoked = get_bool (object, "revoked");
  self->one_way = get_bool (object, "oneWay");
  if (lk_json_get_int (object, "receivers", 1, LK_TRANSFER_MAX_RECEIVERS, &number, 0, 0, NULL))
    self->receivers = number;
  if (lk_json_get_int (object, "received", 0, self->receivers, &number, 0, 0, NULL))
    self->received = number;
  if (lk_json_get_int (object, "revokedReceivers", 0, (1 << LK_TRANSFER_MAX_RECEIVERS) - 1, &number, 0, 0, NULL))
    self->revoked_receivers = number;

  if (secret != NULL)
    {
      gsize raw_len;
      guint8 *raw = lk_base64_decode_strict (secret, strlen (secret), &raw_len);

      if (raw == NULL || lk_aead_type_for_key (raw_len) == NULL)
        {
          g_free (raw);
          g_set_error (error, TRANSFER_ERROR, "The saved transfer’s secret is damaged");
          return NULL;
        }
      self->secret = lk_secure_bytes_take (raw, raw_len);
    }

  channel = lk_json_get_object (object, "channel", FALSE, 0, 0, NULL);
  if (channel != NULL && self->secret != NULL && self->mailbox_url != NULL)
    {
      const char *mailbox_id = strrchr (self->mailbox_url, '/');

      self->channel = lk_channel_new_from_state (self->secret, mailbox_id ? mailbox_id + 1 : "",
                                                 self->role, channel, error);
      if (self->channel == NULL)
        return NULL;
    }

  self->entitlements = lk_json_get_strv (object, "entitlements", FALSE, LK_CREDENTIAL_MAX_ENTITLEMENTS,
                                         LK_CREDENTIAL_MAX_ENTITLEMENT, LK_JSON_STRV_LENIENT, 0, 0, NULL);

  offer = lk_json_get_object (object, "offer", FALSE, 0, 0, NULL);
  if (offer != NULL)
    self->offer = json_object_ref (offer);
  outbox = lk_json_get_object (object, "outbox", FALSE, 0, 0, NULL);
  if (outbox != NULL)
    self->outbox = json_object_ref (outbox);

  return g_steal_pointer (&self);
}

/* Accessors */

const char *
lk_transfer_get_id (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->id;
}

LkRole
lk_transfer_get_role (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), LK_ROLE_INITIATOR);
  return self->role;
}

LkVertical
lk_transfer_get_vertical (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), LK_VERTICAL_GENERIC);
  return self->vertical;
}

LkTransferState
lk_transfer_get_state (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), LK_TRANSFER_STATE_FAILED);
  return self->state;
}

/**
 * lk_transfer_get_state_detail:
 *
 * Returns: (nullable): why the transfer failed or was cancelled, for people
 */
const char *
lk_transfer_get_state_detail (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->state_detail;
}

const char *
lk_transfer_get_title (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->title;
}

const char *
lk_transfer_get_description (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->description;
}

/**
 * lk_transfer_get_expires:
 *
 * Returns: (nullable): when the invitation expires
 */
GDateTime *
lk_transfer_get_expires (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->expires;
}

GDateTime *
lk_transfer_get_created (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->created;
}

/**
 * lk_transfer_get_credential_id:
 *
 * Returns: (nullable): the sender's shared credential, or the one the
 *   receiver stored
 */
const char *
lk_transfer_get_credential_id (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->credential_id;
}

/**
 * lk_transfer_get_activation_code:
 *
 * Returns: (nullable): the sender's activation code, to show to the sender
 *   only; it is never part of the link
 */
const char *
lk_transfer_get_activation_code (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->code;
}

guint
lk_transfer_get_attempts_left (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), 0);
  return self->attempts_left;
}

gboolean
lk_transfer_get_revoked (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), FALSE);
  return self->revoked;
}

/**
 * lk_transfer_get_receiver_name:
 *
 * Returns: (nullable): a car share: the name the receiver gave, checked
 *   text only; a receipt: the name this device sent
 */
const char *
lk_transfer_get_receiver_name (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->receiver_name;
}

/**
 * lk_transfer_get_revocable:
 *
 * Returns: whether the sender can revoke what this share handed over:
 *   from the moment the owner signed the friend's car key, or a token or a
 *   credential of the share's own was issued, until it is revoked, whatever
 *   the receiver has acknowledged
 */
gboolean
lk_transfer_get_revocable (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), FALSE);

  if (self->role != LK_ROLE_INITIATOR || self->revoked)
    return FALSE;
  if (self->state == LK_TRANSFER_STATE_DONE)
    return TRUE;
  if (lk_transfer_state_is_final (self->state))
    return FALSE;

  switch (self->vertical)
    {
    case LK_VERTICAL_CAR:
      return self->key_signed && self->friend_key != NULL;
    case LK_VERTICAL_HOME:
      return self->token != NULL;
    case LK_VERTICAL_GENERIC:
      /* Several receivers: a token they redeem, as for a home share. */
      return self->share_id != NULL || (self->receivers > 1 && self->token != NULL);
    default:
      return FALSE;
    }
}

/**
 * lk_transfer_get_receivers:
 *
 * Returns: how many devices may receive this share: 1, or up to
 *   %LK_TRANSFER_MAX_RECEIVERS for a home or generic share whose relay
 *   agreed (issue 13)
 */
guint
lk_transfer_get_receivers (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), 1);
  return MAX (self->receivers, 1);
}

/**
 * lk_transfer_get_received:
 *
 * Returns: sender, several receivers: how many have received the share so
 *   far, as the relay counts them; otherwise 1 once done, or 0
 */
guint
lk_transfer_get_received (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), 0);
  if (self->receivers > 1)
    return self->received;
  return self->state == LK_TRANSFER_STATE_DONE ? 1 : 0;
}

/**
 * lk_transfer_get_receiver_revoked:
 * @receiver: 1 for the first to redeem, up to lk_transfer_get_receivers()
 *
 * Returns: whether the sender revoked that receiver alone (or the whole share)
 */
gboolean
lk_transfer_get_receiver_revoked (LkTransfer *self,
                                  guint       receiver)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), FALSE);
  if (self->revoked)
    return TRUE;
  return receiver >= 1 && receiver <= LK_TRANSFER_MAX_RECEIVERS && (self->revoked_receivers & (1u << (receiver - 1)));
}

/**
 * lk_transfer_get_valid_from:
 *
 * Returns: (nullable): from when the shared key works
 */
GDateTime *
lk_transfer_get_valid_from (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->valid_from;
}

/**
 * lk_transfer_get_entitlements:
 *
 * Returns: (nullable): what the shared key may do (a car: open, start, drive)
 */
const char * const *
lk_transfer_get_entitlements (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return (const char * const *) self->entitlements;
}

/**
 * lk_transfer_get_code_required:
 *
 * Returns: whether the sender set an activation code
 */
gboolean
lk_transfer_get_code_required (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), FALSE);
  return self->code != NULL;
}

/* The short form both apps show of a car share's new key: the first 16
 * characters of its SHA-256, base64url, in groups of four. Short enough
 * to read out, long enough that a key made to match is out of reach. */
static char *
short_fingerprint (LkKeyPair *key)
{
  g_autofree char *full = lk_key_pair_get_fingerprint (key);
  GString *shown = g_string_new (NULL);

  for (guint i = 0; i < 16 && full[i] != '\0'; i++)
    {
      if (i > 0 && i % 4 == 0)
        g_string_append_c (shown, ' ');
      g_string_append_c (shown, full[i]);
    }
  return g_string_free (shown, FALSE);
}

/**
 * lk_transfer_dup_friend_fingerprint:
 *
 * Returns: (nullable): for a car share, a short fingerprint of the
 *   receiver's new key (the first 16 characters of its SHA-256, base64url,
 *   in groups of four), for the owner to see before signing it
 */
char *
lk_transfer_dup_friend_fingerprint (LkTransfer *self)
{
  g_autoptr(GBytes) der = NULL;
  g_autoptr(LkKeyPair) key = NULL;

  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);

  if (self->friend_key == NULL)
    return NULL;
  der = lk_base64_decode_bytes (self->friend_key);
  key = der ? lk_key_pair_new_from_public (der, NULL) : NULL;
  if (key == NULL)
    return NULL;
  return short_fingerprint (key);
}

/**
 * lk_transfer_dup_own_fingerprint:
 *
 * Returns: (nullable): for a car key being received, the same short
 *   fingerprint of this device's new key that the owner's app shows with
 *   the request (lk_transfer_dup_friend_fingerprint()), so that the two can
 *   compare; %NULL before the key is made and once the transfer no longer
 *   holds it
 */
char *
lk_transfer_dup_own_fingerprint (LkTransfer *self)
{
  g_autoptr(GBytes) der = NULL;
  g_autoptr(LkKeyPair) key = NULL;
  guint8 *raw;
  gsize len;

  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);

  if (self->role != LK_ROLE_RECIPIENT || self->private_key == NULL)
    return NULL;
  raw = lk_base64_decode_strict (self->private_key, strlen (self->private_key), &len);
  if (raw == NULL)
    return NULL;
  der = lk_secure_bytes_take (raw, len);
  key = lk_key_pair_new_from_private (der, NULL);
  if (key == NULL)
    return NULL;
  return short_fingerprint (key);
}

/**
 * lk_transfer_get_valid_until:
 *
 * Returns: (nullable): until when the shared key works
 */
GDateTime *
lk_transfer_get_valid_until (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);
  return self->valid_until;
}

/**
 * lk_transfer_dup_provider_host:
 *
 * Returns: (nullable): for a receipt, the host of the key's provider (the
 *   partner) that the sender's offer names, for the user to see before an
 *   activation code goes there; %NULL if the offer names none
 */
char *
lk_transfer_dup_provider_host (LkTransfer *self)
{
  JsonObject *description;
  const char *url;
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);

  if (self->offer == NULL)
    return NULL;
  url = lk_json_get_string (self->offer, "partnerUrl", LK_CREDENTIAL_MAX_URL, FALSE, 0, 0, NULL);
  description = lk_json_get_object (self->offer, "credential", FALSE, 0, 0, NULL);
  if (url == NULL && description != NULL)
    url = lk_json_get_string (description, "partnerUrl", LK_CREDENTIAL_MAX_URL, FALSE, 0, 0, NULL);
  if (url == NULL || (uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL)) == NULL || g_uri_get_host (uri) == NULL)
    return NULL;
  return g_strdup (g_uri_get_host (uri));
}

/**
 * lk_transfer_get_link:
 *
 * Returns: (transfer full) (nullable): the share link, for the sender to pass
 *   on; it carries the secret
 */
LkShareLink *
lk_transfer_get_link (LkTransfer *self)
{
  g_return_val_if_fail (LK_IS_TRANSFER (self), NULL);

  if (self->mailbox_url == NULL || self->secret == NULL)
    return NULL;
  return lk_share_link_new_for_mailbox (self->mailbox_url, self->vertical, self->secret, NULL);
}
