/* test-cli.c: latchkey-cli, driven in process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-cli"

#include "config.h"

#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cli-command.h"
#include "lk-process.h"

typedef struct
{
  int   status;
  char *out;
  char *err;
} Result;

static void
result_clear (Result *result)
{
  g_free (result->out);
  g_free (result->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static void
run (Result      *result,
     const char  *input,
     ...)
{
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data (g_strdup (input), strlen (input), g_free);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) err = g_memory_output_stream_new_resizable ();
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list args;
  const char *arg;

  g_ptr_array_add (argv, (gpointer) "latchkey-cli");
  va_start (args, input);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  result->status = cli_run (argv->len - 1, (char **) argv->pdata, in, out, err);
  g_output_stream_write (out, "", 1, NULL, NULL);
  g_output_stream_write (err, "", 1, NULL, NULL);
  g_output_stream_close (out, NULL, NULL);
  g_output_stream_close (err, NULL, NULL);
  result->out = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
  result->err = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (err));
}

static void
test_usage (void)
{
  g_auto(Result) none = { 0 };
  g_auto(Result) help = { 0 };
  g_auto(Result) unknown = { 0 };
  g_auto(Result) version = { 0 };

  run (&none, "", NULL);
  g_assert_cmpint (none.status, ==, CLI_EXIT_USAGE);
  g_assert_nonnull (strstr (none.err, "inspect-link"));

  run (&help, "", "--help", NULL);
  g_assert_cmpint (help.status, ==, CLI_EXIT_OK);
  g_assert_nonnull (strstr (help.out, "Exit codes"));

  run (&unknown, "", "frobnicate", NULL);
  g_assert_cmpint (unknown.status, ==, CLI_EXIT_USAGE);
  g_assert_nonnull (strstr (unknown.err, "frobnicate"));

  run (&version, "", "--version", NULL);
  g_assert_cmpint (version.status, ==, CLI_EXIT_OK);
  g_assert_nonnull (strstr (version.out, PACKAGE_VERSION));
}

static void
test_inspect_link (void)
{
  g_auto(Result) good = { 0 };
  g_auto(Result) bad = { 0 };
  g_auto(Result) empty = { 0 };
  g_auto(Result) extra = { 0 };

  run (&good, "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8?v=c#hXlr6aRC7KgJpOLTNZaLsw==\n",
       "inspect-link", NULL);
  g_assert_cmpint (good.status, ==, CLI_EXIT_OK);
  g_assert_nonnull (strstr (good.out, "vertical: car"));
  g_assert_nonnull (strstr (good.out, "mailbox: 6ba7b810-9dad-11d1-80b4-00c04fd430c8"));
  g_assert_null (strstr (good.out, "hXlr6a"));

  run (&bad, "https://relay.example/v1/m/nope#hXlr6aRC7KgJpOLTNZaLsw==\n", "inspect-link", NULL);
  g_assert_cmpint (bad.status, ==, CLI_EXIT_BAD_INPUT);
  g_assert_nonnull (strstr (bad.err, "UUID"));

  run (&empty, "", "inspect-link", NULL);
  g_assert_cmpint (empty.status, ==, CLI_EXIT_BAD_INPUT);

  /* The link is never taken from the command line. */
  run (&extra, "", "inspect-link", "https://relay.example/", NULL);
  g_assert_cmpint (extra.status, ==, CLI_EXIT_USAGE);
}

/* One rule for every server address, from the command line or the
 * environment: https, or http to this machine only. */
static void
test_server_urls (void)
{
  static const char * const bad[] = {
    "http://relay.example",
    "http://10.0.0.7:8080",
    "ftp://relay.example",
    "https://user@relay.example",
    "https://relay.example/path",
    "not a url",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto(Result) relay = { 0 };
      g_auto(Result) partner = { 0 };
      g_auto(Result) env_relay = { 0 };
      g_auto(Result) env_partner = { 0 };

      run (&relay, "", "--relay", bad[i], "list", NULL);
      g_assert_cmpint (relay.status, ==, CLI_EXIT_USAGE);
      g_assert_nonnull (strstr (relay.err, "--relay"));

      run (&partner, "", "--partner", bad[i], "enroll", "home", NULL);
      g_assert_cmpint (partner.status, ==, CLI_EXIT_USAGE);
      g_assert_nonnull (strstr (partner.err, "--partner"));

      g_setenv ("LATCHKEY_RELAY_URL", bad[i], TRUE);
      run (&env_relay, "", "list", NULL);
      g_unsetenv ("LATCHKEY_RELAY_URL");
      g_assert_cmpint (env_relay.status, ==, CLI_EXIT_USAGE);
      g_assert_nonnull (strstr (env_relay.err, "LATCHKEY_RELAY_URL"));

      g_setenv ("LATCHKEY_PARTNER_URL", bad[i], TRUE);
      run (&env_partner, "", "enroll", "car", NULL);
      g_unsetenv ("LATCHKEY_PARTNER_URL");
      g_assert_cmpint (env_partner.status, ==, CLI_EXIT_USAGE);
      g_assert_nonnull (strstr (env_partner.err, "LATCHKEY_PARTNER_URL"));
    }

  /* Loopback may use http (a relay on this machine), and the option wins
   * over the environment. */
  {
    g_auto(Result) ok = { 0 };

    g_setenv ("LATCHKEY_RELAY_URL", "http://relay.example", TRUE);
    run (&ok, "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8?v=c#hXlr6aRC7KgJpOLTNZaLsw==\n",
         "--relay", "http://127.0.0.1:8080", "--partner", "http://[::1]:9", "inspect-link", NULL);
    g_unsetenv ("LATCHKEY_RELAY_URL");
    g_assert_cmpint (ok.status, ==, CLI_EXIT_OK);
  }
}

