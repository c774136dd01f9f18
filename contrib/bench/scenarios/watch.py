# scenarios/watch.py - watches at scale: watch10k and watchkeys.
#
# watch10k   (fresh server per round) N idle long-poll watchers on ONE key
#            (GET /v2/keys/bench/watch/hot?wait=true), all held open at once:
#            - extra server RSS (VmRSS with N watchers held minus VmRSS before),
#              and per watcher;
#            - one PUT to the key wakes all N: time from the PUT's reply to the last
#              watcher's complete response ("fan-out last ms"; negative when the
#              watchers were answered before the writer), the median, and the time
#              from sending the PUT to the last watcher's response.
#            N = 10,000 (full), 2,000 (--quick).
# watchkeys  (fresh server per round) PUT throughput (wrk, put.lua, 16 connections,
#            distinct unwatched keys under the watched directory) with no watchers,
#            then with N idle watchers on N distinct keys, then again without;
#            "slowdown %" = 1 - with / mean(without before, without after).
#            N = 50,000 or as many as the server's and our file-descriptor limits allow
#            (one socket per watcher; see the "watchers" figure), 5,000 in --quick.
#
# The client is one Python thread driving non-blocking sockets with raw epoll; it
# connects at most CONNECT_WINDOW sockets at a time, spreads its source addresses over
# 127.0.0.2..127.0.0.(1+N_SRC) (IP_BIND_ADDRESS_NO_PORT) so ephemeral ports never run
# short, raises its own RLIMIT_NOFILE to the hard limit, and every phase is bounded
# by a count and a timeout. A watcher counts as registered once its response headers
# arrived (both servers flush them at registration) and the server's
# /v2/stats/store "watchers" shows all of them.
#
# Run: contrib/bench/run.py --scenarios watch10k,watchkeys [--quick] [--write-doc
#      --doc-section watches]   (not in the default sets: ~4 minutes in full mode)
#
# Standalone probe against a running server (no comparison, no doc):
#   python3 contrib/bench/scenarios/watch.py PORT PID [N]

import errno
import json
import os
import resource
import select
import socket
import statistics
import sys
import time

if __name__ == "__main__":  # standalone probe: make benchlib importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchlib import BenchError, HOST, Metric, http_request, rss_kib, run_wrk, scenario

CONNECT_WINDOW = 512  # connects in flight at once (listen backlogs are 1024 and up)
N_SRC = 8  # source addresses 127.0.0.2 .. 127.0.0.9
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
FD_MARGIN = 200  # descriptors the server keeps for itself (listeners, WAL, ...)
HOT_KEY = "/bench/watch/hot"
# Not part of the default quick/full sets (the full pair takes about 4 minutes and
# 30,000 sockets): run them by name, e.g.
#   contrib/bench/run.py --scenarios watch10k,watchkeys [--quick]
ON_DEMAND = ("on-demand",)
KEYS_DIR = "/bench/wk"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# Raised at import, before run.py starts any server: the servers inherit it
# (cetcd and Go's runtime also raise their own soft limit to the hard one).
raise_nofile()


