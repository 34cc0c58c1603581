/* latchkey-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The application owns the engine and the list of transfers it follows,
 * and gives both to the window it makes, which gives them to its pages:
 * calls go down, from the application to the window to a page, and what a
 * page wants of the window goes up as a signal or a window action.
 */

#define G_LOG_DOMAIN "latchkey-application"

#include "config.h"

#include <string.h>

#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>

#include "lk-crypto.h"
#include "lk-share-link.h"
#include "latchkey-application.h"
#include "latchkey-preferences-window.h"
#include "latchkey-test-hooks.h"
#include "latchkey-utils.h"
#include "latchkey-window.h"

struct _LatchkeyApplication
{
  AdwApplication       parent_instance;

  GSettings           *settings;
  LkTransferEngine    *engine;
  LatchkeyTrackerList *trackers;
  GCancellable        *cancellable;
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

/**
 * latchkey_application_get_window:
 *
 * Returns: (transfer none): the window, made if there is none
 */
LatchkeyWindow *
latchkey_application_get_window (LatchkeyApplication *self)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  for (GList *l = windows; l != NULL; l = l->next)
    if (LATCHKEY_IS_WINDOW (l->data))
      return l->data;

  return latchkey_window_new (GTK_APPLICATION (self), self->engine, self->trackers);
}

LkTransferEngine *
latchkey_application_get_engine (LatchkeyApplication *self)
{
  g_return_val_if_fail (LATCHKEY_IS_APPLICATION (self), NULL);
  return self->engine;
}

LatchkeyTrackerList *
latchkey_application_get_trackers (LatchkeyApplication *self)
{
  g_return_val_if_fail (LATCHKEY_IS_APPLICATION (self), NULL);
  return self->trackers;
}

static gboolean
window_is_seen (LatchkeyApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  return window != NULL && gtk_widget_get_visible (GTK_WIDGET (window)) && gtk_window_is_active (window);
}

/* The other side acted while nobody was looking: say so on the desktop. */
static void
on_tracker_changed (LatchkeyTrackerList *trackers,
                    LatchkeyTracker     *tracker,
                    int                  previous,
                    LatchkeyApplication *self)
{
  LkTransferState state = latchkey_tracker_get_state (tracker);
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *id = NULL;
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;

  if ((int) state == previous || window_is_seen (self))
    return;

  if (latchkey_tracker_get_role (tracker) == LK_ROLE_INITIATOR)
    /* Translators: %s is the title of a shared key, such as “Room 12” */
    title = g_strdup_printf (_("Share of “%s”"), latchkey_tracker_get_title (tracker));
  else
    /* Translators: %s is the title of a key being received */
    title = g_strdup_printf (_("Receiving “%s”"), latchkey_tracker_get_title (tracker));
  if (state == LK_TRANSFER_STATE_AWAITING_CONFIRMATION && latchkey_tracker_get_receiver_name (tracker) != NULL)
    /* Translators: %s is the name of the person asking for the key */
    body = g_strdup_printf (_("%s asks for the key: waiting for your confirmation"),
                            latchkey_tracker_get_receiver_name (tracker));
  else
    body = latchkey_tracker_describe_state (tracker);

  notification = g_notification_new (title);
  g_notification_set_body (notification, body);
  g_notification_set_default_action_and_target (notification, "app.show-transfer", "s",
                                                latchkey_tracker_get_id (tracker));
  if (state == LK_TRANSFER_STATE_AWAITING_CONFIRMATION)
    g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);

  id = g_strconcat ("transfer-", latchkey_tracker_get_id (tracker), NULL);
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

static int
compare_created (gconstpointer a,
                 gconstpointer b)
{
  LkTransfer *ta = *(LkTransfer **) a, *tb = *(LkTransfer **) b;
  GDateTime *ca = lk_transfer_get_created (ta), *cb = lk_transfer_get_created (tb);

  if (ca == NULL || cb == NULL)
    return (ca == NULL) - (cb == NULL);
  return g_date_time_compare (ca, cb);
}

