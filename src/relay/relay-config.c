/* relay-config.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "relay-config"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "relay-config.h"

#define GROUP "relay"

RelayConfig *
relay_config_new (void)
{
  RelayConfig *self = g_new0 (RelayConfig, 1);

  self->listen_address = g_strdup ("127.0.0.1");
  self->port = 8080;
  self->max_body = 64 * 1024;
  self->max_mailboxes_per_client = 100;
  self->rate = 20;
  self->burst = 100;
  self->max_connections = 12000;
  self->max_waiters = 10000;
  self->connection_timeout = 30;
  self->default_expiration = 48 * 3600;
  self->max_expiration = 7 * 24 * 3600;
  self->sweep_interval = 60;

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
  g_free (self);
}

/**
 * relay_parse_duration:
 * @text: a number of seconds, optionally with a unit: `90`, `90s`, `15m`, `48h`, `7d`
 */
gboolean
relay_parse_duration (const char *text,
                      gint64     *seconds)
{
  guint64 value;
  char *end;
  gint64 unit = 1;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;

  value = g_ascii_strtoull (text, &end, 10);
  switch (*end)
    {
    case '\0':
    case 's':
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return FALSE;
    }
  if (*end != '\0' && end[1] != '\0')
    return FALSE;
  if (value > G_MAXINT32)
    return FALSE;

  *seconds = (gint64) value * unit;
  return TRUE;
}

static gboolean
set_string (GKeyFile    *file,
            const char  *key,
            char       **field,
            GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char *value = g_key_file_get_string (file, GROUP, key, &local_error);

  if (value == NULL)
    {
      if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
          g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_free (*field);
  *field = value;
  return TRUE;
}

static gboolean
set_number (GKeyFile    *file,
            const char  *key,
            gboolean     duration,
            guint64      max,
            guint64     *out,
            gboolean    *found,
            GError     **error)
{
  g_autofree char *text = NULL;
  gint64 seconds;
  guint64 value;

  *found = FALSE;
  if (!set_string (file, key, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;

  if (duration ? !relay_parse_duration (text, &seconds)
               : !g_ascii_string_to_unsigned (text, 10, 0, max, &value, NULL))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "“%s” has an invalid value “%s”", key, text);
      return FALSE;
    }

  *out = duration ? (guint64) seconds : value;
  *found = TRUE;
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

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, error))
    return FALSE;

  if (!set_string (file, "listen-address", &self->listen_address, error) ||
      !set_string (file, "data-dir", &self->data_dir, error) ||
      !set_string (file, "public-url", &self->public_url, error) ||
      !set_string (file, "tls-certificate", &self->tls_certificate, error) ||
      !set_string (file, "tls-key", &self->tls_key, error))
    return FALSE;

#define NUMBER(key, duration, max, field) \
  G_STMT_START { \
    if (!set_number (file, key, duration, max, &v, &found, error)) \
      return FALSE; \
    if (found) \
      field = v; \
  } G_STMT_END

  NUMBER ("port", FALSE, 65535, self->port);
  NUMBER ("max-body-bytes", FALSE, 16 * 1024 * 1024, self->max_body);
  NUMBER ("max-mailboxes-per-client", FALSE, G_MAXUINT32, self->max_mailboxes_per_client);
  NUMBER ("max-connections", FALSE, 1000000, self->max_connections);
  NUMBER ("max-waiters", FALSE, 1000000, self->max_waiters);
  NUMBER ("connection-timeout", TRUE, 3600, self->connection_timeout);
  NUMBER ("default-expiration", TRUE, G_MAXINT32, self->default_expiration);
  NUMBER ("max-expiration", TRUE, G_MAXINT32, self->max_expiration);
  NUMBER ("sweep-interval", TRUE, 86400, self->sweep_interval);
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
  int port = -1, max_body = -1, per_client = -1, connections = -1, waiters = -1, timeout = -1;
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
    { "max-mailboxes-per-client", 0, 0, G_OPTION_ARG_INT, &per_client, "Live mailboxes per client address (default 100, 0 no limit)", "N" },
    { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &rate, "Requests per second per client (default 20, 0 no limit)", "N" },
    { "burst", 0, 0, G_OPTION_ARG_DOUBLE, &burst, "Requests a client may make at once (default 100)", "N" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &connections, "Connections at once (default 12000)", "N" },
    { "max-waiters", 0, 0, G_OPTION_ARG_INT, &waiters, "Waiting reads at once (default 10000)", "N" },
    { "connection-timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Close idle connections after SECONDS (default 30)", "SECONDS" },
    { "default-expiration", 0, 0, G_OPTION_ARG_STRING, &default_expiration, "Mailbox lifetime when none is asked (default 48h)", "DURATION" },
    { "max-expiration", 0, 0, G_OPTION_ARG_STRING, &max_expiration, "Longest mailbox lifetime (default 7d)", "DURATION" },
    { "sweep-interval", 0, 0, G_OPTION_ARG_STRING, &sweep, "Purge expired mailboxes this often (default 60s)", "DURATION" },
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

#define SET_STRING(field, value) \
  if (value != NULL) { g_free (field); field = g_steal_pointer (&value); }
  SET_STRING (self->listen_address, listen);
  SET_STRING (self->data_dir, data_dir);
  SET_STRING (self->public_url, public_url);
  SET_STRING (self->tls_certificate, cert);
  SET_STRING (self->tls_key, key);
#undef SET_STRING

  if (port >= 0) self->port = port;
  if (max_body >= 0) self->max_body = max_body;
  if (per_client >= 0) self->max_mailboxes_per_client = per_client;
  if (rate >= 0) self->rate = rate;
  if (burst >= 0) self->burst = burst;
  if (connections >= 0) self->max_connections = connections;
  if (waiters >= 0) self->max_waiters = waiters;
  if (timeout >= 0) self->connection_timeout = timeout;
  if (trust) self->trust_forwarded_for = TRUE;

  if ((default_expiration != NULL && !relay_parse_duration (default_expiration, &self->default_expiration)) ||
      (max_expiration != NULL && !relay_parse_duration (max_expiration, &self->max_expiration)))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "Invalid duration");
      return FALSE;
    }
  if (sweep != NULL)
    {
      gint64 seconds;

      if (!relay_parse_duration (sweep, &seconds))
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
  if (self->data_dir == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "A data directory is required (--data-dir)");
      return FALSE;
    }
  if (self->port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "The port must be at most 65535");
      return FALSE;
    }
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
