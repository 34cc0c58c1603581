/* lk-test-server.h: run one of our servers as a child process in a test
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  char        *binary;
  char        *data_dir;     /* removed when the server is freed */
  char        *log_path;     /* the server's stderr */
  char       **args;
  char       **wrapper;      /* run the binary through this command, if set */
  GSubprocess *process;
  char        *url;          /* http(s)://127.0.0.1:PORT */
  guint        port;
} LkTestServer;

LkTestServer *lk_test_server_new      (const char          *binary_env,
                                       const char * const  *args);
void          lk_test_server_set_wrapper (LkTestServer     *self,
                                       const char * const  *wrapper);
void          lk_test_server_start    (LkTestServer        *self);
GPid          lk_test_server_get_pid  (LkTestServer        *self);
void          lk_test_server_kill     (LkTestServer        *self);
int           lk_test_server_terminate (LkTestServer       *self);
char         *lk_test_server_read_log (LkTestServer        *self);
void          lk_test_server_free     (LkTestServer        *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestServer, lk_test_server_free)

void          lk_test_remove_tree     (const char          *path);

G_END_DECLS
