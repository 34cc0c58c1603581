/* lk-mailbox-client.h: the relay API, from the client side
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "lk-http.h"

G_BEGIN_DECLS

#define LK_MAILBOX_ERROR (lk_mailbox_error_quark ())

/**
 * LkMailboxError:
 * @LK_MAILBOX_ERROR_NOT_FOUND: the mailbox does not exist: expired, cancelled or never made
 * @LK_MAILBOX_ERROR_CLAIMED: another device claimed it, or this device has no access
 * @LK_MAILBOX_ERROR_CONFLICT: it changed since we read it (If-Match failed)
 * @LK_MAILBOX_ERROR_REJECTED: the relay refused the request as malformed or too large
 * @LK_MAILBOX_ERROR_UNAVAILABLE: the relay could not be reached or is overloaded, after retries
 * @LK_MAILBOX_ERROR_PROTOCOL: the relay answered something that is not the draft's API
 */
typedef enum
{
  LK_MAILBOX_ERROR_NOT_FOUND,
  LK_MAILBOX_ERROR_CLAIMED,
  LK_MAILBOX_ERROR_CONFLICT,
  LK_MAILBOX_ERROR_REJECTED,
  LK_MAILBOX_ERROR_UNAVAILABLE,
  LK_MAILBOX_ERROR_PROTOCOL,
} LkMailboxError;

/* mailboxConfiguration.maxRecipients, our extension (PROTOCOL.md §6.9). */
#define LK_MAILBOX_MAX_RECIPIENTS 10

typedef struct
{
  gint64      version;          /* the ETag, or -1 */
  gboolean    not_modified;     /* a waiting read ended with no change */
  char       *url_link;         /* create */
  JsonObject *payload;          /* read */
  char       *title;            /* read and preview */
  char       *description;
  GDateTime  *expiration;       /* read */
  gboolean    recipient_bound;  /* read (our extension) */
  /* Our extension for several recipients (PROTOCOL.md §6.9): create and
   * read; 0 when the relay did not answer it (one recipient). */
  guint       max_recipients;
  guint       recipients_bound; /* read */
  guint       recipients_done;  /* read */
} LkMailboxReply;

void lk_mailbox_reply_free (LkMailboxReply *reply);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkMailboxReply, lk_mailbox_reply_free)

#define LK_TYPE_MAILBOX_CLIENT (lk_mailbox_client_get_type ())

G_DECLARE_FINAL_TYPE (LkMailboxClient, lk_mailbox_client, LK, MAILBOX_CLIENT, GObject)

GQuark           lk_mailbox_error_quark             (void);
LkMailboxClient *lk_mailbox_client_new              (LkHttp               *http);
void             lk_mailbox_client_create_async     (LkMailboxClient      *self,
                                                     const char           *relay_url,
                                                     const char           *claim,
                                                     JsonObject           *payload,
                                                     const char           *title,
                                                     const char           *description,
                                                     const char           *access_rights,
                                                     guint                 max_recipients,
                                                     GDateTime            *expiration,
                                                     const char           *request_id,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
void             lk_mailbox_client_read_async       (LkMailboxClient      *self,
                                                     const char           *mailbox_url,
                                                     const char           *claim,
                                                     gint64                known_version,
                                                     guint                 wait_seconds,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
void             lk_mailbox_client_update_async     (LkMailboxClient      *self,
                                                     const char           *mailbox_url,
                                                     const char           *claim,
                                                     JsonObject           *payload,
                                                     gint64                if_match,
                                                     const char           *request_id,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
void             lk_mailbox_client_delete_async     (LkMailboxClient      *self,
                                                     const char           *mailbox_url,
                                                     const char           *claim,
                                                     const char           *request_id,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
void             lk_mailbox_client_relinquish_async (LkMailboxClient      *self,
                                                     const char           *mailbox_url,
                                                     const char           *claim,
                                                     const char           *request_id,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
void             lk_mailbox_client_preview_async    (LkMailboxClient      *self,
                                                     const char           *mailbox_url,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
LkMailboxReply  *lk_mailbox_client_finish           (LkMailboxClient      *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

G_END_DECLS
