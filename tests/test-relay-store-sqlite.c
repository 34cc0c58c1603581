/* test-relay-store-sqlite.c: the relay's SQLite store, driven directly
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Its mailbox ids live in memory until there are enough to move into the
 * id table (relay-sqlite-ids.h). Over HTTP a test would need tens of
 * thousands of creates to see a flush; here the threshold is set low, so
 * that every lookup, write, purge and restart meets ids on both sides.
 */

#define G_LOG_DOMAIN "test-relay-store-sqlite"

#include "config.h"

#include <sqlite3.h>

#include "lk-crypto.h"
#include "lk-test-server.h"
#include "relay-store-sqlite.h"

/* With this, a flush moves four keys for each operation of a batch: a
 * test's creates, one a batch, meet flushes under way too. */
#define FLUSH_MIN 16

/* Every key in the table belongs to its row, as its id or its retry key;
 * none is left of a row that is gone. */
#define NO_STRAY_IDS \
  "SELECT count(*) FROM mailbox_key k LEFT JOIN mailbox b ON b.rowid = k.mailbox " \
  "AND (b.id = k.key OR b.initiator_claim || ' ' || b.initiator_request_id = k.key) WHERE b.rowid IS NULL"

/* Memory holds exactly the rows after the mark: their ids, and their
 * retry keys while they have a request id. */
#define KEYS_AFTER_MARK \
  "SELECT count(*) + count(initiator_request_id) FROM mailbox WHERE rowid > (SELECT indexed FROM mailbox_key_mark)"

typedef struct
{
  char             *dir;
  char             *path;
  RelayStoreSqlite *store;
  char             *claim;
} Fixture;

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* A create of a new mailbox by the fixture's claim. */
static RelayOp *
create_op (Fixture    *f,
           gint64      expires,
           const char *request_id)
{
  RelayOp *op = relay_op_new (RELAY_OP_CREATE, now_seconds ());
  RelayMailbox *mailbox = relay_mailbox_new ();

  mailbox->id = lk_uuid_new_random ();
  mailbox->initiator_claim = g_strdup (f->claim);
  mailbox->access = RELAY_ACCESS_READ | RELAY_ACCESS_WRITE | RELAY_ACCESS_DELETE;
  mailbox->max_recipients = 1;
  mailbox->created = op->now;
  mailbox->expires = expires;
  mailbox->payload_type = g_strdup ("AEAD_AES_256_GCM");
  mailbox->payload_data = g_strdup ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  mailbox->title = g_strdup ("Room 404");
  op->claim = g_strdup (f->claim);
  op->request_id = g_strdup (request_id);
  op->mailbox = mailbox;
  return op;
}

/* Returns the mailbox's id: the new one's, or the first attempt's for a
 * retry (@status says which). */
static char *
create_request (Fixture     *f,
                gint64       expires,
                const char  *request_id,
                RelayStatus *status)
{
  g_autoptr(RelayOp) op = create_op (f, expires, request_id);

  relay_store_run (RELAY_STORE (f->store), op, relay_store_submit);
  *status = op->status;
  g_assert_nonnull (op->result);
  return g_strdup (op->result->id);
}

static char *
create (Fixture *f,
        gint64   expires)
{
  RelayStatus status;
  char *id = create_request (f, expires, NULL, &status);

  g_assert_cmpint (status, ==, RELAY_STATUS_OK);
  return id;
}

/* A create with a request id of its own: an id and a retry key. */
static char *
create_retriable (Fixture *f,
                  gint64   expires)
{
  g_autofree char *request_id = lk_uuid_new_random ();
  RelayStatus status;
  char *id = create_request (f, expires, request_id, &status);

  g_assert_cmpint (status, ==, RELAY_STATUS_OK);
  return id;
}

