#!/usr/bin/env python3
"""End-to-end durability tests: the server is killed (SIGKILL) and restarted, its
data dir is damaged, its WAL is moved (--wal-dir), its retention is bounded.

- test_crash_loop: writers PUT continuously and record every acknowledged write (key,
  value, modifiedIndex); the server is SIGKILLed at random moments (>= 20 cycles) and
  restarted; after each restart every acknowledged write is there with exactly that
  value and index, nothing was invented, and new indexes are above every old one.
- test_restart_100k_ttl: 100,000 keys + TTL keys; TTLs pass while the server is down;
  the first GET is answered (its time is printed; the target is in the benchmark), the expired keys go away through
  the log (a watcher with waitIndex sees `expire`; a second restart keeps them gone with
  the same index), every permanent key is back with its value.
- test_ttl_expiry_after_sigkill: the same for TTLs that pass while a SIGKILLed server
  is down (its TTL heap partly from a snapshot), and a second SIGKILL keeps them gone.
- damaged data dirs (cetcd only: the file format is cetcd's): a torn or zero-filled
  WAL tail is truncated and the server starts; a CRC mismatch in the middle of the log
  makes it refuse to start, naming the file and offset; a corrupt newest snapshot
  falls back to the previous one (renamed .broken).
- a graceful stop (SIGTERM) trims the live WAL segment's preallocated tail; the
  restart preallocates it again and later writes survive a SIGKILL.
- --wal-dir puts the WAL elsewhere; --max-snapshots/--max-wals bound the files kept.

CETCD_TARGET=etcd runs the tests that make sense against real etcd 3.4 (the file
damage and retention-timing tests are cetcd-only: etcd's format differs and it purges
every 30 s). Every loop is bounded; every server is killed at the end.
"""

import glob
import http.client
import json
import os
import random
import re
import shutil
import socket
import struct
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cetcdtest import (run, eq, true, status, needs, fresh_server, Server, Fail,  # noqa: E402
                       target, kpath, FORM)

CRASH_CYCLES = int(os.environ.get("CETCD_CRASH_CYCLES", "20"))
N_BIG = int(os.environ.get("CETCD_RESTART_KEYS", "100000"))


# --------------------------------------------------------------------------
# helpers


def new_server(extra_args=None, wal_dir=None):
    args = list(extra_args or [])
    if wal_dir:
        args += ["--wal-dir", wal_dir]
    return Server(target(), extra_args=args)


def kill9(srv):
    """SIGKILL the server's process group and reap it (the data dir stays)."""
    srv.kill()


def stop(srv):
    """Graceful stop (SIGTERM), the data dir stays; fail if it needed SIGKILL."""
    srv.stop()
    true(srv.proc.returncode is not None, "server stopped")


def start_timed(srv, probe_path, want=None, timeout=30.0):
    """Start srv (same ports and dirs) and return the seconds from exec to the first
    200 answer to GET probe_path (whose body contains `want`, if given)."""
    t0 = time.monotonic()
    srv.spawn()
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        if not srv.alive():
            raise Fail("server exited with %s at start:\n%s" % (srv.returncode,
                                                                srv.log_tail()))
        try:
            r = srv.request("GET", probe_path, timeout=0.5)
            if r.status == 200 and (want is None or want in r.body):
                return time.monotonic() - t0
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.003)
    raise Fail("no good GET %s within %.0fs of exec:\n%s" % (probe_path, timeout,
                                                              srv.log_tail()))


def start_expect_failure(srv, timeout=15.0):
    """Start srv and expect it to exit on its own. Returns (exit code, its output)."""
    srv.spawn()
    rc = srv.wait_exit(timeout)
    srv.kill()
    if rc is None:
        raise Fail("server started on a damaged data dir (still running after %.0fs);"
                   " it must refuse:\n%s" % (timeout, srv.log_tail()))
    return rc, srv.output()


def put(srv, key, value, params=None, timeout=10.0):
    return srv.request("PUT", kpath(key), params, form={"value": value}, timeout=timeout)


