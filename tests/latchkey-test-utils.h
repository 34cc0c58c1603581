/* latchkey-test-utils.h: helpers for widget tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* How long an event may take before the test fails with what it awaited,
 * rather than at the harness's timeout. */
#define LATCHKEY_TEST_DEADLINE_SECONDS 60

typedef gboolean (*LatchkeyTestCondition) (gpointer data);

void       latchkey_test_wait_until        (LatchkeyTestCondition  condition,
                                            gpointer               data,
                                            const char            *what);
void       latchkey_test_wait_for_frame    (GtkWidget  *window);
void       latchkey_test_show_window       (GtkWindow  *window);
GtkWidget *latchkey_test_find_widget       (GtkWidget  *root,
                                            GType       type);
GtkWidget *latchkey_test_find_named        (GtkWidget  *root,
                                            const char *name);
gboolean   latchkey_test_leaflet_at_rest   (GtkWidget  *root);
char      *latchkey_test_save_screenshot   (GtkWidget  *widget,
                                            const char *name);
char      *latchkey_test_save_settled_screenshot (GtkWidget  *window,
                                                  const char *name);

G_END_DECLS