static RelayStatus
write_op (Fixture     *f,
          RelayOpKind  kind,
          const char  *id,
          const char  *claim)
{
  g_autoptr(RelayOp) op = relay_op_new (kind, now_seconds ());

  op->mailbox_id = g_strdup (id);
  op->claim = g_strdup (claim);
  if (kind == RELAY_OP_UPDATE)
    {
      op->payload_type = g_strdup ("AEAD_AES_256_GCM");
      op->payload_data = g_strdup ("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
    }
  relay_store_run (RELAY_STORE (f->store), op, relay_store_submit);
  return op->status;
}

static void
assert_found (Fixture    *f,
              const char *id,
              gint64      version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RelayMailbox) mailbox = relay_store_lookup (RELAY_STORE (f->store), id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (mailbox);
  g_assert_cmpstr (mailbox->id, ==, id);
  g_assert_cmpint (mailbox->version, ==, version);
}

static void
assert_missing (Fixture    *f,
                const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RelayMailbox) mailbox = relay_store_lookup (RELAY_STORE (f->store), id, &error);

  g_assert_no_error (error);
  g_assert_null (mailbox);
}

static void
open_store (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->store = relay_store_sqlite_new (f->path, NULL, &error);
  g_assert_no_error (error);
  relay_store_sqlite_set_ids_flush_min (f->store, FLUSH_MIN);
}

static void
close_store (Fixture *f)
{
  relay_store_sqlite_close (f->store);
  g_clear_object (&f->store);
}

static gint64
query_int (Fixture    *f,
           const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-relay-store-sqlite-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "relay.sqlite", NULL);
  f->claim = lk_uuid_new_random ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->store != NULL)
    close_store (f);
  lk_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
  g_free (f->claim);
}

/* Ids in memory and in the table are found, written and deleted alike;
 * a flush leaves fewer than its threshold in memory. */
static void
test_ids_both_sides (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *stranger = lk_uuid_new_random ();
  g_autofree char *recipient = lk_uuid_new_random ();
  g_autofree char *unknown = lk_uuid_new_random ();
  gint64 expires = now_seconds () + 3600;
  const char *oldest, *newest;

  open_store (f);
  for (guint i = 0; i < 5 * FLUSH_MIN + 3; i++)
    g_ptr_array_add (ids, create (f, expires));

  /* A flush starts at 16 ids in memory and takes 16 batches; meanwhile
   * the next 16 come in. */
  g_assert_cmpuint (relay_store_sqlite_get_ids_in_memory (f->store), <=, 2 * FLUSH_MIN);
  g_assert_cmpint (query_int (f, "SELECT indexed FROM mailbox_key_mark"), >=, 3 * FLUSH_MIN);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM mailbox_key"), >=, 3 * FLUSH_MIN);
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);

  for (guint i = 0; i < ids->len; i++)
    assert_found (f, g_ptr_array_index (ids, i), 1);
  assert_missing (f, unknown);
  assert_missing (f, "not-an-id");

  oldest = g_ptr_array_index (ids, 0);
  newest = g_ptr_array_index (ids, ids->len - 1);
  for (guint i = 0; i < 2; i++)
    {
      const char *id = i == 0 ? oldest : newest;

      g_assert_cmpint (write_op (f, RELAY_OP_UPDATE, id, f->claim), ==, RELAY_STATUS_OK);
      g_assert_cmpint (write_op (f, RELAY_OP_READ, id, recipient), ==, RELAY_STATUS_OK);
      g_assert_cmpint (write_op (f, RELAY_OP_READ, id, stranger), ==, RELAY_STATUS_UNAUTHORIZED);
      assert_found (f, id, 3);
      g_assert_cmpint (write_op (f, RELAY_OP_RELINQUISH, id, recipient), ==, RELAY_STATUS_OK);
      g_assert_cmpint (write_op (f, RELAY_OP_DELETE, id, f->claim), ==, RELAY_STATUS_OK);
      assert_found (f, id, 5);
      g_assert_cmpint (write_op (f, RELAY_OP_DELETE, id, f->claim), ==, RELAY_STATUS_NOT_FOUND);
    }
  g_assert_cmpint (write_op (f, RELAY_OP_UPDATE, unknown, f->claim), ==, RELAY_STATUS_NOT_FOUND);
}

