#!/usr/bin/env python3
"""The client certificate's common name as the v2 auth user (issue 14): with
--client-cert-auth and no Authorization header, etcd 3.4 takes the verified
certificate's CN as the user (no password); an Authorization header wins
over the certificate. The same expectations hold against etcd 3.4.23
(CETCD_TARGET=etcd).

Uses test_tls.py's certificates (CA, server, client CN=root and CN=alice).
Run: python3 tests/e2e/test_tls_auth.py. Exit 77 when certtool is missing.
"""

import base64
import http.client
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
import test_tls as t  # noqa: E402


def call(url, ctx, method, path, body=None, form=None, basic=None):
    """(status, parsed JSON or text) of one request on a fresh connection."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10.0)
    hdrs = {}
    data = None
    if body is not None:
        data = json.dumps(body)
        hdrs["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form)
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    if basic:
        hdrs["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text
    finally:
        conn.close()


def expect(got, status, what):
    ct.eq(got[0], status, "%s: %r" % (what, got[1]))
    return got[1]


def test_cn_is_the_user(c, dir):
    n = t.Node(dir, "n1", client_scheme="https", extra=t.server_flags(c, True)).start()
    root, alice = t.ssl_ctx(c, "root"), t.ssl_ctx(c, "alice")
    t.wait_answering(n, ctx=root)
    url = n.client_url
    expect(call(url, root, "PUT", "/v2/auth/users/root", {"user": "root", "password": "rootpw"}),
           201, "root user")
    expect(call(url, root, "PUT", "/v2/auth/roles/rw_a",
                {"role": "rw_a", "permissions": {"kv": {"read": ["/a/*"], "write": ["/a/*"]}}}),
           201, "role rw_a")
    expect(call(url, root, "PUT", "/v2/auth/users/alice",
                {"user": "alice", "password": "alicepw", "roles": ["rw_a"]}),
           200, "alice (etcd answers 200 when roles come with the user)")
    expect(call(url, root, "PUT", "/v2/auth/enable"), 200, "enable auth")
    # CN=root acts as root without a password: the guest loses its rights
    expect(call(url, root, "PUT", "/v2/auth/roles/guest",
                {"role": "guest", "revoke": {"kv": {"read": ["/*"], "write": ["/*"]}}}),
           200, "guest revoked by CN=root")
    expect(call(url, alice, "PUT", "/v2/keys/a/x", form={"value": "1"}), 201, "alice on /a")
    denied = expect(call(url, alice, "PUT", "/v2/keys/b/x", form={"value": "1"}), 401,
                    "alice on /b")
    ct.eq(denied.get("errorCode"), 110, "errorCode of the denial")
    expect(call(url, alice, "GET", "/v2/auth/users"), 401, "alice is not root")
    expect(call(url, root, "PUT", "/v2/keys/b/x", form={"value": "1"}), 201, "CN=root on /b")
    # a resumed TLS session (session ticket) still has alice's certificate
    put = (b"PUT /v2/keys/a/r HTTP/1.1\r\nHost: h\r\nContent-Type: "
           b"application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=1")
    got, _, sess = t.tls_exchange(url, alice, [put], 1)
    ct.eq([a[0] for a in got], [201], "alice on /a, first connection")
    got, reused, _ = t.tls_exchange(url, alice, [put], 1, session=sess)
    ct.true(reused, "alice's session resumed")
    ct.eq([a[0] for a in got], [200], "alice on /a, resumed session")
    # an Authorization header wins over the certificate
    expect(call(url, alice, "PUT", "/v2/keys/b/y", form={"value": "1"}, basic="root:rootpw"),
           201, "alice's certificate with root's password")
    expect(call(url, root, "PUT", "/v2/keys/b/z", form={"value": "1"}, basic="alice:alicepw"),
           401, "root's certificate with alice's password")


if __name__ == "__main__":
    sys.exit(t.main(globals(), "cetcd-tls-auth-"))
