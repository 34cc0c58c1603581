/* lk-transfer-flow.h: what a flow is to the engine, and what the flows share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A flow is one kind of key shared end to end (PROTOCOL.md §7.1), both
 * roles in one file: lk-transfer-generic.c, lk-transfer-home.c and
 * lk-transfer-car.c. The engine (lk-transfer-engine.c) keeps the outline
 * every flow follows (create the mailbox, claim it, read, answer, end) and
 * asks the flow's hooks for what differs. lk-transfer-exchange.c holds the
 * messages every flow uses: sending, acknowledging, activation codes,
 * ending.
 */

#pragma once

#include "lk-transfer-private.h"
#include "lk-transfer-worker.h"

G_BEGIN_DECLS

/* The `format` of the messages (PROTOCOL.md §7.1). */
#define LK_FORMAT_CAR      "digitalwallet.carkey.ccc"
#define LK_FORMAT_GENERIC  "digitalwallet.generic.authorizationToken"
#define LK_FORMAT_HOME     "io.github.latchkey.home.provisioningToken"
#define LK_FORMAT_TRANSFER "io.github.latchkey.transfer"

/* The longest message type, reason or activation code we read. */
#define LK_TRANSFER_MAX_WORD        64
/* Activation codes: six digits, three attempts (LK_ACTIVATION_CODE_ATTEMPTS). */
#define LK_ACTIVATION_CODE_DIGITS   6
/* How long an invitation stays open unless the sender says otherwise. */
#define LK_DEFAULT_EXPIRATION       (48 * G_TIME_SPAN_HOUR)

typedef struct
{
  LkVertical  vertical;
  /* The first message's format, which the receiver checks against the link. */
  const char *offer_format;
  /* The format of the messages after it: acknowledgements and codes. */
  const char *reply_format;

  /* Sender: the first message's content, once the partner has given what
   * the share needs. */
  JsonObject *(*build_offer)     (LkWorker      *w,
                                  LkTransfer    *t,
                                  LkCredential  *credential,
                                  GError       **error);
  /* Receiver: act on the offer just read (t->offer); @code is the
   * activation code if the user gave one. */
  gboolean    (*accept_offer)    (LkWorker      *w,
                                  LkTransfer    *t,
                                  const char    *code,
                                  GError       **error);
  /* Receiver: the user gave the activation code the transfer waits for. */
  gboolean    (*take_code)       (LkWorker      *w,
                                  LkTransfer    *t,
                                  const char    *code,
                                  GError       **error);
  /* The other side's message of type @type, after the ones every flow
   * handles (lk_transfer_handle_common()); anything unexpected ends the
   * transfer (lk_transfer_unexpected()). */
  gboolean    (*sender_handle)   (LkWorker      *w,
                                  LkTransfer    *t,
                                  const char    *type,
                                  JsonObject    *content,
                                  GError       **error);
  gboolean    (*receiver_handle) (LkWorker      *w,
                                  LkTransfer    *t,
                                  const char    *type,
                                  JsonObject    *content,
                                  GError       **error);
  /* Sender, flows with codes: the receiver's code was right; go on. NULL
   * for a flow whose partner checks the code. */
  gboolean    (*code_accepted)   (LkWorker      *w,
                                  LkTransfer    *t,
                                  GError       **error);
  /* Sender: what to revoke at the partner (PROTOCOL.md §7.4), for a share
   * being cancelled (@pending: only what someone might still redeem) or a
   * completed one. *@target is left %NULL when there is nothing. */
  gboolean    (*revoke_target)   (LkWorker      *w,
                                  LkTransfer    *t,
                                  LkCredential  *credential,
                                  gboolean       pending,
                                  char         **target,
                                  GError       **error);
  /* Sender, car: the owner confirms; NULL for the other flows. */
  gboolean    (*confirm)         (LkWorker      *w,
                                  LkTransfer    *t,
                                  GError       **error);
} LkTransferFlow;

extern const LkTransferFlow lk_transfer_flow_generic;
extern const LkTransferFlow lk_transfer_flow_home;
extern const LkTransferFlow lk_transfer_flow_car;

const LkTransferFlow *lk_transfer_flow_for       (LkVertical     vertical);

/* lk-transfer-exchange.c */
const char   *lk_transfer_display_title          (LkVertical     vertical);
char         *lk_transfer_new_activation_code    (GError       **error);
JsonObject   *lk_transfer_typed_content          (const char    *type);
gboolean      lk_transfer_flush_outbox           (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  GError       **error);
guint         lk_transfer_offer_receivers        (LkTransfer    *t);
gboolean      lk_transfer_send                   (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  const char    *format,
                                                  JsonObject    *content,
                                                  GError       **error);
gboolean      lk_transfer_send_typed             (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  const char    *type,
                                                  const char    *reason,
                                                  GError       **error);
gboolean      lk_transfer_send_and_wait          (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  const char    *format,
                                                  JsonObject    *content,
                                                  GError       **error);
gboolean      lk_transfer_finish                 (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  LkTransferState state,
                                                  const char    *detail,
                                                  GError       **error);
gboolean      lk_transfer_fail_hostile           (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  GError        *cause,
                                                  GError       **error);
gboolean      lk_transfer_unexpected             (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  const char    *type,
                                                  GError       **error);
gboolean      lk_transfer_handle_common          (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  const char    *type,
                                                  JsonObject    *content,
                                                  gboolean      *handled,
                                                  GError       **error);
gboolean      lk_transfer_wait_for_code          (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  GError       **error);
gboolean      lk_transfer_send_code              (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  const char    *code,
                                                  GError       **error);
gboolean      lk_transfer_code_requested         (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  JsonObject    *content,
                                                  GError       **error);
gboolean      lk_transfer_check_code             (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  JsonObject    *content,
                                                  GError       **error);
gboolean      lk_transfer_store_received         (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  LkCredential  *credential,
                                                  GError       **error);
gboolean      lk_transfer_take_redeemed          (LkWorker      *w,
                                                  LkTransfer    *t,
                                                  LkCredential  *credential,
                                                  GError        *redeem_error,
                                                  JsonObject    *description,
                                                  GError       **error);
LkCredential *lk_transfer_credential_from_offer  (LkTransfer    *t,
                                                  JsonObject    *description);
gboolean      lk_transfer_offer_wants_code       (LkTransfer    *t);

G_END_DECLS
