/* latchkey-page-clock.h: a page's periodic refresh, run only while the
 * page is on screen
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Words such as "expires in 5 minutes" go stale while a page is open, but
 * a page that is hidden (another on top of it, or gone from the window
 * while still referenced) has nothing to refresh. Once attached, @tick is
 * called with @widget at every map, at once, and then every @seconds
 * until the next unmap. Main thread only; at most one clock per widget. */
void     latchkey_page_clock_attach     (GtkWidget   *widget,
                                         guint        seconds,
                                         GSourceFunc  tick);
/* Whether the clock of @widget runs now; for tests. */
gboolean latchkey_page_clock_is_running (GtkWidget   *widget);

G_END_DECLS
