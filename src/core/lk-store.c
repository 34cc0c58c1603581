/* lk-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One libsecret schema. Each item's secret is the JSON of a credential or a
 * transfer; its attributes hold only the kind and the id, which are not
 * secret, for lookup. Before any operation the default collection is checked
 * without unlocking it: a locked keyring is reported at once instead of
 * raising a password prompt (which, in a headless session, would never be
 * answered). Every operation is cut off after LK_STORE_TIMEOUT_SECONDS.
 */

#define G_LOG_DOMAIN "lk-store"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-crypto.h"
#include "lk-store.h"

struct _LkStore
{
  GObject  parent_instance;

  gboolean sandboxed;   /* Flatpak: the Secret portal's file backend */
};

G_DEFINE_FINAL_TYPE (LkStore, lk_store, G_TYPE_OBJECT)
G_DEFINE_QUARK (lk-store-error-quark, lk_store_error)

static const char * const kind_names[] = { "credential", "transfer" };

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
  GList        *items;           /* OP_LOAD_ALL: what is left to read */
  GPtrArray    *results;
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
  g_list_free_full (call->items, g_object_unref);
  g_clear_pointer (&call->results, g_ptr_array_unref);
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

static void read_next (GTask *task);

static void
on_secret_read (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  Call *call = g_task_get_task_data (task);
  g_autoptr(SecretValue) value = NULL;
  g_autoptr(GError) error = NULL;

  value = secret_retrievable_retrieve_secret_finish (SECRET_RETRIEVABLE (source), result, &error);
  if (value == NULL && error != NULL)
    {
      return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (value != NULL && secret_value_get_text (value) != NULL)
    g_ptr_array_add (call->results, g_strdup (secret_value_get_text (value)));
  read_next (task);
}

static void
read_next (GTask *task)
{
  Call *call = g_task_get_task_data (task);
  SecretRetrievable *item;
  GList *link = call->items;

  if (link == NULL)
    {
      g_task_return_pointer (task, g_steal_pointer (&call->results), (GDestroyNotify) g_ptr_array_unref);
      g_object_unref (task);
      return;
    }

  call->items = g_list_remove_link (call->items, link);
  item = link->data;
  g_list_free (link);

  secret_retrievable_retrieve_secret (item, call->cancellable, on_secret_read, task);
  g_object_unref (item);
}

static void
on_searched (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  Call *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  call->items = secret_password_search_finish (result, &error);
  if (error != NULL)
    {
      return_error (task, error);
      g_object_unref (task);
      return;
    }

  call->results = g_ptr_array_new_with_free_func ((GDestroyNotify) lk_secure_str_free);
  read_next (task);
}

static void
on_stored (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_looked_up (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char *secret = secret_password_lookup_finish (result, &error);

  if (error != NULL)
    return_error (task, error);
  else if (secret == NULL)
    g_task_return_new_error (task, LK_STORE_ERROR, LK_STORE_ERROR_NOT_FOUND,
                             _("The keyring holds no such item"));
  else
    g_task_return_pointer (task, secret, (GDestroyNotify) secret_password_free);
}

static void
on_cleared (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!secret_password_clear_finish (result, &error))
    {
      if (error != NULL)
        return_error (task, error);
      else
        g_task_return_new_error (task, LK_STORE_ERROR, LK_STORE_ERROR_NOT_FOUND,
                                 _("The keyring holds no such item"));
    }
  else
    g_task_return_boolean (task, TRUE);
}

/* The keyring is usable: do the operation itself. */
static void
run (GTask *task)
{
  Call *call = g_task_get_task_data (task);
  g_autoptr(GHashTable) attributes = attributes_for (call->kind, call->id);

  switch (call->op)
    {
    case OP_SAVE:
      secret_password_storev (lk_store_get_schema (), attributes, SECRET_COLLECTION_DEFAULT,
                              call->label, call->secret, call->cancellable, on_stored, task);
      break;

    case OP_LOAD:
      secret_password_lookupv (lk_store_get_schema (), attributes, call->cancellable, on_looked_up, task);
      break;

    case OP_LOAD_ALL:
      /* Without SECRET_SEARCH_UNLOCK: never prompt. */
      secret_password_searchv (lk_store_get_schema (), attributes, SECRET_SEARCH_ALL,
                               call->cancellable, on_searched, task);
      break;

    case OP_DELETE:
      secret_password_clearv (lk_store_get_schema (), attributes, call->cancellable, on_cleared, task);
      break;

    case OP_CHECK:
      /* Reaching here means a keyring answered and is unlocked. */
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      break;

    default:
      g_assert_not_reached ();
    }
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
 * Returns: the secret; free it with secret_password_free(), which wipes it
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
