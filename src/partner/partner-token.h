/* partner-token.h: a single-use provisioning token, as the partner keeps it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "latchkey-protocol.h"

G_BEGIN_DECLS

#define PARTNER_TOKEN_ATTEMPTS 3
#define PARTNER_MAX_RECEIVERS  10

typedef enum
{
  PARTNER_TOKEN_ISSUED,
  PARTNER_TOKEN_REDEEMED,
  PARTNER_TOKEN_REVOKED,
  PARTNER_TOKEN_EXHAUSTED,
} PartnerTokenState;

typedef struct
{
  guint8             hash[LK_SHA256_LENGTH];   /* SHA-256 of the token; never the token */
  char              *issuer_id;                /* the sharer's credential */
  GStrv              entitlements;
  gint64             valid_from;               /* of the credential it provisions */
  gint64             valid_until;
  char              *code_verifier;            /* lk_signing_code_verifier (token, code), or NULL */
  gint               attempts_left;
  PartnerTokenState  state;
  char              *redeemed_id;              /* the (first) credential made from it */
  guint              receivers;                /* how many redemptions it allows, 1..10 */
  GStrv              redemptions;              /* the credential of each redemption, in order */
  gint64             created;
  gint64             expires;                  /* Unix seconds */
} PartnerToken;

PartnerToken *partner_token_new                (void);
void          partner_token_free               (PartnerToken       *self);
const char   *partner_token_state_to_string    (PartnerTokenState   state);
gboolean      partner_token_state_from_string  (const char         *text,
                                                PartnerTokenState  *state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PartnerToken, partner_token_free)

G_END_DECLS
