# scenarios/durable.py - durable writes and restart: put1lat, fsync1, fsyncratio64,
# restart100k.
#
# All but fsync1 are full mode only (--quick stays under 2 minutes; put64 in quick mode
# already measures durable writes).
#
# put1lat      PUT latency with 1 connection (put1lat.c, a C client on a keep-alive
#              socket) interleaved one for one with a write(128 B) + fdatasync probe on a
#              fallocated file (like a WAL segment) in the server's own temp dir: both
#              see the same disk weather. "p50/fsync" is what a lone PUT costs in disk
#              flushes (target <= 1.3).
# put1floor    context: the same client against baseline/mhd_hello.c in fsync mode
#              (HTTP + one write+fdatasync per PUT, nothing else): the floor of
#              p50/fsync on this machine.
# fsync1       context: write+fdatasync median on this disk (fallocated file and an
#              appending file), no server.
# fsyncratio64 put64's load; the server's own fsync counter before/after the run
#              (cetcd: GET /debug/vars .cetcd.wal.fsyncs; etcd: GET /metrics
#              etcd_disk_wal_fsync_duration_seconds_count) divided by acknowledged PUTs.
#              Below 1 means group commit: one fdatasync covers several writes. Also the
#              server's CPU time (utime+stime, /proc/PID/stat) per acknowledged PUT: a
#              figure that the other load on a shared machine disturbs much less.
# fsyncratio16 the same with 16 connections (full mode).
# restart100k  full mode, fresh server per round: 100,000 keys of 100 bytes (asyncio
#              loader, 64 connections), graceful stop (SIGTERM), then the time from exec
#              to the first successful GET of a loaded key (value checked), and the data
#              dir size at the stop.
#
# mem100k (scenarios/mem.py) measures the data dir of a server that writes its WAL: cetcd
# keeps its WAL and snapshots under <data-dir>/member/, as etcd does.

import json
import os
import statistics
import subprocess
import time

from benchlib import (HOST, BenchError, Metric, compile_c, du_kib, http_request,
                      load_requests, put_request, run_wrk, scenario)  # noqa: F401
import procs  # noqa: E402  (on sys.path through benchlib)
from scenarios.baseline import start_hello

PUT_VALUE_LEN = 32
FSYNC_SAMPLES = 200
FSYNC_WRITE = 128  # about one small PUT's WAL record


def fsync_latency_us(directory, samples=FSYNC_SAMPLES, mode="fallocated", size=FSYNC_WRITE):
    """Median microseconds of one os.pwrite + os.fdatasync of `size` bytes right after
    the previous one, in a file in `directory`. mode "fallocated": the file is
    preallocated first (like a cetcd WAL segment); "append": every write grows it."""
    path = os.path.join(directory, "fsync-probe-%d-%s" % (os.getpid(), mode))
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if mode == "fallocated":
            os.posix_fallocate(fd, 0, (samples + 8) * size + 4096)
            os.fsync(fd)
        buf = b"r" * size
        lat = []
        for i in range(samples):
            t0 = time.perf_counter()
            os.pwrite(fd, buf, i * size)
            os.fdatasync(fd)
            lat.append((time.perf_counter() - t0) * 1e6)
        return statistics.median(lat)
    finally:
        os.close(fd)
        try:
            os.unlink(path)
        except OSError:
            pass


# ---------------------------------------------------------------------------
# put1lat / put1floor / fsync1
# ---------------------------------------------------------------------------

PUT1_MAX = 20000


def _put1_client(ctx, srv):
    """Runs put1lat.c (one keep-alive connection: PUT, GET of the same key, then a
    probe write(128 B)+fdatasync on a fallocated file in the server's temp dir, one
    for one) for ctx.duration seconds, at most PUT1_MAX PUTs. The client is C: a
    Python client added about 12 us to every request (session 3: p50/fsync 1.33
    through it, 1.25 through this one, same server)."""
    exe = compile_c(ctx, "put1lat.c", "put1lat")
    d = getattr(srv, "dir", None) or ctx.tmp_root
    ctx.seq += 1
    prefix = "/v2/keys/bench/put1lat/r%d/" % ctx.seq
    argv = [exe, HOST, str(srv.port), prefix, d, str(ctx.duration), str(PUT1_MAX)]
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=ctx.duration + 60)
    except subprocess.TimeoutExpired:
        raise BenchError("put1lat client did not finish")
    line = [l for l in p.stdout.decode().splitlines() if l.startswith("PUT1LAT ")]
    if p.returncode != 0 or not line:
        raise BenchError("put1lat client failed: %s" % p.stderr.decode("utf-8", "replace")[-300:])
    kv = dict(f.split("=", 1) for f in line[0].split()[1:])
    p50, fs50 = float(kv["put_p50_us"]) / 1000.0, float(kv["fsync_p50_us"]) / 1000.0
    return {"p50 ms": p50, "fsync p50 ms": fs50, "p50/fsync": p50 / fs50 if fs50 else 0.0,
            "p90 ms": float(kv["put_p90_us"]) / 1000.0,
            "fsync p90 ms": float(kv["fsync_p90_us"]) / 1000.0,
            "GET p50 ms": float(kv["get_p50_us"]) / 1000.0,
            "PUTs": int(kv["puts"]), "errors": int(kv["errors"])}


