/* latchkey-preferences-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define LATCHKEY_TYPE_PREFERENCES_WINDOW (latchkey_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyPreferencesWindow, latchkey_preferences_window, LATCHKEY, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

LatchkeyPreferencesWindow *latchkey_preferences_window_new (GSettings  *settings,
                                                            const char *default_relay,
                                                            const char *default_partner);

G_END_DECLS
