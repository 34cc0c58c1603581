/* lk-test-actor.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-test-actor"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "lk-test-actor.h"
#include "lk-test-server.h"

#define KEYRING_PASSWORD "latchkey-e2e"

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* How long a keyring may take to own its bus name before it is started
 * again; a test makes it short to check the retry. */
guint lk_test_actor_keyring_wait_seconds = 20;

static GSubprocess *
spawn (LkTestActor         *self,
       GSubprocessFlags     flags,
       const char * const  *argv,
       GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_environ (launcher, self->env);
  g_subprocess_launcher_set_cwd (launcher, self->dir);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

/* The same, its standard error appended to @log (what a daemon says of
 * why it did not start). */
static GSubprocess *
spawn_logged (LkTestActor         *self,
              GSubprocessFlags     flags,
              const char * const  *argv,
              const char          *log,
              GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_environ (launcher, self->env);
  g_subprocess_launcher_set_cwd (launcher, self->dir);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

void
lk_test_actor_set_env (LkTestActor *self,
                       const char  *variable,
                       const char  *value)
{
  self->env = g_environ_setenv (self->env, variable, value, TRUE);
}

static gboolean
on_deadline (gpointer user_data)
{
  gboolean *passed = user_data;

  *passed = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_name_appeared (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

/**
 * lk_test_actor_new:
 *
 * Starts a private session bus and a gnome-keyring whose login collection
 * is created unlocked (a fresh data directory and a known password), and
 * returns once the keyring owns its bus name.
 */
LkTestActor *
lk_test_actor_new (const char *name,
                   const char *relay_url,
                   const char *partner_url)
{
  LkTestActor *self = g_new0 (LkTestActor, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GVariant) locked = NULL;
  g_autoptr(GBytes) password = g_bytes_new_static (KEYRING_PASSWORD, strlen (KEYRING_PASSWORD));
  g_autofree char *bus_path = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *keyring_log = NULL;
  const char *subdirs[] = { "run", "data", "config", "cache", "home" };
  gboolean appeared = FALSE;
  gboolean passed;
  guint watch, timer;

  self->name = g_strdup (name);
  self->dir = g_dir_make_tmp ("latchkey-actor-XXXXXX", &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (self->dir, subdirs[i], NULL);
      g_assert_no_errno (g_mkdir (path, 0700));
    }

  self->env = g_get_environ ();
  self->env = g_environ_unsetenv (self->env, "DISPLAY");
  self->env = g_environ_unsetenv (self->env, "WAYLAND_DISPLAY");
#define SUBDIR(var, sub) \
  G_STMT_START { g_autofree char *p = g_build_filename (self->dir, sub, NULL); lk_test_actor_set_env (self, var, p); } G_STMT_END
  SUBDIR ("XDG_RUNTIME_DIR", "run");
  SUBDIR ("XDG_DATA_HOME", "data");
  SUBDIR ("XDG_CONFIG_HOME", "config");
  SUBDIR ("XDG_CACHE_HOME", "cache");
  SUBDIR ("HOME", "home");
#undef SUBDIR
  if (relay_url != NULL)
    lk_test_actor_set_env (self, "LATCHKEY_RELAY_URL", relay_url);
  if (partner_url != NULL)
    lk_test_actor_set_env (self, "LATCHKEY_PARTNER_URL", partner_url);

  bus_path = g_build_filename (self->dir, "run", "bus", NULL);
  listen = g_strconcat ("--address=unix:path=", bus_path, NULL);
  {
    const char *argv[] = { "dbus-daemon", "--session", "--nofork", "--print-address=1", listen, NULL };

    self->bus = spawn (self, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, argv, &error);
    g_assert_no_error (error);
  }

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->bus));
  self->bus_address = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (self->bus_address);
  lk_test_actor_set_env (self, "DBUS_SESSION_BUS_ADDRESS", self->bus_address);

  connection = g_dbus_connection_new_for_address_sync (self->bus_address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);

  keyring_log = g_build_filename (self->dir, "keyring.log", NULL);
  for (guint attempt = 0; attempt < 3; attempt++)
    {
      /* A fresh data directory: the login keyring is created with this
       * password, unlocked, so nothing will ever prompt. Started again
       * if its name never came (seen once in CI, under load: the test
       * then said only "appeared"); its messages go to keyring.log. */
      if (!appeared)
        {
          const char *argv[] = { "gnome-keyring-daemon", "--unlock", "--components=secrets", NULL };
          g_autoptr(GSubprocess) keyring = NULL;

          g_clear_error (&error);
          keyring = spawn_logged (self, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE, argv,
                                  keyring_log, &error);
          g_assert_no_error (error);
          g_subprocess_communicate (keyring, password, NULL, NULL, NULL, &error);
          g_assert_no_error (error);
        }

      /* It forks; wait for its bus name, an event on the bus. The daemon
       * that first owns the name can still hand over to the one the
       * session's unlock started (seen once under ASan: NoReply): ask
       * again of whoever owns the name then. */
      appeared = FALSE;
      g_clear_error (&error);
      watch = g_bus_watch_name_on_connection (connection, "org.freedesktop.secrets", G_BUS_NAME_WATCHER_FLAGS_NONE,
                                              on_name_appeared, NULL, &appeared, NULL);
      /* A timer, so that the loop wakes at the deadline even if nothing
       * else happens (before, a name that never came hung the test). */
      passed = FALSE;
      timer = g_timeout_add_seconds (lk_test_actor_keyring_wait_seconds, on_deadline, &passed);
      while (!appeared && !passed)
        g_main_context_iteration (NULL, TRUE);
      if (!passed)
        g_source_remove (timer);
      g_bus_unwatch_name (watch);
      if (!appeared)
        {
          g_autofree char *log = NULL;

          g_file_get_contents (keyring_log, &log, NULL, NULL);
          g_test_message ("%s: the keyring did not take its bus name in %u s (attempt %u); its messages: %s",
                          name, lk_test_actor_keyring_wait_seconds, attempt + 1,
                          log != NULL && *log != '\0' ? log : "none");
          continue;
        }

      g_clear_pointer (&locked, g_variant_unref);
      locked = g_dbus_connection_call_sync (connection, "org.freedesktop.secrets",
                                            "/org/freedesktop/secrets/collection/login",
                                            "org.freedesktop.DBus.Properties", "Get",
                                            g_variant_new ("(ss)", "org.freedesktop.Secret.Collection", "Locked"),
                                            G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL,
                                            &error);
      if (!g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) &&
          !g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
        break;
    }
  if (!appeared)
    g_error ("%s: no keyring took its bus name in three tries of %u s (messages in %s)", name,
             lk_test_actor_keyring_wait_seconds, keyring_log);
  g_assert_no_error (error);
  {
    g_autoptr(GVariant) value = NULL;

    g_variant_get (locked, "(v)", &value);
    g_assert_false (g_variant_get_boolean (value));
  }

  g_dbus_connection_close_sync (connection, NULL, NULL);
  return self;
}

void
lk_test_actor_free (LkTestActor *self)
{
  if (self == NULL)
    return;

  /* The keyring leaves when its bus goes. */
  if (self->bus != NULL)
    {
      g_subprocess_send_signal (self->bus, SIGTERM);
      g_subprocess_wait (self->bus, NULL, NULL);
      g_object_unref (self->bus);
    }

  lk_test_remove_tree (self->dir);
  g_free (self->name);
  g_free (self->dir);
  g_free (self->bus_address);
  g_strfreev (self->env);
  g_free (self);
}

void
lk_test_run_free (LkTestRun *run)
{
  if (run == NULL)
    return;
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

/**
 * lk_test_actor_runv:
 * @input: (nullable): the command's standard input
 * @args: latchkey-cli's arguments
 *
 * Runs latchkey-cli on this device and waits for it.
 */
LkTestRun *
lk_test_actor_runv (LkTestActor        *self,
                    const char         *input,
                    const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  LkTestRun *run = g_new0 (LkTestRun, 1);
  const char *cli = g_getenv ("LATCHKEY_CLI");

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer) cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  process = spawn (self, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                   G_SUBPROCESS_FLAGS_STDERR_PIPE, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input ? input : "", NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);

  if (g_subprocess_get_if_signaled (process))
    g_error ("%s: latchkey-cli %s died of signal %d:\n%s", self->name, args[0],
             g_subprocess_get_term_sig (process), run->err);
  run->status = g_subprocess_get_exit_status (process);

  {
    g_autofree char *line = g_strjoinv (" ", (char **) args);

    g_test_message ("%s$ latchkey-cli %s → %d\n%s%s", self->name, line, run->status, run->out, run->err);
  }
  return run;
}

LkTestRun *
lk_test_actor_run (LkTestActor *self,
                   const char  *input,
                   ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *arg;
  va_list ap;

  va_start (ap, input);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  return lk_test_actor_runv (self, input, (const char * const *) args->pdata);
}

/**
 * lk_test_actor_keyring_secrets:
 *
 * Returns: every item of this device's wallet (sealed in a file under a
 *   key in its keyring), one "secret = JSON" a line (for tests that look
 *   for secrets where they must not be)
 */
char *
lk_test_actor_keyring_secrets (LkTestActor *self)
{
  const char *argv[] = { g_getenv ("LATCHKEY_TEST_WALLET_DUMP"), NULL };
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  process = spawn (self, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  return out;
}

/**
 * lk_test_actor_store_item:
 * @kind: "credential" or "transfer"
 * @json: the item's secret
 *
 * Puts an item in this device's keyring as Latchkey stores it, with
 * secret-tool: an item an older Latchkey wrote, for migration tests.
 */
void
lk_test_actor_store_item (LkTestActor *self,
                          const char  *kind,
                          const char  *id,
                          const char  *json)
{
  const char *argv[] = { "secret-tool", "store", "--label=Latchkey test item", "xdg:schema",
                         "io.github.latchkey.Latchkey", "kind", kind, "id", id, NULL };
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  process = spawn (self, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, json, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
}

/**
 * lk_test_actor_enroll:
 * @title: (nullable): the key's title, or the CLI's default
 *
 * Enrols a demo key of @vertical with the partner; fails the test if the
 * CLI fails.
 *
 * Returns: the new credential's id
 */
char *
lk_test_actor_enroll (LkTestActor *self,
                      const char  *vertical,
                      const char  *title)
{
  g_autoptr(LkTestRun) run = title ? lk_test_actor_run (self, NULL, "enroll", "--title", title, vertical, NULL)
                                   : lk_test_actor_run (self, NULL, "enroll", vertical, NULL);

  g_assert_cmpint (run->status, ==, 0);
  return g_strstrip (g_strdup (run->out));
}

static char *
line_value (const char *text,
            const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strdup (lines[i] + strlen (prefix));
  return NULL;
}

/**
 * lk_test_actor_share:
 * @...: more options for `latchkey-cli share`, then %NULL
 *
 * Shares @credential (without printing a QR code); fails the test if the
 * CLI fails or prints no share id or link.
 */
LkTestShare *
lk_test_actor_share (LkTestActor *self,
                     const char  *credential,
                     ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(LkTestRun) run = NULL;
  LkTestShare *share = g_new0 (LkTestShare, 1);
  const char *arg;
  va_list ap;

  g_ptr_array_add (args, (gpointer) "share");
  g_ptr_array_add (args, (gpointer) credential);
  g_ptr_array_add (args, (gpointer) "--no-qr");
  va_start (ap, credential);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  run = lk_test_actor_runv (self, NULL, (const char * const *) args->pdata);
  g_assert_cmpint (run->status, ==, 0);
  share->id = line_value (run->out, "Share: ");
  share->link = line_value (run->out, "Link: ");
  share->code = line_value (run->out, "Activation code: ");
  g_assert_nonnull (share->id);
  g_assert_nonnull (share->link);
  return share;
}

void
lk_test_share_free (LkTestShare *share)
{
  if (share == NULL)
    return;
  g_free (share->id);
  g_free (share->link);
  g_free (share->code);
  g_free (share);
}
