/* latchkey-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-application"

#include "config.h"

#include <glib/gi18n.h>

#include "latchkey-application.h"
#include "latchkey-window.h"

struct _LatchkeyApplication
{
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (LatchkeyApplication, latchkey_application, ADW_TYPE_APPLICATION)

LatchkeyApplication *
latchkey_application_new (void)
{
  return g_object_new (LATCHKEY_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "resource-base-path", "/io/github/latchkey/Latchkey",
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       NULL);
}

static LatchkeyWindow *
get_window (LatchkeyApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (latchkey_window_new (self));

  return LATCHKEY_WINDOW (window);
}

static void
latchkey_application_activate (GApplication *app)
{
  gtk_window_present (GTK_WINDOW (get_window (LATCHKEY_APPLICATION (app))));
}

static void
latchkey_application_open (GApplication  *app,
                           GFile        **files,
                           int            n_files,
                           const char    *hint)
{
  /* Receiving arrives with the transfers; until then, show the window. */
  gtk_window_present (GTK_WINDOW (get_window (LATCHKEY_APPLICATION (app))));
}

static void
latchkey_application_class_init (LatchkeyApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = latchkey_application_activate;
  app_class->open = latchkey_application_open;
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  LatchkeyApplication *self = user_data;
  static const char *developers[] = { "The Latchkey developers", NULL };

  adw_show_about_window (gtk_application_get_active_window (GTK_APPLICATION (self)),
                         "application-name", _("Latchkey"),
                         "application-icon", APP_ID,
                         "developer-name", _("The Latchkey developers"),
                         "version", PACKAGE_VERSION,
                         "website", "https://github.com/latchkey/latchkey",
                         "issue-url", "https://github.com/latchkey/latchkey/issues",
                         "developers", developers,
                         "copyright", "© 2026 The Latchkey developers",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "comments", _("Share and receive digital keys for cars, hotel rooms and homes"),
                         NULL);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "about", about_action },
  { "quit", quit_action },
};

static void
latchkey_application_init (LatchkeyApplication *self)
{
  static const char *quit_accels[] = { "<Control>q", NULL };

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
}
