/* relay-mailbox.h: one mailbox as the relay stores it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "httpd-address.h"

G_BEGIN_DECLS

/* The draft's accessRights letters, for the recipient; the initiator always
 * has all three on its own mailbox. */
typedef enum
{
  RELAY_ACCESS_READ   = 1 << 0,
  RELAY_ACCESS_WRITE  = 1 << 1,
  RELAY_ACCESS_DELETE = 1 << 2,
} RelayAccess;

#define RELAY_ACCESS_DEFAULT (RELAY_ACCESS_READ | RELAY_ACCESS_DELETE)

#define RELAY_TYPE_MAILBOX (relay_mailbox_get_type ())

typedef struct
{
  char        *id;
  gint64       version;            /* raised by every change a reader can see */
  char        *initiator_claim;
  char        *recipient_claim;    /* NULL until the first recipient read */
  RelayAccess  access;
  gint64       created;            /* Unix seconds */
  gint64       expires;            /* Unix seconds */
  gboolean     deleted;            /* a tombstone, kept for idempotent retries */
  char        *payload_type;
  char        *payload_data;
  char        *title;
  char        *description;
  char        *image_url;
  char        *initiator_token;    /* notificationToken JSON, opaque to us */
  char        *recipient_token;
  char        *initiator_request_id;
  char        *recipient_request_id;
  char        *relinquished_claim; /* who relinquished last, for retries */
  gint64       size;               /* bytes it stores, for the limits (relay_mailbox_get_size()) */
  /* Ours (PROTOCOL.md §6.9): up to max_recipients devices bind a claim each.
   * recipient_claim is the first; the others are kept in order in
   * more_recipients. A recipient whose delete acknowledged the offer is
   * in done_recipients too: still bound (its place is not given away),
   * but the mailbox is gone for it. */
  guint        max_recipients;     /* 1..10; 1 is the draft's one recipient */
  GStrv        more_recipients;    /* nullable */
  GStrv        done_recipients;    /* nullable */
  gboolean     has_creator;
  HttpdKey     creator;            /* the creating client's keyed hash, while it is live */
} RelayMailbox;

GType         relay_mailbox_get_type      (void) G_GNUC_CONST;
RelayMailbox *relay_mailbox_new           (void);
RelayMailbox *relay_mailbox_ref           (RelayMailbox *self);
void          relay_mailbox_unref         (RelayMailbox *self);
gboolean      relay_mailbox_is_live       (const RelayMailbox *self,
                                           gint64              now);
gint64        relay_mailbox_get_size      (const RelayMailbox *self);
typedef enum
{
  RELAY_RECIPIENT_NONE,     /* not a recipient of this mailbox */
  RELAY_RECIPIENT_ACTIVE,   /* bound, and has not acknowledged */
  RELAY_RECIPIENT_DONE,     /* bound, and deleted the mailbox for itself */
} RelayRecipient;

RelayRecipient relay_mailbox_find_recipient (const RelayMailbox *self,
                                             const char         *claim);
guint         relay_mailbox_count_bound   (const RelayMailbox *self);
guint         relay_mailbox_count_done    (const RelayMailbox *self);
gboolean      relay_mailbox_is_full       (const RelayMailbox *self);
char         *relay_access_to_string      (RelayAccess         access);
gboolean      relay_access_from_string    (const char         *text,
                                           RelayAccess        *access);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelayMailbox, relay_mailbox_unref)

G_END_DECLS
