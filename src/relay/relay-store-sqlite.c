/* relay-store-sqlite.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One writer thread owns the write connection. It takes every operation that
 * is waiting, applies them in one transaction, commits (one fsync, as
 * synchronous=FULL in WAL mode syncs the log on commit), and only then
 * reports each result: group commit, so that full durability stays fast.
 * Lookups use a small pool of read-only connections, which WAL lets run
 * beside the writer.
 *
 * The writer also keeps the store's bounds (relay-store.h): it counts live
 * mailboxes and stored bytes in all, and per creator from an index, inside
 * the transaction that writes, so that no two creates race past a limit and
 * the counts survive a restart.
 *
 * Mailbox ids are random, and so are claims: no index on the mailbox table
 * holds either. The newest ids, and retry keys (claim and request id) of
 * creates, are in memory (relay-sqlite-ids.h) and the writer moves them
 * into the key table in bulk, in key order, a chunk with each batch, as
 * relay-sqlite-keys.h keeps count; this file writes what it says. Rows are
 * numbered by the writer, in order and never twice, so that the mark up to
 * which the table is complete says which rows memory must hold; a lookup
 * checks the row's own id, so a stale row number finds nothing.
 *
 * A full disk: SQLite answers SQLITE_FULL. The writer then gives back a
 * reserve file it keeps (disk-reserve), retries the operations of the batch
 * that free space or need next to none (deletes, relinquishments, the first
 * read's binding, the purge), and answers creates and updates "no space"
 * until it can take its reserve back. The WAL is checkpointed and truncated
 * often enough that it, rather than the data, never fills the disk.
 */

#define G_LOG_DOMAIN "relay-store-sqlite"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "httpd-log.h"
#include "httpd-sqlite.h"
#include "relay-payload.h"
#include "relay-sqlite-checkpointer.h"
#include "relay-sqlite-ids.h"
#include "relay-sqlite-keys.h"
#include "relay-store-sqlite.h"

#define MAX_BATCH 512

/* The WAL: copied into the database on the checkpointer's thread every
 * 250 pages (without waiting for readers); past 1,000 pages, about 4 MB,
 * the writer waits for it to copy the rest before its next transaction,
 * which then starts the WAL afresh (relay-sqlite-checkpointer.h). If
 * readers kept that from happening, the writer waits for them and
 * truncates it past 4,000. The WAL is cut back to 4 MB after a
 * checkpoint. */
#define WAL_POKE_FRAMES       250
#define WAL_CHECKPOINT_FRAMES 1000
#define WAL_TRUNCATE_FRAMES   4000
#define WAL_SIZE_LIMIT        4194304   /* 4 MiB */

/* While the disk is full, how often to try to take the reserve back. */
#define RECOVERY_INTERVAL_USEC (5 * G_USEC_PER_SEC)
#define LOG_INTERVAL_SECONDS   60

#define MAILBOX_COLUMNS \
  "id, version, initiator_claim, recipient_claim, access, created, expires, deleted, " \
  "payload_type, payload_data, title, description, image_url, initiator_token, " \
  "recipient_token, initiator_request_id, recipient_request_id, relinquished_claim, size, creator, " \
  "max_recipients, more_recipients, done_recipients"

/* The columns, then the row (column 23), which later writes go by. */
#define MAILBOX_SELECT "SELECT " MAILBOX_COLUMNS ", rowid FROM mailbox "
#define BY_ROW         "WHERE rowid = ?1 AND id = ?2"
#define BY_ID_TABLE    "WHERE rowid = (SELECT mailbox FROM mailbox_key WHERE key = ?2) AND id = ?2"
/* A retried create: ?2 its retry key, ?3 to ?5 the claim, request id and time. */
#define RETRY          "AND initiator_claim = ?3 AND initiator_request_id = ?4 AND deleted = 0 AND expires > ?5"
#define RETRY_BY_ROW   "WHERE rowid = ?1 " RETRY
#define RETRY_BY_TABLE "WHERE rowid = (SELECT mailbox FROM mailbox_key WHERE key = ?2) " RETRY

typedef struct
{
  sqlite3      *db;
  sqlite3_stmt *lookup_row;
  sqlite3_stmt *lookup_indexed;
  sqlite3_stmt *count_live;
} Reader;

typedef enum
{
  STMT_SELECT,
  STMT_SELECT_INDEXED,
  STMT_SELECT_RETRY,
  STMT_SELECT_RETRY_INDEXED,
  STMT_INSERT,
  STMT_UPDATE_INITIATOR,
  STMT_UPDATE_RECIPIENT,
  STMT_BIND,
  STMT_BIND_MORE,
  STMT_DONE,
  STMT_RELINQUISH_MORE,
  STMT_DELETE_INITIATOR,
  STMT_DELETE_RECIPIENT,
  STMT_RELINQUISH,
  STMT_PURGE_INDEXED,
  STMT_PURGE,
  STMT_INDEX_ID,
  STMT_INDEX_MARK,
  STMT_FORGET_KEY,
  STMT_CREATOR_USAGE,
  STMT_EXPIRED_USAGE,
  STMT_BEGIN,
  STMT_COMMIT,
  N_STMTS
} Stmt;

static const char * const stmt_sql[N_STMTS] = {
  MAILBOX_SELECT BY_ROW,
  MAILBOX_SELECT BY_ID_TABLE,
  MAILBOX_SELECT RETRY_BY_ROW,
  MAILBOX_SELECT RETRY_BY_TABLE,
  "INSERT INTO mailbox (id, version, initiator_claim, access, created, expires, payload_type, payload_data, "
    "title, description, image_url, initiator_token, initiator_request_id, size, creator, max_recipients, rowid) "
    "VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  "UPDATE mailbox SET payload_type = ?, payload_data = ?, version = version + 1, "
    "initiator_token = coalesce(?, initiator_token), initiator_request_id = ?, size = ? WHERE rowid = ?",
  "UPDATE mailbox SET payload_type = ?, payload_data = ?, version = version + 1, "
    "recipient_token = coalesce(?, recipient_token), recipient_request_id = ?, size = ? WHERE rowid = ?",
  "UPDATE mailbox SET recipient_claim = ?, version = version + 1 WHERE rowid = ? AND recipient_claim IS NULL",
  "UPDATE mailbox SET more_recipients = ?, version = version + 1 WHERE rowid = ?",
  "UPDATE mailbox SET done_recipients = ?, recipient_request_id = ?, version = version + 1 WHERE rowid = ?",
  "UPDATE mailbox SET more_recipients = ?, relinquished_claim = ?, recipient_request_id = ?, "
    "version = version + 1 WHERE rowid = ?",
  "UPDATE mailbox SET deleted = 1, version = version + 1, payload_type = NULL, payload_data = NULL, "
    "title = NULL, description = NULL, image_url = NULL, initiator_token = NULL, recipient_token = NULL, "
    "size = 0, creator = NULL, initiator_request_id = ? WHERE rowid = ?",
  "UPDATE mailbox SET deleted = 1, version = version + 1, payload_type = NULL, payload_data = NULL, "
    "title = NULL, description = NULL, image_url = NULL, initiator_token = NULL, recipient_token = NULL, "
    "size = 0, creator = NULL, recipient_request_id = ? WHERE rowid = ?",
  "UPDATE mailbox SET relinquished_claim = recipient_claim, recipient_claim = NULL, recipient_token = NULL, "
    "recipient_request_id = ?, version = version + 1 WHERE rowid = ?",
  /* The keys a row has: its id, and its retry key while it has a request
   * id (forget_retry_key() keeps it so). */
  "DELETE FROM mailbox_key WHERE key IN (SELECT id FROM mailbox WHERE expires <= ?1 UNION ALL "
    "SELECT initiator_claim || ' ' || initiator_request_id FROM mailbox "
    "WHERE expires <= ?1 AND initiator_request_id IS NOT NULL)",
  "DELETE FROM mailbox WHERE expires <= ? RETURNING rowid, id, initiator_claim, initiator_request_id",
  "INSERT OR REPLACE INTO mailbox_key (key, mailbox) VALUES (?, ?)",
  "UPDATE mailbox_key_mark SET indexed = ?",
  "DELETE FROM mailbox_key WHERE key = ?",
  "SELECT count(*), total(size) FROM "
    "(SELECT size FROM mailbox WHERE creator = ? AND deleted = 0 AND expires > ? LIMIT ?)",
  "SELECT count(*), total(size) FROM mailbox WHERE expires <= ? AND deleted = 0",
  /* Prepared too: parsing them took a tenth of a lone create's instructions. */
  "BEGIN IMMEDIATE",
  "COMMIT",
};

struct _RelayStoreSqlite
{
  GObject       parent_instance;

  sqlite3_stmt *stmts[N_STMTS];   /* the writer's, prepared once */

  char         *path;
  sqlite3      *db;               /* the writer's; used on the writer thread only */
  GAsyncQueue  *readers;