/* A stop, or a crash, leaves the newest ids out of the table: a new store
 * finds them again from the rows after the mark, and goes on flushing. */
static void
test_ids_restart (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  gint64 expires = now_seconds () + 3600;
  guint in_memory;

  open_store (f);
  for (guint i = 0; i < 2 * FLUSH_MIN + 5; i++)
    g_ptr_array_add (ids, create (f, expires));
  in_memory = relay_store_sqlite_get_ids_in_memory (f->store);
  g_assert_cmpuint (in_memory, >, 0);
  close_store (f);

  open_store (f);
  g_assert_cmpuint (relay_store_sqlite_get_ids_in_memory (f->store), ==, in_memory);
  for (guint i = 0; i < ids->len; i++)
    assert_found (f, g_ptr_array_index (ids, i), 1);
  for (guint i = 0; i < FLUSH_MIN; i++)
    g_ptr_array_add (ids, create (f, expires));
  for (guint i = 0; i < ids->len; i++)
    assert_found (f, g_ptr_array_index (ids, i), 1);
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
  /* Every row at or below the mark is in the table. */
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM mailbox WHERE rowid <= (SELECT indexed FROM mailbox_key_mark) "
                                 "AND id NOT IN (SELECT key FROM mailbox_key)"), ==, 0);
  g_assert_cmpint (query_int (f, "SELECT count(DISTINCT rowid) FROM mailbox"), ==, ids->len);
}

/* The sweep removes expired mailboxes' ids and retry keys from the table
 * and from memory, and the rows it frees are never given out again. */
static void
test_ids_purge (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) soon = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) later = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  gint64 now = now_seconds ();
  gint64 max_row;

  open_store (f);
  /* Not a multiple of the threshold: some of both kinds stay in memory. */
  for (guint i = 0; i < 3 * FLUSH_MIN + 3; i++)
    {
      g_ptr_array_add (later, create_retriable (f, now + 3600));
      g_ptr_array_add (soon, create_retriable (f, now + 60));
    }
  max_row = query_int (f, "SELECT max(rowid) FROM mailbox");
  g_assert_cmpuint (relay_store_sqlite_get_ids_in_memory (f->store), >, 2);

  g_assert_cmpint (relay_store_purge_expired (RELAY_STORE (f->store), now + 120, &error), ==, soon->len);
  g_assert_no_error (error);
  for (guint i = 0; i < soon->len; i++)
    assert_missing (f, g_ptr_array_index (soon, i));
  for (guint i = 0; i < later->len; i++)
    assert_found (f, g_ptr_array_index (later, i), 1);
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM mailbox"), ==, later->len);
  g_assert_cmpint (relay_store_sqlite_get_ids_in_memory (f->store), ==, query_int (f, KEYS_AFTER_MARK));

  /* The newest row was purged; the next create still gets a new one. */
  g_free (create_retriable (f, now + 3600));
  g_assert_cmpint (query_int (f, "SELECT max(rowid) FROM mailbox"), >, max_row);

  /* The flushes after the sweep add no id of a purged mailbox. */
  for (guint i = 0; i < 3 * FLUSH_MIN; i++)
    g_free (create_retriable (f, now + 3600));
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
  g_assert_cmpint (relay_store_sqlite_get_ids_in_memory (f->store), ==, query_int (f, KEYS_AFTER_MARK));
}

/* A flush takes its keys from memory when it starts and moves them over
 * several batches: a key the sweep takes out meanwhile is not moved. With
 * FLUSH_MIN 16, the ninth create's batch starts a flush of the first
 * eight creates' 16 keys, four a batch; the sweep runs in the next. */
