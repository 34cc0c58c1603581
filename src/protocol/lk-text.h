/* lk-text.h: text from the other side, made fit to show
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A person's name as shown to the other side: at most this many characters. */
#define LK_TEXT_MAX_NAME 64

char *lk_text_clean_name (const char *name);

G_END_DECLS
