/* httpd-limiter.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A client is an address group (an IPv4 address, or an IPv6 prefix, /64 by
 * default: one subscriber has a whole /64), and is only ever kept as a
 * keyed hash of it. The relay keeps the key in a file of its own beside the
 * database, so that the hash stored with each mailbox (its creator, which
 * the store counts per-client limits from) means the same after a restart,
 * while a copy of the database alone maps back to no address; the partner
 * keeps nothing, and makes a key per run.
 *
 * Request rates are token buckets in bounded memory (httpd-rate.c): a flood
 * of addresses makes the limit forget idle clients, it never merges them.
 */

#define G_LOG_DOMAIN "httpd-limiter"

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gnutls/gnutls.h>

#include "latchkey-protocol.h"
#include "httpd-rate.h"
#include "httpd-limiter.h"

#define KEY_BYTES 32

struct _HttpdLimiter
{
  guint8     key[KEY_BYTES];
  guint      ipv6_prefix;
  HttpdRate *rate;
};

static gboolean
load_key (guint8       key[KEY_BYTES],
          const char  *path,
          GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) local_error = NULL;

  if (path == NULL)
    return lk_crypto_random (key, KEY_BYTES, error);

  if (g_file_get_contents (path, &contents, &length, &local_error))
    {
      if (length != KEY_BYTES)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s is not a key of %u bytes; remove it to make a new one", path, KEY_BYTES);
          gnutls_memset (contents, 0, length);
          return FALSE;
        }
      memcpy (key, contents, KEY_BYTES);
      gnutls_memset (contents, 0, length);
      return TRUE;
    }
  if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* A new key: the creators of mailboxes stored under an old one, if any,
   * are then nobody, which only makes their limits forget them. */
  if (!lk_crypto_random (key, KEY_BYTES, error) ||
      !g_file_set_contents_full (path, (const char *) key, KEY_BYTES,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, error))
    return FALSE;
  return TRUE;
}

/**
 * httpd_limiter_new:
 * @rate: requests per second each client may make, on average (0: no limit)
 * @burst: how many it may make at once
 * @max_clients: clients remembered at once
 * @ipv6_prefix: the bits of an IPv6 address that make a client
 * @key_path: (nullable): the file that keeps the hashing key; %NULL for a
 *   key of this process only
 */
HttpdLimiter *
httpd_limiter_new (double       rate,
                   double       burst,
                   guint        max_clients,
                   guint        ipv6_prefix,
                   const char  *key_path,
                   GError     **error)
{
  HttpdLimiter *self = g_new0 (HttpdLimiter, 1);

  if (!load_key (self->key, key_path, error))
    {
      g_free (self);
      return NULL;
    }
  self->ipv6_prefix = ipv6_prefix;
  self->rate = httpd_rate_new (rate, burst, max_clients);

  return self;
}

void
httpd_limiter_free (HttpdLimiter *self)
{
  if (self == NULL)
    return;

  httpd_rate_free (self->rate);
  gnutls_memset (self->key, 0, sizeof self->key);
  g_free (self);
}

void
httpd_limiter_client_of_socket (HttpdLimiter          *self,
                                const struct sockaddr *address,
                                HttpdKey              *client)
{
  HttpdGroup group;

  httpd_group_from_sockaddr (&group, address, self->ipv6_prefix);
  httpd_group_key (&group, self->key, sizeof self->key, client);
}

/**
 * httpd_limiter_client_of_text:
 * @address: an address as a proxy forwarded it
 *
 * Returns: %FALSE if @address is not an IP address
 */
gboolean
httpd_limiter_client_of_text (HttpdLimiter *self,
                              const char   *address,
                              HttpdKey     *client)
{
  HttpdGroup group;

  if (!httpd_group_from_string (&group, address, self->ipv6_prefix))
    return FALSE;
  httpd_group_key (&group, self->key, sizeof self->key, client);
  return TRUE;
}

/**
 * httpd_limiter_allow:
 * @retry_after: (out): seconds until a request would be allowed
 */
gboolean
httpd_limiter_allow (HttpdLimiter   *self,
                     const HttpdKey *client,
                     gint64          now_us,
                     guint          *retry_after)
{
  return httpd_rate_allow (self->rate, client, now_us, retry_after);
}

/**
 * httpd_limiter_sweep:
 *
 * Forgets clients that have been idle long enough to have a full bucket.
 */
void
httpd_limiter_sweep (HttpdLimiter *self,
                     gint64        now_us)
{
  httpd_rate_sweep (self->rate, now_us);
}

guint
httpd_limiter_get_n_clients (HttpdLimiter *self)
{
  return httpd_rate_get_n_clients (self->rate);
}

guint64
httpd_limiter_get_evictions (HttpdLimiter *self)
{
  return httpd_rate_get_evictions (self->rate);
}
