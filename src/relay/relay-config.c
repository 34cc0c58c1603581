/* relay-config.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "relay-config"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "httpd-config.h"
#include "relay-config.h"
#include "relay-redis-cluster.h"
#include "relay-store.h"

#define GROUP "relay"

RelayConfig *
relay_config_new (void)
{
  RelayConfig *self = g_new0 (RelayConfig, 1);

  self->listen_address = g_strdup ("127.0.0.1");
  self->port = 8080;
  self->ipv6_prefix = 64;
  self->max_body = 64 * 1024;
  /* Many people may share one IPv4 address (carrier-grade NAT): per-client
   * limits are generous, and the global ones protect the disk. See
   * PROTOCOL.md §6.5 for the reasoning behind each figure. */
  self->max_mailboxes_per_client = 1000;
  self->max_bytes_per_client = 8 * 1024 * 1024;
  self->max_mailboxes = 1000000;
  self->max_stored_bytes = G_GUINT64_CONSTANT (4) * 1024 * 1024 * 1024;
  self->disk_reserve = 16 * 1024 * 1024;
  self->rate = 50;
  self->burst = 200;
  self->max_rate_clients = 65536;
  self->max_connections = 12000;
  self->max_connections_per_client = 256;
  self->max_waiters = 10000;
  self->max_waiters_per_client = 128;
  self->connection_timeout = 30;
  self->request_timeout = 10;
  self->max_body_memory = 64 * 1024 * 1024;
  self->default_expiration = 48 * 3600;
  self->max_expiration = 7 * 24 * 3600;
  self->sweep_interval = 60;
  self->redis_read_lease_ms = RELAY_CONFIG_DEFAULT_READ_LEASE_MS;

  return self;
}

void
relay_config_free (RelayConfig *self)
{
  if (self == NULL)
    return;

  g_free (self->listen_address);
  g_free (self->data_dir);
  g_free (self->public_url);
  g_free (self->tls_certificate);
  g_free (self->tls_key);
  g_free (self->redis_nodes);
  g_free (self);
}

static gboolean
parse_store (const char      *text,
             RelayStoreKind  *kind,
             GError         **error)
{
  if (g_str_equal (text, "sqlite"))
    *kind = RELAY_STORE_KIND_SQLITE;
  else if (g_str_equal (text, "redis"))
    *kind = RELAY_STORE_KIND_REDIS;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "store must be sqlite or redis, not “%s”", text);
      return FALSE;
    }
  return TRUE;
}

/**
 * relay_config_load_key_file:
 *
 * Reads the `[relay]` group of a GKeyFile; see data/latchkey-relay.conf.
 */
gboolean
relay_config_load_key_file (RelayConfig  *self,
                            const char   *path,
                            GError      **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  guint64 v;
  gboolean found;
  double d;
  g_autofree char *store = NULL;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, error))
    return FALSE;

  if (!httpd_key_file_get_string (file, GROUP, "listen-address", &self->listen_address, error) ||
      !httpd_key_file_get_string (file, GROUP, "data-dir", &self->data_dir, error) ||
      !httpd_key_file_get_string (file, GROUP, "public-url", &self->public_url, error) ||
      !httpd_key_file_get_string (file, GROUP, "tls-certificate", &self->tls_certificate, error) ||
      !httpd_key_file_get_string (file, GROUP, "tls-key", &self->tls_key, error) ||
      !httpd_key_file_get_string (file, GROUP, "store", &store, error) ||
      !httpd_key_file_get_string (file, GROUP, "redis-nodes", &self->redis_nodes, error))
    return FALSE;
  if (store != NULL && !parse_store (store, &self->store, error))
    return FALSE;

