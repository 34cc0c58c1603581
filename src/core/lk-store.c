/* lk-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The keyring holds one item of ours: the wallet key, 32 random bytes
 * (kind "key", id "wallet"). Credentials and transfers live in a local file
 * sealed with it (lk-store-db.c): gnome-keyring rewrites and re-encrypts its
 * whole file on every write, which made each step of a share cost time in
 * proportion to the wallet. Items an older Latchkey kept in the keyring
 * (kind "credential" or "transfer", the JSON as the secret) are moved into
 * the file the first time a process opens it.
 *
 * Before any operation the default collection is checked without unlocking
 * it: a locked keyring is reported at once instead of raising a password
 * prompt (which, in a headless session, would never be answered); so the
 * wallet is exactly as locked as the keyring. Every operation is cut off
 * after LK_STORE_TIMEOUT_SECONDS. The file's work runs in a thread.
 */

#define G_LOG_DOMAIN "lk-store"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>

#include "lk-crypto.h"
#include "lk-store.h"
#include "lk-store-db.h"

struct _LkStore
{
  GObject  parent_instance;

  gboolean sandboxed;   /* Flatpak: the Secret portal's file backend */
};

G_DEFINE_FINAL_TYPE (LkStore, lk_store, G_TYPE_OBJECT)
G_DEFINE_QUARK (lk-store-error-quark, lk_store_error)

static const char * const kind_names[] = { "credential", "transfer" };

/* Deleting a legacy item costs the keyring daemon a rewrite of its file:
 * a process spends at most this on it, and the next goes on. */
#define LEGACY_DELETE_BUDGET_US (2 * G_USEC_PER_SEC)

const SecretSchema *
lk_store_get_schema (void)
{
  static const SecretSchema schema = {
    LK_STORE_SCHEMA_NAME, SECRET_SCHEMA_NONE,
    {
      { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "id", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

static void
lk_store_class_init (LkStoreClass *klass)
{
}

static void
lk_store_init (LkStore *self)
{
  self->sandboxed = g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
}

LkStore *
lk_store_new (void)
{
  return g_object_new (LK_TYPE_STORE, NULL);
}

typedef enum
{
  OP_SAVE,
  OP_LOAD,
  OP_LOAD_ALL,
  OP_DELETE,
  OP_CHECK,
} Op;

typedef struct
{
  Op            op;
  LkStoreKind   kind;
  char         *id;
  char         *label;
  char         *secret;
  GCancellable *cancellable;     /* ours: the caller's, or the timeout */
  gulong        forward_id;
  GCancellable *caller;
  GSource      *timeout;
  gboolean      timed_out;
} Call;

static void
call_free (Call *call)
{
  if (call->caller != NULL)
    g_cancellable_disconnect (call->caller, call->forward_id);
  g_clear_object (&call->caller);
  if (call->timeout != NULL)
    {
      g_source_destroy (call->timeout);
      g_source_unref (call->timeout);
    }
  g_clear_object (&call->cancellable);
  g_free (call->id);
  g_free (call->label);
  lk_secure_clear_str (&call->secret);
  g_free (call);
}

static gboolean
on_timeout (gpointer user_data)
{
  Call *call = user_data;

  call->timed_out = TRUE;
  g_cancellable_cancel (call->cancellable);
  g_clear_pointer (&call->timeout, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  g_cancellable_cancel (user_data);
}

/* Maps libsecret's errors, and our timeout, to ours. */
static void
return_error (GTask  *task,
              GError *error)
{
  Call *call = g_task_get_task_data (task);

  if (call->timed_out)
    g_task_return_new_error (task, LK_STORE_ERROR, LK_STORE_ERROR_TIMEOUT,
                             _("The keyring did not answer within %u seconds. Is it locked, or is a "
                               "password prompt waiting?"), LK_STORE_TIMEOUT_SECONDS);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, g_error_copy (error));
  else if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
    g_task_return_new_error (task, LK_STORE_ERROR, LK_STORE_ERROR_LOCKED,
                             _("The keyring is locked. Unlock it (for example by logging in again) and retry."));
  else if (error->domain == G_DBUS_ERROR || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_DBUS_ERROR))
    g_task_return_new_error (task, LK_STORE_ERROR, LK_STORE_ERROR_NO_KEYRING,
                             _("No keyring service is running. Install and start GNOME Keyring or "
                               "another Secret Service."));
  else
    g_task_return_new_error (task, LK_STORE_ERROR, LK_STORE_ERROR_FAILED,
                             _("The keyring failed: %s"), error->message);
}

static GHashTable *
attributes_for (LkStoreKind  kind,
                const char  *id)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, (gpointer) "kind", (gpointer) kind_names[kind]);
  if (id != NULL)
    g_hash_table_insert (attributes, (gpointer) "id", (gpointer) id);
  return attributes;
}

static GHashTable *
key_attributes (void)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, (gpointer) "kind", (gpointer) "key");
  g_hash_table_insert (attributes, (gpointer) "id", (gpointer) "wallet");
  return attributes;
}

