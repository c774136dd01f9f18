# scenarios/proxy.py - proxy mode (issue 13): proxy-get, proxy-put, proxy-p50,
# proxy-fanout, and proxy-floor (context).
#
# Each side runs a 3-member cluster of its own binary (scenarios/cluster.py's Cluster:
# the same flags on both sides) and, once the cluster is ready, a proxy in front of it
# started the same way on both sides:
#
#   <binary> --proxy on --listen-client-urls http://127.0.0.1:<P>
#            --initial-cluster m0=http://127.0.0.1:<peer0>,m1=...,m2=...
#            --data-dir <tmp>/proxy
#
# (<binary> is the side's own binary unless run.py's --cetcd-proxy / --etcd-proxy names
# another one, e.g. etcd's proxy in front of cetcd members.) The proxy is ready once
# our process listens on P and a GET and a PUT through it are answered.
#
# "direct" is the member the proxy forwarded to (its upstream), found per run from
# the kernel's per-socket byte counters (`ss -ti`: bytes moved on connections to each
# member's client port while the proxy run lasted), so proxy/direct is the proxy's own
# cost and not a leader/follower difference. etcd's proxy reshuffles its endpoints
# every 30 s (--proxy-refresh-interval), so the upstream may differ between runs; the
# log names it every time.
#
# proxy-get     GET of one preloaded 16-byte key, wrk -c64 (get.lua) through the
#               proxy, then the same straight to its upstream: req/s, p50/p99 ms,
#               proxy/direct, the proxy's CPU time (utime+stime) per request through
#               it (steadier than req/s on a shared machine), and in how many rounds
#               the upstream was the leader. Target (issue 13): cetcd proxy req/s >= 3x
#               etcd proxy's.
# proxy-put     the same with PUT value=<32 bytes> to distinct keys (put.lua).
# proxy-p50     one connection to the proxy and one to its upstream, GET and PUT
#               interleaved request for request (proxylat.c, a C client compiled on
#               the fly like put1lat.c): p50 per path and "added %" = proxy p50 /
#               direct p50 - 1. Target: cetcd's added % <= 25.
# proxy-fanout  fresh cluster + proxy per round: N long-poll watchers
#               (GET /v2/keys/bench/proxy/hot?wait=true) all through the proxy, held
#               open at once by one thread on raw epoll (watch.py's WatchSet, no
#               thread per watcher); the proxy's VmRSS with them idle; then one PUT
#               through the proxy wakes all: ms from sending the PUT to the last
#               watcher's complete response. N = 10,000 (2,000 with --quick).
#               Targets: last delivery < 300 ms, proxy RSS < 64 MiB.
#               "upstream watchers" is the sum of the members' /v2/stats/store
#               watchers (etcd's proxy: one upstream watch per client watcher);
#               "proxy fds" its open descriptors with the watchers held. If the
#               proxy's inherited RLIMIT_NOFILE is below 2N + 48 (two sockets per
#               watcher, as etcd's proxy uses) it is raised with prlimit when we may
#               (CAP_SYS_RESOURCE); otherwise N is capped to fit and "watchers" shows
#               the N used (a hard limit of 20,000 gives 9,976).
#
# proxy-floor   context (side A's binary only, one member): proxy-p50's client and
#               get64's load through baseline/relay.c, a do-nothing one-thread epoll
#               TCP relay: what two extra loopback hops cost here, i.e. the floor
#               under any proxy's "added %" and the ceiling of a one-thread relay.
#
# None is in the default quick/full sets: run them by name, e.g.
#   run.py --scenarios proxy-get,proxy-put,proxy-p50,proxy-fanout,proxy-floor [--quick]
#
# Every process is tests/lib/procs.py's (own pid, own process group, killed at the
# end, PR_SET_PDEATHSIG); the rig's temp dir is removed. Everything is on 127.0.0.1.

import http.client
import json
import os
import resource
import shlex
import subprocess
import time

from benchlib import (HOST, BenchError, Flavor, Metric, Server, compile_c,  # noqa: E402
                      http_request, listening_pid_owns, log, run_wrk, scenario)
import procs  # noqa: E402  (on sys.path through benchlib)
from scenarios.cluster import Cluster, cpu_seconds
from scenarios.watch import FanoutC, raise_nofile, settle_rss

