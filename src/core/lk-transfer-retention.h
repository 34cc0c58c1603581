/* lk-transfer-retention.h: how long finished transfers are kept
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lk-transfer.h"
#include "lk-transfer-worker.h"

G_BEGIN_DECLS

/* Days a finished transfer is kept after it was made; 0: for ever. */
#define LK_RETENTION_DEFAULT_DAYS 30
#define LK_RETENTION_MAX_DAYS     36500

/**
 * LkRetention:
 * @LK_RETENTION_KEEP: keep it as it is
 * @LK_RETENTION_COMPACT: keep what revocation and history need, drop the rest
 * @LK_RETENTION_REMOVE: it no longer matters: remove it
 */
typedef enum
{
  LK_RETENTION_KEEP,
  LK_RETENTION_COMPACT,
  LK_RETENTION_REMOVE,
} LkRetention;

LkRetention lk_transfer_retention_judge   (LkTransfer  *transfer,
                                           GDateTime   *now,
                                           guint        days);
void        lk_transfer_retention_compact (LkTransfer  *transfer);
guint       lk_transfer_retention_days_from_env (void);
void        lk_transfer_retention_apply   (LkWorker    *w,
                                           GPtrArray   *transfers,
                                           guint        days);

G_END_DECLS
