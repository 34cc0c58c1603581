/* latchkey-toaster.h: a window's toasts, never dismissed while they still
 * slide in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define LATCHKEY_TYPE_TOASTER (latchkey_toaster_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyToaster, latchkey_toaster, LATCHKEY, TOASTER, GObject)

/* Before 1.3, libadwaita frees a toast's state when its hide animation ends
 * even if its show animation has not ended yet, which then crashes in that
 * animation's "done" handler (fixed upstream by 1674ebc9, "toast-overlay:
 * Prevent show_done from firing after hide_done"; Debian 12 has 1.2.2). A
 * toast dismissed too early (by its close button, or by
 * latchkey_toaster_dismiss_all()) is therefore dismissed again once its
 * show animation is surely over. The toasts go one after another, oldest
 * first, as AdwToastOverlay shows toasts of normal priority. Main thread
 * only. */
LatchkeyToaster *latchkey_toaster_new          (AdwToastOverlay *overlay);
void             latchkey_toaster_show         (LatchkeyToaster *self,
                                                const char      *text);
/* Dismisses the toasts shown and queued: at once, or for the one shown, as
 * soon as it may be. */
void             latchkey_toaster_dismiss_all  (LatchkeyToaster *self);

G_END_DECLS
