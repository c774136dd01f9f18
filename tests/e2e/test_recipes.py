#!/usr/bin/env python3
"""contrib/recipes/ (doc/recipes.md), each run as a user would, against a
fresh single server of the target's kind (CETCD_TARGET; CETCD_BIN, and
CETCDCTL_BIN or ./cetcdctl): presence with TTL refresh (kept alive past its
TTL, deleted on SIGTERM, expired after SIGKILL), the lock (competitors never
overlap; a holder killed with SIGKILL is replaced after the TTL), leader
election (a resigning leader is followed by the next candidate, seen by a
listener), and the fleet demo (member + proxy + services + watcher + a
failure and a rescheduling). Skips (77) without cetcdctl or curl."""

import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
from cetcdtest import eq, true  # noqa: E402
import procs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPES = os.path.abspath(os.path.join(HERE, "..", "..", "contrib", "recipes"))


def cetcdctl_bin():
    b = os.environ.get("CETCDCTL_BIN") or ""
    if b and os.access(b, os.X_OK):
        return b
    cand = os.path.join(os.getcwd(), "cetcdctl")
    return cand if os.access(cand, os.X_OK) else shutil.which("cetcdctl")


CETCDCTL = cetcdctl_bin()
TMP = None
_n = [0]


def recipe(srv, script, *args, env=None):
    """Start contrib/recipes/SCRIPT ARGS in its own process group."""
    _n[0] += 1
    p = procs.Proc(os.path.join(TMP, "%s-%d.log" % (script, _n[0])), cwd=TMP,
                   env=dict({"ENDPOINT": srv.url, "CETCDCTL": CETCDCTL,
                             "ASAN_OPTIONS": "detect_leaks=0"}, **(env or {})))
    p.spawn([os.path.join(RECIPES, script)] + list(args))
    return p


def wait_until(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise ct.Fail("timed out (%.0fs): %s" % (timeout, what))


def key(srv, k):
    r = srv.request("GET", ct.kpath(k), timeout=3.0)
    return r.json["node"] if r.status == 200 else None


def test_presence_refresh_and_leave(c):
    k = c.k("svc")
    p = recipe(c.srv, "presence.sh", k, "host1:8080", "2")
    wait_until(lambda: key(c.srv, k) is not None, 5, "registered")
    eq(key(c.srv, k)["value"], "host1:8080", "value")
    time.sleep(3.0)  # longer than the TTL: only the refreshes keep it
    n = key(c.srv, k)
    true(n is not None and n["value"] == "host1:8080", "still there after 3s (TTL 2): %r" % n)
    true(p.alive(), "presence.sh running")
    p.signal_group(signal.SIGTERM)
    eq(p.wait_exit(5), 0, "exit status after SIGTERM")
    eq(key(c.srv, k), None, "deleted on SIGTERM")


def test_presence_expires_when_killed(c):
    k = c.k("svc")
    p = recipe(c.srv, "presence.sh", k, "v", "2")
    wait_until(lambda: key(c.srv, k) is not None, 5, "registered")
    t0 = time.time()
    p.kill()
    true(key(c.srv, k) is not None, "a SIGKILL leaves the key")
    wait_until(lambda: key(c.srv, k) is None, 5, "the key expires")
    true(time.time() - t0 <= 3.5, "expired within the TTL")


def test_lock_competitors_never_overlap(c):
    name = c.k("lock")
    held = os.path.join(TMP, "held")
    body = ('mkdir "%s" || { echo OVERLAP; exit 3; }; echo "in $CETCDCTL_LOCK_KEY"; '
            'sleep 0.3; rmdir "%s"' % (held, held))
    ps = [recipe(c.srv, "lock.sh", name, "sh", "-c", body, env={"LOCK_TTL": "5"})
          for _ in range(3)]
    for p in ps:
        eq(p.wait_exit(15), 0, "lock.sh exit status; log:\n" + p.output())
        out = p.output()
        true("OVERLAP" not in out and "in " + name in out, "ran alone: %r" % out)


def test_lock_holder_killed(c):
    name = c.k("lock")
    fa, fb = os.path.join(TMP, "a-holds"), os.path.join(TMP, "b-holds")
    a = recipe(c.srv, "lock.sh", name, "sh", "-c", 'touch "%s"; sleep 30' % fa,
               env={"LOCK_TTL": "2"})
    wait_until(lambda: os.path.exists(fa), 5, "A holds")
    b = recipe(c.srv, "lock.sh", name, "sh", "-c", 'touch "%s"' % fb, env={"LOCK_TTL": "2"})
    time.sleep(1.0)
    true(not os.path.exists(fb), "B waits while A holds")
    t0 = time.time()
    a.kill()
    wait_until(lambda: os.path.exists(fb), 6, "B takes over after A's TTL")
    true(time.time() - t0 <= 4.0, "within the TTL (2s) and a refresh")
    eq(b.wait_exit(5), 0, "B's exit status")


def test_elect_next_leader(c):
    name = c.k("elect")
    listener = recipe(c.srv, "elect.sh", "-l", name)
    one = recipe(c.srv, "elect.sh", name, "one", env={"ELECT_TTL": "3"})
    wait_until(lambda: "one" in one.output().split(), 5, "one is elected")
    two = recipe(c.srv, "elect.sh", name, "two", env={"ELECT_TTL": "3"})
    time.sleep(0.5)
    eq(two.output(), "", "two waits while one leads")
    wait_until(lambda: "one" in listener.output().split(), 5, "the listener sees one")
    one.signal_group(signal.SIGTERM)
    eq(one.wait_exit(5), 0, "one resigns")
    wait_until(lambda: "two" in two.output().split(), 5, "two is elected")
    wait_until(lambda: "two" in listener.output().split(), 5, "the listener sees two")
    two.stop()
    listener.stop()


def test_fleet_demo(c):
    binary = ct.etcd_bin() if c.srv.kind == "etcd" else ct.cetcd_bin()
    env = {"CETCD": binary, "MEMBER_PORT": str(procs.free_port()),
           "PEER_PORT": str(procs.free_port()), "PROXY_PORT": str(procs.free_port()),
           "TTL": "2"}
    if c.srv.kind == "etcd":
        env["ETCD_ENABLE_V2"] = "true"
    p = recipe(c.srv, "fleet-demo.sh", env=env)
    rc = p.wait_exit(40)
    out = p.output()
    if rc is None:
        p.kill()
    eq(rc, 0, "fleet-demo.sh exit status; output:\n" + out)
    for line in ("web and db registered", "watcher: web failed", "rescheduled web on host2",
                 "db still registered"):
        true("fleet: " + line in out, "%r in the output:\n%s" % (line, out))


if __name__ == "__main__":
    if not CETCDCTL:
        ct.skip("cetcdctl not found (CETCDCTL_BIN)")
    if not shutil.which("curl"):
        ct.skip("curl not found")
    TMP = procs.temp_dir("cetcd-recipes-")
    try:
        ct.run(globals())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
