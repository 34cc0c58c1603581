/* lk-key-pair.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-key-pair"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-key-pair.h"

/* DER of a P-256 SubjectPublicKeyInfo is 91 bytes, a PKCS#8 key about 138. */
#define MAX_KEY_DER_LENGTH 1024

struct _LkKeyPair
{
  GObject            parent_instance;

  gnutls_privkey_t   privkey;  /* NULL for a public key only */
  gnutls_pubkey_t    pubkey;
  GBytes            *public_der;
};

G_DEFINE_FINAL_TYPE (LkKeyPair, lk_key_pair, G_TYPE_OBJECT)

static void
lk_key_pair_finalize (GObject *object)
{
  LkKeyPair *self = (LkKeyPair *) object;

  g_clear_pointer (&self->privkey, gnutls_privkey_deinit);
  g_clear_pointer (&self->pubkey, gnutls_pubkey_deinit);
  g_clear_pointer (&self->public_der, g_bytes_unref);

  G_OBJECT_CLASS (lk_key_pair_parent_class)->finalize (object);
}

static void
lk_key_pair_class_init (LkKeyPairClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_key_pair_finalize;
}

static void
lk_key_pair_init (LkKeyPair *self)
{
}

static gboolean
gnutls_check (int           ret,
              int           code,
              const char   *what,
              GError      **error)
{
  if (ret >= 0)
    return TRUE;

  g_set_error (error, LK_CRYPTO_ERROR, code, "%s: %s", what, gnutls_strerror (ret));
  return FALSE;
}

/* Only ECDSA on P-256 is accepted: that is what CCC friend keys use, and one
 * algorithm leaves no room for downgrade games. */
static gboolean
finish_public (LkKeyPair  *self,
               GError    **error)
{
  gnutls_datum_t der = { NULL, 0 };
  gnutls_ecc_curve_t curve;
  int ret;

  if (gnutls_pubkey_get_pk_algorithm (self->pubkey, NULL) != GNUTLS_PK_ECDSA ||
      gnutls_pubkey_export_ecc_raw (self->pubkey, &curve, NULL, NULL) < 0 ||
      curve != GNUTLS_ECC_CURVE_SECP256R1)
    {
      g_set_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_INVALID_KEY,
                   _("The key is not an ECDSA P-256 key"));
      return FALSE;
    }

  ret = gnutls_pubkey_export2 (self->pubkey, GNUTLS_X509_FMT_DER, &der);
  if (!gnutls_check (ret, LK_CRYPTO_ERROR_INVALID_KEY, _("Could not export the public key"), error))
    return FALSE;

  self->public_der = g_bytes_new (der.data, der.size);
  gnutls_free (der.data);

  return TRUE;
}

static gboolean
finish_private (LkKeyPair  *self,
                GError    **error)
{
  int ret;

  ret = gnutls_pubkey_init (&self->pubkey);
  if (ret >= 0)
    ret = gnutls_pubkey_import_privkey (self->pubkey, self->privkey, 0, 0);
  if (!gnutls_check (ret, LK_CRYPTO_ERROR_INVALID_KEY, _("Could not derive the public key"), error))
    return FALSE;

  return finish_public (self, error);
}

/**
 * lk_key_pair_generate:
 *
 * Returns: (transfer full): a new ECDSA P-256 key pair
 */
