/* latchkey-page-clock.c: a page's periodic refresh, run only while the
 * page is on screen
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-page-clock"

#include "latchkey-page-clock.h"

typedef struct
{
  guint       seconds;
  GSourceFunc tick;
  guint       source_id;
} PageClock;

static const char *const clock_key = "latchkey-page-clock";

static void
page_clock_free (gpointer data)
{
  PageClock *clock = data;

  g_clear_handle_id (&clock->source_id, g_source_remove);
  g_free (clock);
}

static void
on_map (GtkWidget *widget,
        PageClock *clock)
{
  clock->tick (widget);
  /* The source holds no reference: it lives only while the widget is
   * mapped, and a mapped widget is alive. */
  if (clock->source_id == 0)
    clock->source_id = g_timeout_add_seconds (clock->seconds, clock->tick, widget);
}

static void
on_unmap (GtkWidget *widget,
          PageClock *clock)
{
  g_clear_handle_id (&clock->source_id, g_source_remove);
}

void
latchkey_page_clock_attach (GtkWidget   *widget,
                            guint        seconds,
                            GSourceFunc  tick)
{
  PageClock *clock;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (seconds > 0 && tick != NULL);
  g_return_if_fail (g_object_get_data (G_OBJECT (widget), clock_key) == NULL);

  clock = g_new0 (PageClock, 1);
  clock->seconds = seconds;
  clock->tick = tick;
  g_object_set_data_full (G_OBJECT (widget), clock_key, clock, page_clock_free);
  g_signal_connect (widget, "map", G_CALLBACK (on_map), clock);
  g_signal_connect (widget, "unmap", G_CALLBACK (on_unmap), clock);
  if (gtk_widget_get_mapped (widget))
    on_map (widget, clock);
}

gboolean
latchkey_page_clock_is_running (GtkWidget *widget)
{
  PageClock *clock;

  g_return_val_if_fail (GTK_IS_WIDGET (widget), FALSE);
  clock = g_object_get_data (G_OBJECT (widget), clock_key);
  return clock != NULL && clock->source_id != 0;
}