static GBytes *
decode_key (const char *text)
{
  gsize len = 0;
  guint8 *raw = text != NULL ? lk_base64_decode_strict (text, strlen (text), &len) : NULL;

  if (raw == NULL)
    return NULL;
  return lk_secure_bytes_take (raw, len);
}

/* The wallet key from the keyring; made (once, whoever comes first, under
 * the file's write lock) if the keyring has none. */
static GBytes *
wallet_key (Call       *call,
            LkStoreDb  *db,
            GError    **error)
{
  g_autoptr(GHashTable) attributes = key_attributes ();
  g_autoptr(LkSecureString) text = NULL;
  g_autoptr(GBytes) key = NULL;
  guint8 raw[LK_STORE_DB_KEY_LENGTH];

  text = secret_password_lookupv_sync (lk_store_get_schema (), attributes, call->cancellable, error);
  if (text != NULL)
    {
      key = decode_key (text);
      if (key == NULL)
        g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED, _("The wallet key in the keyring is damaged"));
      if (key == NULL || !lk_store_db_set_key (db, key, error))
        return NULL;
      return g_steal_pointer (&key);
    }
  if (error != NULL && *error != NULL)
    return NULL;

  if (!lk_store_db_begin (db, error))
    return NULL;
  text = secret_password_lookupv_sync (lk_store_get_schema (), attributes, call->cancellable, error);
  if (text != NULL)
    {
      key = decode_key (text);
    }
  else if (error != NULL && *error != NULL)
    {
      return NULL;
    }
  else if (lk_store_db_has_key (db))
    {
      g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED,
                   _("The wallet key is missing from the keyring, so the wallet file cannot be read. Restore "
                     "the keyring, or move the wallet file away to start an empty wallet."));
      return NULL;
    }
  else
    {
      if (!lk_crypto_random (raw, sizeof raw, error))
        return NULL;
      text = g_base64_encode (raw, sizeof raw);
      key = lk_secure_bytes_take (g_memdup2 (raw, sizeof raw), sizeof raw);
      gnutls_memset (raw, 0, sizeof raw);
      if (!secret_password_storev_sync (lk_store_get_schema (), attributes, SECRET_COLLECTION_DEFAULT,
                                        _("Latchkey wallet key"), text, call->cancellable, error))
        return NULL;
    }
  if (key == NULL || !lk_store_db_set_key (db, key, error) || !lk_store_db_commit (db, error))
    {
      if (key == NULL)
        g_set_error (error, LK_STORE_ERROR, LK_STORE_ERROR_FAILED, _("The wallet key in the keyring is damaged"));
      return NULL;
    }
  return g_steal_pointer (&key);
}

/* Moves the items an older Latchkey kept in the keyring into the file, once
 * a process. Taken in first, then deleted from the keyring: nothing is lost
 * if this stops half way. */
