/* latchkey-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define LATCHKEY_TYPE_APPLICATION (latchkey_application_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyApplication, latchkey_application, LATCHKEY, APPLICATION, AdwApplication)

LatchkeyApplication *latchkey_application_new (void);

G_END_DECLS
