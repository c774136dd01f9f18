# scenarios/cluster.py - 3-member clusters on 127.0.0.1: cluster_get64_leader,
# cluster_get64_all, cluster_put64_leader, cluster_put64_all, failover.
#
# Each side (cetcd, etcd) runs as a 3-member cluster bootstrapped statically with
# etcd's flags (the very same flags for both sides, plus the side's extra flags):
#
#   --name m<i> --data-dir <tmp>/m<i> --listen-client-urls C --advertise-client-urls C
#   --listen-peer-urls P --initial-advertise-peer-urls P
#   --initial-cluster m0=P0,m1=P1,m2=P2 --initial-cluster-state new
#   --initial-cluster-token <unique> --heartbeat-interval 100 --election-timeout 1000
#
# cluster_get64_leader  get64's load (wrk -t2 -c64, get.lua: GET of one preloaded 16-byte
#                       key, no Lua per request) sent to the member that is leader when
#                       the round starts.
# cluster_get64_all     the same 64 connections spread over the 3 members like
#                       cluster_put64_all (3 wrk -t1, 22/21/21); GETs are answered
#                       locally by every member (etcd v2 without quorum=true).
#                       Both report "CPU us/GET": utime+stime of the 3 members during
#                       the run per GET (what a read costs the cluster, heartbeats
#                       included).
# cluster_put64_leader  put64's load (wrk -t2 -c64, put.lua, distinct keys) sent to the
#                       member that is leader when the round starts.
# cluster_put64_all     the same 64 connections spread over the 3 members: three wrk
#                       processes in parallel (1 thread, 22/21/21 connections, one per
#                       member, distinct key prefixes); req/s is the sum, p50 the median
#                       of the three wrk p50s, p99 the largest of the three p99s
#                       (the log line gives each member's req/s, p50 and p99: the
#                       followers' clients pay the forwarding).
#                       Both also report "CPU us/PUT" (utime+stime of the 3 members,
#                       reaped children included, per acknowledged PUT) and "leader CPU
#                       %" (the leader's CPU time over the run; 100 = one core).
# failover              a Python client writes continuously (8 threads, a timeout of
#                       200 ms +-25 % per request, on any failure it retries at once on
#                       the other surviving member) to the two followers; the leader gets SIGKILL;
#                       the figure is the time from the kill to the first 2xx of a PUT
#                       *sent after* the kill. The killed member is restarted (same data
#                       dir) and the cluster waited for (3 members up, one agreed leader,
#                       equal X-Etcd-Index) before the next kill. 10 kills per side in
#                       all (spread over the rounds, A B A B); the median/min/max are
#                       over all kills of a side and appear with the last round.
#
# The PUT scenarios and failover are full mode only, the GET ones run only when named
# (--scenarios; they keep make bench's full set as it was). A cluster per side per
# scenario. A quick look:
#   run.py --quick --scenarios cluster_put64_leader,cluster_put64_all
#   run.py --quick --scenarios cluster_get64_leader,cluster_get64_all
#   run.py --quick --scenarios failover --scale 0.3     # 3 kills per side
#
# The processes are tests/lib/procs.py's (procs.Cluster): every one started here is
# killed (SIGTERM, then SIGKILL; PR_SET_PDEATHSIG if the driver dies) and the
# cluster's temp dir removed. Everything listens on 127.0.0.1.

import http.client
import os
import random
import shutil
import statistics
import threading
import time

from benchlib import (HOST, BenchError, Metric, http_request, log, run_wrk,  # noqa: E402
                      scenario, wait_put_acked)
import procs  # noqa: E402  (on sys.path through benchlib)

HEARTBEAT_MS = 100
ELECTION_MS = 1000
CLUSTER_SIZE = 3
PUT_VALUE_LEN = 32

FAILOVER_KILLS = 10       # per side, over all rounds
FAILOVER_WRITERS = 8      # client threads
FAILOVER_TIMEOUT = 0.2    # seconds per request
FAILOVER_CAP = 15.0       # seconds: a kill with no ack by then counts as "no ack"
STEADY_S = 0.5            # seconds of acknowledged writes before each kill


