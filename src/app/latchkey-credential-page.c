/* latchkey-credential-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sharing opens another page, which is the window's to do: the page emits
 * "share". Toasts, going back and reloading the wallet are window actions.
 */

#define G_LOG_DOMAIN "latchkey-credential-page"

#include "config.h"

#include <glib/gi18n.h>

#include "latchkey-credential-page.h"
#include "latchkey-page-clock.h"
#include "latchkey-tracker.h"
#include "latchkey-utils.h"

struct _LatchkeyCredentialPage
{
  AdwBin          parent_instance;

  AdwWindowTitle *window_title;
  GtkImage       *icon;
  GtkLabel       *title_label;
  GtkLabel       *kind_label;
  GtkWidget      *share_button;
  AdwActionRow   *issuer_row;
  AdwActionRow   *validity_row;
  AdwActionRow   *entitlements_row;
  AdwActionRow   *shared_by_row;
  AdwActionRow   *access_point_row;
  GtkWidget      *shares_group;
  GtkListBox     *shares_list;

  LkTransferEngine *engine;
  LatchkeyTrackerList *trackers;
  GtkFilterListModel *shares;      /* the trackers of shares made from this key */
  LkCredential   *credential;
  GCancellable   *cancellable;
};

G_DEFINE_FINAL_TYPE (LatchkeyCredentialPage, latchkey_credential_page, ADW_TYPE_BIN)

enum {
  SIGNAL_SHARE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
toast (LatchkeyCredentialPage *self,
       const char             *text)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", text);
}

static void
set_row (AdwActionRow *row,
         const char   *value)
{
  gtk_widget_set_visible (GTK_WIDGET (row), value != NULL && *value != '\0');
  adw_action_row_set_subtitle (row, value ? value : "");
}

static void
fill (LatchkeyCredentialPage *self)
{
  LkCredential *c = self->credential;
  const char * const *entitlements = lk_credential_get_entitlements (c);
  g_autoptr(GString) allows = g_string_new (NULL);
  g_autofree char *validity = latchkey_format_validity (lk_credential_get_valid_from (c),
                                                        lk_credential_get_valid_until (c));
  gboolean owner = lk_credential_get_role (c) == LK_CREDENTIAL_ROLE_OWNER;

  adw_window_title_set_title (self->window_title, lk_credential_get_title (c));
  gtk_image_set_from_icon_name (self->icon, latchkey_vertical_icon_name (lk_credential_get_vertical (c)));
  gtk_label_set_text (self->title_label, lk_credential_get_title (c));
  gtk_label_set_text (self->kind_label, latchkey_vertical_label (lk_credential_get_vertical (c)));

  for (guint i = 0; entitlements != NULL && entitlements[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append (allows, ", ");
      g_string_append (allows, latchkey_entitlement_label (entitlements[i]));
    }

  set_row (self->issuer_row, lk_credential_get_issuer (c));
  set_row (self->validity_row, validity);
  set_row (self->entitlements_row, allows->str);
  set_row (self->shared_by_row, owner ? NULL
                                      : lk_credential_get_shared_by (c) ? lk_credential_get_shared_by (c)
                                                                        : _("Someone shared it with you"));
  set_row (self->access_point_row, lk_credential_get_access_point_id (c));

  /* Like a wallet on a phone, only the owner hands a key on. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.share", owner);
  gtk_widget_set_tooltip_text (self->share_button, owner ? NULL : _("A key shared with you cannot be shared on"));
}

/* Shared With: one row per share of this key, who (when it was made),
 * its state, until when, and Revoke while it can be. */

static void
update_share_row (LatchkeyTracker *tracker,
                  int              previous,
                  AdwActionRow    *row)
{
  GtkWidget *revoke = g_object_get_data (G_OBJECT (row), "revoke");
  g_autofree char *state = latchkey_tracker_describe_state (tracker);
  g_autofree char *created = latchkey_format_date (latchkey_tracker_get_created (tracker));
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *until = latchkey_format_expiry (latchkey_tracker_get_valid_until (tracker), now);
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *revoke_label = NULL;

  if (latchkey_tracker_get_receiver_name (tracker) != NULL)
    /* Translators: the first %s is a person's name, the second when the share was made */
    title = g_strdup_printf (_("%s, shared %s"), latchkey_tracker_get_receiver_name (tracker), created);
  else
    /* Translators: %s is when a share was made */
    title = g_strdup_printf (_("Shared %s"), created);
  /* Translators: a share's state, then until when the shared key works */
  subtitle = g_strdup_printf (_("%s · %s"), state, until);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (row, subtitle);

  gtk_widget_set_visible (revoke, latchkey_tracker_get_revocable (tracker));
  gtk_widget_set_sensitive (revoke, !latchkey_tracker_get_busy (tracker));
  /* Translators: the accessible name of a Revoke button; %s is when the share was made */
  revoke_label = g_strdup_printf (_("Revoke the key shared %s"), created);
  gtk_accessible_update_property (GTK_ACCESSIBLE (revoke), GTK_ACCESSIBLE_PROPERTY_LABEL, revoke_label, -1);
}

static GtkWidget *
create_share_row (gpointer item,
                  gpointer user_data)
{
  LatchkeyTracker *tracker = item;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *revoke = gtk_button_new_with_mnemonic (_("_Revoke"));

  gtk_widget_set_valign (revoke, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (revoke, "destructive-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (revoke), "page.revoke-share");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (revoke), "s", latchkey_tracker_get_id (tracker));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), revoke);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
  gtk_widget_set_name (row, "credential-share");
  g_object_set_data (G_OBJECT (row), "revoke", revoke);
  g_object_set_data_full (G_OBJECT (row), "tracker", g_object_ref (tracker), g_object_unref);
  update_share_row (tracker, 0, ADW_ACTION_ROW (row));
  g_signal_connect_object (tracker, "changed", G_CALLBACK (update_share_row), row, 0);

  return row;
}

static gboolean
is_share_of_this_key (gpointer item,
                      gpointer user_data)
{
  LatchkeyCredentialPage *self = user_data;

  return latchkey_tracker_get_role (item) == LK_ROLE_INITIATOR &&
         g_strcmp0 (latchkey_tracker_get_credential_id (item), lk_credential_get_id (self->credential)) == 0;
}

static void
update_shares_group (LatchkeyCredentialPage *self)
{
  gtk_widget_set_visible (self->shares_group, g_list_model_get_n_items (G_LIST_MODEL (self->shares)) > 0);
}

static LatchkeyTracker *
find_share (LatchkeyCredentialPage *self,
            const char             *id)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->shares)); i++)
    {
      g_autoptr(LatchkeyTracker) tracker = g_list_model_get_item (G_LIST_MODEL (self->shares), i);

      if (g_strcmp0 (latchkey_tracker_get_id (tracker), id) == 0)
        return tracker;
    }
  return NULL;
}

