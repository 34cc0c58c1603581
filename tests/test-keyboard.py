#!/usr/bin/python3
# test-keyboard.py: the whole app with the keyboard alone
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs itself inside build-aux/headless-session.sh (its own display, bus and
# keyring) with accessibility on. Only key events reach the app (XTest,
# through AT-SPI's generate_keyboard_event; under Wayland, Mutter's
# RemoteDesktop virtual keyboard: lkui.Keys): no pointer, no AT-SPI actions.
# After every key the focused widget (the AT-SPI object with the focused
# state) must be named and on screen; the test reads it the way Orca does.
#
# The owner enrols a demo car key from the main menu (F10), opens it, shares
# it with an activation code, copies the link; then receives it in the same
# app, as another device would: the receive view by its accelerator
# (Ctrl+O), paste, Accept, the code typed; the owner confirms and signs
# from the Shares view (Alt+2). Both sides end done.
#
# Every focus it saw goes to $G_TEST_BUILDDIR/artifacts/keyboard-focus.txt,
# with screenshots keyboard-NN-STEP.png.

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'ui'))

import lkui  # noqa: E402
from lkui import A, log, name, role_name, wait_for  # noqa: E402

class Keyboard:
    def __init__(self, app, tap, artifacts):
        self.app = app
        self.tap = tap
        self.artifacts = artifacts
        self.Atspi = lkui._dogtail['Atspi']
        self.log = []
        self.shots = 0
        self.bad = []
        self.unreported = []
        # The focus as it was when the last key went out. Keys travel apart
        # from the accessibility bus (XTest, the compositor), so a read
        # right after a press can still see the focus from before it;
        # acting on that read sent the next key while the first was in
        # flight, and the focus ended one control further than the test
        # believed (an arrow that skipped the menu item, a Return on the
        # wrong button). So a read that follows a key waits for the focus
        # to leave this one: each key's effect is seen before the next.
        self.pressed_from = None

    def press(self, combo):
        """A key or a combination: 'Tab', 'Control_L+o', 'Shift_L+Tab'
        (lkui.Keys: XTest under X11, Mutter's RemoteDesktop under Wayland)."""
        self.pressed_from = self.focused()
        self.app.keys().press(combo)

    def type(self, text):
        """Characters into the focused entry (which GTK 4.8 does not
        report focused): no focus to follow."""
        for ch in text:
            self.app.keys().press(ch)

    def focused(self):
        """The focused object of the app's windows, or None."""
        for window in self.app.windows():
            for node in lkui.walk(window, prune_unsized=False):
                try:
                    if A().STATE_FOCUSED in lkui.states(node):
                        return node
                except Exception:
                    continue
        return None

    def moved_focus(self):
        """The focus, once it is not where the last key found it; else None."""
        node = self.focused()
        return node if node is not None and node != self.pressed_from else None

    def wait_focus(self, step, entry=True):
        """The focused object after a key, once it has left where the key
        found it; None, logged, when GTK 4.8 does not report it: the text
        inside an AdwEntryRow never gets the focused state on the
        accessibility bus (a toolkit defect; the screenshot shows the
        ring). Such steps are listed, not failed."""
        # Where a focus is due (no entry row), it gets longer: a button
        # that starts work (Confirm and Sign) loses the focus while the work
        # runs, and under ASan that outlasted 3 s.
        try:
            return wait_for(self.moved_focus, f'a focus ({step})', timeout=3 if entry else 15)
        except lkui.Timeout:
            if self.pressed_from is not None and self.focused() == self.pressed_from:
                return self.pressed_from   # it stayed: judged as it is

            if not entry:
                self.bad.append(f'{step}: the focus is nowhere')
                self.log.append(f'{step}\tNOWHERE')
                return None
            self.unreported.append(step)
            self.log.append(f'{step}\tUNREPORTED (GTK 4.8: an entry row\'s focus)')
            return None

    def check_focus(self, step, expect=None, entry=False):
        """The focus is on something named and on screen (and matching
        expect, a regex on its name, if given), within a few seconds: a page
        sliding in has its controls off the window until its transition
        ends (seen under ASan), so what is judged is where the focus
        settles."""
        def judge():
            node = self.moved_focus()
            if node is None:
                return None
            box = lkui.extents(node)
            text = name(node)
            window = lkui.extents(self.app.frame)
            visible = box is not None and box[2] > 0 and box[3] > 0 and window is not None and \
                box[0] + box[2] > 0 and box[1] + box[3] > 0 and box[0] < window[2] and box[1] < window[3]
            named = bool(text) and not re.match(r'^Gtk[A-Z]|^Adw[A-Z]', text)
            return node, text, role_name(node), box, visible, named
        last = []

        def good():
            seen = judge()
            if seen is None:
                return None
            last[:] = [seen]
            node, text, role, box, visible, named = seen
            if expect is not None and not re.search(expect, text or ''):
                return None
            return seen if visible and named else None
        if self.wait_focus(step, entry) is None:
            return None
        try:
            node, text, role, box, _, _ = wait_for(good, f'the focus after {step}', timeout=10)
        except lkui.Timeout:
            if last and (expect is None or re.search(expect, last[0][1] or '')):
                node, text, role, box, visible, named = last[0]
                self.log.append(f'{step}\t{role}\t{text!r}\t{box}')
                self.bad.append(f'{step}: focus on {role} {text!r} at {box} is not ' +
                                ('named' if not named else 'visible'))
                return node
            node = self.focused()
            what = f'{role_name(node)} {name(node)!r} {lkui.extents(node)}' if node is not None else 'nothing'
            if node is not None and node == self.pressed_from:
                what += ' (where the key found it)'
            self.bad.append(f'{step}: focus on {what}' + (f', expected {expect!r}' if expect else ''))
            self.log.append(f'{step}\tFAILED\t{what}')
            return None
        self.log.append(f'{step}\t{role}\t{text!r}\t{box}')
        return node

    def move(self, key, step):
        """Presses a key that moves the focus (Tab, an arrow) and returns the
        focus once it has moved, or None (an entry row that GTK 4.8 does
        not report). A focus that stays (one control only) is returned as
        it is after a few seconds."""
        self.press(key)
        return self.wait_focus(step)

    def arrow_to(self, pattern, step, key='Down', limit=12):
        """Arrows (in a menu) until the focus is on an item whose name
        matches; one key at a time, each seen to arrive."""
        regex = re.compile(pattern)
        node = self.wait_focus(step, entry=False)   # the last key's effect first
        for _ in range(limit):
            if node is not None and regex.search(name(node) or ''):
                return node
            node = self.move(key, step)
        raise AssertionError(f'{step}: no item matching {pattern!r} within {limit} presses of {key}')

    def tab_to(self, pattern, step, role=None, limit=60, backwards=False):
        """Tabs until the focus is on a control whose name matches."""
        regex = re.compile(pattern)
        for _ in range(limit):
            node = self.move('Shift_L+Tab' if backwards else 'Tab', f'{step} (tab)')
            if node is None:
                continue
            text = name(node)
            self.log.append(f'{step} (tab)\t{role_name(node)}\t{text!r}\t{lkui.extents(node)}')
            if not text or re.match(r'^Gtk[A-Z]|^Adw[A-Z]', text):
                self.bad.append(f'{step}: tabbing passed an unnamed {role_name(node)} at {lkui.extents(node)}')
            if regex.search(text or '') and (role is None or role_name(node) == role):
                return node
        raise AssertionError(f'{step}: no control matching {pattern!r} within {limit} tabs')

    def shot(self, step):
        self.shots += 1
        lkui.screenshot(os.path.join(self.artifacts, f'keyboard-{self.shots:02d}-{step}.png'), app=self.app)