  GThread      *writer;
  RelaySqliteCheckpointer *checkpointer;
  int           wal_poked;        /* the WAL's frames at the last poke */
  gboolean      wal_catch_up;     /* the writer's: wait before the next transaction */
  gint          wal_frames_max;   /* the longest the WAL was after a commit */
  GMutex        lock;
  GCond         cond;
  GCond         idle;
  GQueue        pending;
  guint         in_flight;
  gboolean      stopping;

  gsize         commits;
  gsize         ops;

  /* The newest mailboxes' keys, for lookups from any thread; the writer
   * keeps them (relay-sqlite-keys.h). Rows are given out in order from
   * @last_row, never twice. */
  RelaySqliteIds  *ids;
  RelaySqliteKeys *keys;
  gint64        last_row;

  /* The writer's. Usage is what is committed; the batch's changes are
   * added once it commits. */
  RelayStoreLimits limits;
  gint64        mailboxes;
  gint64        bytes;
  gint64        batch_mailboxes;
  gint64        batch_bytes;
  int           reserve_fd;
  gint64        last_recovery;
  HttpdLogLimit failure_log;
  RelayStoreStats stats;

  /* Published for other threads, under the lock. */
  RelayStoreState state;
};


static void relay_store_iface_init (RelayStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RelayStoreSqlite, relay_store_sqlite, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (RELAY_TYPE_STORE, relay_store_iface_init))

/* A rowid table: inserts append (a WITHOUT ROWID table would split pages
 * of 4 KiB rows all over). Ids and retry keys have no index on it: the
 * newest are in memory, the others in mailbox_key, flushed there in bulk
 * (relay-sqlite-ids.h); mailbox_key_mark's one row says up to which row.
 * An index on mailbox_key's rows would take a page of recent rows for
 * every few keys of a flush: the sweep finds a row's keys from the row. */
#define MAILBOX_TABLE \
  "("                                    \
  "  id TEXT NOT NULL,"                  \
  "  version INTEGER NOT NULL,"          \
  "  initiator_claim TEXT NOT NULL,"     \
  "  recipient_claim TEXT,"              \
  "  access INTEGER NOT NULL,"           \
  "  created INTEGER NOT NULL,"          \
  "  expires INTEGER NOT NULL,"          \
  "  deleted INTEGER NOT NULL DEFAULT 0," \
  "  payload_type TEXT,"                 \
  "  payload_data TEXT,"                 \
  "  title TEXT,"                        \
  "  description TEXT,"                  \
  "  image_url TEXT,"                    \
  "  initiator_token TEXT,"              \
  "  recipient_token TEXT,"              \
  "  initiator_request_id TEXT,"         \
  "  recipient_request_id TEXT,"         \
  "  relinquished_claim TEXT,"           \
  "  size INTEGER NOT NULL DEFAULT 0,"   \
  "  creator BLOB,"                      \
  "  max_recipients INTEGER NOT NULL DEFAULT 1," \
  "  more_recipients TEXT,"              \
  "  done_recipients TEXT"               \
  ")"

#define MAILBOX_INDEXES \
  "CREATE INDEX IF NOT EXISTS mailbox_expires ON mailbox (expires);"

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS mailbox " MAILBOX_TABLE ";"
  MAILBOX_INDEXES
  "CREATE TABLE IF NOT EXISTS mailbox_key (key TEXT PRIMARY KEY, mailbox INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS mailbox_key_mark (indexed INTEGER NOT NULL);"
  "INSERT INTO mailbox_key_mark SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM mailbox_key_mark);";

/* Databases from before the key table had a unique index on the mailbox
 * table's ids; SQLite drops such an index only with its table. */
static const char migrate_id_index[] =
  "CREATE TABLE mailbox_rebuilt " MAILBOX_TABLE ";"
  "INSERT INTO mailbox_rebuilt (rowid, " MAILBOX_COLUMNS ") SELECT rowid, " MAILBOX_COLUMNS " FROM mailbox;"
  "DROP TABLE mailbox;"
  "ALTER TABLE mailbox_rebuilt RENAME TO mailbox;"
  MAILBOX_INDEXES
  "DROP INDEX IF EXISTS mailbox_initiator;"
  "INSERT OR REPLACE INTO mailbox_key (key, mailbox) "
  "  SELECT id, rowid FROM mailbox UNION ALL "
  "  SELECT initiator_claim || ' ' || initiator_request_id, rowid FROM mailbox WHERE initiator_request_id IS NOT NULL "
  "  ORDER BY 1;"
  "UPDATE mailbox_key_mark SET indexed = (SELECT coalesce(max(rowid), 0) FROM mailbox);";

/* Databases from before per-client limits were counted from the store:
 * their mailboxes have no creator, and their sizes are counted once. */
static const char migrate_creator[] =
  "ALTER TABLE mailbox ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE mailbox ADD COLUMN creator BLOB;"
  "UPDATE mailbox SET size = coalesce(length(CAST(payload_type AS BLOB)), 0) + "
  "  coalesce(length(CAST(payload_data AS BLOB)), 0) + coalesce(length(CAST(title AS BLOB)), 0) + "
  "  coalesce(length(CAST(description AS BLOB)), 0) + coalesce(length(CAST(image_url AS BLOB)), 0) + "
  "  coalesce(length(CAST(initiator_token AS BLOB)), 0) + coalesce(length(CAST(recipient_token AS BLOB)), 0) "
  "  WHERE deleted = 0;";

/* Databases from before several recipients (issue 13): every mailbox has
 * the draft's one. The claims are UUIDs, kept space-separated. */
static const char migrate_recipients[] =
  "ALTER TABLE mailbox ADD COLUMN max_recipients INTEGER NOT NULL DEFAULT 1;"
  "ALTER TABLE mailbox ADD COLUMN more_recipients TEXT;"
  "ALTER TABLE mailbox ADD COLUMN done_recipients TEXT;";

/* A creator's live mailboxes, counted for every create. */
static const char creator_index[] =
  "CREATE INDEX IF NOT EXISTS mailbox_creator ON mailbox (creator, expires, size) "
  "  WHERE deleted = 0 AND creator IS NOT NULL;";

static int
exec_in_transaction (sqlite3    *db,
                     const char *sql)
{
  int rc = sqlite3_exec (db, "BEGIN IMMEDIATE;", NULL, NULL, NULL);

  if (rc == SQLITE_OK)
    rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    return sqlite3_exec (db, "COMMIT;", NULL, NULL, NULL);

  sqlite3_exec (db, "ROLLBACK;", NULL, NULL, NULL);
  return rc;
}

static int
migrate_step (sqlite3    *db,
              const char *column,
              const char *sql)
{
  if (sqlite3_table_column_metadata (db, NULL, "mailbox", column, NULL, NULL, NULL, NULL, NULL) == SQLITE_OK)
    return SQLITE_OK;

  return exec_in_transaction (db, sql);
}

static gboolean
has_id_index (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  gboolean found = FALSE;

  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = 'mailbox' "
                              "AND name LIKE 'sqlite_autoindex_mailbox_%'", -1, &stmt, NULL) == SQLITE_OK)
    found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_finalize (stmt);
  return found;
}

/* Rewrites the whole table once, in one transaction: on a full disk it
 * fails and the store stays closed, as for any migration. */
static int
migrate_ids (sqlite3 *db)
{
  if (!has_id_index (db))
    return SQLITE_OK;

  g_message ("Moving the mailbox ids to a table of their own (once; the whole database is rewritten)");
  return exec_in_transaction (db, migrate_id_index);
}

static int
migrate (sqlite3 *db)
{
  int rc = migrate_step (db, "creator", migrate_creator);

  if (rc == SQLITE_OK)
    rc = migrate_step (db, "max_recipients", migrate_recipients);
  if (rc == SQLITE_OK)
    rc = migrate_ids (db);
  return rc;
}

static sqlite3 *
open_db (const char  *path,
         gboolean     writer,
         GError     **error)
{
  int flags = SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
  sqlite3 *db = httpd_sqlite_open (path, flags,
                                   /* Incremental: pages freed by deletes can be handed back to the
                                    * file system when the disk is full (a new database only; an
                                    * older one keeps its free pages for reuse). */
                                   writer ? "PRAGMA auto_vacuum = INCREMENTAL;"
                                            "PRAGMA journal_mode = WAL;"
                                            "PRAGMA synchronous = FULL;"
                                            "PRAGMA cache_size = -8000;"
                                            "PRAGMA journal_size_limit = " G_STRINGIFY (WAL_SIZE_LIMIT) ";"
                                          : "PRAGMA query_only = 1;",
                                   error);
  int rc = SQLITE_OK;

  if (db == NULL || !writer)
    return db;

  rc = sqlite3_exec (db, schema, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = migrate (db);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (db, creator_index, NULL, NULL, NULL);
  if (!httpd_sqlite_check (db, rc, "Could not prepare the database", error))
    {
      sqlite3_close (db);
      return NULL;
    }

  return db;
}

static GStrv
claims_from_column (sqlite3_stmt *stmt,
                    int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  if (text == NULL || *text == '\0')
    return NULL;
  return g_strsplit (text, " ", -1);
}

/* Adds @claim to @claims; returns the list as its column holds it. */
static char *
claims_add (GStrv      *claims,
            const char *claim)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (*claims != NULL)
    g_strv_builder_addv (builder, (const char **) *claims);
  g_strv_builder_add (builder, claim);
  g_strfreev (*claims);
  *claims = g_strv_builder_end (builder);
  return g_strjoinv (" ", *claims);
}

