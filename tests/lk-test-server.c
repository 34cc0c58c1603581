/* lk-test-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-test-server"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "lk-test-server.h"

/**
 * lk_test_remove_tree:
 *
 * Removes a test's own directory and everything in it; symbolic links are
 * removed, never followed.
 */
void
lk_test_remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        lk_test_remove_tree (child);
      else
        g_unlink (child);
      g_object_unref (info);
    }
  g_rmdir (path);
}

/**
 * lk_test_server_new:
 * @binary_env: the environment variable that holds the binary's path, set
 *   by meson for the test
 * @args: (nullable): extra arguments; `--port 0 --data-dir DIR` are added
 *
 * The data directory is a fresh one of the test's own.
 */
LkTestServer *
lk_test_server_new (const char         *binary_env,
                    const char * const *args)
{
  LkTestServer *self = g_new0 (LkTestServer, 1);
  g_autoptr(GError) error = NULL;
  const char *binary = g_getenv (binary_env);

  if (binary == NULL)
    g_error ("%s is not set: run the test through meson", binary_env);

  self->binary = g_strdup (binary);
  self->data_dir = g_dir_make_tmp ("latchkey-test-XXXXXX", &error);
  g_assert_no_error (error);
  self->log_path = g_build_filename (self->data_dir, "server.log", NULL);
  self->args = g_strdupv ((char **) args);

  return self;
}

/**
 * lk_test_server_set_wrapper:
 * @wrapper: (nullable): a command and its arguments, to which the server's
 *   command line is appended (prlimit, unshare); it must exec the server,
 *   so that signals reach it
 */
void
lk_test_server_set_wrapper (LkTestServer       *self,
                            const char * const *wrapper)
{
  g_strfreev (self->wrapper);
  self->wrapper = g_strdupv ((char **) wrapper);
}

GPid
lk_test_server_get_pid (LkTestServer *self)
{
  const char *id = self->process != NULL ? g_subprocess_get_identifier (self->process) : NULL;

  return id != NULL ? atoi (id) : 0;
}

/* If the test dies (an assertion, a sanitizer abort), its servers go too. */
static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/**
 * lk_test_server_start:
 *
 * Starts (or restarts) the server and returns once it has printed its
 * "listening on URL" line: the server is then serving.
 */
void
lk_test_server_start (LkTestServer *self)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *db_dir = g_build_filename (self->data_dir, "db", NULL);
  g_autofree char *port = g_strdup_printf ("%u", self->port);
  const char *listening;

  for (guint i = 0; self->wrapper != NULL && self->wrapper[i] != NULL; i++)
    g_ptr_array_add (argv, self->wrapper[i]);
  g_ptr_array_add (argv, self->binary);
  g_ptr_array_add (argv, (char *) "--port");
  /* A restart takes the same port, so that clients keep their URLs. */
  g_ptr_array_add (argv, port);
  g_ptr_array_add (argv, (char *) "--data-dir");
  g_ptr_array_add (argv, db_dir);
  for (guint i = 0; self->args != NULL && self->args[i] != NULL; i++)
    g_ptr_array_add (argv, self->args[i]);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_set_stderr_file_path (launcher, self->log_path);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  g_clear_object (&self->process);
  self->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL)
    {
      g_autofree char *log = lk_test_server_read_log (self);
      g_error ("%s exited before listening:\n%s", self->binary, log);
    }

  listening = strstr (line, "listening on ");
  g_assert_nonnull (listening);
  g_free (self->url);
  self->url = g_strdup (listening + strlen ("listening on "));
  self->port = atoi (strrchr (self->url, ':') + 1);
  g_assert_cmpuint (self->port, >, 0);
}

/**
 * lk_test_server_kill:
 *
 * SIGKILL, as a crash or a power cut would stop it, and waits for it to be gone.
 */
void
lk_test_server_kill (LkTestServer *self)
{
  if (self->process == NULL)
    return;

  g_subprocess_send_signal (self->process, SIGKILL);
  g_subprocess_wait (self->process, NULL, NULL);
  g_clear_object (&self->process);
}

/**
 * lk_test_server_terminate:
 *
 * SIGTERM, then waits for the exit.
 *
 * Returns: the exit status, or -signal if it died of a signal
 */
int
lk_test_server_terminate (LkTestServer *self)
{
  int status;

  if (self->process == NULL)
    return 0;

  g_subprocess_send_signal (self->process, SIGTERM);
  g_subprocess_wait (self->process, NULL, NULL);
  status = g_subprocess_get_if_exited (self->process) ? g_subprocess_get_exit_status (self->process)
                                                       : -g_subprocess_get_term_sig (self->process);
  g_clear_object (&self->process);
  return status;
}

char *
lk_test_server_read_log (LkTestServer *self)
{
  char *log = NULL;

  if (!g_file_get_contents (self->log_path, &log, NULL, NULL))
    return g_strdup ("");
  return log;
}

void
lk_test_server_free (LkTestServer *self)
{
  int status = lk_test_server_terminate (self);

  /* A sanitizer report or a crash at exit must fail the test. */
  if (status != 0)
    {
      g_autofree char *log = lk_test_server_read_log (self);
      g_error ("%s exited with %d:\n%s", self->binary, status, log);
    }

  lk_test_remove_tree (self->data_dir);
  g_free (self->binary);
  g_free (self->data_dir);
  g_free (self->log_path);
  g_strfreev (self->args);
  g_strfreev (self->wrapper);
  g_free (self->url);
  g_free (self);
}
