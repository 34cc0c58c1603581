/* partner-access-point.h: a simulated car or door
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "latchkey-protocol.h"

G_BEGIN_DECLS

typedef struct
{
  char       *id;
  LkVertical  vertical;
  char       *title;
  char       *owner_id;   /* the owner credential enrolled with it */
  gint64      created;
} PartnerAccessPoint;

PartnerAccessPoint *partner_access_point_new   (void);
void                partner_access_point_free  (PartnerAccessPoint *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PartnerAccessPoint, partner_access_point_free)

G_END_DECLS
