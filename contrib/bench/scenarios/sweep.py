# scenarios/sweep.py - the scale sweep (issue 18): how cost grows with the number
# of keys, of watchers and of members, cetcd and etcd side by side.
#
# Not in the default sets; run by name (run.py --scenarios 'sweep-*' ...), then draw
# the plots with contrib/bench/sweep_plot.py (it reads the tables run.py wrote).
#
# sweep-keys-10k, sweep-keys-100k, sweep-keys-1m (N keys of 100 B) and
# sweep-keys-10k-64k (10,000 keys of 64 KiB); a fresh server per round, both sides
# run with --snapshot-count 10000 (cetcd's default; etcd's is 100000), and cetcd with
# --v2-quota-bytes 0 for the 64 KiB keys (640 MiB: over its default 512 MiB quota):
#   load        N PUTs of distinct keys (the bounded asyncio loader, 64 keep-alive
#               connections): "load s", "load errors" (non-2xx: at most 0.1 %)
#   RSS         VmRSS after the load, once it stopped moving
#   GET         wrk (getn.lua, 64 connections, ctx.duration s): a random key of the N
#               per request: p50, p99
#   snapshot    PUTs of 100-byte values over keys that exist (a random one of the N;
#               for 64 KiB keys a ring of 1,000 small keys beside them) from 16
#               keep-alive connections, each request timed, until SNAPS snapshots
#               were taken (or SNAP_MAX_S seconds / SNAP_MAX_N requests). The
#               server's log says when one is in progress: etcd's lines
#                 etcdserver: start to snapshot (applied: A, lastsnap: B)
#                 etcdserver: saved snapshot at index A
#               which cetcd writes too (src/member/snapshot.c: the first when the
#               snapshot is due, before the fork, the second when the child's file
#               is in place). A PUT overlaps a snapshot if it was in flight at any
#               moment between the two lines. Figures: PUT p99 of the PUTs that did
#               not overlap one, of those that did, and "snap stall x" = during /
#               without (the target: at most 2), snapshots seen.
#   restart     SIGTERM, data dir size (allocated blocks), start again with the same
#               flags and data dir: seconds from exec to the first GET that answers
#               a loaded key's value; RSS after the restart.
#
# sweep-watch-1k, sweep-watch-10k, sweep-watch-19.8k: watch.py's watch10k scenario
#   (whatever client it uses) with N watchers: fan-out median and last, KiB per
#   watcher. 19,800 is what a process can hold under this machine's hard
#   RLIMIT_NOFILE of 20,000; for it cetcd gets --max-client-conns 19950 (its
#   default cap is the descriptor limit minus 1,024).
#
# sweep-members-1, -3, -5: cluster.py's cluster_put64_leader and cluster_put64_all
#   on an N-member cluster (cluster.py's Cluster): PUT req/s, p50, p99 to the
#   leader and spread over the members.
#
# --scale scales the key and watcher counts (not the member counts), for a try:
#   contrib/bench/run.py --cetcd bopt/cetcd --scenarios 'sweep-*' --scale 0.05 \
#       --rounds 1 --duration 2 --budget 600
#
# Every load is bounded in count and time; the servers are run.py's (benchlib /
# procs): ours, killed at the end, temp dirs removed.

import asyncio
import gc
import os
import random
import re
import time

import benchlib
from benchlib import (BenchError, Flavor, HOST, Metric, du_kib, load_requests, log,
                      put_request, rss_kib, run_wrk, scenario)
import procs  # noqa: E402  (on sys.path through benchlib)
from scenarios.durable import first_get_seconds

SWEEP = ("sweep",)  # a mode of its own: never in quick/full
KEY_PREFIX = "/v2/keys/bench/sweep/k"
SNAP_COUNT = 10000
LOAD_CONNS = 64
GET_CONNS = 64
SNAP_CONNS = 16
SNAPS = 2            # snapshots to see in the snapshot phase
SNAP_MIN_S = 3.0     # the snapshot phase runs at least this long
SNAP_MAX_S = 90.0    # and at most this long
SNAP_MAX_N = 400000  # or this many PUTs
RING = 1000          # small keys overwritten in the 64 KiB sweep


# ---------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------

def _key(i):
    return KEY_PREFIX + "%07d" % i


def _name(i):
    """The key's name as a reply's JSON spells it."""
    return ('"key":"%s"' % _key(i)[len("/v2/keys"):]).encode()


