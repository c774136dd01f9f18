#!/usr/bin/env python3
"""Differential fuzzer for the v2 store: random operation sequences (set,
create/update with prevExist, CAS and CAD by value and index, mkdir, rm of
keys and dirs with dir= and recursive=, TTLs and refreshes, in-order POST,
gets recursive and sorted, waits answered from the event history, keys
that expire: ttl=1, then both servers are polled until it is gone) go to a
fresh real etcd 3.4 and a fresh cetcd in lockstep; every answer is compared
after test_differential.py's normalisation (its norm(), imported: indexes
rebased, expiration and ttl blurred, unsorted listings sorted).

A sequence is generated from its seed alone (the parameters it picks, such
as a prevIndex, come from etcd's earlier answers, which are deterministic),
so a failure reproduces with the seed it prints:

  CETCD_STORE_FUZZ_SEED=<seed> CETCD_STORE_FUZZ_SECONDS=0 \
      python3 tests/e2e/test_store_fuzz.py -v

Environment:
  CETCD_STORE_FUZZ_SECONDS  run time (default 20; e.g. 600 for a long run;
                            0 runs exactly one sequence)
  CETCD_STORE_FUZZ_SEED     first seed (default: from the clock); sequence i
                            uses seed + i
  CETCD_STORE_FUZZ_STEPS    operations per sequence (default 60)
Each sequence works under its own prefix on the same two servers. Stops at
the first divergence and prints the sequence up to it. -v prints every step.
Skips (77) when etcd is not installed. CETCD_TARGET=etcd compares etcd with
etcd (checks the generator and the normalisation)."""

import difflib
import json
import os
import random
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
import test_differential as td  # noqa: E402  (its normaliser; its script is not run)

KEYS = ["/a", "/b", "/_h", "/d1", "/d1/a", "/d1/_h", "/d1/d2", "/d1/d2/b", "/d3", "/d3/c", ""]
DIRS = ["/d1", "/d1/d2", "/d3", "/q"]
TTLS = ["600", "1200", "3600"]


def quote(v):
    return urllib.parse.quote(v, safe="")


