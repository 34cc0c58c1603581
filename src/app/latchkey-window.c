/* latchkey-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One window, navigated like a phone app: the wallet and the shares side by
 * side in a view stack, and the details, share and receive views pushed on
 * a leaflet that never unfolds, so it fits 360 px as well as a desktop.
 *
 * A host may hold a thousand keys and shares: both lists show a page of
 * rows (a slice of a filtered, sorted model) and grow a page at a time as
 * they are scrolled to the end, so no row is built before it can be seen;
 * the wallet is read off the main loop (LkTransferEngine's thread), so the
 * first frame never waits for it. Both can be searched; the shares can be
 * filtered by state and are grouped by key.
 *
 * The window makes its pages and gives them the engine and the tracker list
 * it was given. A page asks for what it cannot do itself through the
 * window's actions (win.back, win.reload, win.toast) or a signal of its
 * own that the window connects to (a credential page's "share", a scan
 * page's "link-found" and "secretless-link-found"); no page knows the
 * window.
 */

#define G_LOG_DOMAIN "latchkey-window"

#include "config.h"

#include <stdio.h>

#include <glib/gi18n.h>

#include "latchkey-credential-page.h"
#include "latchkey-receive-page.h"
#include "latchkey-scan-page.h"
#include "latchkey-share-page.h"
#include "latchkey-toaster.h"
#include "latchkey-utils.h"
#include "latchkey-window.h"

struct _LatchkeyWindow
{
  AdwApplicationWindow  parent_instance;

  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkWidget            *main_page;
  AdwViewStack         *view_stack;
  GtkStack             *keys_stack;
  GtkScrolledWindow    *keys_scroller;
  GtkSearchEntry       *keys_search;
  GtkListBox           *keys_list;
  char                 *focus_key;     /* the key to focus once listed (just enrolled) */
  AdwStatusPage        *keys_error_page;
  GtkStack             *shares_stack;
  GtkScrolledWindow    *shares_scroller;
  GtkSearchEntry       *shares_search;
  GtkMenuButton        *shares_state;
  GtkListBox           *shares_list;
  AdwStatusPage        *empty_page;

  LkTransferEngine     *engine;
  LatchkeyTrackerList  *trackers;
  GSettings            *settings;
  GListStore           *credentials;
  GtkCustomFilter      *keys_filter;
  GtkSliceListModel    *keys_page;
  GtkFilterListModel   *shares;         /* the outgoing ones */
  GtkCustomFilter      *shares_filter;  /* search and state */
  GtkSliceListModel    *shares_page;
  int                   shares_shown;   /* SHOW_* */
  GCancellable         *cancellable;
  LatchkeyToaster      *toaster;
  GPtrArray            *replaced;       /* pages to remove once out of sight */
  guint                 prune_source;
  gboolean              loading;
  gboolean              reload_again;
};

G_DEFINE_FINAL_TYPE (LatchkeyWindow, latchkey_window, ADW_TYPE_APPLICATION_WINDOW)

static void show_credential (LatchkeyWindow *self,
                             LkCredential   *credential);
static void reload          (LatchkeyWindow *self);

static void
show_toast (LatchkeyWindow *self,
            const char     *text)
{
  /* Nothing to show once the window is being destroyed. */
  if (self->toaster != NULL)
    latchkey_toaster_show (self->toaster, text);
}

/**
 * latchkey_window_dismiss_toasts:
 *
 * Dismisses the toasts shown and queued, as for a clean screenshot.
 */
void
latchkey_window_dismiss_toasts (LatchkeyWindow *self)
{
  g_return_if_fail (LATCHKEY_IS_WINDOW (self));

  if (self->toaster != NULL)
    latchkey_toaster_dismiss_all (self->toaster);
}

/* Wallet */

static GtkWidget *
create_key_row (gpointer item,
                gpointer user_data)
{
  LkCredential *credential = item;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name (latchkey_vertical_icon_name (lk_credential_get_vertical (credential)));
  g_autofree char *validity = latchkey_format_validity (lk_credential_get_valid_from (credential),
                                                        lk_credential_get_valid_until (credential));
  g_autoptr(GString) subtitle = g_string_new (NULL);
  const char *issuer = lk_credential_get_issuer (credential);
  const char *shared_by = lk_credential_get_shared_by (credential);

  if (issuer != NULL && *issuer != '\0')
    g_string_append (subtitle, issuer);
  else
    g_string_append (subtitle, latchkey_vertical_label (lk_credential_get_vertical (credential)));
  g_string_append_printf (subtitle, "\n%s", validity);
  if (lk_credential_get_role (credential) == LK_CREDENTIAL_ROLE_SHARED)
    {
      g_string_append_c (subtitle, '\n');
      if (shared_by != NULL && *shared_by != '\0')
        /* Translators: %s is the name of the person who shared the key */
        g_string_append_printf (subtitle, _("Shared by %s"), shared_by);
      else
        g_string_append (subtitle, _("Shared with you"));
    }

  gtk_image_set_pixel_size (GTK_IMAGE (icon), 32);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  latchkey_vertical_label (lk_credential_get_vertical (credential)), -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), lk_credential_get_title (credential));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "credential", g_object_ref (credential), g_object_unref);

  return row;
}

