#!/usr/bin/env python3
"""Proxy mode (issue 13): a v2 proxy (--proxy on|readonly) in front of a
3-member cluster, in front of fake members written here, and in front of real
etcd 3.4. The proxy and the members are the target's (CETCD_TARGET=etcd: etcd
3.4's own proxy and members), except where a test says otherwise.

What etcd 3.4.23's proxy does (checked by the tests that run against it):
  * ready: /v2/config/local/proxy answers 200 {"endpoints":[<client URLs>]}
    (Content-Type "text/plain; charset=utf-8"!); the list holds only the
    endpoints not marked failed, shuffled. A query string is ignored; other
    methods get 405 "Method Not Allowed\n" (text/plain, Allow: GET,
    X-Content-Type-Options: nosniff); "/v2/config/local/proxy/" and
    "/v2/config/local" are not its own: they go to a member. Its log says
    'v2 proxy started listening on client requests on "http://..."'.
  * <data-dir>/proxy/cluster = {"PeerURLs":["http://...",...]}, written at
    start from --initial-cluster and on each refresh.
  * readonly: every method but GET -> 501 with an empty body
    (Content-Length: 0, no Content-Type), /v2/config/local/proxy included.
  * no member answers: the first request after the members died -> 502
    {"message":"httpproxy: unable to get response from 3 endpoint(s)"}, the
    ones after (all endpoints marked failed for --proxy-failure-wait) -> 503
    {"message":"httpproxy: zero endpoints currently available"}, both
    Content-Type application/json, within milliseconds. NB the prefix is
    "httpproxy:", not "proxy:".
  * /health is forwarded to a member like any other path (the answer carries
    both the proxy's and the member's CORS headers, duplicated); with no
    member it is the 502/503 above.
  * a long poll's response headers come only with the event, and a stream's
    events are held until later writes push them out (etcd issue 3894): the
    tests for prompt watches are cetcd-only ("beyond etcd").

Run: python3 tests/e2e/test_proxy.py [name-filter...]; CETCD_TARGET=etcd for
real etcd. Exit 77 when the cetcd binary refuses --proxy (not built yet).
"""

import http.client
import http.server
import json
import os
import select
import shutil
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
from cetcdtest import eq, true, status, needs, kpath  # noqa: E402
import clustertest  # noqa: E402
from clustertest import (wait_for, start_or_skip, start_proxy, proxy_probe_or_skip,  # noqa: E402
                         run_scenarios, target, log, NETERR)
import procs  # noqa: E402

ZERO = {"message": "httpproxy: zero endpoints currently available"}


def unable(n):
    return {"message": "httpproxy: unable to get response from %d endpoint(s)" % n}


def timed(fn):
    t0 = time.time()
    r = fn()
    return r, time.time() - t0


# --------------------------------------------------------------------------
# a fake member: GET /members on its peer port, an echo on its client port

class _Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, code, obj, extra=()):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)


