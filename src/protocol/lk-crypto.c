/* lk-crypto.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-crypto"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "lk-crypto.h"
#include "lk-error.h"

/* A buffer that remembers its length so that it can be wiped when the last
 * GBytes reference goes away. */
typedef struct
{
  gsize  len;
  guint8 data[];
} SecureBlock;

static void
secure_block_free (gpointer user_data)
{
  SecureBlock *block = user_data;

  gnutls_memset (block->data, 0, block->len);
  g_free (block);
}

/**
 * lk_secure_bytes_new:
 *
 * Copies @data into a #GBytes whose memory is wiped when it is freed. Use it
 * for keys, secrets and decrypted plaintext.
 */
GBytes *
lk_secure_bytes_new (gconstpointer data,
                     gsize         len)
{
  SecureBlock *block;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  block = g_malloc (sizeof *block + MAX (len, 1));
  block->len = len;
  if (len > 0)
    memcpy (block->data, data, len);

  return g_bytes_new_with_free_func (block->data, len, secure_block_free, block);
}

/**
 * lk_secure_bytes_take:
 *
 * Like lk_secure_bytes_new() but wipes and frees @data (from g_malloc()) at once.
 */
GBytes *
lk_secure_bytes_take (gpointer data,
                      gsize    len)
{
  GBytes *bytes = lk_secure_bytes_new (data, len);

  if (data != NULL)
    gnutls_memset (data, 0, len);
  g_free (data);

  return bytes;
}

void
lk_secure_str_free (char *str)
{
  if (str == NULL)
    return;

  gnutls_memset (str, 0, strlen (str));
  g_free (str);
}

void
lk_secure_clear_str (char **str)
{
  lk_secure_str_free (g_steal_pointer (str));
}

gboolean
lk_crypto_random (gpointer   buffer,
                  gsize      len,
                  GError   **error)
{
  int ret = gnutls_rnd (GNUTLS_RND_KEY, buffer, len);

  if (ret < 0)
    {
      g_set_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_FAILED,
                   _("Could not get random bytes: %s"), gnutls_strerror (ret));
      return FALSE;
    }

  return TRUE;
}

/**
 * lk_crypto_new_secret:
 *
 * Returns: (transfer full): %LK_SECRET_LENGTH random bytes from GnuTLS's
 *   key-level generator, wiped when freed.
 */
GBytes *
lk_crypto_new_secret (GError **error)
{
  guint8 buffer[LK_SECRET_LENGTH];
  GBytes *secret = NULL;

  if (lk_crypto_random (buffer, sizeof buffer, error))
    secret = lk_secure_bytes_new (buffer, sizeof buffer);
  gnutls_memset (buffer, 0, sizeof buffer);

  return secret;
}

/**
 * lk_uuid_new_random:
 *
 * g_uuid_string_random() draws from GLib's Mersenne Twister, which is not
 * meant to be unguessable; mailbox ids and device claims must be.
 *
 * Returns: a version 4 UUID from GnuTLS's RNG
 */
