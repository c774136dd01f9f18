#!/usr/bin/env python3
"""cetcdctl against real etcdctl (ETCDCTL_API=2 /usr/bin/etcdctl): the same
command lines, each tool against its own fresh server of the same kind
(CETCD_TARGET: cetcd by default, etcd for real etcd 3.4 --enable-v2), the
same history on both so indexes agree; stdout, stderr and exit codes are
compared after normalising only what must differ (the servers' URLs and
ports, member ids, expiration times, remaining TTLs, the program's name).
Then cetcdctl's own lock / elect (competing processes, a holder killed:
the next takes over after the TTL, never two holders at once) and endpoint.
Skips (77) without etcdctl or without cetcdctl."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
from cetcdtest import eq, true  # noqa: E402


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


def cetcdctl_bin():
    b = os.environ.get("CETCDCTL_BIN") or ""
    if b and os.access(b, os.X_OK):
        return b
    cand = os.path.join(os.getcwd(), "cetcdctl")
    return cand if os.access(cand, os.X_OK) else shutil.which("cetcdctl")


ETCDCTL = etcdctl_bin()
CETCDCTL = cetcdctl_bin()


def env_for(extra=None):
    env = dict(os.environ)
    env["ETCDCTL_API"] = "2"
    # cetcdctl is a one-shot process: what a command holds for its whole life
    # (flags, endpoints, member lists) is left to exit, as git does, so a
    # sanitizer build checks it for memory errors, not for leaks at exit.
    opts = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "detect_leaks=0"
    for k in list(env):
        if k.startswith("ETCDCTL_") and k != "ETCDCTL_API":
            env.pop(k)
    env.update(extra or {})
    return env


def run_tool(binary, url, args, stdin=None, env=None, endpoints=True, timeout=15):
    argv = [binary] + (["--endpoints", url] if endpoints else []) + list(args)
    p = subprocess.run(argv, input=(stdin or "").encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env_for(env), timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class Pair:
    """Two fresh servers of the target's kind: A for etcdctl, B for cetcdctl."""

    def __init__(self):
        self.a = ct.Server()
        self.b = ct.Server()
        ia, ib = self.a.index(), self.b.index()
        true(ia == ib, "fresh servers start at the same index (%s, %s)" % (ia, ib))

    def norm(self, text, srv):
        text = text.replace(srv.url, "URL").replace(srv.peer_url, "PEERURL")
        text = text.replace("127.0.0.1:%d" % srv.port, "HOSTPORT")
        text = text.replace("cetcdctl", "etcdctl")
        if getattr(srv, "_cid", None) is None:
            srv._cid = (srv.stats_self() or {}).get("id", "")
        if srv._cid:
            text = re.sub(r"\b%s\b" % srv._cid, "MEMBERID", text)
        text = re.sub(r'"expiration":"[^"]*"', '"expiration":"T"', text)
        text = re.sub(r'"ttl":\d+', '"ttl":N', text)
        text = re.sub(r"(?m)^TTL: [1-9]\d*$", "TTL: N", text)
        return text

    def both(self, args, stdin=None, env=None, url_args=None, endpoints=True):
        """Runs args through both tools; returns the two normalised results.
        url_args(srv) gives args that name the server (instead of args)."""
        ra = run_tool(ETCDCTL, self.a.url, url_args(self.a) if url_args else args, stdin, env,
                      endpoints)
        rb = run_tool(CETCDCTL, self.b.url, url_args(self.b) if url_args else args, stdin, env,
                      endpoints)
        na = (ra[0], self.norm(ra[1], self.a), self.norm(ra[2], self.a))
        nb = (rb[0], self.norm(rb[1], self.b), self.norm(rb[2], self.b))
        return na, nb

    def same(self, args, **kw):
        na, nb = self.both(args, **kw)
        eq(nb, na, "cetcdctl %s" % " ".join(args))
        return nb

    def close(self):
        self.a.cleanup()
        self.b.cleanup()


def with_pair(fn):
    def wrapped():
        p = Pair()
        try:
            fn(p)
        finally:
            p.close()
    wrapped.__name__ = fn.__name__
    return wrapped


# ---------------------------------------------------------------- 1. globals

@with_pair
def test_global_flags(p):
    p.same(["set", "/g/a", "hello world & <more>"])
    for fmt in ("simple", "extended", "json"):
        p.same(["-o", fmt, "get", "/g/a"])
        p.same(["--output=%s" % fmt, "get", "/g/nope"])
    p.same(["-o", "bogus", "get", "/g/a"])
    p.same(["--debug", "get", "/g/a"])
    p.same(["--debug", "--no-sync", "set", "/g/b", "x y+z%"])
    p.same(["--debug", "-o", "json", "ls", "--sort", "-r", "/"])
    p.same(["--no-sync", "get", "/g/a"])
    p.same(["--timeout", "0.5", "get", "/g/a"])
    p.same(["--timeout", "3s", "--total-timeout", "10s", "get", "/g/a"])
    p.same(["--bogus", "get", "/g/a"])
    p.same(["--version"])
    p.same(["--help"])
    p.same(["nosuchcommand"])
    p.same(["get", "--help"])
    p.same(["help", "set"])
    for args in ([], ["help"], ["h"], ["--output"], ["-o"], ["--debug=false", "get", "/g/a"],
                 ["--timeout=1h", "get", "/g/a"], ["--no-sync=true", "get", "/g/a"],
                 ["-o=json", "get", "/g/a"], ["---x", "get"], ["-", "get"]):
        p.same(args)
    for args in (["member"], ["member", "bogus"], ["member", "--bogus"], ["member", "list", "-h"],
                 ["member", "add", "--help"], ["member", "list", "--bogus"],
                 ["user", "grant", "--help"], ["role", "revoke", "-h"], ["auth", "enable", "-h"],
                 ["user", "bogus"], ["role"], ["auth", "--bogus"], ["watch", "-h"],
                 ["exec-watch", "--help"], ["cluster-health", "-h"]):
        p.same(args)


