/* latchkey-receive-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Link, preview, accept, code, done: the preview reads only what the relay
 * shows anyone with the link, and claims nothing; accepting claims the
 * invitation for this device. Every failure ends on a page that says what
 * happened and offers the next step.
 */

#define G_LOG_DOMAIN "latchkey-receive-page"

#include "config.h"

#include <glib/gi18n.h>

#include "lk-error.h"
#include "lk-crypto.h"
#include "lk-share-link.h"
#include "latchkey-receive-page.h"
#include "latchkey-utils.h"

#define MAX_CODE_LENGTH 32

typedef enum
{
  STEP_PREVIEW,
  STEP_ACCEPT,
  STEP_FOLLOW,
} Step;

struct _LatchkeyReceivePage
{
  AdwBin           parent_instance;

  GtkStack        *stack;
  GtkWidget       *clipboard_button;
  AdwEntryRow     *link_entry;
  GtkLabel        *link_error;
  AdwPasswordEntryRow *secret_entry;
  GtkSpinner      *busy_spinner;
  GtkLabel        *busy_label;
  GtkLabel        *busy_fingerprint;
  GtkWidget       *busy_cancel;
  AdwStatusPage   *preview_page;
  AdwActionRow    *preview_kind_row;
  AdwActionRow    *preview_relay_row;
  AdwActionRow    *preview_expires_row;
  AdwEntryRow     *preview_name_row;
  AdwStatusPage   *code_page;
  AdwEntryRow     *code_entry;
  GtkLabel        *code_error;
  AdwStatusPage   *done_page;
  AdwStatusPage   *error_page;
  GtkWidget       *other_link_button;
  GtkWidget       *retry_button;

  LkTransferEngine *engine;
  LatchkeyTrackerList *trackers;
  LkShareLink     *link;
  LatchkeyTracker *tracker;
  GCancellable    *cancellable;
  Step             step;
  gboolean         code_sent;
  LatchkeyProblem  problem;
};

G_DEFINE_FINAL_TYPE (LatchkeyReceivePage, latchkey_receive_page, ADW_TYPE_BIN)

static void
show (LatchkeyReceivePage *self,
      const char          *view)
{
  gtk_spinner_set_spinning (self->busy_spinner, g_strcmp0 (view, "busy") == 0);
  gtk_stack_set_visible_child_name (self->stack, view);

  if (g_strcmp0 (view, "code") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->code_entry));
  else if (g_strcmp0 (view, "link") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->link_entry));
}

/* What a screen reader says of each step: GTK 4.8 has no announcements
 * (gtk_accessible_announce() is 4.14), so every step sets the page's
 * accessible description, which emits a change event to assistive
 * technologies that have read the page (tests/test-screen-reader.py). */
static void
announce (LatchkeyReceivePage *self,
          const char          *text)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
}

static void
show_busy (LatchkeyReceivePage *self,
           const char          *text,
           gboolean             can_cancel)
{
  gtk_label_set_text (self->busy_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->busy_fingerprint), FALSE);
  gtk_widget_set_visible (self->busy_cancel, can_cancel);
  announce (self, text);
  show (self, "busy");
}

static void
show_problem (LatchkeyReceivePage *self,
              LatchkeyProblem      problem,
              const char          *title,
              const char          *description,
              Step                 step)
{
  g_autofree char *escaped = g_markup_escape_text (description, -1);
  gboolean can_retry = problem == LATCHKEY_PROBLEM_UNREACHABLE || problem == LATCHKEY_PROBLEM_LOCKED ||
                       problem == LATCHKEY_PROBLEM_OTHER;
  const char *icon;

  switch (problem)
    {
    case LATCHKEY_PROBLEM_EXPIRED:
      icon = "alarm-symbolic";
      break;
    case LATCHKEY_PROBLEM_UNREACHABLE:
      icon = "network-offline-symbolic";
      break;
    case LATCHKEY_PROBLEM_LOCKED:
      icon = "system-lock-screen-symbolic";
      break;
    case LATCHKEY_PROBLEM_WRONG_CODE:
      icon = "dialog-password-symbolic";
      break;
    case LATCHKEY_PROBLEM_CLAIMED:
    case LATCHKEY_PROBLEM_BAD_LINK:
    case LATCHKEY_PROBLEM_OTHER:
    default:
      icon = "dialog-warning-symbolic";
      break;
    }

  self->problem = problem;
  self->step = step;
  adw_status_page_set_icon_name (self->error_page, icon);
  adw_status_page_set_title (self->error_page, title ? title : latchkey_problem_title (problem));
  adw_status_page_set_description (self->error_page, escaped);
  gtk_widget_set_visible (self->retry_button, can_retry);
  gtk_widget_set_visible (self->other_link_button, !can_retry || problem == LATCHKEY_PROBLEM_OTHER);
  {
    /* Translators: a problem's title, then what happened */
    g_autofree char *spoken = g_strdup_printf (_("%s: %s"), title ? title : latchkey_problem_title (problem),
                                               description);
    announce (self, spoken);
  }
  show (self, "error");
  gtk_widget_grab_focus (can_retry ? self->retry_button : self->other_link_button);
}