/* Removes @claim from @claims; returns the column's value (NULL if empty). */
static char *
claims_remove (GStrv      *claims,
               const char *claim)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; *claims != NULL && (*claims)[i] != NULL; i++)
    if (g_strcmp0 ((*claims)[i], claim) != 0)
      g_strv_builder_add (builder, (*claims)[i]);
  g_strfreev (*claims);
  *claims = g_strv_builder_end (builder);
  if ((*claims)[0] == NULL)
    {
      g_clear_pointer (claims, g_strfreev);
      return NULL;
    }
  return g_strjoinv (" ", *claims);
}

/* Its bytes where submit made them, else the text (relay-payload.h). */
static void
bind_payload (sqlite3_stmt *stmt,
              int           index,
              RelayOp      *op,
              const char   *text)
{
  if (op->payload_bytes != NULL)
    sqlite3_bind_blob (stmt, index, op->payload_bytes, (int) op->payload_n_bytes, SQLITE_STATIC);
  else
    httpd_sqlite_bind_text (stmt, index, text);
}

static char *
column_payload (sqlite3_stmt *stmt,
                int           column)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_BLOB)
    return relay_payload_to_text (sqlite3_column_blob (stmt, column), (gsize) sqlite3_column_bytes (stmt, column));
  return httpd_sqlite_column_text (stmt, column);
}

static RelayMailbox *
mailbox_from_row (sqlite3_stmt *stmt)
{
  RelayMailbox *mailbox = relay_mailbox_new ();

  mailbox->id = httpd_sqlite_column_text (stmt, 0);
  mailbox->version = sqlite3_column_int64 (stmt, 1);
  mailbox->initiator_claim = httpd_sqlite_column_text (stmt, 2);
  mailbox->recipient_claim = httpd_sqlite_column_text (stmt, 3);
  mailbox->access = sqlite3_column_int (stmt, 4);
  mailbox->created = sqlite3_column_int64 (stmt, 5);
  mailbox->expires = sqlite3_column_int64 (stmt, 6);
  mailbox->deleted = sqlite3_column_int (stmt, 7) != 0;
  mailbox->payload_type = httpd_sqlite_column_text (stmt, 8);
  mailbox->payload_data = column_payload (stmt, 9);
  mailbox->title = httpd_sqlite_column_text (stmt, 10);
  mailbox->description = httpd_sqlite_column_text (stmt, 11);
  mailbox->image_url = httpd_sqlite_column_text (stmt, 12);
  mailbox->initiator_token = httpd_sqlite_column_text (stmt, 13);
  mailbox->recipient_token = httpd_sqlite_column_text (stmt, 14);
  mailbox->initiator_request_id = httpd_sqlite_column_text (stmt, 15);
  mailbox->recipient_request_id = httpd_sqlite_column_text (stmt, 16);
  mailbox->relinquished_claim = httpd_sqlite_column_text (stmt, 17);
  mailbox->size = sqlite3_column_int64 (stmt, 18);
  mailbox->has_creator = sqlite3_column_bytes (stmt, 19) == sizeof mailbox->creator;
  if (mailbox->has_creator)
    memcpy (mailbox->creator.bytes, sqlite3_column_blob (stmt, 19), sizeof mailbox->creator);
  mailbox->max_recipients = (guint) CLAMP (sqlite3_column_int (stmt, 20), 1, 10);
  mailbox->more_recipients = claims_from_column (stmt, 21);
  mailbox->done_recipients = claims_from_column (stmt, 22);

  return mailbox;
}

/* Writer side. Each function runs inside the batch transaction, applies one
 * operation, sets op->status and op->result, and returns FALSE only for a
 * database failure, which aborts the whole batch. */

static sqlite3_stmt *
writer_stmt (RelayStoreSqlite *self,
             Stmt              which)
{
  sqlite3_stmt *stmt = self->stmts[which];

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return stmt;
}

/* Binds ?1 and ?2 of a lookup by row or by the key table. */
static sqlite3_stmt *
bind_lookup (RelaySqliteIds *ids,
             sqlite3_stmt   *by_row,
             sqlite3_stmt   *by_table,
             const char     *id)
{
  sqlite3_stmt *stmt = by_table;
  gint64 row;

  if (relay_sqlite_ids_lookup (ids, id, &row))
    {
      stmt = by_row;
      sqlite3_bind_int64 (stmt, 1, row);
    }
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  return stmt;
}

/* @row: the mailbox's row, which the writes that follow go by. */
static gboolean
select_mailbox (RelayStoreSqlite  *self,
                const char        *id,
                RelayMailbox     **out,
                gint64            *row,
                GError           **error)
{
  sqlite3_stmt *stmt;
  int rc;

  *out = NULL;
  sqlite3_reset (self->stmts[STMT_SELECT_INDEXED]);
  stmt = bind_lookup (self->ids, writer_stmt (self, STMT_SELECT), self->stmts[STMT_SELECT_INDEXED], id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *out = mailbox_from_row (stmt);
      *row = sqlite3_column_int64 (stmt, 23);
    }
  else if (!httpd_sqlite_check (self->db, rc, "select", error))
    {
      sqlite3_reset (stmt);
      return FALSE;
    }

  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
exec_stmt (RelayStoreSqlite  *self,
           sqlite3_stmt      *stmt,
           GError           **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  return httpd_sqlite_check (self->db, rc, "write", error);
}

static gboolean
run_stmt (RelayStoreSqlite  *self,
          Stmt               which,
          const char        *what,
          GError           **error)
{
  sqlite3_stmt *stmt = self->stmts[which];
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  return httpd_sqlite_check (self->db, rc, what, error);
}

static gboolean
query_usage (RelayStoreSqlite  *self,
             sqlite3_stmt      *stmt,
             gint64            *mailboxes,
             gint64            *bytes,
             GError           **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    {
      *mailboxes = sqlite3_column_int64 (stmt, 0);
      *bytes = (gint64) sqlite3_column_double (stmt, 1);
    }
  sqlite3_reset (stmt);
  return httpd_sqlite_check (self->db, rc, "usage", error);
}

/* Whether @more_mailboxes and @more_bytes still fit the bounds; sets
 * op->status if not. The creator's usage comes from the index, the total
 * from the writer's counts. */
static gboolean
fits (RelayStoreSqlite  *self,
      RelayOp           *op,
      const RelayMailbox *m,
      gint64             more_mailboxes,
      gint64             more_bytes,
      gboolean          *fit,
      GError           **error)
{
  const RelayStoreLimits *limits = &self->limits;

  *fit = FALSE;
  if ((limits->max_mailboxes > 0 &&
       self->mailboxes + self->batch_mailboxes + more_mailboxes > (gint64) limits->max_mailboxes) ||
      (limits->max_bytes > 0 && self->bytes + self->batch_bytes + more_bytes > (gint64) limits->max_bytes))
    {
      op->status = RELAY_STATUS_STORE_FULL;
      return TRUE;
    }

  if (m->has_creator && (limits->max_mailboxes_per_creator > 0 || limits->max_bytes_per_creator > 0))
    {
      sqlite3_stmt *stmt = writer_stmt (self, STMT_CREATOR_USAGE);
      gint64 mailboxes = 0, bytes = 0;

      sqlite3_bind_blob (stmt, 1, m->creator.bytes, sizeof m->creator.bytes, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, op->now);
      /* Counting past the limit would tell nothing more. */
      sqlite3_bind_int64 (stmt, 3, limits->max_mailboxes_per_creator > 0
                                     ? (gint64) limits->max_mailboxes_per_creator + 1 : -1);
      if (!query_usage (self, stmt, &mailboxes, &bytes, error))
        return FALSE;

      if ((limits->max_mailboxes_per_creator > 0 &&
           mailboxes + more_mailboxes > (gint64) limits->max_mailboxes_per_creator) ||
          (limits->max_bytes_per_creator > 0 && bytes + more_bytes > (gint64) limits->max_bytes_per_creator))
        {
          op->status = RELAY_STATUS_CLIENT_FULL;
          return TRUE;
        }
    }

  *fit = TRUE;
  return TRUE;
}

/* What finds a create again when it is retried with its request id: it
 * joins the mailbox ids in memory and in the key table (a space cannot be
 * in an id). */
static char *
retry_key (const char *claim,
           const char *request_id)
{
  return g_strconcat (claim, " ", request_id, NULL);
}

static gboolean
apply_create (RelayStoreSqlite  *self,
              RelayOp           *op,
              GError           **error)
{
  RelayMailbox *m = op->mailbox;
  g_autofree char *key = NULL;
  sqlite3_stmt *stmt;
  gboolean fit;
  int rc;

  /* A retried create answers with the mailbox the first attempt made. */
  if (op->request_id != NULL)
    {
      gint64 row;

      key = retry_key (op->claim, op->request_id);
      sqlite3_reset (self->stmts[STMT_SELECT_RETRY_INDEXED]);
      /* Also an attempt earlier in this batch, not in memory yet. */
      if (relay_sqlite_keys_lookup_added (self->keys, key, &row))
        {
          stmt = writer_stmt (self, STMT_SELECT_RETRY);
          sqlite3_bind_int64 (stmt, 1, row);
        }
      else
        stmt = bind_lookup (self->ids, writer_stmt (self, STMT_SELECT_RETRY),
                            self->stmts[STMT_SELECT_RETRY_INDEXED], key);
      httpd_sqlite_bind_text (stmt, 3, op->claim);
      httpd_sqlite_bind_text (stmt, 4, op->request_id);
      sqlite3_bind_int64 (stmt, 5, op->now);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          op->result = mailbox_from_row (stmt);
          op->status = RELAY_STATUS_DUPLICATE;
          sqlite3_reset (stmt);
          return TRUE;
        }
      sqlite3_reset (stmt);
      if (!httpd_sqlite_check (self->db, rc, "select", error))
        return FALSE;
    }

  if (m == NULL)
    {
      op->status = RELAY_STATUS_INVALID;
      return TRUE;
    }

  m->size = relay_mailbox_get_size (m);
  if (!fits (self, op, m, 1, m->size, &fit, error))
    return FALSE;
  if (!fit)
    return TRUE;

  stmt = writer_stmt (self, STMT_INSERT);
  httpd_sqlite_bind_text (stmt, 1, m->id);
  httpd_sqlite_bind_text (stmt, 2, m->initiator_claim);
  sqlite3_bind_int (stmt, 3, m->access);
  sqlite3_bind_int64 (stmt, 4, m->created);
  sqlite3_bind_int64 (stmt, 5, m->expires);
  httpd_sqlite_bind_text (stmt, 6, m->payload_type);
  bind_payload (stmt, 7, op, m->payload_data);
  httpd_sqlite_bind_text (stmt, 8, m->title);
  httpd_sqlite_bind_text (stmt, 9, m->description);
  httpd_sqlite_bind_text (stmt, 10, m->image_url);
  httpd_sqlite_bind_text (stmt, 11, m->initiator_token);
  httpd_sqlite_bind_text (stmt, 12, op->request_id);
  sqlite3_bind_int64 (stmt, 13, m->size);
  if (m->has_creator)
    sqlite3_bind_blob (stmt, 14, m->creator.bytes, sizeof m->creator.bytes, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 15, (int) MAX (m->max_recipients, 1));
  sqlite3_bind_int64 (stmt, 16, ++self->last_row);
  if (!exec_stmt (self, stmt, error))
    return FALSE;

  /* m->id lives as long as the operation. */
  relay_sqlite_keys_add (self->keys, m->id, self->last_row);
  if (key != NULL)
    relay_sqlite_keys_add_owned (self->keys, g_steal_pointer (&key), self->last_row);
  self->batch_mailboxes++;
  self->batch_bytes += m->size;
  m->version = 1;
  m->initiator_request_id = g_strdup (op->request_id);
  op->result = relay_mailbox_ref (m);
  op->status = RELAY_STATUS_OK;
  return TRUE;
}

