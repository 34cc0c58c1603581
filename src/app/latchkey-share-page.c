/* latchkey-share-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two steps: a few options that fit the key, then the invitation itself,
 * its QR code and link, the activation code apart from them, and the live
 * state of the share with what the sender can still do about it.
 */

#define G_LOG_DOMAIN "latchkey-share-page"

#include "config.h"

#include <glib/gi18n.h>

#include "lk-crypto.h"
#include "latchkey-page-clock.h"
#include "latchkey-qr-code.h"
#include "latchkey-share-page.h"
#include "latchkey-utils.h"

struct _LatchkeySharePage
{
  AdwBin           parent_instance;

  AdwWindowTitle  *window_title;
  GtkStack        *stack;
  AdwComboRow     *start_row;
  AdwComboRow     *duration_row;
  AdwPreferencesGroup *entitlements_group;
  AdwComboRow     *expires_row;
  GtkSwitch       *code_switch;
  AdwActionRow    *devices_row;
  GtkSpinButton   *devices_spin;
  AdwActionRow    *received_row;
  AdwEntryRow     *name_row;
  GtkWidget       *create_button;
  GtkSpinner      *create_spinner;
  LatchkeyQrCode  *qr_code;
  GtkWidget       *hint_label;
  GtkWidget       *invitation_buttons;
  GtkWidget       *link_group;
  AdwActionRow    *link_row;
  AdwActionRow    *expires_info_row;
  GtkWidget       *code_group;
  AdwActionRow    *code_row;
  AdwActionRow    *status_row;
  GtkStack        *status_icon_stack;
  GtkSpinner      *status_spinner;
  GtkImage        *status_icon;
  GtkWidget       *confirm_button;
  GtkWidget       *cancel_button;
  GtkWidget       *revoke_button;
  GtkWidget       *request_group;
  GtkWidget       *copy_link_button;
  AdwActionRow    *request_who_row;
  AdwActionRow    *request_key_row;
  AdwActionRow    *request_may_row;
  AdwActionRow    *request_valid_row;
  AdwActionRow    *request_code_row;

  LkTransferEngine *engine;
  LatchkeyTrackerList *trackers;
  LkCredential    *credential;
  GPtrArray       *entitlement_switches;   /* GtkSwitch, with "entitlement" data */
  LatchkeyTracker *tracker;
  GCancellable    *cancellable;
  char            *spoken;       /* the state last told to screen readers */
};

G_DEFINE_FINAL_TYPE (LatchkeySharePage, latchkey_share_page, ADW_TYPE_BIN)

/* Car keys need an end date (CCC); the others may last as long as the key. */
static const struct { const char *label; gint64 hours; } car_durations[] = {
  { N_("1 hour"), 1 }, { N_("1 day"), 24 }, { N_("3 days"), 72 }, { N_("1 week"), 168 },
};
static const struct { const char *label; gint64 hours; } other_durations[] = {
  { N_("As long as my key"), 0 }, { N_("1 day"), 24 }, { N_("1 week"), 168 }, { N_("30 days"), 720 },
};
static const gint64 start_hours[] = { 0, 1, 24 };
static const gint64 expiry_hours[] = { 1, 24, 48, 168 };

static void
toast (LatchkeySharePage *self,
       const char        *text)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", text);
}

/* Codes read and dictate better in groups of three digits. */
static char *
format_code (const char *code)
{
  GString *text = g_string_new (NULL);

  for (const char *p = code; *p != '\0'; p++)
    {
      if (p != code && (p - code) % 3 == 0)
        g_string_append_c (text, ' ');
      g_string_append_c (text, *p);
    }

  return g_string_free (text, FALSE);
}

/* What the owner signs, shown before Confirm and Sign: the receiver's new
 * key (a short fingerprint both apps show), what it may do, when, and
 * whether the activation code was given right. */
