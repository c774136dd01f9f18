#!/usr/bin/env python3
"""Bad input: malformed paths, bad escapes, bad parameter values, garbage and
huge bodies, raw-socket garbage, truncated and slow requests. After each test
the server must still answer a GET. Checked against etcd 3.4.23."""

import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cetcdtest import run, eq, true, status, err, kpath, FORM, fresh_server, target  # noqa: E402

E201 = (400, 201, "PrevValue is Required in POST form", '"prevValue" cannot be empty')
E202 = (400, 202, "The given TTL in POST form is not a number", 'invalid value for "ttl"')


def E203(name):
    return (400, 203, "The given index in POST form is not a number", 'invalid value for "%s"' % name)


def E209(cause):
    return (400, 209, "Invalid field", cause)


def E210(cause):
    return (400, 210, "Invalid POST form", cause)


def alive(c, what=""):
    """The server still serves a GET (and a write) after the abuse."""
    r = c.put(c.k("/alive"), {"value": "yes"}, timeout=5)
    true(r.status in (200, 201), "server must still accept a PUT %s: %r" % (what, r))
    r = c.get(c.k("/alive"), timeout=5)
    status(r, 200, "server must still serve a GET " + what)
    eq(r.json["node"]["value"], "yes", "alive value")


def status_line(raw):
    m = re.match(rb"^HTTP/1\.[01] (\d{3})", raw)
    return int(m.group(1)) if m else None


def split_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    hdrs = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode("latin-1")
    return status_line(raw), hdrs, body


# ---------------------------------------------------------------- paths

def test_unclean_paths_redirect(c):
    a = c.k("/a")
    c.put(a, {"value": "v"})
    cases = [
        ("/v2/keys" + c.k("//a"), "/v2/keys" + a),
        ("/v2/keys" + c.k("/x/../a"), "/v2/keys" + a),
        ("/v2/keys" + c.k("/./a"), "/v2/keys" + a),
        ("/v2/keys" + c.k("//a") + "?recursive=true&x=%20", "/v2/keys" + a + "?recursive=true&x=%20"),
        ("/v2//keys" + a, "/v2/keys" + a),
        ("/v2/keys/a/..", "/v2/keys"),
    ]
    for path, loc in cases:
        raw = c.srv.raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        st, h, body = split_response(raw)
        eq(st, 301, "GET %s status" % path)
        eq(h.get("location"), loc, "Location for %s" % path)
    # the redirected request is not executed
    raw = c.srv.raw(("PUT /v2/keys%s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                     "Content-Length: 7\r\nConnection: close\r\n\r\nvalue=X" %
                     (c.k("/x/../a"), FORM)).encode())
    eq(status_line(raw), 301, "PUT with .. redirected")
    eq(c.get(a).json["node"]["value"], "v", "redirected PUT not executed")
    r = c.get(a + "/")
    status(r, 200, "single trailing slash is fine")
    eq(r.json["node"]["key"], a, "trailing slash cleaned")
    alive(c)


def test_bad_percent_escape_in_path(c):
    for p in ["/v2/keys" + c.k("/a%zz"), "/v2/keys" + c.k("/a%"), "/v2/keys" + c.k("/a%4")]:
        raw = c.srv.raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % p).encode())
        eq(status_line(raw), 400, "bad escape in path %s -> 400" % p)
    alive(c)


def test_bad_percent_escape_in_params(c):
    a = c.k("/a")
    for q, cause in [("a=%zz", 'invalid URL escape "%zz"'), ("a=%2", 'invalid URL escape "%2"'),
                     ("a=%", 'invalid URL escape "%"'), ("%zz=1", 'invalid URL escape "%zz"')]:
        err(c.req("GET", kpath(a) + "?" + q), *E210(cause), index=0, what="GET ?" + q)
        err(c.req("DELETE", kpath(a) + "?" + q), *E210(cause), index=0, what="DELETE ?" + q)
    err(c.req("PUT", kpath(a), body="value=%zz", headers={"Content-Type": FORM}),
        *E210('invalid URL escape "%zz"'), index=0, what="form body")
    err(c.req("PUT", kpath(a) + "?value=%zz", body="value=ok", headers={"Content-Type": FORM}),
        *E210('invalid URL escape "%zz"'), index=0, what="bad query + good body")
    r = c.req("PUT", kpath(a) + "?x=%zz")
    true(r.hdr("X-Etcd-Cluster-Id"), "X-Etcd-Cluster-Id on parse errors")
    eq(r.hdr("X-Etcd-Index"), "0", "X-Etcd-Index 0 on parse errors")
    alive(c)


