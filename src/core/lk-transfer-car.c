/* lk-transfer-car.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A car key (`v=c`, PROTOCOL.md §7.1, CCC Digital Key sharing): the
 * receiver makes a key of its own for the car, and the owner's device signs
 * it, with what it may do and when; the car checks the owner's signature.
 *
 *   sender   → KeyCreationRequest {credential, ownerPublicKey, codeRequired, sharedBy?}
 *   receiver → KeySigningRequest {publicKey, keyAttestation, activationCode?, receiverName?}
 *   sender   → KeyImportRequest {ownerSignature, entitlements, validFrom?, validUntil, accessPointId}
 *              (after the owner confirms; PinReEntryRequest after a wrong code)
 *   receiver → ReceiverDone
 */

#define G_LOG_DOMAIN "lk-transfer-car"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-json.h"
#include "lk-signing.h"
#include "lk-text.h"
#include "lk-time.h"
#include "lk-transfer-engine.h"
#include "lk-transfer-flow.h"

/* Base64 of a P-256 key, a proof of possession or a signature. */
#define MAX_KEY_TEXT 1024

static const char *
mailbox_id_of (LkTransfer *t)
{
  const char *slash = strrchr (t->mailbox_url, '/');

  return slash ? slash + 1 : t->mailbox_url;
}

/* The receiver's new key, kept in the transfer (in the keyring) until the
 * owner has signed it. */
static LkKeyPair *
own_key (LkTransfer  *t,
         GError     **error)
{
  g_autoptr(GBytes) der = NULL;
  gsize len;
  guint8 *raw = lk_base64_decode_strict (t->private_key, strlen (t->private_key), &len);

  der = lk_secure_bytes_take (raw, len);
  return lk_key_pair_new_from_private (der, error);
}

/* Sender */

static JsonObject *
build_offer (LkWorker      *w,
             LkTransfer    *t,
             LkCredential  *credential,
             GError       **error)
{
  LkKeyPair *key = lk_credential_get_key_pair (credential);
  g_autofree char *owner_key = key != NULL ? lk_base64_encode_bytes (lk_key_pair_get_public (key)) : NULL;
  JsonObject *content;

  if (owner_key == NULL || t->valid_until == NULL)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED,
                   owner_key == NULL ? _("This car key has no key pair to sign with")
                                     : _("A shared car key needs an end to its validity"));
      return NULL;
    }

  content = lk_transfer_typed_content ("KeyCreationRequest");
  json_object_set_object_member (content, "credential",
                                 lk_credential_describe (credential, (const char * const *) t->entitlements,
                                                         t->valid_from, t->valid_until));
  json_object_set_string_member (content, "ownerPublicKey", owner_key);
  json_object_set_boolean_member (content, "codeRequired", t->code != NULL);
  return content;
}

/* KeySigningRequest: the friend's key must be a P-256 key it can sign
 * with, for this share. */
static gboolean
take_signing_request (LkWorker    *w,
                      LkTransfer  *t,
                      JsonObject  *content,
                      GError     **error)
{
  const char *public_key = lk_json_get_string (content, "publicKey", MAX_KEY_TEXT, TRUE, LK_MESSAGE_ERROR,
                                               LK_MESSAGE_ERROR_MALFORMED, error);
  const char *proof = lk_json_get_string (content, "keyAttestation", MAX_KEY_TEXT, TRUE, LK_MESSAGE_ERROR,
                                          LK_MESSAGE_ERROR_MALFORMED, error);
  g_autoptr(LkKeyPair) key = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autoptr(GBytes) statement = NULL;
  g_autoptr(GBytes) signature = NULL;

  if (public_key == NULL || proof == NULL)
    return FALSE;

  der = lk_base64_decode_bytes (public_key);
  key = der ? lk_key_pair_new_from_public (der, error) : NULL;
  signature = lk_base64_decode_bytes (proof);
  statement = lk_signing_key_possession (mailbox_id_of (t), public_key);
  if (key == NULL || signature == NULL || !lk_key_pair_verify (key, statement, signature, NULL))
    {
      g_autoptr(GError) cause = g_error_new (LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_BAD_SIGNATURE,
                                             _("the friend’s key is not proven"));
      g_clear_error (error);
      return lk_transfer_fail_hostile (w, t, cause, error);
    }

  t->friend_key = g_strdup (public_key);
  /* Who is asking, if they said: shown to the owner before signing. */
  {
    const char *asking = lk_json_get_string (content, "receiverName", LK_TEXT_MAX_NAME * 4, FALSE, 0, 0, NULL);

    g_free (t->receiver_name);
    t->receiver_name = lk_text_clean_name (asking);
  }
  return lk_transfer_check_code (w, t, content, error);
}

