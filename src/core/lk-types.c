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
