/* cli-transfer.c: sharing and receiving from a terminal
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-cli"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "cli-private.h"

#define MAX_CODE_LENGTH 64

/* ISO 8601 with a time zone, or a duration from now: 30m, 12h, 2d. */
static GDateTime *
parse_when (const char  *text,
            GError     **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  GDateTime *when = g_date_time_new_from_iso8601 (text, NULL);
  guint64 amount;
  char *end;

  if (when != NULL)
    return when;

  amount = g_ascii_strtoull (text, &end, 10);
  if (end != text && end[0] != '\0' && end[1] == '\0' && amount <= 10000)
    {
      switch (end[0])
        {
        case 'm':
          return g_date_time_add_minutes (now, (int) amount);
        case 'h':
          return g_date_time_add_hours (now, (int) amount);
        case 'd':
          return g_date_time_add_days (now, (int) amount);
        default:
          break;
        }
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("“%s” is neither a time such as 2026-12-24T18:00:00Z nor a duration such as 12h or 2d"), text);
  return NULL;
}

static int
exit_for_state (LkTransfer *transfer)
{
  switch (lk_transfer_get_state (transfer))
    {
    case LK_TRANSFER_STATE_AWAITING_CODE:
    case LK_TRANSFER_STATE_AWAITING_CONFIRMATION:
      return CLI_EXIT_WAITING;
    case LK_TRANSFER_STATE_DECLINED:
    case LK_TRANSFER_STATE_CANCELLED:
    case LK_TRANSFER_STATE_EXPIRED:
    case LK_TRANSFER_STATE_FAILED:
      return CLI_EXIT_ENDED;
    case LK_TRANSFER_STATE_WAITING:
    case LK_TRANSFER_STATE_OPENED:
    case LK_TRANSFER_STATE_DONE:
    default:
      return CLI_EXIT_OK;
    }
}

static gboolean
needs_user (LkTransfer *transfer)
{
  LkTransferState state = lk_transfer_get_state (transfer);

  return state == LK_TRANSFER_STATE_AWAITING_CODE || state == LK_TRANSFER_STATE_AWAITING_CONFIRMATION;
}

static LkTransfer *
finish_transfer (CliContext    *cli,
                 GAsyncResult **result,
                 GError       **error)
{
  LkTransfer *transfer = lk_transfer_engine_transfer_finish (cli->engine, cli_wait (cli, result), error);

  g_clear_object (result);
  return transfer;
}

static LkTransfer *
confirm (CliContext  *cli,
         LkTransfer  *transfer,
         GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lk_transfer_engine_confirm_async (cli->engine, transfer, NULL, cli_on_done, &result);
  return finish_transfer (cli, &result, error);
}

/* One line per transfer: the human one, or the porcelain one. */
static void
print_line (CliContext *cli,
            LkTransfer *transfer,
            gboolean    porcelain)
{
  /* Fields are only ever added at the end: scripts split on tabs. The last,
   * received/receivers, is "1/1" once a one-receiver share is done. */
  if (porcelain)
    cli_print (cli->output, "%s\t%s\t%s\t%s\t%s\t%u/%u\n", lk_transfer_get_id (transfer),
               lk_transfer_state_to_string (lk_transfer_get_state (transfer)),
               lk_role_to_string (lk_transfer_get_role (transfer)),
               lk_vertical_to_string (lk_transfer_get_vertical (transfer)),
               lk_transfer_get_credential_id (transfer) ? lk_transfer_get_credential_id (transfer) : "-",
               lk_transfer_get_received (transfer), lk_transfer_get_receivers (transfer));
  else
    cli_print_transfer (cli, transfer);
}

/* Moves @transfer on until it ends, needs the user, or @seconds pass.
 * Each step is a waiting read at the relay: no polling loop. With
 * @report, every change of state observed is printed as it happens (a
 * script learns "done" or "declined" without a second call); @printed
 * then says whether the transfer's last state was printed. */