LkKeyPair *
lk_key_pair_generate (GError **error)
{
  g_autoptr(LkKeyPair) self = g_object_new (LK_TYPE_KEY_PAIR, NULL);
  int ret;

  ret = gnutls_privkey_init (&self->privkey);
  if (ret >= 0)
    ret = gnutls_privkey_generate2 (self->privkey, GNUTLS_PK_ECDSA,
                                    GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                    0, NULL, 0);
  if (!gnutls_check (ret, LK_CRYPTO_ERROR_FAILED, _("Could not generate a key pair"), error))
    return NULL;

  if (!finish_private (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * lk_key_pair_new_from_private:
 * @pkcs8_der: an unencrypted PKCS#8 private key, DER
 */
LkKeyPair *
lk_key_pair_new_from_private (GBytes  *pkcs8_der,
                              GError **error)
{
  g_autoptr(LkKeyPair) self = g_object_new (LK_TYPE_KEY_PAIR, NULL);
  gnutls_x509_privkey_t x509 = NULL;
  gnutls_datum_t datum;
  gsize len;
  int ret;

  datum.data = (guchar *) g_bytes_get_data (pkcs8_der, &len);
  datum.size = len;

  if (len == 0 || len > MAX_KEY_DER_LENGTH)
    {
      g_set_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_INVALID_KEY,
                   _("The private key has an impossible size"));
      return NULL;
    }

  ret = gnutls_x509_privkey_init (&x509);
  if (ret >= 0)
    ret = gnutls_x509_privkey_import_pkcs8 (x509, &datum, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN);
  if (ret >= 0)
    ret = gnutls_privkey_init (&self->privkey);
  if (ret >= 0)
    {
      /* On success the abstract key takes the X.509 key over. */
      ret = gnutls_privkey_import_x509 (self->privkey, x509, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
      if (ret >= 0)
        x509 = NULL;
    }
  g_clear_pointer (&x509, gnutls_x509_privkey_deinit);

  if (!gnutls_check (ret, LK_CRYPTO_ERROR_INVALID_KEY, _("Could not import the private key"), error))
    return NULL;

  if (!finish_private (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * lk_key_pair_new_from_public:
 * @spki_der: a SubjectPublicKeyInfo, DER
 *
 * Returns: (transfer full): a key that can verify but not sign
 */
LkKeyPair *
lk_key_pair_new_from_public (GBytes  *spki_der,
                             GError **error)
{
  g_autoptr(LkKeyPair) self = g_object_new (LK_TYPE_KEY_PAIR, NULL);
  gnutls_datum_t datum;
  gsize len;
  int ret;

  datum.data = (guchar *) g_bytes_get_data (spki_der, &len);
  datum.size = len;

  if (len == 0 || len > MAX_KEY_DER_LENGTH)
    {
      g_set_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_INVALID_KEY,
                   _("The public key has an impossible size"));
      return NULL;
    }

  ret = gnutls_pubkey_init (&self->pubkey);
  if (ret >= 0)
    ret = gnutls_pubkey_import (self->pubkey, &datum, GNUTLS_X509_FMT_DER);
  if (!gnutls_check (ret, LK_CRYPTO_ERROR_INVALID_KEY, _("Could not import the public key"), error))
    return NULL;

  if (!finish_public (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

gboolean
lk_key_pair_has_private (LkKeyPair *self)
{
  g_return_val_if_fail (LK_IS_KEY_PAIR (self), FALSE);
  return self->privkey != NULL;
}

/**
 * lk_key_pair_get_public:
 *
 * Returns: (transfer none): the SubjectPublicKeyInfo, DER
 */
GBytes *
lk_key_pair_get_public (LkKeyPair *self)
{
  g_return_val_if_fail (LK_IS_KEY_PAIR (self), NULL);
  return self->public_der;
}

/**
 * lk_key_pair_export_private:
 *
 * For the keyring store only: nothing else may hold a private key.
 *
 * Returns: (transfer full): the unencrypted PKCS#8 DER, wiped when freed
 */
GBytes *
lk_key_pair_export_private (LkKeyPair  *self,
                            GError    **error)
{
  gnutls_x509_privkey_t x509 = NULL;
  gnutls_datum_t der = { NULL, 0 };
  GBytes *bytes;
  int ret;

  g_return_val_if_fail (LK_IS_KEY_PAIR (self), NULL);

  if (self->privkey == NULL)
    {
      g_set_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_NO_PRIVATE_KEY,
                   _("There is no private key to export"));
      return NULL;
    }

  ret = gnutls_privkey_export_x509 (self->privkey, &x509);
  if (ret >= 0)
    ret = gnutls_x509_privkey_export2_pkcs8 (x509, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN, &der);
  g_clear_pointer (&x509, gnutls_x509_privkey_deinit);

  if (!gnutls_check (ret, LK_CRYPTO_ERROR_FAILED, _("Could not export the private key"), error))
    return NULL;

  bytes = lk_secure_bytes_new (der.data, der.size);
  gnutls_memset (der.data, 0, der.size);
  gnutls_free (der.data);

  return bytes;
}

/**
 * lk_key_pair_get_fingerprint:
 *
 * Returns: the SHA-256 of the public key, unpadded base64url: a stable,
 *   non-secret identifier for the key
 */
char *
lk_key_pair_get_fingerprint (LkKeyPair *self)
{
  guint8 digest[LK_SHA256_LENGTH];
  gsize len;
  const guint8 *der;

  g_return_val_if_fail (LK_IS_KEY_PAIR (self), NULL);

  der = g_bytes_get_data (self->public_der, &len);
  lk_crypto_sha256 (der, len, digest);

  return lk_base64url_encode (digest, sizeof digest);
}

/**
 * lk_key_pair_sign:
 *
 * Returns: (transfer full): an ECDSA-SHA256 signature (DER), as X.509 uses
 */
GBytes *
lk_key_pair_sign (LkKeyPair  *self,
                  GBytes     *data,
                  GError    **error)
{
  gnutls_datum_t datum, signature = { NULL, 0 };
  GBytes *bytes;
  gsize len;
  int ret;

  g_return_val_if_fail (LK_IS_KEY_PAIR (self), NULL);
  g_return_val_if_fail (data != NULL, NULL);

  if (self->privkey == NULL)
    {
      g_set_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_NO_PRIVATE_KEY,
                   _("This key cannot sign: it has no private part"));
      return NULL;
    }

  datum.data = (guchar *) g_bytes_get_data (data, &len);
  datum.size = len;

  ret = gnutls_privkey_sign_data2 (self->privkey, GNUTLS_SIGN_ECDSA_SHA256, 0, &datum, &signature);
  if (!gnutls_check (ret, LK_CRYPTO_ERROR_FAILED, _("Could not sign"), error))
    return NULL;

  bytes = g_bytes_new (signature.data, signature.size);
  gnutls_free (signature.data);

  return bytes;
}

gboolean
lk_key_pair_verify (LkKeyPair  *self,
                    GBytes     *data,
                    GBytes     *signature,
                    GError    **error)
{
  gnutls_datum_t datum, sig;
  gsize len;
  int ret;

  g_return_val_if_fail (LK_IS_KEY_PAIR (self), FALSE);
  g_return_val_if_fail (data != NULL && signature != NULL, FALSE);

  datum.data = (guchar *) g_bytes_get_data (data, &len);
  datum.size = len;
  sig.data = (guchar *) g_bytes_get_data (signature, &len);
  sig.size = len;

  ret = gnutls_pubkey_verify_data2 (self->pubkey, GNUTLS_SIGN_ECDSA_SHA256, 0, &datum, &sig);
  if (ret < 0)
    {
      g_set_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_BAD_SIGNATURE,
                   _("The signature does not match"));
      return FALSE;
    }

  return TRUE;
}
