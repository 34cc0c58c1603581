/* httpd-guard.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libmicrohttpd's own connection timeout is an idle timer that every byte
 * resets, so a client that sends one header line every few seconds holds a
 * connection for ever; and it has no per-client limit that groups IPv6
 * addresses. The guard adds both, from the daemon's accept policy and
 * connection notifications:
 *
 * - at most max_per_client connections per address group (refused at
 *   accept, silently: a log line per refusal would be a flood of its own);
 * - a deadline for each request: its headers and body must have arrived
 *   request_timeout seconds after the connection opened, or after the
 *   previous request on it ended plus the idle grace. Connections are queued
 *   in the order their clock started, so the deadline thread only ever looks
 *   at the head of two queues. A late connection gets a 408 (in plain HTTP)
 *   and is shut down: libmicrohttpd then sees it close and cleans up. The
 *   socket cannot be closed and reused under us: libmicrohttpd notifies the
 *   close, which takes our lock, before it closes the descriptor.
 * - a budget for request bodies held in memory, overall and per address
 *   group, reserved from the declared Content-Length before a body is read;
 * - after many connections closed, what they freed is handed back to the
 *   system (glibc keeps it otherwise), so that memory falls after a flood.
 */

#define G_LOG_DOMAIN "httpd-guard"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#include "latchkey-protocol.h"
#include "httpd-guard.h"
#include "httpd-system.h"

/* Trim once this many connections closed since the last trim, at most
 * every TRIM_INTERVAL: a trim walks the allocator's arenas. */
#define TRIM_AFTER_CLOSED 256
#define TRIM_INTERVAL     (2 * G_USEC_PER_SEC)

typedef struct
{
  guint connections;
  gsize body_memory;
} Client;

typedef enum
{
  PHASE_FRESH,        /* opened, first request not in yet */
  PHASE_KEPT_ALIVE,   /* a request ended; the next one not in yet */
  PHASE_PROCESSING,   /* a request is in: no deadline while it is answered */
} Phase;

typedef struct
{
  GList    link;          /* in the phase's queue, if it has a deadline */
  Phase    phase;
  HttpdKey client;
  int      fd;
  gint64   since;         /* monotonic µs: when the phase began */
  gsize    body_memory;   /* reserved for the request in progress */
  gboolean cut;
} Conn;

struct _HttpdGuard
{
  HttpdGuardLimits limits;
  guint8           secret[32];

  GMutex           lock;
  GCond            cond;
  GHashTable      *clients;         /* HttpdKey → Client */
  GQueue           fresh;           /* PHASE_FRESH, oldest first */
  GQueue           kept_alive;      /* PHASE_KEPT_ALIVE, oldest first */
  HttpdGuardStats  stats;
  gboolean         stopping;
  GThread         *thread;
  char            *timeout_answer;
  guint            closed_since_trim;
  gint64           last_trim;
};

/* Written straight to the socket, which is all one can do from outside the
 * daemon; the same {error, message} form as every other answer. */
#define TIMEOUT_BODY "{\"error\":\"request_timeout\",\"message\":\"The request took too long to arrive\"}"

static gint64
deadline_of (HttpdGuard *self,
             Conn       *conn)
{
  gint64 allowed = (gint64) self->limits.request_timeout * G_USEC_PER_SEC;

  if (conn->phase == PHASE_KEPT_ALIVE)
    allowed += (gint64) self->limits.idle_timeout * G_USEC_PER_SEC;
  return conn->since + allowed;
}

/* The caller holds the lock. */
static void
cut (HttpdGuard *self,
     Conn       *conn)
{
  if (!self->limits.tls)
    (void) send (conn->fd, self->timeout_answer, strlen (self->timeout_answer), MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown (conn->fd, SHUT_RDWR);
  conn->cut = TRUE;
  self->stats.timed_out++;
}

static gpointer
watch_thread (gpointer data)
{
  HttpdGuard *self = data;

  g_mutex_lock (&self->lock);
  while (!self->stopping)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 next = G_MAXINT64;
      GQueue *queues[] = { &self->fresh, &self->kept_alive };

      for (guint i = 0; i < G_N_ELEMENTS (queues); i++)
        {
          Conn *conn;

          while ((conn = g_queue_peek_head (queues[i])) != NULL && deadline_of (self, conn) <= now)
            {
              g_queue_unlink (queues[i], &conn->link);
              conn->link.data = NULL;
              cut (self, conn);
            }
          if (conn != NULL)
            next = MIN (next, deadline_of (self, conn));
        }

      if (self->closed_since_trim >= TRIM_AFTER_CLOSED && now - self->last_trim >= TRIM_INTERVAL)
        {
          self->closed_since_trim = 0;
          self->last_trim = now;
          g_mutex_unlock (&self->lock);
          httpd_system_trim_memory ();
          g_mutex_lock (&self->lock);
          continue;
        }

      /* Enough closed, but too soon after the last trim: wake for the next. */
      if (self->closed_since_trim >= TRIM_AFTER_CLOSED)
        next = MIN (next, self->last_trim + TRIM_INTERVAL);
      if (next == G_MAXINT64)
        g_cond_wait (&self->cond, &self->lock);
      else
        g_cond_wait_until (&self->cond, &self->lock, next);
    }
  g_mutex_unlock (&self->lock);

  return NULL;
}

