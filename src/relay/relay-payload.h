/* relay-payload.h: a payload as the SQLite store keeps it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Why it exists: the protocol carries a payload as base64 text, about
 * 4,000 characters for a 4 KiB mailbox; its 3,000 bytes fit a mailbox's
 * row in one page of the database, where the text spills into an overflow
 * page, which every create then writes into the WAL and again into the
 * database. The bytes are kept only when encoding them gives back exactly
 * the text the client sent (canonical base64, RFC 4648 section 3.5), so
 * that a recipient reads the sender's characters; anything else the
 * relay accepts is kept as the text it is.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean relay_payload_is_base64 (const char   *text);
guint8 *relay_payload_to_bytes (const char   *text,
                                gsize        *n_bytes);
char   *relay_payload_to_text  (const guint8 *bytes,
                                gsize         n_bytes);

G_END_DECLS
