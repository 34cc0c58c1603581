/* partner-request.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Error messages name members, never their values: a value may be a token,
 * a code or a key.
 */

#define G_LOG_DOMAIN "partner-request"

#include "config.h"

#include <string.h>

#include <gnutls/gnutls.h>

#include "partner-config.h"
#include "partner-request.h"

G_DEFINE_QUARK (partner-request-error-quark, partner_request_error)

#define FIELD_ERROR PARTNER_REQUEST_ERROR, PARTNER_REQUEST_ERROR_BAD_FIELD

JsonObject *
partner_parse_body (const char  *data,
                    gsize        len,
                    GError     **error)
{
  return lk_json_parse_object (data, len, PARTNER_MAX_BODY,
                               PARTNER_REQUEST_ERROR, PARTNER_REQUEST_ERROR_BAD_JSON, error);
}

/**
 * partner_get_string:
 * @out: (out) (transfer none): the value, or %NULL if absent and not required
 *
 * Returns: %FALSE with @error set if the member is missing when required,
 *   mistyped or too long
 */
gboolean
partner_get_string (JsonObject  *object,
                    const char  *member,
                    gsize        max_len,
                    gboolean     required,
                    const char **out,
                    GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  *out = lk_json_get_string (object, member, max_len, required, FIELD_ERROR, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return TRUE;
}

/* A credential or access point id, as we make them: a lowercase UUID. */
gboolean
partner_get_uuid (JsonObject  *object,
                  const char  *member,
                  const char **out,
                  GError     **error)
{
  if (!partner_get_string (object, member, 36, TRUE, out, error))
    return FALSE;

  if (!g_uuid_string_is_valid (*out))
    {
      g_set_error (error, FIELD_ERROR, "“%s” must be an identifier the partner issued", member);
      return FALSE;
    }

  return TRUE;
}

/**
 * partner_is_nonce:
 *
 * Returns: whether @text is the unpadded base64url of 32 bytes, in the one
 *   spelling lk_base64url_encode() gives it
 */
gboolean
partner_is_nonce (const char *text)
{
  g_autofree guint8 *bytes = NULL;
  g_autofree char *again = NULL;
  gsize len = 0;

  if (text == NULL || strlen (text) != PARTNER_NONCE_LENGTH ||
      strspn (text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != PARTNER_NONCE_LENGTH)
    return FALSE;

  bytes = lk_base64_decode_strict (text, PARTNER_NONCE_LENGTH, &len);
  if (bytes == NULL || len != PARTNER_NONCE_BYTES)
    {
      if (bytes != NULL)
        gnutls_memset (bytes, 0, len);
      return FALSE;
    }

  /* The last character carries two unused bits: only one spelling counts. */
  again = lk_base64url_encode (bytes, len);
  gnutls_memset (bytes, 0, len);
  return strcmp (again, text) == 0;
}

gboolean
partner_get_nonce (JsonObject  *object,
                   const char  *member,
                   const char **out,
                   GError     **error)
{
  if (!partner_get_string (object, member, 256, TRUE, out, error))
    return FALSE;

  if (!partner_is_nonce (*out))
    {
      g_set_error (error, FIELD_ERROR, "“%s” must be base64url of 32 bytes, unpadded", member);
      return FALSE;
    }

  return TRUE;
}

/**
 * partner_get_time:
 * @end: whether this is the end of a window, for the value of an absent bound
 * @text: (out) (transfer none): the text as sent, or %NULL if absent
 * @value: (out): Unix seconds, or %PARTNER_OPEN_START / %PARTNER_OPEN_END
 */
gboolean
partner_get_time (JsonObject  *object,
                  const char  *member,
                  gboolean     end,
                  const char **text,
                  gint64      *value,
                  GError     **error)
{
  if (!partner_get_string (object, member, LK_TIME_MAX_TEXT, FALSE, text, error))
    return FALSE;

  if (*text == NULL)
    {
      *value = end ? PARTNER_OPEN_END : PARTNER_OPEN_START;
      return TRUE;
    }

  if (!lk_time_parse_exact (*text, value))
    {
      g_set_error (error, FIELD_ERROR, "“%s” must be a UTC time such as 2026-01-31T12:00:00Z", member);
      return FALSE;
    }

  return TRUE;
}

/* validFrom and validUntil: each optional, and the window not empty. */
gboolean
partner_get_window (JsonObject  *object,
                    const char **from_text,
                    gint64      *from,
                    const char **until_text,
                    gint64      *until,
                    GError     **error)
{
  if (!partner_get_time (object, "validFrom", FALSE, from_text, from, error) ||
      !partner_get_time (object, "validUntil", TRUE, until_text, until, error))
    return FALSE;

  if (*from >= *until)
    {
      g_set_error (error, FIELD_ERROR, "“validUntil” must come after “validFrom”");
      return FALSE;
    }

  return TRUE;
}

static gboolean
is_entitlement (const char *text)
{
  gsize len = strlen (text);

  /* Letters, digits and - _ . only: no comma (the list separator in signed
   * statements) and no newline (the field separator). */
  return len > 0 && len <= PARTNER_MAX_ENTITLEMENT &&
         strspn (text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == len;
}

/**
 * partner_get_entitlements:
 *
 * Returns: (transfer full): the list, in the order sent (which is the order
 *   signed); possibly empty
 */
GStrv
partner_get_entitlements (JsonObject  *object,
                          const char  *member,
                          GError     **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto(GStrv) entitlements = lk_json_get_strv (object, member, TRUE, PARTNER_MAX_ENTITLEMENTS,
                                                 PARTNER_MAX_ENTITLEMENT, LK_JSON_STRV_STRICT, FIELD_ERROR,
                                                 error);

  if (entitlements == NULL)
    return NULL;

  for (guint i = 0; entitlements[i] != NULL; i++)
    {
      if (!is_entitlement (entitlements[i]))
        {
          g_set_error (error, FIELD_ERROR,
                       "“%s” entries must be 1 to %u letters, digits, “-”, “_” or “.”",
                       member, PARTNER_MAX_ENTITLEMENT);
          return NULL;
        }
      if (!g_hash_table_add (seen, entitlements[i]))
        {
          g_set_error (error, FIELD_ERROR, "“%s” repeats an entry", member);
          return NULL;
        }
    }

  return g_steal_pointer (&entitlements);
}

/**
 * partner_get_public_key:
 * @text: (out) (transfer none): the member as sent, which is what signatures cover
 *
 * Returns: (transfer full): the key; ECDSA P-256 only
 */
LkKeyPair *
partner_get_public_key (JsonObject  *object,
                        const char  *member,
                        const char **text,
                        GError     **error)
{
  g_autoptr(GBytes) der = NULL;
  g_autoptr(LkKeyPair) key = NULL;
  guint8 *raw;
  gsize len;

  if (!partner_get_string (object, member, PARTNER_MAX_KEY_TEXT, TRUE, text, error))
    return NULL;

  raw = lk_base64_decode_strict (*text, strlen (*text), &len);
  if (raw == NULL)
    {
      g_set_error (error, FIELD_ERROR, "“%s” must be base64 of a SubjectPublicKeyInfo", member);
      return NULL;
    }
  der = g_bytes_new_take (raw, len);

  key = lk_key_pair_new_from_public (der, NULL);
  if (key == NULL)
    {
      g_set_error (error, FIELD_ERROR, "“%s” must be an ECDSA P-256 public key", member);
      return NULL;
    }

  return g_steal_pointer (&key);
}

/**
 * partner_get_signature:
 *
 * Returns: (transfer full): the DER signature; lk_key_pair_verify() judges it
 */
GBytes *
partner_get_signature (JsonObject  *object,
                       const char  *member,
                       GError     **error)
{
  const char *text;
  guint8 *raw;
  gsize len;

  if (!partner_get_string (object, member, PARTNER_MAX_SIGNATURE_TEXT, TRUE, &text, error))
    return NULL;

  raw = lk_base64_decode_strict (text, strlen (text), &len);
  if (raw == NULL)
    {
      g_set_error (error, FIELD_ERROR, "“%s” must be base64 of a DER ECDSA signature", member);
      return NULL;
    }

  return g_bytes_new_take (raw, len);
}

/* Bounds are half open: valid from @from inclusive to @until exclusive. */
PartnerWindowState
partner_window_check (gint64 from,
                      gint64 until,
                      gint64 now)
{
  if (now < from)
    return PARTNER_WINDOW_NOT_YET_VALID;
  if (now >= until)
    return PARTNER_WINDOW_EXPIRED;
  return PARTNER_WINDOW_OPEN;
}

/* An open bound is the widest there is, so an open inner bound fits only
 * an open outer one. */
gboolean
partner_window_contains (gint64 outer_from,
                         gint64 outer_until,
                         gint64 inner_from,
                         gint64 inner_until)
{
  return inner_from >= outer_from && inner_until <= outer_until;
}

gboolean
partner_entitlements_cover (const char * const *granted,
                            const char * const *wanted)
{
  for (guint i = 0; wanted != NULL && wanted[i] != NULL; i++)
    if (granted == NULL || !g_strv_contains (granted, wanted[i]))
      return FALSE;

  return TRUE;
}

/* Keys are stored and shown in one spelling: standard base64 of the DER. */
char *
partner_encode_key (LkKeyPair *key)
{
  GBytes *der = lk_key_pair_get_public (key);

  return g_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
}

/* Tokens and access tokens are kept only as this. */
void
partner_hash_secret (const char *secret,
                     guint8      digest[LK_SHA256_LENGTH])
{
  lk_crypto_sha256 (secret, strlen (secret), digest);
}