HttpdGuard *
httpd_guard_new (const HttpdGuardLimits *limits)
{
  HttpdGuard *self = g_new0 (HttpdGuard, 1);

  self->limits = *limits;
  self->timeout_answer = g_strdup_printf ("HTTP/1.1 408 Request Timeout\r\n"
                                          "Content-Type: application/json\r\n"
                                          "Cache-Control: no-store\r\n"
                                          "Connection: close\r\n"
                                          "Content-Length: %zu\r\n"
                                          "\r\n"
                                          TIMEOUT_BODY, strlen (TIMEOUT_BODY));
  lk_crypto_random (self->secret, sizeof self->secret, NULL);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->clients = g_hash_table_new_full (httpd_key_hash, httpd_key_equal, g_free, g_free);
  g_queue_init (&self->fresh);
  g_queue_init (&self->kept_alive);
  if (limits->request_timeout > 0)
    self->thread = g_thread_new ("httpd-guard", watch_thread, self);

  return self;
}

/**
 * httpd_guard_free:
 *
 * Only after the daemon has stopped: it holds pointers into the guard.
 */
void
httpd_guard_free (HttpdGuard *self)
{
  if (self == NULL)
    return;

  if (self->thread != NULL)
    {
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      g_cond_signal (&self->cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (self->thread);
    }

  g_hash_table_unref (self->clients);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  gnutls_memset (self->secret, 0, sizeof self->secret);
  g_free (self->timeout_answer);
  g_free (self);
}

static void
client_key (HttpdGuard            *self,
            const struct sockaddr *address,
            HttpdKey              *key)
{
  HttpdGroup group;

  httpd_group_from_sockaddr (&group, address, self->limits.ipv6_prefix);
  httpd_group_key (&group, self->secret, sizeof self->secret, key);
}

/**
 * httpd_guard_accept_policy:
 *
 * libmicrohttpd's accept policy callback, with the guard as its argument.
 */
enum MHD_Result
httpd_guard_accept_policy (void                  *guard,
                           const struct sockaddr *address,
                           socklen_t              length)
{
  HttpdGuard *self = guard;
  HttpdKey key;
  Client *client;
  gboolean allowed;

  if (self->limits.max_per_client == 0)
    return MHD_YES;

  client_key (self, address, &key);
  g_mutex_lock (&self->lock);
  client = g_hash_table_lookup (self->clients, &key);
  allowed = client == NULL || client->connections < self->limits.max_per_client;
  if (!allowed)
    self->stats.refused_connections++;
  g_mutex_unlock (&self->lock);

  return allowed ? MHD_YES : MHD_NO;
}

/* The caller holds the lock. */
static void
enter_phase (HttpdGuard *self,
             Conn       *conn,
             Phase       phase)
{
  GQueue *queue;

  if (conn->link.data != NULL)
    {
      g_queue_unlink (conn->phase == PHASE_FRESH ? &self->fresh : &self->kept_alive, &conn->link);
      conn->link.data = NULL;
    }

  conn->phase = phase;
  conn->since = g_get_monotonic_time ();
  if (phase == PHASE_PROCESSING || self->thread == NULL || conn->cut)
    return;

  queue = phase == PHASE_FRESH ? &self->fresh : &self->kept_alive;
  conn->link.data = conn;
  g_queue_push_tail_link (queue, &conn->link);
  /* A new head is the only case where the watcher would sleep too long. */
  if (queue->length == 1)
    g_cond_signal (&self->cond);
}

/* The caller holds the lock. */
static void
release_body (HttpdGuard *self,
              Conn       *conn)
{
  Client *client = g_hash_table_lookup (self->clients, &conn->client);

  self->stats.body_memory -= conn->body_memory;
  if (client != NULL)
    client->body_memory -= conn->body_memory;
  conn->body_memory = 0;
}

/**
 * httpd_guard_notify_connection:
 *
 * libmicrohttpd's connection notification callback (MHD_OPTION_NOTIFY_CONNECTION),
 * with the guard as its argument.
 */
void
httpd_guard_notify_connection (void                                *guard,
                               struct MHD_Connection               *connection,
                               void                               **socket_context,
                               enum MHD_ConnectionNotificationCode  code)
{
  HttpdGuard *self = guard;
  Conn *conn = *socket_context;
  Client *client;

  if (code == MHD_CONNECTION_NOTIFY_STARTED)
    {
      const union MHD_ConnectionInfo *address = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
      const union MHD_ConnectionInfo *fd = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CONNECTION_FD);

      conn = g_new0 (Conn, 1);
      conn->fd = fd != NULL ? fd->connect_fd : -1;
      client_key (self, address != NULL ? address->client_addr : NULL, &conn->client);
      *socket_context = conn;

      g_mutex_lock (&self->lock);
      client = g_hash_table_lookup (self->clients, &conn->client);
      if (client == NULL)
        {
          client = g_new0 (Client, 1);
          g_hash_table_insert (self->clients, g_memdup2 (&conn->client, sizeof conn->client), client);
        }
      client->connections++;
      self->stats.connections++;
      enter_phase (self, conn, PHASE_FRESH);
      g_mutex_unlock (&self->lock);
      return;
    }

  if (conn == NULL)
    return;

  g_mutex_lock (&self->lock);
  release_body (self, conn);
  enter_phase (self, conn, PHASE_PROCESSING);
  client = g_hash_table_lookup (self->clients, &conn->client);
  if (client != NULL && --client->connections == 0)
    g_hash_table_remove (self->clients, &conn->client);
  self->stats.connections--;
  if (++self->closed_since_trim == TRIM_AFTER_CLOSED)
    g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);

  g_free (conn);
  *socket_context = NULL;
}

