/* latchkey-qr-code.h: a QR code that stays readable at any size and style
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LATCHKEY_TYPE_QR_CODE (latchkey_qr_code_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyQrCode, latchkey_qr_code, LATCHKEY, QR_CODE, GtkWidget)

GtkWidget  *latchkey_qr_code_new      (void);
const char *latchkey_qr_code_get_text (LatchkeyQrCode *self);
void        latchkey_qr_code_set_text (LatchkeyQrCode *self,
                                       const char     *text);
guint       latchkey_qr_code_get_size (LatchkeyQrCode *self);

G_END_DECLS
