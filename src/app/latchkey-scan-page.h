/* latchkey-scan-page.h: receive a key by scanning its QR code
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "latchkey-camera.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_SCAN_PAGE (latchkey_scan_page_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyScanPage, latchkey_scan_page, LATCHKEY, SCAN_PAGE, AdwBin)

LatchkeyScanPage *latchkey_scan_page_new          (void);
LatchkeyCamera   *latchkey_scan_page_get_camera   (LatchkeyScanPage *self);
const char       *latchkey_scan_page_get_view     (LatchkeyScanPage *self);
const char       *latchkey_scan_page_get_hint     (LatchkeyScanPage *self);
void              latchkey_scan_page_scan_file    (LatchkeyScanPage *self,
                                                   GFile            *file);

G_END_DECLS
