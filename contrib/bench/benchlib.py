# benchlib.py - shared machinery of the cetcd benchmark harness (Python 3 stdlib only).
#
# What lives here: the scenario registry, the single-server starter (cetcd and real
# etcd, the same flags for both, on tests/lib/procs.py: free ports, fresh data dirs,
# our own pids only), running wrk with a Lua script and reading its machine-readable
# "BENCH ..." line, a bounded asyncio HTTP/1.1 loader, and small /proc helpers.
#
# Scenarios live in contrib/bench/scenarios/*.py and register themselves with the
# @scenario decorator; run.py imports every module there. See README.

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import http.client

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(BENCH_DIR, "..", "..", "tests", "lib"))
import procs  # noqa: E402
from procs import HOST, stop_all  # noqa: E402,F401  (run.py and scenarios use them)

# One error type: a server that does not start (procs) and a failed measurement.
BenchError = procs.ProcError


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Metrics and the scenario registry
# ---------------------------------------------------------------------------

class Metric:
    """One figure a scenario reports.

    agg: "median" (the default: median over rounds) or "sum" (error counts: any
    error in any round shows up) or "max".
    fmt: format spec for the value.
    """

    def __init__(self, name, agg="median", fmt="{:.0f}"):
        self.name = name
        self.agg = agg
        self.fmt = fmt


class Scenario:
    def __init__(self, name, func, metrics, modes, order, setup, fresh_per_round,
                 start, help, context):
        self.name = name
        self.func = func
        self.metrics = metrics
        self.modes = modes
        self.order = order
        self.setup = setup
        self.fresh_per_round = fresh_per_round
        self.start = start
        self.help = help
        self.context = context


SCENARIOS = {}


def scenario(name, metrics, modes=("quick", "full"), order=100, setup=None,
             fresh_per_round=False, start=None, help="", context=False):
    """Register a scenario.

    func(ctx, srv) -> {metric name: value}; runs one measurement round against one
    server (srv is what `start` returned; by default a single-node Server).
    setup(ctx, srv): optional, called once after each server start (e.g. preload).
    fresh_per_round: start a new server for every round (e.g. memory measurements).
    start(ctx, flavor, tag) -> object with .url, .pid(s), .stop(): optional custom
    starter (e.g. a 3-member cluster); default: ctx.start_single.
    context: not a cetcd/etcd comparison but a figure for context (e.g. a do-nothing
    server): runs once per round against what `start` returns (flavor is None) and is
    shown in its own table.
    """

    def deco(func):
        if name in SCENARIOS:
            raise BenchError("scenario %s registered twice" % name)
        SCENARIOS[name] = Scenario(name, func, metrics, tuple(modes), order, setup,
                                   fresh_per_round, start, help or (func.__doc__ or ""),
                                   context)
        return func

    return deco


# ---------------------------------------------------------------------------
# /proc helpers
# ---------------------------------------------------------------------------

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError("no VmRSS for pid %d" % pid)


def hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def du_kib(path):
    """Disk usage like `du -sk` (allocated blocks, hard links counted once)."""
    total = 0
    seen = set()
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            try:
                st = os.lstat(os.path.join(root, n))
            except FileNotFoundError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total // 1024


