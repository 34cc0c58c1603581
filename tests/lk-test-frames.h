/* lk-test-frames.h: webcam-like frames of share-link QR codes, from seeds
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LK_TEST_FRAME_WIDTH  1280
#define LK_TEST_FRAME_HEIGHT 720

/* What was drawn, for reports: the link, and each distortion's strength. */
typedef struct
{
  guint32   seed;
  char     *link;
  int       version;         /* QR version, byte mode, level M */
  double    module_px;       /* pixels a module at the code's centre */
  double    roll;            /* degrees, in the image plane */
  double    tilt_x;          /* degrees, the phone turned away from the camera */
  double    tilt_y;
  double    blur;            /* Gaussian sigma, pixels */
  double    motion;          /* motion blur length, pixels (0: none) */
  double    contrast;        /* dark / light on the screen, before glare */
  double    moire;           /* depth of the screen's pixel grid (0: none) */
  double    glare;           /* peak of a reflection on the screen (0: none) */
  double    noise;           /* sensor noise sigma, each channel */
  int       jpeg_quality;
  gboolean  inverted;        /* light modules on a dark screen */

  guint8   *rgb;             /* WIDTH × HEIGHT × 3, as the camera sends it */
  guint8   *gray;            /* WIDTH × HEIGHT, BT.601 luma of rgb */
} LkTestFrame;

LkTestFrame *lk_test_frame_new      (guint32       seed);
void         lk_test_frame_free     (LkTestFrame  *frame);
char        *lk_test_frame_describe (LkTestFrame  *frame);
gboolean     lk_test_frame_save_png (LkTestFrame  *frame,
                                     const char   *path,
                                     GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestFrame, lk_test_frame_free)

G_END_DECLS
