/* lk-transfer-worker.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The worker's own main context makes the clients' asynchronous calls
 * synchronous for the protocol code, without blocking the caller's loop;
 * the keyring items of transfers and credentials are saved and read here.
 */

#define G_LOG_DOMAIN "lk-transfer-worker"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-crypto.h"
#include "lk-transfer-engine.h"
#include "lk-transfer-private.h"
#include "lk-transfer-worker.h"

void
lk_worker_init (LkWorker     *w,
                const char   *relay_url,
                const char   *ca_file,
                guint         max_attempts,
                guint         base_delay_ms,
                GCancellable *cancellable)
{
  w->context = g_main_context_new ();
  g_main_context_push_thread_default (w->context);

  w->http = lk_http_new ();
  if (ca_file != NULL)
    lk_http_set_ca_file (w->http, ca_file, NULL);
  lk_http_set_retry_policy (w->http, max_attempts, base_delay_ms);
  w->relay_url = g_strdup (relay_url);

  w->mailbox = lk_mailbox_client_new (w->http);
  w->partner = lk_partner_client_new (w->http);
  w->store = lk_store_new ();
  w->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
}

void
lk_worker_clear (LkWorker *w)
{
  g_clear_object (&w->mailbox);
  g_clear_object (&w->partner);
  g_clear_object (&w->store);
  g_clear_object (&w->http);
  g_clear_object (&w->cancellable);
  g_free (w->relay_url);

  /* Let sources that finished with the clients run down. */
  while (g_main_context_iteration (w->context, FALSE))
    ;
  g_main_context_pop_thread_default (w->context);
  g_main_context_unref (w->context);
}

/* The callback of every call: keeps the result for lk_worker_wait(). */
void
lk_worker_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  LkWait *wait = user_data;

  wait->result = g_object_ref (result);
}

/**
 * lk_worker_wait:
 *
 * Runs the worker's context until the call has finished.
 *
 * Returns: (transfer none): the call's result, which @wait holds
 */
GAsyncResult *
lk_worker_wait (LkWorker *w,
                LkWait   *wait)
{
  while (wait->result == NULL)
    g_main_context_iteration (w->context, TRUE);
  return wait->result;
}

void
lk_wait_clear (LkWait *wait)
{
  g_clear_object (&wait->result);
}

LkMailboxReply *
lk_worker_mailbox_finish (LkWorker  *w,
                          LkWait    *wait,
                          GError   **error)
{
  LkMailboxReply *reply = lk_mailbox_client_finish (w->mailbox, lk_worker_wait (w, wait), error);

  lk_wait_clear (wait);
  return reply;
}

/* The keyring */

static gboolean
store_save (LkWorker     *w,
            LkStoreKind   kind,
            const char   *id,
            const char   *label,
            const char   *secret,
            GError      **error)
{
  g_auto(LkWait) wait = { NULL };

  lk_store_save_async (w->store, kind, id, label, secret, w->cancellable, lk_worker_done, &wait);
  return lk_store_save_finish (w->store, lk_worker_wait (w, &wait), error);
}

/* A transfer is saved whole after every step, so that either side can quit
 * and resume. */
gboolean
lk_worker_save_transfer (LkWorker    *w,
                         LkTransfer  *t,
                         GError     **error)
{
  g_autoptr(LkSecureString) json = lk_transfer_to_json (t);
  g_autofree char *label = g_strdup_printf (t->role == LK_ROLE_INITIATOR ? _("Latchkey share: %s")
                                                                          : _("Latchkey receipt: %s"),
                                            t->title ? t->title : _("key"));

  return store_save (w, LK_STORE_KIND_TRANSFER, t->id, label, json, error);
}

gboolean
lk_worker_save_credential (LkWorker      *w,
                           LkCredential  *credential,
                           GError       **error)
{
  g_autoptr(LkSecureString) json = lk_credential_to_json (credential, LK_CREDENTIAL_JSON_PRIVATE, error);
  g_autofree char *label = NULL;

  if (json == NULL)
    return FALSE;
  label = g_strdup_printf (_("Latchkey: %s"), lk_credential_get_title (credential));
  return store_save (w, LK_STORE_KIND_CREDENTIAL, lk_credential_get_id (credential), label, json, error);
}

LkCredential *
lk_worker_load_credential (LkWorker    *w,
                           const char  *id,
                           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_auto(LkWait) wait = { NULL };
  LkCredential *credential;
  char *json;

  lk_store_load_async (w->store, LK_STORE_KIND_CREDENTIAL, id, w->cancellable, lk_worker_done, &wait);
  json = lk_store_load_finish (w->store, lk_worker_wait (w, &wait), &local_error);

  if (json == NULL)
    {
      if (g_error_matches (local_error, LK_STORE_ERROR, LK_STORE_ERROR_NOT_FOUND))
        g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_NOT_FOUND,
                     _("The keyring holds no credential %s"), id);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  credential = lk_credential_new_from_json (json, strlen (json), error);
  lk_secure_str_free (json);
  return credential;
}

/**
 * lk_worker_load_all:
 *
 * Returns: (transfer full) (element-type GObject): every credential
 *   (#LkCredential) or transfer (#LkTransfer) in the keyring that reads
 */
GPtrArray *
lk_worker_load_all (LkWorker     *w,
                    LkStoreKind   kind,
                    GError      **error)
{
  g_autoptr(GPtrArray) secrets = NULL;
  g_auto(LkWait) wait = { NULL };
  GPtrArray *items;

  lk_store_load_all_async (w->store, kind, w->cancellable, lk_worker_done, &wait);
  secrets = lk_store_load_all_finish (w->store, lk_worker_wait (w, &wait), error);
  if (secrets == NULL)
    return NULL;

  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < secrets->len; i++)
    {
      const char *json = g_ptr_array_index (secrets, i);
      g_autoptr(GError) local_error = NULL;
      gpointer item = kind == LK_STORE_KIND_CREDENTIAL
                      ? (gpointer) lk_credential_new_from_json (json, strlen (json), &local_error)
                      : (gpointer) lk_transfer_new_from_json (json, strlen (json), &local_error);

      /* One damaged item must not hide the others. */
      if (item == NULL)
        g_warning ("Skipping a damaged keyring item: %s", local_error->message);
      else
        g_ptr_array_add (items, item);
    }

  return items;
}
