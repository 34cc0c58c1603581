/* cli-command.c: the dispatcher and what every subcommand uses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-cli"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <qrencode.h>

#include "cli-private.h"

typedef struct
{
  const char *name;
  const char *summary;
  CliRunFunc  run;
} CliCommand;

void
cli_print (GOutputStream *stream,
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

/**
 * cli_read_line:
 *
 * Secrets never go on the command line, where other users can read them in
 * /proc: links and codes are read from standard input, one per line.
 *
 * Returns: (nullable): the line, without its end; free with lk_secure_str_free()
 */
char *
cli_read_line (CliContext  *cli,
               gsize        max_len,
               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char *line;
  gsize len;

  if (cli->lines == NULL)
    {
      cli->lines = g_data_input_stream_new (cli->input);
      g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (cli->lines), FALSE);
    }

  line = g_data_input_stream_read_line_utf8 (cli->lines, &len, NULL, &local_error);
  if (line == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("Nothing was given on standard input"));
      return NULL;
    }

  if (len > max_len)
    {
      lk_secure_str_free (line);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The input line is too long"));
      return NULL;
    }

  return g_strstrip (line);
}

/**
 * cli_read_link:
 *
 * A share link from the next line of standard input. The draft recommends
 * sending the secret another way than the link: a link without one is
 * taken with the secret from the line after it (asked for on a terminal).
 *
 * Returns: (transfer full) (nullable): the link
 */
LkShareLink *
cli_read_link (CliContext  *cli,
               GError     **error)
{
  g_autoptr(LkSecureString) line = NULL;
  g_autoptr(LkSecureString) secret = NULL;
  g_autoptr(GError) local_error = NULL;
  LkShareLink *link;

  line = cli_read_line (cli, LK_SHARE_LINK_MAX_LENGTH, error);
  if (line == NULL)
    return NULL;

  link = lk_share_link_parse (line, &local_error);
  if (link != NULL || !g_error_matches (local_error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_MISSING))
    {
      if (link == NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      return link;
    }

  if (isatty (STDIN_FILENO))
    cli_print (cli->errors, _("The link has no secret. Enter the secret the sender gave you separately: "));
  secret = cli_read_line (cli, LK_SHARE_LINK_MAX_LENGTH, NULL);
  if (secret == NULL || *secret == '\0')
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return lk_share_link_parse_with_secret (line, secret, error);
}

void
cli_on_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/**
 * cli_wait:
 *
 * Runs the main context until @slot is filled by cli_on_done().
 *
 * Returns: (transfer full): the result
 */
GAsyncResult *
cli_wait (CliContext    *cli,
          GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (cli->context, TRUE);
  return *slot;
}

static int
exit_code_for (GError *error)
{
  if (error->domain == LK_LINK_ERROR)
    return CLI_EXIT_BAD_INPUT;
  if (error->domain == LK_TRANSFER_ERROR &&
      (error->code == LK_TRANSFER_ERROR_NOT_FOUND || error->code == LK_TRANSFER_ERROR_INVALID_STATE))
    return CLI_EXIT_BAD_INPUT;
  if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_INVALID_DATA)
    return CLI_EXIT_BAD_INPUT;
  return CLI_EXIT_FAILURE;
}

int
cli_fail (CliContext *cli,
          GError     *error)
{
  cli_print (cli->errors, "latchkey-cli: %s\n", error->message);
  return exit_code_for (error);
}

gboolean
cli_parse_options (CliContext          *cli,
                   const char          *parameter,
                   const char          *summary,
                   const GOptionEntry  *entries,
                   int                 *argc,
                   char              ***argv,
                   int                  min_args,
                   int                  max_args)
{
  g_autoptr(GOptionContext) context = g_option_context_new (parameter);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, summary);
  g_option_context_set_help_enabled (context, TRUE);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      cli_print (cli->errors, "latchkey-cli: %s\n", error->message);
      return FALSE;
    }

  if (*argc - 1 < min_args || *argc - 1 > max_args)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      cli_print (cli->errors, "%s", help);
      return FALSE;
    }

  return TRUE;
}

GPtrArray *
cli_list (CliContext   *cli,
          LkStoreKind   kind,
          GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lk_transfer_engine_list_async (cli->engine, kind, NULL, cli_on_done, &result);
  return lk_transfer_engine_list_finish (cli->engine, cli_wait (cli, &result), error);
}

