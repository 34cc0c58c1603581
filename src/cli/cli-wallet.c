/* cli-wallet.c: the keys in the keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-cli"

#include "config.h"

#include <glib/gi18n.h>

#include "cli-private.h"

int
cli_enroll (CliContext  *cli,
            int          argc,
            char       **argv)
{
  g_autofree char *title = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) error = NULL;
  LkVertical vertical;
  const GOptionEntry entries[] = {
    { "title", 't', 0, G_OPTION_ARG_STRING, &title, N_("Name the key"), N_("TITLE") },
    { NULL }
  };

  if (!cli_parse_options (cli, "car|home|generic",
                          _("Enrols a demo owner key with the provisioning partner (--partner or\n"
                            "$LATCHKEY_PARTNER_URL): a car, a hotel room or home door, or a generic pass.\n"
                            "The key pair is made here and kept in the keyring."),
                          entries, &argc, &argv, 1, 1))
    return CLI_EXIT_USAGE;

  if (!lk_vertical_from_string (argv[1], &vertical))
    {
      cli_print (cli->errors, _("latchkey-cli: the kind of key must be car, home or generic\n"));
      return CLI_EXIT_USAGE;
    }
  if (cli->partner_url == NULL)
    {
      cli_print (cli->errors, _("latchkey-cli: no partner: pass --partner URL or set LATCHKEY_PARTNER_URL\n"));
      return CLI_EXIT_USAGE;
    }

  lk_transfer_engine_enroll_async (cli->engine, cli->partner_url, vertical, title, NULL, cli_on_done, &result);
  credential = lk_transfer_engine_enroll_finish (cli->engine, cli_wait (cli, &result), &error);
  if (credential == NULL)
    return cli_fail (cli, error);

  cli_print (cli->output, "%s\n", lk_credential_get_id (credential));
  return CLI_EXIT_OK;
}

int
cli_list_command (CliContext  *cli,
                  int          argc,
                  char       **argv)
{
  g_autoptr(GPtrArray) credentials = NULL;
  g_autoptr(GError) error = NULL;

  if (!cli_parse_options (cli, NULL, _("Lists the keys in the keyring."), NULL, &argc, &argv, 0, 0))
    return CLI_EXIT_USAGE;

  credentials = cli_list (cli, LK_STORE_KIND_CREDENTIAL, &error);
  if (credentials == NULL)
    return cli_fail (cli, error);

  for (guint i = 0; i < credentials->len; i++)
    {
      LkCredential *credential = g_ptr_array_index (credentials, i);
      g_autofree char *until = cli_format_time (lk_credential_get_valid_until (credential));

      cli_print (cli->output, "%s  %-7s  %-6s  %s  (until %s%s%s)\n",
                 lk_credential_get_id (credential),
                 lk_vertical_to_string (lk_credential_get_vertical (credential)),
                 lk_credential_role_to_string (lk_credential_get_role (credential)),
                 lk_credential_get_title (credential),
                 until,
                 lk_credential_get_shared_by (credential) ? _(", shared by ") : "",
                 lk_credential_get_shared_by (credential) ? lk_credential_get_shared_by (credential) : "");
    }

  return CLI_EXIT_OK;
}

/* Who holds a copy of this key: every share made from it, with what
 * `latchkey-cli revoke` takes. */
static int
print_shares (CliContext *cli,
              const char *credential_id)
{
  g_autoptr(GPtrArray) transfers = NULL;
  g_autoptr(GError) error = NULL;
  guint shown = 0;

  transfers = cli_list (cli, LK_STORE_KIND_TRANSFER, &error);
  if (transfers == NULL)
    return cli_fail (cli, error);

  for (guint i = 0; i < transfers->len; i++)
    {
      LkTransfer *transfer = g_ptr_array_index (transfers, i);
      g_autofree char *until = NULL;
      g_autofree char *who = NULL;

      if (lk_transfer_get_role (transfer) != LK_ROLE_INITIATOR ||
          g_strcmp0 (lk_transfer_get_credential_id (transfer), credential_id) != 0)
        continue;

      if (shown++ == 0)
        cli_print (cli->output, _("Shared with:\n"));
      until = cli_format_time (lk_transfer_get_valid_until (transfer));
      who = lk_transfer_get_receiver_name (transfer) ? g_strconcat (lk_transfer_get_receiver_name (transfer), "  ", NULL)
                                                     : g_strdup ("");
      cli_print (cli->output, _("  %s  %s%s%s  until %s%s\n"), lk_transfer_get_id (transfer), who,
                 lk_transfer_state_to_string (lk_transfer_get_state (transfer)),
                 lk_transfer_get_revoked (transfer) ? _(" (revoked)") : "", until,
                 lk_transfer_get_revocable (transfer) ? _("  revocable") : "");
    }
  if (shown == 0)
    cli_print (cli->output, _("Shared with:  nobody\n"));

  return CLI_EXIT_OK;
}

