#!/usr/bin/env python3
"""Bootstrap through a discovery service and DNS SRV records (issue 16).

--discovery (etcd 3.4's v2 protocol): three members of the target's kind
bootstrap from a cetcd discovery service and from a real etcd one; real etcd
members bootstrap from a cetcd service (cetcd target); a 4th member when
size=3 exits with etcd's message (--discovery-fallback exit) or serves as a
proxy (fallback proxy); a wiped member registering again is a duplicate id;
a restart with its data dir ignores discovery; a missing or bad size key;
an unreachable service (retry lines; cetcd gives up after
CETCD_DISCOVERY_RETRIES, etcd retries 2^32 times and is killed);
--discovery-proxy through a small HTTP proxy written here.

--discovery-srv: _etcd-server-ssl records with https peers (--peer-auto-tls)
for both targets; _etcd-server (http) records, a proxy and the errors for
cetcd only (etcd 3.4.23 drops the _etcd-server records, doc/api-compat.md).
dnsmasq on 127.53.x.y:53 serves SRV and A records of
the test domain; every member, proxy and client runs in a private mount
namespace (unshare -m) with a resolv.conf bind-mounted over /etc/resolv.conf
that names it; the machine's own resolv.conf is never touched. Needs root,
unshare and dnsmasq (contrib/install-deps.sh --test), else that test skips.
cetcdctl --discovery-srv is compared with etcdctl's there.

CETCD_TARGET=etcd runs everything that is etcd's behaviour against etcd."""

import http.client
import http.server
import os
import random
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clustertest  # noqa: E402
from clustertest import wait_for, log  # noqa: E402
from cetcdtest import (etcd_bin, cetcd_bin, target, needs, eq, true,  # noqa: E402
                       http_request, kpath)
import procs  # noqa: E402

KIND = target()
_dirs = []
_members = []


def binary(kind):
    b = etcd_bin() if kind == "etcd" else cetcd_bin()
    if not b:
        raise AssertionError("%s binary not found" % kind)
    return b


def cetcdctl_bin():
    b = os.environ.get("CETCDCTL_BIN") or ""
    if b:
        return b if os.access(b, os.X_OK) else None
    cand = os.path.join(os.getcwd(), "cetcdctl")
    return cand if os.access(cand, os.X_OK) else shutil.which("cetcdctl")


def new_dir():
    d = procs.temp_dir("cetcd-disc-")
    _dirs.append(d)
    return d


def cleanup():
    for m in list(_members):
        m.kill()
    del _members[:]
    for d in list(_dirs):
        shutil.rmtree(d, ignore_errors=True)
    del _dirs[:]


class DMember(procs.Member):
    """A member (or proxy) bootstrapped by flags; wrap: argv prefix (the
    mount-namespace wrapper); adv_*: advertised URLs when not the listen
    ones (host names for DNS SRV); listen_peer: an https:// one."""

    def __init__(self, kind, dir, name, flags, env=None, wrap=None):
        procs.Member.__init__(self, binary(kind), dir, name)
        self.kind = kind
        self.flags = list(flags)
        self.env.update(env or {})
        self.wrap = list(wrap or [])
        self.adv_client = self.adv_peer = self.listen_peer = None
        _members.append(self)

    def argv(self):
        return self.wrap + [
            self.binary, "--name", self.name, "--data-dir", self.data_dir,
            "--listen-client-urls", self.url,
            "--advertise-client-urls", self.adv_client or self.url,
            "--listen-peer-urls", self.listen_peer or self.peer_url,
            "--initial-advertise-peer-urls", self.adv_peer or self.peer_url,
            "--enable-v2=true"] + self.flags

    def req(self, method, key, form=None, params=None, timeout=5.0):
        return http_request(self.host, self.port, method, kpath(key), params, form,
                            timeout=timeout)

    def names(self):
        js = self.get_json("/v2/members")
        if not js:
            return None
        return sorted(m.get("name", "") for m in js["members"])

    def ids(self):
        js = self.get_json("/v2/members")
        return sorted(m["id"] for m in js["members"]) if js else None


def service(kind):
    """A one-member discovery service of kind."""
    m = procs.Member(binary(kind), new_dir(), "ds", extra_args=["--enable-v2=true"])
    _members.append(m)
    m.start_answering(15)
    m.kind = kind
    return m