static void
test_flush_skips_gone (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 now = now_seconds ();

  open_store (f);
  for (guint i = 0; i < FLUSH_MIN / 2 + 1; i++)
    g_free (create_retriable (f, now + 60));
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM mailbox_key"), ==, 4);

  g_assert_cmpint (relay_store_purge_expired (RELAY_STORE (f->store), now + 120, &error), ==, FLUSH_MIN / 2 + 1);
  g_assert_no_error (error);
  for (guint i = 0; i < FLUSH_MIN; i++)
    g_free (create_retriable (f, now + 3600));
  g_assert_cmpint (query_int (f, "SELECT indexed FROM mailbox_key_mark"), >, FLUSH_MIN / 2 + 1);
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
  g_assert_cmpint (relay_store_sqlite_get_ids_in_memory (f->store), ==, query_int (f, KEYS_AFTER_MARK));
}

/* A flush under way when a retry key leaves its row (the initiator's
 * write replaced the request id) and comes back on a new row (a create
 * with the same claim and request id): the flush's end takes the old
 * row's key out of memory, not the new row's, which a retry then finds.
 * The ninth create's batch starts a flush of the first eight creates' 16
 * keys, four a batch; it ends in the twelfth. */
static void
test_flush_keeps_reused_key (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *request_id = lk_uuid_new_random ();
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *again = NULL;
  gint64 expires = now_seconds () + 3600;
  RelayStatus status;

  open_store (f);
  first = create_request (f, expires, request_id, &status);
  g_assert_cmpint (status, ==, RELAY_STATUS_OK);
  for (guint i = 1; i < FLUSH_MIN / 2 + 1; i++)
    g_free (create_retriable (f, expires));

  g_assert_cmpint (write_op (f, RELAY_OP_UPDATE, first, f->claim), ==, RELAY_STATUS_OK);
  second = create_request (f, expires, request_id, &status);
  g_assert_cmpint (status, ==, RELAY_STATUS_OK);
  g_assert_cmpstr (second, !=, first);
  for (guint i = 0; i < 2; i++)
    g_free (create_retriable (f, expires));
  g_assert_cmpint (query_int (f, "SELECT indexed FROM mailbox_key_mark"), ==, FLUSH_MIN / 2);

  again = create_request (f, expires, request_id, &status);
  g_assert_cmpint (status, ==, RELAY_STATUS_DUPLICATE);
  g_assert_cmpstr (again, ==, second);
  g_assert_cmpint (relay_store_sqlite_get_ids_in_memory (f->store), ==, query_int (f, KEYS_AFTER_MARK));
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
}

/* A payload comes back as the very text the client sent: kept as its
 * bytes when it is canonical base64, as text otherwise. */
