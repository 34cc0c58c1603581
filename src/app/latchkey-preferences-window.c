/* latchkey-preferences-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-preferences-window"

#include "config.h"

#include <glib/gi18n.h>

#include "lk-share-link.h"
#include "latchkey-preferences-window.h"

struct _LatchkeyPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  AdwEntryRow          *relay_row;
  GtkWidget            *relay_warning;
  GtkLabel             *relay_hint;
  AdwEntryRow          *partner_row;
  GtkWidget            *partner_warning;
  GtkLabel             *partner_hint;

  GSettings            *settings;
  char                 *default_relay;
  char                 *default_partner;
};

G_DEFINE_FINAL_TYPE (LatchkeyPreferencesWindow, latchkey_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static const char *
key_for (LatchkeyPreferencesWindow *self,
         AdwEntryRow               *row)
{
  return row == self->relay_row ? "relay-url" : "partner-url";
}

/* Checked at each keystroke; saved only when valid and applied. */
static gboolean
validate (LatchkeyPreferencesWindow *self,
          AdwEntryRow               *row)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
  gboolean relay = row == self->relay_row;
  GtkLabel *hint = relay ? self->relay_hint : self->partner_hint;
  GtkWidget *warning = relay ? self->relay_warning : self->partner_warning;
  const char *fallback = relay ? self->default_relay : self->default_partner;
  gboolean valid = *text == '\0' || lk_share_link_check_server_url (text, &error);

  gtk_widget_set_visible (warning, !valid);
  if (valid)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (hint), "error");
      gtk_widget_add_css_class (GTK_WIDGET (hint), "dim-label");
      if (*text != '\0')
        gtk_label_set_text (hint, relay ? _("Applies to new shares; shares under way keep their relay.")
                                        : _("Applies to keys enrolled from now on."));
      else if (fallback != NULL && *fallback != '\0')
        {
          /* Translators: %s is a web address */
          g_autofree char *text_default = g_strdup_printf (_("Empty: the default, %s"), fallback);

          gtk_label_set_text (hint, text_default);
        }
      else
        gtk_label_set_text (hint, relay ? _("Empty: no relay; sharing needs one.")
                                        : _("Empty: no provider; enrolling needs one."));
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (row), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (hint), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (hint), "error");
      gtk_label_set_text (hint, error->message);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  gtk_label_get_text (hint), -1);
  gtk_accessible_update_state (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_STATE_INVALID,
                               valid ? GTK_ACCESSIBLE_INVALID_FALSE : GTK_ACCESSIBLE_INVALID_TRUE, -1);
  adw_entry_row_set_show_apply_button (row, valid);

  return valid;
}

static void
on_changed (LatchkeyPreferencesWindow *self,
            AdwEntryRow               *row)
{
  validate (self, row);
}

static void
on_apply (LatchkeyPreferencesWindow *self,
          AdwEntryRow               *row)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));

  if (!validate (self, row))
    return;

  /* Without a trailing slash, as links and the clients expect. */
  if (g_str_has_suffix (text, "/"))
    text[strlen (text) - 1] = '\0';
  g_settings_set_string (self->settings, key_for (self, row), text);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                    adw_toast_new (*text == '\0' ? _("Using the default") : _("Saved")));
}

static void
latchkey_preferences_window_finalize (GObject *object)
{
  LatchkeyPreferencesWindow *self = LATCHKEY_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  g_free (self->default_relay);
  g_free (self->default_partner);

  G_OBJECT_CLASS (latchkey_preferences_window_parent_class)->finalize (object);
}

static void
latchkey_preferences_window_class_init (LatchkeyPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = latchkey_preferences_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/latchkey/Latchkey/latchkey-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LatchkeyPreferencesWindow, relay_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyPreferencesWindow, relay_warning);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyPreferencesWindow, relay_hint);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyPreferencesWindow, partner_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyPreferencesWindow, partner_warning);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyPreferencesWindow, partner_hint);
  gtk_widget_class_bind_template_callback (widget_class, on_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_apply);
}

static void
latchkey_preferences_window_init (LatchkeyPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

LatchkeyPreferencesWindow *
latchkey_preferences_window_new (GSettings  *settings,
                                 const char *default_relay,
                                 const char *default_partner)
{
  LatchkeyPreferencesWindow *self;
  g_autofree char *relay = NULL;
  g_autofree char *partner = NULL;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (LATCHKEY_TYPE_PREFERENCES_WINDOW, NULL);
  self->settings = g_object_ref (settings);
  self->default_relay = g_strdup (default_relay);
  self->default_partner = g_strdup (default_partner);

  relay = g_settings_get_string (settings, "relay-url");
  partner = g_settings_get_string (settings, "partner-url");
  gtk_editable_set_text (GTK_EDITABLE (self->relay_row), relay);
  gtk_editable_set_text (GTK_EDITABLE (self->partner_row), partner);
  validate (self, self->relay_row);
  validate (self, self->partner_row);

  return self;
}