ON_DEMAND = ("on-demand",)
GET_PATH = "/v2/keys/bench/get"
GET_VALUE = "0123456789abcdef"
PUT_VALUE_LEN = 32
HOT_KEY = "/bench/proxy/hot"
FD_MARGIN = 256
PROXY_FD_MARGIN = 48  # the proxy's descriptors besides its sockets per watcher
LAT_MAX = 200000  # proxylat iterations per run (the run is bounded by seconds too)


# ---------------------------------------------------------------------------
# The rig: 3 members + a proxy


class ProxyRig:
    """A 3-member cluster of `flavor` and a proxy in front of it. What run.py expects
    of a server: .url/.port/.pid are the proxy's; .stop() stops all and removes the
    temp dir."""

    def __init__(self, flavor, tmp_root, tag):
        self.flavor = flavor
        self.tag = tag
        self.cluster = Cluster(flavor, tmp_root, tag)
        self.members = self.cluster.members
        self.proxy_binary = getattr(flavor, "proxy_binary", None) or flavor.binary
        self.proxy = procs.Proc(os.path.join(self.cluster.dir, "proxy.log"),
                                cwd=self.cluster.dir)
        self.port = procs.free_port()
        self.url = "http://%s:%d" % (HOST, self.port)

    @property
    def pid(self):
        return self.proxy.pid

    def proxy_argv(self):
        return [self.proxy_binary, "--proxy", "on",
                "--listen-client-urls", self.url,
                "--initial-cluster", self.cluster.initial_cluster(),
                "--data-dir", os.path.join(self.cluster.dir, "proxy")]

    def start(self):
        self.cluster.start()
        return self

    def wait_ready(self, timeout=30.0):
        """The cluster ready (cluster.py), then the proxy started: ready once our
        process listens on its port and a PUT and a GET through it are answered."""
        deadline = time.monotonic() + timeout
        self.cluster.wait_ready(timeout)
        self.proxy.spawn(self.proxy_argv())
        last = None
        while time.monotonic() < deadline:
            if not self.proxy.alive():
                raise BenchError("%s proxy exited with %s at start; log tail:\n%s"
                                 % (self.tag, self.proxy.returncode, self.proxy.log_tail(15)))
            if listening_pid_owns(self.proxy.pid, self.port):
                try:
                    st, body = http_request(self.port, "PUT", "/v2/keys/bench/ready/proxy",
                                            body="value=1", timeout=2.0)
                    if 200 <= st < 300:
                        st, body = http_request(self.port, "GET",
                                                "/v2/keys/bench/ready/proxy", timeout=2.0)
                        if st == 200:
                            return self
                    last = "HTTP %d %r" % (st, body[:200])
                except (OSError, http.client.HTTPException) as e:
                    last = repr(e)
            time.sleep(0.05)
        raise BenchError("%s proxy not ready after %.0fs (last: %s); log tail:\n%s"
                         % (self.tag, timeout, last, self.proxy.log_tail(15)))

    def alive(self):
        return self.proxy.alive() and self.cluster.alive()

    def log_tail(self, n=8):
        return "%s\n--- proxy\n%s" % (self.cluster.log_tail(n), self.proxy.log_tail(n))

    def stop(self):
        self.proxy.stop()
        self.cluster.stop()  # removes the rig's dir (the proxy's data dir is in it)


def _start(ctx, flavor, tag):
    return ProxyRig(flavor, ctx.tmp_root, tag).start()


# ---------------------------------------------------------------------------
# Which member did the proxy talk to?


def _ss_bytes(ports):
    """{(local, peer): bytes} for every established TCP connection to one of `ports`
    on HOST (the connecting side's socket): bytes_acked + bytes_received."""
    try:
        out = subprocess.run(["ss", "-tinH", "state", "established"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=20).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError) as e:
        raise BenchError("ss -ti failed: %s" % e)
    want = set("%s:%d" % (HOST, p) for p in ports)
    res = {}
    key = None
    for line in out.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            f = line.split()
            key = (f[2], f[3]) if len(f) >= 4 and f[3] in want else None
            continue
        if key is None:
            continue
        n = 0
        for tok in line.split():
            if tok.startswith("bytes_acked:") or tok.startswith("bytes_received:"):
                n += int(tok.split(":", 1)[1])
        res[key] = n
        key = None
    return res


def _bytes_per_port(before, after):
    per = {}
    for k, v in after.items():
        port = int(k[1].rsplit(":", 1)[1])
        per[port] = per.get(port, 0) + v - before.get(k, 0)
    return per


