/* partner-config.h: the partner's settings, from the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PARTNER_DEFAULT_NAME               "Latchkey Demo Partner"
#define PARTNER_DEFAULT_CHALLENGE_LIFETIME 60
#define PARTNER_DEFAULT_TOKEN_LIFETIME     (48 * 3600)
#define PARTNER_DEFAULT_MAX_CHALLENGES     10000
#define PARTNER_DEFAULT_CHALLENGES_PER_CLIENT 16
#define PARTNER_DEFAULT_RATE               20
#define PARTNER_DEFAULT_BURST              100
#define PARTNER_DEFAULT_REQUEST_TIMEOUT    10
#define PARTNER_MAX_BODY                   (64 * 1024)

typedef struct
{
  char    *listen_address;       /* 127.0.0.1 unless told otherwise */
  guint    port;                 /* 0: any free port */
  char    *data_dir;
  char    *name;                 /* the issuer name given to credentials */
  gint64   challenge_lifetime;   /* seconds */
  gint64   token_lifetime;       /* seconds */
  guint    max_challenges;       /* outstanding at once; more are refused */
  guint    max_challenges_per_client; /* of them, one client's; its own oldest go first */
  double   rate;                 /* requests per second per client; 0: no limit */
  double   burst;
  gboolean trust_forwarded_for;  /* behind a reverse proxy */
  guint    request_timeout;      /* seconds for a request's headers and body */
} PartnerConfig;

PartnerConfig *partner_config_new         (void);
void           partner_config_free        (PartnerConfig  *self);
gboolean       partner_config_parse_args  (PartnerConfig  *self,
                                           int            *argc,
                                           char         ***argv,
                                           GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PartnerConfig, partner_config_free)

G_END_DECLS
