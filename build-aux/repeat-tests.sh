#!/bin/bash
# Runs tests many times in a row, to catch the ones that fail only sometimes.
#
#   build-aux/repeat-tests.sh [-n RUNS] [-C BUILDDIR] [--busy-core] [--keep-going]
#                             [MESON TEST ARGUMENTS…]
#
#   build-aux/repeat-tests.sh -n 20 --suite gui --suite e2e
#   build-aux/repeat-tests.sh -n 20 -C _build-sanitize --busy-core a11y ui-scripted
#
# Each run is a whole `meson test` with the arguments given (default: the
# whole suite), as CI runs it: the tests of a run go in parallel, each GUI
# test in a headless session of its own, and the next run starts when this
# one is over. The first failing run stops the repetition (unless
# --keep-going); the log of every failing run is kept as
# BUILDDIR/meson-logs/repeat-RUN.txt. At the end: runs, passes, failures.
#
# --busy-core keeps one core busy for the whole time (a shell busy loop
# pinned to the last CPU with taskset), as another job on the machine
# would: timing that holds only on an idle machine shows up.
#
# A test that crashes leaves a core file (core dumps are turned on for the
# runs, where the kernel writes them as plain files in the crashing
# process's directory); after a failing run, each new core's backtrace
# (gdb, all threads) is added to that run's log and the core is kept
# beside it as BUILDDIR/meson-logs/repeat-RUN.core.N.
#
# The sanitizer options are those of `build-aux/latchkey-dev.sh test`
# (unless set already).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

runs=20 builddir=_build busy=0 keep_going=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    -C) builddir=$2; shift 2 ;;
    --busy-core) busy=1; shift ;;
    --keep-going) keep_going=1; shift ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
case "$runs" in
  ''|*[!0-9]*|0) echo "repeat-tests: -n takes a number of runs" >&2; exit 2 ;;
esac
[ -f "$builddir/meson-private/coredata.dat" ] ||
  { echo "repeat-tests: $builddir is not a meson build directory" >&2; exit 2; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

busy_pid=
stop_busy() {
  if [ -n "$busy_pid" ]; then
    kill "$busy_pid" 2>/dev/null || true
    wait "$busy_pid" 2>/dev/null || true
    busy_pid=
  fi
}
trap stop_busy EXIT
if [ $busy -eq 1 ]; then
  cpu=$(( $(nproc) - 1 ))
  taskset -c "$cpu" bash -c 'while :; do :; done' &
  busy_pid=$!
  echo "repeat-tests: CPU $cpu kept busy (pid $busy_pid)" >&2
fi

# Built once, before the clock starts. A name that matches no test makes
# meson test pass without running anything: refused.
meson compile -C "$builddir" >/dev/null
listed=$(meson test -C "$builddir" --list "$@" 2>/dev/null || true)
if grep -q '^No suitable tests defined' <<<"$listed"; then
  echo "repeat-tests: no test matches: $*" >&2
  exit 2
fi

ulimit -c unlimited 2>/dev/null || true
# With the kernel's default pattern every crash of a run writes the same
# file, "core", in the build directory: a compositor that crashes while it
# is stopped at the end of another test replaces the core of the test that
# failed (seen: a Mutter core kept for a crash of test-app).
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo core)
uses_pid=$(cat /proc/sys/kernel/core_uses_pid 2>/dev/null || echo 0)
case "$pattern" in
  '|'*)
    echo "repeat-tests: cores go to '${pattern#|}', not to files: none will be kept" >&2 ;;
  *%p*) ;;
  *)
    [ "$uses_pid" = 1 ] ||
      echo "repeat-tests: kernel.core_pattern is '$pattern': the cores of one run overwrite each other;" \
           "as root: sysctl kernel.core_pattern=core.%p" >&2 ;;
esac
marker="$builddir/meson-logs/repeat-marker"

# Backtraces of the cores a failing run left, into its log.
keep_cores() {
  local run=$1 log=$2 n=0 core exe
  while IFS= read -r core; do
    n=$((n + 1))
    exe=$(file -b "$core" | sed -n "s/.*execfn: '\([^']*\)'.*/\1/p")
    {
      echo "=== core $core (from ${exe:-an unknown program}) ==="
      if command -v gdb >/dev/null && [ -n "$exe" ]; then
        gdb -batch -nx -ex 'thread apply all bt' "$exe" "$core" 2>&1 | tail -n 400
      fi
    } >>"$log"
    mv "$core" "$builddir/meson-logs/repeat-$run.core.$n"
    echo "  core: $builddir/meson-logs/repeat-$run.core.$n (${exe:-?}), backtrace in the log" >&2
  done < <(find "$builddir" /tmp -maxdepth 4 -newer "$marker" -type f \( -name core -o -name 'core.[0-9]*' \) 2>/dev/null)
}

passed=0 failed=0 failing_runs=()
for run in $(seq "$runs"); do
  start=$SECONDS
  touch "$marker"
  rm -f "$builddir/meson-logs/testlog.txt"   # so that a run that logs nothing keeps no stale log
  if meson test -C "$builddir" --print-errorlogs "$@" >"$builddir/meson-logs/repeat-current.out" 2>&1; then
    passed=$((passed + 1))
    echo "run $run/$runs: passed ($((SECONDS - start)) s)" >&2
  else
    failed=$((failed + 1))
    failing_runs+=("$run")
    if [ -f "$builddir/meson-logs/testlog.txt" ]; then
      cp "$builddir/meson-logs/testlog.txt" "$builddir/meson-logs/repeat-$run.txt"
    else
      cp "$builddir/meson-logs/repeat-current.out" "$builddir/meson-logs/repeat-$run.txt"
    fi
    echo "run $run/$runs: FAILED ($((SECONDS - start)) s):" >&2
    grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|ERROR|TIMEOUT)' "$builddir/meson-logs/repeat-current.out" |
      awk '!seen[$0]++' >&2 || true
    echo "  log: $builddir/meson-logs/repeat-$run.txt" >&2
    keep_cores "$run" "$builddir/meson-logs/repeat-$run.txt"
    [ $keep_going -eq 1 ] || break
  fi
done
rm -f "$builddir/meson-logs/repeat-current.out" "$marker"

echo "repeat-tests: $((passed + failed)) runs, $passed passed, $failed failed${failing_runs:+ (runs ${failing_runs[*]})}" >&2
[ $failed -eq 0 ]
