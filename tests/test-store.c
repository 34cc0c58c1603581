/* test-store.c: the keyring store against a real gnome-keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs inside build-aux/headless-session.sh: a private bus and an unlocked
 * login keyring of its own.
 */

#define G_LOG_DOMAIN "test-store"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "latchkey-core.h"
#include "lk-test-async.h"

static gboolean
save (LkStore     *store,
      const char  *id,
      const char  *secret,
      GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lk_store_save_async (store, LK_STORE_KIND_CREDENTIAL, id, "Latchkey test item", secret, NULL, lk_test_on_done, &result);
  return lk_store_save_finish (store, lk_test_wait_for (&result), error);
}

static gboolean
check (LkStore  *store,
       GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lk_store_check_async (store, NULL, lk_test_on_done, &result);
  return lk_store_check_finish (store, lk_test_wait_for (&result), error);
}

static GPtrArray *
load_all (LkStore     *store,
          GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lk_store_load_all_async (store, LK_STORE_KIND_CREDENTIAL, NULL, lk_test_on_done, &result);
  return lk_store_load_all_finish (store, lk_test_wait_for (&result), error);
}

static gboolean
delete (LkStore     *store,
        const char  *id,
        GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lk_store_delete_async (store, LK_STORE_KIND_CREDENTIAL, id, NULL, lk_test_on_done, &result);
  return lk_store_delete_finish (store, lk_test_wait_for (&result), error);
}

/* Whether @needle is anywhere in binary @data. */
static gboolean
contains (const char *data,
          gsize       len,
          const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static void
test_round_trip (void)
{
  g_autoptr(LkStore) store = lk_store_new ();
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) query = g_hash_table_new (g_str_hash, g_str_equal);
  GList *found;
  const char *id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

  g_assert_true (save (store, id, "{\"secret\":\"one\"}", &error));
  g_assert_no_error (error);
  /* Saving again replaces: one item per id. */
  g_assert_true (save (store, id, "{\"secret\":\"two\"}", &error));
  g_assert_true (save (store, "0f8fad5b-d9cb-469f-a165-70867728950e", "{\"secret\":\"other\"}", &error));

  items = load_all (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_true (g_strcmp0 (g_ptr_array_index (items, 0), "{\"secret\":\"two\"}") == 0 ||
                 g_strcmp0 (g_ptr_array_index (items, 1), "{\"secret\":\"two\"}") == 0);

  /* The keyring holds one item of ours, the wallet key, and none of the
   * items: its attributes are the kind and the id only. */
  {
    g_autoptr(GAsyncResult) result = NULL;

    secret_password_searchv (lk_store_get_schema (), query, SECRET_SEARCH_ALL, NULL, lk_test_on_done, &result);
    found = secret_password_search_finish (lk_test_wait_for (&result), &error);
  }
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (found), ==, 1);
  for (GList *l = found; l != NULL; l = l->next)
    {
      g_autoptr(GHashTable) attributes = secret_retrievable_get_attributes (l->data);
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, attributes);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_assert_true (g_strv_contains ((const char * const[]) { "kind", "id", "xdg:schema", NULL }, key));
      g_assert_cmpstr (g_hash_table_lookup (attributes, "xdg:schema"), ==, LK_STORE_SCHEMA_NAME);
      g_assert_cmpstr (g_hash_table_lookup (attributes, "kind"), ==, "key");
      g_assert_cmpstr (g_hash_table_lookup (attributes, "id"), ==, "wallet");
    }
  g_list_free_full (found, g_object_unref);

  /* The file (and its write-ahead log) holds the items sealed: no secret
   * in clear; the user alone may read it. */
  {
    g_autofree char *path = g_build_filename (g_get_user_data_dir (), "latchkey", "wallet.db", NULL);
    const char *suffixes[] = { "", "-wal" };
    GStatBuf st;

    for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
      {
        g_autofree char *file = g_strconcat (path, suffixes[i], NULL);
        g_autofree char *contents = NULL;
        gsize len = 0;

        if (!g_file_test (file, G_FILE_TEST_EXISTS))
          continue;
        g_assert_true (g_file_get_contents (file, &contents, &len, &error));
        g_assert_no_error (error);
        g_assert_false (contains (contents, len, "\"secret\""));
        g_assert_false (contains (contents, len, "other"));
        g_assert_cmpint (g_stat (file, &st), ==, 0);
        g_assert_cmpint (st.st_mode & 0777, ==, 0600);
      }
  }

  g_assert_true (delete (store, id, &error));
  g_assert_no_error (error);
  g_assert_false (delete (store, id, &error));
  g_assert_error (error, LK_STORE_ERROR, LK_STORE_ERROR_NOT_FOUND);
}

