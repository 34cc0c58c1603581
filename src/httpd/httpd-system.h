/* httpd-system.h: the process limits a server must fit in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Descriptors a server needs besides one per connection: the listening
 * socket, epoll and its wake-up, the database and its journal, the log. */
#define HTTPD_RESERVED_FDS 64

guint64  httpd_system_raise_fd_limit   (guint64 *hard);
gint64   httpd_system_memory_limit     (void);
void     httpd_system_trim_memory      (void);
char    *httpd_format_size             (guint64  bytes);

G_END_DECLS