static void
test_payload_exact (Fixture       *f,
                    gconstpointer  data)
{
  static const struct { const char *text; gboolean bytes; } payloads[] = {
    { "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TRUE },
    { "3q2+7w==", TRUE },            /* two padding characters */
    { "3q2+7/8=", TRUE },            /* one */
    { "3q2+7/8", FALSE },            /* unpadded */
    { "3q2+7x==", FALSE },           /* bits that encoding would drop */
    { "3q2+7/9=", FALSE },
    { "3q2-7_8=", FALSE },           /* the URL alphabet */
    { "3q2+", TRUE },
  };
  gint64 expires = now_seconds () + 3600;

  open_store (f);
  for (guint i = 0; i < G_N_ELEMENTS (payloads); i++)
    {
      g_autoptr(RelayOp) op = create_op (f, expires, NULL);
      g_autoptr(RelayMailbox) mailbox = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *sql = NULL;
      g_autofree char *id = NULL;

      g_free (op->mailbox->payload_data);
      op->mailbox->payload_data = g_strdup (payloads[i].text);
      relay_store_run (RELAY_STORE (f->store), op, relay_store_submit);
      g_assert_cmpint (op->status, ==, RELAY_STATUS_OK);
      id = g_strdup (op->result->id);

      mailbox = relay_store_lookup (RELAY_STORE (f->store), id, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (mailbox->payload_data, ==, payloads[i].text);
      sql = g_strdup_printf ("SELECT typeof(payload_data) = 'blob' FROM mailbox WHERE id = '%s'", id);
      g_assert_cmpint (query_int (f, sql), ==, payloads[i].bytes);
    }

  /* An update's payload too, and the bytes count as their text. */
  {
    g_autofree char *id = create (f, expires);
    g_autoptr(RelayOp) op = relay_op_new (RELAY_OP_UPDATE, now_seconds ());
    g_autoptr(RelayMailbox) mailbox = NULL;
    g_autoptr(GError) error = NULL;

    op->mailbox_id = g_strdup (id);
    op->claim = g_strdup (f->claim);
    op->payload_type = g_strdup ("AEAD_AES_256_GCM");
    op->payload_data = g_strdup ("3q2+7w==");
    relay_store_run (RELAY_STORE (f->store), op, relay_store_submit);
    g_assert_cmpint (op->status, ==, RELAY_STATUS_OK);
    mailbox = relay_store_lookup (RELAY_STORE (f->store), id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (mailbox->payload_data, ==, "3q2+7w==");
    g_assert_cmpint (mailbox->size, ==, relay_mailbox_get_size (mailbox));
  }
}

/* A database from before the id table: its unique index on ids goes, every
 * id is moved into the table, and its mailboxes keep working. */
static void
test_ids_migration (Fixture       *f,
                    gconstpointer  data)
{
  static const char * const old_ids[] = {
    "0f8fad5b-d9cb-469f-a165-70867728950e",
    "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  };
  g_autofree char *request_id = lk_uuid_new_random ();
  g_autofree char *sql = NULL;
  g_autofree char *id = NULL;
  g_autofree char *again = NULL;
  sqlite3 *db = NULL;
  gint64 now = now_seconds ();
  RelayStatus status;

  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  sql = g_strdup_printf ("CREATE TABLE mailbox (id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, "
                         "initiator_claim TEXT NOT NULL, recipient_claim TEXT, access INTEGER NOT NULL, "
                         "created INTEGER NOT NULL, expires INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, "
                         "payload_type TEXT, payload_data TEXT, title TEXT, description TEXT, image_url TEXT, "
                         "initiator_token TEXT, recipient_token TEXT, initiator_request_id TEXT, "
                         "recipient_request_id TEXT, relinquished_claim TEXT, size INTEGER NOT NULL DEFAULT 0, "
                         "creator BLOB, max_recipients INTEGER NOT NULL DEFAULT 1, more_recipients TEXT, "
                         "done_recipients TEXT);"
                         "CREATE INDEX mailbox_expires ON mailbox (expires);"
                         "CREATE INDEX mailbox_initiator ON mailbox (initiator_claim, initiator_request_id);"
                         "INSERT INTO mailbox (id, version, initiator_claim, access, created, expires, payload_type, "
                         "payload_data, title, size, initiator_request_id) VALUES "
                         "('%s', 1, '%s', 7, %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", 'AEAD_AES_256_GCM', 'AAAA', 'A', 10, NULL),"
                         "('%s', 1, '%s', 7, %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", 'AEAD_AES_256_GCM', 'AAAA', 'B', 10, '%s');",
                         old_ids[0], f->claim, now, now + 3600, old_ids[1], f->claim, now, now + 3600, request_id);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  open_store (f);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_autoindex_mailbox%'"),
                   ==, 0);
  /* Two ids, and the second mailbox's retry key. */
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM mailbox_key"), ==, 3);
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM sqlite_master WHERE name = 'mailbox_initiator'"), ==, 0);
  g_assert_cmpint (query_int (f, "SELECT indexed FROM mailbox_key_mark"), ==, 2);
  g_assert_cmpuint (relay_store_sqlite_get_ids_in_memory (f->store), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (old_ids); i++)
    assert_found (f, old_ids[i], 1);
  again = create_request (f, now + 3600, request_id, &status);
  g_assert_cmpint (status, ==, RELAY_STATUS_DUPLICATE);
  g_assert_cmpstr (again, ==, old_ids[1]);
  g_assert_cmpint (write_op (f, RELAY_OP_UPDATE, old_ids[1], f->claim), ==, RELAY_STATUS_OK);
  assert_found (f, old_ids[1], 2);

  id = create (f, now + 3600);
  assert_found (f, id, 1);
  g_assert_cmpint (query_int (f, "SELECT rowid FROM mailbox WHERE id = '" "0f8fad5b-d9cb-469f-a165-70867728950e" "'"),
                   ==, 1);
  close_store (f);

  /* Once only. */
  open_store (f);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM mailbox"), ==, 3);
  assert_found (f, id, 1);
}

/* A retried create is found again from memory, from the table after a
 * flush, and after a restart; not once its mailbox is deleted, nor once
 * the initiator's later write replaced its request id, as before. */
static void
test_retry_keys (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) requests = g_ptr_array_new_with_free_func (g_free);
  gint64 expires = now_seconds () + 3600;
  RelayStatus status;

  open_store (f);
  for (guint round = 0; round < 2; round++)
    {
      /* The first are flushed by the creates after them; the last stay in memory. */
      for (guint i = 0; i < 3 * FLUSH_MIN + 5; i++)
        {
          g_ptr_array_add (requests, lk_uuid_new_random ());
          g_ptr_array_add (ids, create_request (f, expires, g_ptr_array_index (requests, requests->len - 1), &status));
          g_assert_cmpint (status, ==, RELAY_STATUS_OK);
        }
      g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
      g_assert_cmpint (relay_store_sqlite_get_ids_in_memory (f->store), ==, query_int (f, KEYS_AFTER_MARK));

      for (guint i = 0; i < ids->len; i++)
        {
          g_autofree char *again = create_request (f, expires, g_ptr_array_index (requests, i), &status);

          g_assert_cmpint (status, ==, RELAY_STATUS_DUPLICATE);
          g_assert_cmpstr (again, ==, g_ptr_array_index (ids, i));
        }

      /* The same request ids in a new store: found from the table and
       * from the rows after the mark. */
      close_store (f);
      open_store (f);
    }

  {
    g_autofree char *first = NULL;
    g_autofree char *last = NULL;
    g_autofree char *oldest = g_strdup (g_ptr_array_index (ids, 0));
    g_autofree char *newest = g_strdup (g_ptr_array_index (ids, ids->len - 1));

    g_assert_cmpint (write_op (f, RELAY_OP_DELETE, oldest, f->claim), ==, RELAY_STATUS_OK);
    g_assert_cmpint (write_op (f, RELAY_OP_UPDATE, newest, f->claim), ==, RELAY_STATUS_OK);
    /* Their retry keys left memory with the request ids they replaced. */
    g_assert_cmpint (relay_store_sqlite_get_ids_in_memory (f->store), ==, query_int (f, KEYS_AFTER_MARK));
    first = create_request (f, expires, g_ptr_array_index (requests, 0), &status);
    g_assert_cmpint (status, ==, RELAY_STATUS_OK);
    g_assert_cmpstr (first, !=, oldest);
    last = create_request (f, expires, g_ptr_array_index (requests, requests->len - 1), &status);
    g_assert_cmpint (status, ==, RELAY_STATUS_OK);
    g_assert_cmpstr (last, !=, newest);
  }

  /* The keys those writes replaced are gone from memory and the table,
   * also after the flushes that follow. */
  g_assert_cmpint (relay_store_sqlite_get_ids_in_memory (f->store), ==, query_int (f, KEYS_AFTER_MARK));
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
  for (guint i = 0; i < 3 * FLUSH_MIN; i++)
    g_free (create_retriable (f, expires));
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
  g_assert_cmpint (relay_store_sqlite_get_ids_in_memory (f->store), ==, query_int (f, KEYS_AFTER_MARK));
}

