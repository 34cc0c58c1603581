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

LatchkeyWindow *latchkey_window_new (LatchkeyApplication *application);

G_END_DECLS
