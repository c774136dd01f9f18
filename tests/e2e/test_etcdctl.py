#!/usr/bin/env python3
"""etcdctl (v2 API, ETCDCTL_API=2) against the server: set/get/mk/mkdir/ls/
update/rm/rmdir/watch/member list/cluster-health. Skips (77) without etcdctl.
Checked against etcd 3.4.23's etcdctl."""

import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
from cetcdtest import run, eq, true  # noqa: E402


def etcdctl_bin():
    b = os.environ.get("ETCDCTL_BIN")
    if b and os.access(b, os.X_OK):
        return b
    e = ct.etcd_bin()
    if e:
        cand = os.path.join(os.path.dirname(e), "etcdctl")
        if os.access(cand, os.X_OK):
            return cand
    return shutil.which("etcdctl")


def ctl(c, *args, timeout=10):
    env = dict(os.environ)
    env["ETCDCTL_API"] = "2"
    for k in ("ETCDCTL_ENDPOINTS", "ETCDCTL_ENDPOINT", "ETCDCTL_PEERS"):
        env.pop(k, None)
    p = subprocess.run([etcdctl_bin(), "--endpoints", c.srv.url] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def ok(res, what):
    rc, out, errs = res
    true(rc == 0, "%s: rc=%d stdout=%r stderr=%r" % (what, rc, out, errs))
    return out


def test_set_get(c):
    a = c.k("/a")
    eq(ok(ctl(c, "set", a, "hello"), "set"), "hello\n", "set prints the value")
    eq(ok(ctl(c, "get", a), "get"), "hello\n", "get")
    out = ok(ctl(c, "-o", "extended", "get", a), "get -o extended")
    true(("Key: %s\n" % a) in out and "Created-Index: %d" % (c.base + 1) in out,
         "extended output: %r" % out)
    out = ok(ctl(c, "-o", "json", "get", a), "get -o json")
    true('"value":"hello"' in out, "json output: %r" % out)
    rc, out, errs = ctl(c, "get", c.k("/missing"))
    eq(rc, 4, "get missing rc")
    true(re.search(r"Error:\s+100: Key not found \(%s\) \[%d\]" % (re.escape(c.k("/missing")), c.base + 1), errs),
         "get missing stderr: %r" % errs)


def test_mk_update(c):
    a = c.k("/m")
    eq(ok(ctl(c, "mk", a, "1"), "mk"), "1\n", "mk")
    rc, out, errs = ctl(c, "mk", a, "2")
    eq(rc, 4, "mk existing rc")
    true(re.search(r"105: Key already exists \(%s\) \[%d\]" % (re.escape(a), c.base + 1), errs),
         "mk existing stderr: %r" % errs)
    eq(ok(ctl(c, "update", a, "3"), "update"), "3\n", "update")
    rc, out, errs = ctl(c, "update", c.k("/zz"), "3")
    eq(rc, 4, "update missing rc")
    true("100: Key not found" in errs, "update missing stderr: %r" % errs)
    ok(ctl(c, "set", "--swap-with-value", "3", a, "4"), "set --swap-with-value")
    eq(ok(ctl(c, "get", a), "get"), "4\n", "after swap")
    rc, out, errs = ctl(c, "set", "--swap-with-value", "nope", a, "5")
    true(rc != 0 and "101: Compare failed" in errs, "failed swap: %r" % errs)
    ok(ctl(c, "set", "--ttl", "100", a, "t"), "set --ttl")
    out = ok(ctl(c, "-o", "extended", "get", a), "extended ttl")
    m = re.search(r"TTL: (\d+)", out)
    true(m and 98 <= int(m.group(1)) <= 100, "TTL shown: %r" % out)


def test_mkdir_ls_rm_rmdir(c):
    d = c.k("/d")
    ok(ctl(c, "mkdir", d), "mkdir")
    ok(ctl(c, "mkdir", d + "/empty"), "mkdir empty")
    ok(ctl(c, "set", d + "/x", "1"), "set x")
    ok(ctl(c, "set", d + "/sub/y", "2"), "set sub/y")
    out = ok(ctl(c, "ls", "--sort", d), "ls")
    eq(out, "%s/empty\n%s/sub\n%s/x\n" % (d, d, d), "ls --sort")
    out = ok(ctl(c, "ls", "--recursive", "--sort", d), "ls --recursive")
    eq(out, "%s/empty\n%s/sub\n%s/sub/y\n%s/x\n" % (d, d, d, d), "ls --recursive --sort")
    out = ok(ctl(c, "ls", "-p", "--sort", d), "ls -p")
    eq(out, "%s/empty/\n%s/sub/\n%s/x\n" % (d, d, d), "ls -p")
    rc, out, errs = ctl(c, "rmdir", d + "/sub")
    true(rc != 0 and "108: Directory not empty" in errs, "rmdir non-empty: %r" % errs)
    ok(ctl(c, "rmdir", d + "/empty"), "rmdir empty")
    out = ok(ctl(c, "rm", d + "/x"), "rm")
    eq(out, "PrevNode.Value: 1\n", "rm prints the previous value")
    rc, out, errs = ctl(c, "rm", d + "/sub")
    true(rc != 0 and "102: Not a file" in errs, "rm dir without --recursive: %r" % errs)
    ok(ctl(c, "rm", "--recursive", d), "rm --recursive")
    rc, out, errs = ctl(c, "ls", d)
    eq(rc, 4, "ls of a deleted dir")


def test_mk_in_order(c):
    q = c.k("/q")
    ok(ctl(c, "mk", "--in-order", q, "job"), "mk --in-order")
    out = ok(ctl(c, "ls", q), "ls queue")
    eq(out, "%s/%020d\n" % (q, c.base + 1), "in-order key name")


def test_watch(c):
    a = c.k("/w")
    res = {}

    def w():
        res["r"] = ctl(c, "watch", a, timeout=8)
    t = threading.Thread(target=w, daemon=True)
    t.start()
    time.sleep(0.8)
    ok(ctl(c, "set", a, "fired"), "set for watch")
    t.join(9)
    true("r" in res, "etcdctl watch did not return")
    eq(ok(res["r"], "watch"), "fired\n", "watch output")
    # exec-watch / --after-index from history
    out = ok(ctl(c, "watch", "--after-index", str(c.base), a, timeout=8), "watch --after-index")
    eq(out, "fired\n", "watch from history")


def test_watch_forever_bounded(c):
    d = c.k("/wf")
    env = dict(os.environ, ETCDCTL_API="2")
    p = subprocess.Popen([etcdctl_bin(), "--endpoints", c.srv.url, "watch", "--forever",
                          "--recursive", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, start_new_session=True)
    try:
        time.sleep(0.8)
        for i in range(3):
            ok(ctl(c, "set", "%s/k%d" % (d, i), "v%d" % i), "set")
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        p.terminate()
        try:
            out, _ = p.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate(timeout=3)
    eq(out.decode(), "".join("[set] %s/k%d\nv%d\n" % (d, i, i) for i in range(3)),
       "watch --forever --recursive saw three events")


def test_member_list_cluster_health(c):
    out = ok(ctl(c, "member", "list"), "member list")
    true(re.match(r"^[0-9a-f]+: name=%s peerURLs=%s clientURLs=%s isLeader=true\n$" %
                  (re.escape(c.srv.name), re.escape(c.srv.peer_url), re.escape(c.srv.url)), out),
         "member list output: %r" % out)
    out = ok(ctl(c, "cluster-health"), "cluster-health")
    true(re.match(r"^member [0-9a-f]+ is healthy: got healthy result from %s\ncluster is healthy\n$" %
                  re.escape(c.srv.url), out), "cluster-health output: %r" % out)


if __name__ == "__main__":
    if not etcdctl_bin():
        ct.skip("etcdctl not installed")
    run(globals())