static void
show_error (LatchkeyReceivePage *self,
            const GError        *error,
            Step                 step)
{
  LatchkeyProblem problem = latchkey_classify_error (error);
  g_autofree char *description = latchkey_problem_description (problem, error);

  show_problem (self, problem, NULL, description, step);
}

/* Where the receipt is, the page follows. */
static void
route (LatchkeyReceivePage *self)
{
  LatchkeyTracker *tracker = self->tracker;
  LkTransferState state = latchkey_tracker_get_state (tracker);
  const GError *error = latchkey_tracker_get_error (tracker);
  const char *detail = latchkey_tracker_get_detail (tracker);
  g_autofree char *status = NULL;

  if (latchkey_tracker_get_busy (tracker))
    return;

  if (error != NULL)
    {
      show_error (self, error, STEP_FOLLOW);
      return;
    }

  switch (state)
    {
    case LK_TRANSFER_STATE_AWAITING_CODE:
      if (self->code_sent)
        {
          g_autofree char *text = NULL;
          guint left = latchkey_tracker_get_attempts_left (tracker);

          if (left > 0)
            text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                 "The code is wrong. Check it with the sender: %u attempt left.",
                                                 "The code is wrong. Check it with the sender: %u attempts left.",
                                                 left), left);
          else
            text = g_strdup (_("The code is wrong. Check it with the sender."));
          gtk_label_set_text (self->code_error, text);
          announce (self, text);
          gtk_widget_set_visible (GTK_WIDGET (self->code_error), TRUE);
          gtk_widget_add_css_class (GTK_WIDGET (self->code_entry), "error");
        }
      self->code_sent = FALSE;
      gtk_editable_set_text (GTK_EDITABLE (self->code_entry), "");
      /* A room or door key's code goes to the key's provider, which the
       * sender named: the user sees where before it goes (PROTOCOL.md §7.5). */
      if (latchkey_tracker_get_vertical (tracker) == LK_VERTICAL_HOME &&
          latchkey_tracker_get_provider_host (tracker) != NULL)
        {
          g_autofree char *host = g_markup_escape_text (latchkey_tracker_get_provider_host (tracker), -1);
          /* Translators: %s is a server's host name, such as partner.example */
          g_autofree char *text = g_strdup_printf (_("The sender has a code for this key, which they give you apart "
                                                     "from the link. Ask them for it. The key’s provider, %s, "
                                                     "checks it."), host);

          adw_status_page_set_description (self->code_page, text);
        }
      else
        adw_status_page_set_description (self->code_page, _("The sender has a code for this key, which they give "
                                                            "you apart from the link. Ask them for it."));
      if (!gtk_widget_get_visible (GTK_WIDGET (self->code_error)))
        announce (self, _("Enter the activation code the sender gave you."));
      show (self, "code");
      break;

    case LK_TRANSFER_STATE_DONE:
      {
        /* Translators: %s is the title of the key received */
        g_autofree char *text = g_strdup_printf (_("“%s” is in your wallet."), latchkey_tracker_get_title (tracker));
        g_autofree char *escaped = g_markup_escape_text (text, -1);

        adw_status_page_set_description (self->done_page, escaped);
        announce (self, text);
        show (self, "done");
      }
      break;

    case LK_TRANSFER_STATE_EXPIRED:
      show_problem (self, LATCHKEY_PROBLEM_EXPIRED, NULL,
                    _("The invitation expired before the key arrived. Ask the sender to share it again."),
                    STEP_FOLLOW);
      break;

    case LK_TRANSFER_STATE_CANCELLED:
      show_problem (self, LATCHKEY_PROBLEM_CLAIMED, _("Share Cancelled"),
                    detail ? detail : _("The sender cancelled this share. Ask them to share the key again."),
                    STEP_FOLLOW);
      break;

    case LK_TRANSFER_STATE_DECLINED:
      show_problem (self, LATCHKEY_PROBLEM_CLAIMED, _("Declined"),
                    _("You declined this key. To receive it after all, ask the sender to share it again."),
                    STEP_FOLLOW);
      break;

    case LK_TRANSFER_STATE_FAILED:
      show_problem (self, LATCHKEY_PROBLEM_CLAIMED, _("Receiving Failed"),
                    detail ? detail : _("The exchange broke off. Nothing was stored."), STEP_FOLLOW);
      break;

    case LK_TRANSFER_STATE_WAITING:
    case LK_TRANSFER_STATE_OPENED:
    case LK_TRANSFER_STATE_AWAITING_CONFIRMATION:
    default:
      status = latchkey_tracker_describe_state (tracker);
      show_busy (self, status, TRUE);
      /* A car key: the owner's app shows this with the request, so that
       * the two can compare before the owner signs. */
      if (latchkey_tracker_get_own_fingerprint (tracker) != NULL)
        {
          /* Translators: %s is a short fingerprint such as “eGpk N133 _Du_ HwOS” */
          g_autofree char *text = g_strdup_printf (_("Your new key: %s\nThe owner’s screen shows the same."),
                                                   latchkey_tracker_get_own_fingerprint (tracker));

          gtk_label_set_text (self->busy_fingerprint, text);
          gtk_widget_set_visible (GTK_WIDGET (self->busy_fingerprint), TRUE);
        }
      break;
    }
}

