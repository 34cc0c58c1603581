/* relay-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Messengers fetch the link to draw a preview (OpenGraph); people who open
 * it without Latchkey see what it is. The page has no script, and every
 * value from the sender is escaped for HTML text and attributes alike.
 */

#define G_LOG_DOMAIN "relay-page"

#include "config.h"

#include <string.h>

#include "lk-crypto.h"
#include "relay-page.h"

static const char style[] =
  "body{font-family:Cantarell,system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em;"
  "color:#1e1e1e;background:#fafafa}"
  "@media(prefers-color-scheme:dark){body{color:#fff;background:#242424}}"
  "h1{font-size:1.6em}img{max-width:100%;border-radius:12px}p.hint{opacity:.7}";

/**
 * relay_page_get_csp:
 *
 * No script may run on a page whose URL carries a secret in its fragment:
 * nothing is allowed but HTTPS images and our one stylesheet, named by hash.
 *
 * Returns: the Content-Security-Policy header value
 */
const char *
relay_page_get_csp (void)
{
  static char *csp;

  if (g_once_init_enter (&csp))
    {
      guint8 digest[LK_SHA256_LENGTH];
      g_autofree char *hash = NULL;

      lk_crypto_sha256 (style, strlen (style), digest);
      hash = g_base64_encode (digest, sizeof digest);
      g_once_init_leave (&csp, g_strdup_printf ("default-src 'none'; img-src https:; style-src 'sha256-%s'; "
                                                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                                                hash));
    }

  return csp;
}

char *
relay_page_render (const RelayMailbox *mailbox,
                   const char         *mailbox_url)
{
  g_autofree char *title = g_markup_escape_text (mailbox->title ? mailbox->title : "", -1);
  g_autofree char *description = g_markup_escape_text (mailbox->description ? mailbox->description : "", -1);
  g_autofree char *url = g_markup_escape_text (mailbox_url, -1);
  g_autofree char *image = mailbox->image_url ? g_markup_escape_text (mailbox->image_url, -1) : NULL;
  GString *page = g_string_new (NULL);

  g_string_append (page, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                         "<meta name=\"referrer\" content=\"no-referrer\">\n"
                         "<meta name=\"robots\" content=\"noindex, nofollow\">\n");
  g_string_append_printf (page, "<title>%s</title>\n", title);
  g_string_append_printf (page, "<meta property=\"og:title\" content=\"%s\">\n", title);
  g_string_append_printf (page, "<meta property=\"og:description\" content=\"%s\">\n", description);
  g_string_append (page, "<meta property=\"og:type\" content=\"website\">\n");
  g_string_append_printf (page, "<meta property=\"og:url\" content=\"%s\">\n", url);
  if (image != NULL)
    g_string_append_printf (page, "<meta property=\"og:image\" content=\"%s\">\n", image);
  g_string_append_printf (page, "<style>%s</style>\n</head><body>\n", style);
  if (image != NULL)
    g_string_append_printf (page, "<img src=\"%s\" alt=\"\">\n", image);
  g_string_append_printf (page, "<h1>%s</h1>\n<p>%s</p>\n", title, description);
  g_string_append (page, "<p class=\"hint\">Someone shared a key with you. Open this link with a wallet app "
                         "that supports TIGRESS credential sharing, such as Latchkey, to add it. "
                         "The key itself is end-to-end encrypted and is not on this page.</p>\n"
                         "</body></html>\n");

  return g_string_free (page, FALSE);
}

char *
relay_page_render_not_found (void)
{
  return g_strdup_printf ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
                          "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
                          "<title>Invitation not found</title><style>%s</style></head><body>\n"
                          "<h1>Invitation not found</h1>\n"
                          "<p>This invitation does not exist, or it has expired or been cancelled. "
                          "Ask the sender to share the key again.</p>\n</body></html>\n", style);
}