int
cli_show (CliContext  *cli,
          int          argc,
          char       **argv)
{
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *from = NULL;
  g_autofree char *until = NULL;
  g_autofree char *entitlements = NULL;

  if (!cli_parse_options (cli, "ID", _("Shows a key; never its secrets."), NULL, &argc, &argv, 1, 1))
    return CLI_EXIT_USAGE;

  credential = cli_find (cli, LK_STORE_KIND_CREDENTIAL, argv[1], &error);
  if (credential == NULL)
    return cli_fail (cli, error);

  from = cli_format_time (lk_credential_get_valid_from (credential));
  until = cli_format_time (lk_credential_get_valid_until (credential));
  entitlements = g_strjoinv (", ", (char **) lk_credential_get_entitlements (credential));

  cli_print (cli->output,
             _("Id:           %s\nKind:         %s\nTitle:        %s\nIssuer:       %s\nRole:         %s\n"
               "Valid:        %s to %s\nMay:          %s\nShared by:    %s\nAccess point: %s\nPartner:      %s\n"),
             lk_credential_get_id (credential),
             lk_vertical_to_string (lk_credential_get_vertical (credential)),
             lk_credential_get_title (credential),
             lk_credential_get_issuer (credential) ? lk_credential_get_issuer (credential) : "—",
             lk_credential_role_to_string (lk_credential_get_role (credential)),
             from, until,
             *entitlements ? entitlements : "—",
             lk_credential_get_shared_by (credential) ? lk_credential_get_shared_by (credential) : "—",
             lk_credential_get_access_point_id (credential) ? lk_credential_get_access_point_id (credential) : "—",
             lk_credential_get_partner_url (credential) ? lk_credential_get_partner_url (credential) : "—");

  if (lk_credential_get_key_pair (credential) != NULL)
    {
      g_autofree char *fingerprint = lk_key_pair_get_fingerprint (lk_credential_get_key_pair (credential));

      cli_print (cli->output, _("Key:          ECDSA P-256, SHA-256 %s\n"), fingerprint);
    }

  return print_shares (cli, lk_credential_get_id (credential));
}

int
cli_access (CliContext  *cli,
            int          argc,
            char       **argv)
{
  g_autofree char *action = NULL;
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(LkAccessResult) access = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "action", 'a', 0, G_OPTION_ARG_STRING, &action, N_("open (default), start or drive"), N_("ACTION") },
    { NULL }
  };

  if (!cli_parse_options (cli, "ID", _("Tries a key at its car, room or door, which the provisioning\n"
                                       "partner simulates: the key signs a fresh challenge."),
                          entries, &argc, &argv, 1, 1))
    return CLI_EXIT_USAGE;

  credential = cli_find (cli, LK_STORE_KIND_CREDENTIAL, argv[1], &error);
  if (credential == NULL)
    return cli_fail (cli, error);

  lk_transfer_engine_access_async (cli->engine, credential, action ? action : "open", NULL, cli_on_done, &result);
  access = lk_transfer_engine_access_finish (cli->engine, cli_wait (cli, &result), &error);
  if (access == NULL)
    return cli_fail (cli, error);

  if (!access->granted)
    {
      cli_print (cli->output, _("Access denied: %s%s%s\n"), access->reason ? access->reason : _("refused"),
                 access->message ? " — " : "", access->message ? access->message : "");
      return CLI_EXIT_DENIED;
    }

  cli_print (cli->output, _("Access granted: %s\n"), action ? action : "open");
  return CLI_EXIT_OK;
}

int
cli_delete (CliContext  *cli,
            int          argc,
            char       **argv)
{
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  if (!cli_parse_options (cli, "ID", _("Deletes a key from the keyring. It stays valid at its partner:\n"
                                       "revoke shares first if you mean to end them."),
                          NULL, &argc, &argv, 1, 1))
    return CLI_EXIT_USAGE;

  credential = cli_find (cli, LK_STORE_KIND_CREDENTIAL, argv[1], &error);
  if (credential == NULL)
    return cli_fail (cli, error);

  lk_transfer_engine_delete_async (cli->engine, LK_STORE_KIND_CREDENTIAL, lk_credential_get_id (credential),
                                   NULL, cli_on_done, &result);
  if (!lk_transfer_engine_delete_finish (cli->engine, cli_wait (cli, &result), &error))
    return cli_fail (cli, error);

  return CLI_EXIT_OK;
}