char *
lk_uuid_new_random (void)
{
  guint8 b[16];

  /* The nonce level is fit for public values that must be unpredictable. */
  if (gnutls_rnd (GNUTLS_RND_NONCE, b, sizeof b) < 0)
    g_error ("GnuTLS's random generator failed");

  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;

  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                          b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* Constant time, so that comparing secrets or digests leaks no prefix length. */
gboolean
lk_crypto_equal (gconstpointer a,
                 gconstpointer b,
                 gsize         len)
{
  return gnutls_memcmp (a, b, len) == 0;
}

void
lk_crypto_sha256 (gconstpointer data,
                  gsize         len,
                  guint8        digest[LK_SHA256_LENGTH])
{
  int ret = gnutls_hash_fast (GNUTLS_DIG_SHA256, data, len, digest);

  /* SHA-256 over memory cannot fail short of a broken GnuTLS. */
  g_assert (ret == 0);
}

/**
 * lk_base64url_encode:
 *
 * Returns: base64url without padding (RFC 4648 §5), as share links carry it.
 */
char *
lk_base64url_encode (gconstpointer data,
                     gsize         len)
{
  char *text = g_base64_encode (data, len);
  char *p;

  for (p = text; *p != '\0'; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }

  return text;
}

/**
 * lk_base64_decode_strict:
 * @text: base64 or base64url text, padded or not
 * @text_len: its length in bytes
 * @out_len: (out): the decoded length
 *
 * g_base64_decode() skips characters it does not know, so a mangled secret
 * would decode to something. Check the alphabet and the length first.
 *
 * Returns: (nullable): the decoded bytes, or %NULL if @text is not base64.
 *   The caller wipes them if they are secret.
 */
guint8 *
lk_base64_decode_strict (const char *text,
                         gsize       text_len,
                         gsize      *out_len)
{
  g_autofree char *copy = NULL;
  gboolean standard = FALSE, url = FALSE;
  gsize data_len = text_len, padded_len, i;
  guint8 *out;

  *out_len = 0;

  while (data_len > 0 && text[data_len - 1] == '=')
    data_len--;
  if (text_len - data_len > 2 || data_len == 0)
    return NULL;
  /* Padding, when present, must complete the last quantum exactly. */
  if (text_len != data_len && text_len % 4 != 0)
    return NULL;
  if (data_len % 4 == 1)
    return NULL;

  padded_len = (data_len + 3) / 4 * 4;
  copy = g_malloc (padded_len + 1);

  for (i = 0; i < data_len; i++)
    {
      char c = text[i];

      if (g_ascii_isalnum (c))
        copy[i] = c;
      else if (c == '+' || c == '/')
        {
          standard = TRUE;
          copy[i] = c;
        }
      else if (c == '-' || c == '_')
        {
          url = TRUE;
          copy[i] = (c == '-') ? '+' : '/';
        }
      else
        break;
    }

  /* A stray character, or both alphabets in one string. */
  if (i != data_len || (standard && url))
    {
      gnutls_memset (copy, 0, padded_len + 1);
      return NULL;
    }

  for (; i < padded_len; i++)
    copy[i] = '=';
  copy[padded_len] = '\0';

  {
    gsize len = 0;

    out = g_base64_decode (copy, &len);
    *out_len = len;
  }

  gnutls_memset (copy, 0, padded_len + 1);

  return out;
}

/**
 * lk_base64_decode_bytes:
 * @text: (nullable): base64 or base64url, as lk_base64_decode_strict() takes
 *
 * For keys and signatures, which are not secret: the bytes are not wiped.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL if @text is %NULL
 *   or not base64
 */
GBytes *
lk_base64_decode_bytes (const char *text)
{
  guint8 *raw;
  gsize len;

  if (text == NULL)
    return NULL;
  raw = lk_base64_decode_strict (text, strlen (text), &len);
  return raw != NULL ? g_bytes_new_take (raw, len) : NULL;
}

/* Standard base64 of @bytes, padded: how keys and signatures are sent. */
char *
lk_base64_encode_bytes (GBytes *bytes)
{
  return g_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

const char *
lk_aead_type_for_key (gsize key_len)
{
  switch (key_len)
    {
    case 16:
      return LK_PAYLOAD_TYPE_AES_128_GCM;
    case 32:
      return LK_PAYLOAD_TYPE_AES_256_GCM;
    default:
      return NULL;
    }
}

static gboolean
aead_init (gnutls_aead_cipher_hd_t  *handle,
           GBytes                   *key,
           GError                  **error)
{
  gnutls_datum_t datum;
  gnutls_cipher_algorithm_t algorithm;
  gsize key_len;
  int ret;

  datum.data = (guchar *) g_bytes_get_data (key, &key_len);
  datum.size = key_len;

  if (key_len == 16)
    algorithm = GNUTLS_CIPHER_AES_128_GCM;
  else if (key_len == 32)
    algorithm = GNUTLS_CIPHER_AES_256_GCM;
  else
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_UNSUPPORTED,
                   _("A key of %u bytes fits no supported cipher"), (guint) key_len);
      return FALSE;
    }

  ret = gnutls_aead_cipher_init (handle, algorithm, &datum);
  if (ret < 0)
    {
      g_set_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_FAILED,
                   _("Could not set up the cipher: %s"), gnutls_strerror (ret));
      return FALSE;
    }

  return TRUE;
}