static void
update_request (LatchkeySharePage *self,
                LatchkeyTracker   *tracker)
{
  const char * const *entitlements = latchkey_tracker_get_entitlements (tracker);
  const char *fingerprint = latchkey_tracker_get_friend_fingerprint (tracker);
  gboolean asked = latchkey_tracker_get_state (tracker) == LK_TRANSFER_STATE_AWAITING_CONFIRMATION &&
                   latchkey_tracker_get_vertical (tracker) == LK_VERTICAL_CAR;
  g_autoptr(GString) may = g_string_new (NULL);
  g_autofree char *valid = NULL;

  gtk_widget_set_visible (self->request_group, asked);
  if (!asked)
    return;

  for (guint i = 0; entitlements != NULL && entitlements[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append (may, ", ");
      g_string_append (may, latchkey_entitlement_label (entitlements[i]));
    }
  valid = latchkey_format_validity (latchkey_tracker_get_valid_from (tracker),
                                    latchkey_tracker_get_valid_until (tracker));

  adw_action_row_set_subtitle (self->request_who_row, latchkey_tracker_get_receiver_name (tracker)
                                                      ? latchkey_tracker_get_receiver_name (tracker)
                                                      : _("No name given"));
  adw_action_row_set_subtitle (self->request_key_row, fingerprint ? fingerprint : _("Unknown"));
  adw_action_row_set_subtitle (self->request_may_row, may->len > 0 ? may->str : _("Open"));
  adw_action_row_set_subtitle (self->request_valid_row, valid);
  adw_action_row_set_subtitle (self->request_code_row, latchkey_tracker_get_code_required (tracker)
                                                       ? _("Entered correctly")
                                                       : _("Not asked for"));
}

/* Whether the keyboard focus is on this page. */
static gboolean
focus_is_here (LatchkeySharePage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  return focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (self));
}

/* A button that hides or goes insensitive as the share moves on (Create
 * Invitation, Confirm and Sign) takes the keyboard focus with it: GTK leaves
 * it nowhere, and the next Tab starts from the top. The focus goes to what
 * now matters: Copy Link, or the status. When it was on this page, always
 * (a repeat run saw focus-visible off by then, and the focus left nowhere:
 * issue 18); otherwise only for a keyboard user (focus shown): a pointer
 * user's focus is where they click. */
static void
keep_focus (LatchkeySharePage *self,
            gboolean           open,
            gboolean           was_here)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus;

  if (root == NULL || !gtk_widget_get_mapped (GTK_WIDGET (self)) || !GTK_IS_WINDOW (root))
    return;
  if (!was_here && !gtk_window_get_focus_visible (GTK_WINDOW (root)))
    return;
  focus = gtk_root_get_focus (root);
  if (focus != NULL && gtk_widget_is_visible (focus) && gtk_widget_is_sensitive (focus))
    return;

  if (!(open && gtk_widget_grab_focus (self->copy_link_button)))
    gtk_widget_grab_focus (GTK_WIDGET (self->status_row));
}

