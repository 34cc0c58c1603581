/* cli-command.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-cli"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "cli-command.h"
#include "latchkey-core.h"

typedef struct
{
  const char *name;
  const char *summary;
  int       (*run) (int argc, char **argv, GInputStream *input,
                    GOutputStream *output, GOutputStream *errors);
} CliCommand;

G_GNUC_PRINTF (2, 3)
static void
print_to (GOutputStream *stream,
          const char    *format,
          ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_output_stream_write_all (stream, text, strlen (text), NULL, NULL, NULL);
}

/* Secrets never go on the command line, where other users can read them in
 * /proc: links are read from standard input. */
static char *
read_line (GInputStream  *input,
           gsize          max_len,
           GError       **error)
{
  g_autoptr(GDataInputStream) data = g_data_input_stream_new (input);
  g_autoptr(GError) local_error = NULL;
  char *line;
  gsize len;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (data), FALSE);
  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (data), max_len + 2);

  line = g_data_input_stream_read_line_utf8 (data, &len, NULL, &local_error);
  if (line == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("Nothing was given on standard input"));
      return NULL;
    }

  return line;
}

static int
inspect_link (int            argc,
              char         **argv,
              GInputStream  *input,
              GOutputStream *output,
              GOutputStream *errors)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(LkSecureString) line = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *relay = NULL;

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Reads a share link from standard input and checks it.\n"
                                  "Prints the relay, the mailbox and the kind of key; never the secret."));
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 1)
    {
      print_to (errors, "%s\n", error ? error->message : _("inspect-link takes no arguments"));
      return CLI_EXIT_USAGE;
    }

  line = read_line (input, LK_SHARE_LINK_MAX_LENGTH, &error);
  if (line != NULL)
    link = lk_share_link_parse (line, &error);
  if (link == NULL)
    {
      print_to (errors, _("Invalid link: %s\n"), error->message);
      return CLI_EXIT_BAD_INPUT;
    }

  relay = lk_share_link_get_relay_url (link);
  print_to (output, "relay: %s\nmailbox: %s\nvertical: %s\nsecret: %u bytes\n",
            relay, lk_share_link_get_mailbox_id (link),
            lk_vertical_to_string (lk_share_link_get_vertical (link)),
            (guint) g_bytes_get_size (lk_share_link_get_secret (link)));

  return CLI_EXIT_OK;
}

static const CliCommand commands[] = {
  { "inspect-link", N_("Check a share link read from standard input"), inspect_link },
};

static void
print_usage (GOutputStream *stream)
{
  print_to (stream, _("Usage: latchkey-cli COMMAND [OPTION…]\n\nCommands:\n"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    print_to (stream, "  %-14s %s\n", commands[i].name, _(commands[i].summary));
  print_to (stream, _("\nRun “latchkey-cli COMMAND --help” for a command’s options.\n"
                      "Exit codes: 0 success, 1 failure, 2 usage error, 3 invalid input.\n"));
}

/**
 * cli_run:
 *
 * Runs one subcommand with the given streams, so that tests can drive it
 * without spawning a process.
 *
 * Returns: a #CliExit code
 */
int
cli_run (int            argc,
         char         **argv,
         GInputStream  *input,
         GOutputStream *output,
         GOutputStream *errors)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_usage (argc < 2 ? errors : output);
      return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }

  if (strcmp (argv[1], "--version") == 0)
    {
      print_to (output, "latchkey-cli %s\n", PACKAGE_VERSION);
      return CLI_EXIT_OK;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (strcmp (argv[1], commands[i].name) == 0)
        return commands[i].run (argc - 1, argv + 1, input, output, errors);
    }

  print_to (errors, _("Unknown command “%s”\n\n"), argv[1]);
  print_usage (errors);
  return CLI_EXIT_USAGE;
}
