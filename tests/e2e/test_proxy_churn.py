#!/usr/bin/env python3
"""Proxy mode under churn (issue 13, beyond etcd): clients that connect and
vanish in every state a request can be in (before the head is complete,
while a shared long poll waits, while a watch of its own waits, in the
middle of a stream, after sending a write without reading the answer) must
leave no descriptor, member connection or memory behind. A bounded run:
at most CHURN_SECONDS and CHURN_ROUNDS rounds.

Checked: the proxy's open descriptors and its connections to the member go
back to their level before the churn once the clients are gone, its RSS
grows by less than 16 MiB (not checked under ASan, whose quarantine keeps
freed memory), and it still answers at once.

cetcd only (etcd's proxy holds a goroutine per request: not what is
checked here). Run: python3 tests/e2e/test_proxy_churn.py
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cetcdtest import true, status, needs  # noqa: E402
import clustertest  # noqa: E402
from clustertest import start_or_skip, start_proxy, proxy_probe_or_skip, run_scenarios  # noqa: E402

CHURN_SECONDS = 12.0
CHURN_ROUNDS = 3000


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sanitized(pid):
    """ASan's quarantine holds freed memory: RSS says nothing there."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return any("libasan" in line for line in f)
    except OSError:
        return False


def conns_to(port):
    """Established TCP connections whose remote end is 127.0.0.1:port."""
    want = ":%04X" % port
    n = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[2].endswith(want) and parts[3] == "01":
                        n += 1
        except OSError:
            pass
    return n


def wait_until(fn, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def raw(p, data, read=False):
    """Sends data to the proxy; reads what comes within 0.2 s if asked;
    closes abruptly (RST) either way."""
    s = socket.create_connection((p.host, p.port), timeout=2.0)
    s.sendall(data)
    if read:
        s.settimeout(0.2)
        try:
            s.recv(65536)
        except OSError:
            pass
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()


def req(path, method="GET", body=b""):
    head = "%s %s HTTP/1.1\r\nHost: x\r\n" % (method, path)
    if body:
        head += "Content-Type: application/x-www-form-urlencoded\r\n"
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body


def churn_round(p, i, idle_watchers):
    """One of each way of leaving."""
    raw(p, b"GET /v2/keys/churn HTTP/1.1\r\nHost:")  # head never finished
    raw(p, req("/v2/keys/churn?wait=true"), read=True)  # shared long poll
    raw(p, req("/v2/keys/churn?wait=true&waitIndex=%d" % (10 ** 9 + i)), read=True)  # own
    raw(p, req("/v2/keys/churn?wait=true&stream=true&recursive=true"), read=True)
    raw(p, req("/v2/keys/churn/%d" % (i % 50), "PUT", b"value=%d" % i))  # not read
    raw(p, req("/v2/keys/churn/%d" % (i % 50)), read=True)
    # a watcher that stays a while, then leaves
    s = socket.create_connection((p.host, p.port), timeout=2.0)
    s.sendall(req("/v2/keys/churn/idle%d?wait=true" % (i % 7)))
    idle_watchers.append(s)
    if len(idle_watchers) > 40:
        idle_watchers.pop(0).close()


@needs("cetcd")
def test_churn_leaves_nothing_behind():
    c = start_or_skip(1)
    p = start_proxy(c)
    member_port = c[0].port
    status(p.get("/churn"), 404, "warm-up GET")
    status(p.put("/churn/warm", {"value": "1"}), 201, "warm-up PUT")
    time.sleep(0.3)
    fds0, rss0, conns0 = fds(p.pid), rss_kib(p.pid), conns_to(member_port)
    idle = []
    t0 = time.time()
    rounds = 0
    while rounds < CHURN_ROUNDS and time.time() - t0 < CHURN_SECONDS:
        churn_round(p, rounds, idle)
        rounds += 1
    for s in idle:
        s.close()
    print("# %d churn rounds in %.1fs" % (rounds, time.time() - t0))
    true(p.alive(), "the proxy survived the churn")
    settled = wait_until(lambda: fds(p.pid) <= fds0 + 2, 10.0)
    true(settled, "proxy descriptors back to %d (now %d)" % (fds0, fds(p.pid)))
    # the member side: shared and own watches cancelled, idle pool bounded
    true(wait_until(lambda: conns_to(member_port) <= max(conns0, 1) + 4, 10.0),
         "proxy->member connections %d (before %d)" % (conns_to(member_port), conns0))
    grown = rss_kib(p.pid) - rss0
    print("# proxy RSS %d KiB before, %+d KiB after; fds %d -> %d"
          % (rss0, grown, fds0, fds(p.pid)))
    if not sanitized(p.pid):
        true(grown < 16 * 1024, "RSS grew by %d KiB" % grown)
    t = time.time()
    status(p.get("/churn/warm"), 200, "GET after the churn")
    true(time.time() - t < 1.0, "answered at once")


def probe():
    if clustertest.target() == "cetcd":
        clustertest.probe_or_skip()
        proxy_probe_or_skip()


if __name__ == "__main__":
    run_scenarios(globals(), budget=120.0, probe=probe)
