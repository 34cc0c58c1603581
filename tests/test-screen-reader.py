#!/usr/bin/python3
# test-screen-reader.py: every state change of a share and of a receipt is
# an event a screen reader speaks
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs itself inside build-aux/headless-session.sh (its own display, bus and
# keyring) with accessibility on, like test-a11y.py, and listens on the
# accessibility bus the way Orca does (Atspi.EventListener): name changes,
# text changes, and objects shown (alerts, labels). Another person's device,
# "Ben", is latchkey-cli with a bus and keyring of its own.
#
# A share of a car key with an activation code: the app shows the
# invitation; Ben opens it with a wrong code (the owner's device checks car
# codes), then the right one; the owner confirms; done. Then a receipt:
# Ben shares a room key with a code; the app previews it, takes a wrong
# code, then the right one; done. Then a receipt that fails (the relay is
# gone). For each state the test waits for an event from the app whose
# text says what happened, and fails naming the states that made none.
#
# Events and their text go to $G_TEST_BUILDDIR/artifacts/screen-reader-events.txt.

import os
import re
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'ui'))
sys.path.insert(0, HERE)

import lkui  # noqa: E402
from lkui import A, click, find, log, name, role, set_text, wait_find, wait_for  # noqa: E402

# The events Orca listens to for what changed on screen.
EVENTS = ('object:property-change:accessible-name', 'object:property-change:accessible-description',
          'object:text-changed:insert', 'object:state-changed:showing', 'object:state-changed:visible',
          'object:children-changed:add', 'object:announcement')


class Listener:
    """What the app said, as a screen reader hears it."""

    def __init__(self, app):
        self.Atspi = lkui._dogtail['Atspi']
        self.GLib = lkui._dogtail['GLib']
        self.pid = app.proc.pid
        self.heard = []
        self.listener = self.Atspi.EventListener.new(self.on_event)
        for event in EVENTS:
            self.listener.register(event)

    def on_event(self, event):
        try:
            source = event.source
            if source is None or source.get_process_id() != self.pid:
                return
            texts = []
            if isinstance(event.any_data, str) and event.any_data:
                texts.append(event.any_data)
            try:
                texts.append(source.get_name() or '')
            except Exception:
                pass
            try:
                texts.append(source.get_description() or '')
            except Exception:
                pass
            text = ' | '.join(t for t in texts if t)
            if text:
                self.heard.append((time.monotonic(), event.type, source.get_role_name(), text))
        except Exception:   # a node gone while read: nothing to speak
            pass

    def pump(self):
        context = self.GLib.MainContext.default()
        while context.iteration(False):
            pass

    def mark(self, scope=None):
        """Where the next step's events start. With a scope: reads it
        first, whole, as a screen reader does with what it is shown (GTK
        4.8 sends change events only for objects a client has read)."""
        if scope is not None:
            for _ in lkui.walk(scope, prune_unsized=False):
                pass
        self.pump()
        return len(self.heard)

    def wait_heard(self, since, pattern, what):
        """Waits for an event after `since` whose text matches pattern."""
        regex = re.compile(pattern, re.I)

        def heard():
            self.pump()
            return next((h for h in self.heard[since:] if regex.search(h[3])), None)
        try:
            return wait_for(heard, f'a spoken event for {what} ({pattern})', timeout=10)
        except lkui.Timeout:
            return None

    def dump(self, path):
        with open(path, 'w') as f:
            for when, kind, role_name, text in self.heard:
                f.write(f'{when:.3f}\t{kind}\t{role_name}\t{text}\n')


def cli(device, *args, input_text=None):
    """latchkey-cli on Ben's device; 'waiting' (4) is an answer too."""
    import subprocess
    run = subprocess.run([os.environ['LATCHKEY_CLI'], *args], input=input_text, env=device.env, cwd=device.dir,
                         capture_output=True, text=True, timeout=lkui.DEADLINE)
    if run.returncode not in (0, 4):
        raise AssertionError(f'latchkey-cli {" ".join(args)}: {run.returncode}\n{run.stdout}\n{run.stderr}')
    return run.stdout


