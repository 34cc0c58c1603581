/* cli-private.h: what the latchkey-cli subcommands share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "cli-command.h"
#include "latchkey-core.h"

G_BEGIN_DECLS

typedef struct
{
  GInputStream     *input;
  GOutputStream    *output;
  GOutputStream    *errors;
  GDataInputStream *lines;
  LkTransferEngine *engine;
  char             *relay_url;
  char             *partner_url;
  GMainContext     *context;
} CliContext;

typedef int (*CliRunFunc) (CliContext *cli, int argc, char **argv);

void          cli_print          (GOutputStream  *stream,
                                  const char     *format,
                                  ...) G_GNUC_PRINTF (2, 3);
char         *cli_read_line      (CliContext     *cli,
                                  gsize           max_len,
                                  GError        **error);
LkShareLink  *cli_read_link      (CliContext     *cli,
                                  GError        **error);
GAsyncResult *cli_wait           (CliContext     *cli,
                                  GAsyncResult  **slot);
void          cli_on_done        (GObject        *source,
                                  GAsyncResult   *result,
                                  gpointer        user_data);
int           cli_fail           (CliContext     *cli,
                                  GError         *error);
gboolean      cli_parse_options  (CliContext     *cli,
                                  const char     *parameter,
                                  const char     *summary,
                                  const GOptionEntry *entries,
                                  int            *argc,
                                  char         ***argv,
                                  int             min_args,
                                  int             max_args);
GPtrArray    *cli_list           (CliContext     *cli,
                                  LkStoreKind     kind,
                                  GError        **error);
gpointer      cli_find           (CliContext     *cli,
                                  LkStoreKind     kind,
                                  const char     *prefix,
                                  GError        **error);
char         *cli_format_time    (GDateTime      *time);
void          cli_print_qr       (GOutputStream  *stream,
                                  const char     *text);
void          cli_print_transfer (CliContext     *cli,
                                  LkTransfer     *transfer);

int cli_enroll  (CliContext *cli, int argc, char **argv);
int cli_list_command (CliContext *cli, int argc, char **argv);
int cli_show    (CliContext *cli, int argc, char **argv);
int cli_access  (CliContext *cli, int argc, char **argv);
int cli_delete  (CliContext *cli, int argc, char **argv);
int cli_share   (CliContext *cli, int argc, char **argv);
int cli_receive (CliContext *cli, int argc, char **argv);
int cli_status  (CliContext *cli, int argc, char **argv);
int cli_code    (CliContext *cli, int argc, char **argv);
int cli_confirm (CliContext *cli, int argc, char **argv);
int cli_cancel  (CliContext *cli, int argc, char **argv);
int cli_revoke  (CliContext *cli, int argc, char **argv);
int cli_scan    (CliContext *cli, int argc, char **argv);

G_END_DECLS
