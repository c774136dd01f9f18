#!/usr/bin/env python3
"""The peer listener's GET /members in etcd 3.4's shape (it marshals
[]*membership.Member): a JSON array, each member
{"id":<uint64 number>,"peerURLs":[..],"name":..,"clientURLs":[..]}, name and
clientURLs left out while empty, one newline at the end; Content-Type
application/json and X-Etcd-Cluster-Id. Compared with a real etcd 3.4 when
one is installed (that part is skipped otherwise), and read by a real
`etcd --proxy on` put in front of the member: a PUT and a GET through it.
Runs against cetcd (default) or real etcd (CETCD_TARGET=etcd)."""
import http.client
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cetcdtest import (run, eq, true, status, fresh_server, free_port,  # noqa: E402
                       http_request, etcd_bin, Server)
import procs  # noqa: E402  (tests/lib, on the path once cetcdtest is imported)


def peer_members(srv):
    """(status, headers as a dict, raw body) of GET <peer>/members."""
    c = http.client.HTTPConnection(srv.host, srv.peer_port, timeout=3.0)
    try:
        c.request("GET", "/members")
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def client_members(srv):
    """The client /v2/members list (hex ids), sorted by id as etcd's peer list is."""
    r = srv.request("GET", "/v2/members")
    status(r, 200, "GET /v2/members")
    return sorted(r.json["members"], key=lambda m: int(m["id"], 16))


def etcd_shape(members):
    """The peer /members body etcd 3.4 writes for these client-shape members."""
    out = []
    for m in members:
        o = {"id": int(m["id"], 16), "peerURLs": m["peerURLs"]}
        if m["name"]:
            o["name"] = m["name"]
        if m["clientURLs"]:
            o["clientURLs"] = m["clientURLs"]
        out.append(o)
    return (json.dumps(out, separators=(",", ":")) + "\n").encode()


def check_peer_members(srv, what):
    """srv's peer /members is etcd's shape for the members /v2/members lists;
    returns its parsed body."""
    st, hdr, body = peer_members(srv)
    eq(st, 200, what + ": status")
    eq(hdr.get("content-type"), "application/json", what + ": Content-Type")
    cid = hdr.get("x-etcd-cluster-id", "")
    true(cid and int(cid, 16) > 0, what + ": X-Etcd-Cluster-Id %r" % cid)
    eq(body, etcd_shape(client_members(srv)), what + ": body")
    js = json.loads(body)
    for m in js:
        true(isinstance(m["id"], int) and 0 < m["id"] < 1 << 64, what + ": id %r" % m["id"])
    return js, hdr


def shape(js):
    """The key order and value types of each member."""
    return [[(k, type(v).__name__) for k, v in m.items()] for m in js]


@fresh_server
def test_peer_members_shape(c):
    js, hdr = check_peer_members(c.srv, c.srv.kind)
    eq(len(js), 1, "one member")
    eq([k for k in js[0]], ["id", "peerURLs", "name", "clientURLs"], "key order")
    eq(js[0]["peerURLs"], [c.srv.peer_url], "peerURLs")
    true("access-control-allow-origin" not in hdr, "no CORS headers on the peer port")
    # an added member, not started yet: neither name nor clientURLs (omitempty)
    port = free_port()
    r = c.srv.request("POST", "/v2/members",
                      body=json.dumps({"peerURLs": ["http://127.0.0.1:%d" % port]}).encode(),
                      headers={"Content-Type": "application/json"})
    status(r, 201, "member add")
    js, _ = check_peer_members(c.srv, c.srv.kind + " with an unstarted member")
    added = [m for m in js if m["id"] == int(r.json["id"], 16)]
    eq(len(added), 1, "the added member listed")
    eq(list(added[0]), ["id", "peerURLs"], "the unstarted member's keys")


@fresh_server
def test_peer_members_same_as_etcd(c):
    if c.srv.kind == "etcd":
        return  # the other side of the comparison is etcd itself
    if not etcd_bin():
        print("# etcd not installed: the comparison with etcd is skipped")
        return
    etcd = Server("etcd", name=c.srv.name)
    try:
        ejs, ehdr = check_peer_members(etcd, "etcd")
        cjs, chdr = check_peer_members(c.srv, "cetcd")
        eq(shape(cjs), shape(ejs), "key order and types, cetcd vs etcd")
        for h in ("content-type", "x-etcd-cluster-id"):
            true(h in chdr and h in ehdr, "header %s on both" % h)
        # the headers etcd sends (Date and Content-Length aside), cetcd sends too
        eq(sorted(set(chdr) - {"date", "content-length"}),
           sorted(set(ehdr) - {"date", "content-length"}), "header names")
    finally:
        etcd.cleanup()


@fresh_server
def test_etcd_proxy_in_front(c):
    if not etcd_bin():
        print("# etcd not installed: the etcd proxy test is skipped")
        return
    d = procs.temp_dir("cetcd-proxy-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    proxy = procs.Proc(os.path.join(d, "proxy.log"))
    try:
        proxy.spawn([etcd_bin(), "--proxy", "on", "--listen-client-urls", url,
                     "--initial-cluster", "%s=%s" % (c.srv.name, c.srv.peer_url),
                     "--data-dir", os.path.join(d, "data")])
        deadline = time.time() + 10
        st = None
        while time.time() < deadline and proxy.alive():
            try:
                st, _, _, js = http_request("127.0.0.1", port, "PUT", "/v2/keys" + c.k("/p"),
                                            form=b"value=through", timeout=2.0)
                if st in (200, 201):
                    break
            except OSError:
                pass
            time.sleep(0.1)
        true(st == 201, "a PUT through etcd's proxy: %r\n%s" % (st, proxy.log_tail(10)))
        eq(js["node"]["value"], "through", "the PUT's node")
        st, _, _, js = http_request("127.0.0.1", port, "GET", "/v2/keys" + c.k("/p"))
        eq(st, 200, "a GET through etcd's proxy")
        eq(js["node"]["value"], "through", "the GET's value")
        r = c.get(c.k("/p"))
        eq(r.json["node"]["value"], "through", "the member itself has it")
        true("endpoints found" in proxy.output(), "the proxy found the client URLs")
    finally:
        proxy.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run(globals())
