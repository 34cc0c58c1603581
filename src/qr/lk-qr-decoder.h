/* lk-qr-decoder.h: QR codes in camera frames and images, read with zbar
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Bounds, so that a hostile image cannot make us allocate without limit.
 * An image file's size in pixels is checked against them with
 * lk_qr_check_size() from its header, before its pixels are decoded: a
 * small file can claim a huge image (a decompression bomb). 40 megapixels is an 8K screenshot (33) or a phone's photo (12 to
 * 24) with room to spare; its grey copy and two working copies take 120 MB. */
#define LK_QR_MAX_DIMENSION 8192
#define LK_QR_MAX_PIXELS    (40u * 1000u * 1000u)
#define LK_QR_MAX_TEXT      4096

#define LK_QR_ERROR (lk_qr_error_quark ())

/**
 * LkQrError:
 * @LK_QR_ERROR_NOT_FOUND: no QR code could be read in the image
 * @LK_QR_ERROR_INVALID: the image is empty, or its layout is impossible
 * @LK_QR_ERROR_TOO_LARGE: the image has more pixels than LK_QR_MAX_DIMENSION
 *   a side or LK_QR_MAX_PIXELS in all
 */
typedef enum
{
  LK_QR_ERROR_NOT_FOUND,
  LK_QR_ERROR_INVALID,
  LK_QR_ERROR_TOO_LARGE,
} LkQrError;

/**
 * LkQrDecodeFlags:
 * @LK_QR_DECODE_NONE: the image as it is
 * @LK_QR_DECODE_ALL_VARIANTS: if nothing is found, each variant in turn
 *   (half size, thresholded, inverted, enlarged, …: lk-qr-variants.c) until
 *   one is read; for images. The camera spreads them over frames instead:
 *   lk_qr_decoder_decode_frame().
 */
typedef enum
{
  LK_QR_DECODE_NONE         = 0,
  LK_QR_DECODE_ALL_VARIANTS = 1 << 0,
} LkQrDecodeFlags;

/**
 * LkQrHint:
 * @LK_QR_HINT_NONE: nothing to say: no code seen, or one was just read
 * @LK_QR_HINT_MOVE_CLOSER: a code is seen, too small to be read
 * @LK_QR_HINT_HOLD_STILL: a code is seen, large enough, but a whole round
 *   of frames could not read it (blur, a shaking hand, glare)
 *
 * What would help the camera read a code it sees (its finder patterns)
 * but cannot read yet.
 */
typedef enum
{
  LK_QR_HINT_NONE,
  LK_QR_HINT_MOVE_CLOSER,
  LK_QR_HINT_HOLD_STILL,
} LkQrHint;

#define LK_TYPE_QR_DECODER (lk_qr_decoder_get_type ())

G_DECLARE_FINAL_TYPE (LkQrDecoder, lk_qr_decoder, LK, QR_DECODER, GObject)

GQuark       lk_qr_error_quark              (void);
gboolean     lk_qr_check_size               (guint             width,
                                             guint             height,
                                             GError          **error);
LkQrDecoder *lk_qr_decoder_new              (void);
char        *lk_qr_decoder_decode_gray      (LkQrDecoder      *self,
                                             const guint8     *gray,
                                             guint             width,
                                             guint             height,
                                             gsize             stride,
                                             LkQrDecodeFlags   flags,
                                             GError          **error);
char        *lk_qr_decoder_decode_image     (LkQrDecoder      *self,
                                             GInputStream     *stream,
                                             gsize             max_bytes,
                                             LkQrDecodeFlags   flags,
                                             GCancellable     *cancellable,
                                             GError          **error);
char        *lk_qr_decoder_decode_rgba      (LkQrDecoder      *self,
                                             const guint8     *rgba,
                                             guint             width,
                                             guint             height,
                                             gsize             stride,
                                             LkQrDecodeFlags   flags,
                                             GError          **error);
char        *lk_qr_decoder_decode_frame     (LkQrDecoder      *self,
                                             const guint8     *gray,
                                             guint             width,
                                             guint             height,
                                             gsize             stride,
                                             GError          **error);
LkQrHint     lk_qr_decoder_get_hint         (LkQrDecoder      *self);

G_END_DECLS
