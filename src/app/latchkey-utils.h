/* latchkey-utils.h: how keys, dates and errors read in the interface
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "lk-types.h"

G_BEGIN_DECLS

/**
 * LatchkeyProblem:
 * @LATCHKEY_PROBLEM_OTHER: anything else; the message says what
 * @LATCHKEY_PROBLEM_EXPIRED: the invitation is gone: expired or withdrawn
 * @LATCHKEY_PROBLEM_CLAIMED: another device received the invitation
 * @LATCHKEY_PROBLEM_WRONG_CODE: the activation code is wrong
 * @LATCHKEY_PROBLEM_UNREACHABLE: the relay or partner could not be reached
 * @LATCHKEY_PROBLEM_LOCKED: the keyring is locked
 * @LATCHKEY_PROBLEM_BAD_LINK: the text is not a Latchkey link
 *
 * What went wrong, as far as the user can do something about it.
 */
typedef enum
{
  LATCHKEY_PROBLEM_OTHER,
  LATCHKEY_PROBLEM_EXPIRED,
  LATCHKEY_PROBLEM_CLAIMED,
  LATCHKEY_PROBLEM_WRONG_CODE,
  LATCHKEY_PROBLEM_UNREACHABLE,
  LATCHKEY_PROBLEM_LOCKED,
  LATCHKEY_PROBLEM_BAD_LINK,
} LatchkeyProblem;

GtkWindow       *latchkey_parent_window        (GtkWidget    *widget);
char            *latchkey_dup_relay_url        (GSettings    *settings);
char            *latchkey_dup_partner_url      (GSettings    *settings);
const char      *latchkey_vertical_icon_name   (LkVertical    vertical);
const char      *latchkey_vertical_label       (LkVertical    vertical);
const char      *latchkey_entitlement_label    (const char   *entitlement);
char            *latchkey_format_date          (GDateTime    *date);
char            *latchkey_format_expiry        (GDateTime    *when,
                                                GDateTime    *now);
char            *latchkey_format_validity      (GDateTime    *valid_from,
                                                GDateTime    *valid_until);
LatchkeyProblem  latchkey_classify_error       (const GError *error);
const char      *latchkey_problem_title        (LatchkeyProblem problem);
char            *latchkey_problem_description  (LatchkeyProblem problem,
                                                const GError   *error);

G_END_DECLS