/* Rows are built a page at a time, as the list is scrolled to its end: a
 * page fills a phone or a 640 px window (a taller window gets more at once,
 * see on_scroll_range_changed()). */
#define PAGE_ROWS 12

static void
grow_page (GtkSliceListModel *page)
{
  gtk_slice_list_model_set_size (page, gtk_slice_list_model_get_size (page) + PAGE_ROWS);
}

/* A window tall enough to show a whole page cannot be scrolled to its end:
 * then the next page comes at once. */
static void
on_scroll_range_changed (GtkAdjustment     *adjustment,
                         GtkSliceListModel *page)
{
  GListModel *all = gtk_slice_list_model_get_model (page);

  if (gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment) < 1 &&
      gtk_slice_list_model_get_size (page) < g_list_model_get_n_items (all))
    grow_page (page);
}

static void
on_keys_edge_reached (LatchkeyWindow  *self,
                      GtkPositionType  position)
{
  if (position == GTK_POS_BOTTOM)
    grow_page (self->keys_page);
}

/* Case- and accent-insensitive enough for names: casefolded substrings. */
static gboolean
text_matches (const char *haystack,
              const char *folded_needle)
{
  g_autofree char *folded = NULL;

  if (haystack == NULL)
    return FALSE;
  folded = g_utf8_casefold (haystack, -1);
  return strstr (folded, folded_needle) != NULL;
}

static gboolean
key_matches (gpointer item,
             gpointer user_data)
{
  LatchkeyWindow *self = user_data;
  LkCredential *credential = item;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->keys_search));
  g_autofree char *needle = NULL;

  if (text == NULL || *text == '\0')
    return TRUE;
  needle = g_utf8_casefold (text, -1);
  return text_matches (lk_credential_get_title (credential), needle) ||
         text_matches (lk_credential_get_issuer (credential), needle) ||
         text_matches (lk_credential_get_shared_by (credential), needle);
}

