#!/usr/bin/python3
"""Park many waiting reads on a latchkey-relay, for build-aux/bench-relay.sh.

Opens COUNT keep-alive TCP connections and sends on each one waiting read
(POST /v1/m/<id> with the recipient claim, If-None-Match: the current ETag
and Prefer: wait=N).  Then it holds the connections open until SIGTERM or
SIGINT, counting any response that arrives early (a parked read should not
be answered before the mailbox changes or the wait ends).

stdout, one line each, flushed:
  ready connected=N sent=N connect_errors=N elapsed_s=S
  done connected=N sent=N connect_errors=N closed_by_peer=N responses=STATUS:COUNT,...

Standard library only.
"""

import argparse
import asyncio
import collections
import resource
import signal
import sys
import time


class State:
    def __init__(self):
        self.connected = 0
        self.sent = 0
        self.connect_errors = 0
        self.closed_by_peer = 0
        self.statuses = collections.Counter()
        self.first_error = None
        self.transports = []
        self.stopping = False


class Waiter(asyncio.Protocol):
    def __init__(self, state, request):
        self.state = state
        self.request = request
        self.buffer = b""
        self.answered = False

    def connection_made(self, transport):
        self.state.connected += 1
        self.state.transports.append(transport)
        transport.write(self.request)
        self.state.sent += 1

    def data_received(self, data):
        # Only the first status line matters: any response is an early one.
        if self.answered:
            return
        self.buffer += data
        if b"\r\n" in self.buffer:
            line = self.buffer.split(b"\r\n", 1)[0].split(b" ")
            status = line[1].decode("ascii", "replace") if len(line) > 1 else "?"
            self.state.statuses[status] += 1
            self.answered = True
            self.buffer = b""

    def connection_lost(self, exc):
        if not self.state.stopping:
            self.state.closed_by_peer += 1


async def open_one(loop, state, limit, host, port, request):
    async with limit:
        try:
            await loop.create_connection(lambda: Waiter(state, request), host, port)
        except OSError as error:
            state.connect_errors += 1
            if state.first_error is None:
                state.first_error = str(error)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True, help="/v1/m/<id>")
    parser.add_argument("--claim", required=True)
    parser.add_argument("--etag", required=True, help='the current ETag, quotes included')
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--wait", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=256,
                        help="connection attempts in flight at once")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    request = (
        f"POST {args.path} HTTP/1.1\r\n"
        f"Host: {args.host}:{args.port}\r\n"
        f"Mailbox-Device-Claim: {args.claim}\r\n"
        f"If-None-Match: {args.etag}\r\n"
        f"Prefer: wait={args.wait}\r\n"
        f"Content-Length: 0\r\n"
        f"\r\n"
    ).encode("ascii")

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    state = State()
    limit = asyncio.Semaphore(args.parallel)
    started = time.monotonic()
    await asyncio.gather(*(open_one(loop, state, limit, args.host, args.port, request)
                           for _ in range(args.count)))
    print(f"ready connected={state.connected} sent={state.sent} "
          f"connect_errors={state.connect_errors} "
          f"elapsed_s={time.monotonic() - started:.2f}", flush=True)
    if state.first_error:
        print(f"first connect error: {state.first_error}", file=sys.stderr, flush=True)

    await stop.wait()
    state.stopping = True
    for transport in state.transports:
        transport.abort()
    responses = ",".join(f"{s}:{n}" for s, n in sorted(state.statuses.items())) or "none"
    print(f"done connected={state.connected} sent={state.sent} "
          f"connect_errors={state.connect_errors} closed_by_peer={state.closed_by_peer} "
          f"responses={responses}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