class Upstream:
    """Measures, around a run through the proxy, which member it forwarded to."""

    def __init__(self, srv):
        self.srv = srv
        self.ports = [m.port for m in srv.members]
        self.before = _ss_bytes(self.ports)

    def member(self):
        per = _bytes_per_port(self.before, _ss_bytes(self.ports))
        total = sum(max(0, v) for v in per.values())
        if total <= 0:
            raise BenchError("%s: no traffic from the proxy to any member seen (ss -ti)"
                             % self.srv.tag)
        port = max(per, key=lambda p: per[p])
        m = [m for m in self.srv.members if m.port == port][0]
        share = per[port] * 100.0 / total
        lm = self.srv.cluster.leader()
        role = "leader" if lm is m else ("follower" if lm is not None else "?")
        log("%s proxy upstream: %s (%s, %.0f%% of the proxy's member traffic)"
            % (self.srv.flavor.label, m.name, role, share))
        return m, share


# ---------------------------------------------------------------------------
# proxy-get, proxy-put


def _preload_get(ctx, srv):
    st, body = http_request(srv.members[0].port, "PUT", GET_PATH, body="value=" + GET_VALUE)
    if not 200 <= st < 300:
        raise BenchError("preload PUT %s -> %d %r" % (GET_PATH, st, body[:200]))
    srv.cluster.wait_settled(15.0)
    for port in [srv.port] + [m.port for m in srv.members]:
        st, body = http_request(port, "GET", GET_PATH)
        if st != 200 or GET_VALUE.encode() not in body:
            raise BenchError("preload GET %s on :%d -> %d %r" % (GET_PATH, port, st, body[:200]))


THROUGHPUT = [Metric("proxy req/s"), Metric("direct req/s"),
              Metric("proxy/direct", fmt="{:.2f}"),
              Metric("proxy p50 ms", fmt="{:.2f}"), Metric("proxy p99 ms", fmt="{:.2f}"),
              Metric("direct p50 ms", fmt="{:.2f}"), Metric("proxy CPU us/req", fmt="{:.1f}"),
              Metric("errors", agg="sum"), Metric("rounds via leader", agg="sum")]


def _errors(res):
    return res["non2xx"] + res["socket_errors"]


def _through_and_direct(ctx, srv, run):
    """run(url) -> wrk result; through the proxy, then straight to its upstream."""
    up = Upstream(srv)
    cpu0 = cpu_seconds(srv.pid)
    rp = run(srv.url)
    cpu = cpu_seconds(srv.pid) - cpu0
    m, _ = up.member()
    rd = run(m.url)
    return {"proxy req/s": rp["rps"], "direct req/s": rd["rps"],
            "proxy/direct": rp["rps"] / rd["rps"] if rd["rps"] else 0.0,
            "proxy p50 ms": rp["p50_us"] / 1000.0, "proxy p99 ms": rp["p99_us"] / 1000.0,
            "direct p50 ms": rd["p50_us"] / 1000.0,
            "proxy CPU us/req": cpu * 1e6 / rp["requests"] if rp["requests"] else 0.0,
            "errors": _errors(rp) + _errors(rd),
            "rounds via leader": 1 if srv.cluster.leader() is m else 0}


@scenario("proxy-get", THROUGHPUT, modes=ON_DEMAND, order=110, start=_start,
          setup=_preload_get,
          help="proxy in front of a 3-member cluster: GET one 16-byte key, 64 "
               "connections, through the proxy, then straight to its upstream member")
def proxy_get(ctx, srv):
    return _through_and_direct(ctx, srv, lambda url: run_wrk(
        ctx, url + GET_PATH, "get.lua", 64, ctx.wrk_threads, ctx.duration))


@scenario("proxy-put", THROUGHPUT, modes=ON_DEMAND, order=111, start=_start,
          help="proxy in front of a 3-member cluster: PUT value=<32 bytes> to distinct "
               "keys, 64 connections, through the proxy, then straight to its upstream")
def proxy_put(ctx, srv):
    def run(url):
        ctx.seq += 1
        return run_wrk(ctx, url, "put.lua", 64, ctx.wrk_threads, ctx.duration,
                       script_args=("/v2/keys/bench/put/r%d" % ctx.seq, PUT_VALUE_LEN))
    return _through_and_direct(ctx, srv, run)


# ---------------------------------------------------------------------------
# proxy-p50