def get_tree(srv, key):
    """{key: (value, modifiedIndex)} of every leaf below key (recursive GET)."""
    r = srv.request("GET", kpath(key), {"recursive": "true"}, timeout=30.0)
    if r.status == 404:
        return {}, r.index
    status(r, 200, "recursive GET %s" % key)
    out = {}
    stack = [r.json["node"]]
    while stack:
        n = stack.pop()
        if n.get("dir"):
            stack.extend(n.get("nodes") or [])
        else:
            out[n["key"]] = (n.get("value"), n.get("modifiedIndex"))
    return out, r.index


class Conn:
    """A keep-alive HTTP/1.1 client with short timeouts (a writer's connection)."""

    def __init__(self, srv, timeout=2.0):
        self.srv = srv
        self.timeout = timeout
        self.c = None

    def put(self, key, value, raw=False):
        """raw: value needs no form escaping (large values: skip quote())."""
        if self.c is None:
            self.c = http.client.HTTPConnection(self.srv.host, self.srv.port,
                                                timeout=self.timeout)
        body = "value=" + (value if raw else urllib.parse.quote(value, safe=""))
        try:
            self.c.request("PUT", kpath(key), body=body, headers={"Content-Type": FORM})
            r = self.c.getresponse()
            data = r.read()
            return r.status, data
        except Exception:
            self.close()
            raise

    def close(self):
        if self.c is not None:
            try:
                self.c.close()
            except Exception:
                pass
            self.c = None


def read_reply(sock, buf):
    """One HTTP/1.1 response from a keep-alive socket: (status, body, leftover)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(262144)
        if not chunk:
            raise Fail("connection closed by the server")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    st = int(lines[0].split()[1])
    clen, chunked = 0, False
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            clen = int(v.strip())
        elif k == b"transfer-encoding" and b"chunked" in v.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(262144)
            line, _, buf = buf.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            while len(buf) < size + 2:
                buf += sock.recv(262144)
            body += buf[:size]
            buf = buf[size + 2:]
            if size == 0:
                return st, body, buf
    while len(buf) < clen:
        chunk = sock.recv(262144)
        if not chunk:
            raise Fail("connection closed by the server")
        buf += chunk
    return st, buf[:clen], buf[clen:]


def bulk_put(srv, items, conns=128, window=1, timeout=120.0):
    """PUT every (key, value) of items over `conns` keep-alive connections, each
    pipelining up to `window` requests (both servers answer a connection's requests
    one at a time, so concurrency comes from connections, not from the window). Bounded by `timeout`. Returns the number of
    2xx replies; raises on any other status."""
    items = list(items)
    chunks = [items[i::conns] for i in range(conns)]
    deadline = time.monotonic() + timeout
    results = [0] * conns
    errors = []
    host = ("%s:%d" % (srv.host, srv.port)).encode()

    def worker(n, mine):
        try:
            s = socket.create_connection((srv.host, srv.port), timeout=30.0)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = b""
            try:
                for i in range(0, len(mine), window):
                    if time.monotonic() > deadline:
                        raise Fail("bulk load exceeded %.0fs" % timeout)
                    batch = mine[i:i + window]
                    out = []
                    for k, v in batch:
                        body = b"value=" + urllib.parse.quote(v, safe="").encode()
                        out.append(b"PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
                                   b"Content-Length: %d\r\n\r\n%s" %
                                   (kpath(k).encode(), host, FORM.encode(), len(body), body))
                    s.sendall(b"".join(out))
                    for _ in batch:
                        st, body, buf = read_reply(s, buf)
                        if not 200 <= st < 300:
                            raise Fail("bulk PUT: HTTP %d %r" % (st, body[:200]))
                        results[n] += 1
            finally:
                s.close()
        except Exception as e:  # noqa
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(n, chunks[n]), daemon=True)
          for n in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(max(1.0, deadline - time.monotonic() + 5))
    if any(t.is_alive() for t in ts):
        raise Fail("bulk load did not finish within %.0fs" % timeout)
    if errors:
        raise Fail("bulk load failed: %r" % (errors[0],))
    return sum(results)


# --------------------------------------------------------------------------
# WAL / snapshot file helpers (cetcd's format, doc/disk-format.md)

def wal_dir_of(srv, wal_dir=None):
    return wal_dir or os.path.join(srv.data_dir, "member", "wal")


def snap_dir_of(srv):
    return os.path.join(srv.data_dir, "member", "snap")


def segments(d):
    return sorted(glob.glob(os.path.join(d, "*.wal")))


def frames(path):
    """[(offset, frame size, payload len, type)] of the records of one segment, up to
    the first all-zero header."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    off = 0
    while off + 8 <= len(data):
        ln, crc = struct.unpack_from("<II", data, off)
        if ln == 0 and crc == 0:
            break
        size = (8 + ln + 1 + 7) // 8 * 8
        if ln > len(data) or off + size > len(data):
            break
        out.append((off, size, ln, data[off + 8]))
        off += size
    return out