static void
on_tracker_changed (LatchkeyTracker     *tracker,
                    int                  previous,
                    LatchkeyReceivePage *self)
{
  route (self);
}

static void
set_tracker (LatchkeyReceivePage *self,
             LatchkeyTracker     *tracker)
{
  g_set_object (&self->tracker, tracker);
  g_signal_connect_object (tracker, "changed", G_CALLBACK (on_tracker_changed), self, 0);
  route (self);
}

/* Preview */

static void
on_preview (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LatchkeyReceivePage) self = user_data;
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expires = NULL;
  g_autofree char *description = NULL;
  g_autofree char *relay = NULL;
  LkVertical vertical;

  reply = lk_transfer_engine_preview_finish (LK_TRANSFER_ENGINE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (reply == NULL)
    {
      show_error (self, error, STEP_PREVIEW);
      return;
    }

  /* What the relay shows is the sender's to write, and only display text. */
  vertical = lk_share_link_get_vertical (self->link);
  description = g_markup_escape_text (reply->description ? reply->description : "", -1);
  adw_status_page_set_icon_name (self->preview_page, latchkey_vertical_icon_name (vertical));
  adw_status_page_set_title (self->preview_page, reply->title && *reply->title ? reply->title
                                                                               : latchkey_vertical_label (vertical));
  adw_status_page_set_description (self->preview_page, description);
  adw_action_row_set_subtitle (self->preview_kind_row, latchkey_vertical_label (vertical));
  relay = lk_share_link_get_relay_url (self->link);
  adw_action_row_set_subtitle (self->preview_relay_row, lk_share_link_get_host (self->link));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->preview_relay_row), relay);
  gtk_widget_set_visible (GTK_WIDGET (self->preview_expires_row), reply->expiration != NULL);
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

    expires = latchkey_format_expiry (reply->expiration, now);
  }
  adw_action_row_set_subtitle (self->preview_expires_row, expires);
  {
    /* Translators: %s is the title of the key offered */
    g_autofree char *spoken = g_strdup_printf (_("Invitation opened: %s. Nothing is taken until you accept."),
                                               reply->title && *reply->title ? reply->title
                                                                             : latchkey_vertical_label (vertical));
    announce (self, spoken);
  }
  show (self, "preview");
}