/* SIDE_DONE: a recipient of several that acknowledged; the mailbox is gone
 * for it. */
typedef enum { SIDE_NONE, SIDE_INITIATOR, SIDE_RECIPIENT, SIDE_DONE } Side;

static Side
side_of (RelayMailbox *m,
         const char   *claim)
{
  if (g_strcmp0 (claim, m->initiator_claim) == 0)
    return SIDE_INITIATOR;
  switch (relay_mailbox_find_recipient (m, claim))
    {
    case RELAY_RECIPIENT_ACTIVE:
      return SIDE_RECIPIENT;
    case RELAY_RECIPIENT_DONE:
      return SIDE_DONE;
    case RELAY_RECIPIENT_NONE:
    default:
      return SIDE_NONE;
    }
}

static gboolean
is_duplicate (RelayMailbox *m,
              Side          side,
              const char   *request_id)
{
  const char *last = side == SIDE_INITIATOR ? m->initiator_request_id : m->recipient_request_id;

  return request_id != NULL && g_strcmp0 (request_id, last) == 0;
}

/* The initiator's write is about to replace @m's request id: the create's
 * retry key goes, from the table now and from memory once committed, so
 * that a row's keys are always its id and its retry key, which the sweep
 * finds from the row. A retry of the create then finds nothing, as the
 * row no longer carries its request id. */
static gboolean
forget_retry_key (RelayStoreSqlite  *self,
                  RelayMailbox      *m,
                  const char        *request_id,
                  GError           **error)
{
  g_autofree char *key = NULL;
  sqlite3_stmt *stmt;

  if (m->initiator_request_id == NULL || g_strcmp0 (m->initiator_request_id, request_id) == 0)
    return TRUE;

  key = retry_key (m->initiator_claim, m->initiator_request_id);
  stmt = writer_stmt (self, STMT_FORGET_KEY);
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (!exec_stmt (self, stmt, error))
    return FALSE;
  relay_sqlite_keys_forget (self->keys, g_steal_pointer (&key));
  return TRUE;
}

static gboolean
apply_update (RelayStoreSqlite  *self,
              RelayOp           *op,
              GError           **error)
{
  g_autoptr(RelayMailbox) m = NULL;
  sqlite3_stmt *stmt;
  gint64 row = 0;
  Side side;

  if (!select_mailbox (self, op->mailbox_id, &m, &row, error))
    return FALSE;

  if (m == NULL || !relay_mailbox_is_live (m, op->now))
    {
      op->status = RELAY_STATUS_NOT_FOUND;
      return TRUE;
    }

  side = side_of (m, op->claim);
  if (side == SIDE_NONE)
    op->status = RELAY_STATUS_UNAUTHORIZED;
  else if (side == SIDE_DONE)
    op->status = RELAY_STATUS_NOT_FOUND;
  else if (side == SIDE_RECIPIENT && !(m->access & RELAY_ACCESS_WRITE))
    op->status = RELAY_STATUS_FORBIDDEN;
  else if (is_duplicate (m, side, op->request_id))
    op->status = RELAY_STATUS_DUPLICATE;
  else if (op->payload_data == NULL)
    op->status = RELAY_STATUS_INVALID;
  else if (op->if_match >= 0 && op->if_match != m->version)
    op->status = RELAY_STATUS_CONFLICT;
  else
    {
      char **token = side == SIDE_INITIATOR ? &m->initiator_token : &m->recipient_token;
      gint64 old_size = m->size;
      gboolean fit;

      /* The mailbox as it will be, to size it. */
      g_free (m->payload_type);
      m->payload_type = g_strdup (op->payload_type);
      g_free (m->payload_data);
      m->payload_data = g_strdup (op->payload_data);
      if (op->token != NULL)
        {
          g_free (*token);
          *token = g_strdup (op->token);
        }
      m->size = relay_mailbox_get_size (m);

      /* Growing counts against the limits too, or small creates followed
       * by large updates would get around them. */
      if (m->size > old_size)
        {
          if (!fits (self, op, m, 0, m->size - old_size, &fit, error))
            return FALSE;
          if (!fit)
            return TRUE;
        }

      if (side == SIDE_INITIATOR && !forget_retry_key (self, m, op->request_id, error))
        return FALSE;
      stmt = writer_stmt (self, side == SIDE_INITIATOR ? STMT_UPDATE_INITIATOR : STMT_UPDATE_RECIPIENT);
      httpd_sqlite_bind_text (stmt, 1, op->payload_type);
      bind_payload (stmt, 2, op, op->payload_data);
      httpd_sqlite_bind_text (stmt, 3, op->token);
      httpd_sqlite_bind_text (stmt, 4, op->request_id);
      sqlite3_bind_int64 (stmt, 5, m->size);
      sqlite3_bind_int64 (stmt, 6, row);
      if (!exec_stmt (self, stmt, error))
        return FALSE;

      self->batch_bytes += m->size - old_size;
      m->version++;
      op->status = RELAY_STATUS_OK;
    }

  op->result = g_steal_pointer (&m);
  return TRUE;
}

