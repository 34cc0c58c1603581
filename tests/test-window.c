/* test-window.c: the main window under a real X server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-window"

#include "config.h"

#include "latchkey-application.h"
#include "latchkey-test-utils.h"
#include "latchkey-window.h"

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
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
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/window/empty-state", test_empty_state);

  return g_test_run ();
}
