/* relay-resources.h: what the configuration needs of memory and descriptors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "relay-config.h"

G_BEGIN_DECLS

/* libmicrohttpd's pool per connection: the request line and headers (an
 * attestation of 12 KiB with the other headers, PROTOCOL.md §6.2) and the
 * daemon's buffers. libmicrohttpd writes all of it after every request. */
#define RELAY_CONNECTION_POOL      (16 * 1024)
/* The rest of a connection: libmicrohttpd's state, ours, allocator slack. */
#define RELAY_CONNECTION_OVERHEAD  (4 * 1024)
#define RELAY_CACHE_MAX_BYTES      (32 * 1024 * 1024)
#define RELAY_CACHE_MAX_ENTRIES    4096

typedef struct
{
  guint64 connections;        /* all connections at once, each with its pool */
  guint64 bodies;             /* request bodies in memory */
  guint64 cache;              /* kept read answers */
  guint64 database;           /* SQLite's page caches */
  guint64 keys;               /* the SQLite store's newest keys (relay-sqlite-ids.h) */
  guint64 tables;             /* rate buckets, waiters */
  guint64 base;               /* the program itself */
  guint64 total;
  gint64  limit;              /* -1: none known */
  guint   served_connections; /* max-connections, or fewer if descriptors are short */
  guint64 fd_limit;
} RelayResources;

gboolean relay_resources_check (RelayConfig     *config,
                                RelayResources  *resources,
                                GString         *report,
                                GError         **error);

G_END_DECLS
