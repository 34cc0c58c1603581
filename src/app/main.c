/* main.c: the latchkey application
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey"

#include "config.h"

#include <glib/gi18n.h>

#include "latchkey-application.h"
#include "lk-process.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(LatchkeyApplication) app = NULL;
  g_autoptr(GError) error = NULL;

  /* Before anything holds a secret: no core dumps. */
  if (!lk_process_harden (&error))
    g_warning ("%s", error->message);

  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = latchkey_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