static void
update (LatchkeySharePage *self)
{
  LatchkeyTracker *tracker = self->tracker;
  LkTransferState state = latchkey_tracker_get_state (tracker);
  const GError *error = latchkey_tracker_get_error (tracker);
  const char *link = latchkey_tracker_get_link (tracker);
  const char *code = latchkey_tracker_get_activation_code (tracker);
  gboolean final = lk_transfer_state_is_final (state);
  guint receivers = latchkey_tracker_get_receivers (tracker);
  /* A share for several devices stays open to the others after the first. */
  gboolean open = state == LK_TRANSFER_STATE_WAITING || (receivers > 1 && !final);
  gboolean busy = latchkey_tracker_get_busy (tracker);
  gboolean focus_was_here = focus_is_here (self);
  g_autofree char *status = latchkey_tracker_describe_state (tracker);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *expires = latchkey_format_expiry (latchkey_tracker_get_expires (tracker), now);
  g_autofree char *expires_date = latchkey_format_date (latchkey_tracker_get_expires (tracker));
  g_autofree char *title = NULL;
  const char *icon = NULL;

  /* Translators: %s is the title of the key being shared */
  title = g_strdup_printf (_("Share “%s”"), latchkey_tracker_get_title (tracker));
  adw_window_title_set_title (self->window_title, title);
  adw_window_title_set_subtitle (self->window_title, NULL);

  /* Once opened, the invitation is bound to the device that opened it and
   * of no use to anyone else: from then on the state and actions show. */
  latchkey_qr_code_set_text (self->qr_code, open ? link : NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->qr_code), open && link != NULL);
  gtk_widget_set_visible (self->hint_label, open);
  gtk_widget_set_visible (self->invitation_buttons, open);
  gtk_widget_set_visible (self->link_group, open);
  adw_action_row_set_subtitle (self->link_row, link ? link : "");
  adw_action_row_set_subtitle (self->expires_info_row, expires);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->expires_info_row), expires_date);

  if (code != NULL && !final)
    {
      g_autofree char *grouped = format_code (code);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->code_row), grouped);
    }
  gtk_widget_set_visible (self->code_group, code != NULL && !final &&
                          state != LK_TRANSFER_STATE_AWAITING_CONFIRMATION);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->status_row), status);
  gtk_widget_set_visible (GTK_WIDGET (self->received_row), receivers > 1);
  if (receivers > 1)
    {
      /* Translators: devices that took the key, of those the invitation was
       * for: "2 of 4 received"; the plural follows the second number */
      g_autofree char *received = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u received",
                                                                "%u of %u received", receivers),
                                                   latchkey_tracker_get_received (tracker), receivers);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->received_row), received);
    }
  {
    /* What a screen reader says of each change: GTK 4.8 has no
     * announcements (gtk_accessible_announce() is 4.14); the page's
     * description changes, which emits an event to assistive technologies
     * that have read the page (tests/test-screen-reader.py). */
    const char *said = error != NULL ? NULL : latchkey_tracker_get_detail (tracker);
    g_autofree char *spoken = said != NULL && *said != '\0' ? g_strdup_printf ("%s. %s", status, said)
                                                          : g_strdup (status);

    /* Only changes: the clock refreshes the page every 30 s. */
    if (g_strcmp0 (spoken, self->spoken) != 0)
      {
        gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, spoken, -1);
        g_free (self->spoken);
        self->spoken = g_steal_pointer (&spoken);
      }
  }
  if (error != NULL)
    {
      LatchkeyProblem problem = latchkey_classify_error (error);

      if (problem == LATCHKEY_PROBLEM_UNREACHABLE)
        adw_action_row_set_subtitle (self->status_row, _("The relay does not answer; trying again…"));
      else
        adw_action_row_set_subtitle (self->status_row, error->message);
    }
  else
    {
      adw_action_row_set_subtitle (self->status_row, latchkey_tracker_get_detail (tracker)
                                                     ? latchkey_tracker_get_detail (tracker) : "");
    }

  switch (state)
    {
    case LK_TRANSFER_STATE_DONE:
      icon = latchkey_tracker_get_revoked (tracker) ? "action-unavailable-symbolic" : "emblem-ok-symbolic";
      break;
    case LK_TRANSFER_STATE_AWAITING_CONFIRMATION:
      icon = "dialog-question-symbolic";
      break;
    case LK_TRANSFER_STATE_DECLINED:
    case LK_TRANSFER_STATE_CANCELLED:
    case LK_TRANSFER_STATE_EXPIRED:
      icon = "action-unavailable-symbolic";
      break;
    case LK_TRANSFER_STATE_FAILED:
      icon = "dialog-warning-symbolic";
      break;
    case LK_TRANSFER_STATE_WAITING:
    case LK_TRANSFER_STATE_OPENED:
    case LK_TRANSFER_STATE_AWAITING_CODE:
    default:
      break;
    }
  if (busy)
    icon = NULL;
  gtk_spinner_set_spinning (self->status_spinner, icon == NULL);
  if (icon != NULL)
    gtk_image_set_from_icon_name (self->status_icon, icon);
  gtk_stack_set_visible_child_name (self->status_icon_stack, icon == NULL ? "spinner" : "icon");

  update_request (self, tracker);
  gtk_widget_set_visible (self->confirm_button, state == LK_TRANSFER_STATE_AWAITING_CONFIRMATION);
  gtk_widget_set_visible (self->cancel_button, !final);
  /* Revocable from the moment the key was signed or the token issued,
   * whatever the receiver has acknowledged. */
  gtk_widget_set_visible (self->revoke_button, latchkey_tracker_get_revocable (tracker));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.confirm", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.cancel", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.revoke", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.present", open && link != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.send", open && link != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.copy-link", open && link != NULL);

  keep_focus (self, open, focus_was_here);
}

static void
on_tracker_changed (LatchkeyTracker   *tracker,
                    int                previous,
                    LatchkeySharePage *self)
{
  update (self);
}