/**
 * cli_find:
 * @prefix: an id, or a prefix of at least four characters of exactly one id
 *
 * Returns: (transfer full): the credential or transfer
 */
gpointer
cli_find (CliContext   *cli,
          LkStoreKind   kind,
          const char   *prefix,
          GError      **error)
{
  g_autoptr(GPtrArray) items = cli_list (cli, kind, error);
  gpointer found = NULL;

  if (items == NULL)
    return NULL;

  for (guint i = 0; strlen (prefix) >= 4 && i < items->len; i++)
    {
      gpointer item = g_ptr_array_index (items, i);
      const char *id = kind == LK_STORE_KIND_CREDENTIAL ? lk_credential_get_id (item) : lk_transfer_get_id (item);

      if (g_str_has_prefix (id, prefix))
        {
          if (found != NULL)
            {
              g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_NOT_FOUND,
                           _("“%s” matches more than one; give more of the id"), prefix);
              return NULL;
            }
          found = item;
        }
    }

  if (found == NULL)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_NOT_FOUND,
                   kind == LK_STORE_KIND_CREDENTIAL ? _("No key has the id “%s”") : _("No share has the id “%s”"),
                   prefix);
      return NULL;
    }

  return g_object_ref (found);
}

char *
cli_format_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = NULL;

  if (time == NULL)
    return g_strdup ("—");
  local = g_date_time_to_local (time);
  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}

/**
 * cli_print_qr:
 *
 * Draws @text as a QR code with half blocks, two modules per character
 * cell, dark on light with the 4-module quiet zone, so that phones read it
 * off a dark terminal too.
 */
