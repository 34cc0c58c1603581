/* httpd-address.h: client address groups, the unit every per-client limit counts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

#define HTTPD_DEFAULT_IPV6_PREFIX 64

/* An IPv4 address, or an IPv6 address cut to its prefix: one household or
 * one site. An IPv4 address may be shared by many (carrier-grade NAT); one
 * IPv6 /64 is what a single subscriber gets, with 2^64 addresses in it. */
typedef struct
{
  guint8 bytes[17];   /* family (4 or 6; 0: not IP), then the address, masked */
} HttpdGroup;

/* What is kept of a group: a keyed hash, so that memory and the relay's
 * database hold no address. */
typedef struct
{
  guint8 bytes[16];
} HttpdKey;

gboolean httpd_group_from_sockaddr (HttpdGroup             *group,
                                    const struct sockaddr  *address,
                                    guint                   ipv6_prefix);
gboolean httpd_group_from_string   (HttpdGroup             *group,
                                    const char             *text,
                                    guint                   ipv6_prefix);
void     httpd_group_key           (const HttpdGroup       *group,
                                    const guint8           *secret,
                                    gsize                   secret_len,
                                    HttpdKey               *key);
guint    httpd_key_hash            (gconstpointer           key);
gboolean httpd_key_equal           (gconstpointer           a,
                                    gconstpointer           b);

G_END_DECLS
