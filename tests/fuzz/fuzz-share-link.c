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

  return 0;
}