def test_semicolon_in_query(c):
    err(c.req("GET", kpath(c.k("/a")) + "?a=1;b=2"),
        *E210("invalid semicolon separator in query"), index=0)
    alive(c)


# ---------------------------------------------------------------- parameter values

def test_bad_parameter_values(c):
    a = c.k("/a")
    c.put(a, {"value": "v"})
    cases = [
        ("GET", {"prevValue": ""}, E201),
        ("PUT", {"value": "1", "prevValue": ""}, E201),
        ("DELETE", {"prevValue": ""}, E201),
        ("GET", {"ttl": "abc"}, E202),
        ("PUT", {"value": "1", "ttl": "-1"}, E202),
        ("PUT", {"value": "1", "ttl": "1e3"}, E202),
        ("POST", {"value": "1", "ttl": "x"}, E202),
        ("GET", {"prevIndex": "abc"}, E203("prevIndex")),
        ("GET", {"prevIndex": "-1"}, E203("prevIndex")),
        ("GET", {"prevIndex": ""}, E203("prevIndex")),
        ("DELETE", {"prevIndex": "1x"}, E203("prevIndex")),
        ("PUT", {"value": "1", "prevIndex": "18446744073709551616"}, E203("prevIndex")),
        ("GET", {"wait": "true", "waitIndex": "-5"}, E203("waitIndex")),
        ("GET", {"wait": "true", "waitIndex": "18446744073709551616"}, E203("waitIndex")),
        ("GET", {"waitIndex": "x"}, E203("waitIndex")),
        ("GET", {"dir": "x"}, E209('invalid value for "dir"')),
        ("GET", {"sorted": "x"}, E209('invalid value for "sorted"')),
        ("GET", {"quorum": "x"}, E209('invalid value for "quorum"')),
        ("GET", {"stream": "x"}, E209('invalid value for "stream"')),
        ("GET", {"wait": "x"}, E209('invalid value for "wait"')),
        ("GET", {"recursive": ""}, E209('invalid value for "recursive"')),
        ("GET", {"noValueOnSuccess": "x"}, E209('invalid value for "noValueOnSuccess"')),
        ("PUT", {"value": "1", "prevExist": "x"}, E209("invalid value for prevExist")),
        ("PUT", {"value": "1", "prevExist": ""}, E209("invalid value for prevExist")),
        ("PUT", {"value": "1", "refresh": "x"}, E209("invalid value for refresh")),
        ("DELETE", {"dir": "nope"}, E209('invalid value for "dir"')),
        ("PUT", {"value": "1", "wait": "true"}, E209('"wait" can only be used with GET requests')),
        ("PUT", {"ttl": "5", "refresh": "true", "value": "x"},
         (400, 211, "Value provided on refresh", "A value was provided on a refresh")),
        ("PUT", {"refresh": "true"},
         (400, 212, "A TTL must be provided on refresh", "No TTL value set")),
        ("PUT", {"refresh": "true", "ttl": ""},
         (400, 212, "A TTL must be provided on refresh", "No TTL value set")),
    ]
    for method, params, e in cases:
        if method in ("PUT", "POST"):
            r = c.req(method, kpath(a), form=params)
        else:
            r = c.req(method, kpath(a), params)
        err(r, *e, index=0, what="%s %s" % (method, params))
    eq(c.current_index(), c.base + 1, "no bad request wrote anything")
    eq(c.get(a).json["node"]["value"], "v", "value untouched")
    alive(c)