/* The answers to operations submitted without waiting, in their order. */
typedef struct
{
  GMutex     lock;
  GCond      cond;
  GArray    *status;   /* RelayStatus */
  GPtrArray *ids;      /* the answer's mailbox id, or NULL */
} Answers;

static void
answers_init (Answers *answers)
{
  g_mutex_init (&answers->lock);
  g_cond_init (&answers->cond);
  answers->status = g_array_new (FALSE, FALSE, sizeof (RelayStatus));
  answers->ids = g_ptr_array_new_with_free_func (g_free);
}

static void
answers_clear (Answers *answers)
{
  g_mutex_clear (&answers->lock);
  g_cond_clear (&answers->cond);
  g_array_unref (answers->status);
  g_ptr_array_unref (answers->ids);
}

static void
answer_done (RelayOp  *op,
             gpointer  user_data)
{
  Answers *answers = user_data;

  g_mutex_lock (&answers->lock);
  g_array_append_val (answers->status, op->status);
  g_ptr_array_add (answers->ids, op->result != NULL ? g_strdup (op->result->id) : NULL);
  g_cond_signal (&answers->cond);
  g_mutex_unlock (&answers->lock);
  relay_op_free (op);
}

/* Submits @op, to be answered into @answers. */
static void
submit_to (Fixture *f,
           RelayOp *op,
           Answers *answers)
{
  op->done = answer_done;
  op->user_data = answers;
  relay_store_submit (RELAY_STORE (f->store), op);
}