static void
preview (LatchkeyReceivePage *self)
{
  if (self->link == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_set_object (&self->cancellable, g_cancellable_new ());
  show_busy (self, _("Looking up the invitation…"), TRUE);
  lk_transfer_engine_preview_async (self->engine, self->link, self->cancellable, on_preview, g_object_ref (self));
}

static gboolean
take_link (LatchkeyReceivePage *self,
           const char          *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(LkSecureString) trimmed = g_strstrip (g_strdup (text ? text : ""));
  const char *secret = gtk_editable_get_text (GTK_EDITABLE (self->secret_entry));

  /* The draft recommends sending the secret apart from the link: a link
   * without one gets a field for it. */
  if (gtk_widget_get_visible (GTK_WIDGET (self->secret_entry)) && *secret != '\0')
    link = lk_share_link_parse_with_secret (trimmed, secret, &error);
  else
    link = lk_share_link_parse (trimmed, &error);
  if (g_error_matches (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_MISSING))
    {
      gtk_widget_set_visible (GTK_WIDGET (self->secret_entry), TRUE);
      gtk_label_set_text (self->link_error, _("This link has no secret. Enter the secret the sender gave you "
                                              "separately."));
      gtk_widget_set_visible (GTK_WIDGET (self->link_error), TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->secret_entry));
      return FALSE;
    }
  if (link == NULL)
    {
      LatchkeyProblem problem = latchkey_classify_error (error);
      g_autofree char *description = latchkey_problem_description (problem, error);

      gtk_label_set_text (self->link_error, *trimmed == '\0' ? _("Paste a link first.") : description);
      gtk_widget_set_visible (GTK_WIDGET (self->link_error), TRUE);
      gtk_widget_add_css_class (GTK_WIDGET (self->link_entry), "error");
      return FALSE;
    }

  /* The link holds the secret now; the field need not. */
  gtk_editable_set_text (GTK_EDITABLE (self->secret_entry), "");
  gtk_widget_set_visible (GTK_WIDGET (self->secret_entry), FALSE);
  g_set_object (&self->link, link);
  return TRUE;
}

static void
look_up_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LatchkeyReceivePage *self = LATCHKEY_RECEIVE_PAGE (widget);

  if (take_link (self, gtk_editable_get_text (GTK_EDITABLE (self->link_entry))))
    preview (self);
}

static void
on_link_activated (LatchkeyReceivePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "page.look-up", NULL);
}

static void
on_link_changed (LatchkeyReceivePage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->link_error), FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->link_entry), "error");
}

/* Clipboard */

/* The clipboard offer: a button when it holds a link. */
static void
on_clipboard_offer (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(LatchkeyReceivePage) self = user_data;
  g_autoptr(LkSecureString) text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);

  gtk_widget_set_visible (self->clipboard_button, text != NULL && lk_share_link_looks_like_link (g_strstrip (text)));
}

static void
on_clipboard_paste (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(LatchkeyReceivePage) self = user_data;
  g_autoptr(LkSecureString) text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);

  if (text == NULL || !lk_share_link_looks_like_link (g_strstrip (text)))
    return;
  gtk_editable_set_text (GTK_EDITABLE (self->link_entry), text);
  gtk_widget_activate_action (GTK_WIDGET (self), "page.look-up", NULL);
}

static void
check_clipboard (LatchkeyReceivePage *self,
                 gboolean             paste)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);

  if (!gdk_content_formats_contain_gtype (formats, G_TYPE_STRING) &&
      !gdk_content_formats_contain_mime_type (formats, "text/plain;charset=utf-8") &&
      !gdk_content_formats_contain_mime_type (formats, "text/plain"))
    {
      gtk_widget_set_visible (self->clipboard_button, FALSE);
      return;
    }

  gdk_clipboard_read_text_async (clipboard, self->cancellable, paste ? on_clipboard_paste : on_clipboard_offer,
                                 g_object_ref (self));
}