def proc_nofile(pid):
    """The soft RLIMIT_NOFILE of a running process (from /proc/PID/limits)."""
    try:
        with open("/proc/%d/limits" % pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    return int(line.split()[3])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def watchers_stat(port):
    st, body = http_request(port, "GET", "/v2/stats/store", timeout=10.0)
    if st != 200:
        raise BenchError("/v2/stats/store -> %d" % st)
    return int(json.loads(body.decode())["watchers"])


def wait_watchers(port, want, timeout):
    deadline = time.monotonic() + timeout
    n = -1
    while time.monotonic() < deadline:
        n = watchers_stat(port)
        if n == want:
            return n
        time.sleep(0.1)
    raise BenchError("server shows %d watchers, expected %d (after %.0fs)" % (n, want, timeout))


def settle_rss(pid, secs=1.5):
    """VmRSS after it stopped moving (bounded: secs * 4)."""
    prev = rss_kib(pid)
    deadline = time.monotonic() + secs * 4
    while time.monotonic() < deadline:
        time.sleep(secs / 3)
        cur = rss_kib(pid)
        if abs(cur - prev) < 64:
            return cur
        prev = cur
    return prev


class WatchSet:
    """N long-poll watchers held open over raw non-blocking sockets and one epoll."""

    def __init__(self, port, paths, timeout=60.0):
        self.port = port
        self.ep = select.epoll()
        self.socks = {}  # fd -> socket
        self.buf = {}  # fd -> bytes received after the headers
        self.t_done = {}  # fd -> time the response was complete
        self.errors = 0
        self._open(paths, timeout)

    def _request(self, path):
        return ("GET /v2/keys%s?wait=true HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                % (path, HOST, self.port)).encode()

    def _open(self, paths, timeout):
        deadline = time.monotonic() + timeout
        pending = list(reversed(paths))
        req = {}  # fd -> request bytes not yet sent
        head = {}  # fd -> header bytes so far
        inflight = 0
        n_src = 0
        ready = 0
        total = len(paths)
        while ready < total:
            while pending and inflight < CONNECT_WINDOW:
                path = pending.pop()
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                s.bind(("127.0.0.%d" % (2 + n_src % N_SRC), 0))
                n_src += 1
                rc = s.connect_ex((HOST, self.port))
                if rc not in (0, errno.EINPROGRESS):
                    s.close()
                    raise BenchError("connect: %s" % os.strerror(rc))
                fd = s.fileno()
                self.socks[fd] = s
                req[fd] = self._request(path)
                head[fd] = b""
                self.ep.register(fd, select.EPOLLOUT)
                inflight += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("only %d of %d watchers registered after %.0fs"
                                 % (ready, total, timeout))
            for fd, ev in self.ep.poll(min(left, 1.0), 1024):
                s = self.socks[fd]
                if fd in req:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise BenchError("connect: %s" % os.strerror(err))
                    s.send(req.pop(fd))  # a small request: fits the empty send buffer
                    self.ep.modify(fd, select.EPOLLIN)
                    continue
                data = s.recv(65536)
                if not data:
                    raise BenchError("server closed a watch before its headers")
                h = head[fd] + data
                i = h.find(b"\r\n\r\n")
                if i < 0:
                    head[fd] = h
                    continue
                if not h.startswith(b"HTTP/1.1 200"):
                    raise BenchError("watch answered %r" % h[:200])
                del head[fd]
                self.buf[fd] = h[i + 4:]
                ready += 1
                inflight -= 1

    @staticmethod
    def _complete(b):
        # chunked (both servers): the last-chunk marker ends the response
        return b.endswith(b"0\r\n\r\n")

    def fire(self, put_path, value=b"go", timeout=30.0):
        """Sends one PUT (over a connection opened beforehand) and reads until every
        watcher's response is complete. Returns (t_sent, t_reply, [t_done...])."""
        p = socket.create_connection((HOST, self.port), timeout=10.0)
        p.setblocking(False)
        body = b"value=" + value
        put = (b"PUT /v2/keys%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: "
               b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
               % (put_path.encode(), HOST.encode(), self.port, len(body), body))
        pfd = p.fileno()
        self.ep.register(pfd, select.EPOLLIN)
        pbuf = b""
        t_reply = None
        socks, bufs, done = self.socks, self.buf, self.t_done
        for fd, b in bufs.items():
            if self._complete(b):
                done[fd] = 0.0
        want = len(socks)
        mono = time.monotonic
        deadline = mono() + timeout
        t_sent = mono()
        p.send(put)
        try:
            while len(done) < want or t_reply is None:
                left = deadline - mono()
                if left <= 0:
                    raise BenchError("%d of %d watchers answered within %.0fs"
                                     % (len(done), want, timeout))
                events = self.ep.poll(min(left, 1.0), 4096)
                now = mono()
                for fd, ev in events:
                    if fd == pfd:
                        pbuf += p.recv(65536)
                        i = pbuf.find(b"\r\n\r\n")
                        if t_reply is None and i >= 0:
                            clen = 0
                            for line in pbuf[:i].split(b"\r\n"):
                                if line.lower().startswith(b"content-length:"):
                                    clen = int(line.split(b":")[1])
                            if len(pbuf) >= i + 4 + clen:
                                t_reply = now
                                if not pbuf.startswith(b"HTTP/1.1 20"):
                                    raise BenchError("PUT answered %r" % pbuf[:200])
                        continue
                    if fd in done:
                        self.ep.unregister(fd)  # e.g. EOF after the response
                        continue
                    data = socks[fd].recv(65536)
                    if not data:
                        self.errors += 1
                        done[fd] = now
                        self.ep.unregister(fd)
                        continue
                    b = bufs[fd] + data
                    bufs[fd] = b
                    if self._complete(b):
                        done[fd] = now
        finally:
            try:
                self.ep.unregister(pfd)
            except OSError:
                pass
            p.close()
        return t_sent, t_reply, list(done.values())

    def check_bodies(self, key):
        """Every delivered body is one etcd event for key."""
        bad = 0
        for fd, b in self.buf.items():
            if key.encode() not in b or b'"action":"set"' not in b:
                bad += 1
        return bad

    def close(self):
        for s in self.socks.values():
            try:
                s.close()
            except OSError:
                pass
        self.socks.clear()
        self.ep.close()


def _count_for(ctx, full, quick):
    return ctx.scale_count(quick if ctx.mode == "quick" else full)


# ---------------------------------------------------------------------------
# watch10k: memory per idle watcher and the fan-out of one write

@scenario("watch10k",
          [Metric("watchers"), Metric("RSS extra MiB", fmt="{:.1f}"),
           Metric("KiB/watcher", fmt="{:.2f}"), Metric("fan-out last ms", fmt="{:.1f}"),
           Metric("fan-out p50 ms", fmt="{:.1f}"), Metric("PUT reply ms", fmt="{:.1f}"),
           Metric("last from PUT sent ms", fmt="{:.1f}"),
           Metric("register s", fmt="{:.1f}"), Metric("errors", agg="sum")],
          modes=ON_DEMAND, order=60, fresh_per_round=True,
          help="N idle long-poll watchers on one key: extra RSS; one PUT wakes all "
               "(ms from the PUT's reply to the last watcher's response)")
def watch10k(ctx, srv):
    n = _count_for(ctx, 10000, 2000)
    raise_nofile()
    st, body = http_request(srv.port, "PUT", "/v2/keys" + HOT_KEY, body="value=start")
    if not 200 <= st < 300:
        raise BenchError("PUT %s -> %d" % (HOT_KEY, st))
    time.sleep(0.5)
    before = settle_rss(srv.pid)
    t0 = time.monotonic()
    ws = WatchSet(srv.port, [HOT_KEY] * n, timeout=120.0)
    try:
        wait_watchers(srv.port, n, 30.0)
        t_reg = time.monotonic() - t0
        after = settle_rss(srv.pid)
        t_sent, t_reply, done = ws.fire(HOT_KEY, timeout=30.0)
        bad = ws.check_bodies(HOT_KEY) + ws.errors
        lat = sorted(t - t_reply for t in done)
    finally:
        ws.close()
    return {
        "watchers": n,
        "RSS extra MiB": (after - before) / 1024.0,
        "KiB/watcher": (after - before) / float(n),
        "fan-out last ms": lat[-1] * 1000.0,
        "fan-out p50 ms": statistics.median(lat) * 1000.0,
        "PUT reply ms": (t_reply - t_sent) * 1000.0,
        "last from PUT sent ms": (max(done) - t_sent) * 1000.0,
        "register s": t_reg,
        "errors": bad,
    }


# ---------------------------------------------------------------------------
# watchfan-*: the fan-out of one write, timed by a C client (fanout.c)
#
# watch10k's client is Python: reading 10,000 responses costs it about 0.1 s of
# CPU on the same 2 cores, a large share of what it measures. fanout.c holds the
# watchers on one epoll thread and times each watcher from the moment the PUT is
# sent until its event is complete: for a long poll the whole chunked response,
# for a stream the first event object (checked: the PUT's "set" with its value).
# "server CPU us/watcher": the server's utime+stime (all threads, /proc/PID/stat) from
# just before the PUT until the last watcher had its event, per watcher: the figure
# that depends least on what else runs on the machine.
# "fresh": each watcher on a new connection (as watch10k); "warm": the connection
# first did a GET of the same path (a client that reads, then watches, over
# keep-alive, as etcd's clients do).
#
#   watchfan-wait-10k     N long polls on /bench/watch/hot, PUT of that key
#   watchfan-rec-10k      N recursive long polls on /bench/dir, PUT of /bench/dir/x
#   watchfan-stream-10k   N stream=true watchers on /bench/watch/hot
#   ...-19k8              the same with 19,800 watchers (the fd hard limit is 20,000)
#   watchfan-warm-*       the same on warm connections
# N = 2,000 in --quick. Run: run.py --scenarios watchfan-wait-10k,... (on demand)

FANOUT_SPECS = {
    # name suffix: (fanout.c MODE, watched path, key written)
    "wait": ("wait", HOT_KEY, HOT_KEY),
    "rec": ("recursive", "/bench/dir", "/bench/dir/x"),
    "stream": ("stream", HOT_KEY, HOT_KEY),
}
FANOUT_SIZES = {"10k": 10000, "19k8": 19800}


class FanoutC:
    """fanout.c (compiled on the fly): "SENT n" once every watch request is written,
    then one PUT when told "FIRE"; its FANOUT line's times are us from the PUT."""

    def __init__(self, ctx, port, key, n, timeout, mode, path):
        from benchlib import compile_c
        import procs  # on sys.path through benchlib
        import subprocess
        exe = compile_c(ctx, "fanout.c", "fanout")
        self.timeout = timeout
        env = dict(os.environ, FANOUT_LINGER="1")  # sockets stay open until stdin closes
        self.p = subprocess.Popen([exe, HOST, str(port), key, str(n), str(int(timeout)), mode,
                                   path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, preexec_fn=procs.die_with_parent,
                                  env=env)

    def _line(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.p.stdout], [], [], 0.5)
            if r:
                line = self.p.stdout.readline().decode("utf-8", "replace")
                if line.startswith(prefix):
                    return line
                if not line:
                    break
        self.p.kill()
        err = self.p.stderr.read().decode("utf-8", "replace")[-400:]
        raise BenchError("fanout client: no %s line (%s)" % (prefix.strip(), err.strip()))

    def wait_sent(self):
        return int(self._line("SENT ", self.timeout).split()[1])

    def fire(self, pid=None):
        """The FANOUT line's fields (times in us from sending the PUT); with a pid,
        also "cpu": the server's CPU seconds (all threads) from just before the PUT
        until every watcher had its event (the watchers' sockets still open)."""
        cpu0 = _cpu_seconds(pid) if pid else 0.0
        self.p.stdin.write(b"FIRE\n")
        self.p.stdin.flush()
        line = self._line("FANOUT ", self.timeout + 10)
        cpu = _cpu_seconds(pid) - cpu0 if pid else None
        self.p.stdin.close()
        self.p.wait(timeout=30)
        r = dict((k, float(v)) for k, v in (f.split("=", 1) for f in line.split()[1:]))
        if pid:
            r["cpu"] = cpu
        return r

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=10)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            f.close()


def _cpu_seconds(pid):
    """utime + stime of every thread of pid (clock ticks: 10 ms steps)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def _watchfan(ctx, srv, kind, size, warm):
    mode, path, key = FANOUT_SPECS[kind]
    mine = raise_nofile()
    cap = min(mine, proc_nofile(srv.pid)) - FD_MARGIN
    n = min(_count_for(ctx, FANOUT_SIZES[size], 2000), cap)
    for k in (HOT_KEY, "/bench/dir/x"):
        st, body = http_request(srv.port, "PUT", "/v2/keys" + k, body="value=start")
        if not 200 <= st < 300:
            raise BenchError("PUT %s -> %d" % (k, st))
    time.sleep(0.5)
    before = settle_rss(srv.pid)
    t0 = time.monotonic()
    fc = FanoutC(ctx, srv.port, key, n, 120.0, ("warm-" if warm else "") + mode, path)
    try:
        fc.wait_sent()
        wait_watchers(srv.port, n, 60.0)
        t_reg = time.monotonic() - t0
        idle = settle_rss(srv.pid)
        r = fc.fire(srv.pid)
    finally:
        fc.close()
    return {"watchers": n,
            "server CPU us/watcher": r["cpu"] * 1e6 / n,
            "last ms": r["last_us"] / 1000.0,
            "p50 ms": r["p50_us"] / 1000.0,
            "PUT reply ms": r["put_reply_us"] / 1000.0,
            "client busy ms": r["busy_us"] / 1000.0,
            "KiB/watcher": (idle - before) / float(n),
            "register s": t_reg,
            "errors": int(r["errors"]) + n - int(r["done"])}


def _register_watchfan():
    metrics = [Metric("watchers"), Metric("server CPU us/watcher", fmt="{:.1f}"),
               Metric("last ms", fmt="{:.1f}"),
               Metric("p50 ms", fmt="{:.1f}"), Metric("PUT reply ms", fmt="{:.1f}"),
               Metric("client busy ms", fmt="{:.1f}"), Metric("KiB/watcher", fmt="{:.2f}"),
               Metric("register s", fmt="{:.1f}"), Metric("errors", agg="sum")]
    order = 62
    for warm in (False, True):
        for kind in ("wait", "rec", "stream"):
            for size in ("10k", "19k8"):
                name = "watchfan-%s%s-%s" % ("warm-" if warm else "", kind, size)

                def run(ctx, srv, kind=kind, size=size, warm=warm):
                    return _watchfan(ctx, srv, kind, size, warm)
                scenario(name, metrics, modes=ON_DEMAND, order=order, fresh_per_round=True,
                         help="%s %s watchers (%s connections) on one write: ms from the "
                              "PUT sent to the last / median watcher's event (fanout.c)"
                              % (FANOUT_SIZES[size], {"wait": "long-poll", "rec":
                                                      "recursive long-poll",
                                                      "stream": "stream=true"}[kind],
                                 "warm" if warm else "fresh"))(run)
                order += 0.01


_register_watchfan()


# ---------------------------------------------------------------------------
# watchkeys: does a crowd of idle watchers on distinct keys slow the writes?

def _put_rate(ctx, srv):
    ctx.seq += 1
    # distinct, unwatched keys in the watched directory: every write looks up "/",
    # "/bench", "/bench/wk" and its own key in the watcher index
    res = run_wrk(ctx, srv.url, "put.lua", 16, ctx.wrk_threads, ctx.duration,
                  script_args=(("/v2/keys%s/w%d-" % (KEYS_DIR, ctx.seq)), 32))
    return res["rps"], res["non2xx"] + res["socket_errors"]


@scenario("watchkeys",
          [Metric("watchers"), Metric("put/s without", fmt="{:.0f}"),
           Metric("put/s with", fmt="{:.0f}"), Metric("slowdown %", fmt="{:.1f}"),
           Metric("RSS extra MiB", fmt="{:.1f}"), Metric("errors", agg="sum")],
          modes=ON_DEMAND, order=61, fresh_per_round=True,
          help="PUT req/s (wrk, 16 conns) without, then with N idle watchers on N "
               "distinct keys (N = 50,000 or the fd limit), then without again")
def watchkeys(ctx, srv):
    mine = raise_nofile()
    cap = min(mine, proc_nofile(srv.pid)) - FD_MARGIN
    n = min(_count_for(ctx, 50000, 5000), cap)
    errors = 0
    r0, e = _put_rate(ctx, srv)
    errors += e
    before = settle_rss(srv.pid)
    paths = ["%s/k%06d" % (KEYS_DIR, i) for i in range(n)]
    ws = WatchSet(srv.port, paths, timeout=180.0)
    try:
        wait_watchers(srv.port, n, 30.0)
        after = settle_rss(srv.pid)
        r1, e = _put_rate(ctx, srv)
        errors += e
        errors += sum(1 for b in ws.buf.values() if b)  # nothing may have fired
    finally:
        ws.close()
    wait_watchers(srv.port, 0, 30.0)
    r2, e = _put_rate(ctx, srv)
    errors += e
    base = (r0 + r2) / 2.0
    return {
        "watchers": n,
        "put/s without": base,
        "put/s with": r1,
        "slowdown %": (1.0 - r1 / base) * 100.0 if base else 0.0,
        "RSS extra MiB": (after - before) / 1024.0,
        "errors": errors,
    }


# ---------------------------------------------------------------------------

def _probe(argv):
    port, pid = int(argv[1]), int(argv[2])
    n = int(argv[3]) if len(argv) > 3 else 10000
    raise_nofile()
    http_request(port, "PUT", "/v2/keys" + HOST_KEY_PROBE, body="value=start")
    time.sleep(0.3)
    before = settle_rss(pid)
    t0 = time.monotonic()
    ws = WatchSet(port, [HOST_KEY_PROBE] * n, timeout=120.0)
    wait_watchers(port, n, 30.0)
    t1 = time.monotonic()
    after = settle_rss(pid)
    t_sent, t_reply, done = ws.fire(HOST_KEY_PROBE)
    lat = sorted(t - t_reply for t in done)
    print("n=%d register %.2fs rss %d -> %d KiB (+%.1f MiB, %.2f KiB/watcher) "
          "put reply %.1f ms, fan-out last %.1f ms p50 %.1f ms, bad %d" % (
              n, t1 - t0, before, after, (after - before) / 1024.0, (after - before) / n,
              (t_reply - t_sent) * 1e3, lat[-1] * 1e3, statistics.median(lat) * 1e3,
              ws.check_bodies(HOST_KEY_PROBE) + ws.errors))
    ws.close()
    t2 = time.monotonic()
    wait_watchers(port, 0, 30.0)
    print("watchers back to 0 in %.2fs; rss %d KiB" % (time.monotonic() - t2, settle_rss(pid)))


HOST_KEY_PROBE = HOT_KEY

if __name__ == "__main__":
    _probe(sys.argv)