static gboolean
apply_read (RelayStoreSqlite  *self,
            RelayOp           *op,
            GError           **error)
{
  g_autoptr(RelayMailbox) m = NULL;
  sqlite3_stmt *stmt;
  gint64 row = 0;

  if (!select_mailbox (self, op->mailbox_id, &m, &row, error))
    return FALSE;

  if (m == NULL || !relay_mailbox_is_live (m, op->now))
    {
      op->status = RELAY_STATUS_NOT_FOUND;
      return TRUE;
    }

  switch (side_of (m, op->claim))
    {
    case SIDE_INITIATOR:
      op->status = RELAY_STATUS_OK;
      break;

    case SIDE_RECIPIENT:
      op->status = (m->access & RELAY_ACCESS_READ) ? RELAY_STATUS_OK : RELAY_STATUS_FORBIDDEN;
      break;

    case SIDE_DONE:
      op->status = RELAY_STATUS_NOT_FOUND;
      break;

    case SIDE_NONE:
    default:
      if (relay_mailbox_is_full (m))
        op->status = RELAY_STATUS_UNAUTHORIZED;
      else if (!(m->access & RELAY_ACCESS_READ))
        op->status = RELAY_STATUS_FORBIDDEN;
      else if (m->recipient_claim == NULL)
        {
          /* Trust on first use: the first recipient claim binds the mailbox. */
          stmt = writer_stmt (self, STMT_BIND);
          httpd_sqlite_bind_text (stmt, 1, op->claim);
          sqlite3_bind_int64 (stmt, 2, row);
          if (!exec_stmt (self, stmt, error))
            return FALSE;

          m->recipient_claim = g_strdup (op->claim);
          m->version++;
          op->status = RELAY_STATUS_OK;
        }
      else
        {
          /* One of several recipients: each of the first devices binds its own. */
          g_autofree char *column = claims_add (&m->more_recipients, op->claim);

          stmt = writer_stmt (self, STMT_BIND_MORE);
          httpd_sqlite_bind_text (stmt, 1, column);
          sqlite3_bind_int64 (stmt, 2, row);
          if (!exec_stmt (self, stmt, error))
            return FALSE;

          m->version++;
          op->status = RELAY_STATUS_OK;
        }
      break;
    }

  op->result = g_steal_pointer (&m);
  return TRUE;
}

static gboolean
apply_delete (RelayStoreSqlite  *self,
              RelayOp           *op,
              GError           **error)
{
  g_autoptr(RelayMailbox) m = NULL;
  sqlite3_stmt *stmt;
  gint64 row = 0;
  Side side;

  if (!select_mailbox (self, op->mailbox_id, &m, &row, error))
    return FALSE;

  if (m == NULL || m->expires <= op->now)
    {
      op->status = RELAY_STATUS_NOT_FOUND;
      return TRUE;
    }

  side = side_of (m, op->claim);
  if (side == SIDE_NONE)
    op->status = m->deleted ? RELAY_STATUS_NOT_FOUND : RELAY_STATUS_UNAUTHORIZED;
  else if (side == SIDE_DONE)
    /* Its own acknowledgement, retried; otherwise gone for it, as a delete makes a mailbox. */
    op->status = is_duplicate (m, SIDE_RECIPIENT, op->request_id) ? RELAY_STATUS_DUPLICATE
                                                                   : RELAY_STATUS_NOT_FOUND;
  else if (m->deleted)
    /* A retry of the delete that made this tombstone is answered as such;
     * any other delete of a deleted mailbox is a 404, as the draft says. */
    op->status = is_duplicate (m, side, op->request_id) ? RELAY_STATUS_DUPLICATE : RELAY_STATUS_NOT_FOUND;
  else if (side == SIDE_RECIPIENT && !(m->access & RELAY_ACCESS_DELETE))
    op->status = RELAY_STATUS_FORBIDDEN;
  else if (side == SIDE_RECIPIENT && m->max_recipients > 1 &&
           relay_mailbox_count_done (m) + 1 < m->max_recipients)
    {
      /* One of several: its delete says it is done, and the others go on. */
      g_autofree char *column = claims_add (&m->done_recipients, op->claim);

      stmt = writer_stmt (self, STMT_DONE);
      httpd_sqlite_bind_text (stmt, 1, column);
      httpd_sqlite_bind_text (stmt, 2, op->request_id);
      sqlite3_bind_int64 (stmt, 3, row);
      if (!exec_stmt (self, stmt, error))
        return FALSE;

      g_free (m->recipient_request_id);
      m->recipient_request_id = g_strdup (op->request_id);
      m->version++;
      op->status = RELAY_STATUS_OK;
    }
  else
    {
      /* Keep claims, request ids and the expiry: only what a retry needs. */
      if (side == SIDE_INITIATOR && !forget_retry_key (self, m, op->request_id, error))
        return FALSE;
      stmt = writer_stmt (self, side == SIDE_INITIATOR ? STMT_DELETE_INITIATOR : STMT_DELETE_RECIPIENT);
      httpd_sqlite_bind_text (stmt, 1, op->request_id);
      sqlite3_bind_int64 (stmt, 2, row);
      if (!exec_stmt (self, stmt, error))
        return FALSE;

      self->batch_mailboxes--;
      self->batch_bytes -= m->size;
      m->size = 0;
      m->has_creator = FALSE;
      m->deleted = TRUE;
      m->version++;
      op->status = RELAY_STATUS_OK;
    }

  op->result = g_steal_pointer (&m);
  return TRUE;
}

static gboolean
apply_relinquish (RelayStoreSqlite  *self,
                  RelayOp           *op,
                  GError           **error)
{
  g_autoptr(RelayMailbox) m = NULL;
  sqlite3_stmt *stmt;
  gint64 row = 0;

  if (!select_mailbox (self, op->mailbox_id, &m, &row, error))
    return FALSE;

  if (m == NULL || !relay_mailbox_is_live (m, op->now))
    {
      op->status = RELAY_STATUS_NOT_FOUND;
      return TRUE;
    }

  if (op->request_id != NULL && g_strcmp0 (op->claim, m->relinquished_claim) == 0 &&
      g_strcmp0 (op->request_id, m->recipient_request_id) == 0)
    op->status = RELAY_STATUS_DUPLICATE;
  else if (side_of (m, op->claim) != SIDE_RECIPIENT)
    op->status = RELAY_STATUS_UNAUTHORIZED;
  else if (g_strcmp0 (op->claim, m->recipient_claim) != 0)
    {
      /* One of the later recipients gives its place back. */
      g_autofree char *column = claims_remove (&m->more_recipients, op->claim);

      stmt = writer_stmt (self, STMT_RELINQUISH_MORE);
      httpd_sqlite_bind_text (stmt, 1, column);
      httpd_sqlite_bind_text (stmt, 2, op->claim);
      httpd_sqlite_bind_text (stmt, 3, op->request_id);
      sqlite3_bind_int64 (stmt, 4, row);
      if (!exec_stmt (self, stmt, error))
        return FALSE;

      g_free (m->relinquished_claim);
      m->relinquished_claim = g_strdup (op->claim);
      g_free (m->recipient_request_id);
      m->recipient_request_id = g_strdup (op->request_id);
      m->version++;
      op->status = RELAY_STATUS_OK;
    }
  else
    {
      stmt = writer_stmt (self, STMT_RELINQUISH);
      httpd_sqlite_bind_text (stmt, 1, op->request_id);
      sqlite3_bind_int64 (stmt, 2, row);
      if (!exec_stmt (self, stmt, error))
        return FALSE;

      g_clear_pointer (&m->recipient_claim, g_free);
      m->version++;
      op->status = RELAY_STATUS_OK;
    }

  op->result = g_steal_pointer (&m);
  return TRUE;
}

static gboolean
apply_purge (RelayStoreSqlite  *self,
             RelayOp           *op,
             GError           **error)
{
  sqlite3_stmt *stmt = writer_stmt (self, STMT_EXPIRED_USAGE);
  gint64 mailboxes = 0, bytes = 0;
  /* This batch may have flushed ids already. */
  gint64 mark = relay_sqlite_keys_get_mark (self->keys);
  int rc;

  sqlite3_bind_int64 (stmt, 1, op->now);
  if (!query_usage (self, stmt, &mailboxes, &bytes, error))
    return FALSE;

  stmt = writer_stmt (self, STMT_PURGE_INDEXED);
  sqlite3_bind_int64 (stmt, 1, op->now);
  if (!exec_stmt (self, stmt, error))
    return FALSE;

  /* The newest go from memory at once: they are expired, so losing them
   * there if the batch fails changes no answer. */
  stmt = writer_stmt (self, STMT_PURGE);
  sqlite3_bind_int64 (stmt, 1, op->now);
  op->purged = 0;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (sqlite3_column_int64 (stmt, 0) > mark)
        {
          relay_sqlite_ids_remove (self->ids, (const char *) sqlite3_column_text (stmt, 1));
          if (sqlite3_column_type (stmt, 3) != SQLITE_NULL)
            {
              g_autofree char *key = retry_key ((const char *) sqlite3_column_text (stmt, 2),
                                                (const char *) sqlite3_column_text (stmt, 3));

              relay_sqlite_ids_remove (self->ids, key);
            }
        }
      op->purged++;
    }
  sqlite3_reset (stmt);
  if (!httpd_sqlite_check (self->db, rc, "purge", error))
    return FALSE;

  self->batch_mailboxes -= mailboxes;
  self->batch_bytes -= bytes;
  op->status = RELAY_STATUS_OK;
  return TRUE;
}

