/* relay-config.h: the relay's settings, from a key file and the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  RELAY_STORE_KIND_SQLITE,         /* one instance, SQLite in DATA_DIR */
  RELAY_STORE_KIND_REDIS,          /* any number of instances on one Redis Cluster */
} RelayStoreKind;

/* Store operations in flight at once on the Redis store: each waits on the
 * network and on the primary's fsync, which Redis shares between all
 * writes it got in one pass of its loop, so more in flight makes creates
 * faster until a core is full (docs/scaling.md). */
#define RELAY_CONFIG_DEFAULT_REDIS_WORKERS 64
#define RELAY_CONFIG_MAX_REDIS_WORKERS     1024

/* Read leases on the Redis store (PROTOCOL.md §6.10): how long an instance
 * may answer reads of a mailbox it read again from what it looked up, and
 * so how long a write through another instance may be held; 0: none. */
#define RELAY_CONFIG_DEFAULT_READ_LEASE_MS 100
#define RELAY_CONFIG_MIN_READ_LEASE_MS     20

typedef struct
{
  char    *listen_address;         /* 127.0.0.1 unless told otherwise */
  guint    port;                   /* 0: any free port */
  char    *data_dir;
  char    *public_url;             /* for urlLink; NULL: from the Host header */
  char    *tls_certificate;
  char    *tls_key;
  gboolean trust_forwarded_for;    /* behind a reverse proxy */
  guint    ipv6_prefix;            /* bits of an IPv6 address that make one client */

  gsize    max_body;               /* bytes */
  guint    max_mailboxes_per_client;
  guint64  max_bytes_per_client;   /* stored by one client's live mailboxes */
  guint    max_mailboxes;          /* live mailboxes in all */
  guint64  max_stored_bytes;       /* stored in all */
  guint64  disk_reserve;           /* kept free to delete in when the disk is full */
  double   rate;                   /* requests per second per client */
  double   burst;
  guint    max_rate_clients;       /* clients the rate limiter remembers */
  guint    max_connections;
  guint    max_connections_per_client;
  guint    max_waiters;
  guint    max_waiters_per_client;
  guint    connection_timeout;     /* seconds of inactivity */
  guint    request_timeout;        /* seconds for a request's headers and body */
  guint64  max_body_memory;        /* request bodies held at once */
  guint64  memory_limit;           /* 0: the control group's (systemd's MemoryMax=) */
  gint64   default_expiration;     /* seconds */
  gint64   max_expiration;         /* seconds */
  guint    sweep_interval;         /* seconds */

  gboolean check_only;             /* --check-config: validate and exit */

  RelayStoreKind store;            /* sqlite (the default) or redis */
  char    *redis_nodes;            /* host:port,… of the cluster, for store=redis */
  guint    redis_workers;          /* store operations in flight at once; 0: the default */
  guint    redis_read_lease_ms;    /* 0: no read leases, nothing kept across instances */
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelayConfig, relay_config_free)

G_END_DECLS
