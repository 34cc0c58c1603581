/* lk-crypto.h: the few cryptographic primitives the core uses, all GnuTLS
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* 256-bit share secrets: the draft allows AES-128 and AES-256, we emit the larger. */
#define LK_SECRET_LENGTH      32
#define LK_SECRET_MIN_LENGTH  16
#define LK_GCM_IV_LENGTH      12
#define LK_GCM_TAG_LENGTH     16
#define LK_SHA256_LENGTH      32

#define LK_PAYLOAD_TYPE_AES_128_GCM "AEAD_AES_128_GCM"
#define LK_PAYLOAD_TYPE_AES_256_GCM "AEAD_AES_256_GCM"

GBytes   *lk_secure_bytes_new       (gconstpointer  data,
                                     gsize          len);
GBytes   *lk_secure_bytes_take      (gpointer       data,
                                     gsize          len);
void      lk_secure_str_free        (char          *str);
void      lk_secure_clear_str       (char         **str);

gboolean  lk_crypto_random          (gpointer       buffer,
                                     gsize          len,
                                     GError       **error);
GBytes   *lk_crypto_new_secret      (GError       **error);
char     *lk_uuid_new_random        (void);
gboolean  lk_crypto_equal           (gconstpointer  a,
                                     gconstpointer  b,
                                     gsize          len);
void      lk_crypto_sha256          (gconstpointer  data,
                                     gsize          len,
                                     guint8         digest[LK_SHA256_LENGTH]);

char     *lk_base64url_encode       (gconstpointer  data,
                                     gsize          len);
guint8   *lk_base64_decode_strict   (const char    *text,
                                     gsize          text_len,
                                     gsize         *out_len);
GBytes   *lk_base64_decode_bytes    (const char    *text);
char     *lk_base64_encode_bytes    (GBytes        *bytes);

const char *lk_aead_type_for_key    (gsize          key_len);
GBytes   *lk_aead_seal              (GBytes        *key,
                                     const guint8  *iv,
                                     gconstpointer  plaintext,
                                     gsize          plaintext_len,
                                     GError       **error);
GBytes   *lk_aead_open              (GBytes        *key,
                                     gconstpointer  data,
                                     gsize          data_len,
                                     GError       **error);

/* A heap string holding a secret, wiped when freed: g_autoptr(LkSecureString). */
typedef char LkSecureString;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkSecureString, lk_secure_str_free)

G_END_DECLS