def new_token(ds, size):
    tok = "tok%06d" % random.randrange(10 ** 6)
    if size is not None:
        r = http_request(ds.host, ds.port, "PUT", kpath("/%s/_config/size" % tok),
                         form={"value": str(size)})
        true(r.status in (200, 201), "size key set: %r" % (r,))
    return tok, "%s/v2/keys/%s" % (ds.url, tok)


def registered(ds, tok):
    """The member ids registered under the token, by createdIndex."""
    r = http_request(ds.host, ds.port, "GET", kpath("/" + tok))
    nodes = [n for n in r.json["node"].get("nodes", []) if not n["key"].endswith("/_config")]
    nodes.sort(key=lambda n: n["createdIndex"])
    return [n["key"].rsplit("/", 1)[1] for n in nodes]


def wait_exit(m, timeout, what):
    rc = m.wait_exit(timeout)
    true(rc is not None, "%s exits within %.0fs:\n%s" % (what, timeout, m.log_tail(10)))
    return rc


def has_line(m, text):
    return text in m.output()


def bootstrap(ds, kind, n=3, name_prefix="m"):
    tok, durl = new_token(ds, n)
    d = new_dir()
    ms = [DMember(kind, d, "%s%d" % (name_prefix, i), ["--discovery", durl])
          for i in range(n)]
    for m in ms:
        m.spawn()
    want = sorted(m.name for m in ms)
    for m in ms:
        wait_for(lambda: (m.alive() or (_ for _ in ()).throw(
            AssertionError("%s exited:\n%s" % (m.name, m.log_tail(12))))) and
            m.names() == want, "%s lists %s" % (m.name, want), 30)
    # the registered keys are the member ids, first come first served
    eq(sorted(registered(ds, tok)), ms[0].ids(), "registered ids = member ids")
    r = ms[0].req("PUT", "/disc/k", form={"value": "v1"})
    true(r.status in (200, 201), "write through %s: %r" % (ms[0].name, r))
    wait_for(lambda: ms[-1].req("GET", "/disc/k", params={"quorum": "true"}).json
             .get("node", {}).get("value") == "v1", "the write read on the last member")
    for m in ms:
        true(has_line(m, "found 3 needed peer(s)") or n != 3,
             "%s logs the peers it found:\n%s" % (m.name, m.log_tail(12)))
    return tok, durl, ms


# --------------------------------------------------------------------------

def test_from_cetcd_service():
    """Target members from a cetcd service; then a 4th member (exit, proxy),
    a wiped member registering again, a restart ignoring discovery."""
    ds = service("cetcd")
    tok, durl, ms = bootstrap(ds, KIND)
    d = new_dir()
    # a 4th member, --discovery-fallback exit
    m4 = DMember(KIND, d, "late", ["--discovery", durl, "--discovery-fallback", "exit"])
    m4.spawn()
    eq(wait_exit(m4, 15, "4th member (fallback exit)"), 1, "exit status")
    true(has_line(m4, "E | etcdmain: failed to join discovery cluster "
                      "(discovery: cluster is full)"), "full cluster line:\n" + m4.output())
    true(has_line(m4, "discovery token %s was used, but failed to bootstrap the cluster."
                  % durl), "token line")
    eq(registered(ds, tok), registered(ds, tok)[:3], "nothing registered by the 4th")
    eq(len(registered(ds, tok)), 3, "three registered")
    # --discovery-fallback proxy (the default): serves as a proxy
    p = DMember(KIND, d, "lateproxy", ["--discovery", durl])
    p.spawn()
    wait_for(lambda: p.alive() and p.req("GET", "/disc/k", timeout=2).json
             .get("node", {}).get("value") == "v1", "the proxy serves /disc/k", 20)
    true(has_line(p, "discovery cluster full, falling back to proxy"), "fallback line")
    true(os.path.isdir(os.path.join(p.data_dir, "proxy")), "<data-dir>/proxy")
    r = p.req("PUT", "/disc/viaproxy", form={"value": "p"})
    true(r.status in (200, 201), "a write through the proxy: %r" % (r,))
    # a member whose data dir is lost registers its id again: duplicate id
    victim = ms[0]
    victim.kill()
    shutil.rmtree(victim.data_dir)
    victim.spawn()
    eq(wait_exit(victim, 15, "re-registering member"), 1, "exit status")
    true(has_line(victim, 'E | etcdmain: member "%s" has previously registered with '
                          'discovery service token (%s).' % (victim.name, durl)),
         "duplicate id line:\n" + victim.output())
    # a restart with its data dir ignores discovery, even with the service gone
    ds.kill()
    m = ms[1]
    m.stop()
    m.spawn()
    wait_for(lambda: m.alive() and m.req("GET", "/disc/k", params={"quorum": "true"},
                                         timeout=2).json.get("node", {}).get("value") == "v1",
             "restarted member serves", 20)
    true(has_line(m, "discovery token ignored since a cluster has already been "
                     "initialized. Valid log found at"), "ignored line:\n" + m.output())


