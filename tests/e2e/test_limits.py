#!/usr/bin/env python3
"""Limits that fail loudly (issue 17, doc/api-compat.md "Limits"):

  --max-request-bytes    a write carrying more key + value + prevValue bytes
                         is refused (errorCode 210, "etcdserver: request is
                         too large"); the largest allowed value goes through
                         a 3-member cluster, its WAL, a snapshot sent to a
                         member that fell behind, and back; long keys
  --v2-quota-bytes       writes that add data are refused with errorCode 310
                         (507) once the store is full; reads, deletes and
                         shrinking updates go on; space freed, writes go on
  --max-client-conns     connections over the cap are refused at once; the
                         cluster stays healthy under a flood of clients
  --v2-watch-window      a waitIndex older than the window: errorCode 401
  stream=true            a stream that cannot keep up ends with errorCode 410
  request heads          a 4 KiB request line and 1 MiB of headers are served
                         (as etcd); more headers: 431 (as etcd); the memory
                         of an idle watcher does not grow

Tests marked cetcd-only use cetcd's own flags or behaviour that etcd 3.4 does
not have. CETCD_LIMITS_CLIENTS=50000 runs the connection flood with that many
clients (spread over worker processes and 127.0.0.x source addresses; the
default is 3000; CETCD_LIMITS_CAP=0 leaves --max-client-conns at its default,
RLIMIT_NOFILE minus 1024). doc/api-compat.md "Limits" records such a run.
"""
import json
import multiprocessing
import os
import re
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from cetcdtest import (Server, err, eq, kpath, needs, run, status, target,  # noqa: E402
                       true)
import clustertest  # noqa: E402

MAX_REQUEST = 1572864  # etcd 3.4's --max-request-bytes default


def err_any_cause(r, http_status, code, message, what=""):
    """A v2 error reply whatever its cause says; returns the cause."""
    status(r, http_status, what)
    js = r.json if isinstance(r.json, dict) else {}
    eq((js.get("errorCode"), js.get("message")), (code, message), what or "error body")
    true("index" in js, "error with an index: %r" % js)
    return js.get("cause", "")


def _raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# ---------------------------------------------------------------- request size

def test_largest_value_round_trip(c):
    """A value of --max-request-bytes minus the key's length is stored and
    read back whole (etcd 3.4 takes it too)."""
    key = c.k("/big")
    value = "v" * (MAX_REQUEST - len(key))
    r = c.put(c.k("/big"), {"value": value})
    status(r, 201, "largest value")
    r = c.get(c.k("/big"))
    status(r, 200)
    eq(len(r.json["node"]["value"]), len(value), "value length read back")
    true(r.json["node"]["value"] == value, "value read back intact")


@needs("cetcd")
def test_request_too_large(c):
    """One byte more is refused with etcd's form error and etcd v3's words
    (etcd 3.4 does not hold v2 requests to the flag: doc/api-compat.md)."""
    key = c.k("/big")
    r = c.put(c.k("/big"), {"value": "v" * (MAX_REQUEST - len(key) + 1)})
    err(r, 400, 210, "Invalid POST form", cause="etcdserver: request is too large")
    r = c.get(c.k("/big"))
    err_any_cause(r, 404, 100, "Key not found")
    # key + value + prevValue together
    half = MAX_REQUEST // 2
    status(c.put(c.k("/cas"), {"value": "a" * 10}), 201)
    r = c.put(c.k("/cas"), {"value": "b" * half, "prevValue": "a" * half})
    err(r, 400, 210, "Invalid POST form", cause="etcdserver: request is too large")
    # a lower limit on a server of its own
    srv = Server(extra_args=["--max-request-bytes", "1000"])
    try:
        r = srv.request("PUT", kpath("/k"), form={"value": "x" * (1000 - 2)})
        status(r, 201, "at the limit")
        r = srv.request("PUT", kpath("/k"), form={"value": "x" * (1000 - 1)})
        err(r, 400, 210, "Invalid POST form", cause="etcdserver: request is too large")
        r = srv.request("POST", kpath("/q"), form={"value": "y" * 2000})
        err(r, 400, 210, "Invalid POST form", cause="etcdserver: request is too large")
    finally:
        srv.cleanup()


