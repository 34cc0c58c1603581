/* lk-qr-decoder.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * zbar in binary mode: without it, zbar guesses a character set and turns
 * UTF-8 into something else. One decoder per thread; a decoder keeps its
 * zbar scanner, its working buffers and its place in the camera's round of
 * variants between frames.
 *
 * zbar reads a clean code at any size from about 3 pixels a module; what a
 * webcam adds (blur, noise, moiré, JPEG, glare, uneven light, small codes,
 * light on dark) is what the variants of lk-qr-variants.c take away.
 */

#define G_LOG_DOMAIN "lk-qr-decoder"

#include "config.h"

#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n-lib.h>
#include <zbar.h>

#include "lk-qr-decoder.h"
#include "lk-qr-variants.h"

/* Image files are read in chunks; a PNG signature is 8 bytes, JPEG's 3. */
#define IMAGE_CHUNK     (64 * 1024)
#define SIGNATURE_BYTES 8

/* Enlarging makes four times the pixels: not for images already large. */
#define MAX_PIXELS_TO_ENLARGE (4u * 1000u * 1000u)

/* zbar reads a module of 3 pixels; enlarged, a little less. A code seen
 * with smaller modules and not read is one to bring closer. */
#define MIN_MODULE_PX 3.0

struct _LkQrDecoder
{
  GObject                   parent_instance;

  zbar_image_scanner_t     *scanner;
  LkQrScratch               scratch;
  guint8                   *packed;
  gsize                     packed_size;
  guint                     camera_step;

  /* What the current round of camera frames saw, for the hint. */
  guint                     round_finders;
  double                    round_module;
  LkQrHint                  hint;
};

G_DEFINE_FINAL_TYPE (LkQrDecoder, lk_qr_decoder, G_TYPE_OBJECT)
G_DEFINE_QUARK (lk-qr-error-quark, lk_qr_error)

static void
lk_qr_decoder_finalize (GObject *object)
{
  LkQrDecoder *self = LK_QR_DECODER (object);

  zbar_image_scanner_destroy (self->scanner);
  lk_qr_scratch_clear (&self->scratch);
  g_free (self->packed);

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

/**
 * lk_qr_check_size:
 *
 * Whether an image of @width × @height pixels may be decoded: image
 * loaders call it as soon as they know the size, before decoding pixels.
 *
 * Returns: %FALSE with %LK_QR_ERROR_TOO_LARGE or %LK_QR_ERROR_INVALID if not
 */
gboolean
lk_qr_check_size (guint    width,
                  guint    height,
                  GError **error)
{
  if (width == 0 || height == 0)
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("The image is empty"));
      return FALSE;
    }
  if (width > LK_QR_MAX_DIMENSION || height > LK_QR_MAX_DIMENSION ||
      (guint64) width * height > LK_QR_MAX_PIXELS)
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_TOO_LARGE,
                   _("The image is %u × %u pixels; at most %u megapixels and %u pixels a side can be read"),
                   width, height, LK_QR_MAX_PIXELS / 1000000, LK_QR_MAX_DIMENSION);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_layout (guint    width,
              guint    height,
              gsize    stride,
              gsize    bytes_per_pixel,
              GError **error)
{
  if (!lk_qr_check_size (width, height, error))
    return FALSE;
  if (stride < (gsize) width * bytes_per_pixel)
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("The image’s rows are shorter than its width"));
      return FALSE;
    }
  return TRUE;
}

/* The first QR code holding text: a link is text, and a symbol with a NUL
 * or invalid UTF-8 in it is not one of ours. */
static char *
scan (LkQrDecoder  *self,
      const guint8 *gray,
      guint         width,
      guint         height)
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
scan_variant (LkQrDecoder       *self,
              const LkQrVariant *variant,
              const guint8      *gray,
              guint              width,
              guint              height)
{
  const guint8 *pixels;
  guint w, h;

  for (guint i = 0; i < LK_QR_MAX_STEPS && variant->steps[i] != LK_QR_STEP_END; i++)
    if (variant->steps[i] == LK_QR_STEP_DOUBLE && variant->tile == 0 &&
        (guint64) width * height > MAX_PIXELS_TO_ENLARGE)
      return NULL;

  pixels = lk_qr_variant_apply (variant, gray, width, height, &self->scratch, &w, &h);
  return scan (self, pixels, w, h);
}

/* zbar wants rows back to back; the caller's frame is not touched. */
static const guint8 *
pack (LkQrDecoder  *self,
      const guint8 *gray,
      guint         width,
      guint         height,
      gsize         stride)
{
  gsize size = (gsize) width * height;

  if (stride == width)
    return gray;
  if (self->packed_size < size)
    {
      g_free (self->packed);
      self->packed = g_malloc (size);
      self->packed_size = size;
    }
  for (guint y = 0; y < height; y++)
    memcpy (self->packed + (gsize) y * width, gray + (gsize) y * stride, width);
  return self->packed;
}