def scenario(app, tap, workdir, relay, partner, artifacts):
    from importlib import import_module
    a11y = import_module('test-a11y')   # its CliDevice: Ben's latchkey-cli

    main = app.main_page()
    listener = Listener(app)
    results = []

    def expect(state, pattern, since):
        hit = listener.wait_heard(since, pattern, state)
        results.append((state, hit))
        tap.ok(hit is not None, f'{state}: a screen reader hears it',
               f'heard: {hit[1]} on a {hit[2]}: {hit[3]!r}' if hit else f'nothing matching {pattern!r}')

    # The owner's car key, shared with a code.
    wait_find(main, A().ROLE_PUSH_BUTTON, 'Receive a Key…', what='the empty wallet')
    toggle = wait_find(app.frame, A().ROLE_PUSH_BUTTON, 'Enrol a Demo Key', where=lambda n: 'click' in n.actions)
    click(toggle)
    menu = wait_for(lambda: find(toggle.parent, A().ROLE_MENU), 'the enrol menu')
    click(wait_for(lambda: find(menu, A().ROLE_MENU_ITEM, 'Car Key', shown=False), 'Car Key'))
    row = wait_for(lambda: app.key_row('My Car'), 'the car key')
    wait_for(lambda: lkui.laid_out(row), 'the car key laid out')
    app.activate_row(row)
    page = app.wait_page('credential')
    click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Share…'))
    page = app.wait_page('share')
    since = listener.mark()
    click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Create Invitation'))
    copy = wait_find(page, A().ROLE_PUSH_BUTTON, 'Copy Link', what='the invitation')
    link_row = lkui.ancestor(copy, A().ROLE_LIST_ITEM)
    link = wait_for(lambda: next((name(n) for n in lkui.walk(link_row)
                                  if role(n) == A().ROLE_LABEL and '/v1/m/' in name(n)), None), 'the link')
    code = wait_for(lambda: next((re.sub(r'\D', '', name(n)) for n in lkui.walk(page)
                                  if role(n) == A().ROLE_LABEL and re.fullmatch(r'\d{3} \d{3}', name(n))), None),
                    'the activation code')
    expect('share: waiting for the invitation to be opened', r'Waiting for the invitation to be opened', since)
    since = listener.mark(page)

    ben = a11y.CliDevice(workdir, relay.url, partner.url)
    try:
        wrong = '000000' if code != '000000' else '111111'
        out = cli(ben, 'receive', input_text=f'{link}\n{wrong}\n')
        receipt = out.split()[0]
        expect('share: opened', r'Opened; waiting for the recipient', since)
        expect('share: wrong code, attempts left', r'wrong activation code was entered; 2 attempts left', since)
        cli(ben, 'status', receipt, '--wait', '5')
        since = listener.mark(page)
        cli(ben, 'code', receipt, input_text=f'{code}\n')
        expect('share: waiting for confirmation', r'Waiting for your confirmation', since)
        since = listener.mark(page)
        click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Confirm and Sign'))
        cli(ben, 'status', receipt, '--wait', '10')
        expect('share: done', r'Done: the key was received', since)
    finally:
        ben.close()

    # A receipt: Ben's room key, with a code.
    ben = a11y.CliDevice(workdir, relay.url, partner.url)
    try:
        key = cli(ben, 'enroll', '--title', 'Seaside Hotel, Room 12', 'home').strip()
        out = cli(ben, 'share', key, '--no-qr', '--name', 'Ben', '--code')
    finally:
        ben.close()
    ben_link = re.search(r'^Link: (.*)$', out, re.M).group(1)
    ben_code = re.search(r'^Activation code: (.*)$', out, re.M).group(1)
    app.back_to_main()
    click(wait_find(main, A().ROLE_PUSH_BUTTON, 'Receive a Key From a Link'))
    page = app.wait_page('receive')
    set_text(wait_find(page, A().ROLE_TEXT, 'Link'), ben_link)
    since = listener.mark(page)
    click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Continue'))
    accept = wait_find(page, A().ROLE_PUSH_BUTTON, 'Accept', what='the preview')
    expect('receipt: opened (the preview)', r'Invitation opened: .*Nothing is taken until you accept', since)
    since = listener.mark(page)
    click(accept)
    code_entry = wait_find(page, A().ROLE_TEXT, 'Activation Code', what='the code page')
    expect('receipt: waiting for the code', r'Enter the activation code', since)
    code_page = lkui.ancestor(code_entry, where=lambda n: name(n) == 'Enter the Activation Code')
    set_text(code_entry, '000000' if ben_code != '000000' else '111111')
    since = listener.mark(page)
    click(wait_find(code_page, A().ROLE_PUSH_BUTTON, 'Continue'))
    expect('receipt: wrong code, attempts left', r'The code is wrong.*2 attempts left', since)
    set_text(code_entry, ben_code)
    since = listener.mark(page)
    click(wait_find(code_page, A().ROLE_PUSH_BUTTON, 'Continue'))
    wait_find(page, A().ROLE_PUSH_BUTTON, 'Show in Wallet', what='the key to arrive')
    expect('receipt: done', r'“Seaside Hotel, Room 12” is in your wallet', since)
    app.back_to_main()

    # A receipt that fails: the relay has gone.
    relay.stop()
    click(wait_find(main, A().ROLE_PUSH_BUTTON, 'Receive a Key From a Link'))
    page = app.wait_page('receive')
    set_text(wait_find(page, A().ROLE_TEXT, 'Link'), link)
    since = listener.mark(page)
    click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Continue'))
    wait_find(page, A().ROLE_PUSH_BUTTON, 'Try Again', what='the error page')
    expect('receipt: failed', r'Cannot Reach the Server: ', since)

    listener.dump(lkui.artifact(artifacts, 'screen-reader-events.txt'))
    return results


def run_in_session(tap_path):
    lkui.terminate_on_signals()
    tap = lkui.Tap(open(tap_path, 'w', buffering=1))
    workdir = tempfile.mkdtemp(prefix='latchkey-sr-')
    artifacts = os.path.join(os.environ.get('G_TEST_BUILDDIR', workdir), 'artifacts')
    os.makedirs(artifacts, exist_ok=True)
    relay = partner = app = None
    try:
        lkui.import_dogtail()
        relay, partner = lkui.start_services(workdir)
        app = lkui.App(workdir, relay.url, partner.url).ready()
        scenario(app, tap, workdir, relay, partner, artifacts)
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
    if os.environ.get('_LATCHKEY_SR_TAP'):
        return run_in_session(os.environ['_LATCHKEY_SR_TAP'])
    lkui.terminate_on_signals()
    import subprocess
    with tempfile.NamedTemporaryFile(prefix='latchkey-sr-', suffix='.tap') as tap_file:
        env = dict(os.environ, _LATCHKEY_SR_TAP=tap_file.name)
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