def link_text(page):
    """What the receive view's Link entry holds."""
    entry = lkui.find(page, A().ROLE_TEXT, 'Link', shown=False)
    if entry is None:
        return ''
    text = entry.queryText()
    return text.getText(0, text.characterCount).strip()


def scenario(app, tap, artifacts):
    kb = Keyboard(app, tap, artifacts)
    try:
        steps(app, tap, artifacts, kb)
    finally:
        with open(lkui.artifact(artifacts, 'keyboard-focus.txt'), 'w') as f:
            f.write('\n'.join(kb.log) + '\n')


def steps(app, tap, artifacts, kb):
    frame = app.frame
    lkui.wait_find(app.main_page(), A().ROLE_PUSH_BUTTON, 'Receive a Key…', what='the empty wallet')

    # Enrol a demo car key: F10 opens the main menu.
    kb.press('F10')
    kb.check_focus('main menu (F10)')
    kb.arrow_to(r'^Enrol a Demo Key', 'main menu: Enrol a Demo Key')
    kb.press('Return')
    kb.arrow_to(r'^Car Key$', 'enrol menu: Car Key')
    kb.check_focus('enrol menu: Car Key', r'^Car Key$')
    kb.press('Return')
    wait_for(lambda: app.key_row('My Car'), 'the car key in the wallet')
    # The new key has the focus (before the fix: nothing had, the menu and
    # the rows it was in being gone).
    kb.check_focus('the key just enrolled', r'^My Car$')
    kb.shot('enrolled')
    tap.ok(True, 'enrolled a demo car key from the main menu (F10, arrows, Enter)')

    # The scan view from the main menu, and back: the focus comes back to
    # something shown, from where Tab goes on (before the fix it stayed on
    # the closed menu's item, reported nowhere, and Tab moved nothing).
    kb.press('F10')
    kb.check_focus('main menu again (F10)')
    kb.arrow_to(r'^Scan', 'main menu: Scan')
    kb.check_focus('main menu: Scan', r'^Scan')
    kb.press('Return')
    app.wait_page('scan')
    kb.check_focus('the scan view')
    kb.press('Alt_L+Left')
    app.wait_main_page()
    kb.check_focus('back from the scan view (Alt+Left)')
    kb.tab_to(r'^My Car$', 'the key again', role='list item')
    tap.ok(True, 'the scan view from the main menu and back (F10, Enter, Alt+Left), then Tab to the key')

    # Open it: Enter on its row.
    kb.press('Return')
    page = app.wait_page('credential')
    kb.check_focus('the key details')
    kb.shot('key-details')
    kb.tab_to(r'Share', 'Share…', role='push button')
    kb.press('Return')
    page = app.wait_page('share')
    kb.check_focus('the share options')
    kb.shot('share-options')
    kb.tab_to(r'Create Invitation', 'Create Invitation', role='push button')
    kb.press('Return')
    lkui.wait_find(page, A().ROLE_PUSH_BUTTON, 'Copy Link', what='the invitation')
    kb.check_focus('the invitation')
    code = wait_for(lambda: next((re.sub(r'\D', '', name(n)) for n in lkui.walk(page)
                                  if role_name(n) == 'label' and re.fullmatch(r'\d{3} \d{3}', name(n))), None),
                    'the activation code')
    kb.tab_to(r'^Copy Link$', 'Copy Link', role='push button')
    kb.press('Return')
    wait_for(lambda: app.toast(r'[Cc]opied'), 'the link copied')
    kb.shot('invitation')
    tap.ok(True, 'opened the key, shared it with a code, copied the link (Tab, Enter)')

    # Receive it, as another device: Ctrl+O, paste, Accept, the code.
    kb.press('Control_L+o')
    page = app.wait_page('receive')
    kb.check_focus('the receive view (Ctrl+O)', r'Link', entry=True)
    kb.press('Control_L+v')
    # The paste is read from the clipboard asynchronously: Return only once
    # the link is in the entry (pressed at once, it could find it empty).
    link = wait_for(lambda: link_text(page) or None, 'the link pasted into the Link entry (Ctrl+V)')
    tap.ok(re.match(r'^(https?://|latchkey:)', link) is not None, f'the link pasted ({len(link)} characters)')
    kb.press('Return')
    lkui.wait_find(page, A().ROLE_PUSH_BUTTON, 'Accept', what='the preview')
    kb.check_focus('the preview')
    kb.shot('receive-preview')
    kb.tab_to(r'(^| )Accept$', 'Accept', role='push button')
    kb.press('Return')
    lkui.wait_find(page, A().ROLE_TEXT, 'Activation Code', what='the code page')
    kb.check_focus('the code page', r'Activation Code', entry=True)
    kb.type(code)
    kb.press('Return')
    tap.ok(True, 'received with the keyboard: Ctrl+O, Ctrl+V, Enter, Accept, the code, Enter')
    kb.shot('receive-code-given')

    # The owner confirms: the Shares view (Alt+2), the share, Confirm and Sign.
    for _ in range(5):   # Alt+Left: back, page by page
        if not app.pages():
            break
        before = set(app.pages())
        kb.press('Alt_L+Left')
        wait_for(lambda: set(app.pages()) != before, 'the previous page (Alt+Left)')
        kb.check_focus('back (Alt+Left)')
    app.wait_main_page()
    kb.press('Alt_L+2')
    shares = lkui.wait_find(app.main_page(), A().ROLE_LIST, 'Shares', what='the Shares list')
    wait_for(lambda: any(re.search(r'confirmation', lkui.label(r) or '') or 'confirmation' in
                         ' '.join(name(n) for n in lkui.walk(r)) for r in lkui.children(shares)),
             'the share waiting for confirmation')
    kb.tab_to(r'My Car', 'the share in the list')
    kb.press('Return')
    page = app.wait_page('share')
    kb.tab_to(r'Confirm and Sign', 'Confirm and Sign', role='push button')
    kb.shot('share-confirm')
    kb.press('Return')
    lkui.wait_find(page, A().ROLE_LABEL, 'Done: the key was received', what='the share done')
    kb.check_focus('the share done')
    kb.shot('share-done')
    tap.ok(True, 'confirmed and signed from the Shares view (Alt+2, Tab, Enter)')

    tap.ok(not kb.bad, f'at every step the focus was named and on screen ({len(kb.log)} focus checks, '
           f'{len(kb.unreported)} in entry rows that GTK 4.8 does not report)',
           '\n'.join(kb.bad + [f'unreported: {u}' for u in kb.unreported]))