static gboolean
follow_reporting (CliContext  *cli,
                  LkTransfer  *transfer,
                  guint        seconds,
                  gboolean     auto_confirm,
                  gboolean     report,
                  gboolean     porcelain,
                  gboolean    *printed,
                  GError     **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  LkTransferState last = lk_transfer_get_state (transfer);

  do
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(LkTransfer) stepped = NULL;
      gint64 left = (deadline - g_get_monotonic_time ()) / G_USEC_PER_SEC;

      if (auto_confirm && lk_transfer_get_state (transfer) == LK_TRANSFER_STATE_AWAITING_CONFIRMATION)
        {
          g_autoptr(LkTransfer) confirmed = confirm (cli, transfer, error);

          if (confirmed == NULL)
            return FALSE;
        }
      else
        {
          if (lk_transfer_state_is_final (lk_transfer_get_state (transfer)) || needs_user (transfer))
            break;

          lk_transfer_engine_step_async (cli->engine, transfer, (guint) CLAMP (left, 0, 30), NULL,
                                         cli_on_done, &result);
          stepped = finish_transfer (cli, &result, error);
          if (stepped == NULL)
            return FALSE;
        }

      if (report && lk_transfer_get_state (transfer) != last)
        {
          last = lk_transfer_get_state (transfer);
          print_line (cli, transfer, porcelain);
          *printed = TRUE;
        }
    }
  while (g_get_monotonic_time () < deadline);

  return TRUE;
}

static gboolean
follow (CliContext  *cli,
        LkTransfer  *transfer,
        guint        seconds,
        gboolean     auto_confirm,
        GError     **error)
{
  return follow_reporting (cli, transfer, seconds, auto_confirm, FALSE, FALSE, NULL, error);
}

int
cli_share (CliContext  *cli,
           int          argc,
           char       **argv)
{
  g_auto(LkShareOptions) options = { 0 };
  g_autofree char *entitlements = NULL;
  g_autofree char *valid_from = NULL;
  g_autofree char *valid_until = NULL;
  g_autofree char *expires = NULL;
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(LkTransfer) transfer = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(LkSecureString) text = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean no_qr = FALSE;
  int wait = 0, receivers = 1;
  const GOptionEntry entries[] = {
    { "code", 'c', 0, G_OPTION_ARG_NONE, &options.activation_code,
      N_("Require an activation code, printed apart from the link"), NULL },
    { "entitlements", 'e', 0, G_OPTION_ARG_STRING, &entitlements,
      N_("What the receiver may do, such as open,start (default: all the key may)"), N_("LIST") },
    { "valid-from", 0, 0, G_OPTION_ARG_STRING, &valid_from, N_("Start of the shared key’s validity (default now)"), N_("WHEN") },
    { "valid-until", 0, 0, G_OPTION_ARG_STRING, &valid_until,
      N_("End of the shared key’s validity (default: the key’s own end; for a car, 1d)"), N_("WHEN") },
    { "expires", 0, 0, G_OPTION_ARG_STRING, &expires, N_("When the invitation expires (default 48h)"), N_("WHEN") },
    { "auto-confirm", 0, 0, G_OPTION_ARG_NONE, &options.auto_confirm,
      N_("Car: sign the friend’s key without asking (for scripts)"), NULL },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &options.sender_name, N_("Your name, as the receiver will see it"), N_("NAME") },
    { "wait", 'w', 0, G_OPTION_ARG_INT, &wait, N_("Then follow the share for up to SECONDS"), N_("SECONDS") },
    { "no-qr", 0, 0, G_OPTION_ARG_NONE, &no_qr, N_("Do not draw the QR code"), NULL },
    { "receivers", 'r', 0, G_OPTION_ARG_INT, &receivers,
      N_("How many devices may receive it with this one link, 1 to 10 (room, door and pass keys)"), N_("N") },
    { NULL }
  };

  if (!cli_parse_options (cli, "ID", _("Shares a key: prints the link and its QR code, and the activation code\n"
                                       "apart, to be sent another way. WHEN is an ISO 8601 time or a duration\n"
                                       "from now such as 30m, 12h or 2d."),
                          entries, &argc, &argv, 1, 1))
    return CLI_EXIT_USAGE;

  if (cli->relay_url == NULL)
    {
      cli_print (cli->errors, _("latchkey-cli: no relay: pass --relay URL or set LATCHKEY_RELAY_URL\n"));
      return CLI_EXIT_USAGE;
    }

  if ((valid_from != NULL && (options.valid_from = parse_when (valid_from, &error)) == NULL) ||
      (valid_until != NULL && (options.valid_until = parse_when (valid_until, &error)) == NULL) ||
      (expires != NULL && (options.expires = parse_when (expires, &error)) == NULL))
    return cli_fail (cli, error);
  if (entitlements != NULL)
    options.entitlements = g_strsplit (entitlements, ",", LK_CREDENTIAL_MAX_ENTITLEMENTS);
  if (receivers < 1 || receivers > LK_TRANSFER_MAX_RECEIVERS)
    {
      cli_print (cli->errors, _("latchkey-cli: --receivers must be from 1 to %d\n"), LK_TRANSFER_MAX_RECEIVERS);
      return CLI_EXIT_USAGE;
    }
  options.receivers = (guint) receivers;

  credential = cli_find (cli, LK_STORE_KIND_CREDENTIAL, argv[1], &error);
  if (credential == NULL)
    return cli_fail (cli, error);

  if (lk_credential_get_vertical (credential) == LK_VERTICAL_CAR && options.valid_until == NULL)
    options.valid_until = parse_when ("1d", NULL);

  lk_transfer_engine_share_async (cli->engine, credential, &options, NULL, cli_on_done, &result);
  transfer = finish_transfer (cli, &result, &error);
  if (transfer == NULL)
    return cli_fail (cli, error);

  link = lk_transfer_get_link (transfer);
  text = lk_share_link_to_string (link);
  cli_print (cli->output, _("Share: %s\n"), lk_transfer_get_id (transfer));
  cli_print (cli->output, _("Link: %s\n"), text);
  if (!no_qr)
    cli_print_qr (cli->output, text);
  if (lk_transfer_get_activation_code (transfer) != NULL)
    cli_print (cli->output, _("Activation code: %s\n"
                              "Send the activation code another way than the link, for example by phone.\n"),
               lk_transfer_get_activation_code (transfer));

  if (wait > 0)
    {
      if (!follow (cli, transfer, wait, options.auto_confirm, &error))
        return cli_fail (cli, error);
      cli_print_transfer (cli, transfer);
    }

  return exit_for_state (transfer);
}