def _starter(no_quota):
    def start(ctx, flavor, tag):
        extra = ["--snapshot-count", str(SNAP_COUNT)]
        if no_quota and os.path.basename(flavor.binary) != "etcd":
            # 10,000 keys of 64 KiB are more than cetcd's default v2 store quota
            # (--v2-quota-bytes 512 MiB, cetcd's own flag; etcd has no v2 quota)
            extra += ["--v2-quota-bytes", "0"]
        f = Flavor(flavor.label, flavor.binary, flavor.extra_args + extra)
        return benchlib.Server(f, ctx.tmp_root, tag).start()
    return start


def _settle_rss(pid, step=0.5, bound=10.0):
    prev = rss_kib(pid)
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        time.sleep(step)
        cur = rss_kib(pid)
        if abs(cur - prev) < 256:
            return cur
        prev = cur
    return prev


def _loader(n, value_len):
    def setup(ctx, srv):
        k = ctx.scale_count(n)
        value = b"v" * value_len
        reqs = (put_request(srv.port, _key(i), value) for i in range(k))
        # bounded: a generous floor plus 1.5 ms per key (etcd loads about 20k/s)
        st = load_requests(srv.port, reqs, connections=LOAD_CONNS,
                           timeout=120.0 + k * 0.0015 * max(1, value_len // 4096))
        # a few refused writes (etcd times some out under its snapshots) are a
        # figure, not a failure; more than 0.1 % is
        if st["ok"] + st["bad"] != k or st["bad"] > k // 1000:
            raise BenchError("preload: %d of %d PUTs acknowledged" % (st["ok"], k))
        srv.sweep_load_errors = st["bad"]
        srv.sweep_n = k
        srv.sweep_value = value
        srv.sweep_load_s = st["seconds"]
        log("%s loaded %d keys of %d B in %.1f s" % (srv.tag, k, value_len, st["seconds"]))
    return setup


# --- the server's log: when is a snapshot in progress? -----------------------

_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{6}) I \| etcdserver: "
                   r"(start to snapshot|saved snapshot at index)")


class SnapLog:
    """Reads the server's log from where it ends now; windows() gives the
    (start, end) wall-clock seconds of each snapshot (end None: in progress)."""

    def __init__(self, path):
        self.path = path
        self.off = os.path.getsize(path)
        self.wins = []
        self.part = b""

    def poll(self):
        with open(self.path, "rb") as f:
            f.seek(self.off)
            data = f.read()
        self.off += len(data)
        data = self.part + data
        lines = data.split(b"\n")
        self.part = lines.pop()
        for raw in lines:
            m = _LINE.match(raw.decode("utf-8", "replace"))
            if not m:
                continue
            t = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + \
                int(m.group(2)) / 1e6
            if m.group(3).startswith("start"):
                self.wins.append([t, None])
            elif self.wins and self.wins[-1][1] is None:
                self.wins[-1][1] = t
        return self.done()

    def done(self):
        return sum(1 for w in self.wins if w[1] is not None)


async def _timed_puts(port, make_req, conns, snaplog, stats):
    """PUTs from `conns` connections until SNAPS snapshots finished (at least
    SNAP_MIN_S), SNAP_MAX_S or SNAP_MAX_N. stats["lat"]: (t_send, t_done) per
    acknowledged PUT, wall clock."""
    stop = asyncio.Event()
    lat = stats["lat"]
    sent = [0]

    async def worker():
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while not stop.is_set() and sent[0] < SNAP_MAX_N:
                sent[0] += 1
                t0 = time.time()
                writer.write(make_req())
                status, close = await benchlib._read_response(reader)
                t1 = time.time()
                if 200 <= status < 300:
                    lat.append((t0, t1))
                else:
                    stats["bad"] += 1
                if close:
                    raise BenchError("server closed a keep-alive connection")
        finally:
            writer.close()

    async def monitor():
        t_start = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.2)
            el = time.monotonic() - t_start
            if (snaplog.poll() >= SNAPS and el >= SNAP_MIN_S) or el >= SNAP_MAX_S \
                    or sent[0] >= SNAP_MAX_N:
                stop.set()

    ws = [asyncio.ensure_future(worker()) for _ in range(conns)]
    mon = asyncio.ensure_future(monitor())
    try:
        await asyncio.wait_for(asyncio.gather(*ws), SNAP_MAX_S + 30.0)
    finally:
        stop.set()
        await mon


def _p99(xs):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))]


