/* relay-store.h: the narrow interface between the HTTP layer and storage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every mutation is one RelayOp whose conditions (who may do what, version
 * checks, idempotent retries) the store evaluates atomically with the write,
 * so that a shared network store for several relay instances can implement
 * the same operations without the HTTP layer changing.
 */

#pragma once

#include <glib-object.h>

#include "relay-mailbox.h"

G_BEGIN_DECLS

typedef enum
{
  RELAY_OP_CREATE,
  RELAY_OP_UPDATE,
  RELAY_OP_READ,        /* binds the recipient's claim on its first read */
  RELAY_OP_DELETE,
  RELAY_OP_RELINQUISH,
  RELAY_OP_PURGE,       /* removes expired mailboxes and tombstones */
  RELAY_OP_COUNT,       /* counts the live mailboxes into count, as count_live() */
  RELAY_OP_LOOKUP,      /* reads the mailbox into result (NULL: none), changes nothing;
                         * see relay_store_lookups_block() */
} RelayOpKind;

typedef enum
{
  RELAY_STATUS_OK,
  RELAY_STATUS_DUPLICATE,     /* a retried Mailbox-Request-ID: nothing changed */
  RELAY_STATUS_NOT_FOUND,     /* no such mailbox, deleted or expired */
  RELAY_STATUS_UNAUTHORIZED,  /* the claim is not one of the mailbox's two */
  RELAY_STATUS_FORBIDDEN,     /* the recipient lacks the access right */
  RELAY_STATUS_CONFLICT,      /* If-Match did not match the version */
  RELAY_STATUS_CLIENT_FULL,   /* the creator has as many mailboxes or bytes as allowed */
  RELAY_STATUS_STORE_FULL,    /* the relay stores as many mailboxes or bytes as allowed */
  RELAY_STATUS_NO_SPACE,      /* the disk is full */
  RELAY_STATUS_FAILED,        /* the store failed; see error */
  RELAY_STATUS_INVALID,       /* a create without a mailbox or an update without a payload
                               * (its body was refused) that retries nothing */
} RelayStatus;

/* Bounds the store keeps atomically with each write; 0: no bound. */
typedef struct
{
  guint64 max_mailboxes;              /* live mailboxes in all */
  guint64 max_bytes;                  /* bytes stored in all */
  guint64 max_mailboxes_per_creator;  /* live mailboxes of one client */
  guint64 max_bytes_per_creator;      /* bytes stored by one client's mailboxes */
  guint64 disk_reserve;               /* space held back, to delete in when the disk is full */
} RelayStoreLimits;

typedef struct
{
  gint64   mailboxes;                 /* not deleted, expired ones until purged */
  gint64   bytes;
  gboolean disk_full;                 /* writes that need space are refused */
  guint64  refused_no_space;
  guint64  refused_full;
} RelayStoreState;

/* A change another relay instance made to @mailbox_id, or with %NULL: news
 * of such changes may have been lost, every waiting read should look
 * again. Called from any thread. */
typedef void (*RelayStoreChangeFunc) (const char *mailbox_id,
                                      gpointer    user_data);

/* A read lease (redis-read-lease-ms): for that long after it asked for one
 * (RelayOp.lease), an instance may answer reads of the mailbox from what
 * the lookup gave it; a write through another instance is acknowledged
 * only once the lease has run out (PROTOCOL.md §6.10). The instance stops
 * LEASE_MARGIN before, for clocks that run at slightly different rates. */
#define RELAY_STORE_LEASE_MARGIN_USEC  (10 * 1000)
/* A write waits at most this long for one: a longer one is a primary's
 * clock that jumped. */
#define RELAY_STORE_MAX_LEASE_MS       10000

/* Store operations timed in RelayStoreStats: the RelayOpKinds; a lookup
 * is timed as RELAY_OP_LOOKUP whether it was an op or a call. */
#define RELAY_STORE_TIMED_LOOKUP   RELAY_OP_LOOKUP
#define RELAY_STORE_N_TIMED        (RELAY_STORE_TIMED_LOOKUP + 1)
/* Upper bounds of the latency histogram's buckets, in microseconds; one
 * more bucket counts what is above the last (+Inf). */
#define RELAY_STORE_N_BUCKETS      12
extern const gint64 relay_store_latency_bounds[RELAY_STORE_N_BUCKETS];

typedef enum
{
  RELAY_STORE_HEALTH_UNKNOWN,       /* not probed yet */
  RELAY_STORE_HEALTH_OK,
  RELAY_STORE_HEALTH_NO_NODE,       /* no node, or no primary, answers */
  RELAY_STORE_HEALTH_CLUSTER_DOWN,  /* the cluster says cluster_state:fail */
  RELAY_STORE_HEALTH_UNCOVERED,     /* some slots have no primary */
} RelayStoreHealth;

/* What /metrics and /healthz show of the store, for an operator. It exists
 * so that the HTTP thread never asks the store over the network to answer
 * them: the store (and relay-store.c around its operations) keeps it up to
 * date, with atomics since worker threads write it, and the server only
 * copies it (relay_store_get_stats()). */
