#!/usr/bin/env python3
"""End-to-end tests of the v2 keys API (/v2/keys).

Every expectation holds on real etcd 3.4.23 (CETCD_TARGET=etcd). Indexes are
relative to c.base = X-Etcd-Index seen at the start of each test."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cetcdtest import (run, eq, true, status, err, node_eq, fresh_server, target,  # noqa: E402
                       kpath, FORM)

RFC3339NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def parse_exp(s):
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z$", s)
    true(m, "bad expiration %r" % s)
    import calendar
    t = calendar.timegm(tuple(int(x) for x in m.groups()[:6]) + (0, 0, 0))
    return t + (float(m.group(7)) if m.group(7) else 0.0)


def kv(key, value, mi, ci=None, **extra):
    n = {"key": key, "value": value, "modifiedIndex": mi,
         "createdIndex": mi if ci is None else ci}
    n.update(extra)
    return n


def dn(key, mi, ci=None, **extra):
    n = {"key": key, "dir": True, "modifiedIndex": mi,
         "createdIndex": mi if ci is None else ci}
    n.update(extra)
    return n


def ok_headers(r, index):
    eq(r.index, index, "X-Etcd-Index")
    true(re.match(r"^\d+$", r.hdr("X-Raft-Index") or ""), "X-Raft-Index missing/bad: %r" % r.hdr("X-Raft-Index"))
    true(re.match(r"^\d+$", r.hdr("X-Raft-Term") or ""), "X-Raft-Term missing/bad: %r" % r.hdr("X-Raft-Term"))
    true(re.match(r"^[0-9a-f]+$", r.hdr("X-Etcd-Cluster-Id") or ""),
         "X-Etcd-Cluster-Id missing/bad: %r" % r.hdr("X-Etcd-Cluster-Id"))
    eq((r.hdr("Content-Type") or "").split(";")[0], "application/json", "Content-Type")


def watchers(c):
    try:
        return c.req("GET", "/v2/stats/store", timeout=3).json["watchers"]
    except Exception:
        return None


def wreg(c, key, params=None, timeout=5.0):
    """c.watch(), then wait (bounded, 3 s) until the server counts one more
    watcher in /v2/stats/store, so a following write cannot race the
    registration on a loaded machine."""
    before = watchers(c)
    w = c.watch(key, params, timeout=timeout)
    if before is None:
        time.sleep(0.3)
        return w
    deadline = time.time() + 3
    while time.time() < deadline and not w.done():
        n = watchers(c)
        if n is None or n > before:
            break
        time.sleep(0.02)
    return w


# ---------------------------------------------------------------- set / get

def test_set_create_then_replace(c):
    a = c.k("/a")
    r = c.put(a, {"value": "1"})
    status(r, 201)
    eq(r.json, {"action": "set", "node": kv(a, "1", c.base + 1)}, "first set")
    true(r.body.endswith(b"}\n"), "body must end with a newline: %r" % r.body[-5:])
    ok_headers(r, c.base + 1)
    r = c.put(a, {"value": "2"})
    status(r, 200, "set over existing key")
    eq(r.json, {"action": "set", "node": kv(a, "2", c.base + 2),
                "prevNode": kv(a, "1", c.base + 1)}, "second set (createdIndex reset)")
    ok_headers(r, c.base + 2)


def test_get_key(c):
    a = c.k("/a")
    c.put(a, {"value": "hello"})
    r = c.get(a)
    status(r, 200)
    eq(r.json, {"action": "get", "node": kv(a, "hello", c.base + 1)}, "get")
    ok_headers(r, c.base + 1)
    true(r.body.endswith(b"\n"), "newline at end of body")


def test_empty_value_is_legal(c):
    a = c.k("/e")
    r = c.put(a, {"value": ""})
    status(r, 201)
    eq(r.json["node"], kv(a, "", c.base + 1), "empty value")
    r = c.put(a)  # no value at all
    status(r, 200)
    eq(r.json["node"]["value"], "", "missing value -> empty")


def test_get_missing(c):
    r = c.get(c.k("/nope"))
    err(r, 404, 100, "Key not found", c.k(""), c.base, "prefix dir missing too")
    c.put(c.k("/other"), {"value": "o"})
    r = c.get(c.k("/nope"))
    err(r, 404, 100, "Key not found", c.k("/nope"), c.base + 1)
    true(r.hdr("X-Raft-Index") is None, "no X-Raft-Index on errors")
    true(r.hdr("X-Raft-Term") is None, "no X-Raft-Term on errors")
    true(r.hdr("X-Etcd-Cluster-Id"), "X-Etcd-Cluster-Id on errors")
    eq((r.hdr("Content-Type") or "").split(";")[0], "application/json", "error Content-Type")
    true(r.body.endswith(b"}\n"), "error body ends with newline")


def test_missing_cause_is_first_missing_component(c):
    r = c.get(c.k("/x/y/z"))
    err(r, 404, 100, "Key not found", c.k(""), c.base)
    c.put(c.k("/x/q"), {"value": "1"})
    r = c.get(c.k("/x/y/z"))
    err(r, 404, 100, "Key not found", c.k("/x/y"), c.base + 1)
    err(c.delete(c.k("/x/y/z")), 404, 100, "Key not found", c.k("/x/y"), c.base + 1, "DELETE")


def test_below_a_file_is_not_a_directory(c):
    f = c.k("/file")
    c.put(f, {"value": "v"})
    err(c.get(f + "/child"), 400, 104, "Not a directory", f, c.base + 1, "GET below file")
    err(c.put(f + "/child", {"value": "x"}), 400, 104, "Not a directory", f, c.base + 1,
        "PUT below file")
    err(c.put(f + "/child/deeper", {"value": "x"}), 400, 104, "Not a directory", f, c.base + 1,
        "PUT two below file")
    eq(c.current_index(), c.base + 1, "failed writes do not consume an index")


def test_intermediate_dirs_created(c):
    k = c.k("/a/b/c")
    r = c.put(k, {"value": "v"})
    status(r, 201)
    i = c.base + 1
    r = c.get(c.k("/a"), {"recursive": "true"})
    eq(r.json, {"action": "get", "node": dn(c.k("/a"), i, nodes=[
        dn(c.k("/a/b"), i, nodes=[kv(k, "v", i)])])}, "auto-created dirs share the index")


# ---------------------------------------------------------------- create / update / CAS

def test_create_prev_exist_false(c):
    a = c.k("/a")
    r = c.put(a, {"value": "1", "prevExist": "false"})
    status(r, 201)
    eq(r.json, {"action": "create", "node": kv(a, "1", c.base + 1)}, "create")
    ok_headers(r, c.base + 1)
    r = c.put(a, {"value": "2", "prevExist": "false"})
    err(r, 412, 105, "Key already exists", a, c.base + 1)
    r = c.put(a, {"value": "2", "prevExist": "false", "prevValue": "zzz"})
    err(r, 412, 105, "Key already exists", a, c.base + 1, "prevValue ignored on create")


def test_update_prev_exist_true(c):
    a = c.k("/a")
    err(c.put(a, {"value": "1", "prevExist": "true"}), 404, 100, "Key not found", c.k(""), c.base)
    c.put(a, {"value": "1"})
    err(c.put(c.k("/b"), {"value": "1", "prevExist": "true"}), 404, 100, "Key not found",
        c.k("/b"), c.base + 1)
    r = c.put(a, {"value": "2", "prevExist": "true"})
    status(r, 200)
    eq(r.json, {"action": "update", "node": kv(a, "2", c.base + 2, c.base + 1),
                "prevNode": kv(a, "1", c.base + 1)}, "update keeps createdIndex")
    ok_headers(r, c.base + 2)


def test_compare_and_swap(c):
    a = c.k("/a")
    c.put(a, {"value": "one"})
    i1 = c.base + 1
    r = c.put(a, {"value": "two", "prevValue": "one"})
    status(r, 200)
    eq(r.json, {"action": "compareAndSwap", "node": kv(a, "two", i1 + 1, i1),
                "prevNode": kv(a, "one", i1)}, "CAS by value")
    r = c.put(a, {"value": "three", "prevIndex": str(i1 + 1)})
    status(r, 200)
    eq(r.json["action"], "compareAndSwap", "CAS by index action")
    eq(r.json["node"], kv(a, "three", i1 + 2, i1), "CAS by index node")
    cur = i1 + 2
    err(c.put(a, {"value": "x", "prevValue": "nope"}), 412, 101, "Compare failed",
        "[nope != three]", cur, "CAS value mismatch")
    err(c.put(a, {"value": "x", "prevIndex": "1"}), 412, 101, "Compare failed",
        "[1 != %d]" % cur, cur, "CAS index mismatch")
    err(c.put(a, {"value": "x", "prevValue": "nope", "prevIndex": "1"}), 412, 101,
        "Compare failed", "[nope != three] [1 != %d]" % cur, cur, "CAS both mismatch")
    r = c.put(a, {"value": "x", "prevValue": "three", "prevIndex": "1"})
    err(r, 412, 101, "Compare failed", "[1 != %d]" % cur, cur, "CAS value ok index bad")
    r = c.put(a, {"value": "four", "prevValue": "three", "prevIndex": str(cur)})
    status(r, 200, "CAS both ok")
    err(c.put(c.k("/missing"), {"value": "x", "prevValue": "a"}), 404, 100, "Key not found",
        c.k("/missing"), cur + 1)
    r = c.put(a, {"value": "five", "prevExist": "true", "prevValue": "four"})
    status(r, 200)
    eq(r.json["action"], "compareAndSwap", "prevExist=true + prevValue is CAS")
    r = c.put(a, {"value": "six", "prevIndex": "0"})
    status(r, 200)
    eq(r.json["action"], "set", "prevIndex=0 means not given")


def test_cas_and_cad_on_dir(c):
    d = c.k("/d")
    c.put(d, {"dir": "true"})
    err(c.put(d, {"value": "x", "prevValue": "a"}), 403, 102, "Not a file", d, c.base + 1,
        "CAS on dir")
    err(c.delete(d, {"prevValue": "a"}), 403, 102, "Not a file", d, c.base + 1, "CAD on dir")
    err(c.put(d, {"value": "x"}), 403, 102, "Not a file", d, c.base + 1, "set over dir")
    err(c.put(d, {"dir": "true"}), 403, 102, "Not a file", d, c.base + 1, "dir set over dir")


def test_compare_and_delete(c):
    a = c.k("/a")
    c.put(a, {"value": "one"})
    i1 = c.base + 1
    err(c.delete(a, {"prevValue": "two"}), 412, 101, "Compare failed", "[two != one]", i1)
    err(c.delete(a, {"prevIndex": "99999999"}), 412, 101, "Compare failed",
        "[99999999 != %d]" % i1, i1)
    r = c.delete(a, {"prevValue": "one"})
    status(r, 200)
    eq(r.json, {"action": "compareAndDelete",
                "node": {"key": a, "modifiedIndex": i1 + 1, "createdIndex": i1},
                "prevNode": kv(a, "one", i1)}, "CAD")
    ok_headers(r, i1 + 1)
    c.put(a, {"value": "z"})
    r = c.delete(a, {"prevIndex": str(i1 + 2)})
    status(r, 200)
    eq(r.json["action"], "compareAndDelete", "CAD by index")
    err(c.delete(a, {"prevValue": "z"}), 404, 100, "Key not found", a, i1 + 3)


def test_delete_key(c):
    a = c.k("/a")
    c.put(a, {"value": "v"})
    r = c.delete(a)
    status(r, 200)
    eq(r.json, {"action": "delete",
                "node": {"key": a, "modifiedIndex": c.base + 2, "createdIndex": c.base + 1},
                "prevNode": kv(a, "v", c.base + 1)}, "delete")
    ok_headers(r, c.base + 2)
    err(c.delete(a), 404, 100, "Key not found", a, c.base + 2)
    c.put(a, {"value": "v"})
    r = c.delete(a, {"dir": "true"})
    status(r, 200, "dir=true deleting a file")
    c.put(a, {"value": "v"})
    r = c.delete(a, {"recursive": "true"})
    status(r, 200, "recursive=true deleting a file")


# ---------------------------------------------------------------- directories

def test_directories(c):
    d = c.k("/d")
    r = c.put(d, {"dir": "true"})
    status(r, 201)
    eq(r.json, {"action": "set", "node": dn(d, c.base + 1)}, "mkdir")
    r = c.get(d)
    eq(r.json, {"action": "get", "node": dn(d, c.base + 1)}, "empty dir has no nodes")
    c.put(d + "/x", {"value": "1"})
    c.put(d + "/sub/y", {"value": "2"})
    r = c.get(d, {"sorted": "true"})
    eq(r.json, {"action": "get", "node": dn(d, c.base + 1, nodes=[
        dn(d + "/sub", c.base + 3), kv(d + "/x", "1", c.base + 2)])},
       "non-recursive listing: sub-dirs without nodes")
    err(c.delete(d), 403, 102, "Not a file", d, c.base + 3, "delete dir without dir=true")
    err(c.delete(d, {"dir": "true"}), 403, 108, "Directory not empty", d, c.base + 3)
    r = c.delete(d + "/sub/y")
    r = c.delete(d + "/sub", {"dir": "true"})
    status(r, 200)
    eq(r.json, {"action": "delete", "node": dn(d + "/sub", c.base + 5, c.base + 3),
                "prevNode": dn(d + "/sub", c.base + 3)}, "delete empty dir")
    r = c.delete(d, {"recursive": "true"})
    status(r, 200)
    eq(r.json, {"action": "delete", "node": dn(d, c.base + 6, c.base + 1),
                "prevNode": dn(d, c.base + 1)}, "recursive delete")
    err(c.get(d + "/x"), 404, 100, "Key not found", d, c.base + 6)


def test_value_ignored_for_dir_create(c):
    d = c.k("/d")
    r = c.put(d, {"dir": "true", "value": "ignored"})
    status(r, 201)
    eq(r.json["node"], dn(d, c.base + 1), "dir create ignores value")


def test_dir_over_file_replaces(c):
    f = c.k("/f")
    c.put(f, {"value": "v"})
    r = c.put(f, {"dir": "true"})
    status(r, 200)
    eq(r.json, {"action": "set", "node": dn(f, c.base + 2),
                "prevNode": kv(f, "v", c.base + 1)}, "dir set over a file")


def test_update_dir(c):
    d = c.k("/d")
    c.put(d, {"dir": "true"})
    err(c.put(d, {"value": "x", "prevExist": "true"}), 403, 102, "Not a file", d, c.base + 1,
        "update dir with a value")
    r = c.put(d, {"dir": "true", "prevExist": "true"})
    status(r, 200)
    eq(r.json["action"], "update", "dir update action")
    eq(r.json["node"]["dir"], True, "dir update node.dir")
    eq(r.json["node"]["modifiedIndex"], c.base + 2, "dir update event index")
    eq(r.json["prevNode"], dn(d, c.base + 1), "dir update prevNode")


def test_dir_prev_exist_true_on_file_is_update(c):
    f = c.k("/f")
    c.put(f, {"value": "v"})
    r = c.put(f, {"dir": "true", "prevExist": "true"})
    status(r, 200)
    eq(r.json, {"action": "update", "node": kv(f, "", c.base + 2, c.base + 1),
                "prevNode": kv(f, "v", c.base + 1)}, "dir ignored on update")


def test_recursive_sorted_listing(c):
    d = c.k("/t")
    for k in ["/c", "/a/z", "/a/b", "/b", "/a/m/q"]:
        status(c.put(d + k, {"value": k}), 201)
    b = c.base
    r = c.get(d, {"recursive": "true", "sorted": "true"})
    status(r, 200)
    eq(r.json, {"action": "get", "node": dn(d, b + 1, nodes=[
        dn(d + "/a", b + 2, nodes=[
            kv(d + "/a/b", "/a/b", b + 3),
            dn(d + "/a/m", b + 5, nodes=[kv(d + "/a/m/q", "/a/m/q", b + 5)]),
            kv(d + "/a/z", "/a/z", b + 2)]),
        kv(d + "/b", "/b", b + 4),
        kv(d + "/c", "/c", b + 1)])}, "recursive sorted listing")
    r = c.get(d, {"recursive": "true"})
    names = sorted(n["key"] for n in r.json["node"]["nodes"])
    eq(names, [d + "/a", d + "/b", d + "/c"], "unsorted listing has the same children")
    r = c.get(d + "/a/z", {"recursive": "true", "sorted": "true"})
    eq(r.json["node"], kv(d + "/a/z", "/a/z", b + 2), "recursive GET of a key")


def test_sorted_is_byte_order(c):
    d = c.k("/s")
    for k in ["B", "a", "A", "_h", "b10", "b2", "\u00e9"]:
        c.put(d + "/" + k, {"value": "x"})
    r = c.get(d, {"sorted": "true"})
    keys = [n["key"][len(d) + 1:] for n in r.json["node"]["nodes"]]
    eq(keys, ["A", "B", "a", "b10", "b2", "\u00e9"], "byte order, hidden omitted")


def test_hidden_keys(c):
    d = c.k("/h")
    c.put(d + "/_secret", {"value": "s"})
    c.put(d + "/_hdir/x", {"value": "y"})
    c.put(d + "/vis", {"value": "v"})
    r = c.get(d, {"recursive": "true"})
    eq([n["key"] for n in r.json["node"]["nodes"]], [d + "/vis"], "hidden omitted")
    r = c.get(d + "/_secret")
    eq(r.json["node"], kv(d + "/_secret", "s", c.base + 1), "direct GET of hidden key")
    r = c.get(d + "/_hdir", {"recursive": "true"})
    eq(r.json["node"]["nodes"], [kv(d + "/_hdir/x", "y", c.base + 2)], "listing inside hidden dir")


def test_root(c):
    r = c.req("GET", "/v2/keys/")
    status(r, 200)
    node = r.json["node"]
    true("key" not in node, "root node has no key field: %s" % node)
    eq(node.get("dir"), True, "root is a dir")
    true("modifiedIndex" not in node and "createdIndex" not in node, "root has no indexes")
    ok_headers(r, c.base)
    r2 = c.req("GET", "/v2/keys")
    status(r2, 200, "/v2/keys without slash")
    eq(r2.json["node"].get("dir"), True, "/v2/keys is root")
    err(c.req("PUT", "/v2/keys/", form={"value": "x"}), 400, 107, "Root is read only", "/",
        c.base, "set root")
    err(c.req("PUT", "/v2/keys/", form={"value": "x", "prevExist": "true"}), 400, 107,
        "Root is read only", "/", c.base, "update root")
    err(c.req("PUT", "/v2/keys/", form={"dir": "true"}), 400, 107, "Root is read only", "/",
        c.base, "mkdir root")
    err(c.req("DELETE", "/v2/keys/", {"recursive": "true"}), 400, 107, "Root is read only",
        "/", c.base, "delete root")
    err(c.req("PUT", "/v2/keys/", form={"value": "x", "prevValue": "y"}), 400, 107,
        "Root is read only", "/", c.base, "CAS root")
    err(c.req("DELETE", "/v2/keys/", {"prevValue": "y"}), 403, 102, "Not a file", None,
        c.base, "CAD root (no cause)")


def test_post_to_root_creates_in_order_key(c):
    r = c.req("POST", "/v2/keys/", form={"value": "rootq"})
    status(r, 201)
    name = "/%020d" % (c.base + 1)
    c.extra_cleanup = [name]
    eq(r.json, {"action": "create", "node": kv(name, "rootq", c.base + 1)}, "POST /")
    c.delete(name)


# ---------------------------------------------------------------- in-order keys

def test_in_order_keys(c):
    q = c.k("/q")
    r = c.post(q, {"value": "job1"})
    status(r, 201)
    k1 = q + "/%020d" % (c.base + 1)
    eq(r.json, {"action": "create", "node": kv(k1, "job1", c.base + 1)}, "first POST")
    ok_headers(r, c.base + 1)
    c.put(c.k("/other"), {"value": "x"})
    r = c.post(q, {"value": "job2"})
    k2 = q + "/%020d" % (c.base + 3)
    eq(r.json["node"], kv(k2, "job2", c.base + 3), "second POST (non-contiguous name)")
    r = c.post(q, {"dir": "true"})
    k3 = q + "/%020d" % (c.base + 4)
    eq(r.json["node"], dn(k3, c.base + 4), "POST dir=true")
    r = c.post(q, {"value": "t", "ttl": "100"})
    status(r, 201)
    true(r.json["node"].get("ttl") in (99, 100), "POST ttl")
    r = c.get(q, {"sorted": "true"})
    keys = [n["key"] for n in r.json["node"]["nodes"]]
    eq(keys[:3], [k1, k2, k3], "sorted listing is creation order")
    r = c.post(q, {"value": "x", "prevExist": "true", "prevValue": "nope"})
    status(r, 201, "POST ignores prev*")
    eq(r.json["action"], "create", "POST is always create")
    f = c.k("/other")
    err(c.post(f, {"value": "x"}), 400, 104, "Not a directory", f, c.base + 6, "POST under a file")


# ---------------------------------------------------------------- TTL

def test_ttl_fields(c):
    a = c.k("/ttl")
    t0 = time.time()
    r = c.put(a, {"value": "v", "ttl": "100"})
    status(r, 201)
    n = r.json["node"]
    true(RFC3339NANO.match(n.get("expiration", "")), "expiration RFC3339Nano UTC: %r" % n.get("expiration"))
    exp = parse_exp(n["expiration"])
    true(t0 + 98 <= exp <= t0 + 102, "expiration ~ now+100: %r" % n["expiration"])
    true(n.get("ttl") in (99, 100), "ttl ~100: %r" % n.get("ttl"))
    node_eq(n, kv(a, "v", c.base + 1, expiration="*", ttl=100), "ttl node")
    r = c.get(a)
    true(r.json["node"].get("ttl") in (99, 100), "GET ttl: %r" % r.json["node"])
    eq(r.json["node"]["expiration"], n["expiration"], "GET expiration unchanged")
    r = c.put(a, {"value": "v2", "prevExist": "true"})
    true("ttl" not in r.json["node"] and "expiration" not in r.json["node"],
         "update without ttl drops the TTL: %s" % r.json["node"])
    true("ttl" in r.json["prevNode"], "prevNode keeps its ttl")
    r = c.put(a, {"value": "v3", "ttl": "50", "prevExist": "true"})
    true(r.json["node"].get("ttl") in (49, 50), "update sets a TTL")
    r = c.put(a, {"value": "v4", "ttl": "", "prevExist": "true"})
    true("ttl" not in r.json["node"], "ttl= (empty) clears the TTL: %s" % r.json["node"])
    r = c.put(a, {"value": "v5", "ttl": "50"})
    r = c.put(a, {"value": "v6", "prevValue": "v5"})
    true("ttl" not in r.json["node"], "CAS without ttl drops the TTL")


def test_ttl_expire_event(c):
    a = c.k("/exp")
    c.put(c.k("/keep"), {"value": "k"})
    r = c.put(a, {"value": "v", "ttl": "1"})
    status(r, 201)
    w = c.watch(a, {"waitIndex": str(c.base + 3)}, timeout=6)
    r = w.result(6)
    status(r, 200, "watch")
    js = r.json
    eq(js.get("action"), "expire", "expire event")
    eq(js["node"], {"key": a, "modifiedIndex": c.base + 3, "createdIndex": c.base + 2},
       "expire node")
    pn = js.get("prevNode", {})
    true("expiration" in pn and "ttl" not in pn, "expired prevNode has expiration, no ttl: %s" % pn)
    eq({k: v for k, v in pn.items() if k != "expiration"}, kv(a, "v", c.base + 2), "prevNode")
    err(c.get(a), 404, 100, "Key not found", a, c.base + 3, "expired key gone")
    eq(c.current_index(), c.base + 3, "expiry consumed exactly one index")


def test_ttl_zero_and_negative(c):
    a = c.k("/z")
    r = c.put(a, {"value": "v", "ttl": "0"})
    status(r, 201)
    true("expiration" in r.json["node"] and "ttl" not in r.json["node"],
         "ttl=0: expiration present, ttl omitted: %s" % r.json["node"])
    deadline = time.time() + 3
    while time.time() < deadline and c.get(a).status == 200:
        time.sleep(0.1)
    status(c.get(a), 404, "ttl=0 key expires at the next sync")
    for bad in ["-1", "abc", "1.5", "+5", "0x10", " 5", "99999999999999999999999"]:
        err(c.put(a, {"value": "v", "ttl": bad}), 400, 202,
            "The given TTL in POST form is not a number", 'invalid value for "ttl"', 0,
            "ttl=%r" % bad)


def test_dir_ttl_expires_subtree(c):
    d = c.k("/dt")
    r = c.put(d, {"dir": "true", "ttl": "1"})
    status(r, 201)
    true("ttl" in r.json["node"] and r.json["node"]["dir"] is True, "dir ttl node")
    c.put(d + "/child", {"value": "x"})
    w = c.watch(d + "/child", {"waitIndex": str(c.base + 3)}, timeout=6)
    r = w.result(6)
    eq(r.json.get("action"), "expire", "descendant watcher sees the dir's expire")
    eq(r.json["node"], dn(d, c.base + 3, c.base + 1), "expire node is the dir (dir:true)")
    err(c.get(d + "/child"), 404, 100, "Key not found", d, c.base + 3)


def test_dir_ttl_refresh_via_update(c):
    d = c.k("/dt")
    c.put(d, {"dir": "true", "ttl": "2"})
    r = c.put(d, {"dir": "true", "ttl": "100", "prevExist": "true"})
    status(r, 200)
    eq(r.json["action"], "update", "dir ttl update")
    true(r.json["node"].get("ttl") in (99, 100), "dir ttl raised: %s" % r.json["node"])
    time.sleep(2.6)
    status(c.get(d), 200, "dir survives its old TTL")


def test_refresh(c):
    a = c.k("/r")
    c.put(a, {"value": "keep", "ttl": "5"})
    b = c.base
    w = c.watch(a, {"waitIndex": str(b + 2)}, timeout=8)
    r = c.put(a, {"refresh": "true", "ttl": "100", "prevExist": "true"})
    status(r, 200)
    eq(r.json["action"], "update", "refresh with prevExist=true is an update")
    node_eq(r.json["node"], kv(a, "keep", b + 2, b + 1, expiration="*", ttl=100), "refresh node")
    time.sleep(0.5)
    true(not w.done(), "refresh must not wake watchers")
    c.put(a, {"value": "later"})
    r = w.result(5)
    eq(r.json["action"], "set", "watcher sees the next real event, not the refresh")
    eq(r.json["node"]["modifiedIndex"], b + 3, "event after refresh")
    # history scan skips refresh events as well
    c.put(a, {"value": "x", "ttl": "5"})
    c.put(a, {"refresh": "true", "ttl": "50", "prevExist": "true"})
    c.put(c.k("/other"), {"value": "o"})
    w = wreg(c, a, {"waitIndex": str(b + 5)}, timeout=3)
    time.sleep(0.3)
    c.put(a, {"value": "y"})
    r = w.result(3)
    eq(r.json["node"]["modifiedIndex"], b + 7, "history scan skipped the refresh")
    # plain PUT refresh = set: createdIndex reset, value kept
    c.put(a, {"value": "z", "ttl": "5"})
    r = c.put(a, {"refresh": "true", "ttl": "60"})
    status(r, 200)
    eq(r.json["action"], "set", "plain refresh is a set")
    node_eq(r.json["node"], kv(a, "z", b + 9, b + 9, expiration="*", ttl=60),
            "plain refresh resets createdIndex")
    r = c.put(a, {"refresh": "true", "ttl": "60", "value": ""})
    status(r, 200, "refresh with empty value accepted")
    err(c.put(a, {"refresh": "true", "ttl": "60", "value": "v"}), 400, 211,
        "Value provided on refresh", "A value was provided on a refresh", 0)
    err(c.put(a, {"refresh": "true"}), 400, 212, "A TTL must be provided on refresh",
        "No TTL value set", 0)
    err(c.put(a, {"refresh": "maybe", "ttl": "5"}), 400, 209, "Invalid field",
        "invalid value for refresh", 0)
    err(c.put(c.k("/missing"), {"refresh": "true", "ttl": "5", "prevExist": "true"}), 404, 100,
        "Key not found", c.k("/missing"), b + 10)


# ---------------------------------------------------------------- misc params

def test_no_value_on_success(c):
    a = c.k("/n")
    r = c.put(a, {"value": "1", "noValueOnSuccess": "true"})
    status(r, 201)
    eq(r.json, {"action": "set"}, "set")
    ok_headers(r, c.base + 1)
    r = c.put(a, {"value": "2", "prevValue": "1", "noValueOnSuccess": "true"})
    eq(r.json, {"action": "compareAndSwap"}, "CAS")
    r = c.put(a, {"value": "3", "prevExist": "true", "noValueOnSuccess": "true"})
    eq(r.json, {"action": "update"}, "update")
    r = c.post(a + "d", {"value": "3", "noValueOnSuccess": "true"})
    eq(r.json, {"action": "create"}, "POST create")
    r = c.delete(a, {"noValueOnSuccess": "true"})
    eq(r.json["action"], "delete", "delete still has a body")
    true("node" in r.json and "prevNode" in r.json, "delete keeps node+prevNode")
    err(c.put(a, {"value": "x", "prevExist": "true", "noValueOnSuccess": "true"}), 404, 100,
        "Key not found", a, c.base + 5, "errors unchanged")
    err(c.get(a, {"noValueOnSuccess": "maybe"}), 400, 209, "Invalid field",
        'invalid value for "noValueOnSuccess"', 0)


def test_quorum_get(c):
    a = c.k("/qa")
    c.put(a, {"value": "v"})
    r = c.get(a, {"quorum": "true"})
    status(r, 200)
    eq(r.json, {"action": "get", "node": kv(a, "v", c.base + 1)}, "quorum get")
    ok_headers(r, c.base + 1)
    r = c.get(a, {"quorum": "true", "wait": "true"}, timeout=3)
    status(r, 200)
    eq(r.json["action"], "get", "quorum=true turns a watch into a get")
    err(c.get(c.k("/none"), {"quorum": "true"}), 404, 100, "Key not found", c.k("/none"),
        c.base + 1)


def test_bool_spellings(c):
    d = c.k("/b")
    c.put(d + "/x/y", {"value": "1"})
    for v in ["1", "t", "T", "TRUE", "true", "True"]:
        r = c.get(d, {"recursive": v})
        eq(r.json["node"]["nodes"][0].get("nodes"), [kv(d + "/x/y", "1", c.base + 1)],
           "recursive=%s" % v)
    for v in ["0", "f", "F", "FALSE", "false", "False"]:
        r = c.get(d, {"recursive": v})
        true("nodes" not in r.json["node"]["nodes"][0], "recursive=%s" % v)
    for v in ["yes", "on", "2", "", "tRUE"]:
        err(c.get(d, {"recursive": v}), 400, 209, "Invalid field",
            'invalid value for "recursive"', 0, "recursive=%r" % v)


def test_form_and_query(c):
    a = c.k("/f")
    r = c.put(a, form={"value": "body"}, params={"value": "query"})
    eq(r.json["node"]["value"], "body", "body wins over query")
    r = c.put(a, params={"value": "query"})
    eq(r.json["node"]["value"], "query", "query only")
    r = c.put(a, form="value=first&value=second")
    eq(r.json["node"]["value"], "first", "first repeated value wins")
    r = c.put(a, body="value=ignored")
    eq(r.json["node"]["value"], "", "body without form content type is ignored")
    r = c.put(a, body="value=ctype", headers={"Content-Type": FORM + "; charset=utf-8"})
    eq(r.json["node"]["value"], "ctype", "content type with parameters")
    r = c.put(a, body='{"value":"json"}', headers={"Content-Type": "application/json"})
    eq(r.json["node"]["value"], "", "JSON body ignored")
    r = c.post(c.k("/q"), form={"value": "pb"}, params={"value": "pq"})
    eq(r.json["node"]["value"], "pb", "POST body wins")
    r = c.put(a, form={"value": "a b+c%/&="})
    eq(r.json["node"]["value"], "a b+c%/&=", "form decoding")
    cur = r.json["node"]["modifiedIndex"]
    # DELETE never parses its body: prevValue in the body is ignored -> plain delete
    r = c.req("DELETE", kpath(a), form={"prevValue": "nomatch"})
    status(r, 200)
    eq(r.json["action"], "delete", "DELETE ignores form body")
    eq(r.json["node"]["modifiedIndex"], cur + 1, "delete index")


# ---------------------------------------------------------------- watches

def test_watch_basic(c):
    a = c.k("/w")
    w = wreg(c, a, timeout=5)
    time.sleep(0.3)
    r = c.put(a, {"value": "v"})
    status(r, 201)
    r = w.result(5)
    status(r, 200)
    eq(r.json, {"action": "set", "node": kv(a, "v", c.base + 1)}, "watch event")
    eq(r.index, c.base, "watch X-Etcd-Index = index at registration")
    true(r.hdr("X-Raft-Index") and r.hdr("X-Raft-Term"), "raft headers on watch")
    true(r.body.endswith(b"\n"), "watch body newline")


def test_watch_headers_flushed_early(c):
    a = c.k("/w")
    import http.client
    conn = http.client.HTTPConnection(c.srv.host, c.srv.port, timeout=4)
    try:
        conn.request("GET", kpath(a) + "?wait=true")
        t0 = time.time()
        r = conn.getresponse()  # must return before any event
        status_ = r.status
        idx = r.getheader("X-Etcd-Index")
        eq(status_, 200, "early status")
        eq(int(idx), c.base, "early X-Etcd-Index")
        true(time.time() - t0 < 2.0, "headers flushed before the event")
        c.put(a, {"value": "v"})
        body = r.read()
        eq(__import__("json").loads(body)["node"]["key"], a, "event after early headers")
    finally:
        conn.close()


def test_watch_wait_index_history(c):
    a = c.k("/w")
    c.put(a, {"value": "1"})
    c.put(a, {"value": "2"})
    c.put(c.k("/x"), {"value": "x"})
    r = c.get(a, {"wait": "true", "waitIndex": str(c.base + 2)}, timeout=3)
    status(r, 200)
    eq(r.json, {"action": "set", "node": kv(a, "2", c.base + 2),
                "prevNode": kv(a, "1", c.base + 1)}, "event from history")
    eq(r.index, c.base + 3, "history hit: X-Etcd-Index = current")
    r = c.get(a, {"wait": "true", "waitIndex": str(c.base + 1)}, timeout=3)
    eq(r.json["node"]["value"], "1", "oldest matching event")
    w = wreg(c, a, {"waitIndex": str(c.base + 3)}, timeout=5)
    time.sleep(0.3)
    true(not w.done(), "no matching event in history after waitIndex -> waits")
    c.put(a, {"value": "3"})
    r = w.result(5)
    eq(r.json["node"], kv(a, "3", c.base + 4), "live event after history miss")


def test_watch_recursive(c):
    d = c.k("/wd")
    w = c.watch(d, {"recursive": "true"}, timeout=5)
    wn = wreg(c, d, {}, timeout=5)
    time.sleep(0.3)
    c.put(d + "/deep/key", {"value": "v"})
    r = w.result(5)
    eq(r.json, {"action": "set", "node": kv(d + "/deep/key", "v", c.base + 1)}, "recursive")
    time.sleep(0.2)
    true(not wn.done(), "non-recursive watch on the dir ignores children")
    c.put(d + "x", {"value": "sibling"})  # /wdx is not below /wd
    time.sleep(0.3)
    true(not wn.done(), "sibling with the same prefix does not fire")
    c.delete(d, {"recursive": "true"})
    r = wn.result(5)
    eq(r.json["action"], "delete", "non-recursive dir watch sees the dir delete")
    eq(r.json["node"], dn(d, c.base + 3, c.base + 1), "dir delete event")


def test_watch_prefix_is_path_component(c):
    a = c.k("/foo")
    c.put(c.k("/foobar"), {"value": "x"})
    w = wreg(c, a, {"recursive": "true", "waitIndex": str(c.base + 1)}, timeout=5)
    time.sleep(0.4)
    true(not w.done(), "history event /foobar must not match a recursive watch on /foo")
    c.put(c.k("/foobar"), {"value": "y"})
    time.sleep(0.3)
    true(not w.done(), "live event /foobar must not match a recursive watch on /foo")
    c.put(a + "/x", {"value": "z"})
    eq(w.result(5).json["node"]["key"], a + "/x", "child of /foo matches")


def test_watch_ancestor_delete(c):
    d = c.k("/anc")
    c.put(d + "/a/b", {"value": "v"})
    w = wreg(c, d + "/a/b", timeout=5)
    time.sleep(0.3)
    c.delete(d, {"recursive": "true"})
    r = w.result(5)
    eq(r.json["action"], "delete", "ancestor delete")
    eq(r.json["node"], dn(d, c.base + 2, c.base + 1), "event node is the deleted ancestor")
    r = c.get(d + "/a/b", {"wait": "true", "waitIndex": str(c.base + 2)}, timeout=3)
    eq(r.json["node"]["key"], d, "history: ancestor delete matches")


def test_watch_hidden(c):
    d = c.k("/hw")
    w = wreg(c, d, {"recursive": "true"}, timeout=5)
    time.sleep(0.3)
    c.put(d + "/_hidden", {"value": "h"})
    time.sleep(0.3)
    true(not w.done(), "recursive watcher above a hidden key is not notified")
    c.put(d + "/vis", {"value": "v"})
    r = w.result(5)
    eq(r.json["node"]["key"], d + "/vis", "next visible event")
    r = c.get(d, {"wait": "true", "recursive": "true", "waitIndex": str(c.base + 1)}, timeout=3)
    eq(r.json["node"]["key"], d + "/_hidden", "history scan returns hidden events")
    w = wreg(c, d + "/_hidden", timeout=5)
    time.sleep(0.3)
    c.put(d + "/_hidden", {"value": "h2"})
    eq(w.result(5).json["node"]["value"], "h2", "exact watch on hidden key")


def test_watch_below_file_waits(c):
    f = c.k("/wf")
    c.put(f, {"value": "v"})
    w = wreg(c, f + "/child", timeout=5)
    time.sleep(0.3)
    true(not w.done(), "watch below a file is accepted and waits")
    c.delete(f)
    time.sleep(0.3)
    true(not w.done(), "deleting the file does not fire it")
    c.put(f + "/child", {"value": "c"})
    eq(w.result(5).json["node"]["key"], f + "/child", "creating the child fires it")


def test_watch_recursive_key_old_index(c):
    a = c.k("/rk")
    c.put(a, {"value": "1"})
    c.put(c.k("/zz"), {"value": "1"})
    r = c.get(a, {"wait": "true", "recursive": "true", "waitIndex": str(c.base + 1)}, timeout=3)
    eq(r.json["node"]["key"], a, "recursive watch on a key finds its own event (#6328 fixed)")


def test_watch_stream(c):
    import http.client
    import json as _json
    a = c.k("/st")
    conn = http.client.HTTPConnection(c.srv.host, c.srv.port, timeout=5)
    try:
        conn.request("GET", kpath(a) + "?wait=true&stream=true")
        r = conn.getresponse()
        eq(r.status, 200, "stream status")
        for i in range(3):
            c.put(a, {"value": str(i)})
            line = r.fp.readline() if r.chunked is False else None
            if line is None:
                # chunked: read through the response object line by line
                line = r.readline()
            while line.strip() == b"":
                line = r.readline()
            ev = _json.loads(line)
            eq(ev["node"]["value"], str(i), "stream event %d" % i)
            eq(ev["node"]["modifiedIndex"], c.base + 1 + i, "stream event index")
    finally:
        conn.close()


def test_wait_on_non_get(c):
    a = c.k("/ng")
    for m, f in (("PUT", {"value": "x", "wait": "true"}), ("POST", {"value": "x", "wait": "true"})):
        err(c.req(m, kpath(a), form=f), 400, 209, "Invalid field",
            '"wait" can only be used with GET requests', 0, m)
    err(c.delete(a, {"wait": "true"}), 400, 209, "Invalid field",
        '"wait" can only be used with GET requests', 0, "DELETE")
    eq(c.current_index(), c.base, "nothing written")


def test_wait_index_params(c):
    a = c.k("/wi")
    err(c.get(a, {"wait": "true", "waitIndex": "abc"}), 400, 203,
        "The given index in POST form is not a number", 'invalid value for "waitIndex"', 0)
    err(c.get(a, {"waitIndex": "abc"}), 400, 203,
        "The given index in POST form is not a number", 'invalid value for "waitIndex"', 0,
        "validated without wait")
    err(c.get(a, {"wait": "true", "waitIndex": ""}), 400, 203,
        "The given index in POST form is not a number", 'invalid value for "waitIndex"', 0,
        "empty waitIndex")
    err(c.get(a, {"wait": "maybe"}), 400, 209, "Invalid field", 'invalid value for "wait"', 0)
    err(c.get(a, {"wait": "true", "stream": "x"}), 400, 209, "Invalid field",
        'invalid value for "stream"', 0)


@fresh_server
def test_watch_window_401(c):
    # >1000 events, then waitIndex = last-999 is served, last-1000 is cleared.
    import http.client
    conn = http.client.HTTPConnection(c.srv.host, c.srv.port, timeout=10)
    path = kpath(c.k("/win"))
    t0 = time.time()
    n = 1010
    try:
        for i in range(n):
            conn.request("PUT", path, body="value=%d" % i,
                         headers={"Content-Type": FORM})
            rr = conn.getresponse()
            rr.read()
            true(rr.status in (200, 201), "write %d: %d" % (i, rr.status))
            true(time.time() - t0 < 60, "writes too slow (%d done)" % i)
    finally:
        conn.close()
    last = c.current_index()
    eq(last, c.base + n, "one index per write")
    r = c.get(c.k("/win"), {"wait": "true", "waitIndex": str(last - 999)}, timeout=3)
    status(r, 200, "last-999 in history")
    eq(r.json["node"]["modifiedIndex"], last - 999, "history event")
    r = c.get(c.k("/win"), {"wait": "true", "waitIndex": str(last - 1000)}, timeout=3)
    err(r, 400, 401, "The event in requested index is outdated and cleared",
        "the requested history has been cleared [%d/%d]" % (last - 999, last - 1000), last)
    r = c.get(c.k("/other"), {"wait": "true", "waitIndex": "1"}, timeout=3)
    err(r, 400, 401, "The event in requested index is outdated and cleared",
        "the requested history has been cleared [%d/1]" % (last - 999), last)


# ---------------------------------------------------------------- HEAD, escaping, sizes

def test_head(c):
    a = c.k("/hd")
    c.put(a, {"value": "hello"})
    g = c.get(a)
    r = c.head(a)
    status(r, 200)
    eq(r.body, b"", "HEAD has no body")
    eq(r.hdr("Content-Length"), str(len(g.body)), "HEAD Content-Length of the GET body")
    ok_headers(r, c.base + 1)
    r = c.head(c.k("/missing"))
    status(r, 404)
    eq(r.body, b"", "HEAD 404 no body")


def test_escaped_and_utf8_keys(c):
    d = c.k("/esc")
    for raw in ["a b", "caf\u00e9", "\u65e5\u672c", "q?x", "h#x", "p%41", "plus+sign", "semi;c",
                "amp&x", "eq=x"]:
        key = d + "/" + raw
        r = c.put(key, {"value": raw})
        true(r.status in (200, 201), "PUT %r: %r" % (raw, r))
        eq(r.json["node"]["key"], key, "key echo %r" % raw)
        eq(c.get(key).json["node"]["value"], raw, "GET %r" % raw)
    r = c.req("PUT", "/v2/keys" + c.k("/esc/x%2Fy"), form={"value": "slash"})
    eq(r.json["node"]["key"], c.k("/esc/x/y"), "%2F is a separator")
    r = c.req("GET", "/v2/keys" + c.k("/esc/%61%62"))
    status(r, 404)
    eq(r.json["cause"], c.k("/esc/ab"), "percent-decoded path")
    r = c.get(d + "/trail/", )
    status(r, 404)
    eq(r.json["cause"], d + "/trail", "trailing slash cleaned")


def test_json_escaping(c):
    a = c.k("/j")
    val = 'q"b\\s/<>&\n\t\x01\u2028\u00e9\U0001F600'
    r = c.put(a, {"value": val})
    status(r, 201)
    eq(r.json["node"]["value"], val, "value round trip")
    raw = c.get(a).body
    for frag in [b'q\\"b\\\\s/', b"\\u003c\\u003e\\u0026", b"\\n\\t\\u0001", b"\\u2028",
                 "\u00e9".encode(), "\U0001F600".encode()]:
        true(frag in raw, "Go-style JSON escaping: %r not in %r" % (frag, raw))


def test_big_value(c):
    a = c.k("/big")
    val = ("0123456789abcdef" * 65536)[: 1024 * 1024 - 100]
    r = c.put(a, {"value": val}, timeout=20)
    status(r, 201)
    eq(len(r.json["node"]["value"]), len(val), "1 MiB value stored")
    r = c.get(a, timeout=20)
    true(r.json["node"]["value"] == val, "1 MiB value read back")


def test_index_arithmetic(c):
    a = c.k("/ia")
    c.get(a)
    c.put(a, {"value": "1", "prevExist": "true"})
    c.delete(a)
    c.get(c.k(""), {"quorum": "true"})
    eq(c.current_index(), c.base, "failed ops, GETs and quorum GETs do not move the index")
    c.put(a, {"value": "1"})
    c.put(a, {"value": "1", "prevValue": "nope"})
    eq(c.current_index(), c.base + 1, "one index per success")
    r = c.put(c.k("/ib/c/d"), {"value": "1"})
    eq(r.index, c.base + 2, "nested create: one index")


def test_concurrent_writers(c):
    import threading
    results = []
    lock = threading.Lock()

    def writer(n):
        import http.client
        conn = http.client.HTTPConnection(c.srv.host, c.srv.port, timeout=10)
        try:
            for i in range(40):
                conn.request("PUT", kpath(c.k("/cw/w%d" % n)), body="value=%d" % i,
                             headers={"Content-Type": FORM})
                r = conn.getresponse()
                body = r.read()
                with lock:
                    results.append((r.status, body))
        finally:
            conn.close()
    ts = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    eq(len(results), 160, "all writes answered")
    import json as _json
    idx = sorted(_json.loads(b)["node"]["modifiedIndex"] for s, b in results if s in (200, 201))
    eq(len(idx), 160, "all writes succeeded")
    eq(idx, list(range(c.base + 1, c.base + 161)), "indexes unique and contiguous")
    r = c.get(c.k("/cw"), {"recursive": "true", "sorted": "true"})
    eq([n["value"] for n in r.json["node"]["nodes"]], ["39"] * 4, "last value of each writer")


def test_watchers_dropped_by_client_disconnect(c):
    import socket
    a = c.k("/dw")
    socks = []
    for i in range(30):
        s = socket.create_connection((c.srv.host, c.srv.port), timeout=3)
        s.sendall(("GET %s?wait=true HTTP/1.1\r\nHost: x\r\n\r\n" % kpath(a)).encode())
        socks.append(s)
    time.sleep(0.5)
    for s in socks:
        s.close()
    time.sleep(0.5)
    r = c.put(a, {"value": "after"})
    status(r, 201, "write after 30 abandoned watches")
    w = wreg(c, a, timeout=5)
    time.sleep(0.3)
    c.put(a, {"value": "again"})
    eq(w.result(5).json["node"]["value"], "again", "a new watch still works")
    deadline = time.time() + 3
    while time.time() < deadline:
        if c.req("GET", "/v2/stats/store").json["watchers"] == 0:
            break
        time.sleep(0.2)
    eq(c.req("GET", "/v2/stats/store").json["watchers"], 0, "abandoned watchers released")


@fresh_server
def test_restart_keeps_data(c):
    c.put(c.k("/p/a"), {"value": "1"})
    c.put(c.k("/p/b"), {"value": "2"})
    c.post(c.k("/p/q"), {"value": "3"})
    c.delete(c.k("/p/a"))
    c.put(c.k("/p/d"), {"dir": "true"})
    before = c.get(c.k("/p"), {"recursive": "true", "sorted": "true"})
    idx = before.index
    eq(idx, c.base + 5, "5 writes")
    c.srv.restart()
    after = c.get(c.k("/p"), {"recursive": "true", "sorted": "true"})
    eq(after.json, before.json, "tree survives a restart")
    # etcd re-publishes its member attributes on start (+1 in /0), so allow growth
    true(idx <= after.index <= idx + 2, "X-Etcd-Index survives a restart: %d -> %d" %
         (idx, after.index))
    r = c.put(c.k("/p/b"), {"value": "x", "prevIndex": str(c.base + 2)})
    status(r, 200, "CAS on pre-restart index")
    eq(r.json["node"]["modifiedIndex"], after.index + 1, "index continues after restart")
    r = c.get(c.k("/p/b"), {"wait": "true", "waitIndex": str(c.base + 2)}, timeout=3)
    status(r, 200, "history after restart")
    eq(r.json["node"]["modifiedIndex"], c.base + 2, "pre-restart event still in history")


def test_nul_in_value(c):
    a = c.k("/nv")
    r = c.req("PUT", kpath(a), form=b"value=%00v%00")
    status(r, 201, "NUL in a value")
    eq(r.json["node"]["value"], "\x00v\x00", "NUL kept in the value")
    true(b'"value":"\\u0000v\\u0000"' in r.body, "NUL escaped as \\u0000: %r" % r.body)
    eq(c.get(a).json["node"]["value"], "\x00v\x00", "NUL value read back")


def test_nul_in_key(c):
    d = c.k("/u")
    r = c.req("PUT", kpath(d) + "/n%00ul", form=b"value=v")
    if target() == "cetcd":
        # deliberate difference (doc/api-compat.md): refused, never cut short
        err(r, 400, 210, "Invalid POST form", "cetcd does not support NUL bytes in keys", 0,
            "NUL in a key is refused")
        err(c.get(d + "/n"), 404, 100, "Key not found", c.k(""), c.base, "nothing written")
        return
    status(r, 201, "NUL in a key (etcd accepts it)")
    eq(r.json["node"]["key"], d + "/n\x00ul", "NUL kept in the key")
    eq(c.req("GET", kpath(d) + "/n%00ul").json["node"]["value"], "v", "read back")
    err(c.get(d + "/n"), 404, 100, "Key not found", d + "/n", c.base + 1, "no truncation at NUL")


def test_invalid_utf8_and_escaping(c):
    d = c.k("/u")
    r = c.req("PUT", kpath(d) + "/k%FF", form=b"value=%FF%FEok")
    status(r, 201, "invalid UTF-8 in key and value")
    true(r.json is not None, "reply with invalid UTF-8 input is valid JSON: %r" % r.body[:200])
    true(b'"key":"' + d.encode() + b'/k\\ufffd"' in r.body,
         "invalid UTF-8 in a key rendered as \\ufffd (Go): %r" % r.body)
    true(b'"value":"\\ufffd\\ufffdok"' in r.body,
         "invalid UTF-8 in a value rendered as \\ufffd (Go): %r" % r.body)
    r = c.put(d + "/ctl", {"value": "\x1f\x7f\u0080\u2029"})
    true(b'"value":"\\u001f\x7f\xc2\x80\\u2029"' in r.body,
         "control/DEL/U+0080/U+2029 escaping as Go: %r" % r.body)
    r = c.get(d, {"sorted": "true"})
    true(r.json is not None, "listing stays valid JSON: %r" % r.body[:200])


def test_expiry_order_and_indexes(c):
    d = c.k("/ex")
    names = ["e", "d", "c", "b", "a"]
    for n in names:
        status(c.put(d + "/" + n, {"value": n, "ttl": "1"}), 201, "ttl key " + n)
        time.sleep(0.02)
    w = c.watch(d, {"recursive": "true", "waitIndex": str(c.base + 10)}, timeout=6)
    w.result(6)  # the last expiry has happened
    got = []
    for i in range(6, 11):
        r = c.get(d, {"wait": "true", "recursive": "true", "waitIndex": str(c.base + i)},
                  timeout=3)
        got.append((r.json["action"], r.json["node"]["key"], r.json["node"]["modifiedIndex"]))
    eq(got, [("expire", d + "/" + n, c.base + 6 + i) for i, n in enumerate(names)],
       "one expire event per key, in expiration order, consecutive indexes")
    eq(c.current_index(), c.base + 10, "five expiries = five indexes")


def test_ttl_counts_down(c):
    a = c.k("/cd")
    import math
    t0 = time.time()
    c.put(a, {"value": "v", "ttl": "100"})
    t1 = time.time()
    time.sleep(1.5)
    t2 = time.time()
    ttl = c.get(a).json["node"].get("ttl")
    t3 = time.time()
    lo, hi = math.ceil(100 - (t3 - t0)), math.ceil(100 - (t2 - t1))
    true(isinstance(ttl, int) and lo <= ttl <= hi and ttl <= 99,
         "ttl = ceil(remaining seconds): got %r, want %d..%d" % (ttl, lo, hi))


def test_large_directory(c):
    import http.client
    d = c.k("/big")
    conn = http.client.HTTPConnection(c.srv.host, c.srv.port, timeout=10)
    t0 = time.time()
    try:
        for i in range(500):
            conn.request("PUT", kpath("%s/k%04d" % (d, i)), body="value=%d" % i,
                         headers={"Content-Type": FORM})
            rr = conn.getresponse()
            rr.read()
            true(rr.status == 201, "write %d: %d" % (i, rr.status))
            true(time.time() - t0 < 30, "writes too slow")
    finally:
        conn.close()
    r = c.get(d, {"sorted": "true"})
    nodes = r.json["node"]["nodes"]
    eq(len(nodes), 500, "500 children")
    eq([n["key"] for n in nodes], ["%s/k%04d" % (d, i) for i in range(500)], "sorted children")
    w = wreg(c, d + "/k0250", timeout=5)
    time.sleep(0.3)
    r = c.delete(d, {"recursive": "true"})
    eq(r.json["node"], dn(d, c.base + 501, c.base + 1), "recursive delete takes one index")
    eq(w.result(5).json["node"]["key"], d, "child watcher sees the dir delete")


def test_idle_long_poll_survives(c):
    a = c.k("/idle")
    w = c.watch(a, timeout=12)
    time.sleep(7.0)
    true(not w.done(), "a long poll must not be cut after 7 s idle (%r)" % (w.resp or w.exc,))
    c.put(a, {"value": "late"})
    eq(w.result(5).json["node"]["value"], "late", "event after 7 s of idle long poll")


@fresh_server
def test_shutdown_with_open_watches(c):
    import signal as _sig
    ws = [c.watch(c.k("/sd%d" % i), timeout=10) for i in range(5)]
    ws.append(c.watch(c.k("/sds"), {"stream": "true"}, timeout=10))
    time.sleep(0.5)
    proc = c.srv.proc
    t0 = time.time()
    proc.send_signal(_sig.SIGTERM)
    try:
        proc.wait(timeout=8)
    except Exception:
        pass
    took = time.time() - t0
    true(proc.poll() is not None, "server must exit on SIGTERM with open watches (still running after 8 s)")
    true(took < 5, "SIGTERM exit took %.1fs with open watches" % took)
    for w in ws:
        w._t.join(5)
        true(not w._t.is_alive(), "open watches end when the server stops")
    c.srv.start()
    alive = c.put(c.k("/after"), {"value": "1"})
    true(alive.status in (200, 201), "restart after shutdown with watches")


def test_raft_headers_move(c):
    a = c.k("/rh")
    g = c.req("GET", "/v2/keys/")
    ri0, term0 = int(g.hdr("X-Raft-Index")), int(g.hdr("X-Raft-Term"))
    true(term0 >= 1, "term >= 1")
    w = c.put(a, {"value": "1"})
    ri1 = int(w.hdr("X-Raft-Index"))
    true(ri1 > ri0, "a write advances X-Raft-Index (%d -> %d)" % (ri0, ri1))
    true(ri1 >= w.index, "raft index >= etcd index (%d, %d)" % (ri1, w.index))
    f = c.put(a, {"value": "x", "prevValue": "nope"})
    eq(f.status, 412, "failed CAS")
    g2 = c.get(a)
    true(int(g2.hdr("X-Raft-Index")) >= ri1, "raft index never goes back")
    eq(int(g2.hdr("X-Raft-Term")), term0, "term stable on a single node")
    cid = c.req("GET", "/v2/members").hdr("X-Etcd-Cluster-Id")
    eq(g2.hdr("X-Etcd-Cluster-Id"), cid, "same cluster id on keys and members")


if __name__ == "__main__":
    run(globals())
