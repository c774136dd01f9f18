#!/usr/bin/env python3
"""TLS (issue 14): https:// client and peer listeners, client certificate
authentication, CRLs, cipher suites, --auto-tls, peers that present and
verify certificates, a proxy with TLS on both sides, and bad input (broken
certificate files, stalled or garbage handshakes).

The certificates are made here with GnuTLS's certtool in a temp dir: a CA,
a server/peer certificate (SAN IP 127.0.0.1 and DNS localhost, server and
client purposes), client certificates CN=root and CN=alice, a CRL revoking
alice, and a second, untrusted CA with a client certificate CN=root and a
peer certificate of its own.

What etcd 3.4.23 does (CETCD_TARGET=etcd runs the same tests against it):
  * with --client-cert-auth a client without a certificate, or with one from
    another CA, fails in the TLS handshake (an alert; no HTTP answer);
  * a member whose peer certificate the others do not trust cannot join;
  * a broken certificate or key file stops the server with a message
    naming the problem and a non-zero exit;
  * --auto-tls keeps its certificate in <data-dir>/fixtures/client and
    reuses it on restart.

Run: python3 tests/e2e/test_tls.py [name-filter...]. Exit 77 when certtool
is missing.
"""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
import procs  # noqa: E402

HOST = "127.0.0.1"


# --------------------------------------------------------------------------
# certificates

CERTS = None