class FakeMember:
    """Two threaded HTTP servers on 127.0.0.1. The peer port answers GET
    /members in etcd 3.4's shape (with an X-Etcd-Cluster-Id header) with client_urls (default: our client URL).
    The client port answers every request with 200 and JSON
    {"method","path","headers":[[name,value],...],"body_len"}; GET /slow
    holds the request up to 15 s and records in .closed_at when it saw the
    client's socket close (the proxy cancelling upstream)."""

    def __init__(self, client_urls=None):
        fm = self
        self.requests = []
        self.closed_at = None
        self.slow_started = threading.Event()

        class Peer(_Quiet):
            def do_GET(self):
                if self.path.split("?")[0] != "/members":
                    return self.send_json(404, {"message": "not found"})
                urls = fm.client_urls if fm.client_urls is not None else [fm.url]
                # etcd's proxy refuses an answer without X-Etcd-Cluster-Id
                # ("could not parse the cluster ID from cluster res")
                self.send_json(200, [{"id": 123, "name": "fake",
                                      "peerURLs": [fm.peer_url], "clientURLs": urls}],
                               [("X-Etcd-Cluster-Id", "c0ffee")])

        class Client(_Quiet):
            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                fm.requests.append((self.command, self.path, list(self.headers.items())))
                if self.path.startswith("/slow"):
                    return self.slow()
                self.send_json(200, {"method": self.command, "path": self.path,
                                     "headers": list(self.headers.items()),
                                     "body_len": len(body)})

            def slow(self):
                fm.slow_started.set()
                deadline = time.time() + 15
                s = self.connection
                while time.time() < deadline:
                    r, _, _ = select.select([s], [], [], 0.05)
                    if r:
                        try:
                            if not s.recv(1, socket.MSG_PEEK):
                                fm.closed_at = time.time()
                                return
                        except OSError:
                            fm.closed_at = time.time()
                            return
                self.send_json(200, {"slow": True})

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = handle_any

        self.client_urls = client_urls
        self.peer = http.server.ThreadingHTTPServer((procs.HOST, procs.free_port()), Peer)
        self.client = http.server.ThreadingHTTPServer((procs.HOST, procs.free_port()), Client)
        self.peer.daemon_threads = self.client.daemon_threads = True
        for srv in (self.peer, self.client):
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                             daemon=True).start()
        _fakes.append(self)

    url = property(lambda s: "http://%s:%d" % s.client.server_address)
    peer_url = property(lambda s: "http://%s:%d" % s.peer.server_address)

    def initial_cluster(self):
        return "fake=" + self.peer_url

    def close(self):
        for srv in (self.peer, self.client):
            srv.shutdown()
            srv.server_close()
        if self in _fakes:
            _fakes.remove(self)


_fakes = []


def close_fakes():
    for f in list(_fakes):
        f.close()


# --------------------------------------------------------------------------
# differential: the request set of test_differential.py through a proxy

class ViaProxy:
    """What test_differential.run_script needs of a server (request, url,
    peer_url), sending to the proxy; before every request it waits until
    the cluster's members agree on X-Etcd-Index, so that a read served by
    any member sees the previous write (v2 reads are local)."""

    def __init__(self, proxy, cluster):
        self.proxy, self.cluster = proxy, cluster
        self.url = proxy.url
        self.peer_url = "<no peer url>"
        self.kind = proxy.kind

    def request(self, method, path, params=None, form=None, body=None, headers=None,
                timeout=10.0):
        try:
            self.cluster.wait_converged(5.0, settle=0)
        except procs.ProcError:
            pass
        return self.proxy.request(method, path, params, form, body, headers, timeout)

    def alive(self):
        return self.proxy.alive()


# which member answers is the proxy's choice: leave out what differs per member
PER_MEMBER = ("!/v2/members", "!/v2/stats/self", "!/v2/stats/leader", "!/v2/machines",
              "!/v2/stats/store")