@with_pair
def test_env_and_failover(p):
    p.same(["set", "/f/a", "1"])
    dead = "http://127.0.0.1:%d" % ct.free_port()
    # The environment when no flag is given.
    for var in ("ETCDCTL_ENDPOINTS", "ETCDCTL_ENDPOINT", "ETCDCTL_PEERS"):
        na = run_tool(ETCDCTL, "", ["get", "/f/a"], env={var: p.a.url}, endpoints=False)
        nb = run_tool(CETCDCTL, "", ["get", "/f/a"], env={var: p.b.url}, endpoints=False)
        eq(nb, na, "endpoints from $%s" % var)
    # A dead endpoint first: skipped (with and without the sync).
    for extra in ([], ["--no-sync"]):
        na = run_tool(ETCDCTL, "", ["--endpoints", "%s,%s" % (dead, p.a.url)] + extra +
                      ["get", "/f/a"], endpoints=False)
        nb = run_tool(CETCDCTL, "", ["--endpoints", "%s,%s" % (dead, p.b.url)] + extra +
                      ["get", "/f/a"], endpoints=False)
        eq(nb, na, "dead endpoint first %s" % extra)
    # Only dead endpoints: exit 2 after the sync, 4 without it.
    for extra in ([], ["--no-sync"]):
        na = run_tool(ETCDCTL, "", ["--endpoints", dead] + extra + ["get", "/f/a"],
                      endpoints=False)
        nb = run_tool(CETCDCTL, "", ["--endpoints", dead] + extra + ["get", "/f/a"],
                      endpoints=False)
        eq(nb, na, "dead endpoint only %s" % extra)
    # A server that accepts and never answers: the per-request timeout.
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    hang = "http://127.0.0.1:%d" % ls.getsockname()[1]
    try:
        for extra in (["--no-sync"], []):
            args = ["--endpoints", hang, "--timeout", "300ms"] + extra + ["get", "/f/a"]
            na = run_tool(ETCDCTL, "", args, endpoints=False)
            nb = run_tool(CETCDCTL, "", args, endpoints=False)
            eq(nb, na, "hanging endpoint %s" % extra)
        args = ["--endpoints", hang, "--no-sync", "--total-timeout", "300ms", "get", "/f/a"]
        eq(run_tool(CETCDCTL, "", args, endpoints=False),
           run_tool(ETCDCTL, "", args, endpoints=False), "total timeout")
    finally:
        ls.close()


# ---------------------------------------------------------------- 2. keys

