/* latchkey-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-window"

#include "config.h"

#include <glib/gi18n.h>

#include "latchkey-window.h"

struct _LatchkeyWindow
{
  AdwApplicationWindow  parent_instance;

  AdwStatusPage        *empty_page;
};

G_DEFINE_FINAL_TYPE (LatchkeyWindow, latchkey_window, ADW_TYPE_APPLICATION_WINDOW)

static void
latchkey_window_class_init (LatchkeyWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/latchkey/Latchkey/latchkey-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, empty_page);
}

static void
latchkey_window_init (LatchkeyWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  /* The Devel profile is marked the GNOME way, with stripes in the header bar. */
  if (DEVELOPMENT_BUILD)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
}

LatchkeyWindow *
latchkey_window_new (LatchkeyApplication *application)
{
  return g_object_new (LATCHKEY_TYPE_WINDOW,
                       "application", application,
                       NULL);
}
