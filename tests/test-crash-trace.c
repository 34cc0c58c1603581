/* test-crash-trace.c: a crashing test prints where it crashed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * lk-test-crash.c is what CI's log holds of a rare crash; this keeps it
 * working: a child of this test crashes on purpose, and its stderr must
 * name the function that crashed, and its end the signal.
 */

#define G_LOG_DOMAIN "test-crash-trace"

#include "config.h"

#include "lk-test-crash.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static char *self_path;

static void __attribute__ ((noinline))
crash_here (volatile int *where)
{
  *where = 1;
}

static void
test_segv_prints_stacks (void)
{
  g_autofree char *gdb = g_find_program_in_path ("gdb");
  const char *argv[] = { self_path, "--crash-now", NULL };
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (gdb == NULL)
    {
      g_test_skip ("no gdb here");
      return;
    }
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &error));
  g_assert_no_error (error);
  if (strstr (err, "ERROR: AddressSanitizer") != NULL)
    {
      g_test_skip ("AddressSanitizer reports crashes here itself");
      return;
    }
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGSEGV);
  g_assert_nonnull (strstr (err, "every thread's stack follows"));
  g_assert_nonnull (strstr (err, "crash_here"));
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 2 && g_str_equal (argv[1], "--crash-now"))
    {
      lk_test_trace_crashes ();
      crash_here (NULL);
      return 0;
    }

  g_test_init (&argc, &argv, NULL);
  self_path = g_canonicalize_filename (argv[0], NULL);
  g_test_add_func ("/test-utils/crash-trace/segv", test_segv_prints_stacks);
  return g_test_run ();
}