def _probe_upstream(srv, n=40):
    """A few GETs and PUTs through the proxy: which member does it use now?"""
    up = Upstream(srv)
    for i in range(n):
        st, _ = http_request(srv.port, "GET" if i % 2 else "PUT",
                             "/v2/keys/bench/proxy/probe", body=None if i % 2 else "value=p")
        if st >= 300:
            raise BenchError("probe through the proxy -> HTTP %d" % st)
    return up.member()[0]


def _proxylat(ctx, port_a, port_b):
    """proxylat.c for ctx.duration seconds: A = port_a (the proxy), B = port_b."""
    exe = compile_c(ctx, "proxylat.c", "proxylat")
    ctx.seq += 1
    prefix = "/v2/keys/bench/lat/r%d/" % ctx.seq
    argv = [exe, HOST, str(port_a), str(port_b), GET_PATH, prefix, str(ctx.duration),
            str(LAT_MAX)]
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=procs.die_with_parent, timeout=ctx.duration + 60)
    except subprocess.TimeoutExpired:
        raise BenchError("proxylat client did not finish")
    line = [l for l in p.stdout.decode().splitlines() if l.startswith("PROXYLAT ")]
    if p.returncode != 0 or not line:
        raise BenchError("proxylat failed: %s" % p.stderr.decode("utf-8", "replace")[-300:])
    return dict(f.split("=", 1) for f in line[0].split()[1:])


def _lat_metrics(kv, a="proxy"):
    def ms(k):
        return float(kv[k]) / 1000.0

    return {"GET p50 %s ms" % a: ms("a_get_p50_us"), "GET p50 direct ms": ms("b_get_p50_us"),
            "GET added %": (ms("a_get_p50_us") / ms("b_get_p50_us") - 1.0) * 100.0,
            "PUT p50 %s ms" % a: ms("a_put_p50_us"), "PUT p50 direct ms": ms("b_put_p50_us"),
            "PUT added %": (ms("a_put_p50_us") / ms("b_put_p50_us") - 1.0) * 100.0,
            "GET p90 %s ms" % a: ms("a_get_p90_us"), "PUT p90 %s ms" % a: ms("a_put_p90_us"),
            "iterations": int(kv["iters"]), "errors": int(kv["errors"])}


@scenario("proxy-p50",
          [Metric("GET p50 proxy ms", fmt="{:.3f}"), Metric("GET p50 direct ms", fmt="{:.3f}"),
           Metric("GET added %", fmt="{:.1f}"),
           Metric("PUT p50 proxy ms", fmt="{:.3f}"), Metric("PUT p50 direct ms", fmt="{:.3f}"),
           Metric("PUT added %", fmt="{:.1f}"),
           Metric("GET p90 proxy ms", fmt="{:.3f}"), Metric("PUT p90 proxy ms", fmt="{:.3f}"),
           Metric("iterations"), Metric("errors", agg="sum"),
           Metric("upstream moved", agg="sum")],
          modes=ON_DEMAND, order=112, start=_start, setup=_preload_get,
          help="1 connection: GET and PUT p50 through the proxy vs straight to its "
               "upstream member, interleaved request for request (proxylat.c)")
def proxy_p50(ctx, srv):
    m = _probe_upstream(srv)
    up = Upstream(srv)
    kv = _proxylat(ctx, srv.port, m.port)
    # Did the proxy's own traffic go to m? (Our direct connection to m counts there
    # too, so look at the proxy's share without it: the other members' bytes.)
    after = _ss_bytes([x.port for x in srv.members])
    per = _bytes_per_port(up.before, after)
    others = sum(v for port, v in per.items() if port != m.port)
    moved = 1 if others > 0.1 * max(1, per.get(m.port, 0)) else 0
    if moved:
        log("%s proxy-p50: the proxy's upstream moved during the run (bytes per member "
            "port %s); the direct figures are %s's" % (srv.flavor.label, per, m.name))

    out = _lat_metrics(kv)
    out["upstream moved"] = moved
    return out


# ---------------------------------------------------------------------------
# proxy-fanout


def _proc_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise BenchError("no open-files limit for pid %d" % pid)


def _ensure_nofile(srv, pid, need, what):
    """Raise pid's RLIMIT_NOFILE (soft and hard) to `need` if it is lower: needs
    CAP_SYS_RESOURCE above our own hard limit. Only for processes we started.
    Returns the limit it has now (lower than need if it could not be raised)."""
    have = _proc_nofile(pid)
    if have >= need:
        return have
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (need, need))
    except (OSError, ValueError) as e:
        log("%s %s (pid %d): open-files limit %d < %d and not raised (%s)"
            % (srv.flavor.label, what, pid, have, need, e))
        return have
    log("%s %s (pid %d): RLIMIT_NOFILE %d -> %d" % (srv.flavor.label, what, pid, have, need))
    return need