static void
on_revoke_response (AdwMessageDialog       *dialog,
                    const char             *response,
                    LatchkeyCredentialPage *self)
{
  const char *id = g_object_get_data (G_OBJECT (dialog), "share-id");
  LatchkeyTracker *tracker = find_share (self, id);

  if (g_strcmp0 (response, "revoke") == 0 && tracker != NULL)
    latchkey_tracker_run (tracker, LATCHKEY_TRACKER_REVOKE, NULL);
}

static void
revoke_share_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  LatchkeyCredentialPage *self = LATCHKEY_CREDENTIAL_PAGE (widget);
  const char *id = g_variant_get_string (parameter, NULL);
  GtkWidget *dialog;

  if (find_share (self, id) == NULL)
    return;

  dialog = adw_message_dialog_new (latchkey_parent_window (widget), _("Revoke the Key?"),
                                   _("Their copy of the key stops working at once, whether or not "
                                     "their device has answered yet."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "keep", _("_Keep"), "revoke", _("_Revoke"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "revoke", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_object_set_data_full (G_OBJECT (dialog), "share-id", g_strdup (id), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_revoke_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* "expires in 5 minutes" must not go stale while the page is open. */
static gboolean
on_clock (gpointer data)
{
  LatchkeyCredentialPage *self = data;

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->shares_list)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      LatchkeyTracker *tracker = g_object_get_data (G_OBJECT (row), "tracker");

      if (tracker != NULL)
        update_share_row (tracker, 0, ADW_ACTION_ROW (row));
    }
  return G_SOURCE_CONTINUE;
}

static void
share_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_SHARE], 0);
}

static void
on_access_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LatchkeyCredentialPage) self = user_data;
  g_autoptr(LkAccessResult) access = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  access = lk_transfer_engine_access_finish (LK_TRANSFER_ENGINE (source), result, &error);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.try", TRUE);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (access == NULL)
    /* Translators: %s is an error message */
    message = g_strdup_printf (_("The lock could not be reached: %s"), error->message);
  else if (access->granted)
    message = g_strdup (_("Unlocked"));
  else
    /* Translators: %s is the lock's reason, such as “revoked” */
    message = g_strdup_printf (_("Refused: %s"), access->message ? access->message : access->reason);

  toast (self, message);
}

/* The partner's access point stands in for the car, room or door. */
static void
try_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  LatchkeyCredentialPage *self = LATCHKEY_CREDENTIAL_PAGE (widget);

  gtk_widget_action_set_enabled (widget, "page.try", FALSE);
  lk_transfer_engine_access_async (self->engine, self->credential, "open",
                                   self->cancellable, on_access_done, g_object_ref (self));
}