void
cli_print_qr (GOutputStream *stream,
              const char    *text)
{
  QRcode *qr = QRcode_encodeString8bit (text, 0, QR_ECLEVEL_M);
  g_autoptr(GString) out = g_string_new (NULL);
  int margin = 4, size;

  if (qr == NULL)
    return;

  size = qr->width + 2 * margin;
  for (int y = 0; y < size; y += 2)
    {
      /* Light background, dark foreground, whatever the terminal's colours. */
      g_string_append (out, "\033[30;47m");
      for (int x = 0; x < size; x++)
        {
          gboolean top, bottom;
          int mx = x - margin, my = y - margin;

          top = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width && (qr->data[my * qr->width + mx] & 1);
          my++;
          bottom = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width && (qr->data[my * qr->width + mx] & 1);

          g_string_append (out, top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ");
        }
      g_string_append (out, "\033[0m\n");
    }

  QRcode_free (qr);
  g_output_stream_write_all (stream, out->str, out->len, NULL, NULL, NULL);
}

static const char *
state_text (LkTransfer *transfer)
{
  switch (lk_transfer_get_state (transfer))
    {
    case LK_TRANSFER_STATE_WAITING:
      return _("waiting for the receiver to open the invitation");
    case LK_TRANSFER_STATE_OPENED:
      return lk_transfer_get_role (transfer) == LK_ROLE_INITIATOR ? _("opened; waiting for the receiver")
                                                                   : _("waiting for the sender");
    case LK_TRANSFER_STATE_AWAITING_CONFIRMATION:
      return _("waiting for your confirmation (latchkey-cli confirm)");
    case LK_TRANSFER_STATE_AWAITING_CODE:
      return _("waiting for the activation code (latchkey-cli code)");
    case LK_TRANSFER_STATE_DONE:
      return _("done");
    case LK_TRANSFER_STATE_DECLINED:
      return _("declined");
    case LK_TRANSFER_STATE_CANCELLED:
      return _("cancelled");
    case LK_TRANSFER_STATE_EXPIRED:
      return _("expired");
    case LK_TRANSFER_STATE_FAILED:
    default:
      return _("failed");
    }
}

void
cli_print_transfer (CliContext *cli,
                    LkTransfer *transfer)
{
  g_autofree char *expires = cli_format_time (lk_transfer_get_expires (transfer));

  cli_print (cli->output, "%s  %s  %-7s  %s  %s%s%s%s\n",
             lk_transfer_get_id (transfer),
             lk_transfer_get_role (transfer) == LK_ROLE_INITIATOR ? _("sent    ") : _("received"),
             lk_vertical_to_string (lk_transfer_get_vertical (transfer)),
             lk_transfer_get_title (transfer) ? lk_transfer_get_title (transfer) : "—",
             lk_transfer_state_to_string (lk_transfer_get_state (transfer)),
             lk_transfer_get_revoked (transfer) ? _(" (revoked)") : "",
             lk_transfer_get_state_detail (transfer) ? ": " : "",
             lk_transfer_get_state_detail (transfer) ? lk_transfer_get_state_detail (transfer) : "");
  if (!lk_transfer_state_is_final (lk_transfer_get_state (transfer)))
    cli_print (cli->output, "    %s; expires %s\n", state_text (transfer), expires);
  /* A share for several devices (issue 13): how far it got. */
  if (lk_transfer_get_role (transfer) == LK_ROLE_INITIATOR && lk_transfer_get_receivers (transfer) > 1)
    {
      guint received = lk_transfer_get_received (transfer), receivers = lk_transfer_get_receivers (transfer);
      g_autoptr(GString) revoked = g_string_new (NULL);

      for (guint k = 1; !lk_transfer_get_revoked (transfer) && k <= receivers; k++)
        if (lk_transfer_get_receiver_revoked (transfer, k))
          g_string_append_printf (revoked, "%s%u", revoked->len > 0 ? ", " : "", k);
      /* Translators: "2 of 4 received": devices that took a shared key, of those it was shared with */
      cli_print (cli->output, g_dngettext (GETTEXT_PACKAGE, "    %u of %u received\n", "    %u of %u received\n",
                                           receivers), received, receivers);
      if (revoked->len > 0)
        /* Translators: %s is a list of numbers such as "1, 3" */
        cli_print (cli->output, _("    revoked receivers: %s\n"), revoked->str);
    }
  if (lk_transfer_get_role (transfer) == LK_ROLE_INITIATOR && lk_transfer_get_receiver_name (transfer) != NULL &&
      lk_transfer_get_state (transfer) == LK_TRANSFER_STATE_AWAITING_CONFIRMATION)
    cli_print (cli->output, _("    asked by %s\n"), lk_transfer_get_receiver_name (transfer));
  /* The short fingerprint of the receiver's new car key, on both sides,
   * for the two to compare before the owner signs. */
  if (!lk_transfer_state_is_final (lk_transfer_get_state (transfer)))
    {
      g_autofree char *theirs = lk_transfer_dup_friend_fingerprint (transfer);
      g_autofree char *ours = lk_transfer_dup_own_fingerprint (transfer);

      if (theirs != NULL)
        cli_print (cli->output, _("    their new key %s\n"), theirs);
      if (ours != NULL)
        cli_print (cli->output, _("    your new key %s (the owner sees the same)\n"), ours);
    }
}

static int
inspect_link (CliContext  *cli,
              int          argc,
              char       **argv)
{
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *relay = NULL;

  if (!cli_parse_options (cli, NULL, _("Reads a share link from standard input and checks it; a link without its\n"
                                       "secret takes the secret from the next line.\n"
                                       "Prints the relay, the mailbox and the kind of key; never the secret."),
                          NULL, &argc, &argv, 0, 0))
    return CLI_EXIT_USAGE;

  link = cli_read_link (cli, &error);
  if (link == NULL)
    {
      cli_print (cli->errors, _("Invalid link: %s\n"), error->message);
      return CLI_EXIT_BAD_INPUT;
    }

  relay = lk_share_link_get_relay_url (link);
  cli_print (cli->output, "relay: %s\nmailbox: %s\nvertical: %s\nsecret: %u bytes\n",
             relay, lk_share_link_get_mailbox_id (link),
             lk_vertical_to_string (lk_share_link_get_vertical (link)),
             (guint) g_bytes_get_size (lk_share_link_get_secret (link)));

  return CLI_EXIT_OK;
}

static const CliCommand commands[] = {
  { "enroll", N_("Enrol a demo key with a provisioning partner"), cli_enroll },
  { "list", N_("List the keys in the keyring"), cli_list_command },
  { "show", N_("Show a key"), cli_show },
  { "share", N_("Share a key: print a link, a QR code and an activation code"), cli_share },
  { "receive", N_("Receive a key from a link read from standard input"), cli_receive },
  { "status", N_("Show shares and receipts, and move pending ones on"), cli_status },
  { "code", N_("Give a pending receipt its activation code (from standard input)"), cli_code },
  { "confirm", N_("Sign a friend’s car key (the owner’s confirmation)"), cli_confirm },
  { "cancel", N_("Cancel a pending share, or decline a receipt"), cli_cancel },
  { "revoke", N_("Revoke the key a completed share gave"), cli_revoke },
  { "access", N_("Try a key at its car, room or door"), cli_access },
  { "delete", N_("Delete a key from the keyring"), cli_delete },
  { "inspect-link", N_("Check a share link read from standard input"), inspect_link },
  { "scan", N_("Print the share link in a PNG or JPEG image of its QR code"), cli_scan },
};

static void
print_usage (GOutputStream *stream)
{
  cli_print (stream, _("Usage: latchkey-cli [--relay URL] [--partner URL] [--ca-file FILE] COMMAND [OPTION…]\n\n"
                       "Commands:\n"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    cli_print (stream, "  %-13s %s\n", commands[i].name, _(commands[i].summary));
  cli_print (stream, _("\nThe relay and partner default to $LATCHKEY_RELAY_URL and $LATCHKEY_PARTNER_URL.\n"
                       "Links and activation codes are read from standard input, never from arguments.\n"
                       "Run “latchkey-cli COMMAND --help” for a command’s options.\n\n"
                       "Exit codes: 0 success, 1 failure, 2 usage error, 3 invalid input,\n"
                       "4 waiting for you (a code or a confirmation), 5 the transfer ended without\n"
                       "a key (declined, cancelled, expired or failed), 6 access refused.\n"));
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
  CliContext cli = { input, output, errors, NULL, NULL, NULL, NULL, NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *ca_file = NULL;
  int first = 1, status = CLI_EXIT_USAGE;

  cli.relay_url = g_strdup (g_getenv ("LATCHKEY_RELAY_URL"));
  cli.partner_url = g_strdup (g_getenv ("LATCHKEY_PARTNER_URL"));

  /* Global options come before the command. */
  while (first < argc && g_str_has_prefix (argv[first], "--") && first + 1 < argc &&
         (strcmp (argv[first], "--relay") == 0 || strcmp (argv[first], "--partner") == 0 ||
          strcmp (argv[first], "--ca-file") == 0))
    {
      char **slot = strcmp (argv[first], "--relay") == 0 ? &cli.relay_url
                  : strcmp (argv[first], "--partner") == 0 ? &cli.partner_url : &ca_file;

      g_free (*slot);
      *slot = g_strdup (argv[first + 1]);
      first += 2;
    }

  /* The same rule as for every server address: https, or http to this
   * machine only. An empty value means none. */
  {
    const char *names[] = { "--relay / $LATCHKEY_RELAY_URL", "--partner / $LATCHKEY_PARTNER_URL" };
    char **urls[] = { &cli.relay_url, &cli.partner_url };

    for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
      {
        if (*urls[i] != NULL && **urls[i] == '\0')
          g_clear_pointer (urls[i], g_free);
        if (*urls[i] != NULL && !lk_share_link_check_server_url (*urls[i], &error))
          {
            cli_print (errors, "latchkey-cli: %s: %s\n", names[i], error->message);
            status = CLI_EXIT_USAGE;
            goto out;
          }
      }
  }

  if (first >= argc || strcmp (argv[first], "--help") == 0 || strcmp (argv[first], "-h") == 0)
    {
      print_usage (first >= argc ? errors : output);
      status = first >= argc ? CLI_EXIT_USAGE : CLI_EXIT_OK;
      goto out;
    }

  if (strcmp (argv[first], "--version") == 0)
    {
      cli_print (output, "latchkey-cli %s\n", PACKAGE_VERSION);
      status = CLI_EXIT_OK;
      goto out;
    }

  cli.context = g_main_context_ref_thread_default ();
  cli.engine = lk_transfer_engine_new (cli.relay_url);
  if (ca_file != NULL && !lk_transfer_engine_set_ca_file (cli.engine, ca_file, &error))
    {
      status = cli_fail (&cli, error);
      goto out;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (strcmp (argv[first], commands[i].name) == 0)
        {
          status = commands[i].run (&cli, argc - first, argv + first);
          goto out;
        }
    }

  cli_print (errors, _("Unknown command “%s”\n\n"), argv[first]);
  print_usage (errors);
  status = CLI_EXIT_USAGE;

out:
  g_clear_object (&cli.lines);
  g_clear_object (&cli.engine);
  g_clear_pointer (&cli.context, g_main_context_unref);
  g_free (cli.relay_url);
  g_free (cli.partner_url);
  return status;
}
