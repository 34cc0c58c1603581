/* test-window.c: the main window under a real X server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-window"

#include "config.h"

#include "latchkey-application.h"
#include "latchkey-test-utils.h"
#include "latchkey-utils.h"
#include "latchkey-window.h"

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
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
  g_autofree char *shot = NULL;

  g_application_register (G_APPLICATION (app), NULL, NULL);
  window = latchkey_application_get_window (app);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);

  latchkey_test_show_window (GTK_WINDOW (window));

  status = latchkey_test_find_widget (GTK_WIDGET (window), ADW_TYPE_STATUS_PAGE);
  g_assert_nonnull (status);
  /* The wallet is read in a thread: the first frame shows it loading. */
  latchkey_test_wait_until (is_mapped, status, "the empty wallet");
  g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (status)), ==, "No Keys Yet");

  shot = latchkey_test_save_settled_screenshot (GTK_WIDGET (window), "window-empty");

  gtk_window_destroy (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  /* Local time is UTC here, for the expiry's weekday and hour. */
  g_setenv ("TZ", "UTC", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/window/empty-state", test_empty_state);
  g_test_add_func ("/window/expiry-in-words", test_expiry_in_words);

  return g_test_run ();
}
