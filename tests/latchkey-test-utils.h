/* latchkey-test-utils.h: helpers for widget tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void       latchkey_test_show_window       (GtkWindow  *window);
GtkWidget *latchkey_test_find_widget       (GtkWidget  *root,
                                            GType       type);
char      *latchkey_test_save_screenshot   (GtkWidget  *widget,
                                            const char *name);

G_END_DECLS