static void
set_tracker (LatchkeySharePage *self,
             LatchkeyTracker   *tracker)
{
  g_set_object (&self->tracker, tracker);
  g_signal_connect_object (tracker, "changed", G_CALLBACK (on_tracker_changed), self, 0);
  update (self);
  gtk_stack_set_visible_child_name (self->stack, "share");
}

/* Options */

static void
fill_options (LatchkeySharePage *self)
{
  LkCredential *c = self->credential;
  gboolean car = lk_credential_get_vertical (c) == LK_VERTICAL_CAR;
  const char * const *entitlements = lk_credential_get_entitlements (c);
  g_autoptr(GtkStringList) durations = gtk_string_list_new (NULL);
  g_autofree char *title = NULL;
  const char *real_name = g_get_real_name ();

  /* Translators: %s is the title of the key being shared */
  title = g_strdup_printf (_("Share “%s”"), lk_credential_get_title (c));
  adw_window_title_set_title (self->window_title, title);
  adw_window_title_set_subtitle (self->window_title, latchkey_vertical_label (lk_credential_get_vertical (c)));

  if (car)
    for (guint i = 0; i < G_N_ELEMENTS (car_durations); i++)
      gtk_string_list_append (durations, _(car_durations[i].label));
  else
    for (guint i = 0; i < G_N_ELEMENTS (other_durations); i++)
      gtk_string_list_append (durations, _(other_durations[i].label));
  adw_combo_row_set_model (self->duration_row, G_LIST_MODEL (durations));
  adw_combo_row_set_selected (self->duration_row, car ? 1 : 0);
  adw_combo_row_set_selected (self->expires_row, 2);

  /* A friend's car key may do less than the owner's. */
  gtk_widget_set_visible (GTK_WIDGET (self->entitlements_group), car && entitlements != NULL && entitlements[0] != NULL);
  for (guint i = 0; car && entitlements != NULL && entitlements[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *toggle = gtk_switch_new ();

      gtk_switch_set_active (GTK_SWITCH (toggle), TRUE);
      gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
      g_object_set_data_full (G_OBJECT (toggle), "entitlement", g_strdup (entitlements[i]), g_free);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), latchkey_entitlement_label (entitlements[i]));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
      adw_preferences_group_add (self->entitlements_group, row);
      g_ptr_array_add (self->entitlement_switches, toggle);
    }

  if (real_name != NULL && g_strcmp0 (real_name, "Unknown") != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->name_row), real_name);

  /* A car key is signed for one device's key (issue 13). */
  gtk_widget_set_visible (GTK_WIDGET (self->devices_row), !car);
  gtk_spin_button_set_value (self->devices_spin, 1);
}

/* A pass for several devices cannot wait for a code: the owner's device
 * would have to check each one (PROTOCOL.md §7.7). A room or door key's
 * code is checked by its provider, and stays. */
static void
on_devices_changed (GtkSpinButton     *spin,
                    LatchkeySharePage *self)
{
  gboolean several = gtk_spin_button_get_value_as_int (spin) > 1;
  gboolean generic = self->credential != NULL &&
                     lk_credential_get_vertical (self->credential) == LK_VERTICAL_GENERIC;

  if (generic && several)
    gtk_switch_set_active (self->code_switch, FALSE);
  gtk_widget_set_sensitive (gtk_widget_get_ancestor (GTK_WIDGET (self->code_switch), ADW_TYPE_ACTION_ROW),
                            !(generic && several));
}

