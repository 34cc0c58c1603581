#!/usr/bin/python3
# test-a11y.py: every control of every view has an accessible name
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs itself inside build-aux/headless-session.sh (its own Xvfb, bus and
# keyring) with accessibility on. Daemons the session's bus starts (the
# accessibility registry) print on the stdout they inherit, so the walk
# writes its TAP to a file of its own, which the outer process prints. Starts a relay and a partner on loopback and the
# real latchkey binary, and walks the views a user can reach, through AT-SPI
# as a screen reader sees them (dogtail): the empty and full wallet, the
# menus, the shares, a key's details and its delete dialog, the share
# options, the share with its QR code and its dialogs, the receive view's
# link form, a bad link, an error page, a preview, the activation code (right
# and wrong), a received key, the scan view (a test pattern for a camera)
# and its menu, Preferences, the keyboard shortcuts and About.
#
# A view is audited once it is settled: its toasts, which go by themselves
# after a few seconds, are dismissed first. A toast can still come during
# the audit: one queued behind the last dismissed shows a moment after it
# went (seen once under load, issue 18), so a view audited with a toast in
# it is settled and audited again, and fails only if toasts keep coming.
# The audit judges each node by what it read of it at once
# (role, name, extents, where), so a node that goes a moment later is not
# misread; one that goes before it could be read whole makes the audit
# start over. Both are checked on purpose with a toast made to go in the
# middle of the audit (toast_checks).
#
# In each view, every control (buttons, toggles, menu buttons and items,
# switches, entries, rows, tabs, and images that are not part of a named
# control) must have an accessible name. All the offenders are listed, with
# where they are, before the test fails. A screenshot of each view goes to
# $G_TEST_BUILDDIR/artifacts/a11y-NN-VIEW.png.
#
# A key shared with us comes from "Ben", latchkey-cli with a bus and keyring
# of its own, as in tests/lk-test-actor.c.

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ui'))

import lkui  # noqa: E402
from lkui import A, click, find, laid_out, log, name, role, set_text, wait_find, wait_for  # noqa: E402


class CliDevice:
    """Another person's device: latchkey-cli with a private session bus and
    an unlocked gnome-keyring, no display."""

    PASSWORD = b'latchkey-a11y'

    def __init__(self, workdir, relay_url, partner_url):
        self.dir = tempfile.mkdtemp(prefix='device-', dir=workdir)
        env = {k: v for k, v in os.environ.items() if k not in ('DISPLAY', 'WAYLAND_DISPLAY', 'DBUS_SESSION_BUS_ADDRESS')}
        for var, sub in (('XDG_RUNTIME_DIR', 'run'), ('XDG_DATA_HOME', 'data'), ('XDG_CONFIG_HOME', 'config'),
                         ('XDG_CACHE_HOME', 'cache'), ('HOME', 'home')):
            os.makedirs(os.path.join(self.dir, sub), mode=0o700)
            env[var] = os.path.join(self.dir, sub)
        env.update(LATCHKEY_RELAY_URL=relay_url, LATCHKEY_PARTNER_URL=partner_url)
        self.bus = subprocess.Popen(['dbus-daemon', '--session', '--nofork', '--print-address=1',
                                     f'--address=unix:path={self.dir}/run/bus'],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                                    preexec_fn=lkui.die_with_parent)
        address, _ = lkui.read_line(self.bus.stdout, lkui.DEADLINE, 'dbus-daemon')
        env['DBUS_SESSION_BUS_ADDRESS'] = address
        self.env = env
        # A fresh data directory: the login keyring is created unlocked.
        subprocess.run(['gnome-keyring-daemon', '--unlock', '--components=secrets'], input=self.PASSWORD,
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=lkui.DEADLINE)
        # It forks; its bus name is the event.
        wait_for(lambda: subprocess.run(['gdbus', 'call', '--session', '--dest', 'org.freedesktop.DBus',
                                         '--object-path', '/org/freedesktop/DBus', '--method',
                                         'org.freedesktop.DBus.NameHasOwner', 'org.freedesktop.secrets'],
                                        env=env, capture_output=True, text=True).stdout.strip() == '(true,)',
                 "the other device's keyring")

    def cli(self, *args, input_text=None):
        run = subprocess.run([os.environ['LATCHKEY_CLI'], *args], input=input_text, env=self.env, cwd=self.dir,
                             capture_output=True, text=True, timeout=lkui.DEADLINE)
        if run.returncode != 0:
            raise AssertionError(f'latchkey-cli {" ".join(args)}: {run.returncode}\n{run.stdout}\n{run.stderr}')
        return run.stdout

    def close(self):
        lkui.kill_tree(self.bus)   # the keyring leaves with its bus


def closed_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Walk:
    def __init__(self, app, tap, artifacts, ids):
        self.app = app
        self.tap = tap
        self.artifacts = artifacts
        self.ids = ids
        self.findings = []
        self.seen = set()
        self.views = 0

    def view(self, view):
        """Audits what the app shows, and saves a screenshot, once the view
        is settled: no toast left (they go by themselves, see
        lkui.dismiss_toasts). Nodes that still go while being read, or a
        toast that came during the audit, make it start over; a view still
        audited with a toast in it the third time fails."""
        self.views += 1
        started = time.monotonic()
        for attempt in range(3):
            self.settle()
            seen, found, checked, gone, toasts = set(self.seen), [], 0, [], []
            for window, skip in self.scopes():
                result = lkui.audit(window, self.ids, view, seen, skip)
                found, checked = found + result.findings, checked + result.checked
                gone, toasts = gone + result.gone, toasts + result.toasts
            if not gone and not toasts:
                break
            log(f'{view}: {len(gone)} nodes went away and {len(toasts)} toasts came during the audit, again:\n  ' +
                '\n  '.join(gone + toasts))
        self.seen = seen
        self.findings += found
        audited = time.monotonic()
        lkui.screenshot(os.path.join(self.artifacts, f'a11y-{self.views:02d}-{view}.png'), app=self.app)
        problems = ''.join(f'\nwent away while being read: {g}' for g in gone) + \
            ''.join(f'\naudited while shown (not settled): {t}' for t in toasts)
        self.tap.ok(not gone and not toasts, f'{view}: {checked} controls checked (audit {audited - started:.1f} s, '
                    f'screenshot {time.monotonic() - audited:.1f} s)', lkui.format_findings(found) + problems)

    def settle(self):
        for window in self.app.windows():
            lkui.dismiss_toasts(window)

    def toast_checks(self, page):
        """Toasts, which go by themselves, against the audit. A view with a
        toast just shown is audited once the toast is gone, and so is one
        where a toast comes during the audit; and a toast
        made to go while the audit reads its close button (right after its
        role, then right after its whole record) yields no finding against
        the app: half read, the button is a node that went; read whole, it
        is the toolkit's known defect. (The flake of issue 18: a toast
        timing out mid-audit left a button named '' with role '?'.)"""
        copy = self.button(page, 'Copy Link')
        click(copy)
        wait_for(lambda: lkui.toasts(self.app.frame), 'the “Link copied” toast')
        self.view('share-link-copied')

        # A toast that comes once the view settled (one queued behind the
        # last dismissed shows a moment after it went: issue 18) is met by
        # the audit: the view is settled and audited again, not failed.
        settle, came = self.settle, []

        def settle_then_toast():
            settle()
            if not came:
                came.append(True)
                click(copy)
                wait_for(lambda: lkui.toasts(self.app.frame), 'a toast coming after the view settled')
        self.settle = settle_then_toast
        try:
            self.view('share-toast-during-audit')
        finally:
            self.settle = settle

        for stage in ('role', 'read'):
            result, close = self.toast_going(copy, stage)
            ours = [f for f in result.findings if not f['toolkit']]
            mine = [f for f in result.findings if f['path'] == close]
            if stage == 'role':
                passed = not result.findings and re.sub(r" '[^']*'$", '', close) in result.gone
                what = 'a toast going while its close button is read is a node gone, not an unnamed control'
            else:
                # (Its children, read after it, went with it.)
                passed = not ours and all(g.startswith(close + ' ') for g in result.gone) and len(mine) == 1 and \
                    mine[0]['role'] == 'push button' and 'AdwToast' in (mine[0]['toolkit'] or '')
                what = 'a toast going once its close button is read is judged by what the button was'
            self.tap.ok(passed, what, f'close button: {close}\nfindings:\n' + lkui.format_findings(result.findings) +
                        ''.join(f'\nwent away while being read: {g}' for g in result.gone))

    def toast_going(self, copy, stage):
        """Shows a toast and audits it, dismissing it and waiting for its
        close button's node to be gone when the audit is at `stage` of that
        button. Returns the audit and the button's path. A toast that goes
        by itself before the audit reaches the button is shown again."""
        for attempt in range(3):
            lkui.dismiss_toasts(self.app.frame)
            click(copy)
            toast = wait_for(lambda: next(iter(lkui.toasts(self.app.frame)), None), 'a toast')
            close = wait_for(lambda: lkui.toast_close_button(toast), "the toast's close button")
            where = lkui.path(close)
            dismissed = []

            def probe(node, at):
                if at == stage and not dismissed and node == close:
                    dismissed.append(True)
                    try:
                        close.doActionNamed('click')
                    except Exception:   # going by itself already
                        pass
                    wait_for(lambda: lkui.is_gone(close), "the toast's close button to go")
            result = lkui.audit(toast, self.ids, f'toast-going-after-{stage}', set(), probe=probe)
            if dismissed:
                return result, where
            log(f'the toast went before the audit reached its close button ({stage}), once more')
        raise AssertionError(f'no toast stayed long enough to be audited ({stage})')

    def scopes(self):
        """What the view shows: every window, but of the main window's
        leaflet only the pushed pages (or the main page if none is): the
        others keep their last extents and were audited when shown."""
        pushed = list(self.app.pages().values())
        current = pushed or [self.app.main_page()]
        hidden = [page for page in lkui.children(self.app.leaflet()) if page not in current]
        for window in self.app.windows():
            yield window, (hidden if window == self.app.frame else [])

    # Helpers over the app's window

    def button(self, scope, text, role_=None):
        return wait_find(scope, role_ or A().ROLE_PUSH_BUTTON, text, what=f'the {text!r} button')

    def press(self, scope, text, role_=None):
        click(self.button(scope, text, role_))

    def open_menu(self, text):
        """Opens a menu button's popover by its toggle (the inner button)."""
        toggle = wait_find(self.app.frame, A().ROLE_PUSH_BUTTON, text,
                           where=lambda n: 'click' in n.actions, what=f'the {text!r} menu button')
        click(toggle)
        return wait_for(lambda: find(toggle.parent, A().ROLE_MENU), f'the {text!r} menu')

    def menu_item(self, menu, text):
        return wait_for(lambda: find(menu, A().ROLE_MENU_ITEM, text, shown=False), f'the menu item {text!r}')

    def wait_key(self, title):
        return wait_for(lambda: self.app.key_row(title), f'the key {title!r} in the wallet')

    def dialog(self, title):
        return self.app.wait_window(title)

    def close_window(self, window, button='Close'):
        """Closes a window and waits for it to be gone, counting the app's
        windows without listing them: asking GTK 4.8 for a window while it
        is being destroyed makes it crash (a NULL object path)."""
        count = self.app.node.get_child_count()
        self.press(window, button)
        wait_for(lambda: self.app.node.get_child_count() < count, f'the window {name(window)!r} to close')

    def run(self, relay, partner, workdir):
        app, frame = self.app, self.app.frame
        main = app.main_page()

        # The empty wallet, and its enrol menu.
        wait_find(main, A().ROLE_PUSH_BUTTON, 'Receive a Key…', what='the empty wallet')
        self.view('wallet-empty')
        menu = self.open_menu('Enrol a Demo Key')
        wait_for(lambda: laid_out(find(menu, A().ROLE_MENU_ITEM, 'Car Key', shown=False)), 'the enrol menu')
        self.view('enrol-menu')
        click(self.menu_item(menu, 'Car Key'))
        self.wait_key('My Car')

        # The Shares view, empty.
        click(wait_find(main, A().ROLE_PAGE_TAB, 'Shares'))
        wait_find(main, A().ROLE_LABEL, 'No Shares', what='the empty Shares view')
        self.view('shares-empty')
        click(wait_find(main, A().ROLE_PAGE_TAB, 'Keys'))

        # The main menu and its enrol submenu.
        menu = self.open_menu('Main Menu')
        wait_find(menu, A().ROLE_MENU_ITEM, 'Preferences', what='the main menu')
        self.view('main-menu')
        click(self.menu_item(menu, 'Enrol a Demo Key'))
        wait_for(lambda: laid_out(find(menu, A().ROLE_MENU_ITEM, 'Room or Door Key', shown=False)),
                 'the enrol submenu')
        self.view('main-menu-enrol')
        click(self.menu_item(menu, 'Room or Door Key'))
        self.wait_key('Hotel Room')
        menu = self.open_menu('Main Menu')
        click(self.menu_item(menu, 'Access Pass'))
        self.wait_key('Office Pass')
        wait_for(lambda: len(app.key_rows()) == 3 and all(laid_out(r) for r in app.key_rows()),
                 'three keys in the wallet')
        self.view('wallet')

        # A key's details, and the delete dialog.
        app.activate_row(app.key_row('My Car'))
        page = app.wait_page('credential')
        wait_find(page, A().ROLE_PUSH_BUTTON, 'Try It')
        self.view('key-details')
        self.press(page, 'Delete Key…')
        dialog = self.dialog('Delete “My Car”?')
        self.view('delete-dialog')
        self.close_window(dialog, 'Cancel')

        # Sharing: the options (a car: what the friend may do), the
        # invitation, the large code, the cancel dialog.
        self.press(page, 'Share…')
        page = app.wait_page('share')
        create = wait_find(page, A().ROLE_PUSH_BUTTON, 'Create Invitation')
        self.view('share-options')
        click(create)
        copy = wait_find(page, A().ROLE_PUSH_BUTTON, 'Copy Link', what='the invitation')
        link_row = lkui.ancestor(copy, A().ROLE_LIST_ITEM)
        link = wait_for(lambda: next((name(n) for n in lkui.walk(link_row)
                                      if role(n) == A().ROLE_LABEL and '/v1/m/' in name(n)), None), 'the link')
        self.view('share')
        self.toast_checks(page)
        self.press(page, 'Present')
        present = self.dialog('Scan to Receive the Key')
        self.view('share-present')
        self.close_window(present)
        self.press(page, 'Cancel Share')
        dialog = self.dialog('Cancel the Share?')
        self.view('share-cancel-dialog')
        self.close_window(dialog, 'Keep')
        app.back_to_main()

        # The Shares view with the share, and the share opened from it.
        click(wait_find(main, A().ROLE_PAGE_TAB, 'Shares'))
        shares = wait_find(main, A().ROLE_LIST, 'Shares', what='the Shares list')
        row = wait_for(lambda: find(shares, A().ROLE_LIST_ITEM), 'a share in the list')
        self.view('shares')
        app.activate_row(row)
        app.wait_page('share')
        self.view('share-from-list')
        app.back_to_main()
        click(wait_find(main, A().ROLE_PAGE_TAB, 'Keys'))

        # Receiving: the link form, a bad link, an unreachable relay.
        self.press(main, 'Receive a Key From a Link')
        page = app.wait_page('receive')
        entry = wait_find(page, A().ROLE_TEXT, 'Link')
        self.view('receive-link')
        set_text(entry, 'https://example.com/not-a-share-link')
        self.press(page, 'Continue')
        wait_for(lambda: find(page, A().ROLE_ALERT, where=lambda n: laid_out(n) and name(n)), 'the link error')
        self.view('receive-bad-link')
        unreachable = re.sub(r'^http://127\.0\.0\.1:\d+', f'http://127.0.0.1:{closed_port()}', link)
        set_text(entry, unreachable)
        self.press(page, 'Continue')
        wait_find(page, A().ROLE_PUSH_BUTTON, 'Try Again', what='the error page')
        self.view('receive-error')

        # A key Ben shares, with an activation code: the preview, the code,
        # a wrong code, the key received.
        ben = CliDevice(workdir, relay.url, partner.url)
        try:
            key = ben.cli('enroll', '--title', 'Seaside Hotel, Room 12', 'home').strip()
            out = ben.cli('share', key, '--no-qr', '--name', 'Ben', '--code')
        finally:
            ben.close()
        ben_link = re.search(r'^Link: (.*)$', out, re.M).group(1)
        code = re.search(r'^Activation code: (.*)$', out, re.M).group(1)
        app.back_to_main()
        self.press(main, 'Receive a Key From a Link')
        page = app.wait_page('receive')
        entry = wait_find(page, A().ROLE_TEXT, 'Link')
        set_text(entry, ben_link)
        self.press(page, 'Continue')
        accept = wait_find(page, A().ROLE_PUSH_BUTTON, 'Accept', what='the preview')
        self.view('receive-preview')
        click(accept)
        code_entry = wait_find(page, A().ROLE_TEXT, 'Activation Code', what='the code page')
        code_page = lkui.ancestor(code_entry, where=lambda n: name(n) == 'Enter the Activation Code')
        self.view('receive-code')
        set_text(code_entry, '000000' if code != '000000' else '111111')
        self.press(code_page, 'Continue')
        wait_for(lambda: find(code_page, A().ROLE_ALERT, where=lambda n: laid_out(n) and 'wrong' in name(n)),
                 'the wrong-code message')
        self.view('receive-wrong-code')
        set_text(code_entry, code)
        self.press(code_page, 'Continue')
        done = wait_find(page, A().ROLE_PUSH_BUTTON, 'Show in Wallet', what='the key to arrive')
        self.view('receive-done')
        click(done)
        app.wait_main_page()
        row = self.wait_key('Seaside Hotel, Room 12')
        wait_for(lambda: laid_out(row), 'the received key in the wallet')
        app.activate_row(row)
        page = app.wait_page('credential')
        wait_find(page, A().ROLE_PUSH_BUTTON, 'Try It')
        self.view('key-details-shared')
        app.back_to_main()

        # The scan view, with the test pattern for a camera, and its menu of
        # other sources. (Skipped by an app without a scan view.)
        menu = self.open_menu('Main Menu')
        scan = find(menu, A().ROLE_MENU_ITEM, re.compile(r'^Scan'), shown=False)
        if scan is not None:
            click(scan)
            page = app.wait_page('scan')
            # (GTK 4.8 makes a GtkPicture's alternative text its description.)
            wait_find(page, A().ROLE_IMAGE, where=lambda n: 'Camera view' in (name(n), n.description),
                      what='the viewfinder')
            self.view('scan')
            sources = self.open_menu('Scan From an Image')
            wait_find(sources, A().ROLE_MENU_ITEM, 'Open an Image…', what='the image sources menu')
            self.view('scan-sources-menu')
            click(find(page, A().ROLE_PUSH_BUTTON, 'Scan From an Image', where=lambda n: 'click' in n.actions))
            wait_for(lambda: find(page, A().ROLE_MENU) is None, 'the menu to close')
            app.back_to_main()
            menu = self.open_menu('Main Menu')

        # The windows of the main menu.
        click(self.menu_item(menu, 'Preferences'))
        prefs = self.dialog('Preferences')
        relay_entry = wait_find(prefs, A().ROLE_TEXT, 'Relay Address')
        self.view('preferences')
        set_text(relay_entry, 'http://relay.example.com')
        wait_for(lambda: A().STATE_INVALID in lkui.states(relay_entry), 'the address marked invalid')
        self.view('preferences-invalid')
        set_text(relay_entry, '')
        self.close_window(prefs)

        menu = self.open_menu('Main Menu')
        click(self.menu_item(menu, 'Keyboard Shortcuts'))
        shortcuts = wait_for(lambda: next((w for w in app.windows() if w != frame and
                                           find(w, A().ROLE_LABEL, 'Receive a Key From a Link')), None),
                             'the keyboard shortcuts window')
        self.view('shortcuts')
        self.close_window(shortcuts)

        menu = self.open_menu('Main Menu')
        click(self.menu_item(menu, 'About Latchkey'))
        about = wait_for(lambda: next((w for w in app.windows() if w != frame and
                                       find(w, A().ROLE_LABEL, 'Latchkey')), None), 'the about window')
        self.view('about')
        self.close_window(about)


def walk_in_session(tap_path):
    """Inside the session: the walk. TAP goes to tap_path."""
    lkui.terminate_on_signals()
    tap = lkui.Tap(open(tap_path, 'w', buffering=1))
    workdir = tempfile.mkdtemp(prefix='latchkey-a11y-')
    artifacts = os.path.join(os.environ.get('G_TEST_BUILDDIR', workdir), 'artifacts')
    source_root = os.environ['LATCHKEY_SOURCE_ROOT']
    relay = partner = app = None
    status = 1
    try:
        lkui.import_dogtail()
        relay, partner = lkui.start_services(workdir)
        # A camera for the scan view: a test pattern, without a code.
        camera = {'LATCHKEY_CAMERA_PIPELINE': 'videotestsrc pattern=smpte ! '
                                              'video/x-raw,width=320,height=240,framerate=5/1'}
        app = lkui.App(workdir, relay.url, partner.url, extra_env=camera).ready()
        walk = Walk(app, tap, artifacts, lkui.widget_names(source_root))
        walk.run(relay, partner, workdir)
        app, quitting = None, app
        quitting.quit()
        tap.ok(True, 'the app quit cleanly')
        relay, partner, stopping = None, None, (relay, partner)
        for service in stopping:
            service.stop()
        ours = [f for f in walk.findings if not f['toolkit']]
        theirs = [f for f in walk.findings if f['toolkit']]
        if theirs:
            log("Toolkit widgets without an accessible name (known defects, not failing):\n" +
                lkui.format_findings(theirs))
        report = 'Controls without an accessible name:\n' + lkui.format_findings(ours) if ours else ''
        tap.ok(not ours, f'every control of the app has an accessible name ({len(ours)} without)', report)
        if ours:
            print(report, file=sys.stderr)
        status = tap.done()
    except BaseException as error:
        if app is not None:
            log('app output:\n' + app.output()[-20000:])
        tap.bail(error)
    finally:
        for process in (app, relay, partner):
            if process is not None:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    return status


def run_session(tap_path):
    """The walk in a headless session; its stderr passes through. Returns
    its status and whether the session failed to start (lkui.XVFB_RACE)."""
    env = dict(os.environ, _LATCHKEY_A11Y_TAP=tap_path)
    session = subprocess.Popen([os.environ['HEADLESS_SESSION'], sys.executable, os.path.abspath(__file__)],
                               env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),
                               stderr=subprocess.PIPE, preexec_fn=lkui.die_with_parent)
    no_session = False
    try:
        for line in session.stderr:
            sys.stderr.buffer.write(line)
            sys.stderr.flush()
            no_session = no_session or lkui.XVFB_RACE.encode() in line
        status = session.wait()
    finally:
        lkui.kill_tree(session)
    return status, no_session


def main():
    """Outside: starts the session and passes the walk's TAP on."""
    if os.environ.get('_LATCHKEY_A11Y_TAP'):
        return walk_in_session(os.environ['_LATCHKEY_A11Y_TAP'])
    lkui.terminate_on_signals()
    with tempfile.NamedTemporaryFile(prefix='latchkey-a11y-', suffix='.tap') as tap_file:
        status, no_session = run_session(tap_file.name)
        if no_session and os.path.getsize(tap_file.name) == 0:
            log(f'the session did not start ({lkui.XVFB_RACE}), once more')
            status, no_session = run_session(tap_file.name)
        with open(tap_file.name) as f:
            sys.stdout.write(f.read())
    return status


if __name__ == '__main__':
    sys.exit(main())