static void
paste_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  check_clipboard (LATCHKEY_RECEIVE_PAGE (widget), TRUE);
}

static void
on_clipboard_changed (LatchkeyReceivePage *self)
{
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "link") == 0)
    check_clipboard (self, FALSE);
}

/* Accept and the steps after it */

static void
on_received (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(LatchkeyReceivePage) self = user_data;
  g_autoptr(LkTransfer) transfer = NULL;
  g_autoptr(LatchkeyTracker) tracker = NULL;
  g_autoptr(GError) error = NULL;

  transfer = lk_transfer_engine_transfer_finish (LK_TRANSFER_ENGINE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (transfer == NULL)
    {
      show_error (self, error, STEP_ACCEPT);
      return;
    }

  tracker = latchkey_tracker_new (LK_TRANSFER_ENGINE (source), transfer);
  latchkey_tracker_list_add (self->trackers, tracker);
  set_tracker (self, tracker);
}

static void
accept_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LatchkeyReceivePage *self = LATCHKEY_RECEIVE_PAGE (widget);
  if (self->link == NULL)
    return;

  g_set_object (&self->cancellable, g_cancellable_new ());
  show_busy (self, _("Receiving the key…"), FALSE);
  /* Who is asking, for a car owner to see before signing; may be empty. */
  lk_transfer_engine_set_receiver_name (self->engine, gtk_editable_get_text (GTK_EDITABLE (self->preview_name_row)));
  lk_transfer_engine_receive_async (self->engine, self->link, NULL, self->cancellable, on_received, g_object_ref (self));
}

static void
submit_code_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LatchkeyReceivePage *self = LATCHKEY_RECEIVE_PAGE (widget);
  g_autoptr(LkSecureString) code = NULL;

  if (self->tracker == NULL)
    return;

  /* People type codes the way they were read out: with spaces. */
  code = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->code_entry)));
  g_strdelimit (code, " -", ' ');
  {
    char *out = code;

    for (const char *in = code; *in != '\0'; in++)
      if (*in != ' ')
        *out++ = *in;
    *out = '\0';
  }

  if (*code == '\0' || strlen (code) > MAX_CODE_LENGTH)
    {
      gtk_label_set_text (self->code_error, *code == '\0' ? _("Enter the code the sender gave you.")
                                                          : _("This is longer than any activation code."));
      gtk_widget_set_visible (GTK_WIDGET (self->code_error), TRUE);
      gtk_widget_add_css_class (GTK_WIDGET (self->code_entry), "error");
      return;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->code_error), FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->code_entry), "error");
  self->code_sent = TRUE;
  show_busy (self, _("Checking the code…"), FALSE);
  latchkey_tracker_run (self->tracker, LATCHKEY_TRACKER_CODE, code);
}

static void
on_code_activated (LatchkeyReceivePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "page.submit-code", NULL);
}

static void
decline_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LatchkeyReceivePage *self = LATCHKEY_RECEIVE_PAGE (widget);

  if (self->tracker != NULL && !lk_transfer_state_is_final (latchkey_tracker_get_state (self->tracker)))
    {
      /* Tells the sender, so their share ends too. */
      show_busy (self, _("Declining…"), FALSE);
      latchkey_tracker_run (self->tracker, LATCHKEY_TRACKER_CANCEL, NULL);
      return;
    }

  /* Only a look-up in flight: stop it; nothing was claimed. */
  g_cancellable_cancel (self->cancellable);
  show (self, "link");
}

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  LatchkeyReceivePage *self = LATCHKEY_RECEIVE_PAGE (widget);

  switch (self->step)
    {
    case STEP_PREVIEW:
      preview (self);
      break;
    case STEP_ACCEPT:
      accept_action (widget, NULL, NULL);
      break;
    case STEP_FOLLOW:
    default:
      if (self->tracker == NULL)
        break;
      if (latchkey_tracker_get_state (self->tracker) == LK_TRANSFER_STATE_AWAITING_CODE)
        {
          show (self, "code");
          break;
        }
      show_busy (self, _("Trying again…"), TRUE);
      latchkey_tracker_follow (self->tracker);
      break;
    }
}