static gboolean
apply (RelayStoreSqlite  *self,
       RelayOp           *op,
       GError           **error)
{
  switch (op->kind)
    {
    case RELAY_OP_CREATE:
      return apply_create (self, op, error);
    case RELAY_OP_UPDATE:
      return apply_update (self, op, error);
    case RELAY_OP_READ:
      return apply_read (self, op, error);
    case RELAY_OP_DELETE:
      return apply_delete (self, op, error);
    case RELAY_OP_RELINQUISH:
      return apply_relinquish (self, op, error);
    case RELAY_OP_PURGE:
      return apply_purge (self, op, error);
    case RELAY_OP_COUNT:    /* both answered by relay_store_submit() */
    case RELAY_OP_LOOKUP:
    default:
      g_assert_not_reached ();
    }
}

/* Operations that need room on the disk; the others free some, or write
 * next to nothing. */
static gboolean
needs_space (RelayOp *op)
{
  return op->kind == RELAY_OP_CREATE || op->kind == RELAY_OP_UPDATE;
}

/* Moves the next chunk of keys into the key table, and the mark once they
 * are all there (relay-sqlite-keys.h). */
static gboolean
flush_keys (RelayStoreSqlite  *self,
            guint              batch_ops,
            GError           **error)
{
  gint64 mark;
  guint n_keys;
  const RelaySqliteId *chunk = relay_sqlite_keys_flush_chunk (self->keys, batch_ops, self->mailboxes,
                                                              self->last_row, &n_keys, &mark);
  sqlite3_stmt *stmt;

  for (guint i = 0; i < n_keys; i++)
    {
      if (!relay_sqlite_keys_is_current (self->keys, &chunk[i]))
        continue;
      stmt = writer_stmt (self, STMT_INDEX_ID);
      sqlite3_bind_text (stmt, 1, chunk[i].id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, chunk[i].row);
      if (!exec_stmt (self, stmt, error))
        return FALSE;
    }

  if (mark > 0)
    {
      stmt = writer_stmt (self, STMT_INDEX_MARK);
      sqlite3_bind_int64 (stmt, 1, mark);
      if (!exec_stmt (self, stmt, error))
        return FALSE;
    }
  return TRUE;
}

/* Runs the operations in one transaction. Returns FALSE, with every
 * operation's status unset, if the database failed. @flush: whether the
 * batch may also move keys into the key table (not on a full disk). */
static gboolean
run_transaction (RelayStoreSqlite  *self,
                 GPtrArray         *ops,
                 gboolean           flush,
                 GError           **error)
{
  gboolean ok;

  self->batch_mailboxes = 0;
  self->batch_bytes = 0;
  /* Between two transactions: the next one starts the WAL afresh. */
  if (self->wal_catch_up)
    {
      gint64 started = g_get_monotonic_time ();

      relay_sqlite_checkpointer_catch_up (self->checkpointer);
      self->wal_catch_up = FALSE;
      __atomic_add_fetch (&self->stats.checkpoint_waits, 1, __ATOMIC_RELAXED);
      __atomic_add_fetch (&self->stats.checkpoint_wait_usec, (guint64) (g_get_monotonic_time () - started),
                          __ATOMIC_RELAXED);
    }
  ok = run_stmt (self, STMT_BEGIN, "begin", error);

  /* Before the batch's creates, so that the mark is below all of them. */
  if (ok && flush)
    ok = flush_keys (self, ops->len, error);

  for (guint i = 0; ok && i < ops->len; i++)
    ok = apply (self, g_ptr_array_index (ops, i), error);

  if (ok)
    ok = run_stmt (self, STMT_COMMIT, "commit", error);

  if (!ok)
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      for (guint i = 0; i < ops->len; i++)
        g_clear_pointer (&((RelayOp *) g_ptr_array_index (ops, i))->result, relay_mailbox_unref);
      relay_sqlite_keys_rollback (self->keys);
      return FALSE;
    }

  relay_sqlite_keys_commit (self->keys);
  self->mailboxes += self->batch_mailboxes;
  self->bytes += self->batch_bytes;
  return TRUE;
}

static void
publish (RelayStoreSqlite *self)
{
  g_mutex_lock (&self->lock);
  self->state.mailboxes = self->mailboxes;
  self->state.bytes = self->bytes;
  g_mutex_unlock (&self->lock);
}

static void
set_disk_full (RelayStoreSqlite *self,
               gboolean          full)
{
  g_mutex_lock (&self->lock);
  self->state.disk_full = full;
  g_mutex_unlock (&self->lock);

  if (full)
    g_warning ("The disk is full: creates and updates are refused (507) until there is room again; "
               "deletes and the expiry sweep go on in the reserved space");
  else
    g_message ("There is room on the disk again: creates and updates are accepted");
}

/* Gives the reserved space back to the file system, so that deletes and the
 * purge can write their few pages. */
static void
release_reserve (RelayStoreSqlite *self)
{
  if (self->reserve_fd >= 0)
    (void) ftruncate (self->reserve_fd, 0);
}

/* Returns TRUE if the whole reserve could be allocated again. */
static gboolean
take_reserve (RelayStoreSqlite *self)
{
  if (self->reserve_fd < 0 || self->limits.disk_reserve == 0)
    return TRUE;
  if (posix_fallocate (self->reserve_fd, 0, (off_t) self->limits.disk_reserve) == 0)
    return TRUE;

  (void) ftruncate (self->reserve_fd, 0);
  return FALSE;
}

/* Hands the WAL's space back after a checkpoint, if no reader holds it. */
static void
truncate_wal (RelayStoreSqlite *self)
{
  sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

/* On a full disk, the pages deletes freed go back to the file system too,
 * so that the reserve can be taken back and writes resume. */
static void
give_back_space (RelayStoreSqlite *self)
{
  sqlite3_exec (self->db, "PRAGMA incremental_vacuum;", NULL, NULL, NULL);
  truncate_wal (self);
}

static void
fail_all (GPtrArray    *ops,
          const GError *error)
{
  for (guint i = 0; i < ops->len; i++)
    {
      RelayOp *op = g_ptr_array_index (ops, i);

      op->status = RELAY_STATUS_FAILED;
      op->error = g_error_copy (error);
    }
}

static void
log_failure (RelayStoreSqlite *self,
             guint             n_ops,
             const GError     *error)
{
  guint64 suppressed = 0;

  if (!httpd_log_limit_allow (&self->failure_log, LOG_INTERVAL_SECONDS, &suppressed))
    return;
  if (suppressed > 0)
    g_warning ("Store batch of %u operations failed: %s (and %" G_GUINT64_FORMAT " more failed batches "
               "in the last %u s)", n_ops, error->message, suppressed, LOG_INTERVAL_SECONDS);
  else
    g_warning ("Store batch of %u operations failed: %s", n_ops, error->message);
}

static void
run_batch (RelayStoreSqlite *self,
           GPtrArray        *batch)
{
  g_autoptr(GPtrArray) tried = g_ptr_array_new ();
  g_autoptr(GPtrArray) refused = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  gboolean full = self->state.disk_full;
  gint64 now = g_get_monotonic_time ();

  /* While the disk is full, now and then see whether there is room again. */
  if (full && now - self->last_recovery >= RECOVERY_INTERVAL_USEC)
    {
      self->last_recovery = now;
      if (take_reserve (self))
        {
          set_disk_full (self, FALSE);
          full = FALSE;
        }
    }

  for (guint i = 0; i < batch->len; i++)
    {
      RelayOp *op = g_ptr_array_index (batch, i);

      g_ptr_array_add (full && needs_space (op) ? refused : tried, op);
    }

  if (tried->len > 0 && !run_transaction (self, tried, !full, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
        {
          g_autoptr(GPtrArray) again = g_ptr_array_new ();

          if (!full)
            {
              set_disk_full (self, TRUE);
              self->last_recovery = now;
              full = TRUE;
            }
          release_reserve (self);

          for (guint i = 0; i < tried->len; i++)
            {
              RelayOp *op = g_ptr_array_index (tried, i);

              g_ptr_array_add (needs_space (op) ? refused : again, op);
            }

          g_clear_error (&error);
          if (again->len > 0 && !run_transaction (self, again, FALSE, &error))
            {
              log_failure (self, again->len, error);
              fail_all (again, error);
            }
        }
      else
        {
          /* Nothing of a failed batch is acknowledged; its clients may retry. */
          log_failure (self, tried->len, error);
          fail_all (tried, error);
        }
    }

  if (error == NULL)
    {
      g_atomic_pointer_add (&self->commits, 1);
      g_atomic_pointer_add (&self->ops, batch->len);
    }

  for (guint i = 0; i < refused->len; i++)
    {
      RelayOp *op = g_ptr_array_index (refused, i);

      op->status = RELAY_STATUS_NO_SPACE;
      op->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NO_SPACE, "The disk is full");
    }

  /* Space freed while the disk is full goes back to the file system now;
   * and the sweep is a good time to start the WAL afresh in any case. */
  if (full)
    give_back_space (self);
  else
    for (guint i = 0; i < batch->len; i++)
      if (((RelayOp *) g_ptr_array_index (batch, i))->kind == RELAY_OP_PURGE)
        {
          truncate_wal (self);
          break;
        }

  publish (self);
  g_mutex_lock (&self->lock);
  self->state.refused_no_space += refused->len;
  for (guint i = 0; i < batch->len; i++)
    {
      RelayOp *op = g_ptr_array_index (batch, i);

      if (op->status == RELAY_STATUS_STORE_FULL || op->status == RELAY_STATUS_CLIENT_FULL)
        self->state.refused_full++;
    }
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < batch->len; i++)
    {
      RelayOp *op = g_ptr_array_index (batch, i);

      op->done (op, op->user_data);
    }
}

