/* partner-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One connection, used by libmicrohttpd's single thread while serving and by
 * the main thread only before and after. Every change that must happen
 * together runs between partner_store_begin() and partner_store_commit();
 * WAL with synchronous=FULL makes a commit durable before it is answered.
 *
 * Provisioning tokens and access tokens are kept only as SHA-256 hashes: a
 * copy of the database lets no one redeem or open anything.
 */

#define G_LOG_DOMAIN "partner-store"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include "httpd-sqlite.h"

#include "partner-request.h"
#include "partner-store.h"

#define SCHEMA_VERSION 2

/* Parent chains are short in practice; the bound keeps a corrupt database
 * with a cycle from looping. */
#define MAX_CHAIN_DEPTH 1000

#define CREDENTIAL_COLUMNS \
  "id, access_point_id, vertical, role, parent_id, title, entitlements, " \
  "valid_from, valid_until, public_key, revoked, created"

#define TOKEN_COLUMNS \
  "hash, issuer_id, entitlements, valid_from, valid_until, code_verifier, " \
  "attempts_left, state, redeemed_id, created, expires, receivers"

struct _PartnerStore
{
  GObject   parent_instance;

  sqlite3  *db;
};

G_DEFINE_FINAL_TYPE (PartnerStore, partner_store, G_TYPE_OBJECT)


static const char schema[] =
  "CREATE TABLE IF NOT EXISTS access_point ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  vertical TEXT NOT NULL,"
  "  title TEXT NOT NULL,"
  "  owner_id TEXT NOT NULL,"
  "  created INTEGER NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS credential ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  access_point_id TEXT NOT NULL REFERENCES access_point (id),"
  "  vertical TEXT NOT NULL,"
  "  role TEXT NOT NULL,"
  "  parent_id TEXT REFERENCES credential (id),"
  "  title TEXT NOT NULL,"
  "  entitlements TEXT NOT NULL,"
  "  valid_from INTEGER,"
  "  valid_until INTEGER,"
  "  public_key TEXT,"
  "  revoked INTEGER NOT NULL DEFAULT 0,"
  "  revoked_at INTEGER,"
  "  created INTEGER NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE INDEX IF NOT EXISTS credential_parent ON credential (parent_id);"
  "CREATE TABLE IF NOT EXISTS access_token ("
  "  hash BLOB PRIMARY KEY NOT NULL,"
  "  credential_id TEXT NOT NULL REFERENCES credential (id),"
  "  revoked INTEGER NOT NULL DEFAULT 0,"
  "  revoked_at INTEGER,"
  "  created INTEGER NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE INDEX IF NOT EXISTS access_token_credential ON access_token (credential_id);"
  "CREATE TABLE IF NOT EXISTS token ("
  "  hash BLOB PRIMARY KEY NOT NULL,"
  "  issuer_id TEXT NOT NULL REFERENCES credential (id),"
  "  entitlements TEXT NOT NULL,"
  "  valid_from INTEGER,"
  "  valid_until INTEGER,"
  "  code_verifier TEXT,"
  "  attempts_left INTEGER NOT NULL,"
  "  state TEXT NOT NULL,"
  "  redeemed_id TEXT REFERENCES credential (id),"
  "  created INTEGER NOT NULL,"
  "  expires INTEGER NOT NULL,"
  "  receivers INTEGER NOT NULL DEFAULT 1"
  ") WITHOUT ROWID;"
  /* Each redemption of a token for several receivers (issue 13), 1-based. */
  "CREATE TABLE IF NOT EXISTS redemption ("
  "  token_hash BLOB NOT NULL REFERENCES token (hash),"
  "  position INTEGER NOT NULL,"
  "  credential_id TEXT NOT NULL REFERENCES credential (id),"
  "  PRIMARY KEY (token_hash, position)"
  ") WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS friend_key_revocation ("
  "  access_point_id TEXT NOT NULL REFERENCES access_point (id),"
  "  fingerprint TEXT NOT NULL,"
  "  revoked_at INTEGER NOT NULL,"
  "  PRIMARY KEY (access_point_id, fingerprint)"
  ") WITHOUT ROWID;";