static void
answers_wait (Answers *answers,
              guint    n)
{
  g_mutex_lock (&answers->lock);
  while (answers->status->len < n)
    g_cond_wait (&answers->cond, &answers->lock);
  g_mutex_unlock (&answers->lock);
}

/* Two attempts of one create submitted together, so that the writer
 * mostly takes them in one batch, where the first is in neither memory nor
 * the table yet: one mailbox, and the other attempt answered with it. */
static void
test_retry_same_batch (Fixture       *f,
                       gconstpointer  data)
{
  open_store (f);
  for (guint round = 0; round < 50; round++)
    {
      g_autofree char *request_id = lk_uuid_new_random ();
      Answers answers;

      answers_init (&answers);
      for (guint i = 0; i < 2; i++)
        submit_to (f, create_op (f, now_seconds () + 3600, request_id), &answers);
      answers_wait (&answers, 2);

      g_assert_cmpint (g_array_index (answers.status, RelayStatus, 0), ==, RELAY_STATUS_OK);
      g_assert_cmpint (g_array_index (answers.status, RelayStatus, 1), ==, RELAY_STATUS_DUPLICATE);
      g_assert_cmpstr (g_ptr_array_index (answers.ids, 0), ==, g_ptr_array_index (answers.ids, 1));
      answers_clear (&answers);
    }
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM mailbox"), ==, 50);
}

/* Creates submitted all at once make batches of hundreds, each adding two
 * keys a create: a flush moves more than that with each batch, so memory
 * stays near the threshold instead of growing with the burst. */
