/* lk-types.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-types"

#include "config.h"

#include <string.h>

#include "lk-types.h"

/* One table per enumeration keeps the wire names and the enum in step. */
static const char * const vertical_codes[] = { "a", "h", "c" };
static const char * const vertical_names[] = { "generic", "home", "car" };
static const char * const role_names[] = { "initiator", "recipient" };
static const char * const credential_role_names[] = { "owner", "shared" };
static const char * const transfer_state_names[] = {
  "waiting", "opened", "awaiting-confirmation", "awaiting-code", "done",
  "declined", "cancelled", "expired", "failed",
};

static gboolean
lookup (const char * const *table,
        guint               n_entries,
        const char         *str,
        guint              *out)
{
  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < n_entries; i++)
    {
      if (strcmp (table[i], str) == 0)
        {
          *out = i;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
lk_vertical_to_code (LkVertical vertical)
{
  g_return_val_if_fail (vertical <= LK_VERTICAL_CAR, NULL);
  return vertical_codes[vertical];
}

gboolean
lk_vertical_from_code (const char *code,
                       LkVertical *vertical)
{
  guint v;

  if (!lookup (vertical_codes, G_N_ELEMENTS (vertical_codes), code, &v))
    return FALSE;
  *vertical = (LkVertical) v;
  return TRUE;
}

const char *
lk_vertical_to_string (LkVertical vertical)
{
  g_return_val_if_fail (vertical <= LK_VERTICAL_CAR, NULL);
  return vertical_names[vertical];
}

gboolean
lk_vertical_from_string (const char *str,
                         LkVertical *vertical)
{
  guint v;

  if (!lookup (vertical_names, G_N_ELEMENTS (vertical_names), str, &v))
    return FALSE;
  *vertical = (LkVertical) v;
  return TRUE;
}

const char *
lk_role_to_string (LkRole role)
{
  g_return_val_if_fail (role <= LK_ROLE_RECIPIENT, NULL);
  return role_names[role];
}

gboolean
lk_role_from_string (const char *str,
                     LkRole     *role)
{
  guint v;

  if (!lookup (role_names, G_N_ELEMENTS (role_names), str, &v))
    return FALSE;
  *role = (LkRole) v;
  return TRUE;
}

const char *
lk_credential_role_to_string (LkCredentialRole role)
{
  g_return_val_if_fail (role <= LK_CREDENTIAL_ROLE_SHARED, NULL);
  return credential_role_names[role];
}

gboolean
lk_credential_role_from_string (const char       *str,
                                LkCredentialRole *role)
{
  guint v;

  if (!lookup (credential_role_names, G_N_ELEMENTS (credential_role_names), str, &v))
    return FALSE;
  *role = (LkCredentialRole) v;
  return TRUE;
}

const char *
lk_transfer_state_to_string (LkTransferState state)
{
  g_return_val_if_fail (state <= LK_TRANSFER_STATE_FAILED, NULL);
  return transfer_state_names[state];
}

gboolean
lk_transfer_state_from_string (const char      *str,
                               LkTransferState *state)
{
  guint v;

  if (!lookup (transfer_state_names, G_N_ELEMENTS (transfer_state_names), str, &v))
    return FALSE;
  *state = (LkTransferState) v;
  return TRUE;
}

/**
 * lk_transfer_state_is_final:
 *
 * Returns: whether nothing more will happen to a transfer in @state
 */
gboolean
lk_transfer_state_is_final (LkTransferState state)
{
  return state >= LK_TRANSFER_STATE_DONE;
}