def patch(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_at(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


ENTRY = 2


# --------------------------------------------------------------------------
# 1. crash loop


def test_crash_loop(c):
    """>= CRASH_CYCLES SIGKILLs at random moments while 4 writers PUT; every
    acknowledged write survives with its value and modifiedIndex; indexes only grow."""
    is_cetcd = target() == "cetcd"
    # small snapshot count: crashes land before, during and after forked snapshots
    srv = new_server(["--snapshot-count", "150"])
    rnd = random.Random(int(os.environ.get("CETCD_CRASH_SEED", str(int(time.time())))))
    acked = {}          # key -> (value, modifiedIndex): acknowledged writes
    attempted = {}      # key -> value: every write sent (acked or not)
    counter_acked = [0]  # /crash/counter: the last acknowledged value (a number)
    counter_sent = [0]
    max_index_seen = 0
    lock = threading.Lock()
    t_end = time.monotonic() + 60.0
    try:
        for cycle in range(CRASH_CYCLES):
            true(time.monotonic() < t_end, "crash loop exceeded its 60 s bound at cycle %d"
                 % cycle)
            stop_flag = threading.Event()
            cycle_min_index = [None]

            def writer(w, cycle=cycle, stop_flag=stop_flag, cycle_min_index=cycle_min_index):
                conn = Conn(srv, timeout=2.0)
                n = 0
                last_idx = 0
                while not stop_flag.is_set():
                    n += 1
                    if w == 0 and n % 3 == 0:
                        # overwrites of one key: the value is a growing number
                        with lock:
                            counter_sent[0] += 1
                            val = counter_sent[0]
                        key, value = "/crash/counter", str(val)
                    else:
                        key = "/crash/c%02d/w%d/%06d" % (cycle, w, n)
                        value = "%x-%d-%d" % (rnd.getrandbits(64), cycle, n)
                        with lock:
                            attempted[key] = value
                    try:
                        st, body = conn.put(key, value)
                    except Exception:
                        # the kill: this write may or may not have become durable
                        conn.close()
                        if stop_flag.wait(0.01):
                            break
                        continue
                    if st not in (200, 201):
                        raise Fail("PUT %s -> %d %r" % (key, st, body[:200]))
                    node = json.loads(body.decode())["node"]
                    idx = node["modifiedIndex"]
                    if idx <= last_idx:
                        raise Fail("index went backwards on one connection: %d after %d"
                                   % (idx, last_idx))
                    last_idx = idx
                    with lock:
                        if cycle_min_index[0] is None or idx < cycle_min_index[0]:
                            cycle_min_index[0] = idx
                        if key == "/crash/counter":
                            counter_acked[0] = max(counter_acked[0], int(value))
                        else:
                            acked[key] = (value, idx)
                conn.close()

            errs = []

            def guarded(w):
                try:
                    writer(w)
                except Exception as e:  # noqa
                    errs.append(e)

            ts = [threading.Thread(target=guarded, args=(w,), daemon=True) for w in range(4)]
            for t in ts:
                t.start()
            time.sleep(rnd.uniform(0.05, 0.7))
            kill9(srv)
            stop_flag.set()
            for t in ts:
                t.join(5.0)
            true(not any(t.is_alive() for t in ts), "writers stopped")
            if errs:
                raise errs[0]
            if cycle_min_index[0] is not None:
                true(cycle_min_index[0] > max_index_seen,
                     "cycle %d: new write got index %d, not above %d seen before the "
                     "previous crash" % (cycle, cycle_min_index[0], max_index_seen))
            srv.start(wait=15.0)
            tree, cur = get_tree(srv, "/crash")
            missing = [k for k in acked if k not in tree]
            true(not missing, "cycle %d: %d acknowledged writes lost after SIGKILL, e.g. %s"
                 % (cycle, len(missing), sorted(missing)[:5]))
            wrong = [(k, acked[k], tree[k]) for k in acked if tree[k] != acked[k]]
            true(not wrong, "cycle %d: acknowledged writes changed after restart "
                 "(key, (value, index) acked, (value, index) read): %s"
                 % (cycle, wrong[:3]))
            for k, (v, idx) in tree.items():
                if k == "/crash/counter":
                    val = int(v)
                    true(counter_acked[0] <= val <= counter_sent[0],
                         "counter %d after restart: acked %d, sent %d"
                         % (val, counter_acked[0], counter_sent[0]))
                else:
                    true(k in attempted and attempted[k] == v,
                         "key %s = %r after restart was never written so" % (k, v))
            hi = max([i for _, i in tree.values()] + [0])
            true(cur is not None and cur >= hi, "X-Etcd-Index %s below a key's index %d"
                 % (cur, hi))
            max_index_seen = max(max_index_seen, cur, hi)
        true(len(acked) >= CRASH_CYCLES * 5,
             "only %d acknowledged writes over %d cycles" % (len(acked), CRASH_CYCLES))
        # a graceful restart at the end keeps everything too
        srv.restart(wait=15.0)
        tree, cur = get_tree(srv, "/crash")
        for k, vi in acked.items():
            eq(tree.get(k), vi, "after the final graceful restart: " + k)
        true(cur >= max_index_seen, "index %s after graceful restart, %d before"
             % (cur, max_index_seen))
        if is_cetcd:
            r = srv.request("GET", "/debug/vars")
            true(r.status == 200 and r.json["cetcd"]["wal"]["fsyncs"] >= 0, "debug vars")
        print("#   crash loop: %d cycles, %d acknowledged unique writes, counter %d/%d, "
              "final index %d" % (CRASH_CYCLES, len(acked), counter_acked[0],
                                  counter_sent[0], cur))
    finally:
        srv.cleanup()


# --------------------------------------------------------------------------
# 2. 100,000 keys + TTL, restart


@fresh_server
def test_restart_100k_ttl(c):
    srv = c.srv
    is_cetcd = target() == "cetcd"
    n = N_BIG
    val = lambda i: "v%06d-" % i + "x" * 90   # noqa: E731  (100 bytes)
    t0 = time.monotonic()
    done = bulk_put(srv, (("/big/d%02d/k%06d" % (i % 100, i), val(i)) for i in range(n)),
                    timeout=150.0)
    eq(done, n, "keys loaded")
    load_s = time.monotonic() - t0
    # long TTLs must survive, short ones expire while the server is down
    for i in range(20):
        status(put(srv, "/ttl/long/k%d" % i, "long%d" % i, {"ttl": 3600}), 201, "long TTL")
    for i in range(20):
        status(put(srv, "/ttl/short/k%d" % i, "short%d" % i, {"ttl": 1}), 201, "short TTL")
    idx_before = srv.request("GET", kpath("/ttl")).index
    stop(srv)
    stopped_at = time.monotonic()
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(srv.data_dir, "**", "*"),
                                                    recursive=True) if os.path.isfile(p))
    time.sleep(max(0.0, 2.2 - (time.monotonic() - stopped_at)))  # the TTLs pass
    probe = "/big/d%02d/k%06d" % ((n - 1) % 100, n - 1)
    first = start_timed(srv, kpath(probe), want=val(n - 1).encode())
    print("#   %d keys loaded in %.1fs; data files %.1f MiB; first GET %.3f s after exec"
          % (n, load_s, size / 1048576.0, first))
    # the < 1 s target is a benchmark figure (restart100k), not a timed test:
    # this file also runs in the sanitizer build, several times slower
    # the expiry goes through the log: a watcher from the index before the stop sees it
    w = srv.request("GET", kpath("/ttl/short"), {"wait": "true", "recursive": "true",
                                                 "waitIndex": idx_before + 1}, timeout=10.0)
    status(w, 200, "watch for the expiry")
    eq(w.json.get("action"), "expire", "first event after the restart")
    true(w.json["node"]["key"].startswith("/ttl/short/"), "expired key %r" % w.json["node"])
    true(w.json["node"]["modifiedIndex"] > idx_before, "expire index above the old index")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left, _ = get_tree(srv, "/ttl/short")
        if not left:
            break
        time.sleep(0.1)
    eq(left, {}, "short-TTL keys left after restart")
    longs, _ = get_tree(srv, "/ttl/long")
    eq(sorted((k, v) for k, (v, _) in longs.items()),
       sorted(("/ttl/long/k%d" % i, "long%d" % i) for i in range(20)), "long-TTL keys")
    r = srv.request("GET", kpath("/ttl/long/k0"))
    true(0 < r.json["node"].get("ttl", 0) <= 3600, "long TTL still counts down: %r" % r.json)
    tree, idx_after = get_tree(srv, "/big")
    eq(len(tree), n, "permanent keys after restart")
    bad = [k for k, (v, _) in tree.items() if v != val(int(k[-6:]))]
    eq(bad[:5], [], "keys with a wrong value")
    # the expiry was logged: a second restart keeps the keys gone, same index
    stop(srv)
    srv.start(wait=30.0)
    left, _ = get_tree(srv, "/ttl/short")
    eq(left, {}, "short-TTL keys after a second restart")
    idx2 = srv.request("GET", kpath("/ttl")).index
    true(idx2 >= idx_after, "index %d after the second restart, %d before" % (idx2, idx_after))
    # events (the expiry) are still in the history after the restart
    w2 = srv.request("GET", kpath("/ttl/short"), {"wait": "true", "recursive": "true",
                                                  "waitIndex": idx_before + 1}, timeout=10.0)
    eq((w2.json or {}).get("action"), "expire", "history after the second restart")


