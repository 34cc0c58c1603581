/* partner-challenges.h: single-use challenges, kept in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PartnerChallenges PartnerChallenges;

PartnerChallenges *partner_challenges_new        (guint               max_outstanding,
                                                  gint64              lifetime_usec);
void               partner_challenges_free       (PartnerChallenges  *self);
char              *partner_challenges_issue      (PartnerChallenges  *self,
                                                  gint64              now_usec,
                                                  GError            **error);
gboolean           partner_challenges_consume    (PartnerChallenges  *self,
                                                  const char         *challenge,
                                                  gint64              now_usec);
guint              partner_challenges_get_count  (PartnerChallenges  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PartnerChallenges, partner_challenges_free)

G_END_DECLS