static char *
decode_packed (LkQrDecoder      *self,
               const guint8     *gray,
               guint             width,
               guint             height,
               LkQrDecodeFlags   flags,
               GError          **error)
{
  char *text = scan (self, gray, width, height);

  if (text == NULL && (flags & LK_QR_DECODE_ALL_VARIANTS))
    {
      guint n;
      const LkQrVariant *variants = lk_qr_variants_for_images (&n);

      for (guint i = 0; i < n && text == NULL; i++)
        text = scan_variant (self, &variants[i], gray, width, height);
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
  g_return_val_if_fail (LK_IS_QR_DECODER (self), NULL);
  g_return_val_if_fail (gray != NULL, NULL);

  if (!check_layout (width, height, stride, 1, error))
    return NULL;

  return decode_packed (self, pack (self, gray, width, height, stride), width, height, flags, error);
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
  if (width <= 0 || height <= 0 || !lk_qr_check_size (width, height, NULL))
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

/* Only the two formats a photo or a screenshot of a code comes in are
 * decoded, chosen by their signature, not by a name or a guess: every other
 * gdk-pixbuf loader stays away from hostile bytes. */
static const char *
sniff_format (const guint8 *data,
              gsize         len)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff };

  if (len >= sizeof png && memcmp (data, png, sizeof png) == 0)
    return "png";
  if (len >= sizeof jpeg && memcmp (data, jpeg, sizeof jpeg) == 0)
    return "jpeg";
  return NULL;
}

static char *
read_error (GError  *local_error,
            GError **error)
{
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, local_error);
  else
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("The image could not be read: %s"),
                   local_error->message);
      g_error_free (local_error);
    }
  return NULL;
}

/**
 * lk_qr_decoder_decode_image:
 * @stream: a PNG or JPEG file's bytes
 * @max_bytes: the largest file read; more fails without reading on
 *
 * Reads the image as it arrives and measures it from its header: one with
 * more than %LK_QR_MAX_PIXELS pixels, or a side over %LK_QR_MAX_DIMENSION,
 * is refused before its pixels are decoded, whatever its size on disk.
 * Other formats than PNG and JPEG are refused by their first bytes.
 * Blocks: call it off the main thread.
 *
 * Returns: (transfer full): the text of the first QR code found, or %NULL
 *   with an #LK_QR_ERROR (%LK_QR_ERROR_TOO_LARGE for too many bytes or
 *   pixels) or %G_IO_ERROR_CANCELLED
 */
char *
lk_qr_decoder_decode_image (LkQrDecoder      *self,
                            GInputStream     *stream,
                            gsize             max_bytes,
                            LkQrDecodeFlags   flags,
                            GCancellable     *cancellable,
                            GError          **error)
{
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guint8 *buffer = g_malloc (IMAGE_CHUNK);
  g_autofree guint8 *gray = NULL;
  Measure measure = { 0 };
  GdkPixbuf *pixbuf;
  const char *format;
  gsize have = 0, total;
  gboolean ok;

  g_return_val_if_fail (LK_IS_QR_DECODER (self), NULL);
  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);

  /* The signature first: a stream may give it a few bytes at a time. */
  while (have < SIGNATURE_BYTES)
    {
      gssize n = g_input_stream_read (stream, buffer + have, IMAGE_CHUNK - have, cancellable, &local_error);

      if (n < 0)
        return read_error (g_steal_pointer (&local_error), error);
      if (n == 0)
        break;
      have += n;
    }
  format = sniff_format (buffer, have);
  if (format == NULL)
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("This is not a PNG or JPEG image"));
      return NULL;
    }

  loader = gdk_pixbuf_loader_new_with_type (format, &local_error);
  if (loader == NULL)
    return read_error (g_steal_pointer (&local_error), error);
  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &measure);

  total = have;
  ok = total <= max_bytes && gdk_pixbuf_loader_write (loader, buffer, have, &local_error);
  while (ok && !measure.too_large && total <= max_bytes)
    {
      gssize n = g_input_stream_read (stream, buffer, IMAGE_CHUNK, cancellable, &local_error);

      if (n < 0)
        {
          gdk_pixbuf_loader_close (loader, NULL);
          return read_error (g_steal_pointer (&local_error), error);
        }
      if (n == 0)
        break;
      total += n;
      if (total <= max_bytes)
        ok = gdk_pixbuf_loader_write (loader, buffer, n, &local_error);
    }

  if (total > max_bytes)
    {
      gdk_pixbuf_loader_close (loader, NULL);
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_TOO_LARGE,
                   _("The file is larger than %u MB: too large to be a picture of a QR code"),
                   (guint) (max_bytes / (1024 * 1024)));
      return NULL;
    }

  if (ok)
    ok = gdk_pixbuf_loader_close (loader, &local_error);
  else
    gdk_pixbuf_loader_close (loader, NULL);

  if (measure.too_large)
    {
      if (measure.width <= 0 || measure.height <= 0)
        g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("The image is empty"));
      else
        lk_qr_check_size (measure.width, measure.height, error);
      return NULL;
    }

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (!ok || pixbuf == NULL || gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 ||
      gdk_pixbuf_get_n_channels (pixbuf) < 3 ||
      !lk_qr_check_size (gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf), NULL))
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("The image could not be read: %s"),
                   local_error != NULL ? local_error->message : _("it is incomplete"));
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