def test_ttl_expiry_after_sigkill(c):
    """TTL keys whose TTL passes while a SIGKILLed server is down: the expiry is an
    `expire` event after the restart (watch with waitIndex), and it is logged: a second
    SIGKILL + restart keeps the keys gone and the index does not go back."""
    srv = new_server(["--snapshot-count", "50"])
    try:
        for i in range(60):     # crosses a snapshot: the TTL heap comes from it too
            status(put(srv, "/k/p%d" % i, "p%d" % i), 201)
        for i in range(5):
            status(put(srv, "/k/t%d" % i, "t%d" % i, {"ttl": 1}), 201, "TTL key")
        idx = srv.request("GET", kpath("/k")).index
        kill9(srv)
        time.sleep(1.3)
        srv.start(wait=15.0)
        w = srv.request("GET", kpath("/k"), {"wait": "true", "recursive": "true",
                                             "waitIndex": idx + 1}, timeout=10.0)
        status(w, 200, "watch")
        eq(w.json.get("action"), "expire", "first event after the restart")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            tree, idx1 = get_tree(srv, "/k")
            if not any("/t" in k for k in tree):
                break
            time.sleep(0.1)
        eq(sorted(k for k in tree if "/t" in k), [], "TTL keys left")
        eq(len(tree), 60, "permanent keys")
        kill9(srv)
        srv.start(wait=15.0)
        tree, idx2 = get_tree(srv, "/k")
        eq(sorted(k for k in tree if "/t" in k), [], "TTL keys after a second SIGKILL")
        true(idx2 >= idx1, "index went back: %d after, %d before" % (idx2, idx1))
        r = put(srv, "/k/new", "n")
        status(r, 201)
        true(r.json["node"]["modifiedIndex"] > idx1, "new index above the expiry's")
    finally:
        srv.cleanup()