def test_long_keys(c):
    """A key as long as etcd's 4 KiB request line allows works on both; on
    cetcd a 500,000-byte key works too (etcd resets such a request line)."""
    lengths = [4000 - 64] + ([500000] if target() == "cetcd" else [])
    for n in lengths:
        key = c.k("/") + "k" * (n - len(c.k("/")))
        r = c.put(key, {"value": "v"}, timeout=20)
        status(r, 201, "%d-byte key" % n)
        eq(r.json["node"]["key"], key, "key echoed")
        r = c.get(key, timeout=20)
        status(r, 200)
        eq(r.json["node"]["value"], "v")
        status(c.delete(key, timeout=20), 200)


def _many_writes(m, n, threads=8):
    """n small PUTs to member m over `threads` keep-alive connections."""
    import http.client
    import threading
    errors = []

    def worker(t):
        conn = http.client.HTTPConnection(m.host, m.port, timeout=10)
        try:
            for i in range(t, n, threads):
                conn.request("PUT", "/v2/keys/fill/k%d" % (i % 50), body="value=%d" % i,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                r = conn.getresponse()
                r.read()
                if r.status not in (200, 201):
                    errors.append(r.status)
                    return
        except OSError as e:
            errors.append(repr(e))
        finally:
            conn.close()
    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    eq(errors, [], "small writes")


def _compacted_past(m, index):
    """Whether m's log says it compacted its raft log past `index`."""
    with open(m.log_path, errors="replace") as f:
        done = re.findall(r"compacted raft log at (\d+)", f.read())
    return any(int(x) > index for x in done)


def _compact_past(cl, others, lag_index, values, most=24):
    """More big writes until the leader's log is compacted past the stopped
    member (when a snapshot is due depends on the log bytes since the last
    one, and on when the last one finished: timing on a loaded machine)."""
    margin = 100
    for i in range(most):
        leader = cl.leader() or others[0]
        if _compacted_past(leader, lag_index + margin):
            return
        key = "/big%d" % (i % 6)
        values[key] = chr(ord("A") + i % 26) * (MAX_REQUEST - len(key))
        status(leader.put(key, {"value": values[key]}, timeout=20.0), 200, "write %s" % key)
        time.sleep(0.1)
    true(_compacted_past(cl.leader() or others[0], lag_index + margin),
         "the leader compacted its log past the stopped member")


def test_large_values_through_cluster(c):
    """Values of the largest size through the Raft log, every member's WAL
    (restarts) and a snapshot sent to a member that fell behind by more than
    the 5000 entries a leader keeps after a snapshot."""
    n_values = 6
    kind = target()
    # etcd takes a snapshot every --snapshot-count entries, and slowly:
    # 1000 is enough for it; cetcd's own rule waits for the log bytes
    snaps = 3 if kind == "cetcd" else 1000
    with clustertest.Cluster(3, snapshot_count=snaps, log_level="info") as cl:
        cl.start()
        lagging = cl.followers()[0]
        others = [m for m in cl.members if m is not lagging]
        # the store index; the raft index is a few entries (members, the
        # leader's empty entries) ahead: the margin in _compact_past
        lag_index = lagging.index() or 0
        cl.stop(lagging)
        values = {}
        # big values, 5200 small writes, the big values again: the leader's
        # next snapshot (due after as many log bytes as the state holds)
        # compacts its log past where the stopped member is
        for rnd in range(2):
            if rnd == 1:
                _many_writes(cl.leader() or others[0], 5200)
            for i in range(n_values):
                key = "/big%d" % i
                values[key] = chr(ord("a") + i + 6 * rnd) * (MAX_REQUEST - len(key))
                r = others[i % 2].put(key, {"value": values[key]}, timeout=20.0)
                status(r, 200 if rnd else 201, "write %s" % key)
        if kind == "cetcd":
            _compact_past(cl, others, lag_index, values)
        cl.restart(lagging, timeout=30.0)
        idx = max(m.index() or 0 for m in others)
        cl.wait_index(idx, timeout=30.0)
        if kind == "cetcd":
            with open(lagging.log_path, errors="replace") as f:
                true("applied incoming snapshot" in f.read(),
                     "the lagging member caught up from a snapshot")
        for m in cl.members:
            for key, v in values.items():
                r = m.get(key, timeout=10.0)
                status(r, 200, "%s on %s" % (key, m.name))
                true(r.json["node"]["value"] == v, "%s intact on %s" % (key, m.name))
        # the WAL and snapshots: every member restarted reads them back
        for m in cl.members:
            cl.restart(m, timeout=20.0)
        cl.wait_leader(20.0)
        for m in cl.members:
            r = m.get("/big0", timeout=10.0)
            status(r, 200, "after restart on %s" % m.name)
            true(r.json["node"]["value"] == values["/big0"], "intact after restart")


# ---------------------------------------------------------------- store quota

@needs("cetcd")
def test_quota(c):
    """Writes that add data are refused once the store is full; reads,
    deletes and shrinking updates work; freeing space lets writes in again."""
    quota = 64 * 1024
    srv = Server(extra_args=["--v2-quota-bytes", str(quota)])
    try:
        n = 0
        r = None
        for n in range(200):
            r = srv.request("PUT", kpath("/q/k%03d" % n), form={"value": "x" * 1000})
            if r.status != 201:
                break
        true(10 < n < 100, "the quota stopped the writes (after %d)" % n)
        cause = err_any_cause(r, 507, 310, "Store quota exceeded")
        true("the quota is %d" % quota in cause, "cause names the quota: %r" % r.json)
        eq(r.hdr("X-Etcd-Index") is not None, True, "X-Etcd-Index on the error")
        # fill what is left with small keys (each costs ~102 bytes)
        for i in range(200):
            r = srv.request("PUT", kpath("/q/s%03d" % i), form={"value": "s"})
            if r.status != 201:
                break
        err_any_cause(r, 507, 310, "Store quota exceeded", "small keys")
        # /metrics says why
        m = srv.request("GET", "/metrics").body.decode()
        true("\ncetcd_v2_quota_bytes %d\n" % quota in m, "cetcd_v2_quota_bytes in /metrics")
        used = [int(line.split()[1]) for line in m.split("\n")
                if line.startswith("cetcd_v2_store_bytes ")]
        true(used and quota - 200 < used[0] <= quota, "cetcd_v2_store_bytes: %r" % used)
        # reads
        status(srv.request("GET", kpath("/q/k000")), 200, "read when full")
        status(srv.request("GET", kpath("/q"), params={"recursive": "true"}), 200)
        # new dirs, POST, longer values: refused
        for what, r in (
                ("new dir", srv.request("PUT", kpath("/q/" + "d" * 200), params={"dir": "true"})),
                ("POST", srv.request("POST", kpath("/q"), form={"value": "y"})),
                ("longer value", srv.request("PUT", kpath("/q/k000"),
                                             form={"value": "x" * 1200}))):
            err_any_cause(r, 507, 310, "Store quota exceeded", what)
        # same size, shorter, TTL refresh, delete: accepted
        status(srv.request("PUT", kpath("/q/k000"), form={"value": "z" * 1000}), 200)
        status(srv.request("PUT", kpath("/q/k001"), form={"value": "s"}), 200)
        status(srv.request("PUT", kpath("/q/k002"),
                           form={"ttl": "100", "refresh": "true", "prevExist": "true"}), 200)
        status(srv.request("DELETE", kpath("/q/k003")), 200)
        status(srv.request("DELETE", kpath("/q/k004"), params={"prevValue": "x" * 1000}), 200)
        # space freed: writes go on
        status(srv.request("PUT", kpath("/q/new"), form={"value": "x" * 1000}), 201)
        status(srv.request("DELETE", kpath("/q"), params={"recursive": "true"}), 200)
        for i in range(10):
            status(srv.request("PUT", kpath("/q2/k%d" % i), form={"value": "x" * 1000}), 201)
        # the accounted size survives a restart (snapshot/WAL replay)
        srv.restart()
        status(srv.request("PUT", kpath("/q2/more"), form={"value": "x" * 1000}), 201)
        r = srv.request("PUT", kpath("/q2/huge"), form={"value": "x" * quota})
        err_any_cause(r, 507, 310, "Store quota exceeded")
    finally:
        srv.cleanup()


# ---------------------------------------------------------------- connections

def _hold_clients(args):
    """Worker: open n connections to (host, port) from the given source
    addresses; report how many stayed open, were refused (503/closed/reset
    within the deadline) or failed to connect. Holds them until told."""
    host, port, sources, n, hold_s, conn = args
    _raise_nofile()
    held, refused, failed = [], 0, 0
    for i in range(n):
        src = sources[i % len(sources)]
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((src, 0))
            s.settimeout(5.0)
            s.connect((host, port))
            s.setblocking(False)
            held.append(s)
        except OSError:
            s.close()
            failed += 1
    # the server refuses at accept: those sockets see a 503/EOF/reset quickly
    deadline = time.time() + 5.0
    pending = list(held)
    open_ = []
    saw_503 = 0
    while pending and time.time() < deadline:
        still = []
        for s in pending:
            try:
                d = s.recv(256)
                if d.startswith(b"HTTP/1.1 503"):
                    saw_503 += 1
                refused += 1
                s.close()
            except BlockingIOError:
                still.append(s)
            except OSError:
                refused += 1
                s.close()
        pending = still
        if len(pending) + refused + failed >= n and time.time() > deadline - 3.0:
            break
        time.sleep(0.1)
    open_ = pending
    conn.send((len(open_), refused, failed, saw_503))
    conn.recv()  # hold until the parent is done
    for s in open_:
        s.close()
    conn.close()


def _flood(host, port, total, per_proc=8000):
    """Starts workers that open `total` connections; returns (workers, counts)
    with counts = [held, refused, failed, saw_503] summed."""
    procs_ = []
    n_procs = max(1, (total + per_proc - 1) // per_proc)
    counts = [0, 0, 0, 0]
    for p in range(n_procs):
        share = total // n_procs + (1 if p < total % n_procs else 0)
        # a few source addresses per worker: ~28k ephemeral ports each
        sources = ["127.0.0.%d" % (10 + p * 4 + k) for k in range(4)]
        parent, child = multiprocessing.Pipe()
        w = multiprocessing.Process(target=_hold_clients,
                                    args=((host, port, sources, share, 30, child),))
        w.start()
        procs_.append((w, parent))
    for w, parent in procs_:
        if parent.poll(120):
            got = parent.recv()
            counts = [a + b for a, b in zip(counts, got)]
    return procs_, counts


def _release(workers):
    for w, parent in workers:
        try:
            parent.send(1)
        except OSError:
            pass
    for w, parent in workers:
        w.join(30)
        if w.is_alive():
            w.kill()


@needs("cetcd")
def test_connection_cap(c):
    """A member capped at 1000 client connections under a flood: the excess
    is refused at once, peers keep the cluster healthy (no election), writes
    through the other members go on, and the member serves again once the
    flood is gone."""
    total = int(os.environ.get("CETCD_LIMITS_CLIENTS", "3000"))
    cap = int(os.environ.get("CETCD_LIMITS_CAP", "1000"))
    hard = _raise_nofile()
    args = ["--max-client-conns", str(cap)]
    if cap == 0:  # the default: the descriptor limit minus 1024 (same machine)
        cap = hard - 1024
        args = []
    with clustertest.Cluster(3, extra_args=args) as cl:
        cl.start()
        target_m = cl.members[0]
        other = cl.members[1]
        leader0 = (other.stats_self() or {}).get("leaderInfo", {}).get("leader")
        term0 = other.get("/").hdr("X-Raft-Term")
        t0 = time.time()
        workers, (held, refused, failed, saw_503) = _flood(target_m.host, target_m.port, total)
        dt = time.time() - t0
        try:
            print("#   %d clients in %.1fs: %d held, %d refused (%d saw the 503), "
                  "%d failed to connect" % (total, dt, held, refused, saw_503, failed))
            true(held <= cap, "at most the cap held open (%d > %d)" % (held, cap))
            true(held >= cap - 50, "about the cap held open (%d)" % held)
            true(refused >= total - cap - failed - 50, "the rest refused (%d)" % refused)
            # the cluster is healthy meanwhile: writes through another member
            for i in range(20):
                status(other.put("/flood%d" % i, {"value": "v"}, timeout=5.0), 201)
            idx = other.index()
            leader_now = (other.stats_self() or {}).get("leaderInfo", {}).get("leader")
            eq(leader_now, leader0, "same leader during the flood")
            eq(other.get("/").hdr("X-Raft-Term"), term0, "same term during the flood")
        finally:
            _release(workers)
        # freed: it answers again, with everything applied; /metrics counts
        clustertest.wait_for(lambda: target_m.index() is not None, "member answers", 10.0)
        m = target_m.request("GET", "/metrics").body.decode()
        refused_m = [int(float(line.split()[1])) for line in m.split("\n")
                     if line.startswith("cetcd_client_connections_refused_total ")]
        true(refused_m and refused_m[0] >= refused, "refusals counted: %r" % refused_m)
        clustertest.wait_for(lambda: target_m.index() is not None, "member answers", 10.0)
        cl.wait_index(idx, timeout=10.0)
        status(target_m.get("/flood19"), 200)


# ---------------------------------------------------------------- watch window

def test_watch_window_default(c):
    """etcd's window is 1000 events: a waitIndex that fell out gets 401."""
    first = c.put(c.k("/w"), {"value": "0"}).index
    for i in range(1, 1005):
        r = c.put(c.k("/w"), {"value": str(i)})
    last = r.index
    r = c.get(c.k("/w"), {"wait": "true", "waitIndex": str(first)})
    err(r, 400, 401, "The event in requested index is outdated and cleared",
        cause="the requested history has been cleared [%d/%d]" % (last - 999, first))
    # the oldest event still held is served at once
    r = c.get(c.k("/w"), {"wait": "true", "waitIndex": str(last - 999)})
    status(r, 200)
    eq(r.json["node"]["modifiedIndex"], last - 999)


@needs("cetcd")
def test_watch_window_flag(c):
    srv = Server(extra_args=["--v2-watch-window", "10"])
    try:
        first = srv.request("PUT", kpath("/w"), form={"value": "0"}).index
        for i in range(1, 20):
            r = srv.request("PUT", kpath("/w"), form={"value": str(i)})
        last = r.index
        r = srv.request("GET", kpath("/w"), params={"wait": "true", "waitIndex": str(first)})
        err(r, 400, 401, "The event in requested index is outdated and cleared",
            cause="the requested history has been cleared [%d/%d]" % (last - 9, first))
        r = srv.request("GET", kpath("/w"), params={"wait": "true",
                                                    "waitIndex": str(last - 9)})
        status(r, 200)
        # kept across a restart (the snapshot carries the history)
        srv.restart()
        r = srv.request("GET", kpath("/w"), params={"wait": "true",
                                                    "waitIndex": str(last - 10)})
        err_any_cause(r, 400, 401, "The event in requested index is outdated and cleared")
    finally:
        srv.cleanup()


@needs("cetcd")
def test_slow_stream_is_told(c):
    """A stream watcher that does not read while >100 events wait for it is
    closed; its last object is errorCode 410 with the index of the first
    event it missed (etcd 3.4 just ends the stream)."""
    srv = c.srv
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((srv.host, srv.port))
    s.sendall(("GET %s?wait=true&stream=true&recursive=true HTTP/1.1\r\nHost: x\r\n\r\n" %
               kpath(c.k("/s"))).encode())
    time.sleep(0.3)
    value = "x" * 16384
    first = None
    t0 = time.time()
    for i in range(300):
        r = c.put(c.k("/s/k%d") % (i % 10), {"value": value})
        first = first or r.index
    t_w = time.time() - t0
    # the writes are done: read fast now (the cut happened or not already)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    data = b""
    s.settimeout(5.0)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            break
        if not d:
            break
        data += d
        if data.endswith(b"\r\n0\r\n\r\n"):
            break
    s.close()
    print("#   300 writes in %.1fs, the stream read in %.1fs more (%d bytes)" %
          (t_w, time.time() - t0 - t_w, len(data)))
    true(data.endswith(b"\r\n0\r\n\r\n"), "the stream ended (%d bytes, tail %r)" %
         (len(data), data[-80:]))
    # de-chunk
    head, _, body = data.partition(b"\r\n\r\n")
    out = b""
    while body:
        size_s, _, rest = body.partition(b"\r\n")
        size = int(size_s, 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    objs = [json.loads(line) for line in out.split(b"\n") if line.strip()]
    events = [o for o in objs if "action" in o]
    last = objs[-1]
    eq(last.get("errorCode"), 410, "last object: %r" % (last,))
    eq(last.get("message"), "The watcher fell behind and was closed")
    true(len(events) >= 100, "the buffered events came first (%d)" % len(events))
    got = [e["node"]["modifiedIndex"] for e in events]
    eq(got, list(range(first, first + len(got))), "events in order, none skipped")
    eq(last.get("index"), first + len(got), "index = the first event not sent")


# ---------------------------------------------------------------- request heads

def _raw(srv, data, timeout=5.0):
    s = socket.create_connection((srv.host, srv.port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while not out.endswith(b"\r\n\r\n") and b"\r\n\r\n" not in out:
            d = s.recv(4096)
            if not d:
                break
            out += d
        return out
    except ConnectionResetError:
        return b"RESET"
    finally:
        s.close()


def test_request_line_4k(c):
    """A request line of 4096 bytes (CRLF included) is served, as etcd 3.4
    (its cmux resets a longer one; cetcd serves longer ones too)."""
    path = kpath(c.k("/line")) + "?x="
    fill = 4096 - len("GET  HTTP/1.1\r\n") - len(path)
    line = "GET %s%s HTTP/1.1\r\n" % (path, "a" * fill)
    eq(len(line), 4096)
    out = _raw(c.srv, (line + "Host: x\r\n\r\n").encode())
    true(out.startswith(b"HTTP/1.1 404"), "4096-byte request line: %r" % out[:40])


def test_headers_1mib(c):
    """Go's server (hence etcd) takes 1 MiB of headers and answers 431 past
    it; so does cetcd, on a fresh connection and on a reused one."""
    path = kpath(c.k("/h"))
    for size in (3000, 100000, 1000000):
        out = _raw(c.srv, ("GET %s HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" %
                           (path, "b" * size)).encode())
        true(out.startswith(b"HTTP/1.1 404"), "%d-byte header: %r" % (size, out[:40]))
    out = _raw(c.srv, ("GET %s HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" %
                       (path, "b" * 1200000)).encode())
    true(out.startswith(b"HTTP/1.1 431"), "1.2 MB of headers: %r" % out[:40])
    # many headers
    many = "".join("X-H%d: %s\r\n" % (i, "v" * 90) for i in range(5000))
    out = _raw(c.srv, ("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, many)).encode())
    true(out.startswith(b"HTTP/1.1 404"), "5000 headers, 500 KB: %r" % out[:40])


def _sanitized(pid):
    """ASan's quarantine and shadow memory: RSS says nothing there."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return any("libasan" in line for line in f)
    except OSError:
        return False


def _rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@needs("cetcd")
def test_idle_watcher_memory(c):
    """RSS per idle long-poll watcher on a fresh connection stays about 6 KiB
    (doc/watches.md): the 1 MiB pool is only for connections that send a long
    head."""
    _raise_nofile()
    srv = c.srv
    n = 2000
    time.sleep(0.3)
    before = _rss_kib(srv.proc.pid)
    socks = []
    try:
        req = ("GET %s?wait=true HTTP/1.1\r\nHost: x\r\n\r\n" % kpath(c.k("/idle"))).encode()
        for i in range(n):
            s = socket.socket()
            s.bind(("127.0.0.%d" % (2 + i % 4), 0))
            s.connect((srv.host, srv.port))
            s.sendall(req)
            socks.append(s)
        # every watcher has its headers
        for s in socks:
            s.settimeout(5.0)
            got = b""
            while b"\r\n\r\n" not in got:
                d = s.recv(4096)
                if not d:
                    break
                got += d
            true(got.startswith(b"HTTP/1.1 200"), "watch answered: %r" % got[:30])
        time.sleep(0.3)
        after = _rss_kib(srv.proc.pid)
        per = (after - before) * 1024.0 / n
        print("#   RSS per idle watcher: %.0f bytes (%d watchers, %d -> %d KiB)" %
              (per, n, before, after))
        if not _sanitized(srv.proc.pid):
            true(per < 8 * 1024, "RSS per idle watcher %.0f bytes (< 8 KiB)" % per)
    finally:
        for s in socks:
            s.close()


if __name__ == "__main__":
    run(globals())
