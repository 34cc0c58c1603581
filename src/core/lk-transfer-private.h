/* lk-transfer-private.h: the transfer's state, for the engine that drives it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "lk-channel.h"
#include "lk-transfer.h"

G_BEGIN_DECLS

#define LK_ACTIVATION_CODE_ATTEMPTS 3

struct _LkTransfer
{
  GObject          parent_instance;

  char            *id;
  LkRole           role;
  LkVertical       vertical;
  LkTransferState  state;
  char            *state_detail;
  GDateTime       *created;
  GDateTime       *expires;

  /* The mailbox */
  char            *mailbox_url;
  char            *claim;
  GBytes          *secret;            /* the link's key: keyring only */
  LkChannel       *channel;
  gint64           version;           /* the last mailbox version we read */
  char            *last_sent;         /* payload.data of our last message */
  gboolean         bound;             /* a recipient has claimed it */

  /* What is shared */
  char            *title;
  char            *description;
  char            *credential_id;     /* sender: shared; receiver: received */
  GStrv            entitlements;
  GDateTime       *valid_from;
  GDateTime       *valid_until;
  char            *shared_by;
  char            *receiver_name;     /* receiver: sent; sender: as received (car) */

  /* Sender */
  char            *code;              /* the activation code: secret */
  guint            attempts_left;
  char            *token;             /* home: the provisioning token; generic: the
                                       * share's access token: secret */
  char            *share_id;          /* generic: the share's credential at the partner */
  char            *friend_key;        /* car: the friend's public key, base64 */
  gboolean         auto_confirm;
  gboolean         key_signed;        /* car: the owner signed the friend's key */
  gboolean         revoked;
  /* Several receivers of one invitation (issue 13; home and generic only):
   * how many may receive it (1 unless the relay agreed to more), how many
   * have (the relay's recipientsDone), and which of them (bit K-1 for the
   * Kth redemption) the sender revoked alone. */
  guint            receivers;
  guint            received;
  guint            revoked_receivers;
  gboolean         one_way;           /* the mailbox is RD: receivers acknowledge
                                       * by deleting it (for themselves) */

  /* Receiver */
  JsonObject      *offer;             /* the first message's content */
  char            *private_key;       /* car: our new key until import: secret */

  /* A message sealed but not yet acknowledged by the relay; resent with
   * the same Mailbox-Request-ID after a restart. */
  JsonObject      *outbox;
  char            *outbox_request_id;
  gint64           outbox_if_match;
};

LkTransfer *_lk_transfer_new (LkRole      role,
                              LkVertical  vertical);
void        _lk_transfer_set_state (LkTransfer      *self,
                                    LkTransferState  state,
                                    const char      *detail);

G_END_DECLS
