/* main.c: latchkey-cli
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-cli"

#include "config.h"

#include <locale.h>

#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib/gi18n.h>

#include "cli-command.h"
#include "lk-process.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GOutputStream) output = NULL;
  g_autoptr(GOutputStream) errors = NULL;
  g_autoptr(GError) error = NULL;

  /* Before anything holds a secret: no core dumps. */
  if (!lk_process_harden (&error))
    g_warning ("%s", error->message);

  input = g_unix_input_stream_new (0, FALSE);
  output = g_unix_output_stream_new (1, FALSE);
  errors = g_unix_output_stream_new (2, FALSE);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  return cli_run (argc, argv, input, output, errors);
}
