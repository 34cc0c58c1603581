/* relay-limiter.h: per-client request rate and live-mailbox limits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _RelayLimiter RelayLimiter;

RelayLimiter *relay_limiter_new              (double         rate,
                                              double         burst,
                                              guint          max_mailboxes,
                                              guint          max_clients);
void          relay_limiter_free             (RelayLimiter  *self);
char         *relay_limiter_client_key       (RelayLimiter  *self,
                                              const char    *address);
gboolean      relay_limiter_allow            (RelayLimiter  *self,
                                              const char    *client,
                                              gint64         now_us,
                                              guint         *retry_after);
gboolean      relay_limiter_reserve_mailbox  (RelayLimiter  *self,
                                              const char    *client);
void          relay_limiter_commit_mailbox   (RelayLimiter  *self,
                                              const char    *client,
                                              const char    *mailbox_id,
                                              gint64         expires);
void          relay_limiter_cancel_mailbox   (RelayLimiter  *self,
                                              const char    *client);
void          relay_limiter_forget_mailbox   (RelayLimiter  *self,
                                              const char    *mailbox_id);
void          relay_limiter_sweep            (RelayLimiter  *self,
                                              gint64         now,
                                              gint64         now_us);
guint         relay_limiter_get_n_clients    (RelayLimiter  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelayLimiter, relay_limiter_free)

G_END_DECLS
