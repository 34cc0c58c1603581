/* httpd-address.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "httpd-address"

#include "config.h"

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gnutls/crypto.h>

#include "httpd-address.h"

static void
set_ipv6 (HttpdGroup   *group,
          const guint8  address[16],
          guint         prefix)
{
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  memset (group, 0, sizeof *group);

  /* ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket. */
  if (memcmp (address, v4_mapped, sizeof v4_mapped) == 0)
    {
      group->bytes[0] = 4;
      memcpy (group->bytes + 1, address + 12, 4);
      return;
    }

  group->bytes[0] = 6;
  prefix = MIN (prefix, 128);
  memcpy (group->bytes + 1, address, prefix / 8);
  if (prefix % 8 != 0)
    group->bytes[1 + prefix / 8] = address[prefix / 8] & (guint8) (0xff << (8 - prefix % 8));
}

/**
 * httpd_group_from_sockaddr:
 * @ipv6_prefix: how many leading bits of an IPv6 address make its group
 *
 * Returns: %FALSE if @address is not IPv4 or IPv6; @group is then the one
 *   group of everything else
 */
gboolean
httpd_group_from_sockaddr (HttpdGroup            *group,
                           const struct sockaddr *address,
                           guint                  ipv6_prefix)
{
  memset (group, 0, sizeof *group);
  if (address == NULL)
    return FALSE;

  /* Copied out rather than cast: the pointer's alignment is the caller's. */
  if (address->sa_family == AF_INET)
    {
      struct sockaddr_in in4;

      memcpy (&in4, address, sizeof in4);
      group->bytes[0] = 4;
      memcpy (group->bytes + 1, &in4.sin_addr, 4);
      return TRUE;
    }
  if (address->sa_family == AF_INET6)
    {
      struct sockaddr_in6 in6;

      memcpy (&in6, address, sizeof in6);
      set_ipv6 (group, in6.sin6_addr.s6_addr, ipv6_prefix);
      return TRUE;
    }

  return FALSE;
}

/**
 * httpd_group_from_string:
 * @text: an IPv4 or IPv6 address in text, as a proxy forwards it
 */
gboolean
httpd_group_from_string (HttpdGroup *group,
                         const char *text,
                         guint       ipv6_prefix)
{
  guint8 address[16];

  memset (group, 0, sizeof *group);
  if (text == NULL)
    return FALSE;

  if (inet_pton (AF_INET, text, address) == 1)
    {
      group->bytes[0] = 4;
      memcpy (group->bytes + 1, address, 4);
      return TRUE;
    }
  if (inet_pton (AF_INET6, text, address) == 1)
    {
      set_ipv6 (group, address, ipv6_prefix);
      return TRUE;
    }

  return FALSE;
}

/**
 * httpd_group_key:
 * @secret: the key of the keyed hash
 *
 * The first 128 bits of HMAC-SHA-256 over the group.
 */
void
httpd_group_key (const HttpdGroup *group,
                 const guint8     *secret,
                 gsize             secret_len,
                 HttpdKey         *key)
{
  guint8 digest[32];

  gnutls_hmac_fast (GNUTLS_MAC_SHA256, secret, secret_len, group->bytes, sizeof group->bytes, digest);
  memcpy (key->bytes, digest, sizeof key->bytes);
}

guint
httpd_key_hash (gconstpointer key)
{
  guint hash;

  /* Already a keyed hash: any four of its bytes will do. */
  memcpy (&hash, ((const HttpdKey *) key)->bytes, sizeof hash);
  return hash;
}

gboolean
httpd_key_equal (gconstpointer a,
                 gconstpointer b)
{
  return memcmp (a, b, sizeof (HttpdKey)) == 0;
}