static gboolean
sender_handle (LkWorker    *w,
               LkTransfer  *t,
               const char  *type,
               JsonObject  *content,
               GError     **error)
{
  if (g_strcmp0 (type, "KeySigningRequest") == 0 && t->friend_key == NULL)
    return take_signing_request (w, t, content, error);

  if (g_strcmp0 (type, "PinReEntryValue") == 0 && t->friend_key != NULL)
    return lk_transfer_check_code (w, t, content, error);

  return lk_transfer_unexpected (w, t, type, error);
}

/* KeyImportRequest: the owner's signature over the friend's key, with what
 * it may do and when. */
static gboolean
confirm (LkWorker    *w,
         LkTransfer  *t,
         GError     **error)
{
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(JsonObject) content = lk_transfer_typed_content ("KeyImportRequest");
  g_autoptr(GBytes) statement = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autofree char *from = lk_time_format (t->valid_from);
  g_autofree char *until = lk_time_format (t->valid_until);
  g_autofree char *signature_text = NULL;
  LkKeyPair *key;

  credential = lk_worker_load_credential (w, t->credential_id, error);
  if (credential == NULL)
    return FALSE;
  key = lk_credential_get_key_pair (credential);
  if (key == NULL || !lk_key_pair_has_private (key))
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED,
                   _("This device does not hold the car key’s private key"));
      return FALSE;
    }

  statement = lk_signing_friend_key (lk_credential_get_access_point_id (credential), t->friend_key,
                                     (const char * const *) t->entitlements, from, until);
  signature = lk_key_pair_sign (key, statement, error);
  if (signature == NULL)
    return FALSE;
  signature_text = lk_base64_encode_bytes (signature);

  json_object_set_string_member (content, "ownerSignature", signature_text);
  json_object_set_array_member (content, "entitlements",
                                lk_json_array_new_strv ((const char * const *) t->entitlements));
  if (from != NULL)
    json_object_set_string_member (content, "validFrom", from);
  json_object_set_string_member (content, "validUntil", until);
  json_object_set_string_member (content, "accessPointId", lk_credential_get_access_point_id (credential));

  /* From here the friend's key can open the car: the owner can revoke it
   * whatever the receiver has acknowledged. */
  t->key_signed = TRUE;
  return lk_transfer_send_and_wait (w, t, LK_FORMAT_CAR, content, error);
}

/* The code was right (or none was asked): the owner confirms before the
 * key is signed, unless the share said not to wait. */
static gboolean
code_accepted (LkWorker    *w,
               LkTransfer  *t,
               GError     **error)
{
  _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CONFIRMATION, NULL);
  if (!lk_worker_save_transfer (w, t, error))
    return FALSE;
  return t->auto_confirm ? confirm (w, t, error) : TRUE;
}

/* A friend key the owner signed is revoked by its fingerprint, from the
 * moment it was signed; nothing of a share not yet signed can be used. */
static gboolean
revoke_target (LkWorker      *w,
               LkTransfer    *t,
               LkCredential  *credential,
               gboolean       pending,
               char         **target,
               GError       **error)
{
  g_autoptr(GBytes) der = NULL;
  g_autoptr(LkKeyPair) friend_key = NULL;
  g_autofree char *fingerprint = NULL;

  if (t->friend_key == NULL || !(t->key_signed || t->state == LK_TRANSFER_STATE_DONE))
    return TRUE;

  der = lk_base64_decode_bytes (t->friend_key);
  friend_key = der ? lk_key_pair_new_from_public (der, error) : NULL;
  if (friend_key == NULL)
    return FALSE;
  fingerprint = lk_key_pair_get_fingerprint (friend_key);
  *target = g_strconcat ("key:", fingerprint, NULL);
  return TRUE;
}

