/* lk-transfer-retention.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A host shares hundreds of keys a month. A finished transfer needs none
 * of its mailbox state (the link's secret, the channel, a message waiting
 * to be sent, a code): those are dropped as soon as it is over, which also
 * keeps secrets no longer than they are of use. What is left is the
 * record: title, state, dates, and what revoking needs (the credential's
 * id and the share's token, share id or friend's key). A share that gave
 * a key still valid and not revoked is kept for as long as it can be
 * revoked; every other finished transfer is removed once it is older than
 * the retention period.
 */

#define G_LOG_DOMAIN "lk-transfer-retention"

#include "config.h"

#include <stdlib.h>

#include "lk-crypto.h"
#include "lk-transfer-private.h"
#include "lk-transfer-retention.h"
#include "lk-transfer-worker.h"

static gboolean
revocable (LkTransfer *t,
           GDateTime  *now)
{
  return t->role == LK_ROLE_INITIATOR && t->state == LK_TRANSFER_STATE_DONE && !t->revoked &&
         (t->valid_until == NULL || g_date_time_compare (t->valid_until, now) > 0);
}

static gboolean
compactable (LkTransfer *t)
{
  /* A message not yet acknowledged is still sent after the end (a
   * receiver's "declined"): keep all until it is. */
  return t->outbox == NULL &&
         (t->secret != NULL || t->channel != NULL || t->last_sent != NULL || t->offer != NULL ||
          t->code != NULL || t->private_key != NULL);
}

/**
 * lk_transfer_retention_judge:
 * @days: the retention period; 0 keeps finished transfers for ever
 *
 * Returns: what to do with @transfer now
 */
LkRetention
lk_transfer_retention_judge (LkTransfer *transfer,
                             GDateTime  *now,
                             guint       days)
{
  LkTransfer *t = transfer;

  if (!lk_transfer_state_is_final (t->state))
    return LK_RETENTION_KEEP;

  if (days > 0 && !revocable (t, now))
    {
      g_autoptr(GDateTime) cutoff = g_date_time_add_days (now, -(gint) MIN (days, LK_RETENTION_MAX_DAYS));

      /* Without a date (written by an early version): as old as can be. */
      if (t->created == NULL || g_date_time_compare (t->created, cutoff) < 0)
        return LK_RETENTION_REMOVE;
    }

  return compactable (t) ? LK_RETENTION_COMPACT : LK_RETENTION_KEEP;
}

/* Drops what a finished transfer no longer needs. */
void
lk_transfer_retention_compact (LkTransfer *transfer)
{
  LkTransfer *t = transfer;

  g_return_if_fail (lk_transfer_state_is_final (t->state));

  g_clear_pointer (&t->secret, g_bytes_unref);
  g_clear_object (&t->channel);
  g_clear_pointer (&t->last_sent, g_free);
  g_clear_pointer (&t->offer, json_object_unref);
  lk_secure_clear_str (&t->code);
  lk_secure_clear_str (&t->private_key);
}

/**
 * lk_transfer_retention_days_from_env:
 *
 * Returns: LATCHKEY_RETENTION_DAYS if it is a number of days (0: for ever),
 *   else LK_RETENTION_DEFAULT_DAYS
 */
guint
lk_transfer_retention_days_from_env (void)
{
  const char *text = g_getenv ("LATCHKEY_RETENTION_DAYS");
  guint64 days;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, LK_RETENTION_MAX_DAYS, &days, NULL))
    return LK_RETENTION_DEFAULT_DAYS;
  return days;
}

/**
 * lk_transfer_retention_apply:
 * @transfers: (element-type LkTransfer): every transfer, as just read; those
 *   removed are taken out
 *
 * Compacts and removes what the policy says, in the store and in
 * @transfers. A transfer that cannot be written is left as it is: the next
 * listing tries again.
 */
void
lk_transfer_retention_apply (LkWorker  *w,
                             GPtrArray *transfers,
                             guint      days)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  for (guint i = 0; i < transfers->len; )
    {
      LkTransfer *t = g_ptr_array_index (transfers, i);
      g_autoptr(GError) error = NULL;

      switch (lk_transfer_retention_judge (t, now, days))
        {
        case LK_RETENTION_REMOVE:
          {
            g_auto(LkWait) wait = { NULL };

            lk_store_delete_async (w->store, LK_STORE_KIND_TRANSFER, t->id, w->cancellable, lk_worker_done, &wait);
            if (lk_store_delete_finish (w->store, lk_worker_wait (w, &wait), &error) ||
                g_error_matches (error, LK_STORE_ERROR, LK_STORE_ERROR_NOT_FOUND))
              {
                g_ptr_array_remove_index (transfers, i);
                continue;
              }
            g_debug ("Could not remove an old transfer: %s", error->message);
          }
          break;

        case LK_RETENTION_COMPACT:
          lk_transfer_retention_compact (t);
          if (!lk_worker_save_transfer (w, t, &error))
            g_debug ("Could not compact a finished transfer: %s", error->message);
          break;

        case LK_RETENTION_KEEP:
        default:
          break;
        }
      i++;
    }
}
