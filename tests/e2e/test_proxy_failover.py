#!/usr/bin/env python3
"""Failover through a proxy (issue 13): a steady, bounded stream of PUTs and
GETs through the target's proxy (--proxy on) to a 3-member cluster while a
follower is killed (SIGKILL, then restarted) and then the leader is killed.

Checked: no acknowledged PUT is lost (every acked key is read back with
quorum=true at the end), no GET fails at the client (the GETs read a key
written before the faults), and PUTs fail only while there is no leader
(sent between 0.5 s before the leader's kill and 1 s after the survivors
agree on a new leader).

Holds on etcd 3.4's proxy (CETCD_TARGET=etcd): it retries a request on the
next endpoint after a transport error, GETs included, and v2 GETs are served
locally by any member, leader or not. The run is bounded: ~20 s of load, 10 s
per request. Exit 77 when the cetcd binary refuses --proxy.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cetcdtest import eq, true, status  # noqa: E402
import clustertest  # noqa: E402
from clustertest import (start_or_skip, start_proxy, proxy_probe_or_skip,  # noqa: E402
                         run_scenarios, target, log, NETERR)

REQ_TIMEOUT = 10.0


class Load:
    """One PUT thread (unique keys /fo/<n>) and one GET thread (/fo/seed),
    each recording (t_sent, t_done, ok, detail)."""

    def __init__(self, proxy):
        self.p = proxy
        self.stop = threading.Event()
        self.puts, self.gets = [], []
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self._put_loop, self._get_loop)]

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(REQ_TIMEOUT + 2)
        true(not any(t.is_alive() for t in self.threads), "a client thread hangs")

    def _put_loop(self):
        n = 0
        while not self.stop.is_set():
            key = "/fo/k%05d" % n
            t0 = time.time()
            try:
                r = self.p.put(key, {"value": str(n)}, timeout=REQ_TIMEOUT)
                ok, detail = r.status in (200, 201), "%d %r" % (r.status, r.body[:120])
            except NETERR as e:
                ok, detail = False, repr(e)
            self.puts.append((t0, time.time(), ok, key, str(n), detail))
            n += 1
            time.sleep(0.02)

    def _get_loop(self):
        while not self.stop.is_set():
            t0 = time.time()
            try:
                r = self.p.get("/fo/seed", timeout=REQ_TIMEOUT)
                ok = r.status == 200 and (r.json or {}).get("node", {}).get("value") == "s"
                detail = "%d %r" % (r.status, r.body[:120])
            except NETERR as e:
                ok, detail = False, repr(e)
            self.gets.append((t0, time.time(), ok, detail))
            time.sleep(0.02)


def wait_load(load, n_puts, timeout=10.0):
    """Until n_puts more PUTs are acknowledged (the load runs)."""
    want = sum(1 for x in load.puts if x[2]) + n_puts
    deadline = time.time() + timeout
    while time.time() < deadline:
        if sum(1 for x in load.puts if x[2]) >= want:
            return
        time.sleep(0.05)
    raise AssertionError("fewer than %d acked PUTs within %.0fs: last %s" % (
        n_puts, timeout, load.puts[-3:]))


def test_follower_then_leader_killed():
    c = start_or_skip(3)
    p = start_proxy(c)
    status(p.put("/fo/seed", {"value": "s"}), 201, "seed")
    c.wait_converged()
    load = Load(p)
    load.start()
    try:
        wait_load(load, 20)
        lead = c.wait_leader(5)
        fol = [m for m in c.live() if m is not lead][0]
        log("kill follower %s (pid %d)" % (fol.name, fol.pid))
        fol.kill()
        wait_load(load, 30)
        c.restart(fol, timeout=15)
        c.wait_index(lead.index() or 0, timeout=15, members=[fol])   # caught up
        wait_load(load, 20)
        lead = c.wait_leader(5)
        log("kill leader %s (pid %d)" % (lead.name, lead.pid))
        t_kill = time.time()
        lead.kill()
        c.wait_leader(15, not_member=lead)
        t_leader = time.time()
        log("new leader after %.2fs" % (t_leader - t_kill))
        wait_load(load, 30, timeout=15)
    finally:
        load.finish()
    bad_gets = [g for g in load.gets if not g[2]]
    log("%d GETs, %d PUTs (%d acked)" % (len(load.gets), len(load.puts),
                                         sum(1 for x in load.puts if x[2])))
    true(not bad_gets, "%d GETs failed, e.g. %s" % (len(bad_gets), bad_gets[:3]))
    for x in load.puts:
        if not x[2]:
            log("failed PUT sent %+.2fs from the leader's kill: %s" % (x[0] - t_kill, x[5]))
    lo, hi = t_kill - 0.5, t_leader + 1.0
    stray = [x for x in load.puts if not x[2] and not lo <= x[0] <= hi]
    true(not stray, "PUTs failed outside the no-leader window [%.2f, %.2f] s after the kill: %s"
         % (lo - t_kill, hi - t_kill, [(round(x[0] - t_kill, 2), x[5]) for x in stray[:3]]))
    live = c.live()[0]
    lost = []
    for t0, t1, ok, key, val, _ in load.puts:
        if ok:
            r = live.get(key, {"quorum": "true"}, timeout=5.0)
            if r.status != 200 or r.json["node"]["value"] != val:
                lost.append((key, r.status))
    eq(lost, [], "acknowledged PUTs lost")


def probe():
    if target() == "cetcd":
        clustertest.probe_or_skip()
    proxy_probe_or_skip()


if __name__ == "__main__":
    run_scenarios(globals(), budget=120, probe=probe)
