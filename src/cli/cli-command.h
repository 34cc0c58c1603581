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
  CLI_EXIT_FAILURE   = 1,
  CLI_EXIT_USAGE     = 2,
  CLI_EXIT_BAD_INPUT = 3,
} CliExit;

int cli_run (int            argc,
             char         **argv,
             GInputStream  *input,
             GOutputStream *output,
             GOutputStream *errors);

G_END_DECLS
