/* relay-cache.h: ready answers to reads of recently read mailboxes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <microhttpd.h>

#include "relay-mailbox.h"

G_BEGIN_DECLS

typedef struct _RelayCache RelayCache;

RelayCache *relay_cache_new        (guint                   max_entries,
                                    gsize                   max_bytes);
void        relay_cache_free       (RelayCache             *self);
guint64     relay_cache_get_epoch  (RelayCache             *self);
gboolean    relay_cache_serve      (RelayCache             *self,
                                    const char             *mailbox_id,
                                    const char             *claim,
                                    gint64                  now,
                                    gint64                  known_version,
                                    struct MHD_Connection  *connection,
                                    enum MHD_Result        *result,
                                    gboolean               *renew);
gboolean    relay_cache_store      (RelayCache             *self,
                                    guint64                 epoch,
                                    gint64                  valid_until,
                                    const RelayMailbox     *mailbox,
                                    struct MHD_Response    *response);
gboolean    relay_cache_read_again (RelayCache             *self,
                                    const char             *mailbox_id,
                                    gint64                  now);
void        relay_cache_invalidate (RelayCache             *self,
                                    const char             *mailbox_id);
void        relay_cache_clear      (RelayCache             *self);
guint       relay_cache_get_size   (RelayCache             *self);

G_END_DECLS
