/* lk-key-pair.h: ECDSA P-256 keys for credentials
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define LK_TYPE_KEY_PAIR (lk_key_pair_get_type ())

G_DECLARE_FINAL_TYPE (LkKeyPair, lk_key_pair, LK, KEY_PAIR, GObject)

LkKeyPair *lk_key_pair_generate            (GError     **error);
LkKeyPair *lk_key_pair_new_from_private    (GBytes      *pkcs8_der,
                                            GError     **error);
LkKeyPair *lk_key_pair_new_from_public     (GBytes      *spki_der,
                                            GError     **error);
gboolean   lk_key_pair_has_private         (LkKeyPair   *self);
GBytes    *lk_key_pair_get_public          (LkKeyPair   *self);
GBytes    *lk_key_pair_export_private      (LkKeyPair   *self,
                                            GError     **error);
char      *lk_key_pair_get_fingerprint     (LkKeyPair   *self);
GBytes    *lk_key_pair_sign                (LkKeyPair   *self,
                                            GBytes      *data,
                                            GError     **error);
gboolean   lk_key_pair_verify              (LkKeyPair   *self,
                                            GBytes      *data,
                                            GBytes      *signature,
                                            GError     **error);

G_END_DECLS
