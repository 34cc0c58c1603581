#!/usr/bin/python3
# test-ui-scripted.py: a key shared from one app to another, scripted
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Two copies of the real latchkey app, a sender and a receiver, each in a
# headless session of its own (build-aux/headless-session.sh: its own Xvfb,
# session bus, gnome-keyring and settings), against a relay and a partner on
# loopback. Each is driven through AT-SPI by an agent in its session
# (tests/ui/agent.py); exported GActions quit them.
#
# For each kind of key (car, home, generic): the sender enrols a key, opens
# it, Share…, Create Invitation, and the link and activation code are read
# off the share view; a screenshot of the sender's window is saved (and must
# decode to the link with zbarimg: it is what a camera would see); the
# receiver gets the link (see RECEIVE STEP below), previews, accepts and
# enters the code; for a car the sender confirms and signs; both end done;
# and the received key opens the partner's simulated lock (Try It:
# "Unlocked"). Screenshots of every step go to
# $G_TEST_BUILDDIR/artifacts/scripted-VERTICAL-NN-WHO-STEP.png.
#
# The receiver scans (LATCHKEY_UI_RECEIVE_BY=paste pastes the link instead);
# see below.

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, 'ui'))

import lkui  # noqa: E402
from lkui import log  # noqa: E402

VERTICALS = ['car', 'home', 'generic']


# ===========================================================================
# RECEIVE STEP: how the receiver gets the link.       <<< SWITCH IS HERE >>>
#
# 'paste': the link is typed into the receive view's Link entry (AT-SPI).
# 'scan': the receiver's app is started with LATCHKEY_CAMERA_PIPELINE reading
# camera_frame, a PNG that the test replaces with the sender's screenshot
# before each scan, and opens the Scan view from the main menu ("Scan a QR
# Code…"), which finds the code and opens the preview. The rest of the flow
# (preview, accept, code, done) is the same; either way the test checks that
# the receive view took the very link the sender's view shows.
#
# 'scan' is the default: the flow, the receiver scanning the
# sender's QR code from a screenshot of the sender's window through the fake
# camera. LATCHKEY_UI_RECEIVE_BY=paste selects the other.
RECEIVE_BY = os.environ.get('LATCHKEY_UI_RECEIVE_BY', 'scan')


def receiver_app_env(camera_frame):
    """The receiver app's extra environment."""
    if RECEIVE_BY == 'scan':
        return {'LATCHKEY_CAMERA_PIPELINE': f'multifilesrc location={camera_frame} loop=true '
                                            'caps=image/png,framerate=5/1 ! pngdec ! videoconvert'}
    return {}


def receiver_gets_link(receiver, link, sender_screenshot, camera_frame):
    """Once the receiver shows the invitation's preview: its title and the
    link the receive view took."""
    if RECEIVE_BY == 'scan':
        shutil.copyfile(sender_screenshot, camera_frame + '.new')
        os.replace(camera_frame + '.new', camera_frame)   # never half a PNG for the camera
        return receiver.call('scan')
    return receiver.call('paste_link', link=link)
# ===========================================================================


class AgentError(AssertionError):
    pass