def _snapshot_phase(srv, n, value_len):
    if value_len > 1000:  # the 64 KiB sweep: overwrite a ring of small keys
        keys = [KEY_PREFIX + "ring%04d" % i for i in range(RING)]
    else:
        keys = None
    value = b"s" * 100

    def make_req():
        k = random.choice(keys) if keys else _key(random.randrange(n))
        return put_request(srv.port, k, value)

    snaplog = SnapLog(srv.log_path)
    stats = {"lat": [], "bad": 0}
    gc.disable()
    t0 = time.time()
    try:
        asyncio.run(_timed_puts(srv.port, make_req, SNAP_CONNS, snaplog, stats))
    except asyncio.TimeoutError:
        raise BenchError("snapshot phase did not finish")
    finally:
        gc.enable()
    t1 = time.time()
    time.sleep(0.3)
    snaplog.poll()
    wins = [(s, e if e is not None else t1) for s, e in snaplog.wins if s <= t1]
    during, without = [], []
    for a, b in stats["lat"]:
        (during if any(a < e and b > s for s, e in wins) else without).append(b - a)
    p_without, p_during = _p99(without), _p99(during)
    log("%s snapshot phase: %d PUTs in %.1f s, %d snapshots (%s s), %d PUTs during one"
        % (srv.tag, len(stats["lat"]), t1 - t0, len(wins),
           ", ".join("%.3f" % (e - s) for s, e in wins), len(during)))
    m = {"PUT/s snap phase": len(stats["lat"]) / (t1 - t0), "snapshots": len(wins),
         "PUTs during snap": len(during), "errors": stats["bad"]}
    if p_without is not None:
        m["PUT p99 ms"] = p_without * 1e3
    if p_during is not None:
        m["PUT p99 snap ms"] = p_during * 1e3
        m["snap ms"] = sorted(e - s for s, e in wins)[len(wins) // 2] * 1e3
    if p_during is not None and p_without:
        m["snap stall x"] = p_during / p_without
    return m


KEY_METRICS = [
    Metric("keys"), Metric("load s", fmt="{:.1f}"), Metric("load errors", agg="sum"),
    Metric("RSS MiB", fmt="{:.1f}"),
    Metric("data dir MiB", fmt="{:.1f}"),
    Metric("GET p50 ms", fmt="{:.2f}"), Metric("GET p99 ms", fmt="{:.2f}"),
    Metric("GET req/s"),
    Metric("PUT p99 ms", fmt="{:.2f}"), Metric("PUT p99 snap ms", fmt="{:.2f}"),
    Metric("snap stall x", fmt="{:.2f}"), Metric("snap ms", fmt="{:.0f}"),
    Metric("snapshots", agg="sum"), Metric("PUTs during snap"),
    Metric("PUT/s snap phase"),
    Metric("restart s", fmt="{:.3f}"), Metric("RSS restarted MiB", fmt="{:.1f}"),
    Metric("errors", agg="sum"),
]


def _keys_round(ctx, srv, value_len):
    n = srv.sweep_n
    m = {"keys": n, "load s": srv.sweep_load_s, "load errors": srv.sweep_load_errors}
    m["RSS MiB"] = _settle_rss(srv.pid) / 1024.0
    res = run_wrk(ctx, srv.url, "getn.lua", GET_CONNS, ctx.wrk_threads, ctx.duration,
                  script_args=(KEY_PREFIX, n))
    m["GET p50 ms"] = res["p50_us"] / 1e3
    m["GET p99 ms"] = res["p99_us"] / 1e3
    m["GET req/s"] = res["rps"]
    errors = res["non2xx"] + res["socket_errors"]
    snap = _snapshot_phase(srv, n, value_len)
    errors += snap.pop("errors")
    m.update(snap)
    time.sleep(0.5)
    procs.Proc.stop(srv, timeout=60.0)  # graceful; the data dir stays
    m["data dir MiB"] = du_kib(srv.data_dir) / 1024.0
    probe = _key(n - 1)
    t0 = time.monotonic()
    srv.start()  # same argv: same ports, same data dir
    # the snapshot phase overwrote some values: a loaded key answers with its name
    m["restart s"] = first_get_seconds(srv, probe, _name(n - 1), t0, timeout=90.0)
    m["RSS restarted MiB"] = _settle_rss(srv.pid) / 1024.0
    bad = 0
    for i in range(0, n, max(1, n // 100)):  # every key is back (100 spread)
        st, body = benchlib.http_request(srv.port, "GET", _key(i), timeout=5.0)
        if st != 200 or _name(i) not in body:
            bad += 1
    m["errors"] = errors + bad
    return m


def _keys_scenario(name, n, value_len, order, what):
    @scenario(name, KEY_METRICS, modes=SWEEP, order=order, fresh_per_round=True,
              start=_starter(n * value_len > (256 << 20)), setup=_loader(n, value_len),
              help="%s: RSS, data dir, GET p50/p99, PUT p99 with/without a snapshot "
                   "in progress, restart to first GET" % what)
    def run(ctx, srv):
        return _keys_round(ctx, srv, value_len)
    return run


_keys_scenario("sweep-keys-10k", 10000, 100, 200, "10,000 keys of 100 B")
_keys_scenario("sweep-keys-100k", 100000, 100, 201, "100,000 keys of 100 B")
_keys_scenario("sweep-keys-1m", 1000000, 100, 202, "1,000,000 keys of 100 B")
_keys_scenario("sweep-keys-10k-64k", 10000, 65536, 203, "10,000 keys of 64 KiB")


# ---------------------------------------------------------------------------
# watchers: watch.py's watch10k with N watchers
# ---------------------------------------------------------------------------

class _CountCtx:
    """run.py's ctx, but scale_count() gives N (times --scale) and the mode is
    full, whatever count the wrapped scenario asks for."""

    def __init__(self, ctx, n):
        object.__setattr__(self, "_ctx", ctx)
        object.__setattr__(self, "_n", n)

    def __getattr__(self, k):
        if k == "mode":
            return "full"
        return getattr(self._ctx, k)

    def __setattr__(self, k, v):
        setattr(self._ctx, k, v)

    def scale_count(self, n):
        return max(1, int(self._n * self._ctx.scale))


WATCH_METRICS = [Metric("watchers"), Metric("fan-out p50 ms", fmt="{:.1f}"),
                 Metric("fan-out last ms", fmt="{:.1f}"), Metric("KiB/watcher", fmt="{:.2f}"),
                 Metric("RSS extra MiB", fmt="{:.1f}"), Metric("errors", agg="sum")]


def _start_conns(ctx, flavor, tag):
    """cetcd refuses client connections past its descriptor limit minus 1,024
    (--max-client-conns 0, cetcd's own flag): 19,800 watchers need more under
    a 20,000 limit. etcd has no such cap."""
    extra = []
    if os.path.basename(flavor.binary) != "etcd":
        extra = ["--max-client-conns", "19950"]
    f = Flavor(flavor.label, flavor.binary, flavor.extra_args + extra)
    return benchlib.Server(f, ctx.tmp_root, tag).start()


def _watch_scenario(name, n, order):
    @scenario(name, WATCH_METRICS, modes=SWEEP, order=order, fresh_per_round=True,
              start=_start_conns if n > 15000 else None,
              help="watch10k with %d watchers: fan-out median and last, KiB/watcher" % n)
    def run(ctx, srv):
        failed = None
        try:
            res = benchlib.SCENARIOS["watch10k"].func(_CountCtx(ctx, n), srv)
        except (BenchError, OSError) as e:
            failed = "%s: %s" % (type(e).__name__, e)
        if failed is not None:
            # raised outside the except block: the failed round's frames (and the
            # thousands of sockets they hold) are not kept alive by a traceback
            gc.collect()
            raise BenchError(failed)
        return {mt.name: res[mt.name] for mt in WATCH_METRICS if mt.name in res}
    return run


_watch_scenario("sweep-watch-1k", 1000, 210)
_watch_scenario("sweep-watch-10k", 10000, 211)
_watch_scenario("sweep-watch-19.8k", 19800, 212)


# ---------------------------------------------------------------------------
# members: cluster.py's PUT scenarios on 1, 3, 5 members
# ---------------------------------------------------------------------------

MEMBER_METRICS = [Metric("leader req/s"), Metric("leader p50 ms", fmt="{:.2f}"),
                  Metric("leader p99 ms", fmt="{:.2f}"), Metric("spread req/s"),
                  Metric("spread p50 ms", fmt="{:.2f}"), Metric("spread p99 ms", fmt="{:.2f}"),
                  Metric("errors", agg="sum")]


def _members_scenario(name, k, order):
    def start(ctx, flavor, tag):
        from scenarios import cluster
        return cluster.Cluster(flavor, ctx.tmp_root, tag, n=k).start()

    @scenario(name, MEMBER_METRICS, modes=SWEEP, order=order, start=start,
              help="%d-member cluster: put64's load to the leader, then spread over "
                   "the members (cluster.py's scenarios)" % k)
    def run(ctx, srv):
        lead = benchlib.SCENARIOS["cluster_put64_leader"].func(ctx, srv)
        spread = benchlib.SCENARIOS["cluster_put64_all"].func(ctx, srv)
        m = {"errors": lead.get("errors", 0) + spread.get("errors", 0)}
        for side, res in (("leader", lead), ("spread", spread)):
            for f in ("req/s", "p50 ms", "p99 ms"):
                if f in res:
                    m["%s %s" % (side, f)] = res[f]
        return m
    return run


_members_scenario("sweep-members-1", 1, 220)
_members_scenario("sweep-members-3", 3, 221)
_members_scenario("sweep-members-5", 5, 222)
