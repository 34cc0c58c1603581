/* lk-test-async.h: an asynchronous call made synchronous, for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   g_autoptr(GAsyncResult) result = NULL;
 *   lk_store_save_async (…, lk_test_on_done, &result);
 *   ok = lk_store_save_finish (store, lk_test_wait_for (&result), &error);
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void          lk_test_on_done   (GObject        *source,
                                 GAsyncResult   *result,
                                 gpointer        user_data);
GAsyncResult *lk_test_wait_for  (GAsyncResult  **slot);

G_END_DECLS