#define NUMBER(key, kind, max, field) \
  G_STMT_START { \
    if (!httpd_key_file_get_number (file, GROUP, key, HTTPD_SETTING_##kind, max, &v, &found, error)) \
      return FALSE; \
    if (found) \
      field = v; \
  } G_STMT_END

  NUMBER ("port", NUMBER, 65535, self->port);
  NUMBER ("ipv6-prefix", NUMBER, 128, self->ipv6_prefix);
  NUMBER ("max-body-bytes", SIZE, 16 * 1024 * 1024, self->max_body);
  NUMBER ("max-mailboxes-per-client", NUMBER, G_MAXUINT32, self->max_mailboxes_per_client);
  NUMBER ("max-bytes-per-client", SIZE, G_MAXINT64, self->max_bytes_per_client);
  NUMBER ("max-mailboxes", NUMBER, G_MAXUINT32, self->max_mailboxes);
  NUMBER ("max-stored-bytes", SIZE, G_MAXINT64, self->max_stored_bytes);
  NUMBER ("disk-reserve", SIZE, G_MAXINT32, self->disk_reserve);
  NUMBER ("max-rate-clients", NUMBER, 10000000, self->max_rate_clients);
  NUMBER ("max-connections", NUMBER, 1000000, self->max_connections);
  NUMBER ("max-connections-per-client", NUMBER, 1000000, self->max_connections_per_client);
  NUMBER ("max-waiters", NUMBER, 1000000, self->max_waiters);
  NUMBER ("max-waiters-per-client", NUMBER, 1000000, self->max_waiters_per_client);
  NUMBER ("redis-workers", NUMBER, G_MAXUINT32, self->redis_workers);
  NUMBER ("redis-read-lease-ms", NUMBER, G_MAXUINT32, self->redis_read_lease_ms);
  NUMBER ("connection-timeout", DURATION, 3600, self->connection_timeout);
  NUMBER ("request-timeout", DURATION, 3600, self->request_timeout);
  NUMBER ("max-body-memory", SIZE, G_MAXINT64, self->max_body_memory);
  NUMBER ("memory-limit", SIZE, G_MAXINT64, self->memory_limit);
  NUMBER ("default-expiration", DURATION, G_MAXINT32, self->default_expiration);
  NUMBER ("max-expiration", DURATION, G_MAXINT32, self->max_expiration);
  NUMBER ("sweep-interval", DURATION, 86400, self->sweep_interval);
#undef NUMBER

  if (g_key_file_has_key (file, GROUP, "trust-forwarded-for", NULL))
    {
      g_autoptr(GError) local_error = NULL;

      self->trust_forwarded_for = g_key_file_get_boolean (file, GROUP, "trust-forwarded-for", &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }

  if (g_key_file_has_key (file, GROUP, "rate", NULL))
    {
      d = g_key_file_get_double (file, GROUP, "rate", error);
      if (error != NULL && *error != NULL)
        return FALSE;
      self->rate = d;
    }
  if (g_key_file_has_key (file, GROUP, "burst", NULL))
    {
      d = g_key_file_get_double (file, GROUP, "burst", error);
      if (error != NULL && *error != NULL)
        return FALSE;
      self->burst = d;
    }

  return TRUE;
}

/**
 * relay_config_parse_args:
 *
 * Options override the key file given with --config.
 */
gboolean
relay_config_parse_args (RelayConfig   *self,
                         int           *argc,
                         char        ***argv,
                         GError       **error)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *public_url = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *default_expiration = NULL;
  g_autofree char *max_expiration = NULL;
  g_autofree char *sweep = NULL;
  g_autofree char *bytes_per_client = NULL;
  g_autofree char *stored_bytes = NULL;
  g_autofree char *disk_reserve = NULL;
  g_autofree char *body_memory = NULL;
  g_autofree char *memory_limit = NULL;
  g_autofree char *store = NULL;
  g_autofree char *redis_nodes = NULL;
  int port = -1, max_body = -1, per_client = -1, connections = -1, waiters = -1, timeout = -1;
  int mailboxes = -1, connections_per_client = -1, waiters_per_client = -1, request_timeout = -1;
  int ipv6_prefix = -1, rate_clients = -1, redis_workers = -1, read_lease = -1;
  double rate = -1, burst = -1;
  gboolean trust = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Read settings from FILE ([relay] group)", "FILE" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, "Listen on ADDRESS (default 127.0.0.1)", "ADDRESS" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Listen on PORT (default 8080; 0 picks a free one)", "PORT" },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir, "Keep the database in DIR", "DIR" },
    { "public-url", 0, 0, G_OPTION_ARG_STRING, &public_url, "The relay's public origin, for share links", "URL" },
    { "tls-certificate", 0, 0, G_OPTION_ARG_FILENAME, &cert, "Serve HTTPS with this PEM certificate", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &key, "…and this PEM private key", "FILE" },
    { "trust-forwarded-for", 0, 0, G_OPTION_ARG_NONE, &trust, "Take the client address from X-Forwarded-For (behind a proxy)", NULL },
    { "max-body-bytes", 0, 0, G_OPTION_ARG_INT, &max_body, "Largest request body (default 65536)", "BYTES" },
    { "ipv6-prefix", 0, 0, G_OPTION_ARG_INT, &ipv6_prefix, "IPv6 addresses with the same first BITS are one client (default 64)", "BITS" },
    { "max-mailboxes-per-client", 0, 0, G_OPTION_ARG_INT, &per_client, "Live mailboxes per client (default 1000, 0 no limit)", "N" },
    { "max-bytes-per-client", 0, 0, G_OPTION_ARG_STRING, &bytes_per_client, "Bytes stored per client (default 8M, 0 no limit)", "SIZE" },
    { "max-mailboxes", 0, 0, G_OPTION_ARG_INT, &mailboxes, "Live mailboxes in all (default 1000000)", "N" },
    { "max-stored-bytes", 0, 0, G_OPTION_ARG_STRING, &stored_bytes, "Bytes stored in all (default 4G)", "SIZE" },
    { "disk-reserve", 0, 0, G_OPTION_ARG_STRING, &disk_reserve, "Disk space kept for deletes when the disk fills (default 16M)", "SIZE" },
    { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &rate, "Requests per second per client (default 50, 0 no limit)", "N" },
    { "burst", 0, 0, G_OPTION_ARG_DOUBLE, &burst, "Requests a client may make at once (default 200)", "N" },
    { "max-rate-clients", 0, 0, G_OPTION_ARG_INT, &rate_clients, "Clients the rate limiter remembers; beyond, the least recently seen is forgotten (default 65536)", "N" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &connections, "Connections at once (default 12000)", "N" },
    { "max-connections-per-client", 0, 0, G_OPTION_ARG_INT, &connections_per_client, "Connections per client, unless behind a proxy (default 256, 0 no limit)", "N" },
    { "max-waiters", 0, 0, G_OPTION_ARG_INT, &waiters, "Waiting reads at once (default 10000)", "N" },
    { "max-waiters-per-client", 0, 0, G_OPTION_ARG_INT, &waiters_per_client, "Waiting reads per client (default 128, 0 no limit)", "N" },
    { "connection-timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Close idle connections after SECONDS (default 30)", "SECONDS" },
    { "request-timeout", 0, 0, G_OPTION_ARG_INT, &request_timeout, "A request's headers and body must arrive within SECONDS (default 10)", "SECONDS" },
    { "max-body-memory", 0, 0, G_OPTION_ARG_STRING, &body_memory, "Request bodies held in memory at once (default 64M)", "SIZE" },
    { "memory-limit", 0, 0, G_OPTION_ARG_STRING, &memory_limit, "Memory the relay must fit in (default: systemd's MemoryMax=)", "SIZE" },
    { "default-expiration", 0, 0, G_OPTION_ARG_STRING, &default_expiration, "Mailbox lifetime when none is asked (default 48h)", "DURATION" },
    { "max-expiration", 0, 0, G_OPTION_ARG_STRING, &max_expiration, "Longest mailbox lifetime (default 7d)", "DURATION" },
    { "sweep-interval", 0, 0, G_OPTION_ARG_STRING, &sweep, "Purge expired mailboxes this often (default 60s)", "DURATION" },
    { "store", 0, 0, G_OPTION_ARG_STRING, &store, "Where mailboxes live: sqlite (in DIR, default) or redis (shared by many instances)", "KIND" },
    { "redis-nodes", 0, 0, G_OPTION_ARG_STRING, &redis_nodes, "Redis Cluster nodes to start from, for --store redis", "HOST:PORT,…" },
    { "redis-workers", 0, 0, G_OPTION_ARG_INT, &redis_workers, "Store operations other than creates in flight at once, for --store redis (default 64)", "N" },
    { "redis-read-lease-ms", 0, 0, G_OPTION_ARG_INT, &read_lease, "Read leases, for --store redis (default 100; 0: none)", "MS" },
    { "check-config", 0, 0, G_OPTION_ARG_NONE, &self->check_only, "Check the settings and exit", NULL },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "The Latchkey relay: a TIGRESS mailbox server that stores only ciphertext.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "Unexpected argument “%s”", (*argv)[1]);
      return FALSE;
    }

  if (config_path != NULL && !relay_config_load_key_file (self, config_path, error))
    return FALSE;

  httpd_config_take_string (&self->listen_address, &listen);
  httpd_config_take_string (&self->data_dir, &data_dir);
  httpd_config_take_string (&self->public_url, &public_url);
  httpd_config_take_string (&self->tls_certificate, &cert);
  httpd_config_take_string (&self->tls_key, &key);
  httpd_config_take_string (&self->redis_nodes, &redis_nodes);
  if (store != NULL && !parse_store (store, &self->store, error))
    return FALSE;

  if (port >= 0) self->port = port;
  if (max_body >= 0) self->max_body = max_body;
  if (per_client >= 0) self->max_mailboxes_per_client = per_client;
  if (rate >= 0) self->rate = rate;
  if (burst >= 0) self->burst = burst;
  if (connections >= 0) self->max_connections = connections;
  if (waiters >= 0) self->max_waiters = waiters;
  if (timeout >= 0) self->connection_timeout = timeout;
  if (trust) self->trust_forwarded_for = TRUE;
  if (mailboxes >= 0) self->max_mailboxes = mailboxes;
  if (connections_per_client >= 0) self->max_connections_per_client = connections_per_client;
  if (waiters_per_client >= 0) self->max_waiters_per_client = waiters_per_client;
  if (redis_workers >= 0) self->redis_workers = redis_workers;
  if (read_lease >= 0) self->redis_read_lease_ms = read_lease;
  if (request_timeout >= 0) self->request_timeout = request_timeout;
  if (ipv6_prefix >= 0) self->ipv6_prefix = ipv6_prefix;
  if (rate_clients >= 0) self->max_rate_clients = rate_clients;

  {
    const struct { const char *text; guint64 *field; } sizes[] = {
      { bytes_per_client, &self->max_bytes_per_client },
      { stored_bytes, &self->max_stored_bytes },
      { disk_reserve, &self->disk_reserve },
      { body_memory, &self->max_body_memory },
      { memory_limit, &self->memory_limit },
    };

    for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
      if (sizes[i].text != NULL && !httpd_parse_size (sizes[i].text, sizes[i].field))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "Invalid size “%s”", sizes[i].text);
          return FALSE;
        }
  }

  if ((default_expiration != NULL && !httpd_parse_duration (default_expiration, &self->default_expiration)) ||
      (max_expiration != NULL && !httpd_parse_duration (max_expiration, &self->max_expiration)))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "Invalid duration");
      return FALSE;
    }
  if (sweep != NULL)
    {
      gint64 seconds;

      if (!httpd_parse_duration (sweep, &seconds))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "Invalid duration");
          return FALSE;
        }
      self->sweep_interval = seconds;
    }

  return relay_config_validate (self, error);
}

