/* lk-qr-variants.h: what zbar is given besides the frame itself
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Private to the QR decoder, its tests and its benchmark.
 */

#pragma once

#include <glib.h>

#include "lk-qr-decoder.h"

G_BEGIN_DECLS

/* One image operation on 8-bit luma, rows back to back. */
typedef enum
{
  LK_QR_STEP_END,
  LK_QR_STEP_INVERT,       /* light and dark swapped */
  LK_QR_STEP_STRETCH,      /* levels: the 1st and 99th percentiles to 0 and 255 */
  LK_QR_STEP_EQUALISE,     /* histogram equalisation */
  LK_QR_STEP_MEDIAN,       /* 3 × 3 median: noise, JPEG ringing */
  LK_QR_STEP_SMOOTH,       /* 3 × 3 binomial blur: moiré, noise */
  LK_QR_STEP_HALF,         /* half size, each pixel the mean of 2 × 2 */
  LK_QR_STEP_DOUBLE,       /* twice the size, bilinear: small codes */
  LK_QR_STEP_SHARPEN,      /* unsharp mask, 5 × 5 box, amount 1 */
  LK_QR_STEP_THRESHOLD,    /* black or white against the local mean */
  LK_QR_N_STEPS
} LkQrStep;

#define LK_QR_MAX_STEPS 4

/* Tiles: a 3 × 3 grid of overlapping parts of the frame, each a little
 * less than half its width and height, overlapping by more than a small
 * code's side at 720p, so that a code too small for zbar in the whole
 * frame is whole in some tile, and a tile made twice as large costs about
 * what the frame does. */
#define LK_QR_N_TILES 9

/* A variant: up to LK_QR_MAX_STEPS operations, in order, on the whole
 * image (tile 0) or on tile 1 to LK_QR_N_TILES. */
typedef struct
{
  LkQrStep steps[LK_QR_MAX_STEPS + 1];
  guint8   tile;
} LkQrVariant;

/* What the camera path does with one frame: one or two variants. */
typedef struct
{
  LkQrVariant variants[2];
  guint       n_variants;
} LkQrCameraStep;

/* Working memory for the steps: two buffers that grow as needed and are
 * kept between frames, so that the camera path does not allocate. */
typedef struct
{
  guint8 *buffers[2];
  gsize   sizes[2];
  guint32 *sums;
  gsize    n_sums;
} LkQrScratch;

void         lk_qr_scratch_clear    (LkQrScratch       *scratch);
const guint8 *lk_qr_variant_apply   (const LkQrVariant *variant,
                                     const guint8      *gray,
                                     guint              width,
                                     guint              height,
                                     LkQrScratch       *scratch,
                                     guint             *out_width,
                                     guint             *out_height);
char         *lk_qr_variant_to_string (const LkQrVariant *variant);

const LkQrVariant    *lk_qr_variants_for_images (guint *n_variants);
const LkQrCameraStep *lk_qr_variants_for_camera (guint *n_steps);

guint lk_qr_find_finders (const guint8 *binary,
                          guint         width,
                          guint         height,
                          double       *module_px);

char *lk_qr_decoder_decode_variant (LkQrDecoder       *self,
                                    const LkQrVariant *variant,
                                    const guint8      *gray,
                                    guint              width,
                                    guint              height);

G_END_DECLS
