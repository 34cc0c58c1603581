/* lk-process.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-process"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "lk-process.h"

/**
 * lk_process_harden:
 *
 * The app and the CLI hold keyring secrets (share secrets, private keys,
 * tokens) in memory: a core dump would write them to a file. Call first in
 * main(). Core dumps are turned off (RLIMIT_CORE 0, soft and hard, so that
 * no child can raise it back), and the process is made non-dumpable, which
 * also keeps other processes of the same user from reading its memory
 * through /proc or ptrace. An executable run later resets the flag.
 *
 * Returns: %FALSE with @error set if either could not be done
 */
gboolean
lk_process_harden (GError **error)
{
  const struct rlimit none = { 0, 0 };

  if (setrlimit (RLIMIT_CORE, &none) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not turn core dumps off: %s"), g_strerror (saved));
      return FALSE;
    }

  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not make the process non-dumpable: %s"), g_strerror (saved));
      return FALSE;
    }

  return TRUE;
}