/* Codes come from standard input too, one per line, while one is needed. */
static gboolean
give_codes (CliContext  *cli,
            LkTransfer  *transfer,
            GError     **error)
{
  /* A room or door key's code goes to the provider the sender named. */
  if (lk_transfer_get_state (transfer) == LK_TRANSFER_STATE_AWAITING_CODE &&
      lk_transfer_get_vertical (transfer) == LK_VERTICAL_HOME)
    {
      g_autofree char *host = lk_transfer_dup_provider_host (transfer);

      if (host != NULL)
        /* Translators: %s is a server's host name, such as partner.example */
        cli_print (cli->errors, _("The activation code goes to the key’s provider, %s.\n"), host);
    }

  while (lk_transfer_get_state (transfer) == LK_TRANSFER_STATE_AWAITING_CODE)
    {
      g_autoptr(LkSecureString) code = cli_read_line (cli, MAX_CODE_LENGTH, NULL);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(LkTransfer) updated = NULL;

      if (code == NULL || *code == '\0')
        break;

      lk_transfer_engine_provide_code_async (cli->engine, transfer, code, NULL, cli_on_done, &result);
      updated = finish_transfer (cli, &result, error);
      if (updated == NULL)
        return FALSE;
      if (lk_transfer_get_state (transfer) == LK_TRANSFER_STATE_AWAITING_CODE)
        cli_print (cli->errors, "%s\n", lk_transfer_get_state_detail (transfer)
                                        ? lk_transfer_get_state_detail (transfer) : _("The activation code is wrong."));
    }

  return TRUE;
}

