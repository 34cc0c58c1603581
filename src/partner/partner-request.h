/* partner-request.h: parsing and checking what clients send, without I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every field that ends up in a signed statement is checked here first: the
 * statements in lk-signing.h refuse newlines and commas, and a value that
 * could not have been signed is bad input, not a bad signature.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "latchkey-protocol.h"

G_BEGIN_DECLS

#define PARTNER_REQUEST_ERROR (partner_request_error_quark ())

typedef enum
{
  PARTNER_REQUEST_ERROR_BAD_JSON,     /* not JSON, or not an object */
  PARTNER_REQUEST_ERROR_BAD_FIELD,    /* a member missing, mistyped or out of bounds */
} PartnerRequestError;

#define PARTNER_MAX_TITLE            256
#define PARTNER_MAX_ENTITLEMENTS     32
#define PARTNER_MAX_ENTITLEMENT      64
#define PARTNER_MAX_KEY_TEXT         1024
#define PARTNER_MAX_SIGNATURE_TEXT   512
#define PARTNER_MIN_CODE             4
#define PARTNER_MAX_CODE             64
/* base64url, unpadded, of 32 bytes: challenges, tokens, access tokens,
 * code verifiers and key fingerprints all have this shape. */
#define PARTNER_NONCE_LENGTH         43
#define PARTNER_NONCE_BYTES          32

/* An absent bound of a validity window. */
#define PARTNER_OPEN_START           G_MININT64
#define PARTNER_OPEN_END             G_MAXINT64

typedef enum
{
  PARTNER_WINDOW_OPEN,
  PARTNER_WINDOW_NOT_YET_VALID,
  PARTNER_WINDOW_EXPIRED,
} PartnerWindowState;

GQuark             partner_request_error_quark  (void);

JsonObject        *partner_parse_body           (const char          *data,
                                                 gsize                len,
                                                 GError             **error);
gboolean           partner_get_string           (JsonObject          *object,
                                                 const char          *member,
                                                 gsize                max_len,
                                                 gboolean             required,
                                                 const char         **out,
                                                 GError             **error);
gboolean           partner_get_uuid             (JsonObject          *object,
                                                 const char          *member,
                                                 const char         **out,
                                                 GError             **error);
gboolean           partner_get_nonce            (JsonObject          *object,
                                                 const char          *member,
                                                 const char         **out,
                                                 GError             **error);
gboolean           partner_get_time             (JsonObject          *object,
                                                 const char          *member,
                                                 gboolean             end,
                                                 const char         **text,
                                                 gint64              *value,
                                                 GError             **error);
gboolean           partner_get_window           (JsonObject          *object,
                                                 const char         **from_text,
                                                 gint64              *from,
                                                 const char         **until_text,
                                                 gint64              *until,
                                                 GError             **error);
GStrv              partner_get_entitlements     (JsonObject          *object,
                                                 const char          *member,
                                                 GError             **error);
LkKeyPair         *partner_get_public_key       (JsonObject          *object,
                                                 const char          *member,
                                                 const char         **text,
                                                 GError             **error);
GBytes            *partner_get_signature        (JsonObject          *object,
                                                 const char          *member,
                                                 GError             **error);

gboolean           partner_is_nonce             (const char          *text);
PartnerWindowState partner_window_check         (gint64               from,
                                                 gint64               until,
                                                 gint64               now);
gboolean           partner_window_contains      (gint64               outer_from,
                                                 gint64               outer_until,
                                                 gint64               inner_from,
                                                 gint64               inner_until);
gboolean           partner_entitlements_cover   (const char * const  *granted,
                                                 const char * const  *wanted);
char              *partner_encode_key           (LkKeyPair           *key);
void               partner_hash_secret          (const char          *secret,
                                                 guint8               digest[LK_SHA256_LENGTH]);

G_END_DECLS