# ---------------------------------------------------------------------------
# A 3-member cluster of one flavor
# ---------------------------------------------------------------------------

class Member(procs.Member):
    """procs.Member with its index in the cluster."""

    def __init__(self, binary, dir, name):
        procs.Member.__init__(self, binary, dir, name)
        self.idx = int(name[1:])

class Cluster(procs.Cluster):
    """3 members of `flavor`; what run.py expects of a server (.url, .port, .pid,
    .stop, .wait_ready, .alive, .log_tail)."""

    def __init__(self, flavor, tmp_root, tag, n=CLUSTER_SIZE):
        token = "bench-%s-%d-%d" % (tag, os.getpid(), int(time.time() * 1000))
        procs.Cluster.__init__(self, flavor.binary, procs.temp_dir(tag + "-", tmp_root), n,
                               HEARTBEAT_MS, ELECTION_MS, flavor.extra_args, token,
                               member_class=Member)
        self.flavor = flavor
        self.tag = tag
        self.url = self.members[0].url
        self.port = self.members[0].port
        self.calls = 0          # scenario calls (warm-up included)
        self.kills = []         # failover: ms per kill (None: no ack)

    @property
    def pid(self):
        return self.members[0].pid

    def start(self):
        self.spawn_all()
        return self

    def alive(self):
        return all(m.alive() for m in self.members)

    def log_tail(self, n=8):
        return self.log_tails(n)

    def stop(self):
        self.stop_all()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- readiness ----------------------------------------------------------
    def _check_procs(self):
        for m in self.members:
            if not m.alive():
                raise BenchError("%s %s exited with %s; log tail:\n%s" % (
                    self.tag, m.name, m.returncode, m.log_tail(15)))

    def wait_ready(self, timeout=30.0):
        """Every member listening (our process), a PUT acknowledged through every
        member, one agreed leader, equal indexes on all members."""
        deadline = time.monotonic() + timeout
        for m in self.members:
            wait_put_acked(m, self.tag, "/v2/keys/bench/ready/%s" % m.name,
                           max(1.0, deadline - time.monotonic()))
        self.wait_settled(max(1.0, deadline - time.monotonic()))
        return self

    def wait_settled(self, timeout=30.0, settle=0.2):
        """Every member up, one agreed leader (procs.Cluster.leader) and equal
        X-Etcd-Index on all members (stable for `settle` s). Returns the
        leader."""
        deadline = time.monotonic() + timeout
        self._check_procs()
        try:
            self.wait_converged(timeout, self.members, settle)
            return self.wait_leader(max(1.0, deadline - time.monotonic()))
        except procs.ProcError as e:
            raise BenchError("%s: %s; logs:\n%s" % (self.tag, e, self.log_tail()))


def _start(ctx, flavor, tag):
    return Cluster(flavor, ctx.tmp_root, tag).start()


# ---------------------------------------------------------------------------
# cluster_put64_leader, cluster_put64_all
# ---------------------------------------------------------------------------

THROUGHPUT = [Metric("req/s"), Metric("p50 ms", fmt="{:.2f}"), Metric("p99 ms", fmt="{:.2f}"),
              Metric("errors", agg="sum"), Metric("CPU us/PUT"), Metric("leader CPU %")]

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process plus those of its reaped children (a cetcd
    snapshot child), in seconds; 0 if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / float(CLK_TCK)
    except (OSError, ValueError, IndexError):
        return 0.0


def cpu_snapshot(srv):
    return [cpu_seconds(m.pid) for m in srv.members]


def cpu_metrics(srv, before, seconds, requests, leader):
    """CPU us/PUT: CPU time of all three members during the run per acknowledged
    PUT (what one write costs the cluster); leader CPU %: the leader's CPU time
    over the run's wall time (100 = one core busy)."""
    after = cpu_snapshot(srv)
    used = [a - b for a, b in zip(after, before)]
    return {"CPU us/PUT": sum(used) * 1e6 / requests if requests else 0.0,
            "leader CPU %": used[leader.idx] * 100.0 / seconds if seconds else 0.0}