/* Receiver */

static gboolean
send_signing_request (LkWorker    *w,
                      LkTransfer  *t,
                      const char  *code,
                      GError     **error)
{
  g_autoptr(JsonObject) content = lk_transfer_typed_content ("KeySigningRequest");
  g_autoptr(LkKeyPair) key = NULL;
  g_autoptr(GBytes) statement = NULL;
  g_autoptr(GBytes) proof = NULL;
  g_autofree char *public_key = NULL;
  g_autofree char *proof_text = NULL;

  key = own_key (t, error);
  if (key == NULL)
    return FALSE;

  public_key = lk_base64_encode_bytes (lk_key_pair_get_public (key));
  statement = lk_signing_key_possession (mailbox_id_of (t), public_key);
  proof = lk_key_pair_sign (key, statement, error);
  if (proof == NULL)
    return FALSE;
  proof_text = lk_base64_encode_bytes (proof);

  json_object_set_string_member (content, "publicKey", public_key);
  json_object_set_string_member (content, "keyAttestation", proof_text);
  if (code != NULL)
    json_object_set_string_member (content, "activationCode", code);
  if (t->receiver_name != NULL)
    json_object_set_string_member (content, "receiverName", t->receiver_name);

  return lk_transfer_send_and_wait (w, t, LK_FORMAT_CAR, content, error);
}

static gboolean
accept_offer (LkWorker    *w,
              LkTransfer  *t,
              const char  *code,
              GError     **error)
{
  if (g_strcmp0 (lk_json_get_string (t->offer, "sharingDataType", LK_TRANSFER_MAX_WORD, FALSE, 0, 0, NULL),
                 "KeyCreationRequest") != 0 ||
      lk_json_get_object (t->offer, "credential", TRUE, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error) == NULL ||
      lk_json_get_string (t->offer, "ownerPublicKey", MAX_KEY_TEXT, TRUE, LK_MESSAGE_ERROR,
                          LK_MESSAGE_ERROR_MALFORMED, error) == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                     _("The car key offer does not start with a KeyCreationRequest"));
      return FALSE;
    }

  /* Our own key for the car, made now, kept (in the keyring) until the owner
   * has signed it. */
  if (t->private_key == NULL)
    {
      g_autoptr(LkKeyPair) key = lk_key_pair_generate (error);
      g_autoptr(GBytes) der = NULL;

      if (key == NULL || (der = lk_key_pair_export_private (key, error)) == NULL)
        return FALSE;
      t->private_key = g_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
    }

  if (lk_transfer_offer_wants_code (t) && code == NULL)
    return lk_transfer_wait_for_code (w, t, error);

  return send_signing_request (w, t, code, error);
}

/* The code goes to the owner's device, which checks it: with the signing
 * request if that was held back for it, else on its own. */
static gboolean
take_code (LkWorker    *w,
           LkTransfer  *t,
           const char  *code,
           GError     **error)
{
  if (t->version >= 0 && t->last_sent == NULL)
    return send_signing_request (w, t, code, error);
  return lk_transfer_send_code (w, t, code, error);
}

/* KeyImportRequest: the owner signed our key, with what it may do and
 * when; check it against the key the owner offered with, then keep it. */