# --------------------------------------------------------------------------
# 3. damaged data dirs (cetcd only)


def _fill(srv, prefix, count):
    out = {}
    for i in range(count):
        r = put(srv, "%s/k%03d" % (prefix, i), "val%d" % i)
        status(r, 201, "fill")
        out["%s/k%03d" % (prefix, i)] = ("val%d" % i, r.json["node"]["modifiedIndex"])
    return out


def _check(srv, want, what):
    tree, _ = get_tree(srv, "/d")
    for k, vi in want.items():
        eq(tree.get(k), vi, "%s: %s" % (what, k))


@needs("cetcd")
def test_torn_tail_is_truncated(c):
    """Garbage that looks like a half-written frame after the last record: the server
    cuts it, starts, keeps every record before it and accepts new writes."""
    srv = new_server()
    try:
        want = _fill(srv, "/d", 30)
        kill9(srv)
        seg = segments(wal_dir_of(srv))[-1]
        fr = frames(seg)
        end = fr[-1][0] + fr[-1][1]
        # a header that promises 200 bytes, 40 bytes of them written, trailer zero
        patch(seg, end, struct.pack("<II", 200, 0xDEADBEEF) + bytes([2]) + os.urandom(39))
        srv.start(wait=10.0)
        _check(srv, want, "after a torn tail")
        true("repaired" in srv.log_tail(50), "the repair is logged:\n" + srv.log_tail())
        r = put(srv, "/d/after", "x")
        status(r, 201, "write after repair")
        true(r.json["node"]["modifiedIndex"] > max(i for _, i in want.values()),
             "index after repair")
        kill9(srv)
        srv.start(wait=10.0)
        _check(srv, want, "second restart")
        eq(srv.request("GET", kpath("/d/after")).json["node"]["value"], "x", "new write kept")
    finally:
        srv.cleanup()


