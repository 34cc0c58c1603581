/* lk-share-link.h: TIGRESS share links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "lk-types.h"

G_BEGIN_DECLS

/* Longer than any link we make (a 253-byte host, a port, a UUID, a secret)
 * with room to spare; anything longer is refused before it is parsed. */
#define LK_SHARE_LINK_MAX_LENGTH 2048
/* The desktop registers this scheme; the link follows it unchanged:
 * latchkey:https://relay.example/v1/m/{id}?v=c#{secret} */
#define LK_SHARE_LINK_SCHEME     "latchkey"

#define LK_TYPE_SHARE_LINK (lk_share_link_get_type ())

G_DECLARE_FINAL_TYPE (LkShareLink, lk_share_link, LK, SHARE_LINK, GObject)

LkShareLink *lk_share_link_new               (const char   *relay_url,
                                              const char   *mailbox_id,
                                              LkVertical    vertical,
                                              GBytes       *secret,
                                              GError      **error);
LkShareLink *lk_share_link_new_for_mailbox   (const char   *mailbox_url,
                                              LkVertical    vertical,
                                              GBytes       *secret,
                                              GError      **error);
LkShareLink *lk_share_link_parse             (const char   *text,
                                              GError      **error);
LkShareLink *lk_share_link_parse_with_secret (const char   *text,
                                              const char   *secret,
                                              GError      **error);
gboolean     lk_share_link_looks_like_link   (const char   *text);
gboolean     lk_share_link_check_server_url  (const char   *url,
                                              GError      **error);
gboolean     lk_share_link_check_request_url (const char   *url,
                                              GError      **error);
gboolean     lk_share_link_is_on_server      (LkShareLink  *self,
                                              const char   *server_url);
const char  *lk_share_link_get_scheme        (LkShareLink  *self);
const char  *lk_share_link_get_host          (LkShareLink  *self);
int          lk_share_link_get_port          (LkShareLink  *self);
const char  *lk_share_link_get_mailbox_id    (LkShareLink  *self);
LkVertical   lk_share_link_get_vertical      (LkShareLink  *self);
GBytes      *lk_share_link_get_secret        (LkShareLink  *self);
char        *lk_share_link_get_relay_url     (LkShareLink  *self);
char        *lk_share_link_get_mailbox_url   (LkShareLink  *self);
char        *lk_share_link_to_string         (LkShareLink  *self);
char        *lk_share_link_to_uri            (LkShareLink  *self);

G_END_DECLS
