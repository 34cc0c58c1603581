/* latchkey-qr-code.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Dark modules on white with a four-module quiet zone, whatever the theme:
 * a QR code on a dark background does not scan. Modules are drawn as
 * rectangles on whole pixels (GTK 4.8 has no nearest-neighbour texture
 * scaling), so the code stays crisp at any size and scale. Clicking it, or
 * Enter or Space with the focus on it, emits ::activate.
 */

#define G_LOG_DOMAIN "latchkey-qr-code"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <qrencode.h>

#include "lk-crypto.h"
#include "latchkey-qr-code.h"

#define QUIET_ZONE 4

struct _LatchkeyQrCode
{
  GtkWidget  parent_instance;

  char      *text;
  guint8    *modules;   /* size × size, 1 = dark */
  guint      size;      /* modules per side, quiet zone excluded */
};

G_DEFINE_FINAL_TYPE (LatchkeyQrCode, latchkey_qr_code, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TEXT,
  N_PROPS
};

enum {
  ACTIVATE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
latchkey_qr_code_snapshot (GtkWidget   *widget,
                           GtkSnapshot *snapshot)
{
  LatchkeyQrCode *self = LATCHKEY_QR_CODE (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  int side = MIN (width, height);
  guint total = self->size + 2 * QUIET_ZONE;
  int module, x0, y0;
  GdkRGBA white = { 1, 1, 1, 1 };
  GdkRGBA black = { 0, 0, 0, 1 };
  graphene_point_t origin;
  GtkWidget *native;

  if (self->modules == NULL || side <= 0)
    return;

  /* Scrolling and centring can put the widget at a fraction of a pixel,
   * and then every module edge is antialiased: seams a scanner trips on.
   * Snap the drawing to the window's pixel grid. */
  native = GTK_WIDGET (gtk_widget_get_native (widget));
  if (native != NULL && gtk_widget_compute_point (widget, native, &GRAPHENE_POINT_INIT (0, 0), &origin))
    gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (roundf (origin.x) - origin.x,
                                                            roundf (origin.y) - origin.y));

  /* Whole pixels per module, and the code centred. */
  module = MAX (1, side / (int) total);
  x0 = (width - module * (int) total) / 2;
  y0 = (height - module * (int) total) / 2;

  gtk_snapshot_append_color (snapshot, &white,
                             &GRAPHENE_RECT_INIT (x0, y0, module * total, module * total));

  for (guint y = 0; y < self->size; y++)
    {
      guint x = 0;

      /* One rectangle per run of dark modules in a row. */
      while (x < self->size)
        {
          guint start;

          while (x < self->size && !self->modules[y * self->size + x])
            x++;
          start = x;
          while (x < self->size && self->modules[y * self->size + x])
            x++;
          if (x > start)
            gtk_snapshot_append_color (snapshot, &black,
                                       &GRAPHENE_RECT_INIT (x0 + (start + QUIET_ZONE) * module,
                                                            y0 + (y + QUIET_ZONE) * module,
                                                            (x - start) * module, module));
        }
    }
}

static void
latchkey_qr_code_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  LatchkeyQrCode *self = LATCHKEY_QR_CODE (widget);
  guint total = self->size + 2 * QUIET_ZONE;

  /* Two pixels a module at least, so that a camera can read it. */
  *minimum = total * 2;
  *natural = MAX (total * 6, 240);
}

static void
on_pressed (GtkGestureClick *gesture,
            int              n_press,
            double           x,
            double           y,
            LatchkeyQrCode  *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  g_signal_emit (self, signals[ACTIVATE], 0);
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                LatchkeyQrCode        *self)
{
  if (keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_space)
    {
      g_signal_emit (self, signals[ACTIVATE], 0);
      return GDK_EVENT_STOP;
    }
  return GDK_EVENT_PROPAGATE;
}

static void
latchkey_qr_code_finalize (GObject *object)
{
  LatchkeyQrCode *self = (LatchkeyQrCode *) object;

  lk_secure_str_free (self->text);
  g_free (self->modules);

  G_OBJECT_CLASS (latchkey_qr_code_parent_class)->finalize (object);
}

static void
latchkey_qr_code_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  LatchkeyQrCode *self = LATCHKEY_QR_CODE (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
latchkey_qr_code_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  LatchkeyQrCode *self = LATCHKEY_QR_CODE (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      latchkey_qr_code_set_text (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
latchkey_qr_code_class_init (LatchkeyQrCodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = latchkey_qr_code_finalize;
  object_class->get_property = latchkey_qr_code_get_property;
  object_class->set_property = latchkey_qr_code_set_property;
  widget_class->snapshot = latchkey_qr_code_snapshot;
  widget_class->measure = latchkey_qr_code_measure;

  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * LatchkeyQrCode::activate:
   *
   * The code was clicked, or Enter or Space pressed on it.
   */
  signals[ACTIVATE] = g_signal_new ("activate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_css_name (widget_class, "qrcode");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
latchkey_qr_code_init (LatchkeyQrCode *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkEventController *keys = gtk_event_controller_key_new ();

  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "pointer");
}

GtkWidget *
latchkey_qr_code_new (void)
{
  return g_object_new (LATCHKEY_TYPE_QR_CODE, NULL);
}

const char *
latchkey_qr_code_get_text (LatchkeyQrCode *self)
{
  g_return_val_if_fail (LATCHKEY_IS_QR_CODE (self), NULL);
  return self->text;
}

/**
 * latchkey_qr_code_set_text:
 *
 * Encodes @text as bytes (so a link's UTF-8 survives), error correction M.
 */
void
latchkey_qr_code_set_text (LatchkeyQrCode *self,
                           const char     *text)
{
  QRcode *qr;

  g_return_if_fail (LATCHKEY_IS_QR_CODE (self));

  if (g_strcmp0 (self->text, text) == 0)
    return;

  lk_secure_str_free (self->text);
  self->text = g_strdup (text);
  g_clear_pointer (&self->modules, g_free);
  self->size = 0;

  qr = text ? QRcode_encodeString8bit (text, 0, QR_ECLEVEL_M) : NULL;
  if (qr != NULL)
    {
      self->size = qr->width;
      self->modules = g_malloc (self->size * self->size);
      for (guint i = 0; i < self->size * self->size; i++)
        self->modules[i] = qr->data[i] & 1;
      QRcode_free (qr);
    }

  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}

/**
 * latchkey_qr_code_get_size:
 *
 * Returns: modules per side, without the quiet zone; 0 without a code
 */
guint
latchkey_qr_code_get_size (LatchkeyQrCode *self)
{
  g_return_val_if_fail (LATCHKEY_IS_QR_CODE (self), 0);
  return self->size;
}
