/* lk-qr-decoder.h: QR codes in camera frames and images, read with zbar
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Bounds, so that a hostile image cannot make us allocate without limit.
 * An image is measured by its header, before its pixels are decoded: an
 * 8K screenshot (33 million pixels) fits; a small file that claims more
 * pixels (a decompression bomb) is refused before they are allocated. */
#define LK_QR_MAX_DIMENSION 8192
#define LK_QR_MAX_PIXELS    (40 * 1000 * 1000)
#define LK_QR_MAX_TEXT      4096

#define LK_QR_ERROR (lk_qr_error_quark ())

/**
 * LkQrError:
 * @LK_QR_ERROR_NOT_FOUND: no QR code could be read in the image
 * @LK_QR_ERROR_INVALID: the image is empty, too large, or its layout is impossible
 */
typedef enum
{
  LK_QR_ERROR_NOT_FOUND,
  LK_QR_ERROR_INVALID,
} LkQrError;

/**
 * LkQrDecodeFlags:
 * @LK_QR_DECODE_NONE: the image as it is
 * @LK_QR_DECODE_TRY_INVERTED: if nothing is found, try again with light and
 *   dark swapped (codes shown light on dark)
 */
typedef enum
{
  LK_QR_DECODE_NONE         = 0,
  LK_QR_DECODE_TRY_INVERTED = 1 << 0,
} LkQrDecodeFlags;

#define LK_TYPE_QR_DECODER (lk_qr_decoder_get_type ())

G_DECLARE_FINAL_TYPE (LkQrDecoder, lk_qr_decoder, LK, QR_DECODER, GObject)

GQuark       lk_qr_error_quark              (void);
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

G_END_DECLS
