/* lk-signing.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-signing"

#include "config.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "lk-crypto.h"
#include "lk-signing.h"

static void
append_field (GString    *text,
              const char *field)
{
  /* A newline inside a field could forge the next one: fields never hold one. */
  g_return_if_fail (field == NULL || strchr (field, '\n') == NULL);

  g_string_append_c (text, '\n');
  if (field != NULL)
    g_string_append (text, field);
}

static void
append_list (GString            *text,
             const char * const *items)
{
  g_autofree char *joined = NULL;

  for (guint i = 0; items != NULL && items[i] != NULL; i++)
    g_return_if_fail (strchr (items[i], ',') == NULL);

  joined = items != NULL ? g_strjoinv (",", (char **) items) : g_strdup ("");
  append_field (text, joined);
}

static GBytes *
finish (GString *text)
{
  return g_string_free_to_bytes (text);
}

/**
 * lk_signing_token_request:
 * @challenge: the partner's single-use challenge
 * @valid_from: @valid_until: (nullable): RFC 3339, or %NULL for open
 * @code_verifier: (nullable): lk_signing_code_verifier (@challenge, code) when
 *   the share requires an activation code; the code travels beside the
 *   signature, for the partner to keep as lk_signing_code_verifier (token, code)
 *
 * What a sharer signs to ask its provisioning partner for a single-use token.
 */
GBytes *
lk_signing_token_request (const char         *credential_id,
                          const char         *challenge,
                          const char * const *entitlements,
                          const char         *valid_from,
                          const char         *valid_until,
                          const char         *code_verifier)
{
  return lk_signing_token_request_for (credential_id, challenge, entitlements, valid_from, valid_until,
                                       code_verifier, 1);
}

/**
 * lk_signing_token_request_for:
 * @receivers: how many devices may redeem the token, 1 to 10 (issue 13)
 *
 * lk_signing_token_request() for a share to several receivers. The count
 * is a seventh field, written only above 1: a one-receiver statement is the
 * one every partner knows, and a statement with the count can never read
 * as one without it (it has a field more).
 */
GBytes *
lk_signing_token_request_for (const char         *credential_id,
                              const char         *challenge,
                              const char * const *entitlements,
                              const char         *valid_from,
                              const char         *valid_until,
                              const char         *code_verifier,
                              guint               receivers)
{
  GString *text = g_string_new ("latchkey/v1/token-request");

  append_field (text, credential_id);
  append_field (text, challenge);
  append_list (text, entitlements);
  append_field (text, valid_from);
  append_field (text, valid_until);
  append_field (text, code_verifier);
  if (receivers > 1)
    {
      char count[16];

      g_snprintf (count, sizeof count, "receivers=%u", receivers);
      append_field (text, count);
    }
  return finish (text);
}

/**
 * lk_signing_access:
 * @subject: the credential id, or for a car friend key its key fingerprint
 * @action: "open", "start" or "drive"
 *
 * What a credential signs to open an access point.
 */
GBytes *
lk_signing_access (const char *access_point_id,
                   const char *subject,
                   const char *action,
                   const char *challenge)
{
  GString *text = g_string_new ("latchkey/v1/access");

  append_field (text, access_point_id);
  append_field (text, subject);
  append_field (text, action);
  append_field (text, challenge);
  return finish (text);
}

/**
 * lk_signing_friend_key:
 * @friend_public_key: the friend's SubjectPublicKeyInfo, base64
 *
 * What a car owner signs to make a friend key (the KeyImportRequest's
 * signature): the key, what it may do, and when.
 */
GBytes *
lk_signing_friend_key (const char         *access_point_id,
                       const char         *friend_public_key,
                       const char * const *entitlements,
                       const char         *valid_from,
                       const char         *valid_until)
{
  GString *text = g_string_new ("latchkey/v1/friend-key");

  append_field (text, access_point_id);
  append_field (text, friend_public_key);
  append_list (text, entitlements);
  append_field (text, valid_from);
  append_field (text, valid_until);
  return finish (text);
}

/**
 * lk_signing_revocation:
 * @target: "credential:ID", "token:TOKEN" or "key:FINGERPRINT"
 */
GBytes *
lk_signing_revocation (const char *credential_id,
                       const char *target,
                       const char *challenge)
{
  GString *text = g_string_new ("latchkey/v1/revoke");

  append_field (text, credential_id);
  append_field (text, target);
  append_field (text, challenge);
  return finish (text);
}

/**
 * lk_signing_key_possession:
 *
 * What a receiver signs with its new key in a KeySigningRequest, to show it
 * holds the private key, bound to this share. (A phone would send its secure
 * element's key attestation chain instead; a desktop has none.)
 */
GBytes *
lk_signing_key_possession (const char *mailbox_id,
                           const char *public_key)
{
  GString *text = g_string_new ("latchkey/v1/key-possession");

  append_field (text, mailbox_id);
  append_field (text, public_key);
  return finish (text);
}

/**
 * lk_signing_code_verifier:
 * @token: the provisioning token (or, in a token request, the challenge)
 * @code: the activation code
 *
 * The partner stores this instead of the code: an HMAC keyed by the token,
 * so that a copy of its database cannot be searched for six-digit codes
 * without the tokens, which it keeps only as hashes.
 *
 * Returns: base64url of HMAC-SHA256(token, code)
 */
char *
lk_signing_code_verifier (const char *token,
                          const char *code)
{
  guint8 mac[32];
  char *text;

  gnutls_hmac_fast (GNUTLS_MAC_SHA256, token, strlen (token), code, strlen (code), mac);
  text = lk_base64url_encode (mac, sizeof mac);
  gnutls_memset (mac, 0, sizeof mac);
  return text;
}
