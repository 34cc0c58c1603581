/* relay-request.h: parsing and checking what clients send, without I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Kept apart from the HTTP layer so that tests and the fuzzer can drive
 * every rule directly.
 */

#pragma once

#include <glib.h>

#include "relay-mailbox.h"

G_BEGIN_DECLS

#define RELAY_REQUEST_ERROR (relay_request_error_quark ())

typedef enum
{
  RELAY_REQUEST_ERROR_BAD_JSON,     /* not JSON, or not an object */
  RELAY_REQUEST_ERROR_BAD_FIELD,    /* a member missing, mistyped or out of bounds */
  RELAY_REQUEST_ERROR_BAD_HEADER,   /* a header that is not what the draft says */
} RelayRequestError;

#define RELAY_MAX_TITLE        256
#define RELAY_MAX_DESCRIPTION  1024
#define RELAY_MAX_IMAGE_URL    2048
#define RELAY_MAX_TOKEN_TYPE   128
#define RELAY_MAX_TOKEN_DATA   4096
#define RELAY_MAX_ATTESTATION  12288  /* an 8 KiB chain in base64, with room */
#define RELAY_MAX_WAIT_SECONDS 30
#define RELAY_MAX_RECIPIENTS   10     /* mailboxConfiguration.maxRecipients, ours */

typedef struct
{
  char        *payload_type;
  char        *payload_data;
  char        *title;
  char        *description;
  char        *image_url;
  char        *token;          /* notificationToken, re-serialised */
  RelayAccess  access;
  gint64       expiration;     /* Unix seconds; 0 when not given */
  guint        max_recipients; /* 1 when not given */
} RelayBody;

GQuark    relay_request_error_quark   (void);
void      relay_body_clear            (RelayBody   *body);
gboolean  relay_parse_create_body     (const char  *data,
                                       gsize        len,
                                       RelayBody   *body,
                                       GError     **error);
gboolean  relay_parse_update_body     (const char  *data,
                                       gsize        len,
                                       RelayBody   *body,
                                       GError     **error);
char     *relay_parse_uuid            (const char  *value);
gboolean  relay_parse_etag            (const char  *value,
                                       gint64      *version);
char     *relay_format_etag           (gint64       version);
gboolean  relay_parse_prefer_wait     (const char  *value,
                                       guint       *seconds);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RelayBody, relay_body_clear)

G_END_DECLS