static void
migrate (LkStore   *self,
         Call      *call,
         LkStoreDb *db)
{
  static GMutex lock;
  static gboolean done;
  g_autoptr(SecretService) service = NULL;
  gint64 deadline;

  g_mutex_lock (&lock);
  if (done)
    {
      g_mutex_unlock (&lock);
      return;
    }
  deadline = g_get_monotonic_time () + LEGACY_DELETE_BUDGET_US;
  if (!self->sandboxed)
    service = secret_service_get_sync (SECRET_SERVICE_NONE, call->cancellable, NULL);
  for (guint k = 0; k < G_N_ELEMENTS (kind_names); k++)
    {
      g_autoptr(GHashTable) attributes = attributes_for (k, NULL);
      g_autoptr(GError) error = NULL;
      GList *items;

      /* Without SECRET_SEARCH_UNLOCK: never prompt. Through the service
       * where there is one: libsecret 0.20's secret_password_searchv_sync()
       * leaks (LeakSanitizer, in the migration test). */
      if (service != NULL)
        items = secret_service_search_sync (service, lk_store_get_schema (), attributes, SECRET_SEARCH_ALL,
                                            call->cancellable, &error);
      else
        items = secret_password_searchv_sync (lk_store_get_schema (), attributes,
                                              SECRET_SEARCH_ALL, call->cancellable, &error);
      if (error != NULL)
        {
          g_warning ("Could not look for keyring items to move into the wallet file: %s", error->message);
          break;
        }
      for (GList *l = items; l != NULL; l = l->next)
        {
          g_autoptr(GHashTable) found = secret_retrievable_get_attributes (l->data);
          /* One by one: this happens once per item, ever. */
          g_autoptr(SecretValue) value = secret_retrievable_retrieve_secret_sync (l->data, call->cancellable, NULL);
          const char *id = g_hash_table_lookup (found, "id");
          const char *json = value != NULL ? secret_value_get_text (value) : NULL;

          if (id == NULL || json == NULL)
            continue;
          if (!lk_store_db_import (db, k, id, json, &error))
            {
              g_warning ("Could not move a keyring item into the wallet file: %s", error->message);
              break;
            }
        }
      for (GList *l = items; l != NULL && error == NULL && g_get_monotonic_time () < deadline; l = l->next)
        {
          if (SECRET_IS_ITEM (l->data))
            {
              secret_item_delete_sync (l->data, NULL, NULL);
            }
          else
            {
              g_autoptr(GHashTable) found = secret_retrievable_get_attributes (l->data);
              g_autoptr(GHashTable) one = attributes_for (k, g_hash_table_lookup (found, "id"));

              if (g_hash_table_lookup (found, "id") != NULL)
                secret_password_clearv_sync (lk_store_get_schema (), one, NULL, NULL);
            }
        }
      g_list_free_full (items, g_object_unref);
    }
  done = TRUE;
  g_mutex_unlock (&lock);
}