/* Pending shares and receipts go on where they were when we last quit. */
static void
on_transfers_listed (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  LatchkeyApplication *self = user_data;
  g_autoptr(GPtrArray) transfers = NULL;
  g_autoptr(GError) error = NULL;

  transfers = lk_transfer_engine_list_finish (LK_TRANSFER_ENGINE (source), result, &error);
  if (transfers == NULL)
    {
      /* The wallet view shows keyring trouble; here it only means nothing resumes. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Not resuming transfers: %s", error->message);
      return;
    }

  g_ptr_array_sort (transfers, compare_created);
  for (guint i = 0; i < transfers->len; i++)
    {
      g_autoptr(LatchkeyTracker) tracker = latchkey_tracker_new (LK_TRANSFER_ENGINE (source),
                                                                 g_ptr_array_index (transfers, i));

      latchkey_tracker_list_add (self->trackers, tracker);
    }
}

/**
 * latchkey_application_resume:
 *
 * Follows again the transfers the keyring holds that this instance does
 * not follow yet: at start-up, and whenever the keyring may have changed
 * behind our back.
 */
void
latchkey_application_resume (LatchkeyApplication *self)
{
  g_return_if_fail (LATCHKEY_IS_APPLICATION (self));

  lk_transfer_engine_list_async (self->engine, LK_STORE_KIND_TRANSFER, self->cancellable, on_transfers_listed, self);
}

static void
latchkey_application_startup (GApplication *app)
{
  LatchkeyApplication *self = LATCHKEY_APPLICATION (app);

  G_APPLICATION_CLASS (latchkey_application_parent_class)->startup (app);

  latchkey_application_resume (self);
}

static void
latchkey_application_shutdown (GApplication *app)
{
  LatchkeyApplication *self = LATCHKEY_APPLICATION (app);

  g_cancellable_cancel (self->cancellable);
  latchkey_tracker_list_stop_all (self->trackers);

  G_APPLICATION_CLASS (latchkey_application_parent_class)->shutdown (app);
}

static void
latchkey_application_activate (GApplication *app)
{
  gtk_window_present (GTK_WINDOW (latchkey_application_get_window (LATCHKEY_APPLICATION (app))));
}

/* Links arrive from the latchkey: scheme handler (over D-Bus, the desktop
 * file being DBusActivatable), from `latchkey -` (standard input), or as
 * links on the command line; each opens the receive view, which claims
 * nothing until the user accepts. */
static void
latchkey_application_open (GApplication  *app,
                           GFile        **files,
                           int            n_files,
                           const char    *hint)
{
  LatchkeyWindow *window = latchkey_application_get_window (LATCHKEY_APPLICATION (app));

  for (int i = 0; i < n_files; i++)
    {
      g_autoptr(LkSecureString) uri = g_file_get_uri (files[i]);

      latchkey_window_receive (window, uri);
    }

  gtk_window_present (GTK_WINDOW (window));
}

/* `latchkey -` reads one link from standard input, so that its secret is
 * not in the command line, which other users can read in /proc. It goes to
 * the running instance (or to this one) as a desktop's latchkey: link does:
 * through GApplication's Open, on the session bus. */
static char *
read_link_from_stdin (GError **error)
{
  g_autoptr(GInputStream) input = g_unix_input_stream_new (0, FALSE);
  g_autoptr(GDataInputStream) lines = g_data_input_stream_new (input);
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;
  char *line;

  line = g_data_input_stream_read_line_utf8 (lines, &len, NULL, &local_error);
  if (line == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("Nothing was given on standard input"));
      return NULL;
    }
  if (len > LK_SHARE_LINK_MAX_LENGTH)
    {
      lk_secure_str_free (line);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The link is longer than %u characters"),
                   LK_SHARE_LINK_MAX_LENGTH);
      return NULL;
    }
  return g_strstrip (line);
}

static gboolean
latchkey_application_local_command_line (GApplication   *app,
                                         char         ***arguments,
                                         int            *exit_status)
{
  char **argv = *arguments;
  g_autoptr(LkSecureString) link = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;

  if (argv[0] == NULL || argv[1] == NULL || strcmp (argv[1], "-") != 0 || argv[2] != NULL)
    return G_APPLICATION_CLASS (latchkey_application_parent_class)->local_command_line (app, arguments,
                                                                                        exit_status);

  link = read_link_from_stdin (&error);
  if (link == NULL || !g_application_register (app, NULL, &error))
    {
      g_printerr ("latchkey: %s\n", error->message);
      *exit_status = 2;
      return TRUE;
    }

  file = g_file_new_for_uri (link);
  g_application_open (app, &file, 1, "");

  /* Another instance has it now; or this one runs, with the link open. */
  if (g_application_get_is_remote (app))
    {
      *exit_status = 0;
      return TRUE;
    }
  g_free (argv[1]);
  argv[1] = NULL;
  return G_APPLICATION_CLASS (latchkey_application_parent_class)->local_command_line (app, arguments, exit_status);
}