static void
on_keys_search_changed (LatchkeyWindow *self)
{
  gtk_slice_list_model_set_size (self->keys_page, PAGE_ROWS);
  gtk_filter_changed (GTK_FILTER (self->keys_filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
on_key_activated (LatchkeyWindow *self,
                  GtkListBoxRow  *row)
{
  LkCredential *credential = g_object_get_data (G_OBJECT (row), "credential");

  if (credential != NULL)
    show_credential (self, credential);
}

static int
compare_titles (gconstpointer a,
                gconstpointer b)
{
  LkCredential *ca = *(LkCredential **) a, *cb = *(LkCredential **) b;
  g_autofree char *ka = g_utf8_collate_key (lk_credential_get_title (ca), -1);
  g_autofree char *kb = g_utf8_collate_key (lk_credential_get_title (cb), -1);

  return strcmp (ka, kb);
}

/* For build-aux/bench-wallet.sh: when the wallet's first frame with its
 * keys has been painted, on CLOCK_MONOTONIC like the benchmark's launch. */
static void
on_painted_populated (GdkFrameClock  *clock,
                      LatchkeyWindow *self)
{
  g_signal_handlers_disconnect_by_func (clock, on_painted_populated, self);
  g_print ("latchkey-bench: wallet shown keys=%u at_ms=%.3f\n",
           g_list_model_get_n_items (G_LIST_MODEL (self->credentials)), g_get_monotonic_time () / 1000.0);
  fflush (stdout);
}

static void
report_populated (LatchkeyWindow *self)
{
  static gboolean reported;
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  if (reported || clock == NULL || g_getenv ("LATCHKEY_BENCH_WALLET") == NULL)
    return;
  reported = TRUE;
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_painted_populated), self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_credentials_listed (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(LatchkeyWindow) self = user_data;
  g_autoptr(GPtrArray) credentials = NULL;
  g_autoptr(GError) error = NULL;

  credentials = lk_transfer_engine_list_finish (LK_TRANSFER_ENGINE (source), result, &error);
  self->loading = FALSE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (self->reload_again)
    {
      self->reload_again = FALSE;
      reload (self);
      return;
    }

  if (credentials == NULL)
    {
      LatchkeyProblem problem = latchkey_classify_error (error);
      g_autofree char *description = latchkey_problem_description (problem, error);

      adw_status_page_set_title (self->keys_error_page, latchkey_problem_title (problem));
      adw_status_page_set_description (self->keys_error_page, description);
      adw_status_page_set_icon_name (self->keys_error_page, problem == LATCHKEY_PROBLEM_LOCKED
                                                              ? "system-lock-screen-symbolic"
                                                              : "dialog-warning-symbolic");
      gtk_stack_set_visible_child_name (self->keys_stack, "error");
      return;
    }

  g_ptr_array_sort (credentials, compare_titles);
  g_list_store_splice (self->credentials, 0, g_list_model_get_n_items (G_LIST_MODEL (self->credentials)),
                       credentials->pdata, credentials->len);
  gtk_stack_set_visible_child_name (self->keys_stack, credentials->len > 0 ? "list" : "empty");

  /* A key just enrolled gets the focus: the menu that enrolled it is
   * gone, and the rows were made anew, so the keyboard would otherwise be
   * left nowhere. */
  for (guint i = 0; self->focus_key != NULL && i < credentials->len; i++)
    if (g_strcmp0 (lk_credential_get_id (g_ptr_array_index (credentials, i)), self->focus_key) == 0)
      {
        GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->keys_list, (int) i);

        if (row != NULL && adw_leaflet_get_visible_child (self->leaflet) == self->main_page)
          gtk_widget_grab_focus (GTK_WIDGET (row));
        break;
      }
  g_clear_pointer (&self->focus_key, g_free);
  report_populated (self);
}

/* Lists the keyring's credentials again. */
static void
reload (LatchkeyWindow *self)
{
  if (self->loading)
    {
      /* The answer in flight may predate the change that asked for this. */
      self->reload_again = TRUE;
      return;
    }

  self->loading = TRUE;
  if (g_list_model_get_n_items (G_LIST_MODEL (self->credentials)) == 0)
    gtk_stack_set_visible_child_name (self->keys_stack, "loading");
  lk_transfer_engine_list_async (self->engine, LK_STORE_KIND_CREDENTIAL,
                                 self->cancellable, on_credentials_listed, g_object_ref (self));
}

/* Shares */

static void
update_share_row (LatchkeyTracker *tracker,
                  int              previous,
                  AdwActionRow    *row)
{
  g_autofree char *state = latchkey_tracker_describe_state (tracker);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *expires = latchkey_format_expiry (latchkey_tracker_get_expires (tracker), now);
  g_autofree char *subtitle = NULL;

  if (lk_transfer_state_is_final (latchkey_tracker_get_state (tracker)) || latchkey_tracker_get_expires (tracker) == NULL)
    subtitle = g_strdup (state);
  else
    /* Translators: a share's state, then when its invitation expires: “expires in 2 days, Friday 18:00” */
    subtitle = g_strdup_printf (_("%s\nInvitation %s"), state, expires);
  adw_action_row_set_subtitle (row, subtitle);
}

static GtkWidget *
create_share_row (gpointer item,
                  gpointer user_data)
{
  LatchkeyTracker *tracker = item;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name (latchkey_vertical_icon_name (latchkey_tracker_get_vertical (tracker)));

  gtk_image_set_pixel_size (GTK_IMAGE (icon), 32);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  latchkey_vertical_label (latchkey_tracker_get_vertical (tracker)), -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), latchkey_tracker_get_title (tracker));
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "tracker", g_object_ref (tracker), g_object_unref);
  update_share_row (tracker, 0, ADW_ACTION_ROW (row));
  g_signal_connect_object (tracker, "changed", G_CALLBACK (update_share_row), row, 0);

  return row;
}

static void
on_share_activated (LatchkeyWindow *self,
                    GtkListBoxRow  *row)
{
  LatchkeyTracker *tracker = g_object_get_data (G_OBJECT (row), "tracker");

  if (tracker != NULL)
    latchkey_window_show_tracker (self, tracker);
}

static gboolean
is_outgoing (gpointer item,
             gpointer user_data)
{
  return latchkey_tracker_get_role (item) == LK_ROLE_INITIATOR;
}

/* The state filter's choices: the shares.state action's targets. */
enum
{
  SHOW_ALL,
  SHOW_IN_PROGRESS,
  SHOW_DONE,
  SHOW_ENDED,
};

static const char * const show_targets[] = { "all", "in-progress", "done", "ended" };