KEYS_SCRIPT = [
    ["set", "/k/a", "1"],
    ["set", "/k/a", "2"],
    ["get", "/k/a"],
    ["get"],
    ["set", "/k/b"],
    ["set", "--ttl", "100", "/k/t", "v"],
    ["-o", "extended", "get", "/k/t"],
    ["-o", "json", "get", "/k/t"],
    ["set", "/k/c", "v", "--ttl", "50"],
    ["set", "--ttl", "abc", "/k/x", "y"],
    ["set", "--swap-with-value", "2", "/k/a", "3"],
    ["set", "--swap-with-value", "nope", "/k/a", "4"],
    ["set", "--swap-with-index", "1", "/k/a", "5"],
    ["-o", "extended", "set", "/k/a", "6"],
    ["mk", "/k/m", "1"],
    ["mk", "/k/m", "2"],
    ["mk", "--in-order", "/k/q", "first"],
    ["-o", "json", "mk", "--in-order", "/k/q", "second"],
    ["ls", "--sort", "/k/q"],
    ["mkdir", "/k/d"],
    ["mkdir", "/k/d"],
    ["-o", "extended", "mkdir", "/k/d2"],
    ["setdir", "/k/d"],
    ["setdir", "--ttl", "100", "/k/d3"],
    ["updatedir", "/k/d3"],
    ["updatedir", "/k/nodir"],
    ["update", "/k/a", "7"],
    ["update", "/k/zz", "7"],
    ["get", "/k"],
    ["get", "--sort", "/k/a", "--quorum"],
    ["ls"],
    ["ls", "--sort", "/k"],
    ["ls", "--sort", "-r", "/k"],
    ["ls", "--sort", "-r", "-p", "/k"],
    ["ls", "/k/a"],
    ["-o", "extended", "ls", "/k/a"],
    ["-o", "json", "ls", "--sort", "/k"],
    ["ls", "/nonexistent"],
    ["rm", "/k/d"],
    ["rm", "--dir", "/k/d"],
    ["rm", "/k/m"],
    ["-o", "extended", "rm", "/k/a"],
    ["-o", "json", "rm", "--with-value", "x", "/k/c"],
    ["rm", "--with-value", "v", "/k/c"],
    ["rm", "--with-index", "1", "/k/t"],
    ["rmdir", "/k/q"],
    ["rm", "/k/q"],
    ["rm", "-r", "/k/q"],
    ["rmdir", "/k/d2"],
    ["-o", "json", "rmdir", "/k/d3"],
    ["rm", "/k/gone"],
    ["rm"],
    ["set", "/k/esc key", "a&b=c d"],
    ["get", "/k/esc key"],
    ["--debug", "get", "/k/esc key"],
    ["ls", "-r", "--sort", "/"],
    ["set", "--", "/k/dash", "-v"],
    ["get", "/k/dash"],
    ["set", "/k/dash2", "-v"],
    ["set", "/k/dash3", "-x", "y"],
    ["-o", "extended", "set", "/k/ttl2", "v", "--ttl=5", "w"],
    ["get", "/k/dash3", "--sort", "x"],
    ["get", "/k/dash3", "-h"],
    ["set", "/k/../k/clean", "c"],
    ["get", "/k//clean/"],
    ["get", "k/clean"],
    ["set", "--ttl", "-5", "/k/neg", "v"],
    ["set", "/k/neg", "v", "--ttl=-5"],
    ["set", "--ttl=0x10", "/k/hex", "v"],
    ["set", "--swap-with-index", "abc", "/k/neg", "v"],
    ["get", "-q", "/k/neg"],
    ["get", "--quorum=false", "/k/neg"],
    ["get", "--sort=maybe", "/k/neg"],
    ["ls", "-"],
    ["rm", "-r"],
    ["watch", "--after-index"],
    ["set", "/k/sep", "--", "-v"],
    ["set", "/k/sep2", "--ttl", "--", "v"],
    ["get", "--sort", "--", "/k/sep"],
    ["set", "--ttl", "--sort", "/k/x", "v"],
    ["get", "/k/sep", "--quorum", "--sort"],
    ["--debug", "mkdir", "--ttl", "100", "/k/dbg"],
    ["--debug", "mk", "--in-order", "--ttl", "100", "/k/dbgq", "v"],
    ["--debug", "set", "--swap-with-value", "c", "--swap-with-index", "99", "/k/clean", "d"],
    ["--debug", "update", "/k/clean", "e"],
    ["--debug", "updatedir", "/k/dbg"],
    ["--debug", "setdir", "/k/dbg2"],
    ["--debug", "rm", "--with-value", "e", "--with-index", "99", "/k/clean"],
    ["--debug", "rm", "-r", "--dir", "/k/dbgq"],
    ["--debug", "rmdir", "/k/dbg2"],
    ["--debug", "ls", "-r", "--quorum", "/k/dbg"],
]


@with_pair
def test_keys_commands(p):
    for args in KEYS_SCRIPT:
        p.same(args)
    p.same(["set", "/k/stdin"], stdin="from stdin\n")
    p.same(["mk", "/k/stdin2"], stdin="x")
    p.same(["update", "/k/stdin"], stdin="")


# ---------------------------------------------------------------- 3. watch

def start_watch(binary, srv, args):
    return subprocess.Popen([binary, "--endpoints", srv.url] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env_for(), stdin=subprocess.DEVNULL)


def finish(proc, timeout=5, interrupt=False):
    if interrupt:
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out.decode(), err.decode()


def ready(*srvs, n=1):
    """Until each server counts n watchers (/v2/stats/store), bounded."""
    for srv in srvs:
        deadline = time.time() + 5
        while time.time() < deadline:
            js = srv.get_json("/v2/stats/store") or {}
            if js.get("watchers", 0) >= n:
                break
            time.sleep(0.05)


@with_pair
def test_watch(p):
    cases = [
        (["watch", "/w/a"], [["set", "/w/a", "1"]], False),
        (["watch", "-r", "/w"], [["set", "/w/x/y", "2"]], False),
        (["-o", "json", "watch", "/w/a"], [["set", "/w/a", "3"]], False),
        (["-o", "extended", "watch", "/w/a"], [["rm", "/w/a"]], False),
        (["watch", "--forever", "-r", "/w"],
         [["set", "/w/f", "1"], ["mkdir", "/w/dir"], ["set", "/w/f", "2"], ["rm", "/w/f"]],
         True),
        (["watch"], [], False),
    ]
    for wargs, writes, forever in cases:
        wa = start_watch(ETCDCTL, p.a, wargs)
        wb = start_watch(CETCDCTL, p.b, wargs)
        ready(p.a, p.b, n=1 if writes else 0)
        for w in writes:
            p.same(w)
        if forever:
            time.sleep(0.5)
        ra = finish(wa, interrupt=forever)
        rb = finish(wb, interrupt=forever)
        eq((rb[0], p.norm(rb[1], p.b), p.norm(rb[2], p.b)),
           (ra[0], p.norm(ra[1], p.a), p.norm(ra[2], p.a)), "watch %s" % wargs)
    # --after-index: the history both servers share.
    idx = str(p.a.index() - 3)
    p.same(["watch", "--after-index", idx, "/w/f"])
    p.same(["watch", "-r", "--after-index", "1", "/w"])