static gpointer
writer_thread (gpointer data)
{
  RelayStoreSqlite *self = data;
  g_autoptr(GPtrArray) batch = g_ptr_array_new ();

  g_mutex_lock (&self->lock);
  for (;;)
    {
      while (self->pending.length == 0 && !self->stopping)
        g_cond_wait (&self->cond, &self->lock);

      if (self->pending.length == 0 && self->stopping)
        break;

      while (self->pending.length > 0 && batch->len < MAX_BATCH)
        g_ptr_array_add (batch, g_queue_pop_head (&self->pending));
      self->in_flight = batch->len;
      g_mutex_unlock (&self->lock);

      run_batch (self, batch);
      g_ptr_array_set_size (batch, 0);

      g_mutex_lock (&self->lock);
      self->in_flight = 0;
      g_cond_broadcast (&self->idle);
    }
  g_mutex_unlock (&self->lock);

  return NULL;
}

static void
relay_store_sqlite_submit (RelayStore *store,
                           RelayOp    *op)
{
  RelayStoreSqlite *self = RELAY_STORE_SQLITE (store);

  g_return_if_fail (op->done != NULL);

  /* Decoded here, on the caller's thread, not the writer's: about 3 µs
   * for a 4 KiB mailbox, which saves the writer its overflow page. */
  if (op->kind == RELAY_OP_CREATE && op->mailbox != NULL)
    op->payload_bytes = relay_payload_to_bytes (op->mailbox->payload_data, &op->payload_n_bytes);
  else if (op->kind == RELAY_OP_UPDATE)
    op->payload_bytes = relay_payload_to_bytes (op->payload_data, &op->payload_n_bytes);

  g_mutex_lock (&self->lock);
  if (self->stopping)
    {
      g_mutex_unlock (&self->lock);
      op->status = RELAY_STATUS_FAILED;
      op->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, "The store is closing");
      op->done (op, op->user_data);
      return;
    }
  g_queue_push_tail (&self->pending, op);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
relay_store_sqlite_flush (RelayStore *store)
{
  RelayStoreSqlite *self = RELAY_STORE_SQLITE (store);

  g_mutex_lock (&self->lock);
  while (self->pending.length > 0 || self->in_flight > 0)
    g_cond_wait (&self->idle, &self->lock);
  g_mutex_unlock (&self->lock);
}

static void
reader_free (Reader *reader)
{
  sqlite3_finalize (reader->lookup_row);
  sqlite3_finalize (reader->lookup_indexed);
  sqlite3_finalize (reader->count_live);
  sqlite3_close (reader->db);
  g_free (reader);
}

static Reader *
reader_take (RelayStoreSqlite  *self,
             GError           **error)
{
  Reader *reader = g_async_queue_try_pop (self->readers);
  int rc;

  if (reader != NULL)
    return reader;

  reader = g_new0 (Reader, 1);
  reader->db = open_db (self->path, FALSE, error);
  if (reader->db == NULL)
    {
      g_free (reader);
      return NULL;
    }

  rc = sqlite3_prepare_v3 (reader->db, MAILBOX_SELECT BY_ROW, -1, SQLITE_PREPARE_PERSISTENT,
                           &reader->lookup_row, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v3 (reader->db, MAILBOX_SELECT BY_ID_TABLE, -1, SQLITE_PREPARE_PERSISTENT,
                             &reader->lookup_indexed, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v3 (reader->db, "SELECT count(*) FROM mailbox WHERE deleted = 0 AND expires > ?",
                             -1, SQLITE_PREPARE_PERSISTENT, &reader->count_live, NULL);
  if (!httpd_sqlite_check (reader->db, rc, "prepare", error))
    {
      reader_free (reader);
      return NULL;
    }

  return reader;
}

static RelayMailbox *
relay_store_sqlite_lookup (RelayStore  *store,
                           const char  *id,
                           GError     **error)
{
  RelayStoreSqlite *self = RELAY_STORE_SQLITE (store);
  RelayMailbox *mailbox = NULL;
  sqlite3_stmt *stmt;
  Reader *reader;
  int rc;

  reader = reader_take (self, error);
  if (reader == NULL)
    return NULL;

  /* Memory first: a mailbox flushed meanwhile is in the table by the time
   * it leaves memory, and this statement's snapshot starts after. */
  stmt = bind_lookup (self->ids, reader->lookup_row, reader->lookup_indexed, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    mailbox = mailbox_from_row (stmt);
  else
    httpd_sqlite_check (reader->db, rc, "lookup", error);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);

  g_async_queue_push (self->readers, reader);
  return mailbox;
}

static gint64
relay_store_sqlite_count_live (RelayStore *store,
                               gint64      now)
{
  RelayStoreSqlite *self = RELAY_STORE_SQLITE (store);
  gint64 count = -1;
  Reader *reader;

  reader = reader_take (self, NULL);
  if (reader == NULL)
    return -1;

  sqlite3_bind_int64 (reader->count_live, 1, now);
  if (sqlite3_step (reader->count_live) == SQLITE_ROW)
    count = sqlite3_column_int64 (reader->count_live, 0);
  sqlite3_reset (reader->count_live);

  g_async_queue_push (self->readers, reader);
  return count;
}

static gint64
relay_store_sqlite_purge_expired (RelayStore  *store,
                                  gint64       now,
                                  GError     **error)
{
  g_autoptr(RelayOp) op = relay_op_new (RELAY_OP_PURGE, now);

  /* Not relay_store_submit(): relay_store_purge_expired() times it already. */
  relay_store_run (store, op, relay_store_sqlite_submit);

  if (op->status != RELAY_STATUS_OK)
    {
      g_propagate_error (error, g_steal_pointer (&op->error));
      return -1;
    }

  return op->purged;
}

static void
relay_store_sqlite_get_state (RelayStore      *store,
                              RelayStoreState *state)
{
  RelayStoreSqlite *self = RELAY_STORE_SQLITE (store);

  g_mutex_lock (&self->lock);
  *state = self->state;
  g_mutex_unlock (&self->lock);
}

static RelayStoreStats *
relay_store_sqlite_stats (RelayStore *store)
{
  return &RELAY_STORE_SQLITE (store)->stats;
}

static void
relay_store_iface_init (RelayStoreInterface *iface)
{
  iface->lookup = relay_store_sqlite_lookup;
  iface->submit = relay_store_sqlite_submit;
  iface->purge_expired = relay_store_sqlite_purge_expired;
  iface->count_live = relay_store_sqlite_count_live;
  iface->flush = relay_store_sqlite_flush;
  iface->get_state = relay_store_sqlite_get_state;
  iface->stats = relay_store_sqlite_stats;
}

/**
 * relay_store_sqlite_close:
 *
 * Completes what was submitted, stops the writer and closes the database.
 * Later submissions fail at once.
 */
void
relay_store_sqlite_close (RelayStoreSqlite *self)
{
  Reader *reader;

  if (self->writer == NULL)
    {
      g_clear_pointer (&self->checkpointer, relay_sqlite_checkpointer_free);
      for (guint i = 0; i < N_STMTS; i++)
        g_clear_pointer (&self->stmts[i], sqlite3_finalize);
      g_clear_pointer (&self->db, sqlite3_close);
      return;
    }

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);

  g_thread_join (g_steal_pointer (&self->writer));
  g_clear_pointer (&self->checkpointer, relay_sqlite_checkpointer_free);

  for (guint i = 0; i < N_STMTS; i++)
    g_clear_pointer (&self->stmts[i], sqlite3_finalize);

  while ((reader = g_async_queue_try_pop (self->readers)) != NULL)
    reader_free (reader);

  sqlite3_close (g_steal_pointer (&self->db));
}

static void
relay_store_sqlite_finalize (GObject *object)
{
  RelayStoreSqlite *self = (RelayStoreSqlite *) object;

  relay_store_sqlite_close (self);
  if (self->reserve_fd >= 0)
    close (self->reserve_fd);
  g_async_queue_unref (self->readers);
  g_clear_pointer (&self->keys, relay_sqlite_keys_free);
  g_clear_pointer (&self->ids, relay_sqlite_ids_free);
  g_free (self->path);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_cond_clear (&self->idle);

  G_OBJECT_CLASS (relay_store_sqlite_parent_class)->finalize (object);
}

static void
relay_store_sqlite_class_init (RelayStoreSqliteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = relay_store_sqlite_finalize;
}

static void
relay_store_sqlite_init (RelayStoreSqlite *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_cond_init (&self->idle);
  g_queue_init (&self->pending);
  self->readers = g_async_queue_new ();
  self->ids = relay_sqlite_ids_new ();
  self->keys = relay_sqlite_keys_new (self->ids);
  self->reserve_fd = -1;
  /* No network: never unreachable (a full disk is RelayStoreState's). */
  self->stats.kind = "sqlite";
  self->stats.health = RELAY_STORE_HEALTH_OK;
}

/* After each of the writer's commits (it replaces SQLite's automatic
 * checkpoint), with the WAL's length: see WAL_CHECKPOINT_FRAMES. */
static int
on_wal_commit (void       *data,
               sqlite3    *db,
               const char *name,
               int         frames)
{
  RelayStoreSqlite *self = data;

  if (frames > g_atomic_int_get (&self->wal_frames_max))
    g_atomic_int_set (&self->wal_frames_max, frames);
  __atomic_store_n (&self->stats.wal_frames, (guint64) frames, __ATOMIC_RELAXED);
  if (frames >= WAL_TRUNCATE_FRAMES)
    {
      sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
      self->wal_poked = 0;
      self->wal_catch_up = FALSE;
      return SQLITE_OK;
    }

  if (frames < self->wal_poked)
    self->wal_poked = 0;          /* started afresh since */
  if (frames - self->wal_poked >= WAL_POKE_FRAMES)
    {
      self->wal_poked = frames;
      relay_sqlite_checkpointer_poke (self->checkpointer);
    }
  self->wal_catch_up = frames >= WAL_CHECKPOINT_FRAMES;
  return SQLITE_OK;
}

static gboolean
open_reserve (RelayStoreSqlite  *self,
              GError           **error)
{
  g_autofree char *dir = g_path_get_dirname (self->path);
  g_autofree char *path = g_build_filename (dir, "space-reserve", NULL);

  if (self->limits.disk_reserve == 0)
    {
      g_unlink (path);
      return TRUE;
    }

  self->reserve_fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->reserve_fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Could not open %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }

  /* Starting on a full disk: serve reads and deletes until there is room. */
  if (!take_reserve (self))
    {
      self->state.disk_full = TRUE;
      self->last_recovery = g_get_monotonic_time ();
      g_warning ("The disk is full: creates and updates are refused (507) until there is room again");
    }
  return TRUE;
}

