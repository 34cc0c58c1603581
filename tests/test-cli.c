/* test-cli.c: latchkey-cli, driven in process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-cli"

#include "config.h"

#include <string.h>

#include "cli-command.h"

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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/usage", test_usage);
  g_test_add_func ("/cli/inspect-link", test_inspect_link);
  g_test_add_func ("/cli/server-urls", test_server_urls);

  return g_test_run ();
}