static void
test_flush_keeps_up (Fixture       *f,
                     gconstpointer  data)
{
  const guint n = 4000;
  Answers answers;
  guint ok = 0;

  answers_init (&answers);
  open_store (f);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *request_id = lk_uuid_new_random ();

      submit_to (f, create_op (f, now_seconds () + 3600, request_id), &answers);
    }
  answers_wait (&answers, n);
  for (guint i = 0; i < n; i++)
    ok += g_array_index (answers.status, RelayStatus, i) == RELAY_STATUS_OK;
  answers_clear (&answers);
  g_assert_cmpuint (ok, ==, n);
  g_test_message ("%u commits, %u keys in memory", (guint) relay_store_sqlite_get_commits (f->store),
                  relay_store_sqlite_get_ids_in_memory (f->store));
  /* The threshold, and what two of the largest batches add. */
  g_assert_cmpuint (relay_store_sqlite_get_ids_in_memory (f->store), <=, FLUSH_MIN + 2 * 2 * 512);
  g_assert_cmpint (relay_store_sqlite_get_ids_in_memory (f->store), ==, query_int (f, KEYS_AFTER_MARK));
  g_assert_cmpint (query_int (f, NO_STRAY_IDS), ==, 0);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM mailbox_key"), >=, 2 * n - FLUSH_MIN - 2 * 2 * 512);
}

/* A burst of creates of 3 KB each, about 6,000 pages of WAL: the
 * checkpointer copies them as they come, and the writer lets it finish
 * before a transaction once the WAL has 1,000 pages, so that the WAL
 * starts afresh there and never gets near the 4,000 at which the writer
 * would truncate it itself. */
static void
test_wal_starts_afresh (Fixture       *f,
                        gconstpointer  data)
{
  const guint n = 5000;
  g_autofree char *payload = g_strnfill (3000, 'A');
  Answers answers;
  guint ok = 0;

  answers_init (&answers);
  open_store (f);
  for (guint i = 0; i < n; i++)
    {
      RelayOp *op = create_op (f, now_seconds () + 3600, NULL);

      g_free (op->mailbox->payload_data);
      op->mailbox->payload_data = g_strdup (payload);
      submit_to (f, op, &answers);
    }
  answers_wait (&answers, n);
  for (guint i = 0; i < n; i++)
    ok += g_array_index (answers.status, RelayStatus, i) == RELAY_STATUS_OK;
  answers_clear (&answers);
  g_assert_cmpuint (ok, ==, n);

  g_test_message ("%u commits, %" G_GUINT64_FORMAT " checkpoints on the thread, WAL at most %u frames",
                  (guint) relay_store_sqlite_get_commits (f->store), relay_store_sqlite_get_checkpoints (f->store),
                  relay_store_sqlite_get_wal_frames_max (f->store));
  g_assert_cmpuint (relay_store_sqlite_get_checkpoints (f->store), >, 0);
  {
    RelayStoreStats stats;

    /* What /metrics shows of it. */
    relay_store_get_stats (RELAY_STORE (f->store), &stats);
    g_assert_cmpuint (stats.checkpoint_waits, >, 0);
    g_assert_cmpuint (stats.checkpoint_wait_usec, >, 0);
    g_assert_cmpuint (stats.wal_frames, >, 0);
    g_assert_cmpuint (stats.wal_frames, <=, relay_store_sqlite_get_wal_frames_max (f->store));
  }
  /* 1,000, and what one of the largest batches adds (512 creates). */
  g_assert_cmpuint (relay_store_sqlite_get_wal_frames_max (f->store), <, 1000 + 1000);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM mailbox"), ==, n);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/relay/store-sqlite/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("ids-both-sides", test_ids_both_sides);
  ADD ("ids-restart", test_ids_restart);
  ADD ("ids-purge", test_ids_purge);
  ADD ("flush-skips-gone", test_flush_skips_gone);
  ADD ("flush-keeps-reused-key", test_flush_keeps_reused_key);
  ADD ("payload-exact", test_payload_exact);
  ADD ("ids-migration", test_ids_migration);
  ADD ("retry-keys", test_retry_keys);
  ADD ("retry-same-batch", test_retry_same_batch);
  ADD ("flush-keeps-up", test_flush_keeps_up);
  ADD ("wal-starts-afresh", test_wal_starts_afresh);
#undef ADD

  return g_test_run ();
}
