/* partner-challenges.h: single-use challenges, kept in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "httpd-address.h"

G_BEGIN_DECLS

typedef struct _PartnerChallenges PartnerChallenges;

#define PARTNER_CHALLENGES_ERROR (partner_challenges_error_quark ())

typedef enum
{
  PARTNER_CHALLENGES_ERROR_FULL,     /* as many are outstanding as allowed */
} PartnerChallengesError;

GQuark             partner_challenges_error_quark (void);
PartnerChallenges *partner_challenges_new        (guint               max_outstanding,
                                                  guint               max_per_client,
                                                  gint64              lifetime_usec);
void               partner_challenges_free       (PartnerChallenges  *self);
char              *partner_challenges_issue      (PartnerChallenges  *self,
                                                  const HttpdKey     *client,
                                                  gint64              now_usec,
                                                  GError            **error);
gboolean           partner_challenges_consume    (PartnerChallenges  *self,
                                                  const char         *challenge,
                                                  gint64              now_usec);
guint              partner_challenges_get_count  (PartnerChallenges  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PartnerChallenges, partner_challenges_free)

G_END_DECLS
