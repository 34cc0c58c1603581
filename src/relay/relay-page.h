/* relay-page.h: the display page a mailbox link shows in a browser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "relay-mailbox.h"

G_BEGIN_DECLS

const char *relay_page_get_csp    (void);
char *relay_page_render           (const RelayMailbox *mailbox,
                                   const char         *mailbox_url);
char *relay_page_render_not_found (void);

G_END_DECLS