def test_from_etcd_service():
    """Target members from a real etcd discovery service."""
    bootstrap(service("etcd"), KIND)


@needs("cetcd")
def test_etcd_members_from_cetcd_service():  # noqa: E302
    """Real etcd members from a cetcd discovery service (under
    CETCD_TARGET=etcd test_from_cetcd_service is this test)."""
    bootstrap(service("cetcd"), "etcd", name_prefix="e")


test_etcd_members_from_cetcd_service.skip_why = "test_from_cetcd_service is this test"


def test_missing_size_key():
    ds = service(KIND)
    tok, durl = new_token(ds, None)
    http_request(ds.host, ds.port, "PUT", kpath("/" + tok), form={"dir": "true"})
    m = DMember(KIND, new_dir(), "m0", ["--discovery", durl])
    m.spawn()
    eq(wait_exit(m, 15, "member without a size key"), 1, "exit status")
    # etcd 3.4 never maps this to ErrSizeNotFound: the v2 error itself
    true(has_line(m, "E | etcdmain: failed to join discovery cluster (100: Key not found "
                     "(/%s/_config) [" % tok), "missing size line:\n" + m.output())
    true(has_line(m, "please generate a new discovery token and try to bootstrap again."),
         "advice line")


def test_bad_size_key():
    ds = service(KIND)
    tok, durl = new_token(ds, "three")
    m = DMember(KIND, new_dir(), "m0", ["--discovery", durl])
    m.spawn()
    eq(wait_exit(m, 15, "member with a bad size key"), 1, "exit status")
    true(has_line(m, "failed to join discovery cluster (discovery: size key is bad)"),
         "bad size line:\n" + m.output())


def test_service_restart_while_waiting():
    """The service goes away while a member waits for its peers: the member
    retries with backoff, finds the service back, and bootstraps."""
    ds = service(KIND)
    tok, durl = new_token(ds, 2)
    d = new_dir()
    m0 = DMember(KIND, d, "m0", ["--discovery", durl])
    m0.spawn()
    wait_for(lambda: has_line(m0, "found 1 peer(s), waiting for 1 more"), "m0 waits", 10)
    ds.stop()
    want = ("I | discovery: waiting for other nodes: error connecting to http://%s:%d, "
            "retrying in 2s" % (ds.host, ds.port))
    wait_for(lambda: has_line(m0, want), "m0's retry line", 10)
    ds.spawn().wait_answering(15)
    m1 = DMember(KIND, d, "m1", ["--discovery", durl])
    m1.spawn()
    for m in (m0, m1):
        wait_for(lambda: m.alive() and m.names() == ["m0", "m1"], "%s lists m0 m1" % m.name,
                 30)


def test_duplicate_name():
    """Someone registered the name m0 already: the cluster fills with two
    entries for one name."""
    ds = service(KIND)
    tok, durl = new_token(ds, 2)
    r = http_request(ds.host, ds.port, "PUT", kpath("/%s/1234abcd" % tok),
                     form={"value": "m0=http://%s:1" % procs.HOST})
    true(r.status == 201, "fake registration: %r" % (r,))
    m = DMember(KIND, new_dir(), "m0", ["--discovery", durl])
    m.spawn()
    eq(wait_exit(m, 15, "member with a duplicate name"), 1, "exit status")
    true(has_line(m, "E | etcdmain: member with duplicated name has registered with discovery "
                     "service token(%s)." % durl), "duplicate name line:\n" + m.output())
    true(has_line(m, "please do not reuse the discovery token and generate a new one"),
         "advice line")