def _upstream_watchers(srv):
    n = 0
    for m in srv.members:
        st, body = http_request(m.port, "GET", "/v2/stats/store", timeout=10.0)
        if st != 200:
            raise BenchError("%s /v2/stats/store -> %d" % (m.name, st))
        n += int(json.loads(body.decode())["watchers"])
    return n


def _wait_upstream_watchers(srv, n, timeout=60.0, settle=1.0):
    """Until the members hold n watchers in all, or a positive count that has not
    moved for `settle` s (a proxy that shares upstream watches holds fewer)."""
    deadline = time.monotonic() + timeout
    prev, since = None, time.monotonic()
    while time.monotonic() < deadline:
        cur = _upstream_watchers(srv)
        if cur == n:
            return cur
        if cur != prev:
            prev, since = cur, time.monotonic()
        elif cur > 0 and time.monotonic() - since >= settle:
            return cur
        time.sleep(0.1)
    raise BenchError("members hold %s watchers, expected up to %d (after %.0fs)"
                     % (prev, n, timeout))


def _fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


@scenario("proxy-fanout",
          [Metric("watchers"), Metric("last from PUT ms", fmt="{:.1f}"),
           Metric("p50 from PUT ms", fmt="{:.1f}"), Metric("PUT reply ms", fmt="{:.1f}"),
           Metric("client busy ms", fmt="{:.1f}"), Metric("proxy RSS MiB", fmt="{:.1f}"), Metric("proxy RSS before MiB", fmt="{:.1f}"),
           Metric("KiB/watcher", fmt="{:.2f}"), Metric("upstream watchers"),
           Metric("proxy fds"), Metric("register s", fmt="{:.1f}"),
           Metric("errors", agg="sum")],
          modes=ON_DEMAND, order=113, start=_start, fresh_per_round=True,
          help="N long-poll watchers on one key through the proxy (N = 10,000; 2,000 "
               "quick); proxy VmRSS with them idle; one PUT through the proxy: ms to "
               "the last watcher's response")