/**
 * lk_aead_seal:
 * @key: 16 or 32 bytes, selecting AES-128-GCM or AES-256-GCM
 * @iv: (nullable): %LK_GCM_IV_LENGTH bytes, or %NULL for a random IV (tests pass a fixed one)
 *
 * Returns: (transfer full): IV ‖ ciphertext ‖ tag, the draft's layout.
 */
GBytes *
lk_aead_seal (GBytes         *key,
              const guint8   *iv,
              gconstpointer   plaintext,
              gsize           plaintext_len,
              GError        **error)
{
  gnutls_aead_cipher_hd_t handle;
  g_autofree guint8 *out = NULL;
  gsize out_len = LK_GCM_IV_LENGTH + plaintext_len + LK_GCM_TAG_LENGTH;
  size_t ctext_len = plaintext_len + LK_GCM_TAG_LENGTH;
  int ret;

  if (!aead_init (&handle, key, error))
    return NULL;

  out = g_malloc (out_len);
  if (iv != NULL)
    memcpy (out, iv, LK_GCM_IV_LENGTH);
  else if (!lk_crypto_random (out, LK_GCM_IV_LENGTH, error))
    {
      gnutls_aead_cipher_deinit (handle);
      return NULL;
    }

  ret = gnutls_aead_cipher_encrypt (handle, out, LK_GCM_IV_LENGTH, NULL, 0,
                                    LK_GCM_TAG_LENGTH, plaintext, plaintext_len,
                                    out + LK_GCM_IV_LENGTH, &ctext_len);
  gnutls_aead_cipher_deinit (handle);

  if (ret < 0 || ctext_len != plaintext_len + LK_GCM_TAG_LENGTH)
    {
      g_set_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_FAILED,
                   _("Could not encrypt: %s"), gnutls_strerror (ret));
      return NULL;
    }

  return g_bytes_new_take (g_steal_pointer (&out), out_len);
}

/**
 * lk_aead_open:
 *
 * Returns: (transfer full): the plaintext, wiped when freed, or %NULL with
 *   %LK_MESSAGE_ERROR_DECRYPT for a wrong key or tampered data.
 */
GBytes *
lk_aead_open (GBytes         *key,
              gconstpointer   data,
              gsize           data_len,
              GError        **error)
{
  gnutls_aead_cipher_hd_t handle;
  const guint8 *bytes = data;
  guint8 *plaintext;
  size_t plaintext_len;
  int ret;

  if (data_len < LK_GCM_IV_LENGTH + LK_GCM_TAG_LENGTH)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                   _("The encrypted data is too short"));
      return NULL;
    }

  if (!aead_init (&handle, key, error))
    return NULL;

  plaintext_len = data_len - LK_GCM_IV_LENGTH - LK_GCM_TAG_LENGTH;
  plaintext = g_malloc (MAX (plaintext_len, 1));

  ret = gnutls_aead_cipher_decrypt (handle, bytes, LK_GCM_IV_LENGTH, NULL, 0,
                                    LK_GCM_TAG_LENGTH,
                                    bytes + LK_GCM_IV_LENGTH, data_len - LK_GCM_IV_LENGTH,
                                    plaintext, &plaintext_len);
  gnutls_aead_cipher_deinit (handle);

  if (ret < 0)
    {
      gnutls_memset (plaintext, 0, data_len - LK_GCM_IV_LENGTH - LK_GCM_TAG_LENGTH);
      g_free (plaintext);
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_DECRYPT,
                   _("The message could not be decrypted: wrong key, or the data was altered"));
      return NULL;
    }

  return lk_secure_bytes_take (plaintext, plaintext_len);
}
