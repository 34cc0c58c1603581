/* fuzz-share-link.c: libFuzzer target for the share-link parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "fuzz-share-link"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(GError) error = NULL;

  link = lk_share_link_parse (text, &error);
  g_assert ((link == NULL) == (error != NULL));

  if (link != NULL)
    {
      g_autoptr(LkSecureString) formatted = lk_share_link_to_string (link);
      g_autoptr(LkSecureString) uri = lk_share_link_to_uri (link);
      g_autoptr(LkShareLink) again = lk_share_link_parse (formatted, NULL);
      g_autoptr(LkShareLink) again_uri = lk_share_link_parse (uri, NULL);
      g_autoptr(LkSecureString) reformatted = NULL;

      /* What we accept, we can print, and what we print, we accept unchanged. */
      g_assert (again != NULL && again_uri != NULL);
      reformatted = lk_share_link_to_string (again);
      g_assert (strcmp (formatted, reformatted) == 0);
      g_assert (g_bytes_equal (lk_share_link_get_secret (link), lk_share_link_get_secret (again)));
    }
  else
    g_assert (error->domain == LK_LINK_ERROR);

  /* The same text as a link whose secret came separately, and as that secret. */
  {
    g_autoptr(GError) separate_error = NULL;
    g_autoptr(LkShareLink) separate = lk_share_link_parse_with_secret (text, "AAECAwQFBgcICQoLDA0ODw",
                                                                       &separate_error);
    g_autoptr(LkShareLink) as_secret = lk_share_link_parse_with_secret ("https://relay.example/v1/m/"
                                                                        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                                                                        text, NULL);

    g_assert ((separate == NULL) == (separate_error != NULL));
    g_assert (separate == NULL || g_bytes_get_size (lk_share_link_get_secret (separate)) == 16);
    g_assert (as_secret == NULL || lk_share_link_get_secret (as_secret) != NULL);
  }

  return 0;
}