def test_unreachable_service():
    # a port bound here but not listening: refused, and nobody else's meanwhile
    hold = socket.socket()
    hold.bind((procs.HOST, 0))
    port = hold.getsockname()[1]
    try:
        _unreachable(port)
    finally:
        hold.close()


def _unreachable(port):
    durl = "http://%s:%d/v2/keys/nothere" % (procs.HOST, port)
    m = DMember(KIND, new_dir(), "m0", ["--discovery", durl],
                env={"CETCD_DISCOVERY_RETRIES": "2"})
    t0 = time.time()
    m.spawn()
    want = ("I | discovery: cluster status check: error connecting to http://%s:%d, "
            "retrying in 2s" % (procs.HOST, port))
    wait_for(lambda: has_line(m, want), "the first retry line", 10)
    true(has_line(m, "E | discovery: error #0: dial tcp %s:%d: connect: connection refused"
                  % (procs.HOST, port)), "the dial error:\n" + m.output())
    if KIND == "etcd":
        m.kill()  # etcd retries 2^32 times (the 3.4 backoff stops at 256 s)
        return
    eq(wait_exit(m, 20, "member with an unreachable service"), 1, "exit status")
    true(has_line(m, "retrying in 4s"), "second retry, doubled:\n" + m.output())
    true(has_line(m, "E | etcdmain: failed to join discovery cluster "
                     "(discovery: too many retries)"), "final line:\n" + m.output())
    true(time.time() - t0 < 15, "gave up after 2 + 4 s of backoff")


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy: absolute-URI requests, one at a time per
    thread, long polls included; notes what it forwarded."""
    seen = []

    def _forward(self):
        u = urllib.parse.urlsplit(self.path)
        _ForwardProxy.seen.append((self.command, self.path))
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        try:
            hdrs = {"Content-Type": self.headers.get("Content-Type")} if body else {}
            c.request(self.command, u.path + ("?" + u.query if u.query else ""), body, hdrs)
            r = c.getresponse()
            data = r.read()
        except OSError:
            self.send_error(502)
            return
        finally:
            c.close()
        self.send_response(r.status)
        for k in ("Content-Type", "X-Etcd-Index"):
            if r.getheader(k):
                self.send_header(k, r.getheader(k))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = _forward

    def log_message(self, *a):
        pass


def test_discovery_proxy():
    ds = service(KIND)
    tok, durl = new_token(ds, 1)
    srv = socketserver.ThreadingTCPServer((procs.HOST, 0), _ForwardProxy)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    _ForwardProxy.seen = []
    try:
        m = DMember(KIND, new_dir(), "m0", ["--discovery", durl, "--discovery-proxy",
                                            "%s:%d" % (procs.HOST, srv.server_address[1])])
        m.spawn()
        wait_for(lambda: m.alive() and m.names() == ["m0"], "m0 up", 20)
        true(has_line(m, 'I | discovery: using proxy "http://%s:%d"'
                      % (procs.HOST, srv.server_address[1])), "proxy line:\n" + m.output())
        paths = [p for _, p in _ForwardProxy.seen]
        true(any(p.startswith(durl + "/_config/size") for p in paths),
             "the size read went through the proxy: %r" % paths)
        true(any(c == "PUT" and p.startswith(durl + "/") for c, p in _ForwardProxy.seen),
             "the registration went through the proxy: %r" % _ForwardProxy.seen)
    finally:
        srv.shutdown()
        srv.server_close()


# --------------------------------------------------------------------------
# DNS SRV

class DNS:
    """dnsmasq on 127.53.x.y:53 with the records given, and the wrapper that
    runs a command in a private mount namespace resolving through it."""

    def __init__(self, dir, srv, hosts):
        self.dir = dir
        self.proc = None
        for _ in range(5):
            self.ip = "127.53.%d.%d" % (random.randrange(1, 255), random.randrange(1, 255))
            argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                    "--no-resolv", "--no-hosts", "--bind-interfaces",
                    "--listen-address=" + self.ip, "--port=53", "--log-facility=-",
                    "--pid-file=" + os.path.join(dir, "dnsmasq.pid"), "--local=/disc.test/"]
            argv += ["--srv-host=%s,%s,%d,0,10" % s for s in srv]
            argv += ["--host-record=%s,%s" % h for h in hosts]
            p = procs.Proc(os.path.join(dir, "dnsmasq.log"))
            p.spawn(argv)
            time.sleep(0.3)
            if p.alive():
                self.proc = p
                break
            p.kill()
        true(self.proc is not None, "dnsmasq started")
        self.resolv = os.path.join(dir, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write("nameserver %s\noptions timeout:1 attempts:2\n" % self.ip)
        self.wrap = ["unshare", "-m", "sh", "-c",
                     'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.resolv]

    def stop(self):
        if self.proc:
            self.proc.kill()


def dns_usable():
    if os.geteuid() != 0:
        return "not root (unshare -m and port 53)"
    for b in ("dnsmasq", "unshare"):
        if not shutil.which(b):
            return "%s not installed (contrib/install-deps.sh --test)" % b
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        return "unshare -m fails here"
    return None


def run_wrapped(dns, argv, env=None, timeout=20):
    return subprocess.run(dns.wrap + argv, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


@needs("cetcd")
def test_dns_srv():
    """3 members from _etcd-server._tcp.disc.test, a proxy from the same
    records, cetcdctl --discovery-srv against etcdctl, and etcd's errors."""
    why = dns_usable()
    if why:
        log("SKIP test_dns_srv: " + why)
        return
    d = new_dir()
    ms = [DMember("cetcd", d, "m%d" % i, ["--discovery-srv", "disc.test"]) for i in range(3)]
    srv = [("_etcd-server._tcp.disc.test", "m%d.disc.test" % i, m.peer_port)
           for i, m in enumerate(ms)]
    srv += [("_etcd-client._tcp.disc.test", "m%d.disc.test" % i, m.port)
            for i, m in enumerate(ms)]
    hosts = [("m%d.disc.test" % i, procs.HOST) for i in range(3)]
    dns = DNS(d, srv, hosts)
    try:
        for i, m in enumerate(ms):
            m.wrap = dns.wrap
            m.adv_peer = "http://m%d.disc.test:%d" % (i, m.peer_port)
            m.adv_client = "http://m%d.disc.test:%d" % (i, m.port)
            m.spawn()
        for m in ms:
            wait_for(lambda: (m.alive() or (_ for _ in ()).throw(AssertionError(
                "%s exited:\n%s" % (m.name, m.log_tail(12))))) and
                m.names() == ["m0", "m1", "m2"], "%s lists m0 m1 m2" % m.name, 30)
        true(has_line(ms[0], "N | embed: got bootstrap from DNS for etcd-server at "
                             "m0=http://m0.disc.test:%d" % ms[0].peer_port),
             "bootstrap lines:\n" + ms[0].output())
        r = ms[0].req("PUT", "/srv/k", form={"value": "dns"})
        true(r.status in (200, 201), "write: %r" % (r,))
        # cetcdctl and etcdctl find the client endpoints in _etcd-client._tcp
        ctl = cetcdctl_bin()
        outs = {}
        for name, b in (("cetcdctl", ctl), ("etcdctl", shutil.which("etcdctl"))):
            if not b:
                continue
            res = run_wrapped(dns, [b, "--discovery-srv", "disc.test", "--insecure-discovery",
                                    "get", "/srv/k"], env={"ETCDCTL_API": "2"})
            outs[name] = (res.returncode, res.stdout)
            eq((res.returncode, res.stdout), (0, "dns\n"), "%s get: %s" % (name, res.stderr))
            env = {"ETCDCTL_API": "2", "ETCDCTL_DISCOVERY_SRV": "disc.test",
                   "ETCDCTL_INSECURE_DISCOVERY": "1"}
            res = run_wrapped(dns, [b, "ls", "/srv"], env=env)
            eq((res.returncode, res.stdout), (0, "/srv/k\n"), "%s ls (env): %s" % (name,
                                                                                 res.stderr))
            # no --insecure-discovery: http:// endpoints are dropped with a line
            res = run_wrapped(dns, [b, "--discovery-srv", "disc.test", "--endpoints",
                                    ms[1].url, "get", "/srv/k"], env={"ETCDCTL_API": "2"})
            true('ignoring discovered insecure endpoint "http://m0.disc.test.:%d"'
                 % ms[0].port in res.stderr, "%s insecure line: %r" % (name, res.stderr))
            eq((res.returncode, res.stdout), (0, "dns\n"), "%s falls back to --endpoints"
               % name)
            res = run_wrapped(dns, [b, "--discovery-srv", "nothing.disc.test", "get", "/k"],
                              env={"ETCDCTL_API": "2"})
            eq(res.returncode, 1, "%s: no records" % name)
            true(res.stderr.startswith("dns lookup errors: lookup "
                                       "_etcd-client-ssl._tcp.nothing.disc.test"),
                 "%s no-records message: %r" % (name, res.stderr))
        # a proxy from the same records
        p = DMember("cetcd", d, "px", ["--proxy", "on", "--discovery-srv", "disc.test"])
        p.wrap = dns.wrap
        p.spawn()
        wait_for(lambda: p.alive() and p.req("GET", "/srv/k", timeout=2).json
                 .get("node", {}).get("value") == "dns", "the SRV proxy serves /srv/k", 20)
        # errors: no records; this member not among them
        e1 = DMember("cetcd", d, "x1", ["--discovery-srv", "nothing.disc.test"], wrap=dns.wrap)
        e1.spawn()
        eq(wait_exit(e1, 15, "member without records"), 1, "exit status")
        true(has_line(e1, "E | embed: couldn't resolve during SRV discovery (error querying "
                          "DNS SRV records for _etcd-server-ssl lookup "
                          "_etcd-server-ssl._tcp.nothing.disc.test on %s:53: no such host)"
                      % dns.ip), "no records line:\n" + e1.output())
        true(has_line(e1, "C | etcdmain: error setting up initial cluster: error querying "
                          "DNS SRV records for _etcd-server-ssl lookup"), "fatal line")
        e2 = DMember("cetcd", d, "x2", ["--discovery-srv", "disc.test"], wrap=dns.wrap)
        e2.spawn()
        eq(wait_exit(e2, 15, "member not in the records"), 1, "exit status")
        true(has_line(e2, 'C | etcdmain: error setting up initial cluster: cannot find local '
                          'etcd member "x2" in SRV records'),
             "not-found line:\n" + e2.output())
    finally:
        dns.stop()


