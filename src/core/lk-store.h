/* lk-store.h: credentials and transfers in the system keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsecret/secret.h>

G_BEGIN_DECLS

#define LK_STORE_SCHEMA_NAME "io.github.latchkey.Latchkey"
/* A locked or absent keyring must give an answer, not a hang. */
#define LK_STORE_TIMEOUT_SECONDS 5

#define LK_STORE_ERROR (lk_store_error_quark ())

/**
 * LkStoreError:
 * @LK_STORE_ERROR_LOCKED: the keyring is locked; unlock it and try again
 * @LK_STORE_ERROR_NO_KEYRING: no keyring service, or no default keyring
 * @LK_STORE_ERROR_TIMEOUT: the keyring did not answer in time
 * @LK_STORE_ERROR_NOT_FOUND: no such item
 * @LK_STORE_ERROR_FAILED: the keyring reported an error
 */
typedef enum
{
  LK_STORE_ERROR_LOCKED,
  LK_STORE_ERROR_NO_KEYRING,
  LK_STORE_ERROR_TIMEOUT,
  LK_STORE_ERROR_NOT_FOUND,
  LK_STORE_ERROR_FAILED,
} LkStoreError;

/**
 * LkStoreKind:
 * @LK_STORE_KIND_CREDENTIAL: a credential, with its private key
 * @LK_STORE_KIND_TRANSFER: a pending or finished share, with its secret
 */
typedef enum
{
  LK_STORE_KIND_CREDENTIAL,
  LK_STORE_KIND_TRANSFER,
} LkStoreKind;

#define LK_TYPE_STORE (lk_store_get_type ())

G_DECLARE_FINAL_TYPE (LkStore, lk_store, LK, STORE, GObject)

GQuark              lk_store_error_quark      (void);
const SecretSchema *lk_store_get_schema       (void);
LkStore            *lk_store_new              (void);
void                lk_store_save_async       (LkStore              *self,
                                               LkStoreKind           kind,
                                               const char           *id,
                                               const char           *label,
                                               const char           *secret,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean            lk_store_save_finish      (LkStore              *self,
                                               GAsyncResult         *result,
                                               GError              **error);
void                lk_store_load_all_async   (LkStore              *self,
                                               LkStoreKind           kind,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
GPtrArray          *lk_store_load_all_finish  (LkStore              *self,
                                               GAsyncResult         *result,
                                               GError              **error);
void                lk_store_load_async       (LkStore              *self,
                                               LkStoreKind           kind,
                                               const char           *id,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
char               *lk_store_load_finish      (LkStore              *self,
                                               GAsyncResult         *result,
                                               GError              **error);
void                lk_store_delete_async     (LkStore              *self,
                                               LkStoreKind           kind,
                                               const char           *id,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean            lk_store_delete_finish    (LkStore              *self,
                                               GAsyncResult         *result,
                                               GError              **error);
void                lk_store_check_async      (LkStore              *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean            lk_store_check_finish     (LkStore              *self,
                                               GAsyncResult         *result,
                                               GError              **error);

G_END_DECLS