def _put_prefix(ctx):
    ctx.seq += 1
    return "/v2/keys/bench/put/r%d" % ctx.seq


def _wrk_one(ctx, member, script, conns, threads, script_args, out, i, path=""):
    try:
        out[i] = run_wrk(ctx, member.url + path, script, conns, threads, ctx.duration,
                         script_args=script_args)
    except BenchError as e:
        out[i] = e


def _spread(ctx, srv, script, args_of, path="", conns=64):
    """`conns` connections spread over the members: one wrk -t1 per member in
    parallel (22/21/21 for 64). args_of(member) -> the script's arguments. Returns
    (results per member, CPU seconds of each member before the run)."""
    n = len(srv.members)
    split = [conns // n + (1 if i < conns % n else 0) for i in range(n)]
    out = [None] * n
    ths = [threading.Thread(target=_wrk_one,
                            args=(ctx, m, script, split[i], 1, args_of(m), out, i, path))
           for i, m in enumerate(srv.members)]
    before = cpu_snapshot(srv)
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    for r in out:
        if isinstance(r, BenchError) or r is None:
            raise r or BenchError("wrk thread gave no result")
    return out, before


def _spread_metrics(ctx, srv, out, before, lm, what, errors_of):
    per = ["%s%s=%.0f (p50 %.2f p99 %.2f ms)" % (m.name, "(L)" if m is lm else "", r["rps"],
                                                 r["p50_us"] / 1000.0, r["p99_us"] / 1000.0)
           for m, r in zip(srv.members, out)]
    log("%s %s per member: %s" % (what, srv.flavor.label, " ".join(per)))
    res = {"req/s": sum(r["rps"] for r in out),
           "p50 ms": statistics.median(r["p50_us"] for r in out) / 1000.0,
           "p99 ms": max(r["p99_us"] for r in out) / 1000.0,
           "errors": sum(errors_of(r) for r in out)}
    res.update(cpu_metrics(srv, before, max(r["duration_us"] for r in out) / 1e6,
                           sum(r["requests"] for r in out), lm))
    return res


@scenario("cluster_put64_leader", THROUGHPUT, modes=("full",), order=90, start=_start,
          help="3-member cluster: put64's load (wrk -t2 -c64) sent to the leader")
def cluster_put64_leader(ctx, srv):
    srv.calls += 1
    lm = srv.wait_settled(15.0)
    out = [None]
    before = cpu_snapshot(srv)
    _wrk_one(ctx, lm, "put.lua", 64, ctx.wrk_threads, (_put_prefix(ctx), PUT_VALUE_LEN),
             out, 0)
    if isinstance(out[0], BenchError):
        raise out[0]
    res = out[0]
    m = {"req/s": res["rps"], "p50 ms": res["p50_us"] / 1000.0,
         "p99 ms": res["p99_us"] / 1000.0,
         "errors": res["non2xx"] + res["socket_errors"]}
    m.update(cpu_metrics(srv, before, res["duration_us"] / 1e6, res["requests"], lm))
    return m


@scenario("cluster_put64_all", THROUGHPUT, modes=("full",), order=91, start=_start,
          help="3-member cluster: 64 PUT connections spread over all members "
               "(3 wrk -t1 in parallel, 22/21/21 connections)")
def cluster_put64_all(ctx, srv):
    srv.calls += 1
    lm = srv.wait_settled(15.0)
    base = _put_prefix(ctx)
    out, before = _spread(ctx, srv, "put.lua",
                          lambda m: ("%s/%s" % (base, m.name), PUT_VALUE_LEN))
    return _spread_metrics(ctx, srv, out, before, lm, "cluster_put64_all",
                           lambda r: r["non2xx"] + r["socket_errors"])


ON_DEMAND = ("on-demand",)  # not in the default sets (make bench): run by name
GET_PATH = "/v2/keys/bench/get/k"
GET_VALUE = "g" * 16
GET_METRICS = [Metric("req/s"), Metric("p50 ms", fmt="{:.2f}"), Metric("p99 ms", fmt="{:.2f}"),
               Metric("errors", agg="sum"), Metric("CPU us/GET", fmt="{:.1f}")]


def _preload_get(ctx, srv):
    lm = srv.wait_settled(15.0)
    st, body = http_request(lm.port, "PUT", GET_PATH, body="value=" + GET_VALUE)
    if st not in (200, 201):
        raise BenchError("%s: preload PUT %s: HTTP %d %r" % (srv.tag, GET_PATH, st, body[:200]))
    srv.wait_settled(15.0)
    for m in srv.members:
        st, body = http_request(m.port, "GET", GET_PATH)
        if st != 200 or GET_VALUE.encode() not in body:
            raise BenchError("%s %s: GET %s: HTTP %d %r" % (srv.tag, m.name, GET_PATH, st,
                                                          body[:200]))


@scenario("cluster_get64_leader", GET_METRICS, modes=ON_DEMAND, order=88, start=_start,
          setup=_preload_get,
          help="3-member cluster: get64's load (wrk -t2 -c64, one 16-byte key) sent to "
               "the leader")
def cluster_get64_leader(ctx, srv):
    srv.calls += 1
    lm = srv.wait_settled(15.0)
    out = [None]
    before = cpu_snapshot(srv)
    _wrk_one(ctx, lm, "get.lua", 64, ctx.wrk_threads, (), out, 0, path=GET_PATH)
    if isinstance(out[0], BenchError):
        raise out[0]
    r = out[0]
    res = {"req/s": r["rps"], "p50 ms": r["p50_us"] / 1000.0, "p99 ms": r["p99_us"] / 1000.0,
           "errors": r["status"] + r["socket_errors"]}
    res["CPU us/GET"] = cpu_metrics(srv, before, r["duration_us"] / 1e6, r["requests"],
                                    lm)["CPU us/PUT"]
    return res


@scenario("cluster_get64_all", GET_METRICS, modes=ON_DEMAND, order=89, start=_start,
          setup=_preload_get,
          help="3-member cluster: 64 GET connections (one 16-byte key, get.lua) spread "
               "over all members (3 wrk -t1 in parallel, 22/21/21 connections)")
def cluster_get64_all(ctx, srv):
    srv.calls += 1
    lm = srv.wait_settled(15.0)
    out, before = _spread(ctx, srv, "get.lua", lambda m: (), path=GET_PATH)
    res = _spread_metrics(ctx, srv, out, before, lm, "cluster_get64_all",
                          lambda r: r["status"] + r["socket_errors"])
    res["CPU us/GET"] = res.pop("CPU us/PUT")
    del res["leader CPU %"]
    return res


# ---------------------------------------------------------------------------
# failover
# ---------------------------------------------------------------------------

class Writer:
    """FAILOVER_WRITERS threads PUT continuously to `targets` (members), each
    request with a FAILOVER_TIMEOUT timeout; on any failure (timeout, refused,
    non-2xx) the thread moves to the next target at once. Records the first 2xx of a
    request sent at or after mark()."""

    def __init__(self, targets, tag):
        self.targets = list(targets)
        self.tag = tag
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.mark_t = None
        self.first = None       # (t_ack, member name) of the first ack after mark
        self.ok = 0
        self.fail = 0
        self.fail_kinds = {}
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(FAILOVER_WRITERS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def mark(self):
        with self.lock:
            self.mark_t = time.monotonic()
            self.first = None
            self.fail_kinds = {}
        return self.mark_t

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=5)

    def _run(self, i):
        ti = i % len(self.targets)
        rnd = random.Random(i)
        conn = None
        n = 0
        body = b"value=" + b"f" * PUT_VALUE_LEN
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        while not self.stop_ev.is_set():
            m = self.targets[ti]
            n += 1
            path = "/v2/keys/bench/failover/%s-w%d-%d" % (self.tag, i, n)
            # A timeout drawn around FAILOVER_TIMEOUT (+-25 %): requests stuck at the
            # kill all time out together, and with one fixed timeout the threads would
            # stay in lock step, so the first ack would only be seen in steps of it.
            tmo = FAILOVER_TIMEOUT * rnd.uniform(0.75, 1.25)
            t_send = time.monotonic()
            kind = None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, m.port, timeout=tmo)
                elif conn.sock is not None:
                    conn.sock.settimeout(tmo)
                conn.request("PUT", path, body=body, headers=hdrs)
                r = conn.getresponse()
                r.read()
                if 200 <= r.status < 300:
                    t_ack = time.monotonic()
                    with self.lock:
                        self.ok += 1
                        if (self.mark_t is not None and self.first is None
                                and t_send >= self.mark_t):
                            self.first = (t_ack, m.name)
                    continue
                kind = "HTTP %d" % r.status
            except (OSError, http.client.HTTPException) as e:
                kind = type(e).__name__
            with self.lock:
                self.fail += 1
                if self.mark_t is not None and self.first is None:
                    self.fail_kinds[kind] = self.fail_kinds.get(kind, 0) + 1
            if conn is not None:
                conn.close()
                conn = None
            ti = (ti + 1) % len(self.targets)
            if time.monotonic() - t_send < 0.002:
                time.sleep(0.001)  # a fast error: retry at once, but do not spin

    def wait_first(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.first is not None:
                    return self.first
            time.sleep(0.002)
        return None

    def wait_ok(self, count, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            want = self.ok + count
        while time.monotonic() < deadline:
            with self.lock:
                if self.ok >= want:
                    return True
            time.sleep(0.01)
        return False


def _one_kill(ctx, srv, k):
    """Kill the leader once; returns ms from the kill to the first ack (None: none
    within FAILOVER_CAP). Leaves the cluster with 3 members up and settled."""
    lm = srv.wait_settled(30.0)
    survivors = [m for m in srv.members if m is not lm]
    w = Writer(survivors, "%s-k%d" % (srv.flavor.label, k)).start()
    try:
        if not w.wait_ok(20, 10.0):
            raise BenchError("%s: writes through the followers not acknowledged before "
                             "the kill (ok %d, fail %d); logs:\n%s"
                             % (srv.tag, w.ok, w.fail, srv.log_tail()))
        time.sleep(STEADY_S)
        t_kill = w.mark()
        lm.kill()
        got = w.wait_first(FAILOVER_CAP)
        kinds = dict(w.fail_kinds)
    finally:
        w.stop()
    ms = None if got is None else (got[0] - t_kill) * 1000.0
    new = srv.leader()
    log("failover %-6s kill %d: leader %s killed, first ack %s via %s, new leader %s, "
        "failures meanwhile %s" % (
            srv.flavor.label, k, lm.name, "none" if ms is None else "%.0f ms" % ms,
            got[1] if got else "-", new.name if new else "?", kinds))
    lm.spawn()
    srv.wait_settled(30.0)
    return ms


@scenario("failover", [Metric("median ms"), Metric("min ms"), Metric("max ms"),
                       Metric("kills", agg="sum"), Metric("no ack", agg="sum")],
          modes=("full",), order=92, start=_start,
          help="3-member cluster: SIGKILL the leader, ms to the next acknowledged write "
               "(10 kills per side; 200 ms client timeout, retry on the other member)")
def failover(ctx, srv):
    srv.calls += 1
    warm = 1 if ctx.warmup > 0 else 0
    if srv.calls <= warm:
        # Warm-up: check that writes through every member work; no kill.
        srv.wait_settled(30.0)
        return {}
    r = srv.calls - warm - 1            # 0-based measured round
    total = ctx.scale_count(FAILOVER_KILLS)
    mine = total // ctx.rounds + (1 if r < total % ctx.rounds else 0)
    these = []
    for _ in range(mine):
        these.append(_one_kill(ctx, srv, len(srv.kills) + 1))
        srv.kills.append(these[-1])
    out = {"kills": len(these), "no ack": sum(1 for v in these if v is None)}
    if r == ctx.rounds - 1:
        got = [v for v in srv.kills if v is not None]
        log("failover %s all kills (ms): %s" % (srv.flavor.label, ", ".join(
            "none" if v is None else "%.0f" % v for v in srv.kills)))
        if got:
            out["median ms"] = statistics.median(got)
            out["min ms"] = min(got)
            out["max ms"] = max(got)
    return out