static sqlite3_stmt *
prepare (PartnerStore  *self,
         const char    *sql,
         GError       **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);

  if (!httpd_sqlite_check (self->db, rc, "prepare", error))
    {
      sqlite3_finalize (stmt);
      return NULL;
    }

  return stmt;
}

static gboolean
step_done (PartnerStore  *self,
           sqlite3_stmt  *stmt,
           GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    rc = SQLITE_DONE;
  return httpd_sqlite_check (self->db, rc, "write", error);
}

/* An open bound is stored as NULL. */
static void
bind_bound (sqlite3_stmt *stmt,
            int           index,
            gint64        value)
{
  if (value == PARTNER_OPEN_START || value == PARTNER_OPEN_END)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_int64 (stmt, index, value);
}

static gint64
column_bound (sqlite3_stmt *stmt,
              int           column,
              gint64        open)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return open;
  return sqlite3_column_int64 (stmt, column);
}

/* Entitlements hold no commas (partner_get_entitlements() sees to it). */
static char *
join_entitlements (GStrv entitlements)
{
  if (entitlements == NULL)
    return g_strdup ("");
  return g_strjoinv (",", entitlements);
}

static GStrv
split_entitlements (sqlite3_stmt *stmt,
                    int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  if (text == NULL || *text == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (text, ",", -1);
}

static void
partner_store_finalize (GObject *object)
{
  PartnerStore *self = (PartnerStore *) object;

  partner_store_close (self);

  G_OBJECT_CLASS (partner_store_parent_class)->finalize (object);
}

static void
partner_store_class_init (PartnerStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = partner_store_finalize;
}

static void
partner_store_init (PartnerStore *self)
{
}

/**
 * partner_store_new:
 * @path: the database file; created if missing
 */
PartnerStore *
partner_store_new (const char  *path,
                   GError     **error)
{
  g_autoptr(PartnerStore) self = g_object_new (PARTNER_TYPE_STORE, NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc, version;

  /* The connection moves from the main thread to libmicrohttpd's and back,
   * never used by two at once; the full mutex costs nothing at this rate. */
  self->db = httpd_sqlite_open (path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                "PRAGMA journal_mode = WAL;"
                                "PRAGMA synchronous = FULL;"
                                "PRAGMA foreign_keys = ON;",
                                error);
  if (self->db == NULL)
    return NULL;

  stmt = prepare (self, "PRAGMA user_version", error);
  if (stmt == NULL)
    return NULL;
  rc = sqlite3_step (stmt);
  if (!httpd_sqlite_check (self->db, rc, "Could not read the schema version", error))
    return NULL;
  version = rc == SQLITE_ROW ? sqlite3_column_int (stmt, 0) : 0;
  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "The database was written by a newer latchkey-partner (schema %d)", version);
      return NULL;
    }

  rc = sqlite3_exec (self->db, schema, NULL, NULL, NULL);
  /* Schema 1 had single-use tokens only: each is one receiver's. */
  if (rc == SQLITE_OK &&
      sqlite3_table_column_metadata (self->db, NULL, "token", "receivers", NULL, NULL, NULL, NULL, NULL) != SQLITE_OK)
    rc = sqlite3_exec (self->db, "ALTER TABLE token ADD COLUMN receivers INTEGER NOT NULL DEFAULT 1", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->db, "PRAGMA user_version = " G_STRINGIFY (SCHEMA_VERSION), NULL, NULL, NULL);
  if (!httpd_sqlite_check (self->db, rc, "Could not create the tables", error))
    return NULL;

  return g_steal_pointer (&self);
}

