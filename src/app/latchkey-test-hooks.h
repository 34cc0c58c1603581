/* latchkey-test-hooks.h: what the AT-SPI tests need of the app where no X
 * server can give it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void        latchkey_test_hooks_install (GtkApplication *app);
GdkTexture *latchkey_test_hooks_render  (GtkWidget      *widget);

G_END_DECLS