static gboolean
share_matches (gpointer item,
               gpointer user_data)
{
  LatchkeyWindow *self = user_data;
  LatchkeyTracker *tracker = item;
  LkTransferState state = latchkey_tracker_get_state (tracker);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->shares_search));
  g_autofree char *needle = NULL;
  g_autofree char *described = NULL;

  switch (self->shares_shown)
    {
    case SHOW_IN_PROGRESS:
      if (lk_transfer_state_is_final (state))
        return FALSE;
      break;
    case SHOW_DONE:
      if (state != LK_TRANSFER_STATE_DONE)
        return FALSE;
      break;
    case SHOW_ENDED:
      if (!lk_transfer_state_is_final (state) || state == LK_TRANSFER_STATE_DONE)
        return FALSE;
      break;
    case SHOW_ALL:
    default:
      break;
    }

  if (text == NULL || *text == '\0')
    return TRUE;
  needle = g_utf8_casefold (text, -1);
  described = latchkey_tracker_describe_state (tracker);
  return text_matches (latchkey_tracker_get_title (tracker), needle) ||
         text_matches (latchkey_tracker_get_detail (tracker), needle) ||
         text_matches (described, needle) ||
         text_matches (lk_transfer_state_to_string (state), needle);
}

static void
on_shares_search_changed (LatchkeyWindow *self)
{
  gtk_slice_list_model_set_size (self->shares_page, PAGE_ROWS);
  gtk_filter_changed (GTK_FILTER (self->shares_filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
on_shares_state (GSimpleAction *action,
                 GVariant      *state,
                 gpointer       user_data)
{
  LatchkeyWindow *self = user_data;
  const char *target = g_variant_get_string (state, NULL);
  const char * const labels[] = { N_("All"), N_("In Progress"), N_("Done"), N_("Ended") };

  for (guint i = 0; i < G_N_ELEMENTS (show_targets); i++)
    if (g_str_equal (target, show_targets[i]))
      {
        self->shares_shown = i;
        g_simple_action_set_state (action, state);
        gtk_menu_button_set_label (self->shares_state, _(labels[i]));
        on_shares_search_changed (self);
        return;
      }
}

static void
on_shares_edge_reached (LatchkeyWindow  *self,
                        GtkPositionType  position)
{
  if (position == GTK_POS_BOTTOM)
    grow_page (self->shares_page);
}

/* Grouped by key: by the key's title, then its id; newest share first. */
static int
compare_shares (gconstpointer a,
                gconstpointer b,
                gpointer      user_data)
{
  LatchkeyTracker *ta = (LatchkeyTracker *) a, *tb = (LatchkeyTracker *) b;
  g_autofree char *ka = g_utf8_collate_key (latchkey_tracker_get_title (ta) ? latchkey_tracker_get_title (ta) : "", -1);
  g_autofree char *kb = g_utf8_collate_key (latchkey_tracker_get_title (tb) ? latchkey_tracker_get_title (tb) : "", -1);
  GDateTime *ca = latchkey_tracker_get_created (ta), *cb = latchkey_tracker_get_created (tb);
  int order = strcmp (ka, kb);

  if (order == 0)
    order = g_strcmp0 (latchkey_tracker_get_credential_id (ta), latchkey_tracker_get_credential_id (tb));
  if (order == 0 && ca != NULL && cb != NULL)
    order = -g_date_time_compare (ca, cb);
  return order;
}

static void
update_share_header (GtkListBoxRow *row,
                     GtkListBoxRow *before,
                     gpointer       user_data)
{
  LatchkeyTracker *tracker = g_object_get_data (G_OBJECT (row), "tracker");
  LatchkeyTracker *previous = before ? g_object_get_data (G_OBJECT (before), "tracker") : NULL;
  GtkWidget *header;

  if (tracker == NULL ||
      (previous != NULL &&
       g_strcmp0 (latchkey_tracker_get_credential_id (previous), latchkey_tracker_get_credential_id (tracker)) == 0))
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }

  header = gtk_label_new (latchkey_tracker_get_title (tracker));
  gtk_label_set_xalign (GTK_LABEL (header), 0);
  gtk_label_set_ellipsize (GTK_LABEL (header), PANGO_ELLIPSIZE_END);
  gtk_widget_set_margin_top (header, 12);
  gtk_widget_set_margin_bottom (header, 6);
  gtk_widget_set_margin_start (header, 12);
  gtk_widget_add_css_class (header, "heading");
  gtk_list_box_row_set_header (row, header);
}

static void
update_shares_stack (LatchkeyWindow *self)
{
  gboolean any = g_list_model_get_n_items (G_LIST_MODEL (self->shares)) > 0;

  gtk_stack_set_visible_child_name (self->shares_stack, any ? "list" : "empty");
}

/* A key received in the background lands in the wallet; a share whose
 * state changed may enter or leave what the shares list shows. */
static void
on_tracker_changed (LatchkeyTrackerList *trackers,
                    LatchkeyTracker     *tracker,
                    int                  previous,
                    LatchkeyWindow      *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->shares_search));

  if (previous != (int) latchkey_tracker_get_state (tracker) &&
      (self->shares_shown != SHOW_ALL || (text != NULL && *text != '\0')))
    gtk_filter_changed (GTK_FILTER (self->shares_filter), GTK_FILTER_CHANGE_DIFFERENT);

  if (latchkey_tracker_get_state (tracker) == LK_TRANSFER_STATE_DONE &&
      previous != LK_TRANSFER_STATE_DONE &&
      latchkey_tracker_get_role (tracker) == LK_ROLE_RECIPIENT)
    reload (self);
}