static Conn *
conn_of (struct MHD_Connection *connection)
{
  const union MHD_ConnectionInfo *info = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

  return info != NULL ? info->socket_context : NULL;
}

/**
 * httpd_guard_reserve_body:
 * @bytes: the declared Content-Length
 *
 * Reserves memory for the request's body, until the request completes.
 *
 * Returns: %FALSE if that would go over a budget; nothing is reserved
 */
gboolean
httpd_guard_reserve_body (HttpdGuard            *self,
                          struct MHD_Connection *connection,
                          gsize                  bytes)
{
  Conn *conn = conn_of (connection);
  Client *client;
  gboolean allowed;

  if (conn == NULL || bytes == 0)
    return TRUE;

  g_mutex_lock (&self->lock);
  client = g_hash_table_lookup (self->clients, &conn->client);
  allowed = (self->limits.max_body_memory == 0 ||
             self->stats.body_memory + bytes <= self->limits.max_body_memory) &&
            (self->limits.max_per_client == 0 || self->limits.max_body_memory_per_client == 0 || client == NULL ||
             client->body_memory + bytes <= self->limits.max_body_memory_per_client);
  if (allowed)
    {
      conn->body_memory += bytes;
      self->stats.body_memory += bytes;
      if (client != NULL)
        client->body_memory += bytes;
    }
  else
    self->stats.refused_bodies++;
  g_mutex_unlock (&self->lock);

  return allowed;
}

/**
 * httpd_guard_request_received:
 *
 * The request is all in (the access handler's last call): its deadline no
 * longer applies while it is processed and answered.
 */
void
httpd_guard_request_received (HttpdGuard            *self,
                              struct MHD_Connection *connection)
{
  Conn *conn = conn_of (connection);

  if (conn == NULL)
    return;

  g_mutex_lock (&self->lock);
  enter_phase (self, conn, PHASE_PROCESSING);
  g_mutex_unlock (&self->lock);
}

/**
 * httpd_guard_request_completed:
 *
 * From the request-completed callback: the body's memory is released, and
 * the clock for the next request on the connection starts.
 */
void
httpd_guard_request_completed (HttpdGuard            *self,
                               struct MHD_Connection *connection)
{
  Conn *conn = conn_of (connection);

  if (conn == NULL)
    return;

  g_mutex_lock (&self->lock);
  release_body (self, conn);
  enter_phase (self, conn, PHASE_KEPT_ALIVE);
  g_mutex_unlock (&self->lock);
}

void
httpd_guard_get_stats (HttpdGuard      *self,
                       HttpdGuardStats *stats)
{
  g_mutex_lock (&self->lock);
  *stats = self->stats;
  g_mutex_unlock (&self->lock);
}
