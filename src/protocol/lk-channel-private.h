/* lk-channel-private.h: entry points for known-answer tests and fuzzers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lk-channel.h"

G_BEGIN_DECLS

JsonObject *_lk_channel_seal_with_iv   (LkChannel     *self,
                                        const char    *format,
                                        JsonObject    *content,
                                        LkSealFlags    flags,
                                        const guint8  *iv,
                                        GError       **error);
JsonObject *_lk_channel_open_plaintext (LkChannel     *self,
                                        const char    *plaintext,
                                        gsize          len,
                                        char         **format,
                                        GError       **error);

G_END_DECLS
