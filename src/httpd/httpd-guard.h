/* httpd-guard.h: what one client may hold of a server: connections, time, memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <microhttpd.h>

#include "httpd-address.h"

G_BEGIN_DECLS

typedef struct
{
  guint    max_per_client;            /* connections per address group; 0: no limit (behind a proxy) */
  guint    request_timeout;           /* seconds to send a request's headers and body */
  guint    idle_timeout;              /* the daemon's idle timeout: grace before a kept-alive request */
  gsize    max_body_memory;           /* bytes of request bodies held at once; 0: no limit */
  gsize    max_body_memory_per_client;/* the same per address group, with max_per_client */
  guint    ipv6_prefix;
  gboolean tls;                       /* no plain-text 408 on a TLS connection */
} HttpdGuardLimits;

typedef struct
{
  guint    connections;
  guint64  refused_connections;       /* over max_per_client */
  guint64  timed_out;                 /* cut at the request deadline */
  gsize    body_memory;
  guint64  refused_bodies;            /* over a body memory budget */
} HttpdGuardStats;

typedef struct _HttpdGuard HttpdGuard;

HttpdGuard      *httpd_guard_new                 (const HttpdGuardLimits            *limits);
void             httpd_guard_free                (HttpdGuard                        *self);
enum MHD_Result  httpd_guard_accept_policy       (void                              *guard,
                                                  const struct sockaddr             *address,
                                                  socklen_t                          length);
void             httpd_guard_notify_connection   (void                              *guard,
                                                  struct MHD_Connection             *connection,
                                                  void                             **socket_context,
                                                  enum MHD_ConnectionNotificationCode code);
gboolean         httpd_guard_reserve_body        (HttpdGuard                        *self,
                                                  struct MHD_Connection             *connection,
                                                  gsize                              bytes);
void             httpd_guard_request_received    (HttpdGuard                        *self,
                                                  struct MHD_Connection             *connection);
void             httpd_guard_request_completed   (HttpdGuard                        *self,
                                                  struct MHD_Connection             *connection);
void             httpd_guard_get_stats           (HttpdGuard                        *self,
                                                  HttpdGuardStats                   *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpdGuard, httpd_guard_free)

G_END_DECLS
