/* relay-metrics.h: the relay's counters, and their Prometheus text
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "httpd-guard.h"
#include "relay-store.h"

G_BEGIN_DECLS

typedef enum
{
  RELAY_METRIC_CREATE,
  RELAY_METRIC_READ,
  RELAY_METRIC_DISPLAY,
  RELAY_METRIC_UPDATE,
  RELAY_METRIC_DELETE,
  RELAY_METRIC_RELINQUISH,
  RELAY_METRIC_WAIT,
  RELAY_METRIC_OTHER,
  RELAY_N_METRICS
} RelayMetric;

/* Counters, updated with atomics from libmicrohttpd's and the writer's
 * threads. */
typedef struct
{
  gint requests[RELAY_N_METRICS];
  gint statuses[6];         /* 1xx … 5xx by class */
  gint rejected_rate;
  gint rejected_size;
  gint rejected_waiters;
  gint rejected_mailboxes;
  gint rejected_storage;
  gint purged;
} RelayMetrics;

/* What is measured when the metrics are read. */
typedef struct
{
  gint64          mailboxes;
  gint64          stored_bytes;
  gboolean        disk_full;
  HttpdGuardStats guard;
  guint           waiters;
  guint           clients;
  guint64         log_suppressed;
  RelayStoreStats store;
} RelayGauges;

void  relay_metrics_count_status (RelayMetrics       *self,
                                  guint               status);
char *relay_metrics_render       (RelayMetrics       *self,
                                  const RelayGauges  *gauges);

G_END_DECLS
