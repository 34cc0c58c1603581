#!/usr/bin/python3
"""Drive a latchkey-relay that runs under callgrind, for
build-aux/bench-relay-instructions.sh.

Sends a fixed sequence of requests and has callgrind dump its counters
after each phase, so that each dump holds the instructions of one phase
only (all of the relay's threads; not the kernel's work, such as fsync):

  create    COUNT creates, one at a time on one keep-alive connection
            (so every create is its own commit)
  read      COUNT reads of one 4 KiB mailbox by its bound recipient
  create16  COUNT creates over 16 connections at once (group commit
            batches several)

The create body is bench-relay.sh's (4,094 bytes, 3,960 base64
characters), from fixed bytes so that runs compare exactly.

stdout: one line per phase, "PHASE requests=N statuses=200:N".
Standard library only.
"""

import argparse
import base64
import collections
import http.client
import random
import subprocess
import sys
import threading
import uuid


def create_body():
    data = base64.b64encode(random.Random(4094).randbytes(2970)).decode()
    return ('{"payload":{"type":"AEAD_AES_256_GCM","data":"%s"},'
            '"displayInformation":{"title":"Bench"},'
            '"mailboxConfiguration":{"accessRights":"RWD"}}' % data).encode()


def request(conn, method, path, claim, body=None):
    headers = {"Mailbox-Device-Claim": claim}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def dump(pid, phase):
    subprocess.run(["callgrind_control", "--dump=" + phase, str(pid)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def creates(port, claim, body, count, statuses, lock):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    for _ in range(count):
        status, _ = request(conn, "POST", "/v1/m", claim, body)
        with lock:
            statuses[status] += 1
    conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()

    body = create_body()
    initiator = str(uuid.uuid4())
    recipient = str(uuid.uuid4())
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)

    # Warm up: prepared statements, caches, the read answer's cache.
    for _ in range(20):
        status, answer = request(conn, "POST", "/v1/m", initiator, body)
        assert status == 200, (status, answer)
    link = answer.split(b'"urlLink":"')[1].split(b'"')[0].decode()
    path = link[link.index("/v1/m/"):]
    for _ in range(20):
        status, answer = request(conn, "POST", path, recipient)
        assert status == 200, (status, answer)

    subprocess.run(["callgrind_control", "--zero", str(args.pid)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    statuses = collections.Counter()
    for _ in range(args.count):
        status, _ = request(conn, "POST", "/v1/m", initiator, body)
        statuses[status] += 1
    dump(args.pid, "create")
    print("create requests=%d statuses=%s" % (args.count, dict(statuses)), flush=True)

    statuses = collections.Counter()
    for _ in range(args.count):
        status, _ = request(conn, "POST", path, recipient)
        statuses[status] += 1
    dump(args.pid, "read")
    print("read requests=%d statuses=%s" % (args.count, dict(statuses)), flush=True)
    conn.close()

    statuses = collections.Counter()
    lock = threading.Lock()
    per_thread = args.count // 16
    threads = [threading.Thread(target=creates, args=(args.port, initiator, body, per_thread, statuses, lock))
               for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dump(args.pid, "create16")
    print("create16 requests=%d statuses=%s" % (per_thread * 16, dict(statuses)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