class Gen:
    """Picks the next operation. Remembers values and (rebased) indexes seen
    in the reference's answers so that CAS/CAD and waits sometimes hit."""

    def __init__(self, seed, prefix):
        self.r = random.Random(seed)
        self.p = prefix
        self.values = ["v0"]
        self.indexes = []   # rebased modifiedIndex values seen
        self.events = []    # (key, rebased index) of events seen
        self.n = 0

    def key(self, dirs=False):
        return self.p + self.r.choice(DIRS if dirs else KEYS + DIRS)

    def value(self):
        self.n += 1
        c = self.r.random()
        if c < 0.1:
            v = ""
        elif c < 0.15:
            v = self.r.choice(["a b&c=d", "é/ü", "%", "+1", "line\nbreak"])
        elif c < 0.7:
            v = "v%d" % self.r.randrange(6)
        else:
            v = "x%d" % self.n
        return v

    def prev_value(self):
        c = self.r.random()
        if c < 0.8:
            return self.r.choice(self.values)
        return "" if c < 0.85 else "nope"

    def prev_index(self):
        if self.indexes and self.r.random() < 0.8:
            return "{@%d}" % self.r.choice(self.indexes[-12:])
        return str(self.r.choice([0, 1, 2, 999999, -1]))

    def ttl(self, f):
        c = self.r.random()
        if c < 0.25:
            f.append("ttl=" + self.r.choice(TTLS))
        elif c < 0.28:
            f.append("ttl=")
        elif c < 0.30:
            f.append("ttl=" + self.r.choice(["-1", "abc"]))

    def learn(self, resp, base):
        js = resp.json if not isinstance(resp, Exception) else None
        if not isinstance(js, dict):
            return
        for k in ("node", "prevNode"):
            n = js.get(k)
            if isinstance(n, dict):
                mi = n.get("modifiedIndex")
                if isinstance(mi, int) and mi > base:
                    self.indexes.append(mi - base)
                    if isinstance(n.get("key"), str) and n["key"].startswith(self.p):
                        # in-order names are indexes: {Q@N} sends each server its own
                        k = re.sub(r"/(\d{20})(?=/|$)",
                                   lambda m: "/{Q@%d}" % (int(m.group(1)) - base),
                                   n["key"][len(self.p):])
                        self.events.append((k, mi - base))
                v = n.get("value")
                if isinstance(v, str) and v not in self.values:
                    self.values.append(v)

    def step(self):
        r = self.r
        c = r.random()
        f, q = [], []
        if r.random() < 0.012:                          # a key that expires now
            key = self.p + r.choice(["/a", "/d1/a", "/d3/c", "/e"])
            st = {"kind": "req", "method": "PUT", "path": key, "q": None,
                  "f": "value=" + quote(self.value()) + "&ttl=1", "body": None,
                  "headers": None, "note": "", "expire": True}
            return st
        if c < 0.22:                                    # set / create / update
            method, key = "PUT", self.key()
            f.append("value=" + quote(self.value()))
            self.ttl(f)
            pe = r.random()
            if pe < 0.2:
                f.append("prevExist=true")
            elif pe < 0.35:
                f.append("prevExist=false")
        elif c < 0.34:                                  # compare-and-swap
            method, key = "PUT", self.key()
            f.append("value=" + quote(self.value()))
            w = r.random()
            if w < 0.5:
                f.append("prevValue=" + quote(self.prev_value()))
            if w >= 0.3:
                f.append("prevIndex=" + self.prev_index())
            if r.random() < 0.2:
                f.append("prevExist=true")
            self.ttl(f)
        elif c < 0.42:                                  # mkdir / dir TTL update
            method, key = "PUT", self.key(dirs=r.random() < 0.7)
            f.append("dir=true")
            if r.random() < 0.05:
                f.append("value=x")                     # a dir with a value: an error
            if r.random() < 0.05:
                f.append("prevValue=" + quote(self.prev_value()))
            self.ttl(f)
            pe = r.random()
            if pe < 0.3:
                f.append("prevExist=true")
            elif pe < 0.4:
                f.append("prevExist=false")
        elif c < 0.47:                                  # TTL refresh
            method, key = "PUT", self.key()
            f += ["refresh=true", "prevExist=true"]
            if r.random() < 0.9:
                f.append("ttl=" + r.choice(TTLS))
            if r.random() < 0.2:
                f.append("value=" + quote(self.value()))
        elif c < 0.55:                                  # in-order POST
            method, key = "POST", self.key(dirs=True)
            f.append("value=" + quote(self.value()))
            self.ttl(f)
        elif c < 0.65:                                  # delete (key or dir)
            method, key = "DELETE", self.key()
            w = r.random()
            if w < 0.3:
                q.append("dir=true")
            elif w < 0.55:
                q.append("recursive=true")
        elif c < 0.72:                                  # compare-and-delete
            method, key = "DELETE", self.key()
            w = r.random()
            if w < 0.6:
                q.append("prevValue=" + quote(self.prev_value()))
            if w >= 0.4:
                q.append("prevIndex=" + self.prev_index())
            if r.random() < 0.1:
                q.append(r.choice(["dir=true", "recursive=true"]))
        elif c < 0.80 and self.events:                  # a wait the history answers
            k, idx = r.choice(self.events[-20:])
            if r.random() < 0.5:
                method, key = "GET", self.p + k
            else:                                       # a parent dir, recursive
                method, key = "GET", self.p + k.rsplit("/", 1)[0]
                q.append("recursive=true")
            q += ["wait=true", "waitIndex={@%d}" % idx]
        else:                                           # get
            method, key = "GET", self.key() if r.random() < 0.7 else self.p
            if r.random() < 0.5:
                q.append("recursive=true")
            if r.random() < 0.5:
                q.append("sorted=true")
            if r.random() < 0.1:
                q.append("quorum=true")
        st = {"kind": "req", "method": method, "path": key, "q": "&".join(q) or None,
              "f": "&".join(f) if method in ("PUT", "POST") else None,
              "body": None, "headers": None, "note": ""}
        return st


def same(a, b, key=None):
    """a == b, except that a "ttl" may differ by one rounding step (5 s): the
    two servers take each request a few ms apart, which can put a ttl just
    on either side of the normaliser's rounding boundary."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], k) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if key == "ttl" and isinstance(a, int) and isinstance(b, int):
        return abs(a - b) <= 5
    return a == b


def wait_expired(st, servers, limit=8.0):
    """After a write with ttl=1: waits (bounded) until both servers have
    expired the key, so that the next steps see the same state whenever
    each server's expiry sweep ran. These polls are not compared."""
    deadline = time.time() + limit
    for srv in servers:
        while time.time() < deadline:
            r = td.do_req(srv, {"method": "GET", "path": st["path"], "q": None, "f": None},
                          srv.base, timeout=2.0)
            if getattr(r, "status", 0) == 404:
                break
            time.sleep(0.2)


