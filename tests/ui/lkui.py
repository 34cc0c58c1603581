# lkui.py: driving the real latchkey app through AT-SPI (dogtail) in tests
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Used by tests/test-a11y.py and tests/test-ui-scripted.py (through
# tests/ui/agent.py). Everything waits on something observable (an output
# line, a bus name, a node of the accessible tree) with a deadline; the tree
# has no event for most of what we wait on, so it is polled at a short
# interval.
#
# Traps of GTK 4.8, libadwaita 1.2 and dogtail 0.9.11 that shape this module
# (see also /work/shared/guide/headless-testing.md §7):
#
# - dogtail must have checkForA11y off before dogtail.tree is imported, and
#   it creates /tmp/dogtail-$LOGNAME at import with a racy makedirs: each
#   process gets its own LOGNAME for the import, and the directory goes at
#   exit (import_dogtail).
# - GTK 4.8 never sets SHOWING on widgets, only on windows, and exports every
#   page of every GtkStack and AdwLeaflet, shown or not. A page never shown
#   has zero-size extents; one shown before keeps its last extents. So
#   "laid out" (non-zero extents up to the window) means "shown now or
#   before", and waits rely on pages being shown for the first time.
# - A widget without an accessible label is named after its widget name,
#   which defaults to its type name: an unnamed GtkMenuButton is called
#   "GtkMenuButton". App.pages() uses this to tell the leaflet's pages
#   apart; the audit treats such names as missing.
# - Buttons with a mnemonic label are named "_Label Label"; label() undoes it.
# - List rows have no AT-SPI action (and GrabFocus fails): rows are clicked
#   with the pointer, through XTest, at their centre. Extents are relative to
#   the window's widget, which sits inside the X window's CSD border.
# - Text.getText(0, -1) returns "" for labels; a label's name is its text.
# - win.* actions installed with gtk_widget_class_install_action are not
#   exported on the bus (only win.show-help-overlay is); app.* are.

import ctypes
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

DEADLINE = float(os.environ.get('LATCHKEY_UI_DEADLINE', '30'))
POLL = 0.05

# build-aux/headless-session.sh reads the display number Xvfb writes with
# `read -t 0.05` in a loop: when the timeout falls between the digits and
# the newline, the number is lost, and after 60 s it gives up with this
# message. Xvfbs that start together make it likelier. The tests start such
# a session once more when they see it.
XVFB_RACE = 'Xvfb did not start'


def wayland():
    """Whether this session's display is Wayland: build-aux/headless-session.sh
    with LATCHKEY_HEADLESS_DISPLAY=wayland sets GDK_BACKEND=wayland and no
    DISPLAY. Then there is no XTest and no screen to grab: keys go through
    Mutter's RemoteDesktop interface (Keys), pictures are drawn by the app
    itself (its test hooks, src/app/latchkey-test-hooks.c), and rows are
    activated with the keyboard (App.activate_row)."""
    return os.environ.get('GDK_BACKEND') == 'wayland' and not os.environ.get('DISPLAY')


def artifact(directory, file_name):
    """Where an artifact goes: the Wayland run of a test keeps its files
    apart from the X11 run's (the two may run at once), as the widget tests'
    -wayland.png do; so does a run with late keys (Keys)."""
    suffix = ('-wayland' if wayland() else '') + \
        ('-late-keys' if float(os.environ.get('LATCHKEY_UI_KEY_LAG', '0')) > 0 else '')
    if suffix:
        stem, dot, ext = file_name.rpartition('.')
        file_name = f'{stem}{suffix}.{ext}' if dot else f'{file_name}{suffix}'
    return os.path.join(directory, file_name)

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """preexec_fn: the child is killed if the test dies without cleaning up."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def log(*args):
    print('#', *args, file=sys.stderr, flush=True)


class Timeout(AssertionError):
    pass


# Processes whose end stops every wait at once (the apps under test): a
# crash shows as itself, not as a timeout later.
_watched = []


def check_watched():
    for proc, what, output in _watched:
        if proc.poll() is not None:
            _watched.clear()
            raise AssertionError(f'{what} exited with {proc.returncode} while the test waited:\n{output()[-30000:]}')


def wait_for(predicate, what, timeout=None, interval=POLL):
    """Polls predicate until it returns something true, and returns that.

    AT-SPI calls fail while nodes come and go; such errors count as "not yet",
    and the last one is reported if the deadline passes."""
    end = time.monotonic() + (timeout if timeout is not None else DEADLINE)
    last_error = None
    while True:
        check_watched()
        try:
            value = predicate()
            if value:
                return value
        except Timeout:
            raise
        except Exception as error:  # the tree changed under us
            last_error = error
        if time.monotonic() > end:
            detail = f' (last error: {last_error!r})' if last_error else ''
            raise Timeout(f'timed out after {timeout or DEADLINE:.0f} s waiting for {what}{detail}')
        time.sleep(interval)


# Processes

def read_line(pipe, timeout, what):
    """The first line a process prints, with a deadline (the event)."""
    end = time.monotonic() + timeout
    data = b''
    fd = pipe.fileno()
    while b'\n' not in data:
        left = end - time.monotonic()
        if left <= 0:
            raise Timeout(f'{what} printed nothing within {timeout:.0f} s')
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError(f'{what} exited before printing its first line')
            data += chunk
    line, rest = data.split(b'\n', 1)
    return line.decode(), rest


def drain(pipe, sink):
    """Copies what a pipe still carries into a file, so the writer never blocks."""
    def run():
        for chunk in iter(lambda: pipe.read1(65536) if hasattr(pipe, 'read1') else pipe.read(65536), b''):
            sink.write(chunk)
            sink.flush()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def descendants(pid):
    """The processes below pid, found through /proc (children first)."""
    parents = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(')') + 2:].split()[1])
        except (OSError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found = []

    def visit(p):
        for child in parents.get(p, []):
            visit(child)
            found.append(child)
    visit(pid)
    return found


def running(pid):
    """Alive and not a zombie."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            stat = f.read()
        return stat[stat.rindex(')') + 2] != 'Z'
    except (OSError, ValueError, IndexError):
        return False


def kill_tree(proc, grace=5.0):
    """Ends a process we started and everything it started, by their ids:
    SIGTERM to all, time to clean up, then SIGKILL to what is left."""
    if proc is None or proc.poll() is not None:
        return
    victims = descendants(proc.pid) + [proc.pid]
    for pid in victims:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + grace
    while time.monotonic() < end:
        proc.poll()
        if not any(running(pid) for pid in victims):
            break
        time.sleep(POLL)
    for pid in victims:
        if running(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass


def terminate_on_signals():
    """SIGTERM and SIGINT (meson's timeout, Ctrl-C) unwind like an error, so
    that finally blocks stop what the test started."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


class Service:
    """latchkey-relay or latchkey-partner on loopback, started as
    build-aux/latchkey-dev.sh start_service does: --port 0, and the URL is
    the last word of the first line it prints."""

    def __init__(self, binary, workdir, name):
        self.name = name
        self.log_path = os.path.join(workdir, f'{name}.log')
        data = os.path.join(workdir, f'{name}-data')
        os.makedirs(data, exist_ok=True)
        self.log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen([binary, '--port', '0', '--data-dir', data],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log,
                                     preexec_fn=die_with_parent)
        line, rest = read_line(self.proc.stdout, DEADLINE, name)
        self.log.write(line.encode() + b'\n' + rest)
        drain(self.proc.stdout, self.log)
        self.url = line.split()[-1]
        if not re.match(r'^https?://127\.0\.0\.1:\d+$', self.url):
            raise AssertionError(f'{name}: unexpected first line {line!r}')

    def stop(self):
        """SIGTERM and the exit status: a sanitizer report or a crash at exit
        fails the test, as in tests/lk-test-server.c."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                kill_tree(self.proc)
                raise AssertionError(f'{self.name} did not stop on SIGTERM')
        self.log.close()
        if self.proc.returncode != 0:
            with open(self.log_path, errors='replace') as f:
                tail = f.read()[-20000:]
            raise AssertionError(f'{self.name} exited with {self.proc.returncode}:\n{tail}')

    def kill(self):
        kill_tree(self.proc)


def start_services(workdir):
    relay = Service(os.environ['LATCHKEY_RELAY'], workdir, 'relay')
    try:
        partner = Service(os.environ['LATCHKEY_PARTNER'], workdir, 'partner')
    except BaseException:
        relay.kill()
        raise
    return relay, partner


# Sanitizers

def sanitizer_problems(returncode, stderr_text):
    """What in a run of the app under ASan/UBSan must fail the test.

    Memory errors, UBSan reports, criticals and crashes always do. Leaks do
    when a frame of their allocation stack is in our sources. The others are
    printed and do not: with accessibility on, GTK 4.8 keeps objects at exit,
    and LSan's fast unwinder stops in GLib (no frame pointers), so most
    stacks end at g_malloc and say nothing of who called it. Unwinding
    properly (fast_unwind_on_malloc=0) makes the app too slow to walk. The
    in-process widget tests (test-app, test-scan) fail on any leak."""
    problems = []
    if 'ERROR: AddressSanitizer' in stderr_text:
        problems.append('AddressSanitizer reported an error')
    if re.search(r'runtime error: ', stderr_text):
        problems.append('UndefinedBehaviorSanitizer reported an error')
    if re.search(r'-CRITICAL \*\*|-ERROR \*\*', stderr_text):
        problems.append('a critical or an error was logged')
    ours, theirs = [], []
    if 'ERROR: LeakSanitizer' in stderr_text:
        for block in re.split(r'\n(?=(?:Direct|Indirect) leak of )', stderr_text)[1:]:
            block = block.split('\n\n', 1)[0]
            frames = [line for line in block.splitlines() if re.match(r'\s*#\d+ ', line)]
            mine = any(re.search(r'/src/(app|core|cli)/[^ /]+\.[ch]:', line) or
                       re.search(r' in (lk|latchkey)_', line) for line in frames)
            (ours if mine else theirs).append(block)
    if ours:
        problems.append(f'{len(ours)} leak(s) allocated by our code:\n' + '\n\n'.join(ours))
    if theirs:
        log(f'{len(theirs)} leak report(s) not from our code (or cut short in GLib), not failing:\n' +
            '\n\n'.join('\n'.join(block.splitlines()[:8]) for block in theirs))
    leaks_only = 'ERROR: LeakSanitizer' in stderr_text and not problems
    if returncode not in (0, None) and not leaks_only:
        problems.append(f'exit status {returncode}')
    return problems


# dogtail and pyatspi

_dogtail = None


def import_dogtail():
    """Imports dogtail configured for tests: no a11y check, no delays, no
    log files; its scratch directories are made under a LOGNAME of ours and
    removed at exit."""
    global _dogtail
    if _dogtail is not None:
        return _dogtail
    import faulthandler
    faulthandler.enable()   # an abort in a library shows where Python was
    os.environ['NO_AT_BRIDGE'] = '1'   # our own GTK 3 (dogtail's) stays off the bus
    saved = os.environ.get('LOGNAME')
    logname = f'latchkey-test-{os.getpid()}'
    os.environ['LOGNAME'] = logname
    import atexit
    atexit.register(shutil.rmtree, f'/tmp/dogtail-{logname}', True)
    try:
        from dogtail.config import config
        config.checkForA11y = False
        config.logDebugToFile = False
        config.logDebugToStdOut = False
        config.actionDelay = 0
        config.defaultDelay = 0
        config.typingDelay = 0
        config.searchBackoffDuration = POLL
        config.searchCutoffCount = 1
        config.childrenLimit = 1000
        from dogtail import tree
    finally:
        if saved is None:
            del os.environ['LOGNAME']
        else:
            os.environ['LOGNAME'] = saved
    import pyatspi
    import gi
    gi.require_version('Atspi', '2.0')
    from gi.repository import Atspi
    # libatspi gives up on a call after 0.8 s by default; an app under a
    # sanitizer on a loaded machine can be busier than that.
    Atspi.set_timeout(10000, 30000)
    gi.require_version('Gdk', '3.0')
    gi.require_version('GdkPixbuf', '2.0')
    from gi.repository import Gdk, GdkPixbuf, Gio, GLib
    _dogtail = {'tree': tree, 'pyatspi': pyatspi, 'Atspi': Atspi, 'Gdk': Gdk, 'GdkPixbuf': GdkPixbuf,
                'Gio': Gio, 'GLib': GLib}
    return _dogtail


def A():
    return _dogtail['pyatspi']


def role(node):
    """None once the node is gone (widgets come and go while we look)."""
    try:
        return node.getRole()
    except Exception:
        return None


def role_name(node):
    try:
        return node.getRoleName()
    except Exception:
        return '?'


def name(node):
    try:
        return node.name or ''
    except Exception:
        return ''


def label(node):
    """The name as a person reads it: GTK 4.8 names a button with a mnemonic
    "_Continue Continue"."""
    text = name(node).replace('_', '')
    half = (len(text) - 1) // 2
    if len(text) % 2 == 1 and text[half] == ' ' and text[:half] == text[half + 1:]:
        return text[:half]
    return text


def children(node):
    """The children, with two calls fewer per child than dogtail's Node.children."""
    try:
        return [c for c in (node.get_child_at_index(i) for i in range(node.get_child_count())) if c is not None]
    except Exception:
        return []


def parent(node):
    try:
        return node.parent
    except Exception:
        return None


def extents(node):
    """(x, y, width, height) relative to the window, or None without a
    Component (GtkStackPage). Window coordinates: asking for screen ones
    makes GTK 4.8 warn."""
    try:
        box = _dogtail['Atspi'].Component.get_extents(node, _dogtail['Atspi'].CoordType.WINDOW)
        return (box.x, box.y, box.width, box.height)
    except Exception:
        return None


def has_size(node):
    box = extents(node)
    return box is None or (box[2] > 0 and box[3] > 0)


def states(node):
    try:
        return set(node.getState().getStates())
    except Exception:
        return set()


def is_toplevel(node):
    try:
        return node.parent is not None and node.parent.getRole() == A().ROLE_APPLICATION
    except Exception:
        return True


def laid_out(node):
    """Shown now or before (see the top of this file)."""
    n = node
    while n is not None and not is_toplevel(n):
        if not has_size(n):
            return False
        n = parent(n)
    return n is not None and has_size(n)


def walk(scope, prune_unsized=True, depth=None):
    """Depth-first, in order; with prune_unsized, no descent into subtrees
    that were never laid out (pages never shown); with depth, no deeper
    than that below scope."""
    stack = [(scope, 0)]
    while stack:
        node, level = stack.pop()
        yield node
        if (prune_unsized and not has_size(node)) or (depth is not None and level >= depth):
            continue
        stack.extend((child, level + 1) for child in reversed(children(node)))


def _matches(node, role_, text, where):
    if role_ is not None and role(node) != role_:
        return False
    if text is not None:
        value = label(node)
        if isinstance(text, re.Pattern):
            if not text.search(value):
                return False
        elif value != text:
            return False
    return where is None or where(node)


def find_all(scope, role_=None, text=None, where=None, shown=True):
    return [n for n in walk(scope, prune_unsized=shown)
            if _matches(n, role_, text, where) and (not shown or has_size(n))]


def find(scope, role_=None, text=None, where=None, shown=True):
    for n in walk(scope, prune_unsized=shown):
        if _matches(n, role_, text, where) and (not shown or has_size(n)):
            return n
    return None


def wait_find(scope, role_=None, text=None, where=None, what=None, timeout=None):
    what = what or f'{role_name_of(role_)} {text!r}'
    return wait_for(lambda: find(scope, role_, text, where), what, timeout)


def role_name_of(role_):
    if role_ is None:
        return 'node'
    try:
        return _dogtail['Atspi'].role_get_name(role_)
    except Exception:
        return str(role_)


def ancestor(node, role_=None, where=None):
    n = parent(node)
    while n is not None:
        if (role_ is None or role(n) == role_) and (where is None or where(n)):
            return n
        n = parent(n)
    return None


def path(node):
    """Where a node is: roles, child indices and names from its window."""
    parts = []
    n = node
    while n is not None:
        p = parent(n)
        if p is None or role(n) == A().ROLE_APPLICATION:
            break
        try:
            index = n.getIndexInParent()
        except Exception:
            index = '?'
        text = name(n)
        parts.append(f'{role_name(n)}[{index}]' + (f' {text!r}' if text else ''))
        n = p
    return ' > '.join(reversed(parts))


def click(node):
    """The control's own "click" action, as a screen reader would use. An
    app busy for longer than the call's timeout may still act on it: what
    follows waits for the outcome, so a missing reply is only noted."""
    try:
        done = node.doActionNamed('click')
    except Exception as error:
        if 'Did not receive a reply' not in str(error):
            raise
        log(f'no reply to click on {name(node)!r}, going on: {error}')
        return
    if not done:
        raise AssertionError(f'{path(node)}: the click action failed')


def set_text(node, text):
    node.queryEditableText().setTextContents(text)


# Toasts: they go by themselves after a few seconds (and those queued behind
# them come), so a view that shows one is not settled: anything that audits
# or photographs it dismisses them first and waits for them to be gone.

# An AdwToastOverlay puts its toasts (AdwToastWidget) right under it, and
# the app's overlays are within the first levels of their windows.
TOAST_DEPTH = 5


def toasts(window):
    """The toasts a window shows now (their AdwToastWidget nodes)."""
    return [n for n in walk(window, depth=TOAST_DEPTH) if name(n) == 'AdwToastWidget']


def toast_close_button(toast):
    """A toast's close button (after its action button, if it has one)."""
    buttons = find_all(toast, A().ROLE_PUSH_BUTTON, where=lambda n: 'click' in _actions(n))
    return buttons[-1] if buttons else None


def dismiss_toasts(window, what='the toasts to go'):
    """Closes the toasts a window shows, and those queued behind them, with
    their close buttons as a user would, and returns once none is left (the
    last one's hide animation over: its node is gone)."""
    closed = []

    def none_left():
        shown = toasts(window)
        for toast in shown:
            if any(toast == c for c in closed):
                continue
            button = toast_close_button(toast)
            if button is None:
                continue
            try:
                button.doActionNamed('click')
            except Exception:   # it was going by itself
                pass
            closed.append(toast)
        return not shown
    wait_for(none_left, what)
    return len(closed)


# The app

def bus_call(Gio, GLib, bus_name, object_path, interface, method, args, reply_type=None):
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    return bus.call_sync(bus_name, object_path, interface, method, args,
                         GLib.VariantType.new(reply_type) if reply_type else None,
                         Gio.DBusCallFlags.NONE, int(DEADLINE * 1000), None)


def wait_bus_name(bus_name, timeout=None, proc=None):
    """Waits for a name to get an owner on the session bus (an event), or
    for proc to end."""
    Gio, GLib = _dogtail['Gio'], _dogtail['GLib']
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    context = GLib.MainContext.new()
    context.push_thread_default()
    appeared = []
    timed_out = []
    try:
        watch = Gio.bus_watch_name_on_connection(bus, bus_name, Gio.BusNameWatcherFlags.NONE,
                                                 lambda *a: appeared.append(True), None)
        source = GLib.timeout_source_new(int((timeout or DEADLINE) * 1000))
        source.set_callback(lambda *a: timed_out.append(True) or False)
        source.attach(context)
        # No event for a process's end here: looked at every 100 ms.
        ticker = GLib.timeout_source_new(100)
        ticker.set_callback(lambda *a: True)
        ticker.attach(context)
        while not appeared and not timed_out and (proc is None or proc.poll() is None):
            context.iteration(True)
        source.destroy()
        ticker.destroy()
        Gio.bus_unwatch_name(watch)
    finally:
        context.pop_thread_default()
    if not appeared:
        check_watched()
        raise Timeout(f'{bus_name} did not appear on the session bus')


class App:
    """The real latchkey binary in this session, with accessibility on."""

    def __init__(self, workdir, relay_url, partner_url, tag='app', extra_env=None, args=()):
        self.binary = os.environ['LATCHKEY_APP']
        if not os.access(self.binary, os.X_OK):
            raise AssertionError(f'{self.binary} is not built: run meson compile first')
        self.app_id = os.environ.get('LATCHKEY_APP_ID', 'io.github.latchkey.Latchkey')
        self.object_path = os.environ.get('LATCHKEY_APP_PATH', '/' + self.app_id.replace('.', '/'))
        self.log_path = os.path.join(workdir, f'{tag}.log')
        env = dict(os.environ)
        env.update({
            # The test environment turns accessibility off for the other GUI
            # tests; this one needs it.
            'GTK_A11Y': 'atspi',
            'LATCHKEY_RELAY_URL': relay_url,
            'LATCHKEY_PARTNER_URL': partner_url,
            # app.test-snapshot, and the display named in the log.
            'LATCHKEY_TEST_HOOKS': '1',
        })
        env.pop('NO_AT_BRIDGE', None)
        env.update(extra_env or {})
        self.log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen([self.binary, *args], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.node = None
        self.frame = None
        self._keys = None
        _watched.append((self.proc, f'the app ({tag})', self.output))

    def unwatch(self):
        _watched[:] = [w for w in _watched if w[0] is not self.proc]

    def ready(self):
        """Waits for the app's bus name, its accessible application and its
        window."""
        wait_bus_name(self.app_id, proc=self.proc)
        tree = _dogtail['tree']

        def lookup():
            if self.proc.poll() is not None:
                raise AssertionError(f'the app exited with {self.proc.returncode}:\n{self.output()}')
            for app in tree.root.applications():
                try:
                    if app.get_process_id() == self.proc.pid:
                        return app
                except Exception:
                    continue
            return None
        self.node = wait_for(lookup, 'the app on the accessibility bus')
        self.frame = wait_for(lambda: self.window('frame'), 'the app window')
        self.check_display()
        if wayland():
            self.keys()
        return self

    def display(self):
        """The GdkDisplay type the app opened, as its test hooks log it."""
        match = re.search(r'test hooks on; display: (\w+)', self.output())
        return match.group(1) if match else None

    def check_display(self):
        """The session promised Wayland or X11: hold the app to it, so that
        a Wayland run can never pass on a silent fallback to X11."""
        want = 'GdkWaylandDisplay' if wayland() else 'GdkX11Display'
        got = wait_for(self.display, 'the display the app opened (its test hooks)')
        if got != want:
            raise AssertionError(f'the app opened a {got}, not a {want}')
        return got

    def windows(self):
        """The app's toplevels. Not while one is closing: see close_window."""
        return children(self.node)

    def window(self, kind='frame', title=None):
        """A toplevel: 'frame' (a window) or 'dialog', by title."""
        for w in self.windows():
            if role_name(w) == kind and (title is None or name(w) == title):
                return w
        return None

    def wait_window(self, title, what=None):
        def lookup():
            for w in self.windows():
                if name(w) == title:
                    return w
            return None
        return wait_for(lookup, what or f'the window {title!r}')

    def activate(self, action, parameter=None, window=None):
        """An exported GAction: app.NAME, or win.NAME of window WINDOW (1 = the
        first window)."""
        GLib = _dogtail['GLib']
        params = [parameter] if parameter is not None else []
        object_path = self.object_path if window is None else f'{self.object_path}/window/{window}'
        bus_call(_dogtail['Gio'], GLib, self.app_id, object_path, 'org.gtk.Actions', 'Activate',
                 GLib.Variant('(sava{sv})', (action, params, {})))

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def quit(self):
        """Quits through app.quit and checks how the app ended."""
        self.unwatch()
        if self.proc.poll() is None:
            try:
                self.activate('quit')
            except Exception as error:
                log(f'app.quit failed: {error}')
            try:
                self.proc.wait(timeout=DEADLINE * 2)
            except subprocess.TimeoutExpired:
                kill_tree(self.proc)
                raise AssertionError('the app did not quit')
        self.log.close()
        problems = sanitizer_problems(self.proc.returncode, self.output())
        if problems:
            raise AssertionError('the app ended badly: ' + '; '.join(problems) + '\n' + self.output()[-30000:])

    def kill(self):
        self.unwatch()
        kill_tree(self.proc)

    # Navigation in the window

    def leaflet(self):
        return find(self.frame, where=lambda n: name(n) == 'AdwLeaflet')

    def main_page(self):
        """The leaflet's first page (the wallet and the shares): the one that
        is not a Latchkey*Page."""
        def lookup():
            for page in children(self.leaflet()):
                if not re.match(r'^Latchkey[A-Za-z]+Page$', name(page)):
                    return page
            return None
        # A read of the tree can fail while it changes: then again.
        return wait_for(lookup, 'the main page in the leaflet')

    def pages(self):
        """The pages pushed on the main one, by kind: 'credential', 'share',
        'receive' or 'scan' (from their type names, see the top)."""
        kinds = {}
        for page in children(self.leaflet()):
            match = re.match(r'^Latchkey([A-Za-z]+)Page$', name(page))
            if match:
                kinds[match.group(1).lower()] = page
        return kinds

    def wait_page(self, kind):
        """Waits for a page of this kind to be the top one, transition over."""
        def top():
            pages = self.pages()
            page = pages.get(kind)
            return page if page is not None and laid_out(page) else None
        return wait_for(top, f'the {kind} page')

    def wait_main_page(self):
        wait_for(lambda: not self.pages(), 'the pushed pages to go (back on the main page)')
        return self.main_page()

    def back_to_main(self):
        while self.pages():
            before = set(self.pages())
            for page in self.pages().values():
                back = find(page, A().ROLE_PUSH_BUTTON, 'Back')
                if back is not None:
                    click(back)
                    break
            else:
                raise AssertionError('no Back button on the pushed pages')
            wait_for(lambda: set(self.pages()) != before, 'the previous page')
        return self.main_page()

    def keys_list(self):
        return find(self.main_page(), A().ROLE_LIST, 'Keys', shown=False)

    def key_row(self, title):
        keys = self.keys_list()
        if keys is None:
            return None
        for row in children(keys):
            if role(row) == A().ROLE_LIST_ITEM and name(row) == title:
                return row
        return None

    def key_rows(self):
        keys = self.keys_list()
        return [n for n in children(keys) if role(n) == A().ROLE_LIST_ITEM] if keys is not None else []

    def toast(self, pattern):
        """A toast's text, if one matching is shown."""
        for shown in toasts(self.frame):
            for n in walk(shown):
                if role(n) == A().ROLE_LABEL and re.search(pattern, name(n)):
                    return name(n)
        return None

    # The pointer

    def window_origin(self):
        """Where the window's widget is on the screen: the X window (found by
        the app's pid through xwininfo and xprop) plus its CSD border."""
        tree = subprocess.run(['xwininfo', '-root', '-children'], capture_output=True, text=True,
                              check=True).stdout
        box = extents(self.frame)
        for line in tree.splitlines():
            match = re.match(r'\s+(0x[0-9a-f]+) .*?\s(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s', line)
            if not match:
                continue
            xid, width, height, x, y = match.group(1), *map(int, match.groups()[1:])
            if width < box[2] or height < box[3]:
                continue
            props = subprocess.run(['xprop', '-id', xid, '_NET_WM_PID', 'WM_NAME'], capture_output=True,
                                   text=True).stdout
            if f'= {self.proc.pid}' in props and f'"{name(self.frame)}"' in props:
                return x + (width - box[2]) // 2, y + (height - box[3]) // 2
        raise AssertionError('the app window is not on the X server')

    def keys(self):
        """Key events for this app's session (made once)."""
        if self._keys is None:
            self._keys = Keys()
            if wayland():
                self.keyboard_ready()
        return self._keys

    def keyboard_ready(self):
        """Mutter 43 loses the first keys of a new virtual keyboard while
        the app learns its keymap, how many depends on timing (a Return on a
        row went missing): F10 until the main menu takes the focus, the
        first key seen to arrive, then Escape. Called when the app is ready,
        on its main window."""
        def in_menu():
            focus = self.focused()
            return focus is not None and role(focus) == A().ROLE_MENU_ITEM
        for _ in range(10):
            self._keys.press('F10')
            try:
                wait_for(in_menu, 'the main menu (F10)', timeout=2)
                break
            except Timeout:
                continue
        else:
            raise AssertionError('no key reached the app: F10 never opened the main menu')
        self._keys.press('Escape')
        wait_for(lambda: not in_menu(), 'the main menu to close (Escape)')

    def focused(self):
        """The focused object of the app's windows, or None. (A focused
        widget is laid out, so pages never shown are not searched.)"""
        for window in self.windows():
            for node in walk(window):
                if A().STATE_FOCUSED in states(node):
                    return node
        return None

    def key_to_focus(self, key, before, what):
        """Presses a key and returns the focus once it has moved from
        `before` (None if it stays, after a short wait: the end of a list)."""
        self.keys().press(key)
        try:
            return wait_for(lambda: (lambda n: n if n is not None and n != before else None)(self.focused()),
                            what, timeout=3)
        except Timeout:
            return None

    def activate_row(self, row):
        """Activates a list row as a user would: a pointer click at its
        centre under X11 (XTest); under Wayland, where no client can move
        the pointer, the keyboard: Tab until the focus is in the row's list,
        the arrows to the row, Enter. (Rows have no AT-SPI action and
        GrabFocus fails on them in GTK 4.8.)"""
        if not wayland():
            return self.pointer_click(row)
        rows = parent(row)
        target = row.getIndexInParent()
        focus = self.focused()
        seen, stuck = [], 0
        for _ in range(40):
            if focus is not None and role(focus) == A().ROLE_LIST_ITEM and parent(focus) == rows:
                break
            moved = self.key_to_focus('Tab', focus, 'the focus to move (Tab)')
            stuck = 0 if moved is not None else stuck + 1
            focus = moved or self.focused()
            seen.append(path(focus) if focus is not None else 'nothing')
            if stuck >= 3:
                active = [f'{name(w)}: {"active" if A().STATE_ACTIVE in states(w) else "not active"}'
                          for w in self.windows()]
                hidden = [path(n) for w in self.windows() for n in walk(w, prune_unsized=False)
                          if A().STATE_FOCUSED in states(n)]
                raise AssertionError(f'Tab does not move the focus (windows: {active}; focused, shown or '
                                     f'not: {hidden}); it is on:\n  ' +
                                     '\n  '.join(seen))
        else:
            raise AssertionError(f'Tab never reached the list of {path(row)}; the focus went to:\n  ' +
                                 '\n  '.join(seen))
        for _ in range(200):
            if focus == row:
                break
            here = focus.getIndexInParent()
            moved = self.key_to_focus('Down' if here < target else 'Up', focus, 'the focus to move in the list')
            if moved is None or parent(moved) != rows:
                raise AssertionError(f'the arrows did not reach {path(row)} (stuck on {path(focus)})')
            focus = moved
        else:
            raise AssertionError(f'the arrows did not reach {path(row)}')
        self.keys().press('Return')

    def pointer_click(self, node):
        """A left click at the centre of the node (list rows have no action)."""
        box = extents(node)
        if box is None or box[2] <= 0:
            raise AssertionError(f'{path(node)} has no extents to click')
        ox, oy = self.window_origin()
        A().Registry.generateMouseEvent(ox + box[0] + box[2] // 2, oy + box[1] + box[3] // 2, 'b1c')


# Keys

# X keysyms
KEYSYMS = {'Tab': 0xff09, 'Return': 0xff0d, 'Escape': 0xff1b, 'Down': 0xff54, 'Up': 0xff52, 'Right': 0xff53,
           'Left': 0xff51, 'F10': 0xffc7, 'space': 0x20, 'Control_L': 0xffe3, 'Alt_L': 0xffe9,
           'Shift_L': 0xffe1, 'Home': 0xff50}
MODIFIER_MASKS = {'Shift_L': 1 << 0, 'Control_L': 1 << 2, 'Alt_L': 1 << 3}


def keysym(key):
    sym = KEYSYMS.get(key, ord(key) if len(key) == 1 else None)
    if sym is None:
        raise AssertionError(f'unknown key {key!r}')
    return sym


class Keys:
    """Key events to whatever window has the keyboard focus: under X11,
    XTest through AT-SPI (generate_keyboard_event); under Wayland, Mutter's
    org.gnome.Mutter.RemoteDesktop (a session of its own, whose virtual
    keyboard types keysyms), which is why Wayland runs of the tests that type
    use Mutter, not Weston."""

    BUS_NAME = 'org.gnome.Mutter.RemoteDesktop'

    def __init__(self):
        self.session = None
        self.queue = None
        if not wayland():
            return
        Gio, GLib = _dogtail['Gio'], _dogtail['GLib']
        reply = bus_call(Gio, GLib, self.BUS_NAME, '/org/gnome/Mutter/RemoteDesktop', self.BUS_NAME,
                         'CreateSession', None, '(o)')
        self.session = reply.unpack()[0]
        self._call('Start', None)
        # Mutter 43 loses the first key of a new virtual keyboard (it is
        # what makes the keyboard's keymap known to the clients): a Shift
        # press and release goes first, which no widget acts on. (More can
        # be lost: App.keyboard_ready.)
        self._keysym(KEYSYMS['Shift_L'], True)
        self._keysym(KEYSYMS['Shift_L'], False)
        # LATCHKEY_UI_KEY_LAG=MS: each key reaches the compositor that much
        # later, in order, from a thread of its own, while the test goes on
        # as it would: a slow compositor, made certain. A test that acts on
        # what it reads before its key has arrived fails with it (the
        # keyboard test's stale focus). Off by default.
        self.lag = float(os.environ.get('LATCHKEY_UI_KEY_LAG', '0')) / 1000
        if self.lag > 0:
            self.queue = queue.Queue()
            threading.Thread(target=self._deliver, daemon=True).start()

    def _deliver(self):
        while True:
            combo = self.queue.get()
            time.sleep(self.lag)
            self._send(combo)

    def _call(self, method, args):
        Gio, GLib = _dogtail['Gio'], _dogtail['GLib']
        return bus_call(Gio, GLib, self.BUS_NAME, self.session, self.BUS_NAME + '.Session', method, args)

    def _keysym(self, sym, down):
        self._call('NotifyKeyboardKeysym', _dogtail['GLib'].Variant('(ub)', (sym, down)))

    def press(self, combo):
        """A key or a combination: 'Tab', 'Control_L+o', 'Shift_L+Tab'."""
        if self.queue is not None:
            self.queue.put(combo)
            return
        self._send(combo)

    def _send(self, combo):
        parts = combo.split('+')
        key, modifiers = keysym(parts[-1]), parts[:-1]
        if self.session is not None:
            for modifier in modifiers:
                self._keysym(keysym(modifier), True)
            self._keysym(key, True)
            self._keysym(key, False)
            for modifier in reversed(modifiers):
                self._keysym(keysym(modifier), False)
            return
        # AT-SPI's key synthesis types are not flags (PRESS | SYM is SYM): a
        # modifier cannot be held by its keysym, so it is latched around
        # the key.
        Atspi = _dogtail['Atspi']
        kinds = Atspi.KeySynthType
        mask = 0
        for modifier in modifiers:
            mask |= MODIFIER_MASKS[modifier]
        if mask:
            Atspi.generate_keyboard_event(mask, None, kinds.LOCKMODIFIERS)
        try:
            Atspi.generate_keyboard_event(key, None, kinds.SYM)
        finally:
            if mask:
                Atspi.generate_keyboard_event(mask, None, kinds.UNLOCKMODIFIERS)

    def type(self, text):
        for ch in text:
            self.press(ch)


# Screenshots

def grab():
    Gdk = _dogtail['Gdk']
    root = Gdk.get_default_root_window()
    return Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height())


def crop_to_content(pixbuf):
    """The screen without the black background around the windows."""
    data = pixbuf.get_pixels()
    stride, channels = pixbuf.get_rowstride(), pixbuf.get_n_channels()
    width, height = pixbuf.get_width(), pixbuf.get_height()
    rows = [data[y * stride:y * stride + width * channels] for y in range(height)]
    used = [y for y, row in enumerate(rows) if row.strip(b'\0')]
    if not used:
        return pixbuf
    left = min(len(rows[y]) - len(rows[y].lstrip(b'\0')) for y in used) // channels
    right = max(len(rows[y].rstrip(b'\0')) for y in used)
    right = (right + channels - 1) // channels
    return pixbuf.new_subpixbuf(left, used[0], max(1, right - left), used[-1] - used[0] + 1)


def snapshot(app):
    """The app's active window as it draws it (app.test-snapshot), for
    Wayland, where no client can read the screen."""
    GdkPixbuf = _dogtail['GdkPixbuf']
    fd, file_path = tempfile.mkstemp(prefix='latchkey-snapshot-', suffix='.png')
    os.close(fd)
    os.unlink(file_path)
    failed = f'{file_path}.failed'
    try:
        # Drawn after a paint that leaves the window whole; the file
        # appears whole. The app gives up before our deadline, and says
        # why in PATH.failed.
        app.activate('test-snapshot', _dogtail['GLib'].Variant('s', file_path))
        try:
            wait_for(lambda: os.path.exists(file_path) or os.path.exists(failed),
                     'the picture app.test-snapshot draws')
        except Timeout as error:
            raise AssertionError(f'{error}:\n{app.output()[-3000:]}') from error
        if not os.path.exists(file_path):
            with open(failed, encoding='utf-8') as why:
                raise AssertionError(f'app.test-snapshot failed: {why.read()}:\n{app.output()[-3000:]}')
        return GdkPixbuf.Pixbuf.new_from_file(file_path)
    finally:
        for path in (file_path, failed):
            if os.path.exists(path):
                os.unlink(path)


def screenshot(file_path, private_dir=None, settle=0.15, limit=1.5, app=None):
    """Saves the screen (under Wayland: app's active window, drawn by the
    app) once it has not changed for `settle` seconds (no
    frame of a transition), or after `limit` (a spinner never rests). The
    file is replaced whole (a rename): the same test may run twice at once
    (meson test --repeat). With private_dir, the picture is also saved
    there, and that path is returned, to read it back from: the artifact
    may be the other run's by then."""
    start = time.monotonic()
    previous, since = None, start
    if wayland():
        if app is None:
            raise AssertionError('under Wayland a screenshot needs the app to draw it')
        file_path = artifact(os.path.dirname(file_path), os.path.basename(file_path))
    while True:
        shot = snapshot(app) if wayland() else grab()
        pixels = shot.get_pixels()
        now = time.monotonic()
        if pixels != previous:
            previous, since = pixels, now
        elif now - since >= settle or now - start >= limit:
            break
        if now - start >= limit:
            break
        time.sleep(0.04)
    picture = shot if wayland() else crop_to_content(shot)
    os.makedirs(os.path.dirname(file_path), exist_ok=True)
    partial = f'{file_path}.{os.getpid()}.part'
    picture.savev(partial, 'png', [], [])
    os.replace(partial, file_path)
    log(f'screenshot: {file_path}')
    if private_dir is None:
        return file_path
    private = os.path.join(private_dir, os.path.basename(file_path))
    picture.savev(private, 'png', [], [])
    return private


# The accessible-name audit

def control_roles():
    """What a user operates. (Windows are checked too: a screen reader
    announces them by name when they open.)"""
    a = A()
    return {a.ROLE_PUSH_BUTTON, a.ROLE_PUSH_BUTTON_MENU, a.ROLE_TOGGLE_BUTTON, a.ROLE_CHECK_BOX,
            a.ROLE_RADIO_BUTTON, a.ROLE_MENU_ITEM, a.ROLE_CHECK_MENU_ITEM, a.ROLE_RADIO_MENU_ITEM,
            a.ROLE_PAGE_TAB, a.ROLE_COMBO_BOX, a.ROLE_TEXT, a.ROLE_ENTRY, a.ROLE_PASSWORD_TEXT,
            a.ROLE_SPIN_BUTTON, a.ROLE_SLIDER, a.ROLE_LINK, a.ROLE_LIST_ITEM, a.ROLE_TREE_ITEM}


def image_roles():
    return {A().ROLE_IMAGE, A().ROLE_ICON}


FALLBACK_NAME = re.compile(r'^(Gtk|Adw|Gdk|Latchkey)[A-Z][A-Za-z0-9]*$')


def widget_names(source_root):
    """The widget names the app sets (<property name="name"> in its .ui files,
    gtk_widget_set_name in its C): GTK 4.8 falls back to them as accessible
    names, so they do not count as names."""
    names = set()
    app_dir = os.path.join(source_root, 'src', 'app')
    for entry in sorted(os.listdir(app_dir)) if os.path.isdir(app_dir) else []:
        file_path = os.path.join(app_dir, entry)
        if not os.path.isfile(file_path):
            continue
        with open(file_path, errors='replace') as f:
            text = f.read()
        if entry.endswith('.ui'):
            names.update(re.findall(r'<property name="name">([^<]+)</property>', text))
        elif entry.endswith('.c'):
            names.update(re.findall(r'gtk_widget_set_name\s*\([^,]+,\s*"([^"]+)"\)', text))
    return names


def is_unnamed(text, ids):
    return not text.strip() or bool(FALLBACK_NAME.match(text)) or text in ids


class Gone(Exception):
    """A node went away before it could be read whole."""


def is_gone(node):
    """Whether a node is no longer there: every call on it fails, and
    libatspi marks it defunct."""
    try:
        node.getRole()
    except Exception:
        return True
    return A().STATE_DEFUNCT in states(node)


class Seen:
    """A node as the audit first read it: role, name, extents and where it
    is (its path, and its ancestors as they were read on the way down).
    The audit classifies a node by this record, never by reading it again:
    a node may go (a toast timing out) between two calls, and what could
    still be read of it then is nothing."""

    __slots__ = ('node', 'role', 'role_name', 'name', 'extents', 'path', 'above')

    def __init__(self, node, index, above, probe=None):
        Atspi = _dogtail['Atspi']
        self.node, self.above = node, above
        try:
            self.role = node.getRole()
            if probe is not None:
                probe(node, 'role')
            self.role_name = Atspi.role_get_name(self.role) or '?'
            self.name = node.name or ''
            try:
                box = Atspi.Component.get_extents(node, Atspi.CoordType.WINDOW)
                self.extents = (box.x, box.y, box.width, box.height)
            except Exception:
                if is_gone(node):
                    raise
                self.extents = None   # no Component (a GtkStackPage)
        except Exception as error:
            where = above[-1].path + ' > ' if above else ''
            raise Gone(f'{where}{getattr(self, "role_name", "?")}[{index}]') from error
        part = f'{self.role_name}[{index}]' + (f' {self.name!r}' if self.name else '')
        self.path = f'{above[-1].path} > {part}' if above else part

    def sized(self):
        return self.extents is None or (self.extents[2] > 0 and self.extents[3] > 0)

    def toplevel(self):
        return self.above[0] if self.above else self

    def within(self, test):
        return any(test(a) for a in self.above)


def seen_scope(scope):
    """The record of an audit's scope, with its ancestors up to its window
    (read up from it: the scope is what the view shows, and stays)."""
    chain = []
    n = scope
    while n is not None and role(n) not in (None, A().ROLE_APPLICATION):
        chain.append(n)
        n = parent(n)
    above = ()
    for n in reversed(chain):
        try:
            index = n.getIndexInParent()
        except Exception:
            index = '?'
        record = Seen(n, index, above)
        above = above + (record,)
    return above[-1]


def context_of(seen, ids):
    """Text near an unnamed control, to find it in the .ui files: a label in
    it, the nearest named thing around it, and the page or window it is on
    (GTK 4.8 names unlabelled widgets after their type). From the record;
    only the label and the description are read now, if still there."""
    hints = []
    for n in walk(seen.node, prune_unsized=False):
        if n is not seen.node and role(n) == A().ROLE_LABEL and not is_unnamed(name(n), ids):
            hints.append(f'contains the label {name(n)!r}')
            break
    near = page = None
    for a in reversed(seen.above):
        if near is None and a.name and not is_unnamed(a.name, ids):
            near = f'in {a.role_name} {a.name!r}'
        if page is None and (re.match(r'^Latchkey\w+$', a.name) or a is seen.toplevel()):
            page = f'on {a.name or a.role_name}'
    hints += [h for h in (near, page) if h]
    try:
        if seen.node.description:
            hints.append(f'description {seen.node.description!r}')
    except Exception:
        pass
    return '; '.join(hints)


# Known defects of the toolkit's own widgets, which the app cannot name.
# They are listed in the output and do not fail the test; anything else
# does. Each is (why, test on the unnamed node's record). What they read
# beyond the record is of the window, which stays.

def _actions(node):
    try:
        return set(node.actions.keys())
    except Exception:
        return set()


TOOLKIT_DEFECTS = [
    ("libadwaita 1.2: the close button of a toast (AdwToast) has no accessible name",
     lambda s: s.role_name == 'push button' and s.within(lambda a: a.name == 'AdwToastWidget')),
    ("GTK 4.8: the row of the GtkListView inside an AdwComboRow, which shows its value, is not named "
     "after its label, and GTK 4.8 has no API to name it (the combo row itself is named)",
     lambda s: s.role_name == 'list item' and s.within(lambda a: a.name == 'GtkListView') and
     s.within(lambda a: a.role == A().ROLE_COMBO_BOX)),
    ("GTK 4.8: the search button in the header of a GtkShortcutsWindow has no accessible name",
     lambda s: s.role_name == 'push button' and s.name == 'GtkImage' and
     find(s.toplevel().node, where=lambda a: name(a) == 'GtkShortcutLabel', shown=False) is not None),
    ("libadwaita 1.2: AdwAboutWindow's own widgets (the app only gives it strings)",
     lambda s: s.role_name not in ('frame', 'dialog', 'window') and 'about.debug' in _actions(s.toplevel().node)),
]


def toolkit_defect(seen):
    for why, test in TOOLKIT_DEFECTS:
        try:
            if test(seen):
                return why
        except Exception:
            continue
    return None


class AuditResult:
    def __init__(self, findings, checked, gone, toasts):
        self.findings = findings   # dicts, see report()
        self.checked = checked     # controls, windows and images looked at
        self.gone = gone           # paths of nodes that went before they were read whole
        self.toasts = toasts       # paths of the toasts (AdwToastWidget) met


def audit(scope, ids, view, seen, skip=(), probe=None):
    """Controls under scope, laid out, without an accessible name. Images
    count unless they are part of a named control (the control's name is
    what is read). Returns an AuditResult: the new findings, the number of
    controls checked, the nodes that went away before they could be read
    whole (the view was not settled: the caller audits again) and the toasts
    met. A node read whole is judged by that reading even if it goes right
    after. `seen`
    dedupes across views by role, name and where (without child indices:
    the leaflet reorders its pages). probe(node, stage) is called after a
    node's role is read ('role') and after the whole record ('read'): tests
    make nodes go at those moments."""
    controls, images = control_roles(), image_roles()
    windows = {A().ROLE_FRAME, A().ROLE_DIALOG, A().ROLE_WINDOW}
    findings, gone, toasts_seen = [], [], []
    checked = 0

    def visit(record, named_control):
        nonlocal checked
        if probe is not None:
            probe(record.node, 'read')
        if not record.sized() or any(record.node == s for s in skip):
            return
        if record.name == 'AdwToastWidget':
            toasts_seen.append(record.path)
        r, unnamed = record.role, is_unnamed(record.name, ids)
        if r in windows:
            checked += 1
            if unnamed:
                report(record)
        elif r in controls:
            checked += 1
            if unnamed:
                report(record)
            named_control = named_control or not unnamed
        elif r in images:
            checked += 1
            if not named_control and unnamed:
                report(record)
        node = record.node
        try:
            kids = [(i, node.get_child_at_index(i)) for i in range(node.get_child_count())]
        except Exception:
            if is_gone(node):
                gone.append(record.path + ' (its children)')
                return
            kids = []
        above = record.above + (record,)
        for index, child in kids:
            if child is None:
                continue
            try:
                child_record = Seen(child, index, above, probe)
            except Gone as error:
                gone.append(str(error))
                continue
            visit(child_record, named_control)

    def report(record):
        key = (record.role_name, record.name, re.sub(r'\[\d+\]', '', record.path))
        if key in seen:
            return
        seen.add(key)
        findings.append({'view': view, 'role': record.role_name, 'name': record.name, 'path': record.path,
                         'context': context_of(record, ids), 'toolkit': toolkit_defect(record)})

    try:
        top = seen_scope(scope)
    except Gone as error:
        gone.append(str(error))
    else:
        visit(top, False)
    return AuditResult(findings, checked, gone, toasts_seen)


def format_findings(findings):
    lines = []
    for f in findings:
        lines.append(f"[{f['view']}] {f['role']} named {f['name']!r}: {f['context']}\n    {f['path']}")
        if f.get('toolkit'):
            lines.append(f"    toolkit defect, not the app's: {f['toolkit']}")
    return '\n'.join(lines)


# TAP

class Tap:
    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.count = 0
        self.failed = 0

    def print(self, line):
        print(line, file=self.out, flush=True)

    def ok(self, passed, description, diagnostics=''):
        self.count += 1
        if not passed:
            self.failed += 1
        self.print(f"{'ok' if passed else 'not ok'} {self.count} - {description}")
        for line in diagnostics.splitlines():
            self.print(f'# {line}')

    def done(self):
        self.print(f'1..{self.count}')
        return 1 if self.failed else 0

    def bail(self, error):
        text = ''.join(traceback.format_exception(error)) if isinstance(error, BaseException) else str(error)
        for line in text.splitlines():
            self.print(f'# {line}')
        self.print(f'Bail out! {str(error).splitlines()[0] if str(error) else type(error).__name__}')


def dumps(value):
    return json.dumps(value)