static gboolean
take_import_request (LkWorker    *w,
                     LkTransfer  *t,
                     JsonObject  *content,
                     GError     **error)
{
  JsonObject *description = lk_json_get_object (t->offer, "credential", TRUE, LK_MESSAGE_ERROR,
                                                LK_MESSAGE_ERROR_MALFORMED, error);
  const char *owner_key = lk_json_get_string (t->offer, "ownerPublicKey", MAX_KEY_TEXT, TRUE, LK_MESSAGE_ERROR,
                                              LK_MESSAGE_ERROR_MALFORMED, error);
  const char *signature = lk_json_get_string (content, "ownerSignature", MAX_KEY_TEXT, TRUE, LK_MESSAGE_ERROR,
                                              LK_MESSAGE_ERROR_MALFORMED, error);
  const char *access_point = lk_json_get_string (content, "accessPointId", LK_CREDENTIAL_MAX_ACCESS_POINT,
                                                 TRUE, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error);
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(LkKeyPair) key = NULL;
  g_autoptr(LkKeyPair) owner = NULL;
  g_autoptr(GBytes) owner_der = NULL;
  g_autoptr(GBytes) signature_der = NULL;
  g_autoptr(GBytes) statement = NULL;
  g_autoptr(GDateTime) from = NULL;
  g_autoptr(GDateTime) until = NULL;
  g_auto(GStrv) entitlements = NULL;
  g_autofree char *public_key = NULL;
  g_autofree char *from_text = NULL;
  g_autofree char *until_text = NULL;

  if (description == NULL || owner_key == NULL || signature == NULL || access_point == NULL)
    return FALSE;

  key = own_key (t, error);
  if (key == NULL)
    return FALSE;
  public_key = lk_base64_encode_bytes (lk_key_pair_get_public (key));

  from = lk_json_get_time (content, "validFrom");
  until = lk_json_get_time (content, "validUntil");
  from_text = lk_time_format (from);
  until_text = lk_time_format (until);
  entitlements = lk_json_get_strv (content, "entitlements", FALSE, LK_CREDENTIAL_MAX_ENTITLEMENTS,
                                   LK_CREDENTIAL_MAX_ENTITLEMENT, LK_JSON_STRV_SIGNABLE, 0, 0, NULL);
  if (entitlements == NULL)
    entitlements = g_new0 (char *, 1);
  statement = lk_signing_friend_key (access_point, public_key, (const char * const *) entitlements,
                                     from_text, until_text);
  owner_der = lk_base64_decode_bytes (owner_key);
  owner = owner_der ? lk_key_pair_new_from_public (owner_der, NULL) : NULL;
  signature_der = lk_base64_decode_bytes (signature);
  if (owner == NULL || signature_der == NULL || until == NULL ||
      !lk_key_pair_verify (owner, statement, signature_der, NULL))
    {
      g_autoptr(GError) cause = g_error_new (LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_BAD_SIGNATURE,
                                             _("the owner’s signature does not match"));
      return lk_transfer_fail_hostile (w, t, cause, error);
    }

  credential = lk_transfer_credential_from_offer (t, description);
  lk_credential_set_key_pair (credential, key);
  lk_credential_set_owner_signature (credential, signature);
  lk_credential_set_access_point_id (credential, access_point);
  lk_credential_set_entitlements (credential, (const char * const *) entitlements);
  lk_credential_set_validity (credential, from, until, NULL);
  return lk_transfer_store_received (w, t, credential, error);
}

static gboolean
receiver_handle (LkWorker    *w,
                 LkTransfer  *t,
                 const char  *type,
                 JsonObject  *content,
                 GError     **error)
{
  if (g_strcmp0 (type, "PinReEntryRequest") == 0)
    return lk_transfer_code_requested (w, t, content, error);

  if (g_strcmp0 (type, "KeyImportRequest") == 0 && t->private_key != NULL)
    return take_import_request (w, t, content, error);

  return lk_transfer_unexpected (w, t, type, error);
}

const LkTransferFlow lk_transfer_flow_car = {
  .vertical = LK_VERTICAL_CAR,
  .offer_format = LK_FORMAT_CAR,
  .reply_format = LK_FORMAT_CAR,
  .build_offer = build_offer,
  .accept_offer = accept_offer,
  .take_code = take_code,
  .sender_handle = sender_handle,
  .receiver_handle = receiver_handle,
  .code_accepted = code_accepted,
  .revoke_target = revoke_target,
  .confirm = confirm,
};