static void
on_shared (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(LatchkeySharePage) self = user_data;
  g_autoptr(LkTransfer) transfer = NULL;
  g_autoptr(LatchkeyTracker) tracker = NULL;
  g_autoptr(GError) error = NULL;

  transfer = lk_transfer_engine_transfer_finish (LK_TRANSFER_ENGINE (source), result, &error);
  gtk_spinner_set_spinning (self->create_spinner, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.create", TRUE);

  if (transfer == NULL)
    {
      LatchkeyProblem problem = latchkey_classify_error (error);
      g_autofree char *message = NULL;
      g_autofree char *description = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      if (problem == LATCHKEY_PROBLEM_UNREACHABLE || problem == LATCHKEY_PROBLEM_LOCKED)
        {
          description = latchkey_problem_description (problem, error);
          message = g_strdup_printf ("%s: %s", latchkey_problem_title (problem), description);
        }
      else
        /* Translators: %s is an error message */
        message = g_strdup_printf (_("The invitation could not be created: %s"), error->message);
      toast (self, message);
      return;
    }

  tracker = latchkey_tracker_new (LK_TRANSFER_ENGINE (source), transfer);
  latchkey_tracker_list_add (self->trackers, tracker);
  set_tracker (self, tracker);
}

static void
create_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LatchkeySharePage *self = LATCHKEY_SHARE_PAGE (widget);
  g_auto(LkShareOptions) options = { 0 };
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *relay = NULL;
  gboolean car = lk_credential_get_vertical (self->credential) == LK_VERTICAL_CAR;
  guint duration = adw_combo_row_get_selected (self->duration_row);
  guint start = adw_combo_row_get_selected (self->start_row);
  guint expiry = adw_combo_row_get_selected (self->expires_row);
  gint64 hours;
  g_autofree char *name = NULL;

  if (self->credential == NULL)
    return;

  relay = lk_transfer_engine_dup_relay_url (self->engine);
  if (relay == NULL)
    {
      toast (self, _("No relay is set up: choose one in Preferences"));
      return;
    }

  options.activation_code = gtk_switch_get_active (self->code_switch);
  options.receivers = car ? 1 : (guint) CLAMP (gtk_spin_button_get_value_as_int (self->devices_spin), 1,
                                               LK_TRANSFER_MAX_RECEIVERS);
  options.valid_from = g_date_time_add_hours (now, start_hours[MIN (start, G_N_ELEMENTS (start_hours) - 1)]);
  hours = car ? car_durations[MIN (duration, G_N_ELEMENTS (car_durations) - 1)].hours
              : other_durations[MIN (duration, G_N_ELEMENTS (other_durations) - 1)].hours;
  if (hours > 0)
    options.valid_until = g_date_time_add_hours (options.valid_from, hours);
  options.expires = g_date_time_add_hours (now, expiry_hours[MIN (expiry, G_N_ELEMENTS (expiry_hours) - 1)]);

  if (car)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      guint chosen = 0;

      for (guint i = 0; i < self->entitlement_switches->len; i++)
        {
          GtkSwitch *toggle = g_ptr_array_index (self->entitlement_switches, i);

          if (gtk_switch_get_active (toggle))
            {
              g_strv_builder_add (builder, g_object_get_data (G_OBJECT (toggle), "entitlement"));
              chosen++;
            }
        }
      if (self->entitlement_switches->len > 0 && chosen == 0)
        {
          toast (self, _("Allow at least one thing"));
          return;
        }
      options.entitlements = g_strv_builder_end (builder);
    }

  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  if (*name != '\0')
    options.sender_name = g_utf8_substring (name, 0, MIN (g_utf8_strlen (name, -1), 64));

  gtk_widget_action_set_enabled (widget, "page.create", FALSE);
  gtk_spinner_set_spinning (self->create_spinner, TRUE);
  lk_transfer_engine_share_async (self->engine, self->credential, &options,
                                  self->cancellable, on_shared, g_object_ref (self));
}

/* Share view */

static void
copy_text (LatchkeySharePage *self,
           const char        *text,
           const char        *message)
{
  if (text == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
  toast (self, message);
}

static void
copy_link_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LatchkeySharePage *self = LATCHKEY_SHARE_PAGE (widget);

  copy_text (self, latchkey_tracker_get_link (self->tracker), _("Link copied"));
}

/* Clicking the code, here or presented, copies the link. */
static void
on_qr_activate (LatchkeySharePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "page.copy-link", NULL);
}

static void
copy_code_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LatchkeySharePage *self = LATCHKEY_SHARE_PAGE (widget);

  copy_text (self, latchkey_tracker_get_activation_code (self->tracker), _("Code copied"));
}

