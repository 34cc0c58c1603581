/* lk-test-crash.h: where a test crashed, in its log
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A crash that happens once in many CI runs leaves nothing to read there:
 * no core is kept. After lk_test_trace_crashes(), a SIGSEGV, SIGBUS, SIGILL
 * or SIGFPE first has gdb print every thread's stack on stderr, then ends
 * the test with the same signal as before. Nothing is installed under
 * AddressSanitizer, whose own report is better, or without gdb.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void lk_test_trace_crashes (void);

G_END_DECLS