PUT1_METRICS = [Metric("p50 ms", fmt="{:.3f}"), Metric("fsync p50 ms", fmt="{:.3f}"),
                Metric("p50/fsync", fmt="{:.2f}"), Metric("p90 ms", fmt="{:.3f}"),
                Metric("fsync p90 ms", fmt="{:.3f}"), Metric("GET p50 ms", fmt="{:.3f}"),
                Metric("PUTs"), Metric("errors", agg="sum")]


@scenario("put1lat", PUT1_METRICS, modes=("full",), order=23,
          help="PUT p50 with 1 connection vs one write+fdatasync on the same disk, "
               "interleaved one for one (C client, put1lat.c)")
def put1lat(ctx, srv):
    """Every PUT is followed by a GET of the key just written (the client + HTTP +
    server floor without a disk flush) and by one probe write+fdatasync on the same
    file system as the server's data dir, so both samples see the same disk weather."""
    return _put1_client(ctx, srv)


def _start_fsync_hello(ctx, flavor, tag):
    return start_hello(ctx, tag, fsync=True)


@scenario("put1floor", PUT1_METRICS, modes=("full",), order=26, start=_start_fsync_hello,
          context=True,
          help="context: put1lat against a one-thread MHD server whose PUT is one "
               "write(160 B)+fdatasync and a fixed reply: the floor of p50/fsync")
def put1floor(ctx, srv):
    """No Raft, no store: what HTTP plus one flush cost through the same client. The
    server's flush runs while the client waits in recv(); on this VM that alone
    measures a few us slower than the client's own probe."""
    return _put1_client(ctx, srv)


class _NoServer:
    url = None
    port = None
    pid = None

    def stop(self):
        pass


def _start_none(ctx, flavor, tag):
    return _NoServer()


@scenario("fsync1", [Metric("fallocated p50 ms", fmt="{:.3f}"),
                     Metric("append p50 ms", fmt="{:.3f}")],
          order=2, start=_start_none, context=True,
          help="context: median write(128 B)+fdatasync on the bench temp dir's disk")
def fsync1(ctx, srv):
    return {"fallocated p50 ms": fsync_latency_us(ctx.tmp_root) / 1000.0,
            "append p50 ms": fsync_latency_us(ctx.tmp_root, mode="append") / 1000.0}


# ---------------------------------------------------------------------------
# fsyncratio64
# ---------------------------------------------------------------------------