def run_in_session(tap_path):
    lkui.terminate_on_signals()
    tap = lkui.Tap(open(tap_path, 'w', buffering=1))
    workdir = tempfile.mkdtemp(prefix='latchkey-kb-')
    artifacts = os.path.join(os.environ.get('G_TEST_BUILDDIR', workdir), 'artifacts')
    os.makedirs(artifacts, exist_ok=True)
    relay = partner = app = None
    try:
        lkui.import_dogtail()
        relay, partner = lkui.start_services(workdir)
        app = lkui.App(workdir, relay.url, partner.url).ready()
        scenario(app, tap, artifacts)
        app, quitting = None, app
        quitting.quit()
        tap.ok(True, 'the app quit cleanly')
        status = tap.done()
    except BaseException as error:
        if app is not None:
            log('app output:\n' + app.output()[-20000:])
        tap.bail(error)
        status = 1
    finally:
        for process in (app, relay, partner):
            if process is not None:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    return status


def main():
    if os.environ.get('_LATCHKEY_KB_TAP'):
        return run_in_session(os.environ['_LATCHKEY_KB_TAP'])
    lkui.terminate_on_signals()
    with tempfile.NamedTemporaryFile(prefix='latchkey-kb-', suffix='.tap') as tap_file:
        env = dict(os.environ, _LATCHKEY_KB_TAP=tap_file.name)
        session = subprocess.Popen([os.environ['HEADLESS_SESSION'], sys.executable, os.path.abspath(__file__)],
                                   env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),
                                   preexec_fn=lkui.die_with_parent)
        try:
            status = session.wait()
        finally:
            lkui.kill_tree(session)
        with open(tap_file.name) as f:
            sys.stdout.write(f.read())
    return status


if __name__ == '__main__':
    sys.exit(main())