/* Navigation */

static void prune (LatchkeyWindow *self);

/* Whether @focus is a control the user can see on @page: a closed
 * popover's items are @page's descendants too, but not mapped. */
static gboolean
focus_within (GtkWidget *focus,
              GtkWidget *page)
{
  return focus != NULL && gtk_widget_is_ancestor (focus, page) && gtk_widget_get_mapped (focus);
}

static void
push (LatchkeyWindow *self,
      GtkWidget      *page)
{
  GtkWidget *focus;

  prune (self);
  adw_leaflet_append (self->leaflet, page);
  adw_leaflet_set_visible_child (self->leaflet, page);

  /* The keyboard goes with the eyes: focus left on the page underneath
   * would be invisible, and Tab would start from there. A page that
   * focused a control of its own keeps it. */
  focus = gtk_root_get_focus (GTK_ROOT (self));
  if (!focus_within (focus, page))
    gtk_widget_child_focus (page, GTK_DIR_TAB_FORWARD);
}


GtkWidget *
latchkey_window_get_page (LatchkeyWindow *self)
{
  g_return_val_if_fail (LATCHKEY_IS_WINDOW (self), NULL);
  return adw_leaflet_get_visible_child (self->leaflet);
}

/* Pages after @keep (by position) leave the leaflet. */
static void
remove_pages_after (LatchkeyWindow *self,
                    GtkWidget      *keep)
{
  g_autoptr(GtkSelectionModel) pages = adw_leaflet_get_pages (self->leaflet);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (pages));

  for (guint i = n; i > 0; i--)
    {
      g_autoptr(AdwLeafletPage) leaflet_page = g_list_model_get_item (G_LIST_MODEL (pages), i - 1);
      GtkWidget *child = adw_leaflet_page_get_child (leaflet_page);

      if (child == keep)
        break;
      adw_leaflet_remove (self->leaflet, child);
    }
}

/* Pages another one replaced leave once no transition shows them. */
static void
remove_replaced (LatchkeyWindow *self)
{
  GtkWidget *visible = adw_leaflet_get_visible_child (self->leaflet);

  if (adw_leaflet_get_child_transition_running (self->leaflet))
    return;

  for (guint i = self->replaced->len; i > 0; i--)
    {
      GtkWidget *page = g_ptr_array_index (self->replaced, i - 1);

      if (page == visible)
        continue;
      if (gtk_widget_get_parent (page) != NULL)
        adw_leaflet_remove (self->leaflet, page);
      g_ptr_array_remove_index (self->replaced, i - 1);
    }
}

/* The keyboard goes with the eyes here too, when the user went back: the
 * focus may be on the page left behind, or (GTK 4.8, once that page is
 * hidden) back on the item of the closed menu that opened it, where Tab
 * moves nothing at all (seen after the scan page's Back). */
static void
focus_visible_page (LatchkeyWindow *self)
{
  GtkWidget *visible = adw_leaflet_get_visible_child (self->leaflet);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  if (visible != NULL && !focus_within (focus, visible))
    gtk_widget_child_focus (visible, GTK_DIR_TAB_FORWARD);
}

static gboolean
prune_idle (gpointer user_data)
{
  LatchkeyWindow *self = user_data;

  self->prune_source = 0;
  focus_visible_page (self);
  prune (self);
  remove_replaced (self);
  return G_SOURCE_REMOVE;
}

/* Pages ahead of the visible one are gone once the user went back. Not
 * from this notification itself: the leaflet still uses the page it
 * leaves after notifying (libadwaita 1.2). */
static void
on_transition_running (LatchkeyWindow *self)
{
  if (!adw_leaflet_get_child_transition_running (self->leaflet) && self->prune_source == 0)
    self->prune_source = g_idle_add (prune_idle, self);
}

