/* httpd-errors.h: libmicrohttpd's own error answers, in our JSON form
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean httpd_errors_check (GError **error);

G_END_DECLS
