/* lk-transfer-worker.h: one engine operation's thread, clients and keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each operation of the transfer engine runs on a worker thread with a
 * main context of its own, in which it drives the asynchronous clients one
 * call after the other: the protocol reads top to bottom, and the caller's
 * main loop (the GTK one) never waits. A call goes
 *
 *   g_auto(LkWait) wait = { NULL };
 *   lk_partner_client_redeem_async (w->partner, …, w->cancellable, lk_worker_done, &wait);
 *   credential = lk_partner_client_redeem_finish (w->partner, lk_worker_wait (w, &wait), …);
 */

#pragma once

#include "lk-credential.h"
#include "lk-mailbox-client.h"
#include "lk-partner-client.h"
#include "lk-store.h"
#include "lk-transfer.h"

G_BEGIN_DECLS

typedef struct
{
  GMainContext    *context;
  LkHttp          *http;
  LkMailboxClient *mailbox;
  LkPartnerClient *partner;
  LkStore         *store;
  GCancellable    *cancellable;
  char            *relay_url;    /* where new shares go; NULL: none configured */
} LkWorker;

/* One call's result, once it has come. */
typedef struct
{
  GAsyncResult *result;
} LkWait;

void             lk_worker_init             (LkWorker      *w,
                                             const char    *relay_url,
                                             const char    *ca_file,
                                             guint          max_attempts,
                                             guint          base_delay_ms,
                                             GCancellable  *cancellable);
void             lk_worker_clear            (LkWorker      *w);
void             lk_worker_done             (GObject       *source,
                                             GAsyncResult  *result,
                                             gpointer       user_data);
GAsyncResult    *lk_worker_wait             (LkWorker      *w,
                                             LkWait        *wait);
void             lk_wait_clear              (LkWait        *wait);

LkMailboxReply  *lk_worker_mailbox_finish   (LkWorker      *w,
                                             LkWait        *wait,
                                             GError       **error);
gboolean         lk_worker_save_transfer    (LkWorker      *w,
                                             LkTransfer    *t,
                                             GError       **error);
gboolean         lk_worker_save_credential  (LkWorker      *w,
                                             LkCredential  *credential,
                                             GError       **error);
LkCredential    *lk_worker_load_credential  (LkWorker      *w,
                                             const char    *id,
                                             GError       **error);
GPtrArray       *lk_worker_load_all         (LkWorker      *w,
                                             LkStoreKind    kind,
                                             GError       **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LkWait, lk_wait_clear)

G_END_DECLS