@with_pair
def test_exec_watch(p):
    script = 'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_MODIFIED_INDEX"'
    wa = start_watch(ETCDCTL, p.a, ["exec-watch", "-r", "/x", "--", "sh", "-c", script])
    wb = start_watch(CETCDCTL, p.b, ["exec-watch", "-r", "/x", "--", "sh", "-c", script])
    ready(p.a, p.b)
    for w in (["set", "/x/a", "v1"], ["mkdir", "/x/d"], ["set", "/x/a", "v 2"]):
        p.same(w)
        time.sleep(0.3)
    time.sleep(0.5)
    ra = finish(wa, interrupt=True)
    rb = finish(wb, interrupt=True)
    eq(rb, ra, "exec-watch")
    p.same(["exec-watch", "/x"])


# ---------------------------------------------------------------- 4. members

@with_pair
def test_members(p):
    p.same(["member", "list"])
    p.same(["member", "list", "extra"])
    p.same(["member", "add", "onlyname"])
    p.same(["member", "add", "n2", "foo"])
    p.same(["member", "remove"])
    p.same(["member", "remove", "123456789abcdef0"])
    p.same(["member", "remove", "a"])
    p.same(["member", "update", "x"])
    p.same(["member", "update", "123456789abcdef0", "http://127.0.0.1:1"])
    p.same(["cluster-health"])
    p.same(["--debug", "cluster-health"])
    p.same(["--debug", "member", "list"])
    p.same(["member", "update"], url_args=lambda s: ["member", "update", s.stats_self()["id"],
                                                     s.peer_url])
    p.same(["member", "list"])
    dead = "http://127.0.0.1:%d" % ct.free_port()
    na = run_tool(ETCDCTL, "", ["--endpoints", dead, "cluster-health"], endpoints=False)
    nb = run_tool(CETCDCTL, "", ["--endpoints", dead, "cluster-health"], endpoints=False)
    eq(nb, na, "cluster-health, dead endpoint")


# ---------------------------------------------------------------- 6. auth

AUTH_SCRIPT = [
    ["user", "list"], ["role", "list"],
    ["user", "add", "u1:p1"], ["user", "add", "u1:p1"], ["user", "get", "u1"],
    ["user", "get", "nouser"], ["user", "get"],
    ["role", "add", "r1"], ["role", "add", "r1"], ["role", "get", "r1"], ["role", "get", "nor"],
    ["role", "grant", "r1", "--path", "/foo", "--read"],
    ["role", "grant", "r1", "--path", "/foo", "--read"],
    ["role", "grant", "r1", "--path", "/foo/*", "--rw"],
    ["role", "grant", "r1", "--path", "/foo"],
    ["role", "grant", "r1", "--path", "foo", "--read"],
    ["role", "grant", "r1", "--read"],
    ["role", "grant", "--path", "/foo", "--write"],
    ["role", "grant", "nor", "--path", "/foo", "--write"],
    ["role", "get", "r1"],
    ["user", "grant", "u1", "--roles", "r1", "--roles", "r2"],
    ["user", "grant", "u1", "--roles", "r1"],
    ["user", "grant", "u1"],
    ["user", "grant", "--roles", "r1"],
    ["user", "get", "u1"], ["user", "list"], ["role", "list"],
    ["role", "revoke", "r1", "--path", "/foo", "--write"],
    ["role", "revoke", "r1", "--path", "/foo", "--read"],
    ["role", "get", "r1"],
    ["user", "revoke", "u1", "--roles", "r1"],
    ["user", "remove", "u1"], ["user", "remove", "u1"],
    ["role", "remove", "r1"], ["role", "remove", "r1"],
    ["auth", "disable"], ["auth", "enable"],
    ["user", "add", "root:rootpw"], ["auth", "enable"], ["auth", "enable", "x"],
    ["set", "/a/b", "c"],
    ["-u", "root:rootpw", "set", "/a/b", "c"],
    ["-u", "root:bad", "get", "/a/b"],
    ["-u", "root:rootpw", "user", "list"],
    ["-u", "root:rootpw", "role", "list"],
    ["-u", "root:bad", "user", "list"],
    ["-u", "root:rootpw", "auth", "disable"],
    ["user", "nosub"],
    ["--debug", "user", "add", "dbg:pw"],
    ["--debug", "user", "grant", "dbg", "--roles", "nosuch"],
    ["--debug", "role", "add", "dbgr"],
    ["--debug", "role", "grant", "dbgr", "--path", "/x", "--rw"],
    ["--debug", "auth", "disable"],
]


