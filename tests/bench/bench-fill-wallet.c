/* bench-fill-wallet.c: tops the wallet up to COUNT keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Not a test: build-aux/bench-wallet.sh runs it in its private session to
 * give the app a host's wallet. The keys are copies of those already
 * enrolled (latchkey-cli enroll), each under a new id and a numbered title,
 * written through LkStore as the app would find them.
 *
 *   bench-fill-wallet COUNT
 */

#define G_LOG_DOMAIN "bench-fill-wallet"

#include "config.h"

#include <stdlib.h>

#include "latchkey-core.h"

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static char *
copy_of (const char *json,
         const char *id,
         guint       number)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *title = NULL;
  JsonObject *object;

  if (!json_parser_load_from_data (parser, json, -1, NULL))
    g_error ("Cannot parse a wallet item");
  object = json_node_get_object (json_parser_get_root (parser));
  title = g_strdup_printf ("%s %u", json_object_get_string_member (object, "title"), number);
  json_object_set_string_member (object, "id", id);
  json_object_set_string_member (object, "title", title);
  json_generator_set_root (generator, json_parser_get_root (parser));
  return json_generator_to_data (generator, NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(LkStore) store = lk_store_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GError) error = NULL;
  guint count = argc > 1 ? (guint) atoi (argv[1]) : 0;

  lk_store_load_all_async (store, LK_STORE_KIND_CREDENTIAL, NULL, on_done, &result);
  all = lk_store_load_all_finish (store, wait_for (&result), &error);
  g_clear_object (&result);
  if (all == NULL || all->len == 0)
    g_error ("No keys to copy: %s", error ? error->message : "the wallet is empty");

  for (guint n = all->len, i = 0; n < count; n++, i++)
    {
      g_autofree char *id = lk_uuid_new_random ();
      g_autofree char *json = copy_of (g_ptr_array_index (all, i % all->len), id, n + 1);

      lk_store_save_async (store, LK_STORE_KIND_CREDENTIAL, id, "Latchkey bench key", json, NULL, on_done, &result);
      if (!lk_store_save_finish (store, wait_for (&result), &error))
        g_error ("%s", error->message);
      g_clear_object (&result);
    }
  return 0;
}
