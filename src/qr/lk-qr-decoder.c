/* lk-qr-decoder.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * zbar in binary mode: without it, zbar guesses a character set and turns
 * UTF-8 into something else. One decoder per thread; a decoder keeps its
 * zbar scanner between frames.
 */

#define G_LOG_DOMAIN "lk-qr-decoder"

#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n-lib.h>
#include <zbar.h>

#include "lk-qr-decoder.h"

struct _LkQrDecoder
{
  GObject                   parent_instance;

  zbar_image_scanner_t     *scanner;
};

G_DEFINE_FINAL_TYPE (LkQrDecoder, lk_qr_decoder, G_TYPE_OBJECT)
G_DEFINE_QUARK (lk-qr-error-quark, lk_qr_error)

static void
lk_qr_decoder_finalize (GObject *object)
{
  LkQrDecoder *self = LK_QR_DECODER (object);

  zbar_image_scanner_destroy (self->scanner);

  G_OBJECT_CLASS (lk_qr_decoder_parent_class)->finalize (object);
}

static void
lk_qr_decoder_class_init (LkQrDecoderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lk_qr_decoder_finalize;
}

static void
lk_qr_decoder_init (LkQrDecoder *self)
{
  self->scanner = zbar_image_scanner_create ();
  zbar_image_scanner_set_config (self->scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
  zbar_image_scanner_set_config (self->scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
  zbar_image_scanner_set_config (self->scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
}

LkQrDecoder *
lk_qr_decoder_new (void)
{
  return g_object_new (LK_TYPE_QR_DECODER, NULL);
}

static gboolean
size_is_bounded (gint64 width,
                 gint64 height)
{
  return width > 0 && height > 0 && width <= LK_QR_MAX_DIMENSION && height <= LK_QR_MAX_DIMENSION &&
         width * height <= LK_QR_MAX_PIXELS;
}

static gboolean
check_layout (guint    width,
              guint    height,
              gsize    stride,
              gsize    bytes_per_pixel,
              GError **error)
{
  if (!size_is_bounded (width, height) || stride < (gsize) width * bytes_per_pixel)
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID,
                   _("The image is empty, larger than %u pixels a side or %u million in all, or malformed"),
                   LK_QR_MAX_DIMENSION, LK_QR_MAX_PIXELS / 1000000);
      return FALSE;
    }
  return TRUE;
}

/* The first QR code holding text: a link is text, and a symbol with a NUL
 * or invalid UTF-8 in it is not one of ours. */
static char *
scan (LkQrDecoder *self,
      guint8      *gray,
      guint        width,
      guint        height)
{
  zbar_image_t *image = zbar_image_create ();
  char *text = NULL;

  zbar_image_set_format (image, zbar_fourcc ('Y', '8', '0', '0'));
  zbar_image_set_size (image, width, height);
  zbar_image_set_data (image, gray, (unsigned long) width * height, NULL);

  if (zbar_scan_image (self->scanner, image) > 0)
    {
      for (const zbar_symbol_t *symbol = zbar_image_first_symbol (image);
           symbol != NULL && text == NULL;
           symbol = zbar_symbol_next (symbol))
        {
          const char *data = zbar_symbol_get_data (symbol);
          unsigned int length = zbar_symbol_get_data_length (symbol);

          if (zbar_symbol_get_type (symbol) != ZBAR_QRCODE || length == 0 || length > LK_QR_MAX_TEXT ||
              memchr (data, '\0', length) != NULL || !g_utf8_validate (data, length, NULL))
            continue;
          text = g_strndup (data, length);
        }
    }

  zbar_image_destroy (image);
  return text;
}

static char *
decode_packed (LkQrDecoder      *self,
               guint8           *gray,
               guint             width,
               guint             height,
               LkQrDecodeFlags   flags,
               GError          **error)
{
  char *text = scan (self, gray, width, height);

  if (text == NULL && (flags & LK_QR_DECODE_TRY_INVERTED))
    {
      gsize n = (gsize) width * height;

      for (gsize i = 0; i < n; i++)
        gray[i] = 255 - gray[i];
      text = scan (self, gray, width, height);
    }

  if (text == NULL)
    g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_NOT_FOUND, _("No QR code was found"));
  return text;
}

/**
 * lk_qr_decoder_decode_gray:
 * @gray: 8-bit luma, @height rows of @stride bytes
 *
 * Returns: (transfer full): the text of the first QR code found, or %NULL
 *   with an #LK_QR_ERROR
 */
char *
lk_qr_decoder_decode_gray (LkQrDecoder      *self,
                           const guint8     *gray,
                           guint             width,
                           guint             height,
                           gsize             stride,
                           LkQrDecodeFlags   flags,
                           GError          **error)
{
  g_autofree guint8 *packed = NULL;

  g_return_val_if_fail (LK_IS_QR_DECODER (self), NULL);
  g_return_val_if_fail (gray != NULL, NULL);

  if (!check_layout (width, height, stride, 1, error))
    return NULL;

  /* zbar wants rows back to back, and inverting must not touch the caller's frame. */
  packed = g_malloc ((gsize) width * height);
  for (guint y = 0; y < height; y++)
    memcpy (packed + (gsize) y * width, gray + (gsize) y * stride, width);

  return decode_packed (self, packed, width, height, flags, error);
}

typedef struct
{
  int      width;
  int      height;
  gboolean too_large;
} Measure;

