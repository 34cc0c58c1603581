/* test-window.c: the main window under a real X server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-window"

#include "config.h"

#include <glib/gstdio.h>

#include "latchkey-application.h"
#include "latchkey-test-utils.h"
#include "lk-test-crash.h"
#include "latchkey-utils.h"
#include "latchkey-window.h"

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

/* The window's wallet page left "loading": read, empty or not, or failed. */
static gboolean
wallet_read (gpointer data)
{
  const char *shown = gtk_stack_get_visible_child_name (data);

  return shown != NULL && g_strcmp0 (shown, "loading") != 0;
}

/* Expiry in words (issue 15), counted from a fixed Wednesday noon, UTC. */
static void
test_expiry_in_words (void)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) now = g_date_time_new (utc, 2026, 12, 2, 12, 0, 0);
  const struct { GTimeSpan after; const char *expected; } cases[] = {
    { -1, "expired" },
    { 0, "expired" },
    { 30 * G_TIME_SPAN_SECOND, "expires in 1 minute" },
    { 45 * G_TIME_SPAN_MINUTE, "expires in 45 minutes" },
    { 60 * G_TIME_SPAN_MINUTE, "expires in 1 hour" },
    { 5 * G_TIME_SPAN_HOUR + 10 * G_TIME_SPAN_MINUTE, "expires in 5 hours" },
    { 2 * G_TIME_SPAN_DAY + 6 * G_TIME_SPAN_HOUR, "expires in 2 days, Friday 18:00" },
    { G_TIME_SPAN_DAY, "expires in 1 day, Thursday 12:00" },
    { 10 * G_TIME_SPAN_DAY, "expires on 12 Dec 2026, 12:00" },
  };
  g_autofree char *never = latchkey_format_expiry (NULL, now);

  g_assert_cmpstr (never, ==, "never expires");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GDateTime) when = g_date_time_add (now, cases[i].after);
      g_autofree char *text = latchkey_format_expiry (when, now);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_empty_state (void)
{
  g_autoptr(LatchkeyApplication) app = latchkey_application_new ();
  LatchkeyWindow *window;
  GtkWidget *status;
  GtkStack *stack;
  g_autofree char *shot = NULL;

  g_application_register (G_APPLICATION (app), NULL, NULL);
  window = latchkey_application_get_window (app);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);

  latchkey_test_show_window (GTK_WINDOW (window));

  status = latchkey_test_find_widget (GTK_WIDGET (window), ADW_TYPE_STATUS_PAGE);
  g_assert_nonnull (status);
  /* The wallet is read in a thread: the first frame shows it loading. If
   * the read fails, the failure says what the window said. */
  stack = GTK_STACK (gtk_widget_get_ancestor (status, GTK_TYPE_STACK));
  latchkey_test_wait_until (wallet_read, stack, "the wallet to be read");
  if (g_strcmp0 (gtk_stack_get_visible_child_name (stack), "error") == 0)
    {
      AdwStatusPage *error = ADW_STATUS_PAGE (gtk_stack_get_child_by_name (stack, "error"));

      g_error ("the wallet was not read: %s: %s", adw_status_page_get_title (error),
               adw_status_page_get_description (error));
    }
  latchkey_test_wait_until (is_mapped, status, "the empty wallet");
  g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (status)), ==, "No Keys Yet");

  shot = latchkey_test_save_settled_screenshot (GTK_WIDGET (window), "window-empty");

  gtk_window_destroy (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* The app's test hooks draw its window for the AT-SPI tests under
 * Wayland. A window that keeps asking to be redrawn (a viewfinder, a
 * popover's paints on the same clock) may leave no whole paint for a while:
 * the hook waits for one as long as it takes, up to its deadline, and then
 * says so in PATH.failed instead of leaving the test waiting. A spoiler,
 * connected before the hook, asks for a redraw right after each paint. */
typedef struct
{
  GtkWidget *window;
  guint      spoil;
} Spoiler;

static void
on_spoil (GdkFrameClock *clock,
          Spoiler       *spoiler)
{
  if (spoiler->spoil == 0)
    return;
  if (spoiler->spoil != G_MAXUINT)
    spoiler->spoil--;
  gtk_widget_queue_draw (spoiler->window);
}

static gboolean
file_or_failure (gpointer data)
{
  g_autofree char *failed = g_strconcat (data, ".failed", NULL);

  return g_file_test (data, G_FILE_TEST_EXISTS) || g_file_test (failed, G_FILE_TEST_EXISTS);
}

static void
test_snapshot_hook (void)
{
  g_autoptr(LatchkeyApplication) app = NULL;
  g_autofree char *dir = g_dir_make_tmp ("latchkey-snapshot-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "late.png", NULL);
  g_autofree char *never = g_build_filename (dir, "never.png", NULL);
  g_autofree char *never_failed = g_strconcat (never, ".failed", NULL);
  g_autofree char *why = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  Spoiler spoiler = { NULL, 0 };
  LatchkeyWindow *window;
  GdkFrameClock *clock;
  gulong handler;

  g_assert_nonnull (dir);
  g_setenv ("LATCHKEY_TEST_HOOKS", "1", TRUE);
  g_setenv ("LATCHKEY_TEST_SNAPSHOT_SECONDS", "60", TRUE);
  app = latchkey_application_new ();
  /* The first test's application may still be on the bus. */
  g_application_set_application_id (G_APPLICATION (app), "io.github.latchkey.SnapshotTest");
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  window = latchkey_application_get_window (app);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  latchkey_test_show_window (GTK_WINDOW (window));
  latchkey_test_wait_until (is_mapped, window, "the window");
  spoiler.window = GTK_WIDGET (window);
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (on_spoil), &spoiler);

  /* 50 paints spoiled, then a whole one: the picture comes. (Before, the
   * hook gave up after 20 and wrote nothing.) */
  spoiler.spoil = 50;
  g_action_group_activate_action (G_ACTION_GROUP (app), "test-snapshot", g_variant_new_string (path));
  latchkey_test_wait_until (file_or_failure, path, "the snapshot of a window spoiled 50 times");
  g_assert_cmpuint (spoiler.spoil, ==, 0);
  texture = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (texture), >, 0);

  /* Never a whole paint: PATH.failed, at the deadline, and no picture. */
  g_setenv ("LATCHKEY_TEST_SNAPSHOT_SECONDS", "1", TRUE);
  spoiler.spoil = G_MAXUINT;
  g_action_group_activate_action (G_ACTION_GROUP (app), "test-snapshot", g_variant_new_string (never));
  latchkey_test_wait_until (file_or_failure, never, "the snapshot's failure");
  g_assert_false (g_file_test (never, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (never_failed, &why, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (why, "the window drew nothing in "));

  g_signal_handler_disconnect (clock, handler);
  g_unsetenv ("LATCHKEY_TEST_HOOKS");
  g_unsetenv ("LATCHKEY_TEST_SNAPSHOT_SECONDS");
  gtk_window_destroy (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_errno (g_unlink (path));
  g_assert_no_errno (g_unlink (never_failed));
  g_assert_no_errno (g_rmdir (dir));
}

int
main (int   argc,
      char *argv[])
{
  /* Local time is UTC here, for the expiry's weekday and hour. */
  g_setenv ("TZ", "UTC", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  lk_test_trace_crashes ();
  adw_init ();

  g_test_add_func ("/window/empty-state", test_empty_state);
  g_test_add_func ("/window/expiry-in-words", test_expiry_in_words);
  g_test_add_func ("/window/test-snapshot-hook", test_snapshot_hook);

  return g_test_run ();
}