gboolean
relay_config_validate (RelayConfig  *self,
                       GError      **error)
{
  if (!httpd_config_check_common (self->data_dir, self->port, error))
    return FALSE;
  if ((self->tls_certificate == NULL) != (self->tls_key == NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "TLS needs both a certificate and a key");
      return FALSE;
    }
  if (self->default_expiration <= 0 || self->max_expiration < self->default_expiration)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "The default expiration must be positive and at most the maximum");
      return FALSE;
    }
  if (self->max_body < 1024 || self->sweep_interval == 0 || self->max_connections < 16)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Limits are too small (body ≥ 1024 bytes, connections ≥ 16, sweep ≥ 1 s)");
      return FALSE;
    }
  if (self->max_body_memory < self->max_body || self->max_stored_bytes < self->max_body || self->max_mailboxes < 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "max-body-memory and max-stored-bytes must hold at least one body of max-body-bytes, "
                   "and max-mailboxes must be at least 1");
      return FALSE;
    }
  if (self->max_rate_clients < 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "max-rate-clients must be at least 1");
      return FALSE;
    }
  if (self->ipv6_prefix < 16 || self->ipv6_prefix > 128)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "ipv6-prefix must be between 16 and 128");
      return FALSE;
    }
  if (self->store == RELAY_STORE_KIND_REDIS)
    {
      g_auto(GStrv) nodes = NULL;

      if (self->redis_nodes == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "store=redis needs redis-nodes (host:port of one or more cluster nodes)");
          return FALSE;
        }
      if (!relay_redis_parse_nodes (self->redis_nodes, &nodes, error))
        return FALSE;
      /* Each is a thread with a connection to every primary. */
      if (self->redis_workers > RELAY_CONFIG_MAX_REDIS_WORKERS)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "redis-workers must be at most %u (0: the default, %u)", RELAY_CONFIG_MAX_REDIS_WORKERS,
                       RELAY_CONFIG_DEFAULT_REDIS_WORKERS);
          return FALSE;
        }
      /* Shorter than the margin kept for clocks, a lease would keep nothing. */
      if (self->redis_read_lease_ms != 0 &&
          (self->redis_read_lease_ms < RELAY_CONFIG_MIN_READ_LEASE_MS ||
           self->redis_read_lease_ms > RELAY_STORE_MAX_LEASE_MS))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "redis-read-lease-ms must be 0 (none) or between %u and %u", RELAY_CONFIG_MIN_READ_LEASE_MS,
                       RELAY_STORE_MAX_LEASE_MS);
          return FALSE;
        }
    }
  else if (self->redis_nodes != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "redis-nodes is only for store=redis");
      return FALSE;
    }
  else if (self->redis_workers != 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "redis-workers is only for store=redis");
      return FALSE;
    }
  if (self->public_url != NULL)
    {
      g_autoptr(GUri) uri = g_uri_parse (self->public_url, G_URI_FLAGS_NONE, NULL);

      if (uri == NULL || g_uri_get_host (uri) == NULL ||
          (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "http") != 0))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "The public URL must be an http(s) origin");
          return FALSE;
        }
    }

  return TRUE;
}
