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
 * - app.test-snapshot (a file path): the active window (the most recently
 *   focused of those shown), drawn by its own
 *   renderer at its own size (a QR code comes out pixel for pixel) after
 *   a paint, saved as a PNG there (the file appears whole); or, when no
 *   paint leaves the window whole in time, PATH.failed saying why;
 * - at startup, a message naming the GdkDisplay type in use, so that a
 *   test that meant to run under Wayland can tell that it did, and did not
 *   fall back to X11.
 */

#define G_LOG_DOMAIN "latchkey-test-hooks"

#include "config.h"

#include <glib/gstdio.h>

#include "latchkey-test-hooks.h"

/**
 * latchkey_test_hooks_render:
 * @widget: a widget in a realized window
 *
 * Draws @widget with its own window's renderer at the paintable's own size
 * (a window's includes its frame), so that nothing is rescaled: a QR code
 * comes out pixel for pixel. The hooks and the in-process GUI tests
 * (tests/latchkey-test-utils.c) take their pictures this one way.
 *
 * Returns: (transfer full) (nullable): the picture, or %NULL when the
 *   widget has no renderer or no size, or drew nothing
 */
GdkTexture *
latchkey_test_hooks_render (GtkWidget *widget)
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

/* A snapshot asked for, drawn after the first paint that leaves the
 * window whole, or given up at a deadline. */
typedef struct
{
  GtkWidget     *window;
  GdkFrameClock *clock;
  char          *path;
  gulong         handler;
  guint          deadline_id;
  guint          paints;
} Pending;

static void
pending_free (Pending *pending)
{
  g_clear_signal_handler (&pending->handler, pending->clock);
  g_clear_handle_id (&pending->deadline_id, g_source_remove);
  g_object_unref (pending->clock);
  g_object_unref (pending->window);
  g_free (pending->path);
  g_free (pending);
}

/* Written to a side file and renamed: the test waits for the file, and
 * must never read half of one. */
static void
write_whole (const char *path,
             GdkTexture *texture,
             const char *failure)
{
  g_autofree char *partial = g_strconcat (path, ".part", NULL);
  g_autoptr(GError) error = NULL;
  gboolean written;

  if (texture != NULL)
    written = gdk_texture_save_to_png (texture, partial);
  else
    written = g_file_set_contents (partial, failure, -1, &error);
  if (!written || g_rename (partial, path) != 0)
    g_warning ("test-snapshot: could not write %s", path);
}

/* The test is told at once, in PATH.failed, rather than left waiting for
 * a picture that will not come. */
static gboolean
on_deadline (gpointer data)
{
  Pending *pending = data;
  g_autofree char *failed = g_strconcat (pending->path, ".failed", NULL);
  g_autofree char *why = g_strdup_printf ("the window drew nothing in %u paints", pending->paints);

  pending->deadline_id = 0;
  /* A message, not a warning: the test that asked is the one to fail. */
  g_message ("test-snapshot: %s", why);
  write_whole (failed, NULL, why);
  pending_free (pending);
  return G_SOURCE_REMOVE;
}

/* Right after a paint the window's render nodes are all fresh, unless a
 * part of it asked to be redrawn in the meantime (the camera's viewfinder,
 * every frame) or the paint was another surface's on the same clock (a
 * popover's): GTK 4.8's widget paintable then draws nothing, and the next
 * paint is tried, however many it takes, until the deadline. */
static void
on_after_paint (GdkFrameClock *clock,
                Pending       *pending)
{
  g_autoptr(GdkTexture) texture = latchkey_test_hooks_render (pending->window);

  pending->paints++;
  if (texture == NULL)
    {
      gtk_widget_queue_draw (pending->window);
      return;
    }
  write_whole (pending->path, texture, NULL);
  pending_free (pending);
}

/* LATCHKEY_TEST_SNAPSHOT_SECONDS bounds the wait for a whole paint
 * (default 20 s, short of the AT-SPI tests' 30 s for the file). */
static guint
snapshot_deadline (void)
{
  const char *text = g_getenv ("LATCHKEY_TEST_SNAPSHOT_SECONDS");
  guint64 seconds = 20;

  if (text != NULL && !g_ascii_string_to_unsigned (text, 10, 1, 600, &seconds, NULL))
    g_warning ("test-snapshot: LATCHKEY_TEST_SNAPSHOT_SECONDS=%s is not 1 to 600; using 20", text);
  return (guint) seconds;
}

static void
snapshot_action (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  GtkWidget *window = NULL;
  GdkFrameClock *clock;
  Pending *pending;

  /* The windows, most recently focused first; one just closed may still
   * be listed, unmapped, with nothing to draw. */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (user_data)); l != NULL; l = l->next)
    if (gtk_widget_get_mapped (l->data))
      {
        window = l->data;
        break;
      }
  clock = window != NULL ? gtk_widget_get_frame_clock (window) : NULL;
  if (clock == NULL)
    {
      g_autofree char *failed = g_strconcat (g_variant_get_string (parameter, NULL), ".failed", NULL);

      g_message ("test-snapshot: no window shown");
      write_whole (failed, NULL, "no window shown");
      return;
    }
  pending = g_new0 (Pending, 1);
  pending->window = g_object_ref (window);
  pending->clock = g_object_ref (clock);
  pending->path = g_variant_dup_string (parameter, NULL);
  pending->handler = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), pending);
  pending->deadline_id = g_timeout_add_seconds (snapshot_deadline (), on_deadline, pending);
  gtk_widget_queue_draw (window);
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