@needs("cetcd")
def test_zero_filled_tail_is_truncated(c):
    """The last record's second half reads as zeros (a write that never reached the
    disk): the server drops that record and starts with everything before it."""
    srv = new_server()
    try:
        want = _fill(srv, "/d", 30)
        kill9(srv)
        seg = segments(wal_dir_of(srv))[-1]
        fr = frames(seg)
        entries = [f for f in fr if f[3] == ENTRY]
        off, size, _, _ = entries[-1]
        # the last ENTRY record: zero its second half (trailer included)
        half = size // 2
        patch(seg, off + half, b"\0" * (size - half))
        # any record after it (a commit-only hard state) is unsynced too: zero them
        tail = [f for f in fr if f[0] > off]
        for o, s, _, _ in tail:
            patch(seg, o, b"\0" * s)
        srv.start(wait=10.0)
        tree, _ = get_tree(srv, "/d")
        lost = [k for k in want if k not in tree]
        true(len(lost) <= 1, "a zero-filled tail lost %d keys: %s" % (len(lost), lost[:5]))
        for k, vi in want.items():
            if k in tree:
                eq(tree[k], vi, "after a zero-filled tail: " + k)
        true("repaired" in srv.log_tail(50), "the repair is logged:\n" + srv.log_tail())
        status(put(srv, "/d/after", "y"), 201, "write after repair")
    finally:
        srv.cleanup()


