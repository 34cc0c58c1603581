/* latchkey-test-hooks.c: what the AT-SPI tests need of the app where no X
 * server can give it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Under Wayland no client can read another's pixels, so the tests in
 * tests/ui/ (which drive the app from another process) cannot grab the
 * screen as they do from Xvfb: the app renders its own window instead.
 * The hooks exist only when the environment sets LATCHKEY_TEST_HOOKS=1:
 *
 * - app.test-snapshot (a file path): the active window, drawn by its own
 *   renderer at its own size (a QR code comes out pixel for pixel), saved
 *   as a PNG there;
 * - at startup, a message naming the GdkDisplay type in use, so that a
 *   test that meant to run under Wayland can tell that it did, and did not
 *   fall back to X11.
 */

#define G_LOG_DOMAIN "latchkey-test-hooks"

#include "config.h"

#include "latchkey-test-hooks.h"

/* @widget as its own renderer draws it (see tests/latchkey-test-utils.c). */
static GdkTexture *
render (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  int width = gdk_paintable_get_intrinsic_width (paintable);
  int height = gdk_paintable_get_intrinsic_height (paintable);
  GtkNative *native = gtk_widget_get_native (widget);
  GskRenderer *renderer = native != NULL ? gtk_native_get_renderer (native) : NULL;

  if (renderer == NULL || width <= 0 || height <= 0)
    return NULL;
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    return NULL;
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

static void
snapshot_action (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  const char *path = g_variant_get_string (parameter, NULL);
  g_autoptr(GdkTexture) texture = NULL;

  if (window == NULL)
    {
      GList *windows = gtk_application_get_windows (GTK_APPLICATION (user_data));

      window = windows != NULL ? windows->data : NULL;
    }
  if (window != NULL)
    texture = render (GTK_WIDGET (window));
  /* The test waits for the file: none tells it that nothing was drawn. */
  if (texture == NULL)
    {
      g_warning ("test-snapshot: nothing to draw");
      return;
    }
  if (!gdk_texture_save_to_png (texture, path))
    g_warning ("test-snapshot: could not write %s", path);
}

static void
on_startup (GApplication *app)
{
  g_message ("test hooks on; display: %s", G_OBJECT_TYPE_NAME (gdk_display_get_default ()));
}

/**
 * latchkey_test_hooks_install:
 *
 * Adds the test hooks to @app if LATCHKEY_TEST_HOOKS=1, and does nothing
 * otherwise. Call before the application starts up.
 */
void
latchkey_test_hooks_install (GtkApplication *app)
{
  static const GActionEntry actions[] = {
    { "test-snapshot", snapshot_action, "s" },
  };

  if (g_strcmp0 (g_getenv ("LATCHKEY_TEST_HOOKS"), "1") != 0)
    return;
  g_action_map_add_action_entries (G_ACTION_MAP (app), actions, G_N_ELEMENTS (actions), app);
  g_signal_connect_after (app, "startup", G_CALLBACK (on_startup), NULL);
}