/* A large code on its own, to hold the screen up to a phone. */
static void
present_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LatchkeySharePage *self = LATCHKEY_SHARE_PAGE (widget);
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *qr = latchkey_qr_code_new ();
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();

  gtk_window_set_title (GTK_WINDOW (window), _("Scan to Receive the Key"));
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_set_transient_for (GTK_WINDOW (window), latchkey_parent_window (widget));
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 700);
  gtk_widget_set_name (window, "present-window");

  latchkey_qr_code_set_text (LATCHKEY_QR_CODE (qr), latchkey_tracker_get_link (self->tracker));
  gtk_widget_set_hexpand (qr, TRUE);
  gtk_widget_set_vexpand (qr, TRUE);
  gtk_widget_set_margin_start (qr, 12);
  gtk_widget_set_margin_end (qr, 12);
  gtk_widget_set_margin_bottom (qr, 12);
  /* No tooltip: it would cover the code for a camera. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (qr), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("QR code of the invitation link"), -1);
  g_signal_connect_object (qr, "activate", G_CALLBACK (on_qr_activate), self, G_CONNECT_SWAPPED);

  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), qr);
  adw_window_set_content (ADW_WINDOW (window), box);

  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                          gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (window, shortcuts);

  gtk_window_present (GTK_WINDOW (window));
  gtk_widget_grab_focus (qr);
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  LatchkeySharePage *self = LATCHKEY_SHARE_PAGE (widget);
  g_autofree char *expires = latchkey_format_date (latchkey_tracker_get_expires (self->tracker));
  g_autofree char *subject = NULL;
  g_autoptr(LkSecureString) body = NULL;
  g_autoptr(LkSecureString) escaped_body = NULL;
  g_autofree char *escaped_subject = NULL;
  g_autoptr(LkSecureString) uri = NULL;

  /* Translators: an email subject; %s is the title of a key */
  subject = g_strdup_printf (_("A key for you: %s"), latchkey_tracker_get_title (self->tracker));
  /* Translators: an email body; the first %s is the link, the second a date */
  body = g_strdup_printf (_("I am sharing a key with you. Open this link with Latchkey, or another "
                            "wallet app that speaks TIGRESS, to receive it:\n\n%s\n\n"
                            "The invitation works once and expires %s."),
                          latchkey_tracker_get_link (self->tracker), expires);
  escaped_subject = g_uri_escape_string (subject, NULL, FALSE);
  escaped_body = g_uri_escape_string (body, NULL, FALSE);
  uri = g_strdup_printf ("mailto:?subject=%s&body=%s", escaped_subject, escaped_body);

  /* The activation code stays out of the message on purpose. */
  gtk_show_uri (latchkey_parent_window (widget), uri, GDK_CURRENT_TIME);
}

static void
confirm_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  latchkey_tracker_run (LATCHKEY_SHARE_PAGE (widget)->tracker, LATCHKEY_TRACKER_CONFIRM, NULL);
}

static void
on_stop_response (AdwMessageDialog  *dialog,
                  const char        *response,
                  LatchkeySharePage *self)
{
  if (g_strcmp0 (response, "cancel-share") == 0)
    latchkey_tracker_run (self->tracker, LATCHKEY_TRACKER_CANCEL, NULL);
  else if (g_strcmp0 (response, "revoke") == 0)
    latchkey_tracker_run (self->tracker, LATCHKEY_TRACKER_REVOKE, NULL);
}

static void
ask_to_stop (LatchkeySharePage *self,
             gboolean           revoke)
{
  GtkWidget *dialog = adw_message_dialog_new (latchkey_parent_window (GTK_WIDGET (self)), NULL, NULL);

  if (revoke)
    {
      adw_message_dialog_set_heading (ADW_MESSAGE_DIALOG (dialog), _("Revoke the Key?"));
      adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                                   _("The other person’s copy of the key stops working at once."));
      adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                        "keep", _("_Keep"), "revoke", _("_Revoke"), NULL);
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "revoke",
                                                  ADW_RESPONSE_DESTRUCTIVE);
    }
  else
    {
      adw_message_dialog_set_heading (ADW_MESSAGE_DIALOG (dialog), _("Cancel the Share?"));
      adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                                   _("The invitation stops working, and nothing more is sent."));
      adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                        "keep", _("_Keep"), "cancel-share", _("C_ancel Share"), NULL);
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "cancel-share",
                                                  ADW_RESPONSE_DESTRUCTIVE);
    }
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_stop_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  ask_to_stop (LATCHKEY_SHARE_PAGE (widget), FALSE);
}

static void
revoke_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  ask_to_stop (LATCHKEY_SHARE_PAGE (widget), TRUE);
}