/* The mark, and the keys of the rows after it back into memory: those a
 * stop or a crash left out of the key table. */
static gboolean
load_ids (RelayStoreSqlite  *self,
          GError           **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "SELECT indexed, (SELECT coalesce(max(rowid), 0) FROM mailbox) "
                                     "FROM mailbox_key_mark", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      relay_sqlite_keys_set_mark (self->keys, sqlite3_column_int64 (stmt, 0));
      self->last_row = MAX (sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1));
      rc = SQLITE_DONE;
    }
  sqlite3_finalize (stmt);
  if (!httpd_sqlite_check (self->db, rc, "mark", error))
    return FALSE;

  /* A retry key from the request id the row has now: an update by the
   * initiator replaces it, and a retry of the create then finds nothing,
   * as it would have before the stop. */
  rc = sqlite3_prepare_v2 (self->db, "SELECT rowid, id, initiator_claim, initiator_request_id FROM mailbox "
                                     "WHERE rowid > ?", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    sqlite3_bind_int64 (stmt, 1, relay_sqlite_keys_get_mark (self->keys));
  while (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 row = sqlite3_column_int64 (stmt, 0);

      relay_sqlite_ids_add (self->ids, (const char *) sqlite3_column_text (stmt, 1), row);
      if (sqlite3_column_type (stmt, 3) != SQLITE_NULL)
        {
          g_autofree char *key = retry_key ((const char *) sqlite3_column_text (stmt, 2),
                                            (const char *) sqlite3_column_text (stmt, 3));

          relay_sqlite_ids_add (self->ids, key, row);
        }
      rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  return httpd_sqlite_check (self->db, rc, "ids", error);
}

/**
 * relay_store_sqlite_new:
 * @path: the database file; created if missing
 * @limits: (nullable): the bounds to keep; %NULL for none
 */
RelayStoreSqlite *
relay_store_sqlite_new (const char              *path,
                        const RelayStoreLimits  *limits,
                        GError                 **error)
{
  g_autoptr(RelayStoreSqlite) self = g_object_new (RELAY_TYPE_STORE_SQLITE, NULL);
  sqlite3_stmt *usage = NULL;
  int rc;

  self->path = g_strdup (path);
  if (limits != NULL)
    self->limits = *limits;
  self->db = open_db (path, TRUE, error);
  if (self->db == NULL)
    return NULL;
  self->checkpointer = relay_sqlite_checkpointer_new (path, error);
  if (self->checkpointer == NULL)
    return NULL;
  sqlite3_wal_hook (self->db, on_wal_commit, self);

  for (guint i = 0; i < N_STMTS; i++)
    {
      rc = sqlite3_prepare_v3 (self->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->stmts[i], NULL);

      if (!httpd_sqlite_check (self->db, rc, "prepare", error))
        return NULL;
    }

  /* What is stored, counted once; the writer keeps the count from here. */
  rc = sqlite3_prepare_v2 (self->db, "SELECT count(*), total(size) FROM mailbox WHERE deleted = 0", -1, &usage, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (usage);
  if (rc == SQLITE_ROW)
    {
      self->mailboxes = sqlite3_column_int64 (usage, 0);
      self->bytes = (gint64) sqlite3_column_double (usage, 1);
    }
  sqlite3_finalize (usage);
  if (!httpd_sqlite_check (self->db, rc, "count", error))
    return NULL;
  if (!load_ids (self, error))
    return NULL;
  publish (self);

  if (!open_reserve (self, error))
    return NULL;

  self->writer = g_thread_new ("relay-store-writer", writer_thread, self);

  return g_steal_pointer (&self);
}

/**
 * relay_store_sqlite_get_commits:
 *
 * Returns: how many transactions were committed: with group commit, far
 *   fewer than operations under load
 */
gsize
relay_store_sqlite_get_commits (RelayStoreSqlite *self)
{
  return GPOINTER_TO_SIZE (g_atomic_pointer_get (&self->commits));
}

gsize
relay_store_sqlite_get_ops (RelayStoreSqlite *self)
{
  return GPOINTER_TO_SIZE (g_atomic_pointer_get (&self->ops));
}

/* The most frames the WAL had after a commit. */
guint
relay_store_sqlite_get_wal_frames_max (RelayStoreSqlite *self)
{
  return (guint) g_atomic_int_get (&self->wal_frames_max);
}

/* Checkpoints made on the checkpointer's thread; 0 once closed. */
guint64
relay_store_sqlite_get_checkpoints (RelayStoreSqlite *self)
{
  return self->checkpointer != NULL ? relay_sqlite_checkpointer_get_runs (self->checkpointer) : 0;
}

/**
 * relay_store_sqlite_set_ids_flush_min:
 * @min: how many keys in memory make the writer move them into the key table
 *
 * For tests, which cannot wait for tens of thousands of creates; call it
 * before submitting anything.
 */
void
relay_store_sqlite_set_ids_flush_min (RelayStoreSqlite *self,
                                      guint             min)
{
  g_return_if_fail (min > 0);

  g_mutex_lock (&self->lock);
  relay_sqlite_keys_set_flush_min (self->keys, min);
  g_mutex_unlock (&self->lock);
}

/**
 * relay_store_sqlite_get_ids_in_memory:
 *
 * Returns: how many keys (mailbox ids, retry keys) are in memory
 */
guint
relay_store_sqlite_get_ids_in_memory (RelayStoreSqlite *self)
{
  return relay_sqlite_ids_get_size (self->ids);
}

/**
 * relay_store_sqlite_keys_memory:
 * @max_mailboxes: the store's bound on live mailboxes; 0 for none
 *
 * Returns: the most the newest keys take in memory: a flush starts at its
 *   threshold and its chunks outpace the batches' creates, so memory holds
 *   at most about twice the threshold, and a copy of it while flushing
 */
guint64
relay_store_sqlite_keys_memory (guint64 max_mailboxes)
{
  return relay_sqlite_keys_memory (max_mailboxes);
}