@with_pair
def test_auth(p):
    r = p.b.request("GET", "/v2/auth/enable")
    if r.json is None:
        print("# test_auth: the %s server has no /v2/auth (%d): not compared" % (
            p.b.kind, r.status))
        return
    for args in AUTH_SCRIPT:
        p.same(args)
    for var in ("ETCDCTL_USERNAME",):
        na = run_tool(ETCDCTL, p.a.url, ["user", "get", "root"], env={var: "root:rootpw"})
        nb = run_tool(CETCDCTL, p.b.url, ["user", "get", "root"], env={var: "root:rootpw"})
        eq(nb, na, "$ETCDCTL_USERNAME")


# ---------------------------------------------------------------- cluster

def test_cluster_failover():
    """A 3-member cluster with one member killed: the sync learns every
    member's client URL, the dead one is skipped; cluster-health reports it
    (both tools against the same cluster, read-mostly commands)."""
    import clustertest
    try:
        c = clustertest.Cluster(3).start()
    except clustertest.Unsupported as e:
        print("# test_cluster_failover: %s" % e)
        return
    try:
        def same(args, **kw):
            ra = run_tool(ETCDCTL, "", args, endpoints=False, **kw)
            rb = run_tool(CETCDCTL, "", args, endpoints=False, **kw)
            rb = (rb[0], rb[1].replace("cetcdctl", "etcdctl"), rb[2])
            eq(rb, ra, "cetcdctl %s" % " ".join(args))
        eps = ",".join(m.url for m in c)
        same(["--endpoints", eps, "set", "/cl/a", "1"])
        same(["--endpoints", eps, "member", "list"])
        same(["--endpoints", eps, "cluster-health"])
        dead = c[0]
        dead.kill()
        c.wait_leader(10.0)
        for extra in ([], ["--no-sync"]):
            for _ in range(3):
                same(["--endpoints", eps] + extra + ["get", "/cl/a"])
                same(["--endpoints", "%s,%s" % (dead.url, c[1].url)] + extra +
                     ["-o", "extended", "get", "/cl/a"])
        same(["--endpoints", dead.url, "get", "/cl/a"])
        same(["--endpoints", dead.url, "--no-sync", "get", "/cl/a"])
        same(["--endpoints", c[2].url, "cluster-health"])
        same(["--endpoints", c[2].url, "member", "list"])
        same(["--endpoints", c[1].url, "set", "/cl/a", "2"])
    finally:
        c.cleanup()


# ---------------------------------------------------------------- TLS