/* Checkpoints the log and closes; later calls fail cleanly. */
void
partner_store_close (PartnerStore *self)
{
  if (self->db == NULL)
    return;

  if (sqlite3_close (self->db) != SQLITE_OK)
    g_warning ("Could not close the database cleanly: %s", sqlite3_errmsg (self->db));
  self->db = NULL;
}

/* BEGIN IMMEDIATE takes the write lock at once, so a transaction that read
 * something cannot find it changed when it writes. */
gboolean
partner_store_begin (PartnerStore  *self,
                     GError       **error)
{
  return httpd_sqlite_check (self->db, sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin", error);
}

gboolean
partner_store_commit (PartnerStore  *self,
                      GError       **error)
{
  int rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);

  if (!httpd_sqlite_check (self->db, rc, "commit", error))
    {
      partner_store_rollback (self);
      return FALSE;
    }

  return TRUE;
}

void
partner_store_rollback (PartnerStore *self)
{
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Access points */

gboolean
partner_store_add_access_point (PartnerStore              *self,
                                const PartnerAccessPoint  *access_point,
                                GError                   **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "INSERT INTO access_point (id, vertical, title, owner_id, created) "
                                          "VALUES (?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;

  httpd_sqlite_bind_text (stmt, 1, access_point->id);
  httpd_sqlite_bind_text (stmt, 2, lk_vertical_to_string (access_point->vertical));
  httpd_sqlite_bind_text (stmt, 3, access_point->title);
  httpd_sqlite_bind_text (stmt, 4, access_point->owner_id);
  sqlite3_bind_int64 (stmt, 5, access_point->created);
  return step_done (self, stmt, error);
}

/**
 * partner_store_get_access_point:
 *
 * Returns: (transfer full) (nullable): the access point; %NULL without an
 *   error if there is none
 */
PartnerAccessPoint *
partner_store_get_access_point (PartnerStore  *self,
                                const char    *id,
                                GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "SELECT id, vertical, title, owner_id, created "
                                          "FROM access_point WHERE id = ?", error);
  g_autoptr(PartnerAccessPoint) access_point = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;

  httpd_sqlite_bind_text (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      httpd_sqlite_check (self->db, rc, "select", error);
      return NULL;
    }

  access_point = partner_access_point_new ();
  access_point->id = httpd_sqlite_column_text (stmt, 0);
  if (!lk_vertical_from_string ((const char *) sqlite3_column_text (stmt, 1), &access_point->vertical))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "An access point has an unknown vertical");
      return NULL;
    }
  access_point->title = httpd_sqlite_column_text (stmt, 2);
  access_point->owner_id = httpd_sqlite_column_text (stmt, 3);
  access_point->created = sqlite3_column_int64 (stmt, 4);

  return g_steal_pointer (&access_point);
}

/* Credentials */

gboolean
partner_store_add_credential (PartnerStore             *self,
                              const PartnerCredential  *credential,
                              GError                  **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "INSERT INTO credential (" CREDENTIAL_COLUMNS ") "
                                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  g_autofree char *entitlements = join_entitlements (credential->entitlements);

  if (stmt == NULL)
    return FALSE;

  httpd_sqlite_bind_text (stmt, 1, credential->id);
  httpd_sqlite_bind_text (stmt, 2, credential->access_point_id);
  httpd_sqlite_bind_text (stmt, 3, lk_vertical_to_string (credential->vertical));
  httpd_sqlite_bind_text (stmt, 4, lk_credential_role_to_string (credential->role));
  httpd_sqlite_bind_text (stmt, 5, credential->parent_id);
  httpd_sqlite_bind_text (stmt, 6, credential->title);
  httpd_sqlite_bind_text (stmt, 7, entitlements);
  bind_bound (stmt, 8, credential->valid_from);
  bind_bound (stmt, 9, credential->valid_until);
  httpd_sqlite_bind_text (stmt, 10, credential->public_key);
  sqlite3_bind_int (stmt, 11, credential->revoked ? 1 : 0);
  sqlite3_bind_int64 (stmt, 12, credential->created);
  return step_done (self, stmt, error);
}

