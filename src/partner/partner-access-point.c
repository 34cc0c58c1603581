/* partner-access-point.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partner-access-point"

#include "config.h"

#include "partner-access-point.h"

PartnerAccessPoint *
partner_access_point_new (void)
{
  return g_new0 (PartnerAccessPoint, 1);
}

void
partner_access_point_free (PartnerAccessPoint *self)
{
  if (self == NULL)
    return;

  g_free (self->id);
  g_free (self->title);
  g_free (self->owner_id);
  g_free (self);
}
