/* lk-test-crash.c: where a test crashed, in its log
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-test-crash"

#include "config.h"

#include "lk-test-crash.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define LK_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LK_TEST_ASAN 1
#endif
#endif

#ifndef LK_TEST_ASAN
/* Made before any crash: the handler may only make async-signal-safe calls. */
static char *gdb_argv[10];

static void
on_crash (int signum)
{
  static const char message[] = "lk-test-crash: crashed; every thread's stack follows\n";
  pid_t child;

  if (write (STDERR_FILENO, message, sizeof message - 1) < 0)
    {
      /* Nothing to be done: the stacks may still get out. */
    }
  /* Where Yama allows only ancestors to attach, gdb is a descendant. */
  prctl (PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  child = fork ();
  if (child == 0)
    {
      dup2 (STDERR_FILENO, STDOUT_FILENO);
      execv (gdb_argv[0], gdb_argv);
      _exit (127);
    }
  if (child > 0)
    while (waitpid (child, NULL, 0) < 0 && errno == EINTR)
      ;

  /* SA_RESETHAND made the default action the signal's again. */
  raise (signum);
}
#endif

void
lk_test_trace_crashes (void)
{
#ifndef LK_TEST_ASAN
  static const int signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
  g_autofree char *gdb = g_find_program_in_path ("gdb");
  struct sigaction action;

  if (gdb == NULL || gdb_argv[0] != NULL)
    return;

  gdb_argv[0] = g_steal_pointer (&gdb);
  gdb_argv[1] = g_strdup ("-batch");
  gdb_argv[2] = g_strdup ("-nx");
  gdb_argv[3] = g_strdup ("-p");
  gdb_argv[4] = g_strdup_printf ("%d", (int) getpid ());
  gdb_argv[5] = g_strdup ("-ex");
  gdb_argv[6] = g_strdup ("thread apply all bt");
  gdb_argv[7] = NULL;

  memset (&action, 0, sizeof action);
  action.sa_handler = on_crash;
  sigemptyset (&action.sa_mask);
  /* A second fault inside the handler ends the process at once. */
  action.sa_flags = SA_RESETHAND;
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    sigaction (signals[i], &action, NULL);
#endif
}