def listening_pid_owns(pid, port):
    """True if `pid` holds the socket listening on HOST:port (guards against talking
    to somebody else's server that happened to take the port)."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if t.startswith("socket:["):
                inodes.add(t[8:-1])
    except OSError:
        return False
    want = "%08X:%04X" % (0x0100007F, port)  # 127.0.0.1 in /proc/net/tcp byte order
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                p = line.split()
                if p[1] == want and p[3] == "0A" and p[9] in inodes:
                    return True
    except OSError:
        return False
    return False


TMP_PREFIX = "cetcd-bench-"


def make_tmp_root(parent=None):
    """A fresh temp dir for this run's servers, with our pid in it. Dirs of earlier
    runs that were SIGKILLed (their pid is gone) are removed first."""
    parent = parent or tempfile.gettempdir()
    for n in os.listdir(parent):
        d = os.path.join(parent, n)
        if not n.startswith(TMP_PREFIX) or not os.path.isdir(d):
            continue
        try:
            with open(os.path.join(d, "owner.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if not os.path.exists("/proc/%d" % pid):
            shutil.rmtree(d, ignore_errors=True)
    d = tempfile.mkdtemp(prefix=TMP_PREFIX, dir=parent)
    with open(os.path.join(d, "owner.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    return d


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

class Flavor:
    """One side of the comparison: a label, a binary and extra flags."""

    def __init__(self, label, binary, extra_args):
        self.label = label
        self.binary = binary
        self.extra_args = list(extra_args)

    def version(self):
        try:
            out = subprocess.run([self.binary, "--version"], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, timeout=10).stdout
            return out.decode("utf-8", "replace").strip()
        except Exception as e:
            return "unknown (%s)" % e


def http_request(port, method, path, body=None, headers=None, timeout=5.0):
    c = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        h = dict(headers or {})
        if body is not None and "Content-Type" not in h:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def compile_c(ctx, src, name, pkgs=()):
    """Builds a helper program from contrib/bench/<src> with $CC (default cc), -O2 and
    pkg-config flags for pkgs, once per run (cached in the run's temp dir). Returns the
    executable's path; raises BenchError with the compiler's output on failure."""
    exe = os.path.join(ctx.tmp_root, name)
    if os.path.exists(exe):
        return exe
    path = os.path.join(BENCH_DIR, src)
    try:
        flags = []
        if pkgs:
            flags = subprocess.run(["pkg-config", "--cflags", "--libs"] + list(pkgs),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   check=True, timeout=30).stdout.decode().split()
        argv = shlex.split(os.environ.get("CC", "cc")) + ["-O2", "-o", exe, path] + flags
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        raise BenchError("cannot build %s: %s" % (path, e))
    if p.returncode != 0:
        raise BenchError("cannot build %s: %s" % (path, p.stdout.decode("utf-8", "replace")[-500:]))
    return exe


def wait_put_acked(member, tag, path, timeout):
    """Ready = a v2 PUT of `path` is acknowledged (so a leader exists) by *our*
    process listening on member.port. Raises BenchError with the log's tail."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not member.alive():
            raise BenchError("%s %s exited with %s during startup; log tail:\n%s"
                             % (tag, member.name, member.returncode, member.log_tail(15)))
        if listening_pid_owns(member.pid, member.port):
            try:
                st, body = http_request(member.port, "PUT", path, body="value=1",
                                        timeout=2.0)
                if 200 <= st < 300:
                    return
                last = "HTTP %d %r" % (st, body[:200])
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
        time.sleep(0.05)
    raise BenchError("%s %s not ready after %.0fs (last: %s); log tail:\n%s"
                     % (tag, member.name, timeout, last, member.log_tail(15)))


class Server(procs.Member):
    """A single-member cluster of `flavor` on 127.0.0.1 in its own temp dir under
    tmp_root (procs.Member: .port, .url, .pid, .data_dir, .log_tail ...)."""

    def __init__(self, flavor, tmp_root, tag):
        procs.Member.__init__(self, flavor.binary, procs.temp_dir(tag + "-", tmp_root),
                              "bench", flavor.extra_args)
        self.flavor = flavor
        self.tag = tag

    @property
    def pids(self):
        return [self.pid]

    def start(self):
        self.spawn()
        return self

    def wait_ready(self, timeout=30.0):
        wait_put_acked(self, self.tag, "/v2/keys/bench/ready", timeout)
        return self

    def stop(self):
        """Stop and remove the temp dir (run.py's interface; procs.Proc.stop
        keeps the dir)."""
        procs.Proc.stop(self)
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------

def run_wrk(ctx, url, script, connections, threads, duration, script_args=(),
            timeout_s=2, headers=()):
    """Run wrk against `url` with contrib/bench/<script>; returns the parsed BENCH
    line as a dict (latencies in microseconds) plus "rps". headers: extra request
    headers ("Name: value"), sent with every request."""
    duration = max(1, int(round(duration)))
    threads = max(1, min(threads, connections))
    argv = [ctx.wrk, "-t%d" % threads, "-c%d" % connections, "-d%ds" % duration,
            "--timeout", "%ds" % timeout_s, "--latency"]
    for h in headers:
        argv += ["-H", h]
    argv += ["-s", os.path.join(BENCH_DIR, script), url]
    if script_args:
        argv += ["--"] + [str(a) for a in script_args]
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, preexec_fn=procs.die_with_parent,
                           timeout=duration + timeout_s + 30)
    except subprocess.TimeoutExpired:
        raise BenchError("wrk did not finish: %s" % " ".join(argv))
    out = p.stdout.decode("utf-8", "replace")
    res = None
    for line in out.splitlines():
        if line.startswith("BENCH "):
            res = {}
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                res[k] = float(v)
    if p.returncode != 0 or res is None:
        raise BenchError("wrk failed (rc %d): %s\n%s%s" % (
            p.returncode, " ".join(argv), out[-2000:],
            p.stderr.decode("utf-8", "replace")[-2000:]))
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6) if res["duration_us"] else 0.0
    res["socket_errors"] = res["connect"] + res["read"] + res["write"] + res["timeout"]
    return res


# ---------------------------------------------------------------------------
# A bounded asyncio HTTP/1.1 keep-alive loader (no pipelining)
# ---------------------------------------------------------------------------

async def _read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    clen = None
    chunked = False
    close = lines[0].startswith(b"HTTP/1.0")
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        k = k.strip().lower()
        v = v.strip().lower()
        if k == b"content-length":
            clen = int(v)
        elif k == b"transfer-encoding" and b"chunked" in v:
            chunked = True
        elif k == b"connection":
            close = (v == b"close")
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif clen is not None:
        await reader.readexactly(clen)
    else:
        await reader.read()
        close = True
    return status, close


async def _load(port, requests, connections, stats):
    it = iter(requests)

    async def worker():
        reader = writer = None
        try:
            for req in it:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(req)
                status, close = await _read_response(reader)
                if 200 <= status < 300:
                    stats["ok"] += 1
                else:
                    stats["bad"] += 1
                if close:
                    writer.close()
                    writer = None
        finally:
            if writer is not None:
                writer.close()

    await asyncio.gather(*[worker() for _ in range(connections)])


def load_requests(port, requests, connections=16, timeout=300.0):
    """Send every request (raw bytes, each a full HTTP/1.1 request) over `connections`
    keep-alive connections; bounded by `timeout` seconds. Returns
    {"ok", "bad", "seconds"}."""
    stats = {"ok": 0, "bad": 0}
    t0 = time.monotonic()

    async def main():
        await asyncio.wait_for(_load(port, requests, connections, stats), timeout)

    try:
        asyncio.run(main())
    except asyncio.TimeoutError:
        raise BenchError("load did not finish within %.0fs (%d ok so far)"
                         % (timeout, stats["ok"]))
    stats["seconds"] = time.monotonic() - t0
    return stats


def put_request(port, path, value):
    body = b"value=" + value
    return (b"PUT %s HTTP/1.1\r\nHost: %s:%d\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % (path.encode(), HOST.encode(), port, len(body))
            ) + body