/**
 * lk_qr_decoder_decode_frame:
 * @gray: one frame of a camera's stream, 8-bit luma, @height rows of
 *   @stride bytes
 *
 * The camera path: each call tries the next step of a round of variants
 * (one or two, about one zbar pass over the frame), so that a frame costs
 * about the same whatever the code needs, and a code that needs the last
 * variant is read within one round of frames.
 *
 * Returns: (transfer full): the text of the first QR code found, or %NULL
 *   with an #LK_QR_ERROR
 */
char *
lk_qr_decoder_decode_frame (LkQrDecoder   *self,
                            const guint8  *gray,
                            guint          width,
                            guint          height,
                            gsize          stride,
                            GError       **error)
{
  const LkQrCameraStep *steps;
  const LkQrCameraStep *step;
  const guint8 *packed;
  char *text = NULL;
  guint n;

  g_return_val_if_fail (LK_IS_QR_DECODER (self), NULL);
  g_return_val_if_fail (gray != NULL, NULL);

  if (!check_layout (width, height, stride, 1, error))
    return NULL;

  packed = pack (self, gray, width, height, stride);
  steps = lk_qr_variants_for_camera (&n);
  step = &steps[self->camera_step];
  for (guint i = 0; i < step->n_variants && text == NULL; i++)
    {
      const LkQrVariant *variant = &step->variants[i];
      const guint8 *pixels;
      guint w, h;

      pixels = lk_qr_variant_apply (variant, packed, width, height, &self->scratch, &w, &h);
      text = scan (self, pixels, w, h);

      /* A whole frame thresholded: where the finder patterns would show. */
      if (text == NULL && variant->tile == 0 && w == width && h == height &&
          variant->steps[0] != LK_QR_STEP_END && variant->steps[1] != LK_QR_STEP_DOUBLE &&
          (variant->steps[0] == LK_QR_STEP_THRESHOLD || variant->steps[1] == LK_QR_STEP_THRESHOLD))
        {
          double module;
          guint found = lk_qr_find_finders (pixels, w, h, &module);

          if (found > self->round_finders)
            {
              self->round_finders = found;
              self->round_module = module;
            }
        }
    }

  if (text != NULL)
    {
      self->hint = LK_QR_HINT_NONE;
      self->round_finders = 0;
    }
  else if (++self->camera_step == n)
    {
      /* A round without a read: two finder patterns or more are a code. */
      self->hint = self->round_finders < 2 ? LK_QR_HINT_NONE
                 : self->round_module < MIN_MODULE_PX ? LK_QR_HINT_MOVE_CLOSER
                 : LK_QR_HINT_HOLD_STILL;
      self->round_finders = 0;
    }
  self->camera_step %= n;

  if (text == NULL)
    g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_NOT_FOUND, _("No QR code was found"));
  return text;
}

/**
 * lk_qr_decoder_get_hint:
 *
 * What would help, after the last round of camera frames
 * (lk_qr_decoder_decode_frame()) saw a code and could not read it.
 */
LkQrHint
lk_qr_decoder_get_hint (LkQrDecoder *self)
{
  g_return_val_if_fail (LK_IS_QR_DECODER (self), LK_QR_HINT_NONE);
  return self->hint;
}

/**
 * lk_qr_decoder_decode_variant:
 *
 * One variant of @gray, for the benchmark and the tests.
 *
 * Returns: (transfer full) (nullable): the text read, if any
 */
char *
lk_qr_decoder_decode_variant (LkQrDecoder       *self,
                              const LkQrVariant *variant,
                              const guint8      *gray,
                              guint              width,
                              guint              height)
{
  g_return_val_if_fail (LK_IS_QR_DECODER (self), NULL);

  if (!lk_qr_check_size (width, height, NULL))
    return NULL;
  return scan_variant (self, variant, gray, width, height);
}