typedef struct
{
  const char *kind;                 /* "sqlite" or "redis"; static */
  /* Kept by relay-store.c around every operation: from submission to the
   * done callback (the wait for a worker included), or the lookup's call. */
  guint64     latency[RELAY_STORE_N_TIMED][RELAY_STORE_N_BUCKETS + 1];
  guint64     latency_sum_usec[RELAY_STORE_N_TIMED];
  guint64     errors[RELAY_STORE_N_TIMED];   /* RELAY_STATUS_FAILED or _NO_SPACE; failed lookups */
  /* Kept by the store. A store without a network (SQLite) is always OK;
   * its full disk is RelayStoreState.disk_full. */
  gint        health;                        /* RelayStoreHealth */
  guint       primaries;                     /* Redis: primaries that answered the last probe */
  guint       primaries_known;               /* Redis: primaries in the slot map */
  guint64     redirects;                     /* Redis: MOVED and ASK followed */
  guint64     reconnects;                    /* Redis: connections made again after one failed */
  guint64     not_replicated;                /* Redis: writes no replica acknowledged in time */
  guint64     lease_waits;                   /* Redis: writes held until another instance's read lease ran out */
  guint64     lease_wait_usec;               /* Redis: and how long they were held, in all */
  guint64     wal_frames;                    /* SQLite: the WAL's pages after the last commit */
  guint64     checkpoint_waits;              /* SQLite: the writer waiting for a checkpoint to catch up */
  guint64     checkpoint_wait_usec;          /* SQLite: and how long it waited, in all */
} RelayStoreStats;

typedef struct _RelayStore RelayStore;
typedef struct _RelayOp RelayOp;
typedef void (*RelayOpDone) (RelayOp *op, gpointer user_data);

struct _RelayOp
{
  RelayOpKind    kind;
  gint64         now;
  char          *mailbox_id;
  char          *claim;
  char          *request_id;       /* nullable */

  /* CREATE: the mailbox to insert (id, claims, expiry, payload, display);
   * NULL when the body was refused, to answer only a retry */
  RelayMailbox  *mailbox;
  /* UPDATE; payload NULL when the body was refused, to answer only a retry */
  char          *payload_type;
  char          *payload_data;
  char          *token;            /* nullable notificationToken JSON */
  gint64         if_match;         /* -1 when absent */
  /* CREATE, UPDATE: the payload's bytes, if a store made them where the
   * operation was submitted (relay-payload.h) */
  guint8        *payload_bytes;
  gsize          payload_n_bytes;
  /* LOOKUP: ask for a read lease (RELAY_STORE_LEASE_USEC), with a store
   * other instances write to; leased says whether it was granted */
  gboolean       lease;
  gboolean       leased;

  /* Results */
  RelayStatus    status;
  gint64         purged;           /* PURGE: rows removed */
  gint64         count;            /* COUNT: live mailboxes */
  RelayMailbox  *result;           /* the mailbox after the operation */
  GError        *error;

  RelayOpDone    done;
  gpointer       user_data;

  /* relay_store_submit()'s, to time the operation */
  RelayStore    *store;
  gint64         submitted;
  RelayOpDone    caller_done;
  gpointer       caller_data;
};

RelayOp *relay_op_new  (RelayOpKind  kind,
                        gint64       now);
void     relay_op_free (RelayOp     *op);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelayOp, relay_op_free)

#define RELAY_TYPE_STORE (relay_store_get_type ())

G_DECLARE_INTERFACE (RelayStore, relay_store, RELAY, STORE, GObject)

struct _RelayStoreInterface
{
  GTypeInterface parent_iface;

  RelayMailbox *(*lookup)        (RelayStore  *self,
                                  const char  *id,
                                  GError     **error);
  void          (*submit)        (RelayStore  *self,
                                  RelayOp     *op);
  gint64        (*purge_expired) (RelayStore  *self,
                                  gint64       now,
                                  GError     **error);
  gint64        (*count_live)    (RelayStore  *self,
                                  gint64       now);
  void          (*flush)         (RelayStore  *self);
  void          (*get_state)     (RelayStore  *self,
                                  RelayStoreState *state);
  /* Optional: only a store other instances write to has news to give. */
  void          (*watch)         (RelayStore  *self,
                                  RelayStoreChangeFunc func,
                                  gpointer     user_data);
  /* The store's own, alive as long as it is; see RelayStoreStats */
  RelayStoreStats *(*stats)      (RelayStore  *self);
  /* Optional, FALSE if absent: lookup() and count_live() wait on the
   * network, so the HTTP thread submits RELAY_OP_LOOKUP and RELAY_OP_COUNT
   * instead; submit() then takes them. */
  gboolean      (*lookups_block) (RelayStore  *self);
};

RelayMailbox *relay_store_lookup        (RelayStore  *self,
                                         const char  *id,
                                         GError     **error);
void          relay_store_submit        (RelayStore  *self,
                                         RelayOp     *op);
typedef void (*RelayStoreSubmitFunc)    (RelayStore  *self,
                                         RelayOp     *op);
void          relay_store_run           (RelayStore  *self,
                                         RelayOp     *op,
                                         RelayStoreSubmitFunc submit);
gboolean      relay_store_lookups_block (RelayStore  *self);
gint64        relay_store_purge_expired (RelayStore  *self,
                                         gint64       now,
                                         GError     **error);
gint64        relay_store_count_live    (RelayStore  *self,
                                         gint64       now);
void          relay_store_flush         (RelayStore  *self);
void          relay_store_get_state     (RelayStore  *self,
                                         RelayStoreState *state);
void          relay_store_watch         (RelayStore  *self,
                                         RelayStoreChangeFunc func,
                                         gpointer     user_data);
void          relay_store_get_stats     (RelayStore  *self,
                                         RelayStoreStats *stats);

void          relay_store_stats_add     (guint64     *counter,
                                         guint64      n);
void          relay_store_stats_set_health (RelayStoreStats *stats,
                                         RelayStoreHealth health,
                                         guint        primaries,
                                         guint        primaries_known);

G_END_DECLS