/* In a thread: the keyring has answered and is unlocked. */
static void
work (GTask        *task,
      gpointer      source_object,
      gpointer      task_data,
      GCancellable *cancellable)
{
  Call *call = task_data;
  g_autofree char *path = lk_store_db_default_path ();
  g_autoptr(LkStoreDb) db = NULL;
  g_autoptr(GBytes) key = NULL;
  g_autoptr(GError) error = NULL;

  db = lk_store_db_open (path, &error);
  if (db != NULL)
    key = wallet_key (call, db, &error);
  if (key == NULL)
    {
      if (error != NULL && error->domain == LK_STORE_ERROR)
        g_task_return_error (task, g_steal_pointer (&error));
      else if (error != NULL)
        return_error (task, error);
      else
        g_task_return_new_error (task, LK_STORE_ERROR, LK_STORE_ERROR_FAILED, _("The wallet key is damaged"));
      return;
    }

  migrate (source_object, call, db);

  switch (call->op)
    {
    case OP_SAVE:
      if (lk_store_db_put (db, call->kind, call->id, call->secret, TRUE, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      break;

    case OP_LOAD:
      {
        char *json = lk_store_db_get (db, call->kind, call->id, &error);

        if (json != NULL)
          g_task_return_pointer (task, json, (GDestroyNotify) lk_secure_str_free);
        else
          g_task_return_error (task, g_steal_pointer (&error));
      }
      break;

    case OP_LOAD_ALL:
      {
        GPtrArray *all = lk_store_db_get_all (db, call->kind, &error);

        if (all != NULL)
          g_task_return_pointer (task, all, (GDestroyNotify) g_ptr_array_unref);
        else
          g_task_return_error (task, g_steal_pointer (&error));
      }
      break;

    case OP_DELETE:
      if (lk_store_db_remove (db, call->kind, call->id, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      break;

    case OP_CHECK:
    default:
      g_assert_not_reached ();
    }
}

/* The keyring is usable: do the operation itself. */
static void
run (GTask *task)
{
  Call *call = g_task_get_task_data (task);

  if (call->op == OP_CHECK)
    /* Reaching here means a keyring answered and is unlocked. */
    g_task_return_boolean (task, TRUE);
  else if (g_main_context_is_owner (g_main_context_default ()))
    /* The main loop (the app's) never waits on the file. */
    g_task_run_in_thread (task, work);
  else
    /* Already off the main loop (a transfer engine's job): a thread of
     * GTask's pool waiting on another could starve the pool. GTask still
     * calls back from the caller's context, later. */
    work (task, g_task_get_source_object (task), call, g_task_get_cancellable (task));
  g_object_unref (task);
}

static void
on_collection (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(SecretCollection) collection = NULL;
  g_autoptr(GError) error = NULL;

  collection = secret_collection_for_alias_finish (result, &error);
  if (error != NULL)
    {
      return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (collection == NULL)
    {
      g_task_return_new_error (task, LK_STORE_ERROR, LK_STORE_ERROR_NO_KEYRING,
                               _("There is no default keyring. Create one (for example in Passwords "
                                 "and Keys) and try again."));
      g_object_unref (task);
      return;
    }

  if (secret_collection_get_locked (collection))
    {
      g_task_return_new_error (task, LK_STORE_ERROR, LK_STORE_ERROR_LOCKED,
                               _("The keyring is locked. Unlock it (for example by logging in again) and retry."));
      g_object_unref (task);
      return;
    }

  run (task);
}

static void
on_service (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  Call *call = g_task_get_task_data (task);
  g_autoptr(SecretService) service = NULL;
  g_autoptr(GError) error = NULL;

  service = secret_service_get_finish (result, &error);
  if (service == NULL)
    {
      return_error (task, error);
      g_object_unref (task);
      return;
    }

  secret_collection_for_alias (service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE,
                               call->cancellable, on_collection, task);
}

static GTask *
call_start (LkStore             *self,
            Op                   op,
            LkStoreKind          kind,
            const char          *id,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Call *call = g_new0 (Call, 1);

  g_task_set_source_tag (task, call_start);
  call->op = op;
  call->kind = kind;
  call->id = g_strdup (id);
  call->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      call->caller = g_object_ref (cancellable);
      call->forward_id = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                call->cancellable, NULL);
    }
  call->timeout = g_timeout_source_new_seconds (LK_STORE_TIMEOUT_SECONDS);
  g_source_set_callback (call->timeout, on_timeout, call, NULL);
  g_source_attach (call->timeout, g_task_get_context (task));
  g_task_set_task_data (task, call, (GDestroyNotify) call_free);

  return task;
}

static void
dispatch (LkStore *self,
          GTask   *task)
{
  Call *call = g_task_get_task_data (task);

  /* In Flatpak, libsecret keeps a file encrypted with a key from the Secret
   * portal, which has no collections to check. */
  if (self->sandboxed)
    run (task);
  else
    /* Not SECRET_SERVICE_LOAD_COLLECTIONS: with no keyring on the bus,
     * libsecret 0.20 then trips its own assertion. */
    secret_service_get (SECRET_SERVICE_NONE, call->cancellable, on_service, task);
}

/**
 * lk_store_save_async:
 * @id: the item's id (not secret)
 * @label: what the keyring shows for the item
 * @secret: the JSON to keep; wiped from our memory afterwards
 *
 * Creates or replaces the item of @kind with @id in the default keyring.
 */
void
lk_store_save_async (LkStore             *self,
                     LkStoreKind          kind,
                     const char          *id,
                     const char          *label,
                     const char          *secret,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task = call_start (self, OP_SAVE, kind, id, cancellable, callback, user_data);
  Call *call = g_task_get_task_data (task);

  call->label = g_strdup (label);
  call->secret = g_strdup (secret);
  dispatch (self, task);
}

gboolean
lk_store_save_finish (LkStore       *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lk_store_load_all_async:
 *
 * Reads every item of @kind.
 */
void
lk_store_load_all_async (LkStore             *self,
                         LkStoreKind          kind,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  dispatch (self, call_start (self, OP_LOAD_ALL, kind, NULL, cancellable, callback, user_data));
}

/**
 * lk_store_load_all_finish:
 *
 * Returns: (transfer full) (element-type utf8): the secrets, which are wiped
 *   when the array is freed
 */
GPtrArray *
lk_store_load_all_finish (LkStore       *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lk_store_load_async:
 *
 * Reads the item of @kind with @id: one lookup, whatever the keyring holds.
 */
void
lk_store_load_async (LkStore             *self,
                     LkStoreKind          kind,
                     const char          *id,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  dispatch (self, call_start (self, OP_LOAD, kind, id, cancellable, callback, user_data));
}

/**
 * lk_store_load_finish:
 *
 * Returns: the secret; free it with lk_secure_str_free(), which wipes it
 */
char *
lk_store_load_finish (LkStore       *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
lk_store_delete_async (LkStore             *self,
                       LkStoreKind          kind,
                       const char          *id,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  dispatch (self, call_start (self, OP_DELETE, kind, id, cancellable, callback, user_data));
}

gboolean
lk_store_delete_finish (LkStore       *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lk_store_check_async:
 *
 * Checks that the keyring is there and unlocked, without touching an item:
 * for a caller about to do something that cannot be undone (claiming a
 * mailbox) and that must then be able to save.
 */
void
lk_store_check_async (LkStore             *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  dispatch (self, call_start (self, OP_CHECK, LK_STORE_KIND_TRANSFER, NULL, cancellable, callback, user_data));
}

gboolean
lk_store_check_finish (LkStore       *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
