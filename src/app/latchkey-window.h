/* latchkey-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "latchkey-application.h"

G_BEGIN_DECLS

#define LATCHKEY_TYPE_WINDOW (latchkey_window_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyWindow, latchkey_window, LATCHKEY, WINDOW, AdwApplicationWindow)

LatchkeyWindow *latchkey_window_new           (LatchkeyApplication *application);
LatchkeyWindow *latchkey_window_for_widget    (GtkWidget           *widget);
LkTransferEngine *latchkey_window_get_engine  (LatchkeyWindow      *self);
void            latchkey_window_reload        (LatchkeyWindow      *self);
void            latchkey_window_push          (LatchkeyWindow      *self,
                                               GtkWidget           *page);
void            latchkey_window_pop           (LatchkeyWindow      *self);
GtkWidget      *latchkey_window_get_page      (LatchkeyWindow      *self);
void            latchkey_window_toast         (LatchkeyWindow      *self,
                                               const char          *text);
void            latchkey_window_dismiss_toasts (LatchkeyWindow     *self);
void            latchkey_window_show_credential (LatchkeyWindow    *self,
                                               LkCredential        *credential);
void            latchkey_window_share         (LatchkeyWindow      *self,
                                               LkCredential        *credential);
void            latchkey_window_show_tracker  (LatchkeyWindow      *self,
                                               LatchkeyTracker     *tracker);
void            latchkey_window_receive       (LatchkeyWindow      *self,
                                               const char          *link);
void            latchkey_window_receive_replacing (LatchkeyWindow  *self,
                                               const char          *link,
                                               GtkWidget           *replaced);
void            latchkey_window_scan          (LatchkeyWindow      *self);

G_END_DECLS
