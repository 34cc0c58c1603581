/* relay-metrics.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /metrics, in the Prometheus text format (version 0.0.4); the names
 * are documented in docs/self-hosting.md.
 */

#define G_LOG_DOMAIN "relay-metrics"

#include "config.h"

#include "relay-metrics.h"

static const char * const metric_names[RELAY_N_METRICS] = {
  "create", "read", "display", "update", "delete", "relinquish", "wait", "other",
};

/* By RelayOpKind (lookups, as calls or ops, under RELAY_OP_LOOKUP). */
static const char * const store_op_names[RELAY_STORE_N_TIMED] = {
  [RELAY_OP_CREATE] = "create",
  [RELAY_OP_UPDATE] = "update",
  [RELAY_OP_READ] = "read",
  [RELAY_OP_DELETE] = "delete",
  [RELAY_OP_RELINQUISH] = "relinquish",
  [RELAY_OP_PURGE] = "purge",
  [RELAY_OP_COUNT] = "count",
  [RELAY_STORE_TIMED_LOOKUP] = "lookup",
};

static void
render_store (GString               *text,
              const RelayStoreStats *stats)
{
  g_string_append (text, "# HELP latchkey_relay_store_seconds Store operations by their latency, "
                         "from submission (the wait for a worker included) to the durable answer.\n"
                         "# TYPE latchkey_relay_store_seconds histogram\n");
  for (guint op = 0; op < RELAY_STORE_N_TIMED; op++)
    {
      guint64 cumulative = 0;

      for (guint b = 0; b < RELAY_STORE_N_BUCKETS; b++)
        {
          char le[G_ASCII_DTOSTR_BUF_SIZE];

          cumulative += stats->latency[op][b];
          /* %g: "0.00025", not the 17 digits of the nearest double */
          g_ascii_formatd (le, sizeof le, "%g", (double) relay_store_latency_bounds[b] / G_USEC_PER_SEC);
          g_string_append_printf (text, "latchkey_relay_store_seconds_bucket{op=\"%s\",le=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                  store_op_names[op], le, cumulative);
        }
      cumulative += stats->latency[op][RELAY_STORE_N_BUCKETS];
      {
        char sum[G_ASCII_DTOSTR_BUF_SIZE];

        g_ascii_formatd (sum, sizeof sum, "%.6f", (double) stats->latency_sum_usec[op] / G_USEC_PER_SEC);
        g_string_append_printf (text,
                                "latchkey_relay_store_seconds_bucket{op=\"%s\",le=\"+Inf\"} %" G_GUINT64_FORMAT "\n"
                                "latchkey_relay_store_seconds_sum{op=\"%s\"} %s\n"
                                "latchkey_relay_store_seconds_count{op=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                store_op_names[op], cumulative, store_op_names[op], sum, store_op_names[op],
                                cumulative);
      }
    }

  g_string_append (text, "# HELP latchkey_relay_store_errors_total Store operations that failed (503 or 507).\n"
                         "# TYPE latchkey_relay_store_errors_total counter\n");
  for (guint op = 0; op < RELAY_STORE_N_TIMED; op++)
    g_string_append_printf (text, "latchkey_relay_store_errors_total{op=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            store_op_names[op], stats->errors[op]);

  g_string_append_printf (text,
                          "# HELP latchkey_relay_store_up 1 while the store answers (as /healthz says).\n"
                          "# TYPE latchkey_relay_store_up gauge\n"
                          "latchkey_relay_store_up{store=\"%s\"} %d\n",
                          stats->kind, stats->health == RELAY_STORE_HEALTH_OK ? 1 : 0);

  if (g_strcmp0 (stats->kind, "sqlite") == 0)
    {
      g_string_append_printf (text,
                              "# HELP latchkey_relay_sqlite_wal_pages Pages in the write-ahead log after the last commit.\n"
                              "# TYPE latchkey_relay_sqlite_wal_pages gauge\n"
                              "latchkey_relay_sqlite_wal_pages %" G_GUINT64_FORMAT "\n"
                              "# HELP latchkey_relay_sqlite_checkpoint_waits_total Times the writer waited for a checkpoint to catch up.\n"
                              "# TYPE latchkey_relay_sqlite_checkpoint_waits_total counter\n"
                              "latchkey_relay_sqlite_checkpoint_waits_total %" G_GUINT64_FORMAT "\n"
                              "# HELP latchkey_relay_sqlite_checkpoint_wait_seconds_total How long it waited, in all.\n"
                              "# TYPE latchkey_relay_sqlite_checkpoint_wait_seconds_total counter\n"
                              "latchkey_relay_sqlite_checkpoint_wait_seconds_total %.6f\n",
                              stats->wal_frames, stats->checkpoint_waits,
                              stats->checkpoint_wait_usec / (double) G_USEC_PER_SEC);
      return;
    }
  if (g_strcmp0 (stats->kind, "redis") != 0)
    return;
  g_string_append_printf (text,
                          "# HELP latchkey_relay_redis_primaries Redis primaries that answered the last probe.\n"
                          "# TYPE latchkey_relay_redis_primaries gauge\n"
                          "latchkey_relay_redis_primaries %u\n"
                          "# HELP latchkey_relay_redis_redirects_total MOVED and ASK redirections followed.\n"
                          "# TYPE latchkey_relay_redis_redirects_total counter\n"
                          "latchkey_relay_redis_redirects_total %" G_GUINT64_FORMAT "\n"
                          "# HELP latchkey_relay_redis_reconnects_total Connections to a node made again after one failed.\n"
                          "# TYPE latchkey_relay_redis_reconnects_total counter\n"
                          "latchkey_relay_redis_reconnects_total %" G_GUINT64_FORMAT "\n"
                          "# HELP latchkey_relay_redis_not_replicated_total Writes no replica acknowledged in time (WAIT): answered 503.\n"
                          "# TYPE latchkey_relay_redis_not_replicated_total counter\n"
                          "latchkey_relay_redis_not_replicated_total %" G_GUINT64_FORMAT "\n"
                          "# HELP latchkey_relay_redis_lease_waits_total Writes held until another instance's read lease ran out.\n"
                          "# TYPE latchkey_relay_redis_lease_waits_total counter\n"
                          "latchkey_relay_redis_lease_waits_total %" G_GUINT64_FORMAT "\n"
                          "# HELP latchkey_relay_redis_lease_wait_seconds_total How long those writes were held, in all.\n"
                          "# TYPE latchkey_relay_redis_lease_wait_seconds_total counter\n"
                          "latchkey_relay_redis_lease_wait_seconds_total %.6f\n",
                          stats->primaries, stats->redirects, stats->reconnects, stats->not_replicated,
                          stats->lease_waits, stats->lease_wait_usec / (double) G_USEC_PER_SEC);
}

void
relay_metrics_count_status (RelayMetrics *self,
                            guint         status)
{
  g_atomic_int_inc (&self->statuses[MIN (status / 100, 5)]);
}

char *
relay_metrics_render (RelayMetrics      *self,
                      const RelayGauges *gauges)
{
  GString *text = g_string_new (NULL);

  g_string_append (text, "# HELP latchkey_relay_requests_total Requests by operation.\n"
                         "# TYPE latchkey_relay_requests_total counter\n");
  for (guint i = 0; i < RELAY_N_METRICS; i++)
    g_string_append_printf (text, "latchkey_relay_requests_total{operation=\"%s\"} %d\n",
                            metric_names[i], g_atomic_int_get (&self->requests[i]));

  g_string_append (text, "# HELP latchkey_relay_responses_total Responses by status class.\n"
                         "# TYPE latchkey_relay_responses_total counter\n");
  for (guint i = 1; i <= 5; i++)
    g_string_append_printf (text, "latchkey_relay_responses_total{class=\"%uxx\"} %d\n",
                            i, g_atomic_int_get (&self->statuses[i]));

  g_string_append_printf (text,
                          "# HELP latchkey_relay_rejected_total Requests and connections refused at a limit.\n"
                          "# TYPE latchkey_relay_rejected_total counter\n"
                          "latchkey_relay_rejected_total{limit=\"rate\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"body_size\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"waiters\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"mailboxes\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"storage\"} %d\n"
                          "latchkey_relay_rejected_total{limit=\"body_memory\"} %" G_GUINT64_FORMAT "\n"
                          "latchkey_relay_rejected_total{limit=\"connections\"} %" G_GUINT64_FORMAT "\n"
                          "latchkey_relay_rejected_total{limit=\"request_timeout\"} %" G_GUINT64_FORMAT "\n"
                          "# HELP latchkey_relay_mailboxes Live mailboxes.\n"
                          "# TYPE latchkey_relay_mailboxes gauge\n"
                          "latchkey_relay_mailboxes %" G_GINT64_FORMAT "\n"
                          "# HELP latchkey_relay_stored_bytes Bytes stored in mailboxes not yet purged.\n"
                          "# TYPE latchkey_relay_stored_bytes gauge\n"
                          "latchkey_relay_stored_bytes %" G_GINT64_FORMAT "\n"
                          "# HELP latchkey_relay_storage_full 1 while the disk is full: writes get 507.\n"
                          "# TYPE latchkey_relay_storage_full gauge\n"
                          "latchkey_relay_storage_full %d\n"
                          "# HELP latchkey_relay_connections Open connections.\n"
                          "# TYPE latchkey_relay_connections gauge\n"
                          "latchkey_relay_connections %u\n"
                          "# HELP latchkey_relay_body_memory_bytes Request bodies held in memory.\n"
                          "# TYPE latchkey_relay_body_memory_bytes gauge\n"
                          "latchkey_relay_body_memory_bytes %" G_GSIZE_FORMAT "\n"
                          "# HELP latchkey_relay_waiters Waiting reads parked now.\n"
                          "# TYPE latchkey_relay_waiters gauge\n"
                          "latchkey_relay_waiters %u\n"
                          "# HELP latchkey_relay_clients Clients the rate limiter remembers.\n"
                          "# TYPE latchkey_relay_clients gauge\n"
                          "latchkey_relay_clients %u\n"
                          "# HELP latchkey_relay_purged_total Expired mailboxes purged.\n"
                          "# TYPE latchkey_relay_purged_total counter\n"
                          "latchkey_relay_purged_total %d\n"
                          "# HELP latchkey_relay_log_suppressed_total libmicrohttpd messages not logged, as repeats.\n"
                          "# TYPE latchkey_relay_log_suppressed_total counter\n"
                          "latchkey_relay_log_suppressed_total %" G_GUINT64_FORMAT "\n",
                          g_atomic_int_get (&self->rejected_rate),
                          g_atomic_int_get (&self->rejected_size),
                          g_atomic_int_get (&self->rejected_waiters),
                          g_atomic_int_get (&self->rejected_mailboxes),
                          g_atomic_int_get (&self->rejected_storage),
                          gauges->guard.refused_bodies,
                          gauges->guard.refused_connections,
                          gauges->guard.timed_out,
                          gauges->mailboxes,
                          gauges->stored_bytes,
                          gauges->disk_full ? 1 : 0,
                          gauges->guard.connections,
                          gauges->guard.body_memory,
                          gauges->waiters,
                          gauges->clients,
                          g_atomic_int_get (&self->purged),
                          gauges->log_suppressed);

  render_store (text, &gauges->store);
  return g_string_free (text, FALSE);
}
