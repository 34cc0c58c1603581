/* partner-token.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partner-token"

#include "config.h"

#include <string.h>

#include <gnutls/gnutls.h>

#include "partner-request.h"
#include "partner-token.h"

static const char * const state_names[] = { "issued", "redeemed", "revoked", "exhausted" };

PartnerToken *
partner_token_new (void)
{
  PartnerToken *self = g_new0 (PartnerToken, 1);

  self->valid_from = PARTNER_OPEN_START;
  self->valid_until = PARTNER_OPEN_END;
  self->attempts_left = PARTNER_TOKEN_ATTEMPTS;
  self->state = PARTNER_TOKEN_ISSUED;
  self->receivers = 1;

  return self;
}

void
partner_token_free (PartnerToken *self)
{
  if (self == NULL)
    return;

  g_free (self->issuer_id);
  g_strfreev (self->entitlements);
  /* With the token, the verifier would let a six-digit code be searched. */
  if (self->code_verifier != NULL)
    gnutls_memset (self->code_verifier, 0, strlen (self->code_verifier));
  g_free (self->code_verifier);
  g_free (self->redeemed_id);
  g_strfreev (self->redemptions);
  g_free (self);
}

const char *
partner_token_state_to_string (PartnerTokenState state)
{
  g_return_val_if_fail (state <= PARTNER_TOKEN_EXHAUSTED, NULL);
  return state_names[state];
}

gboolean
partner_token_state_from_string (const char        *text,
                                 PartnerTokenState *state)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (state_names); i++)
    {
      if (strcmp (text, state_names[i]) == 0)
        {
          *state = (PartnerTokenState) i;
          return TRUE;
        }
    }

  return FALSE;
}