def test_validation_order(c):
    # etcd checks: prevIndex, waitIndex, recursive, sorted, wait, dir, quorum,
    # stream, wait-on-non-GET, prevValue, noValueOnSuccess, ttl, prevExist, refresh.
    a = c.k("/a")
    cases = [
        ({"prevIndex": "x", "ttl": "x", "recursive": "x"}, E203("prevIndex")),
        ({"waitIndex": "x", "recursive": "x"}, E203("waitIndex")),
        ({"recursive": "x", "ttl": "x"}, E209('invalid value for "recursive"')),
        ({"sorted": "x", "dir": "x"}, E209('invalid value for "sorted"')),
        ({"dir": "x", "quorum": "x"}, E209('invalid value for "dir"')),
        ({"wait": "true", "prevValue": ""}, E209('"wait" can only be used with GET requests')),
        ({"ttl": "x", "prevValue": ""}, E201),
        ({"ttl": "x", "prevExist": "x"}, E202),
        ({"prevExist": "x", "refresh": "x"}, E209("invalid value for prevExist")),
    ]
    for params, e in cases:
        err(c.req("PUT", kpath(a), form=params), *e, index=0, what="PUT %s" % params)
    alive(c)


# ---------------------------------------------------------------- bodies

def test_garbage_bodies(c):
    a = c.k("/g")
    r = c.req("PUT", kpath(a), body=b"\x00\xff\xfe garbage \x01\x02", headers={"Content-Type": FORM})
    true(r.status in (200, 201), "binary junk form body -> it is just a weird key name: %r" % (r,))
    r = c.req("PUT", kpath(a), body=b"\x00\xff" * 1000, headers={"Content-Type": "application/octet-stream"})
    status(r, 200, "non-form body ignored")
    eq(r.json["node"]["value"], "", "non-form body -> empty value")
    r = c.req("PUT", kpath(a), body="value=%C3%A9&&&=x&value", headers={"Content-Type": FORM})
    status(r, 200, "odd but valid form")
    eq(r.json["node"]["value"], "\u00e9", "form value decoded")
    r = c.req("PUT", kpath(a), body=b"value=\xff\xfe", headers={"Content-Type": FORM})
    status(r, 200, "invalid UTF-8 value accepted")
    alive(c)


def test_two_mib_value_accepted(c):
    a = c.k("/big2")
    val = "v" * (2 * 1024 * 1024)
    r = c.put(a, {"value": val}, timeout=20)
    if target() == "cetcd":
        # cetcd holds v2 writes to --max-request-bytes (1.5 MiB by default;
        # etcd 3.4 does not: doc/api-compat.md "Limits", tests/e2e/test_limits.py)
        err(r, 400, 210, "Invalid POST form", cause="etcdserver: request is too large")
        alive(c)
        return
    status(r, 201, "a 2 MiB value (etcd v2 has no value size limit)")
    r = c.get(a, timeout=20)
    eq(len(r.json["node"]["value"]), len(val), "2 MiB value read back")
    c.delete(a)
    alive(c)


def _send_big(c, head, body_len, chunk=1 << 16, timeout=20):
    """Send head + body_len bytes of 'x' (after 'value='); return raw response."""
    s = socket.create_connection((c.srv.host, c.srv.port), timeout=timeout)
    out = b""
    try:
        s.sendall(head)
        sent = 0
        first = b"value="
        try:
            s.sendall(first)
            sent = len(first)
            buf = b"x" * chunk
            while sent < body_len:
                n = min(chunk, body_len - sent)
                s.sendall(buf[:n])
                sent += n
        except OSError:
            pass  # server may answer and close early
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                d = s.recv(65536)
            except OSError:
                break
            if not d:
                break
            out += d
    finally:
        s.close()
    return out