/* Before a page is opened from elsewhere (a row, a notification, a link
 * from the desktop): it goes on top of what is shown, and what was ahead
 * of that goes. Mid-transition, the transition's end does the pruning. */
static void
prune (LatchkeyWindow *self)
{
  if (!adw_leaflet_get_child_transition_running (self->leaflet))
    remove_pages_after (self, adw_leaflet_get_visible_child (self->leaflet));
}

static void
on_share_requested (LatchkeyCredentialPage *page,
                    LatchkeyWindow         *self)
{
  push (self, GTK_WIDGET (latchkey_share_page_new (self->engine, self->trackers,
                                                   latchkey_credential_page_get_credential (page))));
}

static void
show_credential (LatchkeyWindow *self,
                 LkCredential   *credential)
{
  LatchkeyCredentialPage *page = latchkey_credential_page_new (self->engine, self->trackers, credential);

  g_signal_connect_object (page, "share", G_CALLBACK (on_share_requested), self, 0);
  push (self, GTK_WIDGET (page));
}

void
latchkey_window_show_tracker (LatchkeyWindow  *self,
                              LatchkeyTracker *tracker)
{
  g_return_if_fail (LATCHKEY_IS_WINDOW (self));

  if (latchkey_tracker_get_role (tracker) == LK_ROLE_INITIATOR)
    push (self, GTK_WIDGET (latchkey_share_page_new_for_tracker (self->engine, self->trackers, tracker)));
  else
    push (self, GTK_WIDGET (latchkey_receive_page_new_for_tracker (self->engine, self->trackers, tracker)));
}

/* A scanned code held a link: its preview takes the scan page's place, so
 * that going back does not return to a camera that already did its job. */
static void
on_link_found (LatchkeyScanPage *scan,
               LkShareLink      *link,
               LatchkeyWindow   *self)
{
  LatchkeyReceivePage *page;

  /* Out of the back-navigation at once; out of the leaflet once unseen. */
  adw_leaflet_page_set_navigatable (adw_leaflet_get_page (self->leaflet, GTK_WIDGET (scan)), FALSE);
  page = latchkey_receive_page_new (self->engine, self->trackers);
  push (self, GTK_WIDGET (page));
  latchkey_receive_page_open_share_link (page, link);
  g_ptr_array_add (self->replaced, g_object_ref (scan));
  if (self->prune_source == 0)
    self->prune_source = g_idle_add (prune_idle, self);
}

/* The same for a link whose secret came apart: the receive page asks. */
static void
on_secretless_link_found (LatchkeyScanPage *scan,
                          const char       *text,
                          LatchkeyWindow   *self)
{
  LatchkeyReceivePage *page;

  adw_leaflet_page_set_navigatable (adw_leaflet_get_page (self->leaflet, GTK_WIDGET (scan)), FALSE);
  page = latchkey_receive_page_new (self->engine, self->trackers);
  push (self, GTK_WIDGET (page));
  latchkey_receive_page_open_link (page, text);
  g_ptr_array_add (self->replaced, g_object_ref (scan));
  if (self->prune_source == 0)
    self->prune_source = g_idle_add (prune_idle, self);
}

/**
 * latchkey_window_scan:
 *
 * Opens the scan page: the camera, or an image.
 */
void
latchkey_window_scan (LatchkeyWindow *self)
{
  LatchkeyScanPage *page;

  g_return_if_fail (LATCHKEY_IS_WINDOW (self));

  if (LATCHKEY_IS_SCAN_PAGE (latchkey_window_get_page (self)))
    return;
  page = latchkey_scan_page_new ();
  g_signal_connect_object (page, "link-found", G_CALLBACK (on_link_found), self, 0);
  g_signal_connect_object (page, "secretless-link-found", G_CALLBACK (on_secretless_link_found), self, 0);
  push (self, GTK_WIDGET (page));
}

/**
 * latchkey_window_receive:
 * @link: (nullable): a share link to preview, or %NULL to ask for one
 */
void
latchkey_window_receive (LatchkeyWindow *self,
                         const char     *link)
{
  GtkWidget *page;

  g_return_if_fail (LATCHKEY_IS_WINDOW (self));

  page = latchkey_window_get_page (self);
  if (!LATCHKEY_IS_RECEIVE_PAGE (page) || !latchkey_receive_page_is_idle (LATCHKEY_RECEIVE_PAGE (page)))
    {
      page = GTK_WIDGET (latchkey_receive_page_new (self->engine, self->trackers));
      push (self, page);
    }

  if (link != NULL)
    latchkey_receive_page_open_link (LATCHKEY_RECEIVE_PAGE (page), link);
}

