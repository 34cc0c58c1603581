/* lk-test-actor.h: a device for end-to-end tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One device: its own directories, D-Bus session bus and unlocked
 * gnome-keyring, in which latchkey-cli runs. */
typedef struct
{
  char        *name;
  char        *dir;
  GSubprocess *bus;
  char        *bus_address;
  GStrv        env;
} LkTestActor;

typedef struct
{
  int   status;
  char *out;
  char *err;
} LkTestRun;

extern guint lk_test_actor_keyring_wait_seconds;

LkTestActor *lk_test_actor_new       (const char  *name,
                                      const char  *relay_url,
                                      const char  *partner_url);
void         lk_test_actor_free      (LkTestActor *self);
void         lk_test_actor_set_env   (LkTestActor *self,
                                      const char  *variable,
                                      const char  *value);
LkTestRun   *lk_test_actor_run       (LkTestActor *self,
                                      const char  *input,
                                      ...) G_GNUC_NULL_TERMINATED;
LkTestRun   *lk_test_actor_runv      (LkTestActor *self,
                                      const char  *input,
                                      const char * const *args);
char        *lk_test_actor_keyring_secrets (LkTestActor *self);
void         lk_test_actor_store_item (LkTestActor *self,
                                       const char  *kind,
                                       const char  *id,
                                       const char  *json);
void         lk_test_run_free        (LkTestRun   *run);

/* A share as `latchkey-cli share` prints it. */
typedef struct
{
  char *id;
  char *link;
  char *code;     /* NULL without --code */
} LkTestShare;

char        *lk_test_actor_enroll    (LkTestActor *self,
                                      const char  *vertical,
                                      const char  *title);
LkTestShare *lk_test_actor_share     (LkTestActor *self,
                                      const char  *credential,
                                      ...) G_GNUC_NULL_TERMINATED;
void         lk_test_share_free      (LkTestShare *share);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestActor, lk_test_actor_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestRun, lk_test_run_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestShare, lk_test_share_free)

G_END_DECLS