class Agent:
    """A device: headless-session.sh running tests/ui/agent.py."""

    def __init__(self, name, workdir, artifacts):
        self.name = name
        self.log_path = os.path.join(workdir, f'{name}-agent.log')
        self.command = [os.environ['HEADLESS_SESSION'], sys.executable, os.path.join(HERE, 'ui', 'agent.py'),
                        '--name', name, '--artifacts', artifacts]
        self.log = self.proc = None

    def spawn(self):
        self.log = open(self.log_path, 'wb')
        # Same process group as the test: meson's timeout kills it all.
        self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     preexec_fn=lkui.die_with_parent)
        self.pending = b''

    def start(self, **args):
        """Starts the session and the app in it. Once more if the session's
        Xvfb was not seen starting (see lkui.XVFB_RACE)."""
        self.spawn()
        try:
            return self.call('start', **args)
        except AgentError:
            if lkui.XVFB_RACE not in self.output():
                raise
        log(f'{self.name}: the session did not start ({lkui.XVFB_RACE}), once more')
        self.kill()
        self.log.close()
        self.spawn()
        return self.call('start', **args)

    def call(self, step, timeout=None, **args):
        """Runs a step in the agent and returns its result (an event: the
        agent's reply line)."""
        log(f'{self.name}: {step} {args if args else ""}')
        self.proc.stdin.write((json.dumps({'step': step, 'args': args}) + '\n').encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + (timeout or lkui.DEADLINE * 3)
        while True:
            while b'\n' in self.pending:
                line, self.pending = self.pending.split(b'\n', 1)
                if line.startswith(b'@@lkui '):
                    reply = json.loads(line[len(b'@@lkui '):])
                    if not reply['ok']:
                        raise AgentError(f'{self.name}: {step} failed: {reply["error"]}\n'
                                         f'{self.name} app output:\n{reply.get("app_output", "")}')
                    return reply['result']
                self.log.write(line + b'\n')
            left = deadline - time.monotonic()
            if left <= 0:
                raise lkui.Timeout(f'{self.name}: {step} did not answer')
            line, rest = self.read(left, step)
            self.pending += line.encode() + b'\n' + rest

    def read(self, left, step):
        try:
            return lkui.read_line(self.proc.stdout, left, f'the {self.name} agent ({step})')
        except AssertionError:
            raise AgentError(f'the {self.name} agent ended during {step}:\n{self.output()}')

    def output(self):
        if self.log is None:
            return ''
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors='replace') as f:
            return f.read()[-30000:]

    def close(self):
        """End of input: the agent quits its app and its session ends."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=lkui.DEADLINE)
            except subprocess.TimeoutExpired:
                lkui.kill_tree(self.proc)
        self.log.close()
        return self.proc.returncode

    def kill(self):
        if self.proc is not None:
            lkui.kill_tree(self.proc)


def decode_qr(png):
    zbarimg = os.environ.get('ZBARIMG', 'zbarimg')
    run = subprocess.run([zbarimg, '-q', '--raw', '-Sbinary', '--nodbus', png], capture_output=True)
    return run.stdout.decode().rstrip('\n') if run.returncode == 0 else None


def share_one(tap, vertical, sender, receiver, camera_frame):
    step = [0]

    def shot(device, what, toasts=False):
        step[0] += 1
        return device.call('screenshot', shot=f'scripted-{vertical}-{step[0]:02d}-{device.name}-{what}',
                           toasts=toasts)

    title = sender.call('enrol', vertical=vertical)
    sender.call('open_key', title=title)
    shot(sender, 'key')
    sender.call('open_share')
    shot(sender, 'options')
    invitation = sender.call('create_invitation')
    link, code = invitation['link'], invitation['code']
    sender_screenshot = shot(sender, 'share')
    decoded = decode_qr(sender_screenshot)
    if decoded != link:
        raise AssertionError(f'the screenshot of the share view decodes to {decoded!r}, not {link!r}')

    preview = receiver_gets_link(receiver, link, sender_screenshot, camera_frame)
    shot(receiver, 'preview')
    if preview['link'] != link:
        raise AssertionError(f'the receiver previews {preview["link"]!r}, not the link shared, {link!r}')
    receiver.call('accept', code_expected=code is not None)
    shot(receiver, 'code' if code else 'accepted')
    if code:
        receiver.call('enter_code', code=code)
    if vertical == 'car':
        sender.call('wait_share_status', pattern='^Waiting for your confirmation')
        shot(sender, 'confirm')
        sender.call('confirm')
    received = receiver.call('wait_received')
    shot(receiver, 'done')
    status = sender.call('wait_share_status', pattern='^Done')
    shot(sender, 'done')
    receiver.call('show_in_wallet')
    answer = receiver.call('try_key', title=received)
    shot(receiver, 'try-it', toasts=True)   # the lock's answer is a toast
    if answer != 'Unlocked':
        raise AssertionError(f'the received key did not open the lock: {answer}')
    sender.call('back')
    receiver.call('back')
    tap.ok(True, f'{vertical}: “{title}” shared (preview “{preview["title"]}”, code {"yes" if code else "no"}), '
                 f'received as “{received}”, sender sees “{status}”, the lock says “{answer}”')


def main():
    lkui.terminate_on_signals()
    tap = lkui.Tap()
    workdir = tempfile.mkdtemp(prefix='latchkey-ui-scripted-')
    artifacts = os.path.join(os.environ.get('G_TEST_BUILDDIR', workdir), 'artifacts')
    camera_frame = os.path.join(workdir, 'camera-frame.png')
    relay = partner = None
    agents = []
    status = 1
    started = time.monotonic()
    try:
        relay, partner = lkui.start_services(workdir)
        # One session after the other: Xvfbs starting together collide.
        sender = Agent('sender', workdir, artifacts)
        agents.append(sender)
        sender.start(relay=relay.url, partner=partner.url)
        receiver = Agent('receiver', workdir, artifacts)
        agents.append(receiver)
        receiver.start(relay=relay.url, partner=partner.url, env=receiver_app_env(camera_frame))
        tap.ok(True, f'two apps up, each in its own session ({time.monotonic() - started:.1f} s); '
                     f'the receiver gets links by {RECEIVE_BY}')
        for vertical in VERTICALS:
            begun = time.monotonic()
            share_one(tap, vertical, sender, receiver, camera_frame)
            log(f'{vertical}: {time.monotonic() - begun:.1f} s')
        for agent in agents:
            agent.call('quit')
        tap.ok(True, 'both apps quit cleanly')
        for agent in agents:
            rc = agent.close()
            if rc != 0:
                raise AssertionError(f'the {agent.name} agent exited with {rc}:\n{agent.output()}')
        agents = []
        for service in (relay, partner):
            service.stop()
        relay = partner = None
        tap.ok(True, f'relay and partner stopped cleanly (total {time.monotonic() - started:.1f} s)')
        status = tap.done()
    except BaseException as error:
        for agent in agents:
            log(f'{agent.name} agent log:\n{agent.output()}')
        tap.bail(error)
    finally:
        for agent in agents:
            agent.kill()
        for service in (relay, partner):
            if service is not None:
                service.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