static void
latchkey_application_dispose (GObject *object)
{
  LatchkeyApplication *self = LATCHKEY_APPLICATION (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->trackers);
  g_clear_object (&self->engine);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (latchkey_application_parent_class)->dispose (object);
}

static void
latchkey_application_class_init (LatchkeyApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = latchkey_application_dispose;

  app_class->startup = latchkey_application_startup;
  app_class->shutdown = latchkey_application_shutdown;
  app_class->activate = latchkey_application_activate;
  app_class->open = latchkey_application_open;
  app_class->local_command_line = latchkey_application_local_command_line;
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
                         /* Translators: your names, one per line, shown in About */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  LatchkeyApplication *self = user_data;
  const char *relay = g_getenv ("LATCHKEY_RELAY_URL");
  const char *partner = g_getenv ("LATCHKEY_PARTNER_URL");
  LatchkeyPreferencesWindow *preferences;

  preferences = latchkey_preferences_window_new (self->settings,
                                                 relay && *relay ? relay : DEFAULT_RELAY_URL,
                                                 partner && *partner ? partner : DEFAULT_PARTNER_URL);

  gtk_window_set_transient_for (GTK_WINDOW (preferences),
                                gtk_application_get_active_window (GTK_APPLICATION (self)));
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
show_transfer_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  LatchkeyApplication *self = user_data;
  LatchkeyWindow *window = latchkey_application_get_window (self);
  LatchkeyTracker *tracker = latchkey_tracker_list_find (self->trackers, g_variant_get_string (parameter, NULL));

  if (tracker != NULL)
    latchkey_window_show_tracker (window, tracker);
  gtk_window_present (GTK_WINDOW (window));
}

/* Exported on the session bus with the other app actions, so scripts can
 * drive the app: gapplication action io.github.latchkey.Latchkey scan */
static void
window_action (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  LatchkeyWindow *window = latchkey_application_get_window (user_data);

  if (g_strcmp0 (g_action_get_name (G_ACTION (action)), "scan") == 0)
    latchkey_window_scan (window);
  else
    latchkey_window_receive (window, NULL);
  gtk_window_present (GTK_WINDOW (window));
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
  { "preferences", preferences_action },
  { "show-transfer", show_transfer_action, "s" },
  { "scan", window_action },
  { "receive", window_action },
  { "quit", quit_action },
};

/* A new relay applies to new shares; the ones under way keep their own. */
static void
on_relay_changed (GSettings           *settings,
                  const char          *key,
                  LatchkeyApplication *self)
{
  g_autofree char *relay_url = latchkey_dup_relay_url (self->settings);

  lk_transfer_engine_set_relay_url (self->engine, *relay_url != '\0' ? relay_url : NULL);
}

static void
latchkey_application_init (LatchkeyApplication *self)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  const char *ca_file = g_getenv ("LATCHKEY_CA_FILE");
  static const char *preferences_accels[] = { "<Control>comma", NULL };

  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[LINK…|-]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Opens share links in the receive view; nothing is claimed until you "
                                              "accept. “-” reads one link from standard input, which keeps its secret "
                                              "out of the command line."));
  self->settings = g_settings_new (APP_ID);
  self->engine = lk_transfer_engine_new (NULL);
  on_relay_changed (self->settings, "relay-url", self);
  if (ca_file != NULL && *ca_file != '\0')
    {
      g_autoptr(GError) error = NULL;

      if (!lk_transfer_engine_set_ca_file (self->engine, ca_file, &error))
        g_warning ("Ignoring LATCHKEY_CA_FILE: %s", error->message);
    }
  self->trackers = latchkey_tracker_list_new ();
  self->cancellable = g_cancellable_new ();
  g_signal_connect (self->settings, "changed::relay-url", G_CALLBACK (on_relay_changed), self);
  g_signal_connect_object (self->trackers, "tracker-changed", G_CALLBACK (on_tracker_changed), self, 0);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", preferences_accels);
  latchkey_test_hooks_install (GTK_APPLICATION (self));
}