/* Actions */

static void
receive_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  latchkey_window_receive (LATCHKEY_WINDOW (widget), NULL);
}

static void
scan_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  latchkey_window_scan (LATCHKEY_WINDOW (widget));
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  reload (LATCHKEY_WINDOW (widget));
}

static void
toast_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  show_toast (LATCHKEY_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
show_view_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LatchkeyWindow *self = LATCHKEY_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, self->main_page);
  adw_view_stack_set_visible_child_name (self->view_stack, g_variant_get_string (parameter, NULL));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  adw_leaflet_navigate (LATCHKEY_WINDOW (widget)->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
on_enrolled (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(LatchkeyWindow) self = user_data;
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  credential = lk_transfer_engine_enroll_finish (LK_TRANSFER_ENGINE (source), result, &error);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.enrol", TRUE);
  if (credential == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Translators: %s is an error message */
      message = g_strdup_printf (_("Could not enrol the key: %s"), error->message);
    }
  else
    {
      /* Translators: %s is the title of a key */
      message = g_strdup_printf (_("“%s” was added"), lk_credential_get_title (credential));
      g_free (self->focus_key);
      self->focus_key = g_strdup (lk_credential_get_id (credential));
      reload (self);
    }

  show_toast (self, message);
}

/* Enrolling asks the partner to issue a key to this device, as a car maker's
 * or hotel's app would; here it is how a first key gets into the wallet. */
static void
enrol_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  LatchkeyWindow *self = LATCHKEY_WINDOW (widget);
  g_autofree char *partner = latchkey_dup_partner_url (self->settings);
  LkVertical vertical = LK_VERTICAL_GENERIC;
  const char *title;

  if (!lk_vertical_from_string (g_variant_get_string (parameter, NULL), &vertical))
    return;
  if (*partner == '\0')
    {
      show_toast (self, _("No provider is set up: choose one in Preferences"));
      return;
    }

  switch (vertical)
    {
    case LK_VERTICAL_CAR:
      title = _("My Car");
      break;
    case LK_VERTICAL_HOME:
      title = _("Hotel Room");
      break;
    case LK_VERTICAL_GENERIC:
    default:
      title = _("Office Pass");
      break;
    }

  gtk_widget_action_set_enabled (widget, "win.enrol", FALSE);
  lk_transfer_engine_enroll_async (self->engine, partner, vertical, title,
                                   self->cancellable, on_enrolled, g_object_ref (self));
}

/* Window */

/* The engine and the trackers come after construction, so this runs from _new(). */
static void
setup (LatchkeyWindow *self)
{
  GListModel *trackers = G_LIST_MODEL (self->trackers);

  GtkFilterListModel *searched;
  GtkSortListModel *sorted;

  self->shares = gtk_filter_list_model_new (g_object_ref (trackers),
                                            GTK_FILTER (gtk_custom_filter_new (is_outgoing, NULL, NULL)));
  {
    g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
    g_autoptr(GSimpleAction) state = g_simple_action_new_stateful ("state", G_VARIANT_TYPE_STRING,
                                                                   g_variant_new_string (show_targets[SHOW_ALL]));

    g_signal_connect_object (state, "change-state", G_CALLBACK (on_shares_state), self, 0);
    g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (state));
    gtk_widget_insert_action_group (GTK_WIDGET (self), "shares", G_ACTION_GROUP (group));
  }
  self->shares_filter = gtk_custom_filter_new (share_matches, self, NULL);
  searched = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->shares)),
                                        GTK_FILTER (g_object_ref (self->shares_filter)));
  sorted = gtk_sort_list_model_new (G_LIST_MODEL (searched),
                                    GTK_SORTER (gtk_custom_sorter_new (compare_shares, NULL, NULL)));
  self->shares_page = gtk_slice_list_model_new (G_LIST_MODEL (sorted), 0, PAGE_ROWS);
  gtk_list_box_set_header_func (self->shares_list, update_share_header, NULL, NULL);
  gtk_list_box_bind_model (self->shares_list, G_LIST_MODEL (self->shares_page), create_share_row, self, NULL);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->shares_scroller), "changed",
                           G_CALLBACK (on_scroll_range_changed), self->shares_page, 0);
  g_signal_connect_object (self->shares, "items-changed", G_CALLBACK (update_shares_stack), self,
                           G_CONNECT_SWAPPED);
  update_shares_stack (self);

  g_signal_connect_object (self->trackers, "tracker-changed", G_CALLBACK (on_tracker_changed), self, 0);

  reload (self);
}

