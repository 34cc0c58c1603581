/* lk-process.h: what the app and the CLI do to their own process first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean lk_process_harden (GError **error);

G_END_DECLS