def test_differential_through_proxies():
    """test_differential.py's request set through an etcd proxy in front of
    an etcd cluster (the reference) and through the target's proxy in front
    of the target's cluster, compared step by step with its normalisation.
    Per-member answers (/v2/members, /v2/stats/*, /v2/machines GETs) are
    left out; the rest must match."""
    import test_differential as td
    if not ct.etcd_bin():
        ct.skip("etcd not installed: nothing to compare against")
    steps = [s for s in td.STEPS if not (
        s["kind"] == "req" and s["method"] in ("GET", "HEAD") and
        s["path"].startswith(PER_MEMBER))]
    saved, td.STEPS = td.STEPS, steps
    try:
        ref_c = start_or_skip(3, kind="etcd")
        ref = ViaProxy(start_proxy(ref_c, kind="etcd", name="ref"), ref_c)
        oth_c = start_or_skip(3)
        oth = ViaProxy(start_proxy(oth_c, name="other"), oth_c)
        outs, errs = {"ref": [], "other": []}, {}

        def go(tag, srv):
            try:
                td.run_script(srv, outs[tag])
            except Exception:  # noqa
                import traceback
                errs[tag] = traceback.format_exc()
        ts = [threading.Thread(target=go, args=a, daemon=True)
              for a in (("ref", ref), ("other", oth))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(150)
        true(not any(t.is_alive() for t in ts), "the script did not finish within 150 s")
        true(not errs, "script crashed: %s" % errs)
        eq(len(outs["other"]), len(outs["ref"]), "number of answers")
        # not vacuous: the reference answered (one LIVE watch is meant to time out)
        exc = [td.describe(st) for _, st, r in outs["ref"] if isinstance(r, Exception)]
        true(len(exc) <= 1, "the etcd proxy gave no answer to %s" % exc[:5])
        bad = []
        for (i, st, ra), (_, _, rb) in zip(outs["ref"], outs["other"]):
            a, _ = td.norm(ref, st, ra)
            b, _ = td.norm(oth, st, rb)
            if a != b:
                bad.append("%s\n      etcd : %s\n      %-5s: %s" % (
                    td.describe(st), json.dumps(a, sort_keys=True)[:400], oth.kind,
                    json.dumps(b, sort_keys=True)[:400]))
        log("%d requests compared, %d differ" % (len(outs["ref"]), len(bad)))
        true(not bad, "%d answers differ:\n    %s" % (len(bad), "\n    ".join(bad[:15])))
    finally:
        td.STEPS = saved


# --------------------------------------------------------------------------
# configuration, readonly, no member

def test_config_and_cluster_file():
    """/v2/config/local/proxy lists the members' client URLs (exactly the
    key "endpoints"); the proxy wrote <data-dir>/proxy/cluster as
    {"PeerURLs":[...]} with the peer URLs; requests go through."""
    c = start_or_skip(3)
    p = start_proxy(c)
    r = p.request("GET", "/v2/config/local/proxy")
    status(r, 200, "config")
    true(isinstance(r.json, dict), "config is JSON: %r" % (r.body,))
    eq(sorted(r.json), ["endpoints"], "config keys")
    eq(p.request("GET", "/v2/config/local/proxy?x=1").json, r.json, "a query is ignored")
    for method in ("PUT", "POST", "DELETE"):
        r = p.request(method, "/v2/config/local/proxy")
        eq((r.status, r.hdr("Allow")), (405, "GET"), "%s /v2/config/local/proxy" % method)
    for path in ("/v2/config/local/proxy/", "/v2/config/local"):
        direct = c[0].request("GET", path)
        eq(p.request("GET", path).status, direct.status, "%s goes to a member" % path)
    wait_for(lambda: sorted(p.endpoints() or []) == sorted(m.url for m in c),
             "every member's client URL in the endpoints")
    js = wait_for(lambda: os.path.exists(p.cluster_file) and
                  json.load(open(p.cluster_file)), "the cluster file")
    eq(sorted(js), ["PeerURLs"], "cluster file keys")
    eq(sorted(js["PeerURLs"]), sorted(m.peer_url for m in c), "cluster file peer URLs")
    status(p.put("/cfg/a", {"value": "1"}), 201, "PUT through the proxy")
    r = p.get("/cfg/a")
    status(r, 200, "GET through the proxy")
    eq(r.json["node"]["value"], "1", "value")
    true(r.hdr("X-Etcd-Index") is not None and r.hdr("X-Etcd-Cluster-Id") is not None,
         "member headers pass through: %s" % dict(r.headers))


def test_flags_and_environment():
    """Every --proxy-* flag is accepted; the same configuration given only
    through ETCD_* variables (no argument at all) makes a working proxy
    that writes its cluster file in ETCD_DATA_DIR."""
    c = start_or_skip(3)
    p = start_proxy(c, extra_args=["--proxy-failure-wait", "2000",
                                   "--proxy-refresh-interval", "1000",
                                   "--proxy-dial-timeout", "500",
                                   "--proxy-write-timeout", "3000",
                                   "--proxy-read-timeout", "0"])
    status(p.put("/flags/a", {"value": "1"}), 201, "PUT through the proxy with flags")
    e = clustertest.Proxy(target(), c.initial_cluster(), name="envproxy")
    e.env = {"ETCD_PROXY": "on", "ETCD_NAME": e.name, "ETCD_DATA_DIR": e.data_dir,
             "ETCD_LISTEN_CLIENT_URLS": e.url, "ETCD_INITIAL_CLUSTER": c.initial_cluster(),
             "ETCD_PROXY_FAILURE_WAIT": "2000", "ETCD_PROXY_REFRESH_INTERVAL": "1000",
             "ETCD_PROXY_DIAL_TIMEOUT": "500", "ETCD_PROXY_WRITE_TIMEOUT": "3000",
             "ETCD_PROXY_READ_TIMEOUT": "0"}
    e.spawn([e.binary])
    e.wait_ready(10)
    c.wait_converged()
    r = e.get("/flags/a")
    eq((r.status, r.json["node"]["value"]), (200, "1"), "GET through the env-configured proxy")
    wait_for(lambda: os.path.exists(e.cluster_file), "the cluster file in ETCD_DATA_DIR")


def test_read_timeout_cuts_a_long_poll():
    """--proxy-read-timeout 1000: a long poll with no event ends after about
    1 s instead of hanging. etcd 3.4 answers it 200 with the member's
    headers (X-Etcd-Index...) and an empty body (Content-Length: 0)."""
    c = start_or_skip(3)
    p = start_proxy(c, extra_args=["--proxy-read-timeout", "1000"])
    r, dt = timed(lambda: p.get("/rt/none", {"wait": "true"}, timeout=8.0))
    log("long poll ended after %.2fs: %d %r" % (dt, r.status, r.body[:100]))
    true(0.8 < dt < 3.0, "the long poll ended after %.2fs" % dt)
    true(r.json is None or "action" not in r.json, "no event: %r" % (r.body,))
    if p.kind == "etcd":
        eq((r.status, r.body), (200, b""), "etcd: 200 and an empty body")
    status(p.put("/rt/k", {"value": "1"}), 201, "a PUT is not cut")


def test_readonly():
    """--proxy readonly: GET works, every other method is 501 with an empty
    body (etcd: Content-Length 0, no Content-Type); nothing is written."""
    c = start_or_skip(3)
    status(c[0].put("/ro/a", {"value": "1"}), 201, "direct write")
    c.wait_converged()
    p = start_proxy(c, mode="readonly")
    r = p.get("/ro/a")
    status(r, 200, "readonly GET")
    eq(r.json["node"]["value"], "1", "readonly GET value")
    for method, path, form in (("PUT", kpath("/ro/a"), "value=2"),
                               ("POST", kpath("/ro/q"), "value=2"),
                               ("DELETE", kpath("/ro/a"), None),
                               ("PATCH", kpath("/ro/a"), None),
                               ("OPTIONS", kpath("/ro/a"), None),
                               ("PUT", "/v2/config/local/proxy", None)):
        r = p.request(method, path, form=form)
        eq((r.status, r.body), (501, b""), "readonly %s %s" % (method, path))
    r = c[0].get("/ro/a")
    eq(r.json["node"]["value"], "1", "the value after the refused writes")
    true(c[0].get("/ro/q").status == 404, "no POST went through")


def test_no_member_at_all():
    """A proxy whose --initial-cluster points at nothing: it runs (etcd logs
    "proxy: could not retrieve cluster information from the given URLs" every
    second), lists no endpoint, and answers every request at once (< 2 s)
    with 503 {"message":"httpproxy: zero endpoints currently available"}."""
    p = start_proxy("m0=http://%s:%d" % (procs.HOST, procs.free_port()), wait=False)
    wait_for(lambda: p.endpoints() is not None, "the proxy's config answer", 10)
    eq(p.endpoints(), [], "endpoints")
    for method, form in (("GET", None), ("PUT", "value=1"), ("GET", None)):
        r, dt = timed(lambda: p.request(method, kpath("/x"), form=form, timeout=5.0))
        true(dt < 2.0, "%s answered in %.2fs" % (method, dt))
        eq((r.status, r.json), (503, ZERO), method)
        eq((r.hdr("Content-Type") or "").split(";")[0], "application/json", "Content-Type")


def test_all_members_down():
    """All members killed: each request answered within 2 s, first 502
    ("unable to get response from 3 endpoint(s)"), then 503 ("zero endpoints
    currently available") while the endpoints are held failed; the proxy
    never hangs or dies. /health: etcd forwards it, so 502/503 as well; cetcd
    answers its own 503 {"health":"false"} (beyond etcd)."""
    c = start_or_skip(3)
    p = start_proxy(c, extra_args=["--proxy-failure-wait", "3000"])
    status(p.get("/"), 200, "GET / through the proxy")
    r = p.request("GET", "/health")
    eq((r.status, r.json), (200, {"health": "true"}), "/health with live members")
    c.kill_all()
    seen = []
    for i in range(6):
        r, dt = timed(lambda: p.get("/down", timeout=5.0))
        true(dt < 2.0, "request %d answered in %.2fs" % (i, dt))
        true((r.status, r.json) in ((502, unable(3)), (503, ZERO)),
             "request %d: %d %r" % (i, r.status, r.body))
        seen.append(r.status)
    true(503 in seen, "503 once every endpoint is marked failed: %s" % seen)
    if p.kind == "etcd":    # cetcd may find the dead members first (active health)
        eq(seen, [502] + [503] * 5, "etcd: 502 on the first try, then 503")
    true(p.alive(), "proxy still running")
    r, dt = timed(lambda: p.request("GET", "/health", timeout=5.0))
    true(dt < 2.0, "/health answered in %.2fs" % dt)
    if p.kind == "etcd":
        true((r.status, r.json) in ((502, unable(3)), (503, ZERO)),
             "etcd /health: %d %r" % (r.status, r.body))
    else:
        def unhealthy():
            r = p.request("GET", "/health", timeout=2.0)
            return (r.status, r.json) == (503, {"health": "false"})
        wait_for(unhealthy, "cetcd proxy /health -> 503 {\"health\":\"false\"}", 5)


# --------------------------------------------------------------------------
# headers and cancellation, against a fake member

# what etcd 3.4's proxy strips (its list: Connection, Keep-Alive,
# Proxy-Authenticate, Proxy-Authorization, Te, Trailers, Transfer-Encoding,
# Upgrade; Go's server itself drops Trailer)
HOP = {"Connection": "keep-alive, X-Conn-Listed", "Keep-Alive": "timeout=5",
       "Proxy-Authorization": "Basic Zm9vOmJhcg==", "Te": "trailers", "Trailer": "X-T",
       "Upgrade": "websocket"}
# what etcd passes on but RFC 7230 6.1 calls hop-by-hop too (a header named
# in Connection): cetcd strips it (beyond etcd); etcd forwards it, and
# Proxy-Connection, unchanged
HOP_RFC = {"X-Conn-Listed": "1"}


def test_hop_by_hop_and_forwarded_for():
    """Hop-by-hop headers (Connection, Keep-Alive, Proxy-Authorization, Te,
    Trailer, Upgrade; for cetcd also a header named in Connection) do not
    reach the member; end-to-end ones do; X-Forwarded-For gets the client's
    address appended to what the client sent."""
    fm = FakeMember()
    p = start_proxy(fm.initial_cluster())
    eq(p.endpoints(), [fm.url], "the fake member's client URL")
    hdrs = dict(HOP, **HOP_RFC)
    hdrs.update({"X-Custom": "kept", "X-Forwarded-For": "10.9.8.7",
                 "Authorization": "Basic dXNlcjpwdw=="})
    r = p.request("GET", "/v2/keys/echo?x=1", headers=hdrs)
    status(r, 200, "echo through the proxy")
    got = {}
    for k, v in r.json["headers"]:
        got.setdefault(k.lower(), []).append(v)
    for h in list(HOP) + (list(HOP_RFC) if p.kind == "cetcd" else []):
        true(h.lower() not in got, "hop-by-hop %s reached the member: %s" % (h, got))
    if p.kind == "etcd":
        eq(got.get("x-conn-listed"), ["1"], "etcd forwards a header named in Connection")
    eq(got.get("x-custom"), ["kept"], "X-Custom")
    eq(got.get("authorization"), ["Basic dXNlcjpwdw=="], "Authorization")
    eq(r.json["path"], "/v2/keys/echo?x=1", "path and query")
    xff = ", ".join(got.get("x-forwarded-for", []))
    eq(xff, "10.9.8.7, 127.0.0.1", "X-Forwarded-For")
    r = p.request("PUT", "/v2/keys/echo", form="value=abc")
    eq((r.status, r.json["method"], r.json["body_len"]), (200, "PUT", 9), "PUT body passes")


def test_client_disconnect_cancels_upstream():
    """A client that goes away while the member is still working: the proxy
    closes its upstream connection within 3 s."""
    fm = FakeMember()
    p = start_proxy(fm.initial_cluster())
    s = socket.create_connection((p.host, p.port), timeout=5)
    try:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        true(fm.slow_started.wait(5), "the request reached the fake member")
        t0 = time.time()
    finally:
        s.close()
    wait_for(lambda: fm.closed_at is not None, "the upstream request cancelled", 3.0)
    log("upstream closed %.3fs after the client" % (fm.closed_at - t0))
    status(p.get("/after"), 200, "the proxy still serves")


# --------------------------------------------------------------------------
# watches through the proxy (beyond etcd: etcd issue 3894)

def _wait_hdrs(p, path):
    conn = http.client.HTTPConnection(p.host, p.port, timeout=10)
    t0 = time.time()
    conn.request("GET", path)
    r = conn.getresponse()
    return conn, r, time.time() - t0


@needs("cetcd")
def test_long_poll_headers_at_once():
    """A long poll's response headers reach the client before any event
    (< 2 s: without the early flush they would wait for the event); the
    event follows within 1.5 s of its PUT (bounds loose for loaded CI)."""
    c = start_or_skip(3)
    p = start_proxy(c)
    conn, r, dt = _wait_hdrs(p, kpath("/w/lp") + "?wait=true")
    try:
        true(dt < 2.0, "headers after %.3fs" % dt)
        eq(r.status, 200, "long poll status")
        time.sleep(0.3)
        t0 = time.time()
        status(c[0].put("/w/lp", {"value": "1"}), 201, "the write")
        ev = json.loads(r.read().decode())
        true(time.time() - t0 < 1.5, "event %.3fs after the PUT" % (time.time() - t0))
        eq((ev["action"], ev["node"]["value"]), ("set", "1"), "event")
    finally:
        conn.close()


@needs("cetcd")
def test_stream_events_at_once():
    """stream=true through the proxy: headers < 2 s, and each of 4 events
    (one PUT every 1.2 s) reaches the client within 0.9 s of its PUT: an
    event held back until the next one would be 1.2 s late."""
    c = start_or_skip(3)
    p = start_proxy(c)
    conn, r, dt = _wait_hdrs(p, kpath("/w/st") + "?wait=true&stream=true")
    try:
        true(dt < 2.0, "headers after %.3fs" % dt)
        eq(r.status, 200, "stream status")
        conn.sock.settimeout(3.0)
        lags = []
        for i in range(4):
            time.sleep(1.2)
            t0 = time.time()
            w = c[i % 3].put("/w/st", {"value": str(i)})
            true(w.status in (200, 201), "write %d: %d" % (i, w.status))
            line = b""
            while not line.strip():
                line = r.readline()
                true(line, "the stream ended")
            lags.append(time.time() - t0)
            eq(json.loads(line.decode())["node"]["value"], str(i), "event %d" % i)
        log("per-event lag: %s" % ", ".join("%.0f ms" % (x * 1000) for x in lags))
        true(max(lags) < 0.9, "an event later than 900 ms: %s" % lags)
    finally:
        conn.close()


# --------------------------------------------------------------------------
# refresh, restart

def _add_member(c):
    """POST /v2/members for a 4th member and start it (existing state)."""
    m = clustertest.Member(c.binary, c.dir, "m%d" % len(c.members))
    m.cluster = c
    deadline = time.time() + 12
    while True:     # etcd's strict reconfig check refuses for ~5 s after a start
        r = c[0].request("POST", "/v2/members", body=json.dumps({"peerURLs": [m.peer_url]}),
                         headers={"Content-Type": "application/json"})
        if r.status != 500 or time.time() > deadline:
            break
        time.sleep(0.3)
    status(r, 201, "member add")
    c.members.append(m)
    c.n += 1
    argv = c.member_argv(m)
    argv[argv.index("--initial-cluster-state") + 1] = "existing"
    m.spawn(argv)
    m.wait_answering(20)
    return m


def test_refresh_after_member_add_and_remove():
    """--proxy-refresh-interval 500: a member added (and started) appears in
    /v2/config/local/proxy, a removed one disappears, within 10 s each."""
    c = start_or_skip(3)
    p = start_proxy(c, extra_args=["--proxy-refresh-interval", "500"])
    wait_for(lambda: sorted(p.endpoints() or []) == sorted(m.url for m in c),
             "the 3 members listed")
    m = _add_member(c)
    wait_for(lambda: m.url in (p.endpoints() or []), "the new member listed", 10)
    c.wait_leader(10)
    gone = [x for x in c.followers() if x is not m][0]
    gone.stats_self()
    deadline = time.time() + 10
    while True:         # etcd's strict reconfig check may refuse for a moment
        r = c[0 if gone is not c[0] else 1].request("DELETE", "/v2/members/" + gone.id)
        if r.status == 204 or time.time() > deadline:
            break
        time.sleep(0.3)
    status(r, 204, "member remove")
    wait_for(lambda: gone.url not in (p.endpoints() or []), "the removed member gone", 10)
    status(p.put("/refresh/a", {"value": "1"}), 201, "a write through the proxy")


def test_promotion_to_member():
    """A proxy never joins Raft and writes no WAL: its data dir holds only
    proxy/cluster. It becomes a member as etcd documents: member add, remove
    <data-dir>/proxy, restart as a member of the existing cluster on the
    same data dir; the member then has the cluster's data."""
    c = start_or_skip(3)
    name = "m%d" % len(c.members)
    p = clustertest.Proxy(target(), c.initial_cluster(), name=name, dir=c.dir)
    p.start_ready(15)
    status(p.put("/promo/a", {"value": "1"}), 201, "a write through the proxy")
    true(os.path.exists(p.cluster_file), "the cluster file is there")
    eq(sorted(os.listdir(p.data_dir)), ["proxy"], "the proxy's data dir holds only proxy/")
    p.kill()
    shutil.rmtree(os.path.join(p.data_dir, "proxy"))
    m = _add_member(c)  # the same name, so the same data dir
    eq(m.data_dir, p.data_dir, "the member runs on the proxy's data dir")
    true(os.path.isdir(os.path.join(m.data_dir, "member")), "a member dir now")
    wait_for(lambda: (m.get("/promo/a").json or {}).get("node", {}).get("value") == "1",
             "the promoted member has the write", 10)
    eq(len(c[0].get_json("/v2/members")["members"]), 4, "4 members")


def test_restart_from_data_dir():
    """The proxy restarted with --initial-cluster pointing at dead ports
    finds the cluster from <data-dir>/proxy/cluster and serves."""
    c = start_or_skip(3)
    p = start_proxy(c, extra_args=["--proxy-refresh-interval", "500"])
    wait_for(lambda: os.path.exists(p.cluster_file), "the cluster file")
    status(p.put("/restart/a", {"value": "1"}), 201, "write before the restart")
    p.stop()
    p.initial_cluster = "m0=http://%s:%d" % (procs.HOST, procs.free_port())
    p.spawn()
    p.wait_ready(15)
    r = p.get("/restart/a")
    status(r, 200, "GET after the restart")
    eq(r.json["node"]["value"], "1", "value")
    status(p.put("/restart/b", {"value": "2"}), 201, "write after the restart")
    js = json.load(open(p.cluster_file))
    eq(sorted(js["PeerURLs"]), sorted(m.peer_url for m in c), "cluster file kept")


# --------------------------------------------------------------------------
# interoperability, loops, bad input

def test_proxy_in_front_of_etcd_cluster():
    """The target's proxy (cetcd by default) in front of a real etcd 3.4
    3-member cluster: PUT, GET, a watch, a quorum GET, /v2/members."""
    if not ct.etcd_bin():
        ct.skip("etcd not installed")
    c = start_or_skip(3, kind="etcd")
    p = start_proxy(c)
    eq(sorted(p.endpoints()), sorted(m.url for m in c), "endpoints from etcd's /members")
    r = p.put("/interop/a", {"value": "1"})
    status(r, 201, "PUT")
    idx = r.index
    # a thread: etcd's proxy sends a long poll's headers only with the event
    got = {}

    def watch():
        got["r"] = p.get("/interop/a", {"wait": "true", "waitIndex": idx + 1}, timeout=10)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    time.sleep(0.3)
    status(c[1].put("/interop/a", {"value": "2"}), 200, "direct PUT")
    t.join(10)
    true("r" in got, "the watch through the proxy did not return")
    ev = got["r"].json
    eq((ev["action"], ev["node"]["value"], ev["prevNode"]["value"]), ("set", "2", "1"),
       "watch event through the proxy")
    r = p.get("/interop/a", {"quorum": "true"})
    eq((r.status, r.json["node"]["value"]), (200, "2"), "quorum GET")
    r = p.request("GET", "/v2/members")
    eq(len(r.json["members"]), 3, "/v2/members through the proxy")


def test_etcd_proxy_in_front_of_target_cluster():
    """The other direction: etcd 3.4's proxy in front of the target's
    3-member cluster (cetcd by default) reads its peer GET /members (ids as
    JSON numbers, an X-Etcd-Cluster-Id header) and serves PUT/GET."""
    if not ct.etcd_bin():
        ct.skip("etcd not installed")
    c = start_or_skip(3)
    p = start_proxy(c, kind="etcd")
    eq(sorted(p.endpoints()), sorted(m.url for m in c), "endpoints from the peer /members")
    status(p.put("/interop2/a", {"value": "1"}), 201, "PUT")
    c.wait_converged()
    r = p.get("/interop2/a")
    eq((r.status, r.json["node"]["value"]), (200, "1"), "GET")


@needs("cetcd")
def test_loop_is_refused():
    """Proxies A and B whose only 'members' are fake peers listing each
    other's client URL: a request gets an error answer (>= 400) within 5 s
    instead of looping (etcd would forward it back and forth)."""
    fa, fb = FakeMember(), FakeMember()
    a = clustertest.Proxy(target(), fa.initial_cluster(), name="a")
    b = clustertest.Proxy(target(), fb.initial_cluster(), name="b")
    fa.client_urls, fb.client_urls = [b.url], [a.url]
    a.spawn()
    b.spawn()
    a.wait_ready(10)
    b.wait_ready(10)
    for px in (a, b):
        r, dt = timed(lambda: px.get("/loop", timeout=6.0))
        true(dt < 5.0, "answered in %.2fs" % dt)
        true(r.status >= 400, "an error answer: %d %r" % (r.status, r.body))
    true(a.alive() and b.alive(), "both proxies still run")


def test_huge_body_and_slow_client_do_not_stall_others():
    """While one client sends a 10 MB PUT and another sends its request
    headers one byte every 100 ms, GETs through the same proxy keep
    answering in < 1.5 s each (a stall would last as long as the upload or
    the slow request: seconds)."""
    c = start_or_skip(3)
    p = start_proxy(c)
    status(p.put("/bad/k", {"value": "v"}), 201, "seed")
    c.wait_converged()
    stop = threading.Event()
    out = {}

    def huge():
        try:
            body = b"value=" + b"x" * (10 << 20)
            r = p.request("PUT", kpath("/bad/huge"), body=body,
                          headers={"Content-Type": ct.FORM}, timeout=20)
            out["huge"] = "%d %r" % (r.status, r.body[:100])
        except NETERR as e:
            out["huge"] = repr(e)

    def slow():
        req = b"GET " + kpath("/bad/k").encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        try:
            s = socket.create_connection((p.host, p.port), timeout=5)
            try:
                for ch in req:
                    if stop.is_set():
                        break
                    s.sendall(bytes([ch]))
                    time.sleep(0.1)
            finally:
                s.close()
        except OSError as e:
            out["slow"] = repr(e)

    ts = [threading.Thread(target=f, daemon=True) for f in (huge, slow)]
    for t in ts:
        t.start()
    worst = 0.0
    t_end = time.time() + 4.0
    n = 0
    try:
        while time.time() < t_end:
            r, dt = timed(lambda: p.get("/bad/k", timeout=2.0))
            status(r, 200, "GET %d" % n)
            worst = max(worst, dt)
            n += 1
            time.sleep(0.05)
    finally:
        stop.set()
        for t in ts:
            t.join(25)
    log("%d GETs, slowest %.0f ms; huge PUT: %s" % (n, worst * 1000, out.get("huge")))
    true(worst < 1.5, "a GET took %.3fs" % worst)
    true(p.alive(), "proxy still running")
    status(p.get("/bad/k"), 200, "GET after")


def probe():
    if target() == "cetcd":
        clustertest.probe_or_skip()
    proxy_probe_or_skip()


if __name__ == "__main__":
    run_scenarios(globals(), budget=float(os.environ.get("CETCD_PROXY_BUDGET", "300")),
                  probe=probe, after=close_fakes)