static void
test_locked (void)
{
  g_autoptr(LkStore) store = lk_store_new ();
  g_autoptr(SecretService) service = NULL;
  g_autoptr(SecretCollection) login = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  GList *objects;
  gint64 started;

  /* Unlocked, the check passes; it is what receiving asks before it claims. */
  g_assert_true (check (store, &error));
  g_assert_no_error (error);

  service = secret_service_get_sync (SECRET_SERVICE_LOAD_COLLECTIONS, NULL, &error);
  g_assert_no_error (error);
  login = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, NULL, &error);
  g_assert_no_error (error);
  objects = g_list_append (NULL, login);
  secret_service_lock_sync (service, objects, NULL, NULL, &error);
  g_list_free (objects);
  g_assert_no_error (error);

  /* Locked: a clear error at once, and no password prompt. */
  started = g_get_monotonic_time ();
  g_assert_false (save (store, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "{}", &error));
  g_assert_error (error, LK_STORE_ERROR, LK_STORE_ERROR_LOCKED);
  g_assert_nonnull (strstr (error->message, "locked"));
  g_clear_error (&error);
  items = load_all (store, &error);
  g_assert_error (error, LK_STORE_ERROR, LK_STORE_ERROR_LOCKED);
  g_assert_null (items);
  g_clear_error (&error);
  g_assert_false (check (store, &error));
  g_assert_error (error, LK_STORE_ERROR, LK_STORE_ERROR_LOCKED);
  g_assert_cmpint (g_get_monotonic_time () - started, <, LK_STORE_TIMEOUT_SECONDS * G_USEC_PER_SEC);
}

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* A session bus with no keyring, and nothing it could activate. */
static const char bare_bus_config[] =
  "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
  "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">"
  "<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen>"
  "<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
  "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>";

static void
test_no_keyring (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GSubprocess) bus = NULL;
      g_autoptr(GDataInputStream) out = NULL;
      g_autoptr(LkStore) store = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *config = NULL;
      g_autofree char *address = NULL;
      g_autofree char *arg = NULL;
      int fd = g_file_open_tmp ("bare-bus-XXXXXX.conf", &config, &error);

      g_assert_no_error (error);
      g_assert_true (g_file_set_contents (config, bare_bus_config, -1, &error));
      close (fd);
      arg = g_strconcat ("--config-file=", config, NULL);
      {
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                             G_SUBPROCESS_FLAGS_STDERR_SILENCE);
        const char *argv[] = { "dbus-daemon", arg, "--nofork", "--print-address=1", NULL };

        /* The bus must not outlive us, or the trap waits on its pipe. */
        g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
        bus = g_subprocess_launcher_spawnv (launcher, argv, &error);
      }
      g_assert_no_error (error);
      out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus));
      address = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
      g_assert_no_error (error);
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);

      store = lk_store_new ();
      g_assert_false (save (store, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "{}", &error));
      g_assert_error (error, LK_STORE_ERROR, LK_STORE_ERROR_NO_KEYRING);
      g_print ("%s\n", error->message);

      g_subprocess_force_exit (bus);
      g_unlink (config);
      return;
    }

  g_test_trap_subprocess (NULL, (LK_STORE_TIMEOUT_SECONDS + 5) * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*No keyring service*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/store/round-trip", test_round_trip);
  g_test_add_func ("/store/no-keyring", test_no_keyring);
  /* Last: it leaves the keyring locked. */
  g_test_add_func ("/store/locked", test_locked);

  return g_test_run ();
}
