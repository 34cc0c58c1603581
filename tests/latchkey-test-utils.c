/* latchkey-test-utils.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-test-utils"

#include "config.h"

#include "latchkey-test-utils.h"

static void
on_after_paint (GdkFrameClock *clock,
                gboolean      *painted)
{
  *painted = TRUE;
}

/**
 * latchkey_test_show_window:
 *
 * Presents @window and returns once it has been painted: a frame-clock
 * event, not a sleep.
 */
void
latchkey_test_show_window (GtkWindow *window)
{
  GdkFrameClock *clock;
  gboolean painted = FALSE;
  gulong handler;

  gtk_window_present (window);
  while (!gtk_widget_get_mapped (GTK_WIDGET (window)))
    g_main_context_iteration (NULL, TRUE);

  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &painted);
  gtk_widget_queue_draw (GTK_WIDGET (window));
  while (!painted)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (clock, handler);
}

/**
 * latchkey_test_find_widget:
 *
 * Returns: (transfer none) (nullable): the first descendant of @root of @type,
 *   depth first
 */
GtkWidget *
latchkey_test_find_widget (GtkWidget *root,
                           GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = latchkey_test_find_widget (child, type);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/**
 * latchkey_test_save_screenshot:
 * @name: a file name without extension
 *
 * Renders @widget with its own renderer into
 * `$G_TEST_BUILDDIR/artifacts/@name.png`, a test artifact.
 *
 * Returns: the path written
 */
char *
latchkey_test_save_screenshot (GtkWidget  *widget,
                               const char *name)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *file = NULL;
  char *path;
  int width, height;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  /* At the paintable's own size (a window's includes its frame), so that
   * nothing is rescaled: a QR code must come out pixel for pixel. */
  width = gdk_paintable_get_intrinsic_width (paintable);
  height = gdk_paintable_get_intrinsic_height (paintable);
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));

  dir = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                          "artifacts", NULL);
  g_assert_no_errno (g_mkdir_with_parents (dir, 0755));
  file = g_strconcat (name, ".png", NULL);
  path = g_build_filename (dir, file, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));

  return path;
}