static gboolean
latchkey_window_close_request (GtkWindow *window)
{
  LatchkeyWindow *self = LATCHKEY_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_delay (self->settings);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  g_settings_apply (self->settings);

  return GTK_WINDOW_CLASS (latchkey_window_parent_class)->close_request (window);
}

static void
latchkey_window_dispose (GObject *object)
{
  LatchkeyWindow *self = LATCHKEY_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->prune_source, g_source_remove);
  /* Before the overlay it holds goes. */
  g_clear_object (&self->toaster);

  gtk_widget_dispose_template (GTK_WIDGET (self), LATCHKEY_TYPE_WINDOW);

  G_OBJECT_CLASS (latchkey_window_parent_class)->dispose (object);
}

static void
latchkey_window_finalize (GObject *object)
{
  LatchkeyWindow *self = LATCHKEY_WINDOW (object);

  g_clear_object (&self->engine);
  g_clear_object (&self->trackers);
  g_clear_pointer (&self->focus_key, g_free);
  g_clear_object (&self->settings);
  g_clear_object (&self->credentials);
  g_clear_object (&self->keys_filter);
  g_clear_object (&self->keys_page);
  g_clear_object (&self->shares);
  g_clear_object (&self->shares_filter);
  g_clear_object (&self->shares_page);
  g_clear_pointer (&self->replaced, g_ptr_array_unref);

  G_OBJECT_CLASS (latchkey_window_parent_class)->finalize (object);
}

static void
latchkey_window_class_init (LatchkeyWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = latchkey_window_dispose;
  object_class->finalize = latchkey_window_finalize;
  window_class->close_request = latchkey_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/latchkey/Latchkey/latchkey-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, main_page);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, keys_stack);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, keys_scroller);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, keys_search);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, keys_list);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, keys_error_page);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, shares_stack);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, shares_scroller);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, shares_search);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, shares_state);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, shares_list);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyWindow, empty_page);
  gtk_widget_class_bind_template_callback (widget_class, on_key_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_keys_edge_reached);
  gtk_widget_class_bind_template_callback (widget_class, on_keys_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_shares_edge_reached);
  gtk_widget_class_bind_template_callback (widget_class, on_shares_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_share_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_transition_running);

  gtk_widget_class_install_action (widget_class, "win.receive", NULL, receive_action);
  gtk_widget_class_install_action (widget_class, "win.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "win.scan", NULL, scan_action);
  gtk_widget_class_install_action (widget_class, "win.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "win.toast", "s", toast_action);
  gtk_widget_class_install_action (widget_class, "win.enrol", "s", enrol_action);
  gtk_widget_class_install_action (widget_class, "win.show-view", "s", show_view_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.receive", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.reload", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.scan", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK, "win.show-view", "s", "keys");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.show-view", "s", "shares");
}

static void
latchkey_window_init (LatchkeyWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (APP_ID);
  self->credentials = g_list_store_new (LK_TYPE_CREDENTIAL);
  self->cancellable = g_cancellable_new ();
  self->toaster = latchkey_toaster_new (self->toast_overlay);
  self->replaced = g_ptr_array_new_with_free_func (g_object_unref);
  self->keys_filter = gtk_custom_filter_new (key_matches, self, NULL);
  self->keys_page = gtk_slice_list_model_new (
    G_LIST_MODEL (gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->credentials)),
                                             GTK_FILTER (g_object_ref (self->keys_filter)))),
    0, PAGE_ROWS);
  gtk_list_box_bind_model (self->keys_list, G_LIST_MODEL (self->keys_page), create_key_row, self, NULL);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->keys_scroller), "changed",
                           G_CALLBACK (on_scroll_range_changed), self->keys_page, 0);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  /* The Devel profile is marked the GNOME way, with stripes in the header bar. */
  if (DEVELOPMENT_BUILD)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
}

/**
 * latchkey_window_new:
 * @engine: what the window and its pages share and receive with
 * @trackers: the transfers followed: the window lists the shares, and its
 *   pages add the transfers they start
 */
LatchkeyWindow *
latchkey_window_new (GtkApplication      *application,
                     LkTransferEngine    *engine,
                     LatchkeyTrackerList *trackers)
{
  LatchkeyWindow *self;

  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (LK_IS_TRANSFER_ENGINE (engine), NULL);
  g_return_val_if_fail (LATCHKEY_IS_TRACKER_LIST (trackers), NULL);

  self = g_object_new (LATCHKEY_TYPE_WINDOW,
                       "application", application,
                       NULL);
  self->engine = g_object_ref (engine);
  self->trackers = g_object_ref (trackers);
  setup (self);

  return self;
}