static void
on_deleted (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LatchkeyCredentialPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  if (!lk_transfer_engine_delete_finish (LK_TRANSFER_ENGINE (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* Translators: %s is an error message */
          message = g_strdup_printf (_("The key was not deleted: %s"), error->message);
          toast (self, message);
        }
      return;
    }

  /* Translators: %s is the title of a key */
  message = g_strdup_printf (_("“%s” was deleted"), lk_credential_get_title (self->credential));
  toast (self, message);
  gtk_widget_activate_action (GTK_WIDGET (self), "win.reload", NULL);
  gtk_widget_activate_action (GTK_WIDGET (self), "win.back", NULL);
}

static void
on_delete_response (AdwMessageDialog       *dialog,
                    const char             *response,
                    LatchkeyCredentialPage *self)
{
  if (g_strcmp0 (response, "delete") != 0)
    return;

  lk_transfer_engine_delete_async (self->engine, LK_STORE_KIND_CREDENTIAL,
                                   lk_credential_get_id (self->credential), self->cancellable,
                                   on_deleted, g_object_ref (self));
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LatchkeyCredentialPage *self = LATCHKEY_CREDENTIAL_PAGE (widget);
  GtkWidget *dialog;

  /* Translators: %s is the title of a key */
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), NULL, NULL);
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Delete “%s”?"),
                                     lk_credential_get_title (self->credential));
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                               _("The key is removed from this device. To use it again, it has to be "
                                 "shared with you or enrolled again."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_delete_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
latchkey_credential_page_dispose (GObject *object)
{
  LatchkeyCredentialPage *self = LATCHKEY_CREDENTIAL_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->shares_list != NULL)
    gtk_list_box_bind_model (self->shares_list, NULL, NULL, NULL, NULL);
  g_clear_object (&self->shares);
  g_clear_object (&self->trackers);
  g_clear_object (&self->credential);
  g_clear_object (&self->engine);
  gtk_widget_dispose_template (GTK_WIDGET (self), LATCHKEY_TYPE_CREDENTIAL_PAGE);

  G_OBJECT_CLASS (latchkey_credential_page_parent_class)->dispose (object);
}

static void
latchkey_credential_page_class_init (LatchkeyCredentialPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);


  object_class->dispose = latchkey_credential_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/latchkey/Latchkey/latchkey-credential-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, window_title);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, icon);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, kind_label);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, share_button);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, issuer_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, validity_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, entitlements_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, shared_by_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, access_point_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, shares_group);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyCredentialPage, shares_list);

  gtk_widget_class_install_action (widget_class, "page.share", NULL, share_action);
  gtk_widget_class_install_action (widget_class, "page.try", NULL, try_action);
  gtk_widget_class_install_action (widget_class, "page.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "page.revoke-share", "s", revoke_share_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "page.delete", NULL);

  /**
   * LatchkeyCredentialPage::share:
   *
   * The owner asks to share the credential: whoever shows the page opens
   * the share page.
   */
  signals[SIGNAL_SHARE] = g_signal_new ("share", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
latchkey_credential_page_init (LatchkeyCredentialPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  latchkey_page_clock_attach (GTK_WIDGET (self), 30, on_clock);
}

/**
 * latchkey_credential_page_new:
 * @engine: to try the key at its lock, and to delete it
 * @trackers: the transfers followed: the page lists those shared from
 *   this key
 */
LatchkeyCredentialPage *
latchkey_credential_page_new (LkTransferEngine    *engine,
                              LatchkeyTrackerList *trackers,
                              LkCredential        *credential)
{
  LatchkeyCredentialPage *self;

  g_return_val_if_fail (LK_IS_TRANSFER_ENGINE (engine), NULL);
  g_return_val_if_fail (LATCHKEY_IS_TRACKER_LIST (trackers), NULL);
  g_return_val_if_fail (LK_IS_CREDENTIAL (credential), NULL);

  self = g_object_new (LATCHKEY_TYPE_CREDENTIAL_PAGE, NULL);
  self->engine = g_object_ref (engine);
  self->trackers = g_object_ref (trackers);
  self->credential = g_object_ref (credential);
  fill (self);

  self->shares = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (trackers)),
                                            GTK_FILTER (gtk_custom_filter_new (is_share_of_this_key, self, NULL)));
  gtk_list_box_bind_model (self->shares_list, G_LIST_MODEL (self->shares), create_share_row, self, NULL);
  g_signal_connect_object (self->shares, "items-changed", G_CALLBACK (update_shares_group), self,
                           G_CONNECT_SWAPPED);
  update_shares_group (self);

  return self;
}

LkCredential *
latchkey_credential_page_get_credential (LatchkeyCredentialPage *self)
{
  g_return_val_if_fail (LATCHKEY_IS_CREDENTIAL_PAGE (self), NULL);
  return self->credential;
}
