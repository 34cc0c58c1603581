/* fuzz-relay-request.c: libFuzzer target for the relay's body and header parsing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The first byte picks the parser: create body, update body, one of the
 * headers (ETag, Prefer, UUID, Content-Type), or the SQLite store's
 * payload bytes (which must give the text back exactly).
 */

#define G_LOG_DOMAIN "fuzz-relay-request"

#include "config.h"

#include <string.h>

#include "httpd-server.h"
#include "relay-payload.h"
#include "relay-request.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_body (gboolean   ok,
            RelayBody *body,
            GError    *error)
{
  g_assert (ok == (error == NULL));
  if (ok)
    g_assert (body->payload_type != NULL && body->payload_data != NULL);
  else
    g_assert (error->domain == RELAY_REQUEST_ERROR);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *text = NULL;
  const char *rest = (const char *) data + 1;
  gsize len = size - 1;

  if (size < 1)
    return 0;

  text = g_strndup (rest, len);

  switch (data[0] % 7)
    {
    case 0:
      {
        g_auto(RelayBody) body = { 0 };
        g_autoptr(GError) error = NULL;
        gboolean ok = relay_parse_create_body (rest, len, &body, &error);

        check_body (ok, &body, error);
        if (ok)
          g_assert (body.title != NULL);
      }
      break;

    case 1:
      {
        g_auto(RelayBody) body = { 0 };
        g_autoptr(GError) error = NULL;

        check_body (relay_parse_update_body (rest, len, &body, &error), &body, error);
      }
      break;

    case 2:
      {
        gint64 version;

        if (relay_parse_etag (text, &version))
          {
            g_autofree char *etag = relay_format_etag (version);
            gint64 again;

            g_assert (version >= 0);
            g_assert (relay_parse_etag (etag, &again) && again == version);
          }
      }
      break;

    case 3:
      {
        guint wait;

        if (relay_parse_prefer_wait (text, &wait))
          g_assert (wait <= RELAY_MAX_WAIT_SECONDS);
      }
      break;

    case 4:
      {
        g_autofree char *uuid = relay_parse_uuid (text);

        g_assert (uuid == NULL || strlen (uuid) == 36);
      }
      break;

    case 6:
      {
        gsize n_bytes;
        g_autofree guint8 *bytes = relay_payload_to_bytes (text, &n_bytes);

        if (bytes != NULL)
          {
            g_autofree char *again = relay_payload_to_text (bytes, n_bytes);

            g_assert_cmpstr (again, ==, text);
          }
      }
      break;

    default:
      httpd_is_json_content_type (text);
      break;
    }

  return 0;
}
