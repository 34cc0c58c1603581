#!/usr/bin/python3
# agent.py: one device of tests/test-ui-scripted.py
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs inside build-aux/headless-session.sh (its own Xvfb, session bus,
# keyring and settings), starts the real latchkey app there and drives it
# through AT-SPI. An AT-SPI client talks to one accessibility bus only, so
# the test runs one agent per device and sends it steps.
#
# Protocol: a JSON object per line on stdin, {"step": NAME, "args": {...}};
# one reply per step on the original stdout, "@@lkui " and
# {"ok": true, "result": ...} or {"ok": false, "error": TEXT}. Anything else
# the agent or its libraries print goes to stderr. End of input: the app
# quits (its exit is checked) and the agent exits.

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import traceback

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lkui  # noqa: E402
from lkui import A, click, find, laid_out, log, name, role, set_text, wait_find, wait_for  # noqa: E402

ENROL_ITEMS = {'car': 'Car Key', 'home': 'Room or Door Key', 'generic': 'Access Pass'}


class Device:
    def __init__(self, device_name, workdir, artifacts):
        self.name = device_name
        self.workdir = workdir
        self.artifacts = artifacts
        self.app = None

    # Steps (each returns something JSON can carry)

    def start(self, relay, partner, env=None):
        self.app = lkui.App(self.workdir, relay, partner, tag=f'{self.name}-app', extra_env=env).ready()
        return self.app.proc.pid

    def screenshot(self, shot, toasts=False):
        """The screen, settled: without toasts (they go by themselves, and
        would be in one run's picture and not in the next), unless the
        toast is what the picture is of."""
        if not toasts:
            for window in self.app.windows():
                lkui.dismiss_toasts(window)
        return lkui.screenshot(os.path.join(self.artifacts, f"{shot}.png"), private_dir=self.workdir, app=self.app)

    def enrol(self, vertical):
        """Enrols a demo key from the main menu, as a user would; returns its
        title, from its new row in the wallet."""
        before = {name(row) for row in self.app.key_rows()}
        menu = self.open_menu('Main Menu')
        click(wait_for(lambda: find(menu, A().ROLE_MENU_ITEM, 'Enrol a Demo Key', shown=False), 'the enrol submenu'))
        click(wait_for(lambda: find(menu, A().ROLE_MENU_ITEM, ENROL_ITEMS[vertical], shown=False),
                       f'the {ENROL_ITEMS[vertical]!r} menu item'))
        row = wait_for(lambda: next((r for r in self.app.key_rows() if name(r) not in before and laid_out(r)), None),
                       f'the new {vertical} key in the wallet')
        return name(row)

    def open_key(self, title):
        self.app.back_to_main()
        main = self.app.main_page()
        click(wait_find(main, A().ROLE_PAGE_TAB, 'Keys'))
        row = wait_for(lambda: (lambda r: r if r is not None and laid_out(r) else None)(self.app.key_row(title)),
                       f'the key {title!r} in the wallet')
        self.app.activate_row(row)
        page = self.app.wait_page('credential')
        wait_find(page, A().ROLE_PUSH_BUTTON, 'Try It', what='the key details')
        return True

    def open_share(self):
        page = self.app.wait_page('credential')
        click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Share…'))
        page = self.app.wait_page('share')
        wait_find(page, A().ROLE_PUSH_BUTTON, 'Create Invitation', what='the share options')
        return True

    def create_invitation(self):
        """Creates the invitation; returns the link and the activation code as
        the share view shows them."""
        page = self.app.wait_page('share')
        click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Create Invitation'))
        copy = wait_find(page, A().ROLE_PUSH_BUTTON, 'Copy Link', what='the invitation')
        link_row = lkui.ancestor(copy, A().ROLE_LIST_ITEM)
        link = wait_for(lambda: next((name(n) for n in lkui.walk(link_row)
                                      if role(n) == A().ROLE_LABEL and '/v1/m/' in name(n)), None),
                        'the link on the share view')
        copy_code = find(page, A().ROLE_PUSH_BUTTON, 'Copy Code')
        code = name(lkui.ancestor(copy_code, A().ROLE_LIST_ITEM)) if copy_code is not None else None
        qr = find(page, A().ROLE_IMAGE, re.compile(r'^QR code'))
        if qr is None or not laid_out(qr):
            raise AssertionError('the share view shows no QR code')
        return {'link': link, 'code': code}

    def share_status(self):
        page = self.app.wait_page('share')
        status = find(page, where=lambda n: role(n) == A().ROLE_LIST_ITEM and
                      re.match(r'^(Waiting|Opened|Done|Declined|Cancelled|Expired|Failed|Revoked)', name(n)))
        return name(status) if status is not None else None

    def wait_share_status(self, pattern):
        return wait_for(lambda: (lambda s: s if s and re.search(pattern, s) else None)(self.share_status()),
                        f'the share to be {pattern!r}')

    def confirm(self):
        """Car keys: the owner signs the friend's key."""
        page = self.app.wait_page('share')
        button = wait_find(page, A().ROLE_PUSH_BUTTON, 'Confirm and Sign', what='the confirmation step')
        click(button)
        wait_for(lambda: find(page, A().ROLE_PUSH_BUTTON, 'Confirm and Sign') is None, 'the confirmation to be sent')
        return True

    def paste_link(self, link):
        """The receive view's Link entry, as someone pasting a link does."""
        self.app.back_to_main()
        click(wait_find(self.app.main_page(), A().ROLE_PUSH_BUTTON, 'Receive a Key From a Link'))
        page = self.app.wait_page('receive')
        set_text(wait_find(page, A().ROLE_TEXT, 'Link'), link)
        click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Continue'))
        return self.wait_preview()

    def scan(self):
        """The Scan view, with the camera the app was started with
        (LATCHKEY_CAMERA_PIPELINE). For when the app has it."""
        self.app.back_to_main()
        menu = self.open_menu('Main Menu')
        item = wait_for(lambda: find(menu, A().ROLE_MENU_ITEM, re.compile(r'^Scan'), shown=False),
                        'the Scan menu item (the app has no scan view yet?)', timeout=5)
        click(item)
        try:
            return self.wait_preview()
        except lkui.Timeout as e:
            # What the receiver showed instead: the pages and their words,
            # and a picture, so that a failure says why.
            shot = self.screenshot('scan-timeout')
            seen = {kind: [name(n) for n in lkui.find_all(page, A().ROLE_LABEL) if name(n)][:12]
                    for kind, page in self.app.pages().items()}
            raise lkui.Timeout(f'{e}; pages shown: {seen}; screenshot: {shot}') from e

    def wait_preview(self):
        def shown():
            page = self.app.pages().get('receive')
            if page is None:
                return None
            self.fail_on_error_page(page)
            accept = find(page, A().ROLE_PUSH_BUTTON, 'Accept')
            return accept is not None and laid_out(accept)
        wait_for(shown, 'the preview of the invitation')
        page = self.app.pages()['receive']
        title = find(page, A().ROLE_LABEL, where=lambda n: laid_out(n) and 'shared with you' in name(n))
        # The link the page took (pasted, or found by the scanner).
        entry = find(page, A().ROLE_TEXT, 'Link', shown=False)
        text = entry.queryText()
        return {'title': name(title) if title is not None else '',
                'link': text.getText(0, text.characterCount).strip()}

    def fail_on_error_page(self, page):
        for text in ('Try Again', 'Use Another Link'):
            button = find(page, A().ROLE_PUSH_BUTTON, text)
            if button is not None and laid_out(button):
                panel = lkui.ancestor(button, where=lambda n: role(n) == A().ROLE_PANEL and name(n))
                raise AssertionError(f'the receive view shows an error: {name(panel) if panel else "?"}')

    def accept(self, code_expected):
        page = self.app.wait_page('receive')
        click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Accept'))
        if code_expected:
            def code_page():
                self.fail_on_error_page(page)
                entry = find(page, A().ROLE_TEXT, 'Activation Code')
                return entry is not None and laid_out(entry)
            wait_for(code_page, 'the activation code page')
        return True

    def enter_code(self, code):
        page = self.app.wait_page('receive')
        entry = wait_find(page, A().ROLE_TEXT, 'Activation Code')
        code_page = lkui.ancestor(entry, where=lambda n: name(n) == 'Enter the Activation Code')
        set_text(entry, code)
        click(wait_find(code_page, A().ROLE_PUSH_BUTTON, 'Continue'))
        return True

    def wait_received(self):
        """The receive view's done page; returns the key's title from it."""
        page = self.app.wait_page('receive')

        def done():
            self.fail_on_error_page(page)
            button = find(page, A().ROLE_PUSH_BUTTON, 'Show in Wallet')
            return button is not None and laid_out(button)
        wait_for(done, 'the key to arrive')
        text = wait_for(lambda: next((name(n) for n in lkui.walk(page) if role(n) == A().ROLE_LABEL and
                                      re.match(r'^“.*” is in your wallet\.$', name(n))), None), 'the done text')
        return re.match(r'^“(.*)” is in your wallet\.$', text).group(1)

    def show_in_wallet(self):
        page = self.app.wait_page('receive')
        click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Show in Wallet'))
        self.app.wait_main_page()
        return True

    def try_key(self, title):
        """The key page's Try It: the partner's simulated lock answers."""
        self.open_key(title)
        page = self.app.wait_page('credential')
        click(wait_find(page, A().ROLE_PUSH_BUTTON, 'Try It'))
        text = wait_for(lambda: self.app.toast(r'^(Unlocked|Refused: |The lock could not be reached: )'),
                        'the answer of the lock')
        return text

    def back(self):
        self.app.back_to_main()
        return True

    def quit(self):
        app, self.app = self.app, None
        if app is not None:
            app.quit()
        return True

    # Helpers

    def open_menu(self, text):
        toggle = wait_find(self.app.frame, A().ROLE_PUSH_BUTTON, text, where=lambda n: 'click' in n.actions,
                           what=f'the {text!r} menu button')
        click(toggle)
        return wait_for(lambda: find(toggle.parent, A().ROLE_MENU), f'the {text!r} menu')


def main():
    lkui.terminate_on_signals()
    parser = argparse.ArgumentParser()
    parser.add_argument('--name', required=True)
    parser.add_argument('--artifacts', required=True)
    options = parser.parse_args()

    # The protocol gets the real stdout; everything else goes to stderr.
    replies = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    workdir = tempfile.mkdtemp(prefix=f'latchkey-{options.name}-')
    lkui.import_dogtail()
    device = Device(options.name, workdir, options.artifacts)
    status = 0
    try:
        for line in sys.stdin:
            request = json.loads(line)
            log(f'{options.name}: {request["step"]} {request.get("args", {})}')
            try:
                result = getattr(device, request['step'])(**request.get('args', {}))
                reply = {'ok': True, 'result': result}
            except Exception as error:
                reply = {'ok': False, 'error': f'{error}\n{traceback.format_exc()}'}
                if device.app is not None:
                    reply['app_output'] = device.app.output()[-20000:]
            replies.write('@@lkui ' + json.dumps(reply) + '\n')
        device.quit()
    except BaseException as error:
        log(f'{options.name}: {error!r}')
        status = 1
    finally:
        if device.app is not None:
            device.app.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
