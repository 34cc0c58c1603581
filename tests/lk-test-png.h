/* lk-test-png.h: PNG files written by hand, for image bounds tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

GBytes *lk_test_png_gray (guint   width,
                          guint   height,
                          guint8  value,
                          guint   rows);

G_END_DECLS
