/* lk-test-async.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-test-async"

#include "config.h"

#include "lk-test-async.h"

/* The callback: keeps the result in the GAsyncResult * @user_data points to. */
void
lk_test_on_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Runs the default main context until the call has finished. */
GAsyncResult *
lk_test_wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}