/**
 * partner_store_get_credential:
 *
 * Returns: (transfer full) (nullable): the credential; %NULL without an
 *   error if there is none
 */
PartnerCredential *
partner_store_get_credential (PartnerStore  *self,
                              const char    *id,
                              GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "SELECT " CREDENTIAL_COLUMNS " FROM credential WHERE id = ?", error);
  g_autoptr(PartnerCredential) credential = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;

  httpd_sqlite_bind_text (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      httpd_sqlite_check (self->db, rc, "select", error);
      return NULL;
    }

  credential = partner_credential_new ();
  credential->id = httpd_sqlite_column_text (stmt, 0);
  credential->access_point_id = httpd_sqlite_column_text (stmt, 1);
  if (!lk_vertical_from_string ((const char *) sqlite3_column_text (stmt, 2), &credential->vertical) ||
      !lk_credential_role_from_string ((const char *) sqlite3_column_text (stmt, 3), &credential->role))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "A credential has an unknown vertical or role");
      return NULL;
    }
  credential->parent_id = httpd_sqlite_column_text (stmt, 4);
  credential->title = httpd_sqlite_column_text (stmt, 5);
  credential->entitlements = split_entitlements (stmt, 6);
  credential->valid_from = column_bound (stmt, 7, PARTNER_OPEN_START);
  credential->valid_until = column_bound (stmt, 8, PARTNER_OPEN_END);
  credential->public_key = httpd_sqlite_column_text (stmt, 9);
  credential->revoked = sqlite3_column_int (stmt, 10) != 0;
  credential->created = sqlite3_column_int64 (stmt, 11);

  return g_steal_pointer (&credential);
}

static gboolean
query_boolean (PartnerStore  *self,
               sqlite3_stmt  *stmt,
               gboolean      *result,
               GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (!httpd_sqlite_check (self->db, rc, "select", error))
    return FALSE;

  *result = rc == SQLITE_ROW && sqlite3_column_int (stmt, 0) != 0;
  return TRUE;
}

/**
 * partner_store_chain_revoked:
 * @revoked: (out): whether @id or any credential it descends from is revoked
 *
 * Revocation marks a whole subtree at once; this looks up the chain too, so
 * that nothing depends on that having been complete.
 */
gboolean
partner_store_chain_revoked (PartnerStore  *self,
                             const char    *id,
                             gboolean      *revoked,
                             GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
    "WITH RECURSIVE chain (id, parent_id, revoked, depth) AS ("
    "  SELECT id, parent_id, revoked, 0 FROM credential WHERE id = ?1"
    "  UNION ALL"
    "  SELECT c.id, c.parent_id, c.revoked, chain.depth + 1"
    "  FROM credential AS c JOIN chain ON c.id = chain.parent_id"
    "  WHERE chain.depth < " G_STRINGIFY (MAX_CHAIN_DEPTH)
    ") SELECT COALESCE (MAX (revoked), 0) FROM chain", error);

  if (stmt == NULL)
    return FALSE;

  httpd_sqlite_bind_text (stmt, 1, id);
  return query_boolean (self, stmt, revoked, error);
}

/**
 * partner_store_is_descendant:
 * @descendant: (out): whether @id was shared, directly or through others,
 *   from @ancestor_id (a credential is not its own descendant)
 */
gboolean
partner_store_is_descendant (PartnerStore  *self,
                             const char    *ancestor_id,
                             const char    *id,
                             gboolean      *descendant,
                             GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
    "WITH RECURSIVE chain (id, parent_id, depth) AS ("
    "  SELECT id, parent_id, 0 FROM credential WHERE id = ?2"
    "  UNION ALL"
    "  SELECT c.id, c.parent_id, chain.depth + 1"
    "  FROM credential AS c JOIN chain ON c.id = chain.parent_id"
    "  WHERE chain.depth < " G_STRINGIFY (MAX_CHAIN_DEPTH)
    ") SELECT EXISTS (SELECT 1 FROM chain WHERE id = ?1 AND depth > 0)", error);

  if (stmt == NULL)
    return FALSE;

  httpd_sqlite_bind_text (stmt, 1, ancestor_id);
  httpd_sqlite_bind_text (stmt, 2, id);
  return query_boolean (self, stmt, descendant, error);
}

