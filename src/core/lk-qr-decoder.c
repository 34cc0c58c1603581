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

#include <glib/gi18n-lib.h>
#include <zbar.h>

#include "lk-qr-decoder.h"
#include "lk-qr-variants.h"

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