/* "expires in 5 minutes" must not go stale while the page is open. */
static gboolean
on_clock (gpointer data)
{
  LatchkeySharePage *self = data;

  if (self->tracker != NULL)
    update (self);
  return G_SOURCE_CONTINUE;
}

static void
latchkey_share_page_dispose (GObject *object)
{
  LatchkeySharePage *self = LATCHKEY_SHARE_PAGE (object);

  g_clear_pointer (&self->spoken, g_free);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->tracker);
  g_clear_object (&self->credential);
  g_clear_object (&self->trackers);
  g_clear_object (&self->engine);
  g_clear_pointer (&self->entitlement_switches, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), LATCHKEY_TYPE_SHARE_PAGE);

  G_OBJECT_CLASS (latchkey_share_page_parent_class)->dispose (object);
}

static void
latchkey_share_page_class_init (LatchkeySharePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);


  object_class->dispose = latchkey_share_page_dispose;

  g_type_ensure (LATCHKEY_TYPE_QR_CODE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/latchkey/Latchkey/latchkey-share-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, window_title);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, stack);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, start_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, duration_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, entitlements_group);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, expires_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, code_switch);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, devices_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, devices_spin);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, received_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, name_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, create_button);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, create_spinner);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, qr_code);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, hint_label);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, invitation_buttons);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, link_group);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, link_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, expires_info_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, code_group);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, code_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, status_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, status_icon_stack);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, status_spinner);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, status_icon);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, confirm_button);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, revoke_button);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, request_group);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, copy_link_button);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, request_who_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, request_key_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, request_may_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, request_valid_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeySharePage, request_code_row);
  gtk_widget_class_bind_template_callback (widget_class, on_qr_activate);

  gtk_widget_class_install_action (widget_class, "page.create", NULL, create_action);
  gtk_widget_class_install_action (widget_class, "page.copy-link", NULL, copy_link_action);
  gtk_widget_class_install_action (widget_class, "page.copy-code", NULL, copy_code_action);
  gtk_widget_class_install_action (widget_class, "page.present", NULL, present_action);
  gtk_widget_class_install_action (widget_class, "page.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "page.confirm", NULL, confirm_action);
  gtk_widget_class_install_action (widget_class, "page.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "page.revoke", NULL, revoke_action);
}

static void
latchkey_share_page_init (LatchkeySharePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->entitlement_switches = g_ptr_array_new ();
  g_signal_connect_object (self->devices_spin, "value-changed", G_CALLBACK (on_devices_changed), self, 0);
  latchkey_page_clock_attach (GTK_WIDGET (self), 30, on_clock);
}

static LatchkeySharePage *
share_page_new (LkTransferEngine    *engine,
                LatchkeyTrackerList *trackers)
{
  LatchkeySharePage *self = g_object_new (LATCHKEY_TYPE_SHARE_PAGE, NULL);

  self->engine = g_object_ref (engine);
  self->trackers = g_object_ref (trackers);
  return self;
}

/**
 * latchkey_share_page_new:
 * @engine: what the share is made with
 * @trackers: where the share, once made, is followed
 * @credential: what is shared
 */
LatchkeySharePage *
latchkey_share_page_new (LkTransferEngine    *engine,
                         LatchkeyTrackerList *trackers,
                         LkCredential        *credential)
{
  LatchkeySharePage *self;

  g_return_val_if_fail (LK_IS_CREDENTIAL (credential), NULL);

  self = share_page_new (engine, trackers);
  self->credential = g_object_ref (credential);
  fill_options (self);
  gtk_stack_set_visible_child_name (self->stack, "options");

  return self;
}

LatchkeySharePage *
latchkey_share_page_new_for_tracker (LkTransferEngine    *engine,
                                     LatchkeyTrackerList *trackers,
                                     LatchkeyTracker     *tracker)
{
  LatchkeySharePage *self;

  g_return_val_if_fail (LATCHKEY_IS_TRACKER (tracker), NULL);

  self = share_page_new (engine, trackers);
  set_tracker (self, tracker);

  return self;
}

/**
 * latchkey_share_page_get_tracker:
 *
 * Returns: (nullable): the share shown, once the invitation exists
 */
LatchkeyTracker *
latchkey_share_page_get_tracker (LatchkeySharePage *self)
{
  g_return_val_if_fail (LATCHKEY_IS_SHARE_PAGE (self), NULL);
  return self->tracker;
}
