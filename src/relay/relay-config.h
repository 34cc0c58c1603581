/* relay-config.h: the relay's settings, from a key file and the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char    *listen_address;         /* 127.0.0.1 unless told otherwise */
  guint    port;                   /* 0: any free port */
  char    *data_dir;
  char    *public_url;             /* for urlLink; NULL: from the Host header */
  char    *tls_certificate;
  char    *tls_key;
  gboolean trust_forwarded_for;    /* behind a reverse proxy */

  gsize    max_body;               /* bytes */
  guint    max_mailboxes_per_client;
  double   rate;                   /* requests per second per client */
  double   burst;
  guint    max_connections;
  guint    max_waiters;
  guint    connection_timeout;     /* seconds of inactivity */
  gint64   default_expiration;     /* seconds */
  gint64   max_expiration;         /* seconds */
  guint    sweep_interval;         /* seconds */

  gboolean check_only;             /* --check-config: validate and exit */
} RelayConfig;

RelayConfig *relay_config_new             (void);
void         relay_config_free            (RelayConfig  *self);
gboolean     relay_config_load_key_file   (RelayConfig  *self,
                                           const char   *path,
                                           GError      **error);
gboolean     relay_config_parse_args      (RelayConfig  *self,
                                           int          *argc,
                                           char       ***argv,
                                           GError      **error);
gboolean     relay_config_validate        (RelayConfig  *self,
                                           GError      **error);
gboolean     relay_parse_duration         (const char   *text,
                                           gint64       *seconds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelayConfig, relay_config_free)

G_END_DECLS
