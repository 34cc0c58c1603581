/* lk-error.h: error domains of the Latchkey core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LK_LINK_ERROR       (lk_link_error_quark ())
#define LK_MESSAGE_ERROR    (lk_message_error_quark ())
#define LK_CRYPTO_ERROR     (lk_crypto_error_quark ())
#define LK_CREDENTIAL_ERROR (lk_credential_error_quark ())

/**
 * LkLinkError:
 * @LK_LINK_ERROR_TOO_LONG: the text is longer than %LK_SHARE_LINK_MAX_LENGTH
 * @LK_LINK_ERROR_MALFORMED: the text is not a URI at all
 * @LK_LINK_ERROR_SCHEME: neither https (http on loopback) nor the latchkey: wrapper
 * @LK_LINK_ERROR_HOST: no host, or user information before the host
 * @LK_LINK_ERROR_PATH: the path is not /v1/m/{id}: parts missing or extra
 * @LK_LINK_ERROR_VERSION: a protocol version other than v1
 * @LK_LINK_ERROR_MAILBOX_ID: the mailbox identifier is not a UUID
 * @LK_LINK_ERROR_VERTICAL: the `v` parameter names an unknown vertical
 * @LK_LINK_ERROR_PARAMETER: an unknown or repeated query parameter
 * @LK_LINK_ERROR_SECRET_MISSING: no secret in the fragment
 * @LK_LINK_ERROR_SECRET_SHORT: the secret decodes to fewer than 16 bytes
 * @LK_LINK_ERROR_SECRET_INVALID: the secret is not base64, or not 16 or 32 bytes
 */
typedef enum
{
  LK_LINK_ERROR_TOO_LONG,
  LK_LINK_ERROR_MALFORMED,
  LK_LINK_ERROR_SCHEME,
  LK_LINK_ERROR_HOST,
  LK_LINK_ERROR_PATH,
  LK_LINK_ERROR_VERSION,
  LK_LINK_ERROR_MAILBOX_ID,
  LK_LINK_ERROR_VERTICAL,
  LK_LINK_ERROR_PARAMETER,
  LK_LINK_ERROR_SECRET_MISSING,
  LK_LINK_ERROR_SECRET_SHORT,
  LK_LINK_ERROR_SECRET_INVALID,
} LkLinkError;

/**
 * LkMessageError:
 * @LK_MESSAGE_ERROR_MALFORMED: the payload or plaintext does not have the expected shape
 * @LK_MESSAGE_ERROR_TOO_LARGE: the payload exceeds %LK_MESSAGE_MAX_DATA_LENGTH
 * @LK_MESSAGE_ERROR_UNSUPPORTED: an unknown payload type, or a key of the wrong size for it
 * @LK_MESSAGE_ERROR_DECRYPT: a wrong key, or the data was tampered with
 * @LK_MESSAGE_ERROR_WRONG_MAILBOX: the message was sealed for another mailbox
 * @LK_MESSAGE_ERROR_REFLECTED: the message claims to come from our own side
 * @LK_MESSAGE_ERROR_REPLAYED: the sequence number was already seen
 * @LK_MESSAGE_ERROR_OUT_OF_ORDER: the sequence number skips a message
 * @LK_MESSAGE_ERROR_BROKEN_CHAIN: the previous-message digest does not match
 */
typedef enum
{
  LK_MESSAGE_ERROR_MALFORMED,
  LK_MESSAGE_ERROR_TOO_LARGE,
  LK_MESSAGE_ERROR_UNSUPPORTED,
  LK_MESSAGE_ERROR_DECRYPT,
  LK_MESSAGE_ERROR_WRONG_MAILBOX,
  LK_MESSAGE_ERROR_REFLECTED,
  LK_MESSAGE_ERROR_REPLAYED,
  LK_MESSAGE_ERROR_OUT_OF_ORDER,
  LK_MESSAGE_ERROR_BROKEN_CHAIN,
} LkMessageError;

/**
 * LkCryptoError:
 * @LK_CRYPTO_ERROR_FAILED: GnuTLS reported an error
 * @LK_CRYPTO_ERROR_INVALID_KEY: key material could not be imported
 * @LK_CRYPTO_ERROR_BAD_SIGNATURE: a signature did not verify
 */
typedef enum
{
  LK_CRYPTO_ERROR_FAILED,
  LK_CRYPTO_ERROR_INVALID_KEY,
  LK_CRYPTO_ERROR_BAD_SIGNATURE,
} LkCryptoError;

/**
 * LkCredentialError:
 * @LK_CREDENTIAL_ERROR_INVALID: the serialised credential is malformed
 * @LK_CREDENTIAL_ERROR_NO_PRIVATE_KEY: an operation needs the private key, which is absent
 */
typedef enum
{
  LK_CREDENTIAL_ERROR_INVALID,
  LK_CREDENTIAL_ERROR_NO_PRIVATE_KEY,
} LkCredentialError;

GQuark lk_link_error_quark       (void);
GQuark lk_message_error_quark    (void);
GQuark lk_crypto_error_quark     (void);
GQuark lk_credential_error_quark (void);

G_END_DECLS