test_dns_srv.skip_why = "etcd 3.4.23 ignores _etcd-server._tcp records (doc/api-compat.md)"


def test_dns_srv_ssl():
    """_etcd-server-ssl._tcp records and https peers (--peer-auto-tls, so
    no CA is needed): the way etcd 3.4 supports, so this runs against etcd."""
    why = dns_usable()
    if why:
        log("SKIP test_dns_srv_ssl: " + why)
        return
    d = new_dir()
    ms = [DMember(KIND, d, "s%d" % i, ["--discovery-srv", "disc.test", "--peer-auto-tls"])
          for i in range(3)]
    srv = [("_etcd-server-ssl._tcp.disc.test", "s%d.disc.test" % i, m.peer_port)
           for i, m in enumerate(ms)]
    dns = DNS(d, srv, [("s%d.disc.test" % i, procs.HOST) for i in range(3)])
    try:
        for i, m in enumerate(ms):
            m.wrap = dns.wrap
            m.listen_peer = "https://%s:%d" % (procs.HOST, m.peer_port)
            m.adv_peer = "https://s%d.disc.test:%d" % (i, m.peer_port)
            m.spawn()
        for m in ms:
            wait_for(lambda: (m.alive() or (_ for _ in ()).throw(AssertionError(
                "%s exited:\n%s" % (m.name, m.log_tail(12))))) and
                m.names() == ["s0", "s1", "s2"], "%s lists s0 s1 s2" % m.name, 30)
        true(has_line(ms[1], "N | embed: got bootstrap from DNS for etcd-server at "
                             "s1=https://s1.disc.test:%d" % ms[1].peer_port),
             "bootstrap lines:\n" + ms[1].output())
        r = ms[0].req("PUT", "/srv/ssl", form={"value": "tls"})
        true(r.status in (200, 201), "write: %r" % (r,))
        wait_for(lambda: ms[2].req("GET", "/srv/ssl", params={"quorum": "true"}).json
                 .get("node", {}).get("value") == "tls", "the write read on s2")
    finally:
        dns.stop()

if __name__ == "__main__":
    clustertest.run_scenarios(globals(), budget=float(os.environ.get("CETCD_DISC_BUDGET", "120")),
                              probe=lambda: None, after=cleanup)