def certtool(*args):
    subprocess.run(["certtool"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)


def make_certs(dir):
    def tmpl(name, text):
        p = os.path.join(dir, name + ".tmpl")
        with open(p, "w") as f:
            f.write(text + "expiration_days = 30\n")
        return p

    def key(name):
        p = os.path.join(dir, name + ".key")
        certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", p)
        return p

    def ca(name):
        k = key(name)
        p = os.path.join(dir, name + ".pem")
        certtool("--generate-self-signed", "--load-privkey", k, "--template",
                 tmpl(name, "cn = %s\nca\ncert_signing_key\ncrl_signing_key\n" % name),
                 "--outfile", p)
        return p, k

    def signed(name, by, text):
        k = key(name)
        p = os.path.join(dir, name + ".pem")
        certtool("--generate-certificate", "--load-privkey", k, "--load-ca-certificate",
                 by[0], "--load-ca-privkey", by[1], "--template", tmpl(name, text),
                 "--outfile", p)
        return p, k

    c = {}
    c["ca"] = ca("ca")
    c["other_ca"] = ca("otherca")
    server = ("ip_address = 127.0.0.1\ndns_name = localhost\ntls_www_server\n"
              "tls_www_client\nsigning_key\nencryption_key\n")
    c["server"] = signed("server", c["ca"], "cn = server\n" + server)
    c["member"] = signed("member", c["ca"], "cn = member\n" + server)
    c["rogue_peer"] = signed("roguepeer", c["other_ca"], "cn = member\n" + server)
    client = "tls_www_client\nsigning_key\n"
    c["root"] = signed("root", c["ca"], "cn = root\n" + client)
    c["alice"] = signed("alice", c["ca"], "cn = alice\n" + client)
    c["rogue"] = signed("rogue", c["other_ca"], "cn = root\n" + client)
    # peers whose SANs do or do not name 127.0.0.1 (etcd's checkSAN)
    c["wrongip"] = signed("wrongip", c["ca"], "cn = member\nip_address = 127.0.0.2\n" + client)
    c["dnsonly"] = signed("dnsonly", c["ca"], "cn = member\ndns_name = localhost\n" + client)
    c["dnsother"] = signed("dnsother", c["ca"],
                           "cn = member\ndns_name = nosuchhost.invalid\n" + client)
    crl = os.path.join(dir, "crl.pem")
    certtool("--generate-crl", "--load-ca-privkey", c["ca"][1], "--load-ca-certificate",
             c["ca"][0], "--load-certificate", c["alice"][0], "--template",
             tmpl("crl", "crl_next_update = 30\ncrl_number = 1\n"), "--outfile", crl)
    c["crl"] = crl
    bad = os.path.join(dir, "garbage.pem")
    with open(bad, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    c["garbage"] = bad
    return c


# --------------------------------------------------------------------------
# servers

def server_flags(c, client_auth=False):
    f = ["--cert-file", c["server"][0], "--key-file", c["server"][1]]
    if client_auth:
        f += ["--trusted-ca-file", c["ca"][0], "--client-cert-auth"]
    return f


def peer_flags(c, pair="member", client_auth=True):
    f = ["--peer-cert-file", c[pair][0], "--peer-key-file", c[pair][1],
         "--peer-trusted-ca-file", c["ca"][0]]
    if client_auth:
        f += ["--peer-client-cert-auth"]
    return f


def binary():
    return ct.etcd_bin() if ct.target() == "etcd" else ct.cetcd_bin()


def base_flags():
    return ["--enable-v2=true", "--log-level", "error"] if ct.target() == "etcd" else []


NODES = []  # started by the running test; killed after it


class Node(procs.Proc):
    """One member or proxy with its own URLs (http or https each)."""

    def __init__(self, dir, name, client_scheme="http", peer_scheme="http", extra=(), env=None):
        procs.Proc.__init__(self, os.path.join(dir, name + ".log"), cwd=dir, env=env)
        NODES.append(self)
        self.dir, self.name = dir, name
        self.data_dir = os.path.join(dir, name)
        self.port, self.peer_port = procs.free_port(), procs.free_port()
        self.client_url = "%s://%s:%d" % (client_scheme, HOST, self.port)
        self.peer_url = "%s://%s:%d" % (peer_scheme, HOST, self.peer_port)
        self.extra = list(extra)
        self.cluster = None
        self.state = "new"

    def argv(self):
        cl = self.cluster or "%s=%s" % (self.name, self.peer_url)
        return [binary()] + base_flags() + [
            "--name", self.name, "--data-dir", self.data_dir,
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", self.peer_url,
            "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", cl, "--initial-cluster-state", self.state] + self.extra

    def start(self, argv=None):
        self.spawn(argv or self.argv())
        return self


def ssl_ctx(c, cert=None, verify=True):
    if verify:
        ctx = ssl.create_default_context(cafile=c["ca"][0])
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(c[cert][0], c[cert][1])
    return ctx


def request(url, method="GET", path="/version", form=None, ctx=None, timeout=5.0):
    """(status, body) of one request on a fresh connection."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        body = urllib.parse.urlencode(form) if form is not None else None
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def wait_answering(node, url=None, ctx=None, timeout=15.0):
    url = url or node.client_url
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not node.alive():
            raise ct.Fail("%s exited (%s):\n%s" % (node.name, node.returncode,
                                                   node.log_tail(15)))
        try:
            st, _ = request(url, "GET", "/version", ctx=ctx, timeout=1.0)
            if st == 200:
                return
        except (OSError, http.client.HTTPException) as e:
            last = e
        time.sleep(0.1)
    raise ct.Fail("%s did not answer on %s: %r\n%s" % (node.name, url, last,
                                                      node.log_tail(15)))


def put_get(url, ctx, key, value, timeout=10.0):
    st, body = request(url, "PUT", "/v2/keys/" + key, {"value": value}, ctx=ctx, timeout=timeout)
    ct.true(st in (200, 201), "PUT %s -> %s %s" % (key, st, body))
    st, body = request(url, "GET", "/v2/keys/" + key, ctx=ctx, timeout=timeout)
    ct.eq(st, 200, "GET %s" % key)
    ct.eq(json.loads(body)["node"]["value"], value, "value of %s" % key)


def refused(url, ctx, what):
    """The request must fail before any HTTP answer (a TLS alert or a closed
    connection)."""
    try:
        st, body = request(url, "GET", "/v2/keys/", ctx=ctx, timeout=3.0)
    except (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected, OSError):
        return
    raise ct.Fail("%s: answered %s %s, expected a refused handshake" % (what, st, body[:100]))


def wait_exit(node, timeout):
    rc = node.wait_exit(timeout)
    if rc is None:
        node.kill()
        raise ct.Fail("%s still running after %.0fs:\n%s" % (node.name, timeout,
                                                            node.log_tail(10)))
    return rc


# --------------------------------------------------------------------------
# tests

def test_client_tls(c, dir):
    """https:// client listener: TLS with the CA's server certificate; plain
    HTTP to it gets no v2 answer."""
    n = Node(dir, "n1", client_scheme="https", extra=server_flags(c)).start()
    wait_answering(n, ctx=ssl_ctx(c))
    put_get(n.client_url, ssl_ctx(c), "tls1", "v1")
    # a client that does not trust the CA refuses the server
    try:
        request(n.client_url, ctx=ssl.create_default_context(cafile=c["other_ca"][0]))
        raise ct.Fail("a client trusting another CA accepted the server")
    except ssl.SSLError:
        pass
    # a long poll over TLS: suspended, then answered by a later write
    import threading
    got = {}

    def watch():
        got["r"] = request(n.client_url, "GET", "/v2/keys/tlsw?wait=true", ctx=ssl_ctx(c),
                           timeout=10)
    th = threading.Thread(target=watch)
    th.start()
    time.sleep(0.3)
    put_get(n.client_url, ssl_ctx(c), "tlsw", "fired")
    th.join(10)
    ct.true("r" in got and got["r"][0] == 200 and "fired" in got["r"][1],
            "the watch over TLS fired: %r" % (got.get("r"),))
    # curl --cacert, as a user would
    out = subprocess.run(["curl", "-sS", "--cacert", c["ca"][0], n.client_url + "/v2/keys/tls1"],
                         capture_output=True, timeout=10)
    ct.eq(json.loads(out.stdout)["node"]["value"], "v1", "curl --cacert")


def parse_answer(data):
    """((status, body), bytes used) of the first whole answer in data (sized
    or chunked), or None."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = data[:end].decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in head[1:])}
    status, pos = int(head[0].split(" ")[1]), end + 4
    if fields.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            eol = data.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(data[pos:eol].split(b";")[0], 16)
            if len(data) < eol + 2 + size + 2:
                return None
            body += data[eol + 2:eol + 2 + size]
            pos = eol + 2 + size + 2
            if size == 0:
                return (status, body.decode()), pos
    length = int(fields.get("content-length", "0"))
    if len(data) < pos + length:
        return None
    return (status, data[pos:pos + length].decode()), pos + length


def tls_exchange(url, ctx, writes, want, timeout=5.0, session=None):
    """Writes each of `writes` (bytes, one TLS record each) on one connection,
    then reads until `want` answers have arrived complete (or EOF). Returns
    (list of (status, body) in order, the ssl socket's session_reused)."""
    u = urllib.parse.urlsplit(url)
    raw = socket.create_connection((u.hostname, u.port), timeout=timeout)
    s = ctx.wrap_socket(raw, server_hostname=u.hostname, session=session)
    try:
        for w in writes:
            s.sendall(w)
        data = b""
        answers = []
        deadline = time.monotonic() + timeout
        while len(answers) < want and time.monotonic() < deadline:
            got = parse_answer(data)
            if got is not None:
                answers.append(got[0])
                data = data[got[1]:]
                continue
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return answers, s.session_reused, s.session
    finally:
        s.close()


def test_tls_answers(c, dir):
    """Answers over TLS arrive whole however requests come: several in one
    record (pipelined), in separate records, with Connection: close, over
    HTTP/1.0, a body of 200 KB; a client that keeps the server's session
    ticket resumes (etcd sends tickets; clients without keep-alive resume),
    also with client certificates, and the resumed client is served."""
    n = Node(dir, "n1", client_scheme="https", extra=server_flags(c)).start()
    ctx = ssl_ctx(c)
    wait_answering(n, ctx=ctx)
    put_get(n.client_url, ctx, "a", "1")
    big = "x" * 200000
    st, _ = request(n.client_url, "PUT", "/v2/keys/big", {"value": big}, ctx=ctx)
    ct.true(st in (200, 201), "PUT big")

    def get(k, extra=""):
        return ("GET /v2/keys/%s HTTP/1.1\r\nHost: h\r\n%s\r\n" % (k, extra)).encode()
    got, _, _ = tls_exchange(n.client_url, ctx, [get("a") * 3], 3)
    ct.eq([a[0] for a in got], [200] * 3, "three pipelined in one record")
    got, _, _ = tls_exchange(n.client_url, ctx, [get("a"), get("big"), get("a")], 3)
    ct.eq([a[0] for a in got], [200] * 3, "three in separate records")
    ct.eq(json.loads(got[1][1])["node"]["value"], big, "the 200 KB value")
    got, _, _ = tls_exchange(n.client_url, ctx, [get("a", "Connection: close\r\n")], 1)
    ct.eq([a[0] for a in got], [200], "Connection: close")
    got, _, _ = tls_exchange(n.client_url, ctx, [b"GET /v2/keys/a HTTP/1.0\r\n\r\n"], 1)
    ct.eq([a[0] for a in got], [200], "HTTP/1.0")
    for name, flags, cctx in (("plain", server_flags(c), ctx),
                              ("client certs", server_flags(c, True), ssl_ctx(c, "root"))):
        m = Node(dir, "r" + name[0], client_scheme="https", extra=flags).start()
        wait_answering(m, ctx=cctx)
        got, reused, sess = tls_exchange(m.client_url, cctx, [get("")], 1)
        ct.eq([a[0] for a in got], [200], "%s: first connection" % name)
        got, reused, _ = tls_exchange(m.client_url, cctx, [get("")], 1, session=sess)
        ct.eq([a[0] for a in got], [200], "%s: resumed connection" % name)
        ct.true(reused, "%s: the session was resumed" % name)


def test_cert_reload(c, dir):
    """The server certificate is read again when its files change (etcd reads
    them at every handshake): new connections get the new one; while the
    files do not load, handshakes fail, and work again once they do."""
    crt, key = os.path.join(dir, "srv.pem"), os.path.join(dir, "srv.key")

    def install(pair):
        for src, dst in ((c[pair][0], crt), (c[pair][1], key)):
            shutil.copy(src, dst + ".new")
            os.replace(dst + ".new", dst)
    install("server")
    n = Node(dir, "n1", client_scheme="https",
             extra=["--cert-file", crt, "--key-file", key]).start()
    ctx = ssl_ctx(c)
    wait_answering(n, ctx=ctx)
    u = urllib.parse.urlsplit(n.client_url)

    def served_cn():
        with socket.create_connection((u.hostname, u.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=u.hostname) as s:
                return dict(x[0] for x in s.getpeercert()["subject"])["commonName"]
    ct.eq(served_cn(), "server", "the certificate at start")
    install("member")
    ct.eq(served_cn(), "member", "the certificate after its files changed")
    with open(crt, "w") as f:
        f.write("not a certificate\n")
    try:
        served_cn()
        raise ct.Fail("a handshake succeeded while the certificate file was broken")
    except (ssl.SSLError, ConnectionError, OSError):
        pass
    install("server")
    ct.eq(served_cn(), "server", "the certificate once the files load again")
    put_get(n.client_url, ctx, "reload", "ok")


def test_client_cert_auth(c, dir):
    """--client-cert-auth: a client certificate from the trusted CA gets in;
    none, or one from another CA, is refused in the handshake."""
    n = Node(dir, "n1", client_scheme="https", extra=server_flags(c, True)).start()
    wait_answering(n, ctx=ssl_ctx(c, "root"))
    put_get(n.client_url, ssl_ctx(c, "root"), "cca", "ok")
    put_get(n.client_url, ssl_ctx(c, "alice"), "cca2", "ok")
    refused(n.client_url, ssl_ctx(c), "no client certificate")
    refused(n.client_url, ssl_ctx(c, "rogue"), "a certificate from another CA")
    # the server still serves after the refusals
    put_get(n.client_url, ssl_ctx(c, "root"), "cca3", "still")


def test_trusted_ca_requires_client_cert(c, dir):
    """etcd 3.4: --trusted-ca-file alone (no --client-cert-auth) already
    requires a client certificate from that CA."""
    n = Node(dir, "n1", client_scheme="https",
             extra=server_flags(c) + ["--trusted-ca-file", c["ca"][0]]).start()
    wait_answering(n, ctx=ssl_ctx(c, "root"))
    put_get(n.client_url, ssl_ctx(c, "alice"), "ca", "ok")
    refused(n.client_url, ssl_ctx(c), "no client certificate")


def test_env_vars(c, dir):
    """The ETCD_* variables of the TLS flags."""
    env = {"ETCD_CERT_FILE": c["server"][0], "ETCD_KEY_FILE": c["server"][1],
           "ETCD_TRUSTED_CA_FILE": c["ca"][0], "ETCD_CLIENT_CERT_AUTH": "true"}
    n = Node(dir, "n1", client_scheme="https", env=env).start()
    wait_answering(n, ctx=ssl_ctx(c, "root"))
    put_get(n.client_url, ssl_ctx(c, "root"), "env", "ok")
    refused(n.client_url, ssl_ctx(c), "no client certificate")


def test_ca_file(c, dir):
    """--ca-file: etcd 2's deprecated flag (trusted CA + client-cert auth).
    etcd 3.4 no longer knows it (exit 2); cetcd keeps its meaning."""
    argv_extra = server_flags(c) + ["--ca-file", c["ca"][0]]
    if ct.target() == "etcd":
        n = Node(dir, "n1", client_scheme="https", extra=argv_extra).start()
        ct.eq(wait_exit(n, 10), 2, "etcd 3.4 refuses --ca-file")
        return
    n = Node(dir, "n1", client_scheme="https", extra=argv_extra).start()
    wait_answering(n, ctx=ssl_ctx(c, "root"))
    put_get(n.client_url, ssl_ctx(c, "alice"), "cafile", "ok")
    refused(n.client_url, ssl_ctx(c), "no client certificate")


def test_client_cert_allowed_hostname(c, dir):
    """--client-cert-allowed-hostname: only client certificates valid for that
    host name get in."""
    n = Node(dir, "n1", client_scheme="https", extra=server_flags(c, True) + [
        "--client-cert-allowed-hostname", "localhost"]).start()
    wait_answering(n, ctx=ssl_ctx(c, "member"))
    put_get(n.client_url, ssl_ctx(c, "member"), "host", "ok")
    refused(n.client_url, ssl_ctx(c, "root"), "a certificate without that host")


def test_client_crl(c, dir):
    """--client-crl-file: a revoked client certificate is refused."""
    n = Node(dir, "n1", client_scheme="https",
             extra=server_flags(c, True) + ["--client-crl-file", c["crl"]]).start()
    wait_answering(n, ctx=ssl_ctx(c, "root"))
    put_get(n.client_url, ssl_ctx(c, "root"), "crl", "ok")
    refused(n.client_url, ssl_ctx(c, "alice"), "a revoked certificate")


def test_mixed_listeners(c, dir):
    """http:// and https:// client listeners side by side serve one store."""
    n = Node(dir, "n1", extra=server_flags(c))
    tls_port = procs.free_port()
    tls_url = "https://%s:%d" % (HOST, tls_port)
    n.client_url = "%s,%s" % (n.client_url, tls_url)
    n.start()
    plain = n.client_url.split(",")[0]
    wait_answering(n, url=plain)
    wait_answering(n, url=tls_url, ctx=ssl_ctx(c))
    put_get(plain, None, "mixed", "a")
    st, body = request(tls_url, "GET", "/v2/keys/mixed", ctx=ssl_ctx(c))
    ct.eq((st, json.loads(body)["node"]["value"]), (200, "a"), "read over TLS")


def start_tls_cluster(c, dir, n=3, extra=()):
    nodes = [Node(dir, "m%d" % i, peer_scheme="https", extra=peer_flags(c) + list(extra))
             for i in range(n)]
    cl = ",".join("%s=%s" % (m.name, m.peer_url) for m in nodes)
    for m in nodes:
        m.cluster = cl
        m.start()
    for m in nodes:
        wait_answering(m, timeout=20)
    return nodes


def wait_value(url, key, value, timeout=10.0):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        try:
            st, body = request(url, "GET", "/v2/keys/" + key, timeout=1.0)
            got = (st, body)
            if st == 200 and json.loads(body)["node"]["value"] == value:
                return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.1)
    raise ct.Fail("%s never read %s=%s (last %r)" % (url, key, value, got))


def test_peer_tls_cluster(c, dir):
    """3 members over https:// peer URLs with peer client-cert auth: writes
    replicate."""
    nodes = start_tls_cluster(c, dir)
    put_get(nodes[0].client_url, None, "peer", "replicated", timeout=15)
    for m in nodes[1:]:
        wait_value(m.client_url, "peer", "replicated")
    st, body = request(nodes[2].client_url, "GET", "/v2/members")
    ct.eq(st, 200, "members")
    urls = sorted(u for m in json.loads(body)["members"] for u in m["peerURLs"])
    ct.eq(urls, sorted(m.peer_url for m in nodes), "https peer URLs")


def test_untrusted_peer_cannot_join(c, dir):
    """A member added to a peer-TLS cluster whose certificate comes from
    another CA cannot join: the existing member refuses its certificate, and
    it stops."""
    m0 = Node(dir, "m0", peer_scheme="https", extra=peer_flags(c)).start()
    wait_answering(m0)
    put_get(m0.client_url, None, "before", "x")
    rogue = Node(dir, "m1", peer_scheme="https", extra=peer_flags(c, "rogue_peer"))
    rogue.cluster = "%s=%s,%s=%s" % (m0.name, m0.peer_url, rogue.name, rogue.peer_url)
    rogue.state = "existing"
    rogue.start()
    rc = wait_exit(rogue, 20)
    ct.true(rc != 0, "the rogue member exits non-zero (got %s)" % rc)
    st, _ = request(m0.client_url, "GET", "/v2/keys/before")
    ct.eq(st, 200, "the member still serves")


def test_peer_cert_allowed_cn(c, dir):
    """--peer-cert-allowed-cn: a peer certificate with another CN is refused
    (the cluster cannot form); with the right CN it can."""
    nodes = [Node(dir, "a%d" % i, peer_scheme="https",
                  extra=peer_flags(c, "server") + ["--peer-cert-allowed-cn", "member"])
             for i in range(2)]
    cl = ",".join("%s=%s" % (m.name, m.peer_url) for m in nodes)
    for m in nodes:
        m.cluster = cl
        m.start()
    time.sleep(1.5)
    for m in nodes:
        try:
            st, body = request(m.client_url, "PUT", "/v2/keys/cn", {"value": "x"}, timeout=1)
            ct.true(st >= 500, "%s: no quorum with refused peers, got %s %s" % (m.name, st, body))
        except (OSError, http.client.HTTPException):
            pass
    for m in nodes:
        m.kill()
    ok = [Node(dir, "b%d" % i, peer_scheme="https",
               extra=peer_flags(c) + ["--peer-cert-allowed-cn", "member"]) for i in range(2)]
    cl = ",".join("%s=%s" % (m.name, m.peer_url) for m in ok)
    for m in ok:
        m.cluster = cl
        m.start()
    for m in ok:
        wait_answering(m, timeout=20)
    put_get(ok[0].client_url, None, "cn", "ok", timeout=15)


def test_peer_client_san(c, dir):
    """etcd's peer listeners check a client certificate's SANs against the
    connecting address (after the handshake): no SANs, an IP SAN naming it,
    or a DNS SAN that resolves to it gets in; an IP SAN naming another
    address, or a DNS name that does not resolve to it, is refused.
    --experimental-peer-skip-client-san-verification turns the check off."""
    n = Node(dir, "p1", peer_scheme="https", extra=peer_flags(c)).start()
    wait_answering(n, timeout=20)
    for who in ("root", "member", "dnsonly"):
        st, _ = request(n.peer_url, "GET", "/members", ctx=ssl_ctx(c, who))
        ct.eq(st, 200, "peer client certificate %s" % who)
    for who in ("wrongip", "dnsother"):
        refused(n.peer_url, ssl_ctx(c, who), "peer client certificate %s" % who)
    if ct.target() != "etcd":
        log = open(n.log_path, errors="replace").read()
        ct.true('rejected connection from "127.0.0.1:' in log and
                'x509: certificate is valid for 127.0.0.2, not 127.0.0.1' in log and
                'does not match any of DNSNames [\\"nosuchhost.invalid\\"]' in log,
                "etcd's rejected connection lines:\n%s" % n.log_tail(6))
    st, _ = request(n.peer_url, "GET", "/members", ctx=ssl_ctx(c, "root"))
    ct.eq(st, 200, "still serving peers")
    s = Node(dir, "p2", peer_scheme="https", extra=peer_flags(c) + [
        "--experimental-peer-skip-client-san-verification"]).start()
    wait_answering(s, timeout=20)
    st, _ = request(s.peer_url, "GET", "/members", ctx=ssl_ctx(c, "wrongip"))
    ct.eq(st, 200, "SAN check skipped")


def test_etcdctl(c, dir):
    """ETCDCTL_API=2 etcdctl with --ca-file/--cert-file/--key-file against an
    https:// listener with client-cert auth."""
    ctl = shutil.which("etcdctl")
    if not ctl:
        print("  (no etcdctl: skipped)")
        return
    n = Node(dir, "n1", client_scheme="https", extra=server_flags(c, True)).start()
    wait_answering(n, ctx=ssl_ctx(c, "root"))
    base = [ctl, "--endpoints", n.client_url, "--ca-file", c["ca"][0],
            "--cert-file", c["root"][0], "--key-file", c["root"][1]]
    env = dict(os.environ, ETCDCTL_API="2")
    out = subprocess.run(base + ["set", "/ctl", "hello"], env=env, capture_output=True,
                         timeout=20)
    ct.eq(out.returncode, 0, "etcdctl set: %s" % out.stderr[-300:])
    out = subprocess.run(base + ["get", "/ctl"], env=env, capture_output=True, timeout=20)
    ct.eq(out.stdout.decode().strip(), "hello", "etcdctl get")
    out = subprocess.run([ctl, "--endpoints", n.client_url, "--ca-file", c["ca"][0],
                          "get", "/ctl"], env=env, capture_output=True, timeout=20)
    ct.true(out.returncode != 0, "etcdctl without a client certificate fails")


def start_fails(dir, name, extra, client_scheme="https", words=()):
    n = Node(dir, name, client_scheme=client_scheme, extra=extra).start()
    rc = wait_exit(n, 15)
    ct.true(rc != 0, "%s: non-zero exit (got %s)" % (name, rc))
    out = n.output()
    for w in words:
        ct.true(w in out, "%s: the message names %r:\n%s" % (name, w, out[-600:]))
    return out


def test_bad_files(c, dir):
    """A broken certificate or key, a missing file, or an https:// URL without
    a certificate: a clear message and a non-zero exit."""
    start_fails(dir, "garbage", ["--cert-file", c["garbage"], "--key-file", c["server"][1]])
    start_fails(dir, "swapped", ["--cert-file", c["server"][1], "--key-file", c["server"][0]])
    start_fails(dir, "missing", ["--cert-file", os.path.join(dir, "nope.pem"),
                                 "--key-file", c["server"][1]], words=["nope.pem"])
    start_fails(dir, "nocert", [])
    start_fails(dir, "peergarbage", ["--peer-cert-file", c["garbage"], "--peer-key-file",
                                     c["server"][1]], client_scheme="http")


def test_stalled_handshakes(c, dir):
    """Clients that connect and send nothing, or send garbage, do not hold up
    the others."""
    n = Node(dir, "n1", client_scheme="https", extra=server_flags(c)).start()
    wait_answering(n, ctx=ssl_ctx(c))
    silent = [socket.create_connection((HOST, n.port), timeout=5) for _ in range(20)]
    garbage = socket.create_connection((HOST, n.port), timeout=5)
    garbage.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(64))
    half = socket.create_connection((HOST, n.port), timeout=5)
    half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello cut short
    t0 = time.monotonic()
    for i in range(5):
        put_get(n.client_url, ssl_ctx(c), "busy%d" % i, "v", timeout=3)
    ct.true(time.monotonic() - t0 < 3, "requests are served while handshakes stall")
    # the garbage sender is answered or dropped, not kept waiting
    garbage.settimeout(5)
    try:
        while garbage.recv(4096):
            pass
    except OSError:
        pass
    for s in silent + [garbage, half]:
        s.close()


def test_auto_tls(c, dir):
    """--auto-tls: a self-signed certificate in <data-dir>/fixtures/client,
    the same one after a restart."""
    n = Node(dir, "n1", client_scheme="https", extra=["--auto-tls"]).start()
    insecure = ssl_ctx(c, verify=False)
    wait_answering(n, ctx=insecure)
    put_get(n.client_url, insecure, "auto", "1")
    cert = os.path.join(n.data_dir, "fixtures", "client", "cert.pem")
    ct.true(os.path.isfile(cert) and os.path.isfile(os.path.join(
        n.data_dir, "fixtures", "client", "key.pem")), "fixtures/client/{cert,key}.pem")
    with open(cert, "rb") as f:
        first = f.read()
    n.stop()
    n.start()
    wait_answering(n, ctx=insecure)
    with open(cert, "rb") as f:
        ct.eq(f.read(), first, "the certificate is reused")
    st, body = request(n.client_url, "GET", "/v2/keys/auto", ctx=insecure)
    ct.eq(json.loads(body)["node"]["value"], "1", "data after restart")


def test_peer_auto_tls(c, dir):
    """--peer-auto-tls: two members with self-signed peer certificates."""
    nodes = [Node(dir, "p%d" % i, peer_scheme="https", extra=["--peer-auto-tls"])
             for i in range(2)]
    cl = ",".join("%s=%s" % (m.name, m.peer_url) for m in nodes)
    for m in nodes:
        m.cluster = cl
        m.start()
    for m in nodes:
        wait_answering(m, timeout=20)
    put_get(nodes[0].client_url, None, "pauto", "ok", timeout=15)
    wait_value(nodes[1].client_url, "pauto", "ok")
    ct.true(os.path.isfile(os.path.join(nodes[0].data_dir, "fixtures", "peer", "cert.pem")),
            "fixtures/peer/cert.pem")


def test_cipher_suites(c, dir):
    """--cipher-suites: a listed suite is negotiated, an unlisted one is not
    (TLS 1.2); TLS 1.3 keeps its own suites (Go's crypto/tls); an unknown
    name stops the server."""
    n = Node(dir, "n1", client_scheme="https", extra=server_flags(c) + [
        "--cipher-suites", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]).start()
    wait_answering(n, ctx=ssl_ctx(c))
    ok = ssl_ctx(c)
    ok.maximum_version = ssl.TLSVersion.TLSv1_2
    ok.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    st, _ = request(n.client_url, ctx=ok)
    ct.eq(st, 200, "listed suite")
    # the list is for TLS 1.2: a TLS 1.3 client gets TLS 1.3 and its suites
    u = urllib.parse.urlsplit(n.client_url)
    with socket.create_connection((u.hostname, u.port), timeout=5) as raw:
        with ssl_ctx(c).wrap_socket(raw, server_hostname=u.hostname) as s13:
            ct.eq(s13.version(), "TLSv1.3", "TLS 1.3 with --cipher-suites")
    other = ssl_ctx(c)
    other.maximum_version = ssl.TLSVersion.TLSv1_2
    other.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384")
    try:
        request(n.client_url, ctx=other)
        raise ct.Fail("an unlisted suite was negotiated")
    except ssl.SSLError:
        pass
    start_fails(dir, "badsuite", server_flags(c) + ["--cipher-suites", "TLS_NOPE"])


def test_proxy_tls(c, dir):
    """A proxy terminating client TLS (--cert-file) in front of a member with
    https:// client and peer URLs and client-cert auth on both. As etcd 3.4's
    proxy, it presents its client certificate (verifying members against
    --trusted-ca-file) to the members' client URLs, and its --peer-*
    certificate to their peer URLs (GET /members)."""
    m = Node(dir, "m0", client_scheme="https", peer_scheme="https",
             extra=server_flags(c, True) + peer_flags(c)).start()
    wait_answering(m, ctx=ssl_ctx(c, "root"))
    p = Node(dir, "proxy", client_scheme="https")
    argv = [binary()] + base_flags() + [
        "--proxy", "on", "--name", "proxy", "--data-dir", p.data_dir,
        "--listen-client-urls", p.client_url,
        "--initial-cluster", "%s=%s" % (m.name, m.peer_url)] + server_flags(c) + [
        "--trusted-ca-file", c["ca"][0],
        "--peer-cert-file", c["member"][0], "--peer-key-file", c["member"][1],
        "--peer-trusted-ca-file", c["ca"][0]]
    p.start(argv)
    deadline = time.monotonic() + 20
    while True:
        try:
            st, body = request(p.client_url, "PUT", "/v2/keys/viaproxy", {"value": "p"},
                               ctx=ssl_ctx(c, "root"), timeout=3)
            if st in (200, 201):
                break
        except (OSError, http.client.HTTPException) as e:
            body = repr(e)
        if time.monotonic() > deadline:
            raise ct.Fail("no write through the proxy: %s\n%s" % (body, p.log_tail(10)))
        time.sleep(0.3)
    st, body = request(m.client_url, "GET", "/v2/keys/viaproxy", ctx=ssl_ctx(c, "root"))
    ct.eq(json.loads(body)["node"]["value"], "p", "the member has the proxied write")


# --------------------------------------------------------------------------

def main(mod_globals=None, prefix="cetcd-tls-"):
    """Runs the test_* functions of mod_globals (this module's by default)
    with one set of certificates; test_tls_auth.py runs its own with it."""
    mod_globals = mod_globals or globals()
    if not shutil.which("certtool"):
        ct.skip("certtool (gnutls-bin) not installed")
    if not binary():
        ct.skip("%s binary not found" % ct.target())
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    tests = [(k, v) for k, v in sorted(mod_globals.items(), key=lambda kv: kv[0])
             if k.startswith("test_") and callable(v)]
    tests.sort(key=lambda kv: kv[1].__code__.co_firstlineno)
    if only:
        tests = [(k, v) for k, v in tests if any(o in k for o in only)]
    root = procs.temp_dir(prefix)
    certs = make_certs(root)
    print("# target: %s (%s)" % (ct.target(), binary()))
    failed = 0
    for name, fn in tests:
        dir = os.path.join(root, name)
        os.makedirs(dir)
        t0 = time.time()
        try:
            fn(certs, dir)
            print("ok   %s (%.1fs)" % (name, time.time() - t0))
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print("FAIL %s: %s" % (name, e))
            traceback.print_exc(limit=4)
        finally:
            while NODES:
                NODES.pop().kill()
        sys.stdout.flush()
    if failed == 0:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print("# logs kept in %s" % root)
    print("%d passed, %d failed" % (len(tests) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