static void
other_link_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  LatchkeyReceivePage *self = LATCHKEY_RECEIVE_PAGE (widget);

  g_clear_object (&self->link);
  if (self->tracker != NULL)
    g_signal_handlers_disconnect_by_data (self->tracker, self);
  g_clear_object (&self->tracker);
  self->code_sent = FALSE;
  gtk_editable_set_text (GTK_EDITABLE (self->link_entry), "");
  gtk_widget_set_visible (GTK_WIDGET (self->code_error), FALSE);
  show (self, "link");
  check_clipboard (self, FALSE);
}

static void
show_wallet_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  gtk_widget_activate_action (widget, "win.back", NULL);
}

static void
latchkey_receive_page_map (GtkWidget *widget)
{
  LatchkeyReceivePage *self = LATCHKEY_RECEIVE_PAGE (widget);

  GTK_WIDGET_CLASS (latchkey_receive_page_parent_class)->map (widget);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "link") == 0)
    {
      check_clipboard (self, FALSE);
      gtk_widget_grab_focus (GTK_WIDGET (self->link_entry));
    }
}

static void
latchkey_receive_page_root (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (latchkey_receive_page_parent_class)->root (widget);

  g_signal_connect_object (gtk_widget_get_clipboard (widget), "changed",
                           G_CALLBACK (on_clipboard_changed), widget, G_CONNECT_SWAPPED);
}

static void
latchkey_receive_page_dispose (GObject *object)
{
  LatchkeyReceivePage *self = LATCHKEY_RECEIVE_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->tracker);
  g_clear_object (&self->link);
  g_clear_object (&self->trackers);
  g_clear_object (&self->engine);
  gtk_widget_dispose_template (GTK_WIDGET (self), LATCHKEY_TYPE_RECEIVE_PAGE);

  G_OBJECT_CLASS (latchkey_receive_page_parent_class)->dispose (object);
}

static void
latchkey_receive_page_class_init (LatchkeyReceivePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = latchkey_receive_page_dispose;
  widget_class->map = latchkey_receive_page_map;
  widget_class->root = latchkey_receive_page_root;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/latchkey/Latchkey/latchkey-receive-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, stack);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, clipboard_button);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, link_entry);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, link_error);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, secret_entry);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, busy_label);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, busy_fingerprint);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, busy_cancel);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, preview_page);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, preview_kind_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, preview_relay_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, preview_expires_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, preview_name_row);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, code_page);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, code_entry);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, code_error);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, done_page);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, error_page);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, other_link_button);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyReceivePage, retry_button);
  gtk_widget_class_bind_template_callback (widget_class, on_link_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_link_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_code_activated);

  gtk_widget_class_install_action (widget_class, "page.look-up", NULL, look_up_action);
  gtk_widget_class_install_action (widget_class, "page.paste", NULL, paste_action);
  gtk_widget_class_install_action (widget_class, "page.accept", NULL, accept_action);
  gtk_widget_class_install_action (widget_class, "page.submit-code", NULL, submit_code_action);
  gtk_widget_class_install_action (widget_class, "page.decline", NULL, decline_action);
  gtk_widget_class_install_action (widget_class, "page.retry", NULL, retry_action);
  gtk_widget_class_install_action (widget_class, "page.other-link", NULL, other_link_action);
  gtk_widget_class_install_action (widget_class, "page.show-wallet", NULL, show_wallet_action);
}

/* Made before it is in a window, the page focuses its entry once shown
 * (after the window has placed the focus on it): the receive view is
 * opened by its accelerator to paste into at once. */
static gboolean
focus_entry (gpointer data)
{
  g_autoptr(LatchkeyReceivePage) self = data;
  const char *view = gtk_stack_get_visible_child_name (self->stack);

  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return G_SOURCE_REMOVE;
  if (g_strcmp0 (view, "link") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->link_entry));
  else if (g_strcmp0 (view, "code") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->code_entry));
  return G_SOURCE_REMOVE;
}

static void
on_map (GtkWidget *widget,
        gpointer   user_data)
{
  g_idle_add (focus_entry, g_object_ref (widget));
}