/* Core dumps of the app and the CLI could hold keyring secrets. */
static void
test_harden (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      struct rlimit limit;

      g_assert_cmpint (prctl (PR_GET_DUMPABLE, 0, 0, 0, 0), ==, 1);
      g_assert_true (lk_process_harden (&error));
      g_assert_no_error (error);
      g_assert_cmpint (prctl (PR_GET_DUMPABLE, 0, 0, 0, 0), ==, 0);
      g_assert_cmpint (getrlimit (RLIMIT_CORE, &limit), ==, 0);
      g_assert_cmpuint (limit.rlim_cur, ==, 0);
      g_assert_cmpuint (limit.rlim_max, ==, 0);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Allows core dumps in the child, so that turning them off shows. */
static void
allow_core_dumps (gpointer user_data)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_CORE, &limit) == 0 && limit.rlim_max != 0)
    {
      limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? 1024 * 1024 : limit.rlim_max;
      setrlimit (RLIMIT_CORE, &limit);
    }
}

static gboolean
core_limit_is_zero (const char *pid)
{
  g_autofree char *path = g_build_filename ("/proc", pid, "limits", NULL);
  g_autofree char *limits = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &limits, NULL, NULL))
    return FALSE;
  lines = g_strsplit (limits, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "Max core file size"))
      {
        g_auto(GStrv) fields = g_strsplit_set (lines[i] + strlen ("Max core file size"), " ", -1);
        guint zeros = 0;

        for (guint j = 0; fields[j] != NULL; j++)
          zeros += strcmp (fields[j], "0") == 0;
        return zeros == 2;
      }
  return FALSE;
}

/* The real latchkey-cli, waiting for a link on standard input: no core
 * dumps from the start of main(). */
static void
test_no_core_dumps (void)
{
  const char *cli = g_getenv ("LATCHKEY_CLI");
  const char *argv[] = { cli, "receive", NULL };
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  struct rlimit limit;
  const char *pid;
  gint64 deadline;

  g_assert_nonnull (cli);
  if (getrlimit (RLIMIT_CORE, &limit) == 0 && limit.rlim_max == 0)
    {
      g_test_skip ("Core dumps are off for this test already; turning them off cannot show");
      return;
    }

  g_subprocess_launcher_set_child_setup (launcher, allow_core_dumps, NULL, NULL);
  g_subprocess_launcher_unsetenv (launcher, "LATCHKEY_RELAY_URL");
  g_subprocess_launcher_unsetenv (launcher, "LATCHKEY_PARTNER_URL");
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  pid = g_subprocess_get_identifier (process);

  /* It turns them off at once, then waits on its input. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!core_limit_is_zero (pid) && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  g_assert_true (core_limit_is_zero (pid));

  /* Non-dumpable: its /proc files belong to root, so another process of
   * the same user cannot read its memory. (Root can anyway.) */
  if (getuid () != 0)
    {
      g_autofree char *path = g_build_filename ("/proc", pid, "environ", NULL);
      GStatBuf st;

      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpuint (st.st_uid, ==, 0);
    }

  g_subprocess_force_exit (process);
  g_subprocess_wait (process, NULL, NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/usage", test_usage);
  g_test_add_func ("/cli/inspect-link", test_inspect_link);
  g_test_add_func ("/cli/server-urls", test_server_urls);
  g_test_add_func ("/cli/harden", test_harden);
  g_test_add_func ("/cli/no-core-dumps", test_no_core_dumps);

  return g_test_run ();
}
