/* latchkey-toaster.c: a window's toasts, never dismissed while they still
 * slide in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-toaster"

#include "latchkey-toaster.h"

/* The longest show animation of libadwaita 1.2's toast overlay (a toast
 * that replaces one going away: REPLACE_DURATION), and a frame more. */
#define SHOW_ANIMATION_USEC (550 * G_TIME_SPAN_MILLISECOND)

struct _LatchkeyToaster
{
  GObject          parent_instance;

  AdwToastOverlay *overlay;
  GPtrArray       *toasts;     /* ours not yet dismissed, oldest (the one shown) first */
  gint64           shown_at;   /* frame time the first of them was shown at */
  guint            tick_id;    /* the first was dismissed while it slid in */
};

G_DEFINE_FINAL_TYPE (LatchkeyToaster, latchkey_toaster, G_TYPE_OBJECT)

static gint64
frame_time (LatchkeyToaster *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self->overlay));

  return clock != NULL ? gdk_frame_clock_get_frame_time (clock) : 0;
}

static gboolean
has_the_crash (void)
{
  return adw_get_major_version () == 1 && adw_get_minor_version () < 3;
}

/* Whether the toast shown may go now. Its show animation started at the
 * frame time it was shown at and ends at the first frame past its
 * duration; an overlay that is not mapped plays no animation. */
static gboolean
may_hide_shown (LatchkeyToaster *self)
{
  return !has_the_crash () ||
         !gtk_widget_get_mapped (GTK_WIDGET (self->overlay)) ||
         frame_time (self) >= self->shown_at + SHOW_ANIMATION_USEC;
}

static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  LatchkeyToaster *self = user_data;

  if (!may_hide_shown (self))
    return G_SOURCE_CONTINUE;

  self->tick_id = 0;
  /* Emitted, not adw_toast_dismiss(): the toast's own handler, which runs
   * first, has already let go of its overlay. Only on_dismissed() takes it
   * out of the list: it is still the first. */
  g_signal_emit_by_name (g_ptr_array_index (self->toasts, 0), "dismissed");
  return G_SOURCE_REMOVE;
}

/* Runs before the overlay's own handler, connected after this one. */
static void
on_dismissed (AdwToast        *toast,
              LatchkeyToaster *self)
{
  guint index;

  if (!g_ptr_array_find (self->toasts, toast, &index))
    return;
  if (index == 0 && !may_hide_shown (self))
    {
      g_signal_stop_emission_by_name (toast, "dismissed");
      /* A tick callback keeps frames coming until then. */
      if (self->tick_id == 0)
        self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self->overlay), on_tick, self, NULL);
      return;
    }

  g_ptr_array_remove_index (self->toasts, index);
  /* The overlay shows the next one now. */
  if (index == 0)
    self->shown_at = frame_time (self);
}

/**
 * latchkey_toaster_show:
 *
 * Shows a toast of @text, after those shown before it.
 */
void
latchkey_toaster_show (LatchkeyToaster *self,
                       const char      *text)
{
  AdwToast *toast;

  g_return_if_fail (LATCHKEY_IS_TOASTER (self));

  toast = adw_toast_new (text);
  if (self->toasts->len == 0)
    self->shown_at = frame_time (self);
  g_ptr_array_add (self->toasts, g_object_ref (toast));
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (on_dismissed), self, 0);
  adw_toast_overlay_add_toast (self->overlay, toast);
}

void
latchkey_toaster_dismiss_all (LatchkeyToaster *self)
{
  g_return_if_fail (LATCHKEY_IS_TOASTER (self));

  /* The newest first, so that none of the others is shown meanwhile; each
   * leaves the list but the first, which may stay until it is in. */
  for (guint i = self->toasts->len; i > 0; i--)
    adw_toast_dismiss (g_ptr_array_index (self->toasts, i - 1));
}

static void
latchkey_toaster_dispose (GObject *object)
{
  LatchkeyToaster *self = LATCHKEY_TOASTER (object);

  if (self->tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->overlay), self->tick_id);
  self->tick_id = 0;
  g_clear_object (&self->overlay);

  G_OBJECT_CLASS (latchkey_toaster_parent_class)->dispose (object);
}

static void
latchkey_toaster_finalize (GObject *object)
{
  LatchkeyToaster *self = LATCHKEY_TOASTER (object);

  g_clear_pointer (&self->toasts, g_ptr_array_unref);

  G_OBJECT_CLASS (latchkey_toaster_parent_class)->finalize (object);
}

static void
latchkey_toaster_class_init (LatchkeyToasterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = latchkey_toaster_dispose;
  object_class->finalize = latchkey_toaster_finalize;
}

static void
latchkey_toaster_init (LatchkeyToaster *self)
{
  self->toasts = g_ptr_array_new_with_free_func (g_object_unref);
}

LatchkeyToaster *
latchkey_toaster_new (AdwToastOverlay *overlay)
{
  LatchkeyToaster *self;

  g_return_val_if_fail (ADW_IS_TOAST_OVERLAY (overlay), NULL);

  self = g_object_new (LATCHKEY_TYPE_TOASTER, NULL);
  self->overlay = g_object_ref (overlay);
  return self;
}