@needs("cetcd")
def test_crc_mismatch_mid_log_refuses(c):
    """One flipped byte inside a record in the middle of the log: refuse to start,
    exit non-zero, name the file and the offset."""
    srv = new_server()
    try:
        _fill(srv, "/d", 40)
        stop(srv)
        seg = segments(wal_dir_of(srv))[-1]
        fr = frames(seg)
        entries = [f for f in fr if f[3] == ENTRY]
        true(len(entries) >= 20, "entries in the segment: %d" % len(entries))
        off, size, ln, _ = entries[len(entries) // 2]
        pos = off + 8 + 1 + 4   # inside the entry's index field
        b = read_at(seg, pos, 1)
        patch(seg, pos, bytes([b[0] ^ 0x10]))
        rc, out = start_expect_failure(srv)
        true(rc != 0, "exit status %d on a corrupt log (want non-zero)" % rc)
        true(seg in out or os.path.basename(seg) in out,
             "the message names the file %s:\n%s" % (seg, out[-1500:]))
        true(re.search(r"offset %d\b" % off, out) is not None,
             "the message names the offset %d:\n%s" % (off, out[-1500:]))
        true("CRC" in out or "crc" in out, "the message says CRC:\n" + out[-1500:])
        # the file was not 'repaired' behind our back
        eq(read_at(seg, pos, 1), bytes([b[0] ^ 0x10]), "damaged byte left as is")
    finally:
        srv.cleanup()


@needs("cetcd")
def test_corrupt_newest_snapshot_falls_back(c):
    srv = new_server(["--snapshot-count", "40", "--max-snapshots", "5"])
    try:
        want = _fill(srv, "/d", 150)
        sd = snap_dir_of(srv)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(glob.glob(os.path.join(sd, "*.snap"))) < 3:
            time.sleep(0.05)
        time.sleep(0.3)   # let a save in progress finish
        stop(srv)
        snaps = sorted(glob.glob(os.path.join(sd, "*.snap")))
        true(len(snaps) >= 2, "snapshots: %s" % snaps)
        newest = snaps[-1]
        sz = os.path.getsize(newest)
        pos = sz - 20
        b = read_at(newest, pos, 1)
        patch(newest, pos, bytes([b[0] ^ 0xFF]))
        srv.start(wait=10.0)
        _check(srv, want, "after falling back to the previous snapshot")
        true(os.path.exists(newest + ".broken"), "the bad snapshot is renamed .broken: %s"
             % os.listdir(sd))
        status(put(srv, "/d/after", "z"), 201, "write after fallback")
        srv.restart(wait=10.0)
        _check(srv, want, "restart after fallback")
    finally:
        srv.cleanup()


@needs("cetcd")
def test_graceful_stop_trims_wal(c):
    """SIGTERM cuts the live WAL segment after its last record (no 64 MiB preallocated
    tail left on disk); a restart has every key, preallocates the segment again, and
    writes after it survive a SIGKILL."""
    srv = new_server()
    try:
        want = _fill(srv, "/d", 60)
        wd = wal_dir_of(srv)
        seg = segments(wd)[-1]
        eq(os.path.getsize(seg), 64 << 20, "live segment while running")
        stop(srv)
        fr = frames(seg)
        size = os.path.getsize(seg)
        true(size < 64 << 20, "segment after a graceful stop: %d bytes" % size)
        eq(size, fr[-1][0] + fr[-1][1], "segment cut right after its last record")
        srv.start(wait=10.0)
        _check(srv, want, "after a graceful stop")
        true("repaired" not in srv.log_tail(50), "a trimmed segment is a clean end:\n"
             + srv.log_tail())
        eq(segments(wd)[-1], seg, "same live segment")
        eq(os.path.getsize(seg), 64 << 20, "segment preallocated again after the restart")
        want.update(_fill(srv, "/d/more", 30))
        kill9(srv)
        srv.start(wait=10.0)
        _check(srv, want, "after SIGKILL following a graceful restart")
    finally:
        srv.cleanup()


# --------------------------------------------------------------------------
# 4. --wal-dir and retention


@fresh_server
def test_wal_dir(c):
    import tempfile
    wd = tempfile.mkdtemp(prefix="cetcd-e2e-waldir-")
    srv = None
    try:
        srv = new_server(wal_dir=os.path.join(wd, "wal"))
        want = {}
        for i in range(20):
            r = put(srv, "/w/k%d" % i, "v%d" % i)
            status(r, 201)
            want["/w/k%d" % i] = ("v%d" % i, r.json["node"]["modifiedIndex"])
        true(segments(os.path.join(wd, "wal")), "WAL files in --wal-dir: %s"
             % os.listdir(wd))
        true(not segments(os.path.join(srv.data_dir, "member", "wal")),
             "no WAL files under the data dir")
        kill9(srv)
        srv.start(wait=10.0)
        tree, _ = get_tree(srv, "/w")
        eq(tree, want, "keys after SIGKILL with --wal-dir")
        stop(srv)
        srv.start(wait=10.0)
        tree, _ = get_tree(srv, "/w")
        eq(tree, want, "keys after graceful restart with --wal-dir")
    finally:
        if srv is not None:
            srv.cleanup()
        shutil.rmtree(wd, ignore_errors=True)


@needs("cetcd")
def test_retention(c):
    """--snapshot-count 8 --max-snapshots 2 --max-wals 2: after 3 WAL segments (64 MiB
    each, filled with 1.4 MB values), writes go on until snapshots land in the third
    segment (a snapshot waits for as many bytes of log as it holds: doc/disk-format.md);
    then at most 2 of each remain, no .tmp is left, and a restart has the data."""
    srv = new_server(["--snapshot-count", "8", "--max-snapshots", "2", "--max-wals", "2"])
    try:
        wd, sd = wal_dir_of(srv), snap_dir_of(srv)
        big = "b" * 1400000
        conn = Conn(srv, timeout=10.0)
        seen_max_seq = 0
        t_end = time.monotonic() + 60
        i = 0
        nw = ns = None

        def kept():
            return len(segments(wd)), len(glob.glob(os.path.join(sd, "*.snap")))
        while time.monotonic() < t_end and i < 500:
            st, body = conn.put("/r/k%d" % (i % 4), big[:-8] + "%08d" % i, raw=True)
            eq(st, 200 if i >= 4 else 201, "PUT of 1.4 MB #%d: %r" % (i, body[:200]))
            i += 1
            segs = segments(wd)
            if segs:
                seen_max_seq = max(seen_max_seq, int(os.path.basename(segs[-1]).split("-")[0], 16))
            if seen_max_seq >= 2:
                nw, ns = kept()
                if nw <= 2 and ns <= 2:
                    break
        conn.close()
        true(seen_max_seq >= 2, "only %d segment(s) created in %d PUTs" % (seen_max_seq + 1, i))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            nw, ns = kept()
            if nw <= 2 and ns <= 2:
                break
            time.sleep(0.1)
        true(nw <= 2, "WAL segments kept: %d (--max-wals 2): %s" % (nw, os.listdir(wd)))
        true(ns <= 2, "snapshots kept: %d (--max-snapshots 2): %s" % (ns, os.listdir(sd)))
        true(ns >= 1, "at least one snapshot")
        stop(srv)
        tmps = glob.glob(os.path.join(wd, "*.tmp")) + glob.glob(os.path.join(sd, "*.tmp"))
        eq(tmps, [], "temporary files left")
        srv.start(wait=20.0)
        for k in range(4):
            last = max(j for j in range(i) if j % 4 == k)
            r = srv.request("GET", kpath("/r/k%d" % k))
            status(r, 200)
            eq(r.json["node"]["value"][-8:], "%08d" % last, "newest value of /r/k%d" % k)
    finally:
        srv.cleanup()


if __name__ == "__main__":
    run(globals())
