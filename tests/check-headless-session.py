#!/usr/bin/env python3
# check-headless-session.py: build-aux/headless-session.sh ends with its
# command's status, whatever the display server does when stopped
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A compositor that dies badly on SIGTERM (Mutter was seen to end with
# status 134) made the session's EXIT trap fail under `set -e`, and the
# session exited 134 after a test whose every check had passed (CI, the
# screen-reader and keyboard tests under Mutter). Here the command itself
# kills its session's display server with SIGABRT and exits 7: the session
# must exit 7 and leave no directory behind.
# For each display: Xvfb, Weston, Mutter. Prints TAP.
#
# Usage: check-headless-session.py HEADLESS_SESSION

import os
import resource
import subprocess
import sys
import tempfile

SERVERS = ('Xvfb', 'weston', 'mutter')

# Run inside the session: SIGABRT to the display server among the children
# of this process's ancestors, then exit 7.
ABORT_SERVER = r'''
import os, signal, sys, time
def ppid(pid):
    with open(f'/proc/{pid}/stat') as f:
        return int(f.read().rsplit(')', 1)[1].split()[1])
def comm(pid):
    with open(f'/proc/{pid}/comm') as f:
        return f.read().strip()
ancestors, pid = set(), os.getpid()
while pid > 1:
    pid = ppid(pid)
    ancestors.add(pid)
for entry in os.listdir('/proc'):
    if entry.isdigit():
        try:
            name = comm(int(entry))
            if ppid(int(entry)) not in ancestors or name not in %r:
                continue
            os.kill(int(entry), signal.SIGABRT)
        except (FileNotFoundError, ProcessLookupError):
            continue
        print('aborted', name, flush=True)
        sys.exit(7)
sys.exit(9)
''' % (SERVERS,)


def main():
    session = sys.argv[1]
    cases = [('x11', {'LATCHKEY_HEADLESS_DISPLAY': 'x11'}),
             ('weston', {'LATCHKEY_HEADLESS_DISPLAY': 'wayland', 'LATCHKEY_HEADLESS_COMPOSITOR': 'weston'}),
             ('mutter', {'LATCHKEY_HEADLESS_DISPLAY': 'wayland', 'LATCHKEY_HEADLESS_COMPOSITOR': 'mutter'})]
    print(f'1..{len(cases)}')
    failed = 0
    for number, (what, extra) in enumerate(cases, 1):
        with tempfile.TemporaryDirectory(prefix='latchkey-check-session-') as tmp:
            env = dict(os.environ, TMPDIR=tmp, **extra)
            # The aborted server would dump core where it runs: not a
            # crash anyone need read (repeat-tests.sh collects cores).
            run = subprocess.run([session, sys.executable, '-c', ABORT_SERVER], env=env,
                                 capture_output=True, text=True, timeout=120,
                                 preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
            left = os.listdir(tmp)
        problems = []
        if 'aborted' not in run.stdout:
            problems.append(f'the command found no display server (status {run.returncode})')
        if run.returncode != 7:
            problems.append(f'the session exited {run.returncode}, not the command\'s 7')
        if left:
            problems.append(f'left behind: {left}')
        ok = not problems
        failed += not ok
        print(f'{"ok" if ok else "not ok"} {number} - {what}: a display server that dies badly when '
              f'stopped leaves the command\'s status and no files')
        for line in problems + ([run.stderr[-2000:]] if problems else []):
            for part in line.splitlines():
                print(f'# {part}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
