/* relay-resources.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Memory is bounded by the configuration, not by what clients send: every
 * connection may hold its pool at once, request bodies share one budget,
 * and the caches and tables have fixed sizes. The sum must fit the memory
 * the relay runs in (systemd's MemoryMax=), or the kernel kills it under
 * load; the relay refuses to start with settings that could not fit.
 */

#define G_LOG_DOMAIN "relay-resources"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "httpd-system.h"
#include "relay-resources.h"
#include "relay-store-sqlite.h"

/* SQLite's page caches: the writer's 8 MB and two readers' 2 MB, and slack. */
#define DATABASE_MEMORY   (16 * 1024 * 1024)
/* The program, its libraries and GLib's own, measured at start: about 9 MB. */
#define BASE_MEMORY       (24 * 1024 * 1024)
/* A rate bucket, a waiter's registration, with hash table overhead. */
#define RATE_ENTRY        128
#define WAITER_ENTRY      160
/* Leave room for what no setting bounds: kernel socket buffers are charged
 * to the same control group, and so are responses on their way out. */
#define MARGIN_PERCENT    10

static void
line (GString    *report,
      const char *what,
      guint64     bytes)
{
  g_autofree char *size = httpd_format_size (bytes);

  g_string_append_printf (report, "  %-44s %10s\n", what, size);
}

/**
 * relay_resources_check:
 * @config: lowers max_connections if descriptors are too few for it
 * @report: (nullable): a human-readable account is appended
 *
 * Returns: %FALSE if the worst case does not fit the memory limit
 */
gboolean
relay_resources_check (RelayConfig     *config,
                       RelayResources  *resources,
                       GString         *report,
                       GError         **error)
{
  g_autoptr(GString) scratch = g_string_new (NULL);
  g_autofree char *total = NULL;
  g_autofree char *limit = NULL;
  guint64 hard = 0;
  guint64 usable;
  gint64 cgroup;
  g_autofree char *what = NULL;

  if (report == NULL)
    report = scratch;
  memset (resources, 0, sizeof *resources);

  /* Every connection is a descriptor: without enough of them the daemon
   * stops accepting at the limit, unannounced. */
  resources->fd_limit = httpd_system_raise_fd_limit (&hard);
  usable = resources->fd_limit > HTTPD_RESERVED_FDS ? resources->fd_limit - HTTPD_RESERVED_FDS : 16;
  resources->served_connections = (guint) MIN ((guint64) config->max_connections, usable);
  g_string_append_printf (report, "File descriptors: %u connections need %u; the limit is %" G_GUINT64_FORMAT
                          " (hard limit %" G_GUINT64_FORMAT ")\n",
                          config->max_connections, config->max_connections + HTTPD_RESERVED_FDS,
                          resources->fd_limit, hard);
  if (resources->served_connections < config->max_connections)
    g_string_append_printf (report, "  Too few: at most %u connections will be served. Raise LimitNOFILE= "
                            "(or ulimit -n), or lower max-connections.\n", resources->served_connections);

  /* Memory for the connections asked for: the unit raises the descriptor
   * limit, a shell running --check-config may not. */
  resources->connections = (guint64) config->max_connections * (RELAY_CONNECTION_POOL + RELAY_CONNECTION_OVERHEAD);
  resources->bodies = config->max_body_memory;
  resources->cache = RELAY_CACHE_MAX_BYTES;
  resources->database = DATABASE_MEMORY;
  resources->keys = config->store == RELAY_STORE_KIND_SQLITE ? relay_store_sqlite_keys_memory (config->max_mailboxes) : 0;
  resources->tables = (guint64) config->max_rate_clients * RATE_ENTRY + (guint64) config->max_waiters * WAITER_ENTRY;
  resources->base = BASE_MEMORY;
  resources->total = resources->connections + resources->bodies + resources->cache + resources->database +
                     resources->keys + resources->tables + resources->base;

  cgroup = httpd_system_memory_limit ();
  resources->limit = config->memory_limit > 0 ? (gint64) config->memory_limit : cgroup;
  if (config->memory_limit > 0 && cgroup > 0)
    resources->limit = MIN (resources->limit, cgroup);

  total = httpd_format_size (resources->total);
  g_string_append_printf (report, "Memory, worst case: %s\n", total);
  what = g_strdup_printf ("%u connections × %u KiB", config->max_connections,
                          (RELAY_CONNECTION_POOL + RELAY_CONNECTION_OVERHEAD) / 1024);
  line (report, what, resources->connections);
  line (report, "request bodies (max-body-memory)", resources->bodies);
  line (report, "kept read answers", resources->cache);
  line (report, "database caches", resources->database);
  if (resources->keys > 0)
    line (report, "newest mailbox keys", resources->keys);
  line (report, "rate buckets and waiting reads", resources->tables);
  line (report, "the program", resources->base);

  if (resources->limit < 0)
    {
      g_string_append (report, "No memory limit is known (memory-limit=, or systemd's MemoryMax=): not checked.\n");
      config->max_connections = resources->served_connections;
      return TRUE;
    }

  limit = httpd_format_size (resources->limit);
  if (resources->total > (guint64) resources->limit / 100 * (100 - MARGIN_PERCENT))
    {
      g_string_append_printf (report, "It does not fit in %s with a %u%% margin.\n", limit, MARGIN_PERCENT);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "The worst case, %s, does not fit in the memory limit of %s with a %u%% margin: lower "
                   "max-connections or max-body-memory, or raise MemoryMax= and memory-limit=",
                   total, limit, MARGIN_PERCENT);
      return FALSE;
    }

  g_string_append_printf (report, "It fits in the memory limit of %s with a %u%% margin.\n", limit, MARGIN_PERCENT);
  config->max_connections = resources->served_connections;
  return TRUE;
}