int
cli_receive (CliContext  *cli,
             int          argc,
             char       **argv)
{
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(LkTransfer) transfer = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean preview = FALSE;
  g_autofree char *name = NULL;
  int wait = 0;
  const GOptionEntry entries[] = {
    { "preview", 'p', 0, G_OPTION_ARG_NONE, &preview, N_("Only show what the invitation is; claim nothing"), NULL },
    { "wait", 'w', 0, G_OPTION_ARG_INT, &wait, N_("Follow the receipt for up to SECONDS (a car key needs the owner)"),
      N_("SECONDS") },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, N_("Your name, as a car key’s owner will see it before signing"),
      N_("NAME") },
    { NULL }
  };

  if (!cli_parse_options (cli, NULL, _("Receives a key. Reads the link from the first line of standard input,\n"
                                       "its secret from the next if the sender sent it apart from the link,\n"
                                       "and activation codes, if the sender requires one, from the next lines."),
                          entries, &argc, &argv, 0, 0))
    return CLI_EXIT_USAGE;

  link = cli_read_link (cli, &error);
  if (link == NULL)
    {
      cli_print (cli->errors, _("latchkey-cli: invalid link: %s\n"), error->message);
      return CLI_EXIT_BAD_INPUT;
    }

  if (preview)
    {
      g_autoptr(LkMailboxReply) reply = NULL;

      lk_transfer_engine_preview_async (cli->engine, link, NULL, cli_on_done, &result);
      reply = lk_transfer_engine_preview_finish (cli->engine, cli_wait (cli, &result), &error);
      if (reply == NULL)
        return cli_fail (cli, error);
      cli_print (cli->output, "%s\n%s\n", reply->title, reply->description ? reply->description : "");
      return CLI_EXIT_OK;
    }

  lk_transfer_engine_set_receiver_name (cli->engine, name);
  lk_transfer_engine_receive_async (cli->engine, link, NULL, NULL, cli_on_done, &result);
  transfer = finish_transfer (cli, &result, &error);
  if (transfer == NULL)
    return cli_fail (cli, error);

  if (!give_codes (cli, transfer, &error) ||
      (wait > 0 && !follow (cli, transfer, wait, FALSE, &error)))
    return cli_fail (cli, error);

  cli_print_transfer (cli, transfer);
  if (lk_transfer_get_state (transfer) == LK_TRANSFER_STATE_DONE)
    cli_print (cli->output, _("Key: %s\n"), lk_transfer_get_credential_id (transfer));

  return exit_for_state (transfer);
}

int
cli_status (CliContext  *cli,
            int          argc,
            char       **argv)
{
  g_autoptr(GPtrArray) transfers = NULL;
  g_autoptr(GError) error = NULL;
  gboolean auto_confirm = FALSE, all = FALSE, porcelain = FALSE;
  int wait = 0;
  const GOptionEntry entries[] = {
    { "wait", 'w', 0, G_OPTION_ARG_INT, &wait, N_("Follow pending transfers for up to SECONDS"), N_("SECONDS") },
    { "porcelain", 0, 0, G_OPTION_ARG_NONE, &porcelain,
      N_("Print “ID STATE ROLE VERTICAL CREDENTIAL” lines, tab-separated, for scripts"), NULL },
    { "confirm", 0, 0, G_OPTION_ARG_NONE, &auto_confirm, N_("Sign friends’ car keys waiting for confirmation"), NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, N_("Also list finished transfers"), NULL },
    { NULL }
  };

  if (!cli_parse_options (cli, "[ID]", _("Shows shares and receipts, and moves pending ones on: this is how a\n"
                                         "side that was offline resumes."),
                          entries, &argc, &argv, 0, 1))
    return CLI_EXIT_USAGE;

  if (argc == 2)
    {
      LkTransfer *transfer = cli_find (cli, LK_STORE_KIND_TRANSFER, argv[1], &error);

      if (transfer == NULL)
        return cli_fail (cli, error);
      transfers = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (transfers, transfer);
      all = TRUE;
    }
  else
    {
      transfers = cli_list (cli, LK_STORE_KIND_TRANSFER, &error);
      if (transfers == NULL)
        return cli_fail (cli, error);
    }

  for (guint i = 0; i < transfers->len; i++)
    {
      LkTransfer *transfer = g_ptr_array_index (transfers, i);
      gboolean printed = FALSE;

      /* Every change is printed as it is seen; a transfer that did not
       * change is printed once, as before (finished ones with --all). */
      if (!lk_transfer_state_is_final (lk_transfer_get_state (transfer)) &&
          !follow_reporting (cli, transfer, wait, auto_confirm, TRUE, porcelain, &printed, &error))
        {
          cli_print (cli->errors, "latchkey-cli: %s: %s\n", lk_transfer_get_id (transfer), error->message);
          g_clear_error (&error);
        }

      if (!printed && (porcelain || all || !lk_transfer_state_is_final (lk_transfer_get_state (transfer))))
        print_line (cli, transfer, porcelain);
    }

  return transfers->len == 1 ? exit_for_state (g_ptr_array_index (transfers, 0)) : CLI_EXIT_OK;
}