/**
 * partner_store_revoke_tree:
 *
 * Revokes @id and every credential shared from it, however indirectly.
 *
 * Returns: how many were revoked now (not counting those that already
 *   were), or -1 with @error set
 */
gint64
partner_store_revoke_tree (PartnerStore  *self,
                           const char    *id,
                           gint64         now,
                           GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
    "WITH RECURSIVE tree (id) AS ("
    "  SELECT id FROM credential WHERE id = ?1"
    "  UNION"
    "  SELECT c.id FROM credential AS c JOIN tree ON c.parent_id = tree.id"
    ") UPDATE credential SET revoked = 1, revoked_at = ?2"
    "  WHERE revoked = 0 AND id IN (SELECT id FROM tree)", error);

  if (stmt == NULL)
    return -1;

  httpd_sqlite_bind_text (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, now);
  if (!step_done (self, stmt, error))
    return -1;

  return sqlite3_changes64 (self->db);
}

/* Access tokens of generic credentials */

gboolean
partner_store_add_access_token (PartnerStore  *self,
                                const guint8  *hash,
                                const char    *credential_id,
                                gint64         now,
                                GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "INSERT INTO access_token (hash, credential_id, created) "
                                          "VALUES (?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_blob (stmt, 1, hash, LK_SHA256_LENGTH, SQLITE_STATIC);
  httpd_sqlite_bind_text (stmt, 2, credential_id);
  sqlite3_bind_int64 (stmt, 3, now);
  return step_done (self, stmt, error);
}

/**
 * partner_store_find_access_token:
 * @hash: SHA-256 of the access token
 * @credential_id: (out) (transfer full): the credential it opens, or %NULL
 *   if no such token was ever issued
 * @revoked: (out): whether it was replaced
 *
 * The lookup is by hash, which leaks nothing about the token through
 * timing; the stored hash is then compared in constant time regardless.
 */
gboolean
partner_store_find_access_token (PartnerStore  *self,
                                 const guint8  *hash,
                                 char         **credential_id,
                                 gboolean      *revoked,
                                 GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "SELECT hash, credential_id, revoked FROM access_token WHERE hash = ?",
                                          error);
  int rc;

  *credential_id = NULL;
  *revoked = FALSE;
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_blob (stmt, 1, hash, LK_SHA256_LENGTH, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return httpd_sqlite_check (self->db, rc, "select", error);

  if (sqlite3_column_bytes (stmt, 0) != LK_SHA256_LENGTH ||
      !lk_crypto_equal (sqlite3_column_blob (stmt, 0), hash, LK_SHA256_LENGTH))
    return TRUE;

  *credential_id = httpd_sqlite_column_text (stmt, 1);
  *revoked = sqlite3_column_int (stmt, 2) != 0;
  return TRUE;
}

/**
 * partner_store_set_public_key:
 * @set: (out): whether the key was set; %FALSE if the credential already
 *   had one (a key is registered once, never replaced)
 */
gboolean
partner_store_set_public_key (PartnerStore  *self,
                              const char    *credential_id,
                              const char    *public_key,
                              gboolean      *set,
                              GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "UPDATE credential SET public_key = ? "
                                          "WHERE id = ? AND public_key IS NULL", error);

  *set = FALSE;
  if (stmt == NULL)
    return FALSE;

  httpd_sqlite_bind_text (stmt, 1, public_key);
  httpd_sqlite_bind_text (stmt, 2, credential_id);
  if (!step_done (self, stmt, error))
    return FALSE;

  *set = sqlite3_changes64 (self->db) == 1;
  return TRUE;
}

