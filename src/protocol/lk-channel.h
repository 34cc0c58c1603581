/* lk-channel.h: sealing and opening the messages of one mailbox
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "lk-types.h"

G_BEGIN_DECLS

/* The longest `payload.data` accepted, in base64 characters: well above the
 * relay's default body limit, far below what could hurt. */
#define LK_MESSAGE_MAX_DATA_LENGTH (192 * 1024)
#define LK_MESSAGE_MAX_FORMAT_LENGTH 128
/* A transfer is a handful of messages; a long transcript is an attack. */
#define LK_MESSAGE_MAX_SEQUENCE 4096

/**
 * LkSealFlags:
 * @LK_SEAL_FLAGS_NONE: append the message to the transcript
 * @LK_SEAL_FLAGS_REPLACE: replace our own last message, which the other side
 *   may not have read (the relay keeps one slot per mailbox)
 */
typedef enum
{
  LK_SEAL_FLAGS_NONE    = 0,
  LK_SEAL_FLAGS_REPLACE = 1 << 0,
} LkSealFlags;

#define LK_TYPE_CHANNEL (lk_channel_get_type ())

G_DECLARE_FINAL_TYPE (LkChannel, lk_channel, LK, CHANNEL, GObject)

LkChannel  *lk_channel_new             (GBytes       *key,
                                        const char   *mailbox_id,
                                        LkRole        role);
LkChannel  *lk_channel_new_from_state  (GBytes       *key,
                                        const char   *mailbox_id,
                                        LkRole        role,
                                        JsonObject   *state,
                                        GError      **error);
JsonObject *lk_channel_save_state      (LkChannel    *self);
const char *lk_channel_get_mailbox_id  (LkChannel    *self);
LkRole      lk_channel_get_role        (LkChannel    *self);
guint       lk_channel_get_n_messages  (LkChannel    *self);
gboolean    lk_channel_last_is_own     (LkChannel    *self);
gboolean    lk_channel_is_plain        (LkChannel    *self);
JsonObject *lk_channel_seal            (LkChannel    *self,
                                        const char   *format,
                                        JsonObject   *content,
                                        LkSealFlags   flags,
                                        GError      **error);
JsonObject *lk_channel_open            (LkChannel    *self,
                                        JsonObject   *payload,
                                        char        **format,
                                        GError      **error);

G_END_DECLS
