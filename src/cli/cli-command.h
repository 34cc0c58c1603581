/* cli-command.h: latchkey-cli subcommands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Documented exit codes, shared by every subcommand. */
typedef enum
{
  CLI_EXIT_OK        = 0,
  CLI_EXIT_FAILURE   = 1,   /* the network, the keyring, the relay or partner failed */
  CLI_EXIT_USAGE     = 2,   /* wrong options or arguments */
  CLI_EXIT_BAD_INPUT = 3,   /* an invalid link, code or id */
  CLI_EXIT_WAITING   = 4,   /* the transfer waits for you: a code or a confirmation */
  CLI_EXIT_ENDED     = 5,   /* the transfer ended without a credential */
  CLI_EXIT_DENIED    = 6,   /* access was refused */
} CliExit;

int cli_run (int            argc,
             char         **argv,
             GInputStream  *input,
             GOutputStream *output,
             GOutputStream *errors);

G_END_DECLS