def server_fsyncs(srv):
    """The server's own count of WAL fsyncs, or None if it exposes none."""
    try:
        st, body = http_request(srv.port, "GET", "/debug/vars", timeout=5.0)
        if st == 200:
            js = json.loads(body.decode("utf-8"))
            if isinstance(js.get("cetcd"), dict):
                return int(js["cetcd"]["wal"]["fsyncs"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        st, body = http_request(srv.port, "GET", "/metrics", timeout=5.0)
        if st == 200:
            for line in body.decode("utf-8", "replace").splitlines():
                if line.startswith("etcd_disk_wal_fsync_duration_seconds_count"):
                    return int(float(line.split()[-1]))
    except (OSError, ValueError):
        pass
    return None


def cpu_seconds(pid):
    """utime + stime of the process (all threads) and of its reaped children (forked
    snapshot savers), from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    # fields[0] is field 3 (state); utime..cstime are fields 14..17
    return sum(int(x) for x in fields[11:15]) / float(tck)


def _fsyncratio(ctx, srv, conns):
    cpu0 = cpu_seconds(srv.pid)
    before = server_fsyncs(srv)
    if before is None:
        raise BenchError("%s exposes no WAL fsync counter" % srv.tag)
    ctx.seq += 1
    prefix = "/v2/keys/bench/fsr%d/r%d" % (conns, ctx.seq)
    res = run_wrk(ctx, srv.url, "put.lua", conns, ctx.wrk_threads, ctx.duration,
                  script_args=(prefix, PUT_VALUE_LEN))
    after = server_fsyncs(srv)
    cpu = cpu_seconds(srv.pid) - cpu0
    acked = res["requests"] - res["non2xx"]
    if after is None or acked <= 0:
        raise BenchError("no acknowledged writes or no counter after the run")
    f = after - before
    return {"req/s": res["rps"], "fsyncs/write": f / acked,
            "server CPU us/write": cpu * 1e6 / acked,
            "writes/fsync": acked / f if f else 0.0,
            "p50 ms": res["p50_us"] / 1000.0,
            "errors": res["non2xx"] + res["socket_errors"]}


FSR_METRICS = [Metric("req/s"), Metric("fsyncs/write", fmt="{:.3f}"),
               Metric("server CPU us/write", fmt="{:.1f}"),
               Metric("writes/fsync", fmt="{:.1f}"), Metric("p50 ms", fmt="{:.2f}"),
               Metric("errors", agg="sum")]


@scenario("fsyncratio64", FSR_METRICS, modes=("full",), order=24,
          help="put64's load; the server's WAL fsync count per acknowledged PUT")
def fsyncratio64(ctx, srv):
    return _fsyncratio(ctx, srv, 64)


@scenario("fsyncratio16", FSR_METRICS, modes=("full",), order=25,
          help="the same with 16 connections (group commit at low concurrency)")
def fsyncratio16(ctx, srv):
    return _fsyncratio(ctx, srv, 16)


# ---------------------------------------------------------------------------
# restart100k
# ---------------------------------------------------------------------------

N_KEYS = 100000
VALUE = b"r" * 100
PROBE_KEY = "/v2/keys/bench/restart/k%06d"


def _load_100k(ctx, srv):
    n = ctx.scale_count(N_KEYS)
    reqs = (put_request(srv.port, PROBE_KEY % i, VALUE) for i in range(n))
    st = load_requests(srv.port, reqs, connections=64, timeout=300.0)
    if st["ok"] != n:
        raise BenchError("preload: %d of %d PUTs acknowledged" % (st["ok"], n))
    srv.preload_seconds = st["seconds"]
    srv.preload_n = n


def first_get_seconds(srv, path, want, t0, timeout=60.0):
    """Poll (every 2 ms, 0.5 s per try) until GET path answers 200 with `want` in it."""
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        if not srv.alive():
            raise BenchError("%s exited with %s during restart; log tail:\n%s"
                             % (srv.tag, srv.returncode, srv.log_tail()))
        try:
            st, body = http_request(srv.port, "GET", path, timeout=0.5)
            if st == 200 and want in body:
                return time.monotonic() - t0
        except (OSError, Exception):  # connection refused, reset, timeout ...
            pass
        time.sleep(0.002)
    raise BenchError("%s: no successful GET within %.0fs of restart" % (srv.tag, timeout))


@scenario("restart100k", [Metric("first GET s", fmt="{:.3f}"), Metric("data dir MiB", fmt="{:.1f}"),
                          Metric("load s", fmt="{:.1f}"), Metric("errors", agg="sum")],
          modes=("full",), order=91, fresh_per_round=True, setup=_load_100k,
          help="100k keys, SIGTERM, restart: seconds from exec to the first good GET")
def restart100k(ctx, srv):
    n = getattr(srv, "preload_n", ctx.scale_count(N_KEYS))
    time.sleep(0.5)
    # graceful stop; the data dir stays (srv.stop() would remove it)
    procs.Proc.stop(srv, timeout=30.0)
    size = du_kib(srv.data_dir) / 1024.0
    probe = PROBE_KEY % (n - 1)
    t0 = time.monotonic()
    srv.start()  # same argv: same ports, same data dir
    secs = first_get_seconds(srv, probe, VALUE, t0)
    # every key is back (spot check 200 of them, spread over the range)
    bad = 0
    for i in range(0, n, max(1, n // 200)):
        st, body = http_request(srv.port, "GET", PROBE_KEY % i, timeout=5.0)
        if st != 200 or VALUE not in body:
            bad += 1
    return {"first GET s": secs, "data dir MiB": size,
            "load s": getattr(srv, "preload_seconds", 0.0), "errors": bad}