@fresh_server
def test_body_over_form_limit(c):
    # Go's ParseForm reads at most 10 MiB of a form body:
    # 400 / 210 "Invalid POST form" cause "http: POST too large", then the
    # connection is closed (Connection: close).
    n = 10 * 1024 * 1024 + 1024
    head = ("PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" %
            (kpath(c.k("/huge")), FORM, n)).encode()
    t0 = time.time()
    raw = _send_big(c, head, n, timeout=8)
    took = time.time() - t0
    st, h, body = split_response(raw)
    eq(st, 400, "status for a >10 MiB form body (got %r)" % raw[:200])
    import json
    js = json.loads(body.decode("utf-8", "replace") or "null")
    eq(js, {"errorCode": 210, "message": "Invalid POST form", "cause": "http: POST too large",
            "index": 0}, "error for a >10 MiB form body")
    problems = []
    if took >= 6:
        problems.append("server keeps the connection open after the 400 (etcd sends "
                        "Connection: close and closes); waited %.1fs for EOF" % took)
    status(c.get(c.k("/huge")), 404, "huge value not stored")
    alive(c)
    # a client that half-closes after its request must still be answered
    p = kpath(c.k("/hc")).encode()
    raw = c.srv.raw(b"PUT " + p + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode() +
                    b"\r\nContent-Length: 8\r\n\r\nvalue=hc", timeout=3, shut=True)
    # cetcd may not answer a half-closing writer (documented in doc/api-compat.md);
    # the write must still be applied
    if status_line(raw) != 201 and not (target() == "cetcd" and status_line(raw) is None and
                                         c.get(c.k("/hc")).status == 200):
        problems.append("after the oversized body, a PUT whose client half-closes (SHUT_WR) "
                        "gets %r instead of 201" % raw[:60])
    true(not problems, "; ".join(problems))


def test_huge_headers(c):
    raw = c.srv.raw(b"GET " + kpath(c.k("/a")).encode() + b" HTTP/1.1\r\nHost: x\r\nX-Big: " +
                    b"a" * (1100 * 1024) + b"\r\n\r\n", timeout=5)
    st = status_line(raw)
    true(st is None or st in (400, 413, 414, 431),
         "over-large header -> 4xx or close, got %r" % raw[:100])
    alive(c)


