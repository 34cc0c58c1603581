/* lk-test-wallet-dump.c: prints every item of this session's wallet
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * For tests that look for secrets where they must be (and must not be):
 * the items are sealed in a file, so a test sees them through LkStore, run
 * in the device's own session (its bus, keyring and data directory).
 */

#define G_LOG_DOMAIN "lk-test-wallet-dump"

#include "config.h"

#include <stdio.h>

#include "latchkey-core.h"

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(LkStore) store = lk_store_new ();
  const LkStoreKind kinds[] = { LK_STORE_KIND_CREDENTIAL, LK_STORE_KIND_TRANSFER };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GPtrArray) all = NULL;
      g_autoptr(GError) error = NULL;

      lk_store_load_all_async (store, kinds[k], NULL, on_done, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      all = lk_store_load_all_finish (store, result, &error);
      if (all == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      for (guint i = 0; i < all->len; i++)
        printf ("secret = %s\n", (const char *) g_ptr_array_index (all, i));
    }
  return 0;
}