def certtool(*args):
    subprocess.run(["certtool"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1 and a client one (certtool)."""
    def tmpl(name, text):
        p = os.path.join(d, name + ".tmpl")
        with open(p, "w") as f:
            f.write(text + "expiration_days = 30\n")
        return p

    def key(name):
        p = os.path.join(d, name + ".key")
        certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", p)
        return p

    ca_key = key("ca")
    ca = os.path.join(d, "ca.pem")
    certtool("--generate-self-signed", "--load-privkey", ca_key, "--template",
             tmpl("ca", "cn = ca\nca\ncert_signing_key\n"), "--outfile", ca)
    out = {"ca": ca}
    for name, text in (("server", "cn = server\nip_address = 127.0.0.1\ntls_www_server\n"
                        "tls_www_client\nsigning_key\nencryption_key\n"),
                       ("client", "cn = root\ntls_www_client\nsigning_key\n")):
        k = key(name)
        p = os.path.join(d, name + ".pem")
        certtool("--generate-certificate", "--load-privkey", k, "--load-ca-certificate", ca,
                 "--load-ca-privkey", ca_key, "--template", tmpl(name, text), "--outfile", p)
        out[name] = (p, k)
    return out


def test_tls():
    if not shutil.which("certtool"):
        print("# test_tls: certtool not installed: not run")
        return
    kind = ct.target()
    binary = ct.etcd_bin() if kind == "etcd" else ct.cetcd_bin()
    d = tempfile.mkdtemp(prefix="cetcdctl-tls-")
    proc = None
    try:
        c = make_certs(d)
        port, peer = ct.free_port(), ct.free_port()
        url = "https://127.0.0.1:%d" % port
        purl = "http://127.0.0.1:%d" % peer
        argv = [binary, "--name", "tls", "--data-dir", os.path.join(d, "data"),
                "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
                "--initial-cluster", "tls=" + purl,
                "--cert-file", c["server"][0], "--key-file", c["server"][1],
                "--trusted-ca-file", c["ca"], "--client-cert-auth"]
        if kind == "etcd":
            argv += ["--enable-v2=true", "--log-level", "error"]
        log = open(os.path.join(d, "log"), "w")
        proc = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        flags = ["--endpoints", url, "--ca-file", c["ca"], "--cert-file", c["client"][0],
                 "--key-file", c["client"][1]]
        while time.time() < deadline:
            if proc.poll() is not None:
                print("# test_tls: the %s server does not start with TLS flags: not run" % kind)
                return
            if run_tool(CETCDCTL, "", flags + ["ls"], endpoints=False)[0] == 0:
                break
            time.sleep(0.2)

        def same(args, env=None):
            ra = run_tool(ETCDCTL, "", args, env=env, endpoints=False)
            rb = run_tool(CETCDCTL, "", args, env=env, endpoints=False)
            rb = (rb[0], rb[1].replace("cetcdctl", "etcdctl"), rb[2])
            eq(rb, ra, "cetcdctl %s" % " ".join(args))
            return rb

        rc, out, err = same(flags + ["set", "/tls/a", "secure"])
        eq((rc, out), (0, "secure\n"), "set over TLS (%r)" % err)
        same(flags + ["get", "/tls/a"])
        same(flags + ["member", "list"])
        same(flags + ["cluster-health"])
        same(["--endpoints", url, "get", "/tls/a"],
             env={"ETCDCTL_CA_FILE": c["ca"], "ETCDCTL_CERT_FILE": c["client"][0],
                  "ETCDCTL_KEY_FILE": c["client"][1]})
        # Without the client certificate / CA: both fail (texts differ: Go's
        # crypto/tls and GnuTLS word them apart).
        for bad in (["--endpoints", url, "--ca-file", c["ca"]],
                    ["--endpoints", url, "--cert-file", c["client"][0],
                     "--key-file", c["client"][1]]):
            ra = run_tool(ETCDCTL, "", bad + ["get", "/tls/a"], endpoints=False)
            rb = run_tool(CETCDCTL, "", bad + ["get", "/tls/a"], endpoints=False)
            eq(rb[0], ra[0], "exit code of %s (etcdctl %r, cetcdctl %r)" % (bad, ra[2], rb[2]))
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- bad servers

FAKE = {
    # path -> (status, headers, body)
    "/v2/keys/garbage": (200, {}, b"not json"),
    "/v2/keys/e404": (404, {}, b"404 page not found"),
    "/v2/keys/empty": (200, {}, b""),
    "/v2/keys/e500": (500, {}, b"{}"),
    "/v2/keys/e502": (502, {}, b""),
    "/v2/keys/badnode": (200, {"X-Etcd-Index": "7"}, b'{"action":"get","node":"x"}'),
    "/v2/keys/badnodes": (200, {"X-Etcd-Index": "7"},
                          b'{"action":"get","node":{"key":"/d","dir":true,"nodes":[1]}}'),
    "/v2/keys/badindex": (200, {"X-Etcd-Index": "x"},
                          b'{"action":"get","node":{"key":"/i","value":"v"}}'),
    "/v2/keys/nonode": (200, {"X-Etcd-Index": "7"}, b'{"action":"get"}'),
    "/v2/keys/redirect": (307, {"Location": "/v2/keys/target"}, b""),
    "/v2/keys/noloc": (302, {}, b""),
    "/v2/keys/absredirect": (307, {}, b""),
    "/v2/keys/target": (200, {"X-Etcd-Index": "9"},
                        b'{"action":"get","node":{"key":"/target","value":"moved",'
                        b'"modifiedIndex":3,"createdIndex":3}}'),
    "/v2/keys/errfields": (404, {}, b'{"errorCode":"x","message":7}'),
    "/v2/members": (200, {}, b"garbage"),
}


def fake_server():
    import http.server

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            st, hdrs, body = FAKE.get(self.path.split("?")[0], (404, {}, b"no"))
            if self.path.startswith("/v2/keys/absredirect"):
                st, hdrs = 307, {"Location": "http://127.0.0.1:%d/v2/keys/target" %
                                 self.server.server_address[1]}
            self.send_response(st)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_PUT = do_DELETE = do_POST = do_GET

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_bad_servers():
    srv = fake_server()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    try:
        for key in sorted(k[len("/v2/keys"):] for k in FAKE if k.startswith("/v2/keys/")):
            for extra in (["--no-sync"], []):
                for args in (["get", key], ["-o", "json", "ls", key]):
                    ra = run_tool(ETCDCTL, url, extra + args)
                    rb = run_tool(CETCDCTL, url, extra + args)
                    if ra[2].startswith("panic:"):
                        # etcdctl crashes (a response without a node):
                        # cetcdctl says why and exits 4.
                        eq(rb, (4, "", "Error:  client: the response has no node\n"),
                           "cetcdctl %s (etcdctl panics)" % " ".join(extra + args))
                        continue
                    eq(rb, ra, "cetcdctl %s against a bad server" % " ".join(extra + args))
        for args in (["member", "list"], ["cluster-health"]):
            eq(run_tool(CETCDCTL, url, args), run_tool(ETCDCTL, url, args),
               "cetcdctl %s against a bad server" % " ".join(args))
    finally:
        srv.shutdown()
        srv.server_close()


# ---------------------------------------------------------------- 5. beyond etcdctl

def test_endpoint():
    srv = ct.Server(name="ep")
    try:
        rc, out, err = run_tool(CETCDCTL, srv.url, ["endpoint", "health"])
        eq(rc, 0, "endpoint health rc (%r)" % err)
        true(out.startswith("%s is healthy" % srv.url), "endpoint health: %r" % out)
        rc, out, err = run_tool(CETCDCTL, srv.url, ["endpoint", "status"])
        eq(rc, 0, "endpoint status rc (%r)" % err)
        true(out.startswith(srv.url + ", ") and "isLeader=true" in out, "status: %r" % out)
        dead = "http://127.0.0.1:%d" % ct.free_port()
        rc, out, err = run_tool(CETCDCTL, "", ["--no-sync", "--endpoints", "%s,%s" % (
            srv.url, dead), "endpoint", "health"], endpoints=False)
        eq(rc, 1, "one endpoint down: rc")
        true("%s is unhealthy" % dead in out, "endpoint health, one down: %r" % out)
    finally:
        srv.cleanup()


def test_dump_restore():
    """A subtree of a real etcd v2 store (when etcd is installed, else the
    target) dumped and restored into a fresh target server, then dumped
    again: the same lines (remaining TTLs aside)."""
    src = ct.Server(kind="etcd" if ct.etcd_bin() else None)
    dst = ct.Server()
    try:
        for args in (["set", "/app/a", "1"], ["set", "/app/sub/b", "x y&z\n\u00e9"],
                     ["mkdir", "/app/empty"], ["set", "--ttl", "300", "/app/t", "tv"],
                     ["mkdir", "--ttl", "300", "/app/tdir"], ["set", "/app/tdir/k", "v"],
                     ["set", "/other", "o"]):
            eq(run_tool(CETCDCTL, src.url, args)[0], 0, "populate %s" % args)
        rc, dump, err = run_tool(CETCDCTL, src.url, ["dump", "/app"])
        eq(rc, 0, "dump rc (%r)" % err)
        true('"/other"' not in dump and '{"key":"/app/sub","dir":true}' in dump, dump)
        rc, out, err = run_tool(CETCDCTL, dst.url, ["restore"], stdin=dump)
        eq((rc, out), (0, ""), "restore (%r)" % err)
        rc, again, _ = run_tool(CETCDCTL, dst.url, ["dump", "/app"])
        norm = lambda t: re.sub(r'"ttl":\d+', '"ttl":N', t)  # noqa: E731
        eq(norm(again), norm(dump), "dump after restore")
        true('"ttl"' in again, "TTLs kept: %r" % again)
        # Again on top: directories kept, values overwritten.
        eq(run_tool(CETCDCTL, dst.url, ["restore"], stdin=dump)[0], 0, "restore twice")
        rc, _, err = run_tool(CETCDCTL, dst.url, ["restore", "--prefix", "/copy"], stdin=dump)
        eq(rc, 0, "restore --prefix (%r)" % err)
        eq(run_tool(CETCDCTL, dst.url, ["get", "/copy/app/sub/b"])[1], "x y&z\n\u00e9\n",
           "restored under the prefix")
        rc, _, err = run_tool(CETCDCTL, dst.url, ["restore"], stdin="not json\n")
        true(rc == 1 and "line 1: not a dump line" in err, "garbage: %d %r" % (rc, err))
        rc, _, err = run_tool(CETCDCTL, dst.url, ["restore"],
                              stdin='{"key":"/app/a/under","value":"x"}\n')
        true(rc == 4 and "Not a directory" in err, "restore error: %d %r" % (rc, err))
    finally:
        src.cleanup()
        dst.cleanup()


def lock_holder(srv, name, log, ttl, hold_s):
    """A cetcdctl lock process running a command that records its tenure."""
    cmd = ("echo start $$ $(date +%%s.%%N) >> %s; sleep %s; echo end $$ $(date +%%s.%%N) >> %s"
           % (log, hold_s, log))
    return subprocess.Popen([CETCDCTL, "--endpoints", srv.url, "lock", "--ttl", str(ttl), name,
                             "sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_for(), start_new_session=True)


def tenures(log):
    """[(pid, start, end)] from a lock log; asserts no two overlap."""
    spans, open_ = [], {}
    with open(log) as f:
        for line in f:
            what, pid, t = line.split()
            if what == "start":
                true(not open_, "two holders at once: %s while %s" % (pid, list(open_)))
                open_[pid] = float(t)
            else:
                spans.append((pid, open_.pop(pid), float(t)))
    return spans, open_


def test_lock():
    srv = ct.Server(name="lock")
    tmp = tempfile.mkdtemp(prefix="cetcdctl-lock-")
    try:
        log = os.path.join(tmp, "log")
        procs = [lock_holder(srv, "/locks/l1", log, 5, 0.4) for _ in range(4)]
        for pr in procs:
            rc, out, err = finish(pr, timeout=20)
            eq(rc, 0, "lock holder rc (%r)" % err)
        spans, open_ = tenures(log)
        eq(len(spans), 4, "four tenures")
        eq(open_, {}, "all ended")
        # The lock's directory is empty afterwards (keys released).
        r = srv.request("GET", "/v2/keys/locks/l1")
        eq(r.json["node"].get("nodes", []), [], "released")
        # The command's exit code is cetcdctl's.
        rc, _, _ = run_tool(CETCDCTL, srv.url, ["lock", "/locks/l2", "sh", "-c", "exit 7"])
        eq(rc, 7, "exit code passes through")
        # A holder killed (SIGKILL: no release): the next one takes over
        # only after the TTL.
        log2 = os.path.join(tmp, "log2")
        a = lock_holder(srv, "/locks/l3", log2, 2, 30)
        time.sleep(0.8)
        b = lock_holder(srv, "/locks/l3", log2, 2, 0.2)
        time.sleep(0.5)
        os.killpg(a.pid, signal.SIGKILL)
        killed = time.time()
        finish(a)
        rc, out, err = finish(b, timeout=20)
        eq(rc, 0, "second holder rc (%r)" % err)
        with open(log2) as f:
            lines = f.read().split("\n")
        starts = [ln for ln in lines if ln.startswith("start")]
        eq(len(starts), 2, "two tenures: %r" % lines)
        took = float(starts[1].split()[2]) - killed
        true(took >= 0.5, "the second waited for the TTL (took %.2fs)" % took)
        true(took < 8, "the second took over within the TTL and a refresh (%.2fs)" % took)
        # A holder stopped (SIGSTOP) past its TTL loses the lock: the next
        # takes over; when the first resumes, its next refresh finds its key
        # gone, it stops its command and exits 1.
        log3 = os.path.join(tmp, "log3")
        a = lock_holder(srv, "/locks/l5", log3, 2, 30)
        deadline = time.time() + 10
        while time.time() < deadline and not (os.path.exists(log3) and open(log3).read()):
            time.sleep(0.05)
        b = lock_holder(srv, "/locks/l5", log3, 2, 0.2)
        time.sleep(0.3)
        os.killpg(a.pid, signal.SIGSTOP)
        rc, _, err = finish(b, timeout=20)
        eq(rc, 0, "the next holder after a stopped one (%r)" % err)
        os.killpg(a.pid, signal.SIGCONT)
        try:
            rc = a.wait(timeout=10)
        finally:
            try:  # the command's own children (sleep) hold the pipes
                os.killpg(a.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, err = a.communicate()
        err = err.decode()
        true(rc != 0 and "lost /locks/l5/" in err, "the stopped holder gave up: %d %r" % (rc, err))
        with open(log3) as f:
            lines = f.read().split("\n")
        eq(len([ln for ln in lines if ln.startswith("start")]), 2, "two tenures: %r" % lines)
        eq(len([ln for ln in lines if ln.startswith("end")]), 1, "the first never ended: %r" % lines)
        # No command: holds (prints the key) until SIGTERM, then releases.
        h = subprocess.Popen([CETCDCTL, "--endpoints", srv.url, "lock", "/locks/l4"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for())
        line = h.stdout.readline().decode()
        true(line.startswith("/locks/l4/"), "the held key: %r" % line)
        h.send_signal(signal.SIGTERM)
        rc, _, _ = finish(h)
        eq(rc, 0, "released on SIGTERM")
        r = srv.request("GET", "/v2/keys/locks/l4")
        eq(r.json["node"].get("nodes", []), [], "released on SIGTERM")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        srv.cleanup()


def test_elect():
    srv = ct.Server(name="elect")
    try:
        obs = subprocess.Popen([CETCDCTL, "--endpoints", srv.url, "elect", "-l", "/el/e"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for())
        a = subprocess.Popen([CETCDCTL, "--endpoints", srv.url, "elect", "--ttl", "2", "/el/e",
                              "alpha"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env_for())
        la = a.stdout.readline().decode()
        true(la.startswith("/el/e/"), "alpha elected: %r" % la)
        eq(a.stdout.readline().decode(), "alpha\n", "alpha's proposal")
        b = subprocess.Popen([CETCDCTL, "--endpoints", srv.url, "elect", "--ttl", "2", "/el/e",
                              "beta"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env_for())
        time.sleep(1.0)
        eq(b.poll(), None, "beta waits")
        a.send_signal(signal.SIGINT)
        finish(a)
        lb = b.stdout.readline().decode()
        true(lb.startswith("/el/e/") and lb != la, "beta elected: %r" % lb)
        eq(b.stdout.readline().decode(), "beta\n", "beta's proposal")
        b.kill()
        finish(b)
        time.sleep(0.3)
        obs.send_signal(signal.SIGTERM)
        _, out, _ = finish(obs)
        true("alpha\n" in out and "beta\n" in out, "observer saw both leaders: %r" % out)
    finally:
        srv.cleanup()


def main():
    if not ETCDCTL:
        ct.skip("etcdctl not found")
    if not CETCDCTL:
        ct.skip("cetcdctl not found (CETCDCTL_BIN)")
    kind = ct.target()
    if (kind == "etcd" and not ct.etcd_bin()) or (kind == "cetcd" and not ct.cetcd_bin()):
        ct.skip("%s not found" % kind)
    print("# target: %s; etcdctl %s; cetcdctl %s" % (kind, ETCDCTL, CETCDCTL))
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    tests = [(n, f) for n, f in sorted(globals().items())
             if n.startswith("test_") and callable(f)]
    if only:
        tests = [(n, f) for n, f in tests if any(o in n for o in only)]
    failed = 0
    for name, fn in tests:
        t0 = time.time()
        try:
            fn()
            print("ok   %s (%.2fs)" % (name, time.time() - t0))
        except Exception as e:  # noqa
            failed += 1
            print("FAIL %s (%.2fs): %s" % (name, time.time() - t0, ct.failure_message(e)))
        sys.stdout.flush()
    print("# %d passed, %d failed" % (len(tests) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