def test_long_key(c):
    a = c.k("/" + "k" * 3000)
    r = c.put(a, {"value": "long"})
    status(r, 201, "3000-byte key")
    eq(c.get(a).json["node"]["value"], "long", "long key read back")
    # etcd's port multiplexer resets request lines longer than ~4 KiB; any 4xx or a
    # closed connection is fine, the server must survive.
    raw = b""
    try:
        raw = c.srv.raw(b"GET " + kpath(c.k("/" + "k" * 100000)).encode() +
                        b" HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
    except OSError:
        pass
    st = status_line(raw)
    true(st is None or 400 <= st < 500, "100 KB request line -> 4xx or close: %r" % raw[:80])
    alive(c)


# ---------------------------------------------------------------- methods

def test_wrong_methods(c):
    a = kpath(c.k("/a"))
    for m in ["PATCH", "FOO", "TRACE", "CONNECT"]:
        raw = c.srv.raw(("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % (m, a)).encode())
        st, h, body = split_response(raw)
        if m == "CONNECT":
            true(st in (None, 400, 405), "CONNECT -> 400/405/close, got %r" % raw[:80])
            continue
        eq(st, 405, "%s status" % m)
        eq(h.get("allow"), "HEAD,GET,PUT,POST,DELETE", "%s Allow" % m)
    alive(c)


# ---------------------------------------------------------------- raw socket abuse

def test_raw_garbage(c):
    for junk in [b"GARBAGE\r\n\r\n", b"\x00\x01\x02\x03\xff\xfe\r\n\r\n", b"GET\r\n\r\n",
                 b"GET / HTTP/1.1\r\nHost x\r\nBad Header\r\n\r\n",
                 b"GET v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"\r\n\r\n\r\n", b"G" * 70000 + b"\r\n\r\n",
                 b"PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nvalue=1",
                 b"PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\nvalue=1",
                 b"PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\n\r\nZZ\r\nvalue\r\n0\r\n\r\n"]:
        raw = c.srv.raw(junk, timeout=3)
        st = status_line(raw)
        true(raw == b"" or (st is not None and 400 <= st < 500),
             "junk %r -> empty or 4xx, got %r" % (junk[:40], raw[:100]))
    alive(c)


def test_truncated_requests_not_executed(c):
    a = c.k("/trunc")
    path = kpath(a).encode()
    for data in [b"PUT " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode() +
                 b"\r\nContent-Length: 50\r\n\r\nvalue=part",
                 b"PUT " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Len",
                 b"PUT " + path + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: " + FORM.encode() + b"\r\n\r\n9\r\nvalue=abc\r\n",
                 b"PUT " + path]:
        raw = c.srv.raw(data, timeout=3)
        st = status_line(raw)
        true(st is None or 400 <= st < 500, "truncated request -> nothing or 4xx: %r" % raw[:100])
    status(c.get(a), 404, "truncated write was not executed")
    alive(c)


def test_half_open_connections_do_not_block(c):
    # slowloris-ish: hold 20 half-sent requests open while serving others
    socks = []
    try:
        for i in range(20):
            s = socket.create_connection((c.srv.host, c.srv.port), timeout=3)
            s.sendall(b"GET " + kpath(c.k("/slow")).encode() + b" HTTP/1.1\r\nHost: x\r\nX-A: ")
            socks.append(s)
        t0 = time.time()
        for i in range(5):
            alive(c, "while 20 half-open requests are pending")
        true(time.time() - t0 < 3.0, "normal requests served promptly (%.2fs)" % (time.time() - t0))
        # one drip-feeding client
        for s in socks[:3]:
            s.sendall(b"b")
        time.sleep(0.3)
        alive(c, "after drip")
        # finishing one half request still works
        socks[0].sendall(b"1\r\n\r\n")
        data = b""
        deadline = time.time() + 3
        while b"\r\n\r\n" not in data and time.time() < deadline:
            d = socks[0].recv(4096)
            if not d:
                break
            data += d
        true(status_line(data) in (200, 404), "completed slow request answered: %r" % data[:80])
    finally:
        for s in socks:
            s.close()
    alive(c)


def test_http_variants(c):
    a = c.k("/v")
    c.put(a, {"value": "x"})
    p = kpath(a).encode()
    raw = c.srv.raw(b"GET " + p + b" HTTP/1.0\r\n\r\n")
    eq(status_line(raw), 200, "HTTP/1.0 without Host")
    raw = c.srv.raw(b"GET " + p + b" HTTP/1.1\r\nHost: x\r\n\r\nGET " + p +
                    b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    eq(len(re.findall(rb"HTTP/1\.1 200 OK", raw)), 2, "two pipelined responses")
    raw = c.srv.raw(b"PUT " + p + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode() +
                    b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    b"5\r\nvalue\r\n3\r\n=ch\r\n0\r\n\r\n",
                    shut=False)  # half-closing writers: test_half_closed_put_after_aborted_requests
    eq(status_line(raw), 200, "chunked request body")
    eq(c.get(a).json["node"]["value"], "ch", "chunked body value")
    s = socket.create_connection((c.srv.host, c.srv.port), timeout=3)
    try:
        s.sendall(b"PUT " + p + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode() +
                  b"\r\nContent-Length: 8\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
        first = s.recv(4096)
        true(first.startswith(b"HTTP/1.1 100"), "100 Continue first: %r" % first[:40])
        s.sendall(b"value=ec")
        rest = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            rest += d
        true(re.search(rb"HTTP/1\.1 200", first + rest), "final 200 after 100-continue")
    finally:
        s.close()
    eq(c.get(a).json["node"]["value"], "ec", "Expect body value")
    raw = c.srv.raw(b"GET " + p + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", shut=False)
    eq(status_line(raw), 200, "Connection: close")
    alive(c)


def test_many_quick_connections(c):
    t0 = time.time()
    for i in range(200):
        s = socket.create_connection((c.srv.host, c.srv.port), timeout=2)
        if i % 2:
            s.sendall(b"GET /v2/keys/ HT")
        s.close()
        if time.time() - t0 > 10:
            break
    alive(c, "after 200 connect/close")


def test_keepalive_across_errors(c):
    import http.client
    a = kpath(c.k("/ka"))
    conn = http.client.HTTPConnection(c.srv.host, c.srv.port, timeout=5)
    seq = [("PUT", a, "value=1", FORM, 201), ("GET", a + "x", None, None, 404),
           ("GET", a + "?recursive=x", None, None, 400), ("PATCH", a, None, None, 405),
           ("GET", "/v2/keys" + c.k("//ka"), None, None, 301), ("GET", "/nope", None, None, 404),
           ("PUT", a + "?x=%zz", "value=1", FORM, 400), ("PUT", a, "value=1", FORM, 200),
           ("HEAD", a, None, None, 200), ("PUT", "/version", None, None, 405),
           ("GET", a, None, None, 200)]
    try:
        port = None
        for m, p, body, ctype, want in seq:
            conn.request(m, p, body=body, headers={"Content-Type": ctype} if ctype else {})
            r = conn.getresponse()
            r.read()
            eq(r.status, want, "%s %s" % (m, p))
            true(not r.will_close, "%s %s (%d) must keep the connection open" % (m, p, r.status))
            here = conn.sock.getsockname()[1] if conn.sock else None
            if port is None:
                port = here
            eq(here, port, "same connection after %s %s" % (m, p))
    finally:
        conn.close()
    alive(c)


def test_many_watchers_one_event(c):
    a = c.k("/mw")
    ws = [c.watch(a, timeout=8) for _ in range(100)]
    time.sleep(1.0)
    r = c.put(a, {"value": "all"})
    status(r, 201)
    got = 0
    deadline = time.time() + 8
    for w in ws:
        rr = w.result(max(0.1, deadline - time.time()))
        if rr.status == 200 and rr.json and rr.json["node"]["value"] == "all":
            got += 1
    eq(got, 100, "all 100 watchers received the event")
    alive(c)


def test_seeded_mini_fuzz(c):
    """300 random (seeded) key requests: every answer is HTTP < 500, key-API
    JSON replies parse, and the server survives. Bounded to ~10 s."""
    import json as _json
    import random
    import socket as _s
    rnd = random.Random(int(os.environ.get("CETCD_E2E_SEED", "1234")))
    params = ["value", "ttl", "dir", "prevValue", "prevIndex", "prevExist", "recursive",
              "sorted", "quorum", "refresh", "noValueOnSuccess", "waitIndex", "stream", "x"]
    vals = ["", "true", "false", "1", "0", "-1", "abc", "%zz", "%00", "%FF", "18446744073709551616",
            "5", "t", "%2F", "a%20b", "\u00e9".encode().decode("latin-1"), "=", "&&"]
    segs = ["a", "b", "_h", "%2F", "..", ".", "", "%00", "%FF", "x" * 50, "00000000000000000001"]
    t0 = time.time()
    bad = []
    for i in range(300):
        if time.time() - t0 > 10:
            break
        m = rnd.choice(["GET", "PUT", "POST", "DELETE", "HEAD", "PUT", "GET"])
        path = "/v2/keys" + c.k("/fz") + "".join("/" + rnd.choice(segs)
                                                for _ in range(rnd.randint(0, 4)))
        q = "&".join("%s=%s" % (rnd.choice(params), rnd.choice(vals))
                     for _ in range(rnd.randint(0, 4)))
        if "wait" in q and m == "GET":
            q = q.replace("wait", "w")
        body = "&".join("%s=%s" % (rnd.choice(params), rnd.choice(vals))
                        for _ in range(rnd.randint(0, 3)))
        req = "%s %s%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % (
            m, path.replace(" ", "%20"), ("?" + q) if q else "")
        if m in ("PUT", "POST"):
            req += "Content-Type: %s\r\nContent-Length: %d\r\n" % (FORM, len(body.encode("latin-1")))
            data = (req + "\r\n").encode("latin-1") + body.encode("latin-1")
        else:
            data = (req + "\r\n").encode("latin-1")
        try:
            raw = c.srv.raw(data, timeout=3, shut=False)
        except OSError as e:
            bad.append((data, "socket error %s" % e))
            continue
        st, h, b = split_response(raw)
        if st is None or st >= 500:
            bad.append((data, raw[:200]))
            continue
        if m != "HEAD" and h.get("content-type", "").startswith("application/json"):
            try:
                _json.loads(b.decode("utf-8"))
            except Exception:
                bad.append((data, b"invalid JSON: " + b[:200]))
    true(c.srv.alive(), "server still running")
    true(not bad, "%d bad answers, first: %r" % (len(bad), bad[:2]))
    alive(c)


def test_http_protocol_edge_cases(c):
    a = c.k("/pe")
    p = kpath(a).encode()
    F = FORM.encode()
    c.put(a, {"value": "orig"})
    problems = []

    def chk(name, data, ok_status, want_value=None):
        # no half-close here (see test_half_closed_put_after_aborted_requests)
        data = data.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n", 1)
        raw = c.srv.raw(data, timeout=3, shut=False)
        st = status_line(raw)
        if st not in ok_status:
            problems.append("%s: status %r not in %s (%r)" % (name, st, ok_status, raw[:60]))
        if want_value is not None:
            v = c.get(a).json["node"]["value"]
            if v not in want_value:
                problems.append("%s: stored value %r, want one of %r" % (name, v, want_value))
    # Transfer-Encoding wins over Content-Length (or reject): never store "val"
    chk("CL+TE", b"PUT " + p + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + F +
        b"\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nvalue=s\r\n0\r\n\r\n",
        (200, 201, 400), ("s", "orig"))
    chk("conflicting Content-Length", b"PUT " + p + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + F +
        b"\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\nvalue=s1", (400,), ("s", "orig"))
    # cetcd (libmicrohttpd) accepts a NUL inside a header value and answers
    # 431 past ~3 KiB of headers: documented in doc/api-compat.md
    lenient = target() == "cetcd"
    chk("NUL in a header", b"GET " + p + b" HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
        (400, 200) if lenient else (400,))
    chk("lower-case method", b"get " + p + b" HTTP/1.1\r\nHost: x\r\n\r\n", (400, 405, 501))
    chk("1000 headers", b"GET " + p + b" HTTP/1.1\r\nHost: x\r\n" +
        b"".join(b"X-H%d: v\r\n" % i for i in range(1000)) + b"\r\n",
        (200, 431) if lenient else (200,))
    chk("absolute-form URI", b"GET http://x" + p + b" HTTP/1.1\r\nHost: x\r\n\r\n", (200,))
    chk("unsupported transfer coding", b"PUT " + p + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + F +
        b"\r\nTransfer-Encoding: gzip, chunked\r\n\r\n7\r\nvalue=g\r\n0\r\n\r\n",
        (400, 501), ("s", "orig"))
    raw = c.srv.raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", timeout=2)  # anything, but survive
    true(c.srv.alive(), "server survives an HTTP/2 preface")
    true(not problems, "; ".join(problems))
    alive(c)


def test_many_open_connections(c):
    import socket as _s
    socks = []
    try:
        for i in range(200):
            s = _s.create_connection((c.srv.host, c.srv.port), timeout=5)
            s.sendall(b"GET /v2/keys/ HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        answered = 0
        for s in socks:
            d = s.recv(64)
            if d.startswith(b"HTTP/1.1 200"):
                answered += 1
        eq(answered, 200, "200 concurrent keep-alive connections answered")
        alive(c, "with 200 idle keep-alive connections open")
    finally:
        for s in socks:
            s.close()
    alive(c)


@fresh_server
def test_half_closed_put_after_aborted_requests(c):
    """400 clients send half a request line and hang up; afterwards a PUT whose
    client half-closes (shutdown(SHUT_WR)) after sending must still get its
    reply (cetcd 01:10 applied the write but closed without answering)."""
    import socket as _s
    for i in range(400):
        k = _s.create_connection((c.srv.host, c.srv.port), timeout=2)
        k.sendall(b"GET /v2/keys/ HT")
        k.close()
    time.sleep(0.3)
    key = c.k("/hc")
    p = kpath(key).encode()
    got = []
    for v in (b"one", b"two"):
        raw = c.srv.raw(b"PUT " + p + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode() +
                        b"\r\nContent-Length: %d\r\n\r\nvalue=%s" % (6 + len(v), v), timeout=3)
        got.append(status_line(raw))
    if target() == "cetcd":
        # Known difference (doc/api-compat.md): a client that half-closes
        # while its write is parked may get no answer. The write itself
        # must still be applied exactly once, and the server keeps serving.
        true(got[0] in (201, None) and got[1] in (200, None),
             "half-closed PUTs: answered correctly or not at all: %r" % got)
        eq(c.get(key).json["node"]["value"], "two", "both half-closed writes applied")
    else:
        eq(got, [201, 200], "half-closed PUTs answered after 400 aborted requests")
    alive(c)


if __name__ == "__main__":
    run(globals())