def proxy_fanout(ctx, srv):
    want = ctx.scale_count(2000 if ctx.mode == "quick" else 10000)
    # The proxy may need two sockets per watcher (etcd's does: one to the client, one
    # upstream). If its limit cannot be raised that far (no CAP_SYS_RESOURCE and a
    # hard limit below 2N), N is capped to fit and the "watchers" figure says so.
    have = _ensure_nofile(srv, srv.pid, 2 * want + PROXY_FD_MARGIN, "proxy")
    n = min(want, (have - PROXY_FD_MARGIN) // 2)
    if n < want:
        log("%s proxy-fanout: %d watchers instead of %d (proxy open-files limit %d)"
            % (srv.flavor.label, n, want, have))
    mine = raise_nofile()
    if mine < n + FD_MARGIN:
        raise BenchError("our open-files limit %d < %d" % (mine, n + FD_MARGIN))
    for m in srv.members:
        if _ensure_nofile(srv, m.pid, n + FD_MARGIN, m.name) < n + FD_MARGIN:
            raise BenchError("%s open-files limit too low for %d watchers" % (m.name, n))
    st, body = http_request(srv.port, "PUT", "/v2/keys" + HOT_KEY, body="value=start")
    if not 200 <= st < 300:
        raise BenchError("PUT %s through the proxy -> %d %r" % (HOT_KEY, st, body[:200]))
    time.sleep(0.5)
    before = settle_rss(srv.pid)
    t0 = time.monotonic()
    fc = FanoutC(ctx, srv.port, HOT_KEY, n, 120.0, "wait", HOT_KEY)
    try:
        fc.wait_sent()
        up_n = _wait_upstream_watchers(srv, n)
        t_reg = time.monotonic() - t0
        idle = settle_rss(srv.pid)
        fds = _fds(srv.pid)
        r = fc.fire()
    finally:
        fc.close()
    log("%s proxy-fanout: %d watchers, %d upstream, proxy %d fds, RSS %.1f -> %.1f MiB"
        % (srv.flavor.label, n, up_n, fds, before / 1024.0, idle / 1024.0))
    return {"watchers": n,
            "last from PUT ms": r["last_us"] / 1000.0,
            "p50 from PUT ms": r["p50_us"] / 1000.0,
            "PUT reply ms": r["put_reply_us"] / 1000.0,
            "client busy ms": r["busy_us"] / 1000.0,
            "proxy RSS MiB": idle / 1024.0,
            "proxy RSS before MiB": before / 1024.0,
            "KiB/watcher": (idle - before) / float(n),
            "upstream watchers": up_n, "proxy fds": fds,
            "register s": t_reg, "errors": int(r["errors"])}


# ---------------------------------------------------------------------------
# proxy-floor (context): a do-nothing relay in front of one member


class RelayRig:
    """One member of side A's binary (a single-node cluster, benchlib.Server) and
    baseline/relay.c in front of it: .url/.port/.pid are the relay's."""

    def __init__(self, ctx, tag):
        a = ctx.args
        flavor = Flavor("relay-backend", os.path.abspath(a.cetcd), shlex.split(a.cetcd_args))
        self.tag = tag
        self.member = Server(flavor, ctx.tmp_root, tag)
        self.exe = compile_c(ctx, "baseline/relay.c", "relay")
        self.relay = procs.Proc(os.path.join(self.member.dir, "relay.log"), cwd=self.member.dir)
        self.port = procs.free_port()
        self.url = "http://%s:%d" % (HOST, self.port)

    @property
    def pid(self):
        return self.relay.pid

    def start(self):
        self.member.start()
        return self

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        self.member.wait_ready(timeout)
        self.relay.spawn([self.exe, str(self.port), str(self.member.port)])
        while time.monotonic() < deadline:
            if not self.relay.alive():
                raise BenchError("relay exited: %s" % self.relay.log_tail(5))
            if listening_pid_owns(self.relay.pid, self.port):
                return self
            time.sleep(0.05)
        raise BenchError("relay not listening after %.0fs" % timeout)

    def alive(self):
        return self.relay.alive() and self.member.alive()

    def log_tail(self, n=8):
        return "%s\n--- relay\n%s" % (self.member.log_tail(n), self.relay.log_tail(n))

    def stop(self):
        self.relay.stop()
        self.member.stop()  # removes the temp dir


def _start_relay(ctx, flavor, tag):
    return RelayRig(ctx, tag).start()


def _preload_relay(ctx, srv):
    st, body = http_request(srv.member.port, "PUT", GET_PATH, body="value=" + GET_VALUE)
    if not 200 <= st < 300:
        raise BenchError("preload PUT %s -> %d %r" % (GET_PATH, st, body[:200]))
    st, body = http_request(srv.port, "GET", GET_PATH)
    if st != 200 or GET_VALUE.encode() not in body:
        raise BenchError("GET %s through the relay -> %d %r" % (GET_PATH, st, body[:200]))


@scenario("proxy-floor",
          [Metric("GET p50 relay ms", fmt="{:.3f}"), Metric("GET p50 direct ms", fmt="{:.3f}"),
           Metric("GET added %", fmt="{:.1f}"),
           Metric("PUT p50 relay ms", fmt="{:.3f}"), Metric("PUT p50 direct ms", fmt="{:.3f}"),
           Metric("PUT added %", fmt="{:.1f}"),
           Metric("GET p90 relay ms", fmt="{:.3f}"), Metric("PUT p90 relay ms", fmt="{:.3f}"),
           Metric("iterations"), Metric("relay get64 req/s"), Metric("direct get64 req/s"),
           Metric("errors", agg="sum")],
          modes=ON_DEMAND, order=114, start=_start_relay, setup=_preload_relay, context=True,
          help="context: proxy-p50's client and get64's load through a do-nothing TCP "
               "relay (baseline/relay.c, one thread, epoll) in front of one member of "
               "side A's binary: what two extra loopback hops cost on this machine")
def proxy_floor(ctx, srv):
    out = _lat_metrics(_proxylat(ctx, srv.port, srv.member.port), a="relay")
    rr = run_wrk(ctx, srv.url + GET_PATH, "get.lua", 64, ctx.wrk_threads, ctx.duration)
    rd = run_wrk(ctx, srv.member.url + GET_PATH, "get.lua", 64, ctx.wrk_threads, ctx.duration)
    out["relay get64 req/s"] = rr["rps"]
    out["direct get64 req/s"] = rd["rps"]
    out["errors"] += _errors(rr) + _errors(rd)
    return out