/* Runs one action on one transfer, then follows it if asked. */
static int
act_on (CliContext  *cli,
        int          argc,
        char       **argv,
        const char  *summary,
        int          action)
{
  g_autoptr(LkTransfer) transfer = NULL;
  g_autoptr(LkTransfer) updated = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  int wait = 0, receiver = 0;
  const GOptionEntry entries[] = {
    { "wait", 'w', 0, G_OPTION_ARG_INT, &wait, N_("Then follow the transfer for up to SECONDS"), N_("SECONDS") },
    { NULL }
  };
  const GOptionEntry revoke_entries[] = {
    { "wait", 'w', 0, G_OPTION_ARG_INT, &wait, N_("Then follow the transfer for up to SECONDS"), N_("SECONDS") },
    { "receiver", 'r', 0, G_OPTION_ARG_INT, &receiver,
      N_("Only the Kth device to receive a share for several (1 is the first)"), N_("K") },
    { NULL }
  };

  if (!cli_parse_options (cli, "ID", summary, action == 'r' ? revoke_entries : entries, &argc, &argv, 1, 1))
    return CLI_EXIT_USAGE;
  if (receiver < 0 || receiver > LK_TRANSFER_MAX_RECEIVERS)
    {
      cli_print (cli->errors, _("latchkey-cli: --receiver must be from 1 to %d\n"), LK_TRANSFER_MAX_RECEIVERS);
      return CLI_EXIT_USAGE;
    }

  transfer = cli_find (cli, LK_STORE_KIND_TRANSFER, argv[1], &error);
  if (transfer == NULL)
    return cli_fail (cli, error);

  switch (action)
    {
    case 'k':
      {
        g_autoptr(LkSecureString) code = cli_read_line (cli, MAX_CODE_LENGTH, &error);

        if (code == NULL)
          return cli_fail (cli, error);
        lk_transfer_engine_provide_code_async (cli->engine, transfer, code, NULL, cli_on_done, &result);
      }
      break;
    case 'c':
      lk_transfer_engine_confirm_async (cli->engine, transfer, NULL, cli_on_done, &result);
      break;
    case 'x':
      lk_transfer_engine_cancel_async (cli->engine, transfer, NULL, cli_on_done, &result);
      break;
    case 'r':
    default:
      if (receiver > 0)
        lk_transfer_engine_revoke_receiver_async (cli->engine, transfer, (guint) receiver, NULL, cli_on_done, &result);
      else
        lk_transfer_engine_revoke_async (cli->engine, transfer, NULL, cli_on_done, &result);
      break;
    }

  updated = finish_transfer (cli, &result, &error);
  if (updated == NULL)
    return cli_fail (cli, error);

  if (action == 'k' && !give_codes (cli, transfer, &error))
    return cli_fail (cli, error);
  if (wait > 0 && !follow (cli, transfer, wait, FALSE, &error))
    return cli_fail (cli, error);

  cli_print_transfer (cli, transfer);
  return action == 'x' || action == 'r' ? CLI_EXIT_OK : exit_for_state (transfer);
}

int
cli_code (CliContext  *cli,
          int          argc,
          char       **argv)
{
  return act_on (cli, argc, argv, _("Gives a receipt the activation code the sender passed on, read from\n"
                                    "standard input (more lines are tried if it is wrong)."), 'k');
}

int
cli_confirm (CliContext  *cli,
             int          argc,
             char       **argv)
{
  return act_on (cli, argc, argv, _("Signs the friend’s key of a car share waiting for your confirmation."), 'c');
}

int
cli_cancel (CliContext  *cli,
            int          argc,
            char       **argv)
{
  return act_on (cli, argc, argv, _("Cancels a pending share (its invitation is deleted), or declines a receipt."),
                 'x');
}

int
cli_revoke (CliContext  *cli,
            int          argc,
            char       **argv)
{
  return act_on (cli, argc, argv, _("Revokes, at the provisioning partner, the key a completed share gave."), 'r');
}
