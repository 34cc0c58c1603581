#!/usr/bin/env python3
# The attacks of "The relay and the partner under attack and faults" at full
# size, against the relay and the partner with their default settings: the
# `slow` suite, not run by default (meson test -C _build --setup slow --suite
# slow). tests/test-abuse.c runs each scaled down in the default suite.
# Prints TAP; the figures each attack produced are printed as comments.
# build-aux/bench-abuse.sh runs the same attacks against a baseline build.
#
# Usage: abuse-slow.py RELAY PARTNER SOURCE_ROOT

import os
import resource
import shutil
import subprocess
import sys
import tempfile

results = []


def check(ok, name, why=""):
    results.append((bool(ok), name, why))


def start(binary, *args):
    data = tempfile.mkdtemp(prefix="latchkey-slow-")
    proc = subprocess.Popen([binary, "--port", "0", "--data-dir", data] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if " listening on " not in line:
        proc.kill()
        raise RuntimeError("%s did not start: %s" % (binary, proc.stderr.read()))
    return proc, line.split()[-1], data


def stop(proc, data):
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(data, ignore_errors=True)
    return proc.returncode


def attack(abuse, *args):
    out = subprocess.run([sys.executable, abuse] + [str(a) for a in args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=1200).stdout
    for line in out.splitlines():
        print("# " + line)
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line and " " not in line.split("=")[0])


def main():
    if len(sys.argv) != 4:
        print("Bail out! usage: abuse-slow.py RELAY PARTNER SOURCE_ROOT")
        return 1
    relay, partner, root = sys.argv[1:]
    abuse = os.path.join(root, "build-aux", "bench", "abuse.py")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    # Finding 1: 110,000 creates, each from a new address; a newcomer after them.
    proc, url, data = start(relay, "--trust-forwarded-for")
    figures = attack(abuse, "lockout", url, "--max-requests", 110000, "--max-seconds", 600)
    check(figures.get("newcomer_locked_out") == "no" and figures.get("newcomer_final") == "200 ok",
          "110,000 creates from as many addresses do not lock a newcomer out", figures)
    figures = attack(abuse, "lockout", url, "--addresses", "ipv6-one-64", "--max-requests", 20000)
    check(figures.get("newcomer_locked_out") == "no" and "429" in figures.get("attacker_statuses", ""),
          "20,000 addresses of one IPv6 /64 are one client, rate-limited as one", figures)
    stop(proc, data)

    # Finding 2: SIGTERM under keep-alive writes.
    figures = attack(abuse, "sigterm", relay, "--runs", 5)
    check(figures.get("exit_statuses") == "0,0,0,0,0", "SIGTERM under write traffic exits 0, five times of five",
          figures)
    check(all(figures.get("run%d_missing_after_restart" % i) == "0" for i in range(5)),
          "no acknowledged write is lost", figures)

    # Finding 3: 12,500 slow connections from one address; another address is served.
    proc, url, data = start(relay)
    figures = attack(abuse, "slowloris", url, "--connections", 12500, "--duration", 30)
    check(figures.get("probe_failures") == "none" and int(figures.get("healthz_ok", "0")) > 0,
          "with 12,500 slow connections from one address, /healthz, create and read from another all succeed",
          figures)
    stop(proc, data)

    # Finding 3: waiting reads from 24 addresses; another address still waits.
    proc, url, data = start(relay, "--trust-forwarded-for")
    figures = attack(abuse, "waiters", url, "--addresses", 24, "--per-address", 600)
    check("503" not in figures.get("newcomer_waiting_reads", "503") and "429" in figures.get("attackers", ""),
          "24 addresses with 600 waiting reads each leave places for others", figures)
    stop(proc, data)

    # Finding 4: 7,500 partial 64 KiB bodies from as many addresses.
    proc, url, data = start(relay)
    figures = attack(abuse, "partial-bodies", url, "--pid", proc.pid, "--connections", 7500, "--sources", 7500)
    held = int(figures.get("still_held", "7500"))
    check(held <= 64 * 1024 * 1024 // 65536 and "503" in figures.get("answered_or_closed", ""),
          "partial bodies beyond max-body-memory (1,024 of 64 KiB) are refused before they are read", figures)
    stop(proc, data)

    # Finding 5: 10,000 challenges asked for in a flood; another client's is kept.
    proc, url, data = start(partner)
    figures = attack(abuse, "challenges", url, "--count", 10000)
    check(figures.get("own_challenge") == "kept", "a flood of 10,000 challenges evicts nobody else's", figures)
    check(stop(proc, data) == 0, "the partner exits 0 after the flood")

    print("1..%d" % len(results))
    failed = 0
    for n, (ok, name, why) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
        if not ok:
            failed += 1
            print("# " + repr(why))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