/* The header has been read; nothing is allocated for the pixels yet. */
static void
on_size_prepared (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  Measure *measure = user_data;

  measure->width = width;
  measure->height = height;
  if (!size_is_bounded (width, height))
    {
      measure->too_large = TRUE;
      /* As gdk_pixbuf_get_file_info() does: the loader stops here. */
      gdk_pixbuf_loader_set_size (loader, 0, 0);
    }
}

/* Luma by BT.601 weights; transparent counts as white. */
static guint8 *
pixbuf_to_gray (GdkPixbuf *pixbuf)
{
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  int channels = gdk_pixbuf_get_n_channels (pixbuf);
  gboolean alpha = gdk_pixbuf_get_has_alpha (pixbuf);
  gsize stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  guint8 *gray = g_malloc ((gsize) width * height);

  for (int y = 0; y < height; y++)
    {
      const guint8 *row = pixels + (gsize) y * stride;
      guint8 *out = gray + (gsize) y * width;

      for (int x = 0; x < width; x++)
        {
          const guint8 *p = row + (gsize) x * channels;
          guint luma = (299u * p[0] + 587u * p[1] + 114u * p[2]) / 1000u;
          guint a = alpha ? p[3] : 255u;

          out[x] = (guint8) ((luma * a + 255u * (255u - a)) / 255u);
        }
    }

  return gray;
}

/**
 * lk_qr_decoder_decode_image:
 * @stream: an image file's bytes, in any format gdk-pixbuf reads
 * @max_bytes: the largest file read; more fails without reading on
 *
 * Reads the image as it arrives and measures it from its header: one with
 * more than %LK_QR_MAX_PIXELS pixels, or a side over %LK_QR_MAX_DIMENSION,
 * is refused before its pixels are decoded, whatever its size on disk.
 * Blocks: call it off the main thread.
 *
 * Returns: (transfer full): the text of the first QR code found, or %NULL
 *   with an #LK_QR_ERROR (or %G_IO_ERROR_CANCELLED)
 */
char *
lk_qr_decoder_decode_image (LkQrDecoder      *self,
                            GInputStream     *stream,
                            gsize             max_bytes,
                            LkQrDecodeFlags   flags,
                            GCancellable     *cancellable,
                            GError          **error)
{
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree guint8 *buffer = g_malloc (64 * 1024);
  g_autofree guint8 *gray = NULL;
  Measure measure = { 0 };
  GdkPixbuf *pixbuf;
  gsize total = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (LK_IS_QR_DECODER (self), NULL);
  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);

  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &measure);

  while (ok && !measure.too_large)
    {
      gssize n = g_input_stream_read (stream, buffer, 64 * 1024, cancellable, &local_error);

      if (n < 0)
        {
          gdk_pixbuf_loader_close (loader, NULL);
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("The image could not be read: %s"),
                         local_error->message);
          return NULL;
        }
      if (n == 0)
        break;

      total += n;
      if (total > max_bytes)
        {
          gdk_pixbuf_loader_close (loader, NULL);
          g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID,
                       _("The image file is larger than %u MB"), (guint) (max_bytes / (1024 * 1024)));
          return NULL;
        }
      ok = gdk_pixbuf_loader_write (loader, buffer, n, &local_error);
    }

  if (ok)
    ok = gdk_pixbuf_loader_close (loader, &local_error);
  else
    gdk_pixbuf_loader_close (loader, NULL);

  if (measure.too_large)
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID,
                   _("The image has %d × %d pixels; Latchkey reads images of at most %u pixels a side "
                     "and %u million in all"),
                   measure.width, measure.height, LK_QR_MAX_DIMENSION, LK_QR_MAX_PIXELS / 1000000);
      return NULL;
    }

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (!ok || pixbuf == NULL || gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 ||
      gdk_pixbuf_get_n_channels (pixbuf) < 3 ||
      !size_is_bounded (gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf)))
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("The image could not be read: %s"),
                   local_error != NULL ? local_error->message : _("not a picture Latchkey knows"));
      return NULL;
    }

  gray = pixbuf_to_gray (pixbuf);
  return decode_packed (self, gray, gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf), flags, error);
}

/**
 * lk_qr_decoder_decode_rgba:
 * @rgba: 8-bit R, G, B, A, @height rows of @stride bytes
 *
 * As lk_qr_decoder_decode_gray(), from colour: luma by BT.601 weights.
 */
char *
lk_qr_decoder_decode_rgba (LkQrDecoder      *self,
                           const guint8     *rgba,
                           guint             width,
                           guint             height,
                           gsize             stride,
                           LkQrDecodeFlags   flags,
                           GError          **error)
{
  g_autofree guint8 *gray = NULL;

  g_return_val_if_fail (LK_IS_QR_DECODER (self), NULL);
  g_return_val_if_fail (rgba != NULL, NULL);

  if (!check_layout (width, height, stride, 4, error))
    return NULL;

  gray = g_malloc ((gsize) width * height);
  for (guint y = 0; y < height; y++)
    {
      const guint8 *row = rgba + (gsize) y * stride;
      guint8 *out = gray + (gsize) y * width;

      for (guint x = 0; x < width; x++)
        {
          const guint8 *p = row + (gsize) x * 4;
          /* Transparent counts as white: a code on a clear background. */
          guint luma = (299u * p[0] + 587u * p[1] + 114u * p[2]) / 1000u;

          out[x] = (guint8) ((luma * p[3] + 255u * (255u - p[3])) / 255u);
        }
    }

  return decode_packed (self, gray, width, height, flags, error);
}