static void
latchkey_receive_page_init (LatchkeyReceivePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  g_signal_connect (self, "map", G_CALLBACK (on_map), NULL);
  /* Suggested, editable, may be left empty. */
  if (g_strcmp0 (g_get_real_name (), "Unknown") != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->preview_name_row), g_get_real_name ());
}

/**
 * latchkey_receive_page_new:
 * @engine: what invitations are looked up and received with
 * @trackers: where a receipt, once started, is followed
 */
LatchkeyReceivePage *
latchkey_receive_page_new (LkTransferEngine    *engine,
                           LatchkeyTrackerList *trackers)
{
  LatchkeyReceivePage *self;

  g_return_val_if_fail (LK_IS_TRANSFER_ENGINE (engine), NULL);
  g_return_val_if_fail (LATCHKEY_IS_TRACKER_LIST (trackers), NULL);

  self = g_object_new (LATCHKEY_TYPE_RECEIVE_PAGE, NULL);
  self->engine = g_object_ref (engine);
  self->trackers = g_object_ref (trackers);
  return self;
}

LatchkeyReceivePage *
latchkey_receive_page_new_for_tracker (LkTransferEngine    *engine,
                                       LatchkeyTrackerList *trackers,
                                       LatchkeyTracker     *tracker)
{
  LatchkeyReceivePage *self = latchkey_receive_page_new (engine, trackers);

  set_tracker (self, tracker);
  return self;
}

/**
 * latchkey_receive_page_open_link:
 * @link: a link as given, from the desktop or standard input
 *
 * Shows @link and looks it up, or says what is wrong with it.
 */
void
latchkey_receive_page_open_link (LatchkeyReceivePage *self,
                                 const char          *link)
{
  g_return_if_fail (LATCHKEY_IS_RECEIVE_PAGE (self));
  g_return_if_fail (link != NULL);

  if (self->tracker != NULL)
    other_link_action (GTK_WIDGET (self), NULL, NULL);

  gtk_editable_set_text (GTK_EDITABLE (self->link_entry), link);
  show (self, "link");
  if (take_link (self, link))
    preview (self);
}

/**
 * latchkey_receive_page_open_share_link:
 * @link: a link another page parsed (a scanned code's)
 *
 * Looks @link up, as it was parsed: its secret is not parsed again.
 */
void
latchkey_receive_page_open_share_link (LatchkeyReceivePage *self,
                                       LkShareLink         *link)
{
  g_autoptr(LkSecureString) text = NULL;

  g_return_if_fail (LATCHKEY_IS_RECEIVE_PAGE (self));
  g_return_if_fail (LK_IS_SHARE_LINK (link));

  if (self->tracker != NULL)
    other_link_action (GTK_WIDGET (self), NULL, NULL);

  /* The form shows it, for "another link" to start from. */
  text = lk_share_link_to_string (link);
  gtk_editable_set_text (GTK_EDITABLE (self->link_entry), text);
  g_set_object (&self->link, link);
  show (self, "link");
  preview (self);
}

/* Showing the link form, a result or an error: nothing to lose by reuse. */
gboolean
latchkey_receive_page_is_idle (LatchkeyReceivePage *self)
{
  const char *view;

  g_return_val_if_fail (LATCHKEY_IS_RECEIVE_PAGE (self), FALSE);

  view = gtk_stack_get_visible_child_name (self->stack);
  return g_strcmp0 (view, "link") == 0 || g_strcmp0 (view, "preview") == 0 ||
         g_strcmp0 (view, "done") == 0 || (g_strcmp0 (view, "error") == 0 && self->tracker == NULL);
}

/**
 * latchkey_receive_page_get_view:
 *
 * Returns: the step shown: "link", "busy", "preview", "code", "done" or "error"
 */
const char *
latchkey_receive_page_get_view (LatchkeyReceivePage *self)
{
  g_return_val_if_fail (LATCHKEY_IS_RECEIVE_PAGE (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

LatchkeyTracker *
latchkey_receive_page_get_tracker (LatchkeyReceivePage *self)
{
  g_return_val_if_fail (LATCHKEY_IS_RECEIVE_PAGE (self), NULL);
  return self->tracker;
}