def rebase(srv):
    """Rebases at the start of a sequence: each server's index now."""
    srv.base = srv.request("GET", "/v2/keys/", timeout=5.0).index


def identify(srv):
    mem = srv.request("GET", "/v2/members").json or {}
    try:
        srv.member_id = mem["members"][0]["id"]
    except Exception:
        srv.member_id = None


def run_sequence(seed, ref, other, steps, verbose, kind):
    """Runs one sequence; returns (steps done, None) or (steps, report)."""
    prefix = "/sf%d" % seed
    g = Gen(seed, prefix)
    rebase(ref)
    rebase(other)
    done = []
    for i in range(steps):
        st = g.step()
        # a wait the history cannot answer times out on both: keep it short
        wt = 1.0 if "wait=true" in (st["q"] or "") else 6.0
        ra = td.do_req(ref, st, ref.base, timeout=wt)
        rb = td.do_req(other, st, other.base, timeout=wt)
        g.learn(ra, ref.base)
        a, araw = td.norm(ref, st, ra)
        b, braw = td.norm(other, st, rb)
        done.append(td.describe(st))
        if verbose:
            print("  %3d %s -> %s" % (i, td.describe(st), json.dumps(a, sort_keys=True)[:200]))
        if same(a, b) and st.get("expire") and getattr(ra, "status", 0) in (200, 201):
            wait_expired(st, (ref, other))
        if not same(a, b):
            lines = ["FAIL seed %d step %d: %s" % (seed, i, td.describe(st)),
                     "  sequence (prefix %s, {@N} = index at the start + N):" % prefix]
            lines += ["    %3d %s" % (j, d) for j, d in enumerate(done)]
            diff = difflib.unified_diff(td.pretty(a), td.pretty(b), "etcd", kind, n=2,
                                        lineterm="")
            lines += ["    " + x for x in list(diff)[2:]]
            lines.append("  reproduce: CETCD_STORE_FUZZ_SEED=%d CETCD_STORE_FUZZ_STEPS=%d "
                         "CETCD_STORE_FUZZ_SECONDS=0 python3 tests/e2e/test_store_fuzz.py -v"
                         % (seed, steps))
            return i + 1, "\n".join(lines)
    # nothing of this sequence may expire during a later one (a long run
    # outlives the TTLs, and each server's sweep runs at its own time)
    for srv in (ref, other):
        srv.request("DELETE", ct.kpath(prefix), {"recursive": "true"}, timeout=5.0)
    return steps, None


def main():
    verbose = "-v" in sys.argv
    kind = ct.target()
    if not ct.etcd_bin():
        ct.skip("etcd not installed: nothing to compare against")
    if kind == "cetcd" and not ct.cetcd_bin():
        ct.skip("cetcd binary not found")
    secs = float(os.environ.get("CETCD_STORE_FUZZ_SECONDS", "20"))
    steps = int(os.environ.get("CETCD_STORE_FUZZ_STEPS", "60"))
    seed0 = int(os.environ.get("CETCD_STORE_FUZZ_SEED") or int(time.time() * 1000) % 10**9)
    print("# store fuzz: etcd vs %s, seed %d, %.0f s, %d steps per sequence" %
          (kind, seed0, secs, steps))
    sys.stdout.flush()
    ref = ct.Server("etcd", name="sfuzz")
    other = ct.Server(kind, name="sfuzz")
    for s in (ref, other):
        identify(s)
        # a fresh cetcd is at index 0, which the normaliser cannot rebase
        s.request("PUT", "/v2/keys/sfuzz-start", form={"value": "1"}, timeout=5.0)
    t0 = time.time()
    nseq = nreq = 0
    report = None
    while report is None:                   # at least one sequence
        n, report = run_sequence(seed0 + nseq, ref, other, steps, verbose, kind)
        nseq += 1
        nreq += n
        if kind == "cetcd" and not other.alive():
            report = "FAIL cetcd died (exit %s) in seed %d:\n%s" % (
                other.proc.returncode, seed0 + nseq - 1, other.log_tail(15))
        if time.time() - t0 >= secs:
            break
    if report:
        print(report)
    print("# %d sequences, %d operations per server, %.1f s, seeds %d..%d" %
          (nseq, nreq, time.time() - t0, seed0, seed0 + nseq - 1))
    print("%d passed, %d failed" % (nseq - (1 if report else 0), 1 if report else 0))
    sys.stdout.flush()
    ref.cleanup()
    other.cleanup()
    sys.exit(1 if report else 0)


if __name__ == "__main__":
    main()
