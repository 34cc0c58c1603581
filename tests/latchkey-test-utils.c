/* latchkey-test-utils.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-test-utils"

#include "config.h"

#include "latchkey-test-utils.h"

#include "latchkey-test-hooks.h"

#include <glib/gstdio.h>
#include <stdlib.h>

static gboolean
on_deadline (gpointer data)
{
  g_error ("Timed out waiting for %s", (const char *) data);
  return G_SOURCE_REMOVE;
}

/**
 * latchkey_test_wait_until:
 * @what: what is awaited, for the failure message
 *
 * Runs the main loop until @condition holds: an event, not a sleep.
 */
void
latchkey_test_wait_until (LatchkeyTestCondition  condition,
                          gpointer               data,
                          const char            *what)
{
  guint deadline = g_timeout_add_seconds (LATCHKEY_TEST_DEADLINE_SECONDS, on_deadline, (gpointer) what);

  while (!condition (data))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (deadline);
}

static void
on_after_paint (GdkFrameClock *clock,
                gboolean      *painted)
{
  *painted = TRUE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

/**
 * latchkey_test_wait_for_frame:
 *
 * Returns once @window has painted a frame asked for now.
 */
void
latchkey_test_wait_for_frame (GtkWidget *window)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);
  gboolean painted = FALSE;
  gulong handler = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &painted);

  gtk_widget_queue_draw (window);
  latchkey_test_wait_until (is_true, &painted, "a frame");
  g_signal_handler_disconnect (clock, handler);
}

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

/**
 * latchkey_test_show_window:
 *
 * Presents @window and returns once it has been painted.
 */
/* The session promised a Wayland or an X11 display: hold it to that, so
 * a Wayland run can never pass on a silent fallback to X11. */
static void
check_backend (GtkWindow *window)
{
  const char *want = g_strcmp0 (g_getenv ("LATCHKEY_HEADLESS_DISPLAY"), "wayland") == 0
                     ? "GdkWaylandDisplay" : "GdkX11Display";

  g_assert_cmpstr (G_OBJECT_TYPE_NAME (gtk_widget_get_display (GTK_WIDGET (window))), ==, want);
}

void
latchkey_test_show_window (GtkWindow *window)
{
  check_backend (window);
  gtk_window_present (window);
  latchkey_test_wait_until (is_mapped, window, "the window to be mapped");
  latchkey_test_wait_for_frame (GTK_WIDGET (window));
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
 * latchkey_test_find_named:
 *
 * Returns: (transfer none) (nullable): the first descendant of @root whose
 *   widget name (the `name` property in the .ui files) is @name
 */
GtkWidget *
latchkey_test_find_named (GtkWidget  *root,
                          const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = latchkey_test_find_named (child, name);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* No page transition of the (first) leaflet under @root is running. */
gboolean
latchkey_test_leaflet_at_rest (GtkWidget *root)
{
  GtkWidget *leaflet = latchkey_test_find_widget (root, ADW_TYPE_LEAFLET);

  return leaflet == NULL || !adw_leaflet_get_child_transition_running (ADW_LEAFLET (leaflet));
}

static char *private_dir;

static void
remove_private_dir (void)
{
  g_autoptr(GDir) dir = g_dir_open (private_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (private_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (private_dir);
  g_clear_pointer (&private_dir, g_free);
}

/**
 * latchkey_test_save_screenshot:
 * @name: a file name without extension
 *
 * Renders @widget into `$G_TEST_BUILDDIR/artifacts/@name.png`, a test
 * artifact, replaced whole (a rename): the same test may be running twice
 * at once (`meson test --repeat`), and neither may read half a file.
 *
 * Returns: the path of a copy of this process's own (removed at exit), to
 *   read the picture back from: the artifact may be the other run's by then
 */
char *
latchkey_test_save_screenshot (GtkWidget  *widget,
                               const char *name)
{
  g_autoptr(GdkTexture) texture = latchkey_test_hooks_render (widget);
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *file = NULL;
  g_autofree char *artifact = NULL;
  char *path;

  g_assert_nonnull (texture);
  png = gdk_texture_save_to_png_bytes (texture);
  dir = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                          "artifacts", NULL);
  g_assert_no_errno (g_mkdir_with_parents (dir, 0755));
  file = g_strconcat (name, ".png", NULL);
  /* The Wayland run of the same test keeps its pictures apart. */
  if (g_strcmp0 (g_getenv ("LATCHKEY_HEADLESS_DISPLAY"), "wayland") == 0)
    {
      g_autofree char *wayland = g_strconcat (name, "-wayland.png", NULL);
      artifact = g_build_filename (dir, wayland, NULL);
    }
  else
    artifact = g_build_filename (dir, file, NULL);
  g_file_set_contents (artifact, g_bytes_get_data (png, NULL), g_bytes_get_size (png), &error);
  g_assert_no_error (error);
  g_test_message ("screenshot: %s", artifact);

  if (private_dir == NULL)
    {
      private_dir = g_dir_make_tmp ("latchkey-screenshots-XXXXXX", &error);
      g_assert_no_error (error);
      atexit (remove_private_dir);
    }
  path = g_build_filename (private_dir, file, NULL);
  g_file_set_contents (path, g_bytes_get_data (png, NULL), g_bytes_get_size (png), &error);
  g_assert_no_error (error);

  return path;
}

static GBytes *
render_pixels (GtkWidget *widget)
{
  g_autoptr(GdkTexture) texture = latchkey_test_hooks_render (widget);
  gsize size;
  guchar *pixels;

  if (texture == NULL)
    return g_bytes_new (NULL, 0);
  size = (gsize) gdk_texture_get_width (texture) * gdk_texture_get_height (texture) * 4;
  pixels = g_malloc (size);
  gdk_texture_download (texture, pixels, (gsize) gdk_texture_get_width (texture) * 4);
  return g_bytes_new_take (pixels, size);
}

/**
 * latchkey_test_save_settled_screenshot:
 *
 * As latchkey_test_save_screenshot(), once two frames in a row render the
 * same: the view at rest, not halfway through a transition. A spinner never
 * rests: after 120 frames (frames, not time) it is taken as it is.
 */
char *
latchkey_test_save_settled_screenshot (GtkWidget  *window,
                                       const char *name)
{
  g_autoptr(GBytes) previous = NULL;

  for (int i = 0; i < 120; i++)
    {
      g_autoptr(GBytes) current = NULL;

      latchkey_test_wait_for_frame (window);
      current = render_pixels (window);
      if (previous != NULL && g_bytes_get_size (current) > 0 && g_bytes_equal (previous, current))
        break;
      g_clear_pointer (&previous, g_bytes_unref);
      previous = g_steal_pointer (&current);
    }

  return latchkey_test_save_screenshot (window, name);
}