/* Returns: how many of @credential_id's tokens were revoked now, or -1 */
gint64
partner_store_revoke_access_tokens (PartnerStore  *self,
                                    const char    *credential_id,
                                    gint64         now,
                                    GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "UPDATE access_token SET revoked = 1, revoked_at = ? "
                                          "WHERE credential_id = ? AND revoked = 0", error);

  if (stmt == NULL)
    return -1;

  sqlite3_bind_int64 (stmt, 1, now);
  httpd_sqlite_bind_text (stmt, 2, credential_id);
  if (!step_done (self, stmt, error))
    return -1;

  return sqlite3_changes64 (self->db);
}

/* Provisioning tokens */

static gboolean load_redemptions (PartnerStore  *self,
                                  PartnerToken  *token,
                                  GError       **error);

static void
bind_token (sqlite3_stmt       *stmt,
            const PartnerToken *token,
            const char         *entitlements)
{
  sqlite3_bind_blob (stmt, 1, token->hash, LK_SHA256_LENGTH, SQLITE_STATIC);
  httpd_sqlite_bind_text (stmt, 2, token->issuer_id);
  httpd_sqlite_bind_text (stmt, 3, entitlements);
  bind_bound (stmt, 4, token->valid_from);
  bind_bound (stmt, 5, token->valid_until);
  httpd_sqlite_bind_text (stmt, 6, token->code_verifier);
  sqlite3_bind_int (stmt, 7, token->attempts_left);
  httpd_sqlite_bind_text (stmt, 8, partner_token_state_to_string (token->state));
  httpd_sqlite_bind_text (stmt, 9, token->redeemed_id);
  sqlite3_bind_int64 (stmt, 10, token->created);
  sqlite3_bind_int64 (stmt, 11, token->expires);
  sqlite3_bind_int (stmt, 12, (int) MAX (token->receivers, 1));
}

gboolean
partner_store_add_token (PartnerStore        *self,
                         const PartnerToken  *token,
                         GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "INSERT INTO token (" TOKEN_COLUMNS ") "
                                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  g_autofree char *entitlements = join_entitlements (token->entitlements);

  if (stmt == NULL)
    return FALSE;

  bind_token (stmt, token, entitlements);
  return step_done (self, stmt, error);
}

/**
 * partner_store_get_token:
 * @hash: SHA-256 of the token
 *
 * Returns: (transfer full) (nullable): the token; %NULL without an error if
 *   there is none. As for access tokens, the stored hash is compared in
 *   constant time after the lookup.
 */
PartnerToken *
partner_store_get_token (PartnerStore  *self,
                         const guint8  *hash,
                         GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, "SELECT " TOKEN_COLUMNS " FROM token WHERE hash = ?", error);
  g_autoptr(PartnerToken) token = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;

  sqlite3_bind_blob (stmt, 1, hash, LK_SHA256_LENGTH, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      httpd_sqlite_check (self->db, rc, "select", error);
      return NULL;
    }

  if (sqlite3_column_bytes (stmt, 0) != LK_SHA256_LENGTH ||
      !lk_crypto_equal (sqlite3_column_blob (stmt, 0), hash, LK_SHA256_LENGTH))
    return NULL;

  token = partner_token_new ();
  memcpy (token->hash, hash, LK_SHA256_LENGTH);
  token->issuer_id = httpd_sqlite_column_text (stmt, 1);
  token->entitlements = split_entitlements (stmt, 2);
  token->valid_from = column_bound (stmt, 3, PARTNER_OPEN_START);
  token->valid_until = column_bound (stmt, 4, PARTNER_OPEN_END);
  token->code_verifier = httpd_sqlite_column_text (stmt, 5);
  token->attempts_left = sqlite3_column_int (stmt, 6);
  if (!partner_token_state_from_string ((const char *) sqlite3_column_text (stmt, 7), &token->state))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "A token has an unknown state");
      return NULL;
    }
  token->redeemed_id = httpd_sqlite_column_text (stmt, 8);
  token->created = sqlite3_column_int64 (stmt, 9);
  token->expires = sqlite3_column_int64 (stmt, 10);
  token->receivers = (guint) CLAMP (sqlite3_column_int (stmt, 11), 1, PARTNER_MAX_RECEIVERS);
  if (!load_redemptions (self, token, error))
    return NULL;

  return g_steal_pointer (&token);
}

