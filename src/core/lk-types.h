/* lk-types.h: enumerations shared by the Latchkey core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LkVertical:
 * @LK_VERTICAL_GENERIC: a copied access token (`v=a` in a share link)
 * @LK_VERTICAL_HOME: a home or hotel lock, provisioned by a partner (`v=h`)
 * @LK_VERTICAL_CAR: a car key signed by the owner, CCC style (`v=c`)
 *
 * The credential vertical, as carried in the `v` query parameter of a
 * share link so that a receiving device can route it before decryption.
 */
typedef enum
{
  LK_VERTICAL_GENERIC,
  LK_VERTICAL_HOME,
  LK_VERTICAL_CAR,
} LkVertical;

/**
 * LkRole:
 * @LK_ROLE_INITIATOR: the device that created the mailbox (the sharer)
 * @LK_ROLE_RECIPIENT: the device that claimed the mailbox (the receiver)
 *
 * The two ends of a mailbox, named as in the relay draft.
 */
typedef enum
{
  LK_ROLE_INITIATOR,
  LK_ROLE_RECIPIENT,
} LkRole;

/**
 * LkCredentialRole:
 * @LK_CREDENTIAL_ROLE_OWNER: the credential was enrolled by this user
 * @LK_CREDENTIAL_ROLE_SHARED: the credential was received from someone else
 */
typedef enum
{
  LK_CREDENTIAL_ROLE_OWNER,
  LK_CREDENTIAL_ROLE_SHARED,
} LkCredentialRole;

const char *lk_vertical_to_code     (LkVertical        vertical);
gboolean    lk_vertical_from_code   (const char       *code,
                                     LkVertical       *vertical);
const char *lk_vertical_to_string   (LkVertical        vertical);
gboolean    lk_vertical_from_string (const char       *str,
                                     LkVertical       *vertical);
const char *lk_role_to_string       (LkRole            role);
gboolean    lk_role_from_string     (const char       *str,
                                     LkRole           *role);
const char *lk_credential_role_to_string   (LkCredentialRole  role);
gboolean    lk_credential_role_from_string (const char       *str,
                                            LkCredentialRole *role);

G_END_DECLS
