/* relay-sqlite-checkpointer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One thread, one connection, PASSIVE checkpoints: they copy what no
 * reader still needs and wait for nobody. SQLite keeps them correct
 * against the writer's commits; the connection's synchronous = FULL makes
 * each sync the WAL before copying and the database after.
 */

#define G_LOG_DOMAIN "relay-sqlite-checkpointer"

#include "config.h"

#include <sqlite3.h>

#include "httpd-log.h"
#include "httpd-sqlite.h"
#include "relay-sqlite-checkpointer.h"

#define LOG_INTERVAL_SECONDS 60

struct _RelaySqliteCheckpointer
{
  sqlite3      *db;
  GThread      *thread;

  GMutex        lock;
  GCond         cond;
  gboolean      poked;
  gboolean      stopping;
  guint64       started;    /* checkpoints begun */
  guint64       finished;   /* the number of the last one finished */

  /* The thread's. */
  HttpdLogLimit failure_log;
};

static void
log_failure (RelaySqliteCheckpointer *self,
             int                      rc)
{
  guint64 suppressed = 0;

  if (!httpd_log_limit_allow (&self->failure_log, LOG_INTERVAL_SECONDS, &suppressed))
    return;
  g_warning ("Checkpoint failed: %s (%" G_GUINT64_FORMAT " more failures in the last %u s); "
             "the WAL grows until one succeeds",
             sqlite3_errstr (rc), suppressed, LOG_INTERVAL_SECONDS);
}

static gpointer
checkpointer_thread (gpointer data)
{
  RelaySqliteCheckpointer *self = data;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      guint64 run;
      int rc;

      while (!self->poked && !self->stopping)
        g_cond_wait (&self->cond, &self->lock);
      if (self->stopping)
        break;

      self->poked = FALSE;
      run = ++self->started;
      g_mutex_unlock (&self->lock);

      rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      /* BUSY: the writer truncating the WAL itself, which is as good.
       * FULL: the store says so already, and refuses what needs room. */
      if (rc == SQLITE_FULL)
        g_debug ("Checkpoint failed: the disk is full");
      else if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log_failure (self, rc);

      g_mutex_lock (&self->lock);
      self->finished = run;
      g_cond_broadcast (&self->cond);
    }
  g_mutex_unlock (&self->lock);

  return NULL;
}

/**
 * relay_sqlite_checkpointer_new:
 * @path: a database in WAL mode, which the store's writer has open
 *
 * Returns: (transfer full) (nullable): a running checkpointer, or %NULL
 *   with @error set if its connection could not be opened
 */
RelaySqliteCheckpointer *
relay_sqlite_checkpointer_new (const char  *path,
                               GError     **error)
{
  RelaySqliteCheckpointer *self;
  /* A checkpoint reads frames into a buffer of its own, not the cache. */
  sqlite3 *db = httpd_sqlite_open (path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                   "PRAGMA synchronous = FULL; PRAGMA cache_size = 16;", error);

  if (db == NULL)
    return NULL;

  self = g_new0 (RelaySqliteCheckpointer, 1);
  self->db = db;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->thread = g_thread_new ("relay-checkpoint", checkpointer_thread, self);
  return self;
}

/* Waits for the checkpoint under way, if any; none starts after it. */
void
relay_sqlite_checkpointer_free (RelaySqliteCheckpointer *self)
{
  if (self == NULL)
    return;

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);

  sqlite3_close (self->db);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

/* Asks for a checkpoint soon; returns at once. Pokes while one runs ask
 * for one more after it. */
void
relay_sqlite_checkpointer_poke (RelaySqliteCheckpointer *self)
{
  g_mutex_lock (&self->lock);
  self->poked = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
}

/**
 * relay_sqlite_checkpointer_catch_up:
 *
 * Waits for a checkpoint that begins after this call, so that it covers
 * every commit made before it. For the writer, between two transactions:
 * unless a reader still needed frames, the next one starts the WAL afresh.
 */
void
relay_sqlite_checkpointer_catch_up (RelaySqliteCheckpointer *self)
{
  guint64 target;

  g_mutex_lock (&self->lock);
  target = self->started + 1;
  self->poked = TRUE;
  g_cond_signal (&self->cond);
  while (self->finished < target && !self->stopping)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

/* Checkpoints finished so far. */
guint64
relay_sqlite_checkpointer_get_runs (RelaySqliteCheckpointer *self)
{
  guint64 runs;

  g_mutex_lock (&self->lock);
  runs = self->finished;
  g_mutex_unlock (&self->lock);

  return runs;
}