/* A token's redemptions, in order. */
static gboolean
load_redemptions (PartnerStore  *self,
                  PartnerToken  *token,
                  GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, "SELECT credential_id FROM redemption WHERE token_hash = ? "
                                                "ORDER BY position LIMIT " G_STRINGIFY (PARTNER_MAX_RECEIVERS), error);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  int rc;

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_blob (stmt, 1, token->hash, LK_SHA256_LENGTH, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (builder, (const char *) sqlite3_column_text (stmt, 0));
  if (!httpd_sqlite_check (self->db, rc, "select", error))
    return FALSE;

  g_strfreev (token->redemptions);
  token->redemptions = g_strv_builder_end (builder);
  return TRUE;
}

/* Records the @position'th (1-based) redemption of @token. */
gboolean
partner_store_add_redemption (PartnerStore        *self,
                              const PartnerToken  *token,
                              guint                position,
                              const char          *credential_id,
                              GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "INSERT INTO redemption (token_hash, position, credential_id) "
                                          "VALUES (?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_blob (stmt, 1, token->hash, LK_SHA256_LENGTH, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, (int) position);
  httpd_sqlite_bind_text (stmt, 3, credential_id);
  return step_done (self, stmt, error);
}

/* Writes back what changes in a token's life: its state, attempts and the
 * credential redeemed from it. */
gboolean
partner_store_update_token (PartnerStore        *self,
                            const PartnerToken  *token,
                            GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "UPDATE token SET attempts_left = ?, state = ?, redeemed_id = ? "
                                          "WHERE hash = ?", error);

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int (stmt, 1, token->attempts_left);
  httpd_sqlite_bind_text (stmt, 2, partner_token_state_to_string (token->state));
  httpd_sqlite_bind_text (stmt, 3, token->redeemed_id);
  sqlite3_bind_blob (stmt, 4, token->hash, LK_SHA256_LENGTH, SQLITE_STATIC);
  return step_done (self, stmt, error);
}

/* Friend keys revoked by a car's owner */

/**
 * partner_store_revoke_key:
 * @added: (out): %FALSE if the key was already revoked
 */
gboolean
partner_store_revoke_key (PartnerStore  *self,
                          const char    *access_point_id,
                          const char    *fingerprint,
                          gint64         now,
                          gboolean      *added,
                          GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "INSERT OR IGNORE INTO friend_key_revocation "
                                          "(access_point_id, fingerprint, revoked_at) VALUES (?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;

  httpd_sqlite_bind_text (stmt, 1, access_point_id);
  httpd_sqlite_bind_text (stmt, 2, fingerprint);
  sqlite3_bind_int64 (stmt, 3, now);
  if (!step_done (self, stmt, error))
    return FALSE;

  *added = sqlite3_changes (self->db) > 0;
  return TRUE;
}

gboolean
partner_store_is_key_revoked (PartnerStore  *self,
                              const char    *access_point_id,
                              const char    *fingerprint,
                              gboolean      *revoked,
                              GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
                                          "SELECT EXISTS (SELECT 1 FROM friend_key_revocation "
                                          "WHERE access_point_id = ? AND fingerprint = ?)", error);

  if (stmt == NULL)
    return FALSE;

  httpd_sqlite_bind_text (stmt, 1, access_point_id);
  httpd_sqlite_bind_text (stmt, 2, fingerprint);
  return query_boolean (self, stmt, revoked, error);
}
