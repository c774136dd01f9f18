"""clustertest - N-member clusters of cetcd or etcd on 127.0.0.1 (stdlib only).

Builds on tests/lib/procs.py (processes, ports, the static bootstrap) and
cetcdtest (HTTP helpers, target selection). Both servers get exactly the same
flags:

  --name m<i> --data-dir D --listen-client-urls C --advertise-client-urls C
  --listen-peer-urls P --initial-advertise-peer-urls P
  --initial-cluster m0=P0,m1=P1,... --initial-cluster-state new
  --initial-cluster-token <unique> --heartbeat-interval H --election-timeout E
  --snapshot-count S --enable-v2=true --log-level <level>

Every wait is bounded; every process started here is killed at exit (procs:
atexit and SIGTERM/SIGINT/SIGHUP); temp dirs and network namespaces are
removed by our own atexit hook.

Proxies (--proxy on|readonly, issue 13): start_proxy() runs a cetcd or etcd
v2 proxy in front of a cluster (or of any --initial-cluster); it is killed
with the clusters. A cetcd build whose proxy is not there yet ("flag
--proxy=on is not supported yet") makes proxy_probe_or_skip() exit 77.

A cetcd build without clustering refuses a multi-member --initial-cluster
("clusters of more than one member are not supported by this build yet",
exit 1): Cluster.start() then raises Unsupported, and start_or_skip() turns
that into exit 77 so `make check` stays green.
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest  # noqa: E402
from cetcdtest import (etcd_bin, cetcd_bin, target, skip,  # noqa: E402
                       http_request, kpath)
import procs  # noqa: E402  (on sys.path through cetcdtest)
from procs import NETERR  # noqa: E402,F401  (tests import it from here)

UNSUPPORTED_MARK = "not supported by this build yet"
PROXY_UNSUPPORTED_MARK = "is not supported yet"
_clusters = []
_proxies = []


class Unsupported(Exception):
    """The binary refuses to run a multi-member cluster."""


def wait_for(fn, what, timeout=10.0, every=0.05):
    """fn() until truthy (exceptions from the network count as falsy)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
            last = v
        except NETERR as e:
            last = e
        time.sleep(every)
    raise AssertionError("timed out (%.0fs) waiting for %s (last: %r)" % (timeout, what, last))


def log(msg):
    sys.stdout.write("# %s\n" % msg)
    sys.stdout.flush()


# --------------------------------------------------------------------------
# one member

class Member(procs.Member):
    """procs.Member plus HTTP helpers; in a netns lab it runs inside its
    member namespace."""

    def __init__(self, binary, dir, name):
        procs.Member.__init__(self, binary, dir, name)
        self.idx = int(name[1:])

    def spawn(self, argv=None):
        argv = argv or self.argv()
        if self.cluster.netns:
            argv = self.cluster.netns.wrap(self.idx, argv)
        return procs.Member.spawn(self, argv)

    def request(self, method, path, params=None, form=None, body=None, headers=None,
                timeout=5.0):
        return http_request(self.host, self.port, method, path, params, form, body,
                            headers, timeout)

    # keys API
    def get(self, key, params=None, timeout=5.0):
        return self.request("GET", kpath(key), params, timeout=timeout)

    def put(self, key, form=None, params=None, timeout=5.0):
        return self.request("PUT", kpath(key), params, form=form, timeout=timeout)

    def post(self, key, form=None, params=None, timeout=5.0):
        return self.request("POST", kpath(key), params, form=form, timeout=timeout)

    def delete(self, key, params=None, timeout=5.0):
        return self.request("DELETE", kpath(key), params, timeout=timeout)

    def wait_answering(self, timeout=15.0):
        """procs.Member.wait_answering, with the cetcd refusal of multi-member
        clusters raised as Unsupported."""
        try:
            return procs.Member.wait_answering(self, timeout)
        except procs.ProcError:
            tail = self.log_tail(15)
            if not self.alive() and UNSUPPORTED_MARK in tail:
                raise Unsupported(tail.strip().splitlines()[-1])
            raise

    wait_up = wait_answering


# --------------------------------------------------------------------------
# the cluster

class Cluster(procs.Cluster):
    def __init__(self, n=3, kind=None, heartbeat_ms=100, election_ms=1000,
                 snapshot_count=10000, extra_args=None, log_level=None, token=None,
                 netns=None):
        """netns: a NetnsLab (already set up, test process inside its hub)
        to run each member in its own network namespace; None = loopback."""
        self.netns = netns
        self.kind = kind or target()
        binary = etcd_bin() if self.kind == "etcd" else cetcd_bin()
        if not binary:
            skip("%s binary not found" % self.kind)
        self.snapshot_count = snapshot_count
        self.log_level = log_level or os.environ.get("CETCD_CLUSTER_LOG_LEVEL", "warn")
        flags = ["--snapshot-count", str(snapshot_count),
                 "--enable-v2=true", "--log-level", self.log_level]
        procs.Cluster.__init__(self, binary, procs.temp_dir("cetcd-cluster-"), n,
                               heartbeat_ms, election_ms, flags + list(extra_args or []),
                               token, member_class=Member)
        if netns:
            for m in self.members:
                m.host = netns.ip(m.idx)
        _clusters.append(self)

    @property
    def election_s(self):
        return self.election_ms / 1000.0

    # ---------------------------------------------------------------- start
    def start(self, timeout=30.0):
        """Start all members at once and wait until the cluster is ready
        (every member up, one leader that all agree on, all members published
        in /v2/members, cluster version decided, indexes settled).
        Retries on a port clash; raises Unsupported on the cetcd refusal."""
        try:
            self.start_answering(timeout)
        except Unsupported:
            self.kill_all()
            raise
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30.0):
        deadline = time.time() + timeout
        self.wait_leader(max(1.0, deadline - time.time()))
        want = sorted(m.url for m in self.live())
        last = None
        while time.time() < deadline:
            try:
                ok = True
                for m in self.live():
                    r = m.request("GET", "/v2/members", timeout=1.0)
                    mem = (r.json or {}).get("members") or []
                    urls = sorted(u for x in mem for u in (x.get("clientURLs") or []))
                    names = [x.get("name") for x in mem]
                    if len(mem) != self.n or not all(names) or \
                            not set(want) <= set(urls):
                        ok = False
                        last = mem
                        break
                    v = m.request("GET", "/version", timeout=1.0).json or {}
                    if v.get("etcdcluster") in (None, "", "not_decided"):
                        ok = False
                        last = v
                        break
                if ok:
                    self.wait_converged(max(1.0, deadline - time.time()))
                    return
            except NETERR as e:
                last = e
            time.sleep(0.1)
        raise RuntimeError("cluster not ready within %.0fs (last: %r)" % (timeout, last))

    # ---------------------------------------------------------------- leader
    # leader(), wait_leader(), wait_converged(): procs.Cluster
    def followers(self):
        lm = self.leader()
        return [m for m in self.live() if m is not lm]

    def wait_index(self, index, timeout=10.0, members=None):
        """Until every member's X-Etcd-Index >= index."""
        ms = members or self.live()
        deadline = time.time() + timeout
        got = None
        while time.time() < deadline:
            got = [m.index() for m in ms]
            if all(g is not None and g >= index for g in got):
                return
            time.sleep(0.05)
        raise AssertionError("members did not reach index %d within %.1fs: %s" %
                             (index, timeout, dict(zip([m.name for m in ms], got or []))))

    # ---------------------------------------------------------------- faults
    def kill(self, m):
        self._m(m).kill()

    def stop(self, m):
        self._m(m).stop()

    def restart(self, m, timeout=15.0, argv=None):
        """Start a stopped/killed member again with the same flags (its data
        dir is kept, so etcd ignores the --initial-* flags)."""
        m = self._m(m)
        m.stop()
        m.spawn(argv)
        m.wait_answering(timeout)
        return m

    def _m(self, m):
        return self.members[m] if isinstance(m, int) else m

    def cleanup(self):
        self.kill_all()
        if not os.environ.get("CETCD_CLUSTER_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        if self in _clusters:
            _clusters.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


# --------------------------------------------------------------------------
# proxies

class Proxy(procs.Proxy):
    """procs.Proxy plus HTTP helpers; kind: 'cetcd' | 'etcd'."""

    def __init__(self, kind, initial_cluster, mode="on", extra_args=(), name="proxy",
                 dir=None):
        self.kind = kind
        binary = etcd_bin() if kind == "etcd" else cetcd_bin()
        if not binary:
            skip("%s binary not found" % kind)
        self.own_dir = dir is None
        procs.Proxy.__init__(self, binary, dir or procs.temp_dir("cetcd-proxy-"),
                             initial_cluster, name, mode, extra_args)
        _proxies.append(self)

    def request(self, method, path, params=None, form=None, body=None, headers=None,
                timeout=5.0):
        return http_request(self.host, self.port, method, path, params, form, body,
                            headers, timeout)

    def get(self, key, params=None, timeout=5.0):
        return self.request("GET", kpath(key), params, timeout=timeout)

    def put(self, key, form=None, params=None, timeout=5.0):
        return self.request("PUT", kpath(key), params, form=form, timeout=timeout)

    def delete(self, key, params=None, timeout=5.0):
        return self.request("DELETE", kpath(key), params, timeout=timeout)

    def unsupported(self):
        return not self.alive() and PROXY_UNSUPPORTED_MARK in self.log_tail(30)

    def cleanup(self):
        self.kill()
        if self.own_dir and not os.environ.get("CETCD_CLUSTER_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        if self in _proxies:
            _proxies.remove(self)


def start_proxy(initial_cluster, kind=None, mode="on", extra_args=(), name="proxy",
                timeout=15.0, wait=True):
    """A proxy of kind (the target by default) with this --initial-cluster
    (a Cluster or a string); wait=True: until it lists an endpoint."""
    if isinstance(initial_cluster, procs.Cluster):
        initial_cluster = initial_cluster.initial_cluster()
    p = Proxy(kind or target(), initial_cluster, mode, extra_args, name)
    try:
        if wait:
            p.start_ready(timeout)
        else:
            p.spawn()
    except procs.ProcError:
        if p.unsupported():
            p.cleanup()
            skip("%s: --proxy not supported by this build yet" % p.kind)
        raise
    return p


def proxy_probe_or_skip(kind=None):
    """Exit 77 if kind's binary (the target by default) refuses --proxy
    ("flag --proxy=on is not supported yet"); the probe proxy points at a
    port nobody listens on and is stopped at once."""
    kind = kind or target()
    p = Proxy(kind, "m0=http://%s:%d" % (procs.HOST, procs.free_port()))
    try:
        p.spawn()
        deadline = time.time() + 5.0
        while time.time() < deadline and p.alive() and p.endpoints() is None:
            time.sleep(0.05)
        if p.unsupported():
            skip("%s: --proxy not supported by this build yet" % kind)
    finally:
        p.cleanup()


# --------------------------------------------------------------------------
# private network namespaces, for partitions

CLONE_NEWNET = 0x40000000


class NetnsUnavailable(Exception):
    pass


class NetnsLab:
    """Network namespaces created (and deleted) by this process, only for
    partition tests; needs root, `ip` and (for one-way drops, delay and
    loss) `tc`. Layout: a hub namespace with a bridge br0 (10.77.0.254/24)
    where the test process itself lives after enter_hub(), and one
    namespace per member with eth0 = 10.77.0.<i+1>/24 (veth eth0 <-> h<i>
    in the hub, on the bridge). Nothing is created in the host's own
    namespace; names carry the pid and a random tag (other tests and other
    users of the machine may have namespaces of their own).

    Faults (clients in the hub always reach every member; only member <->
    member traffic is touched, except slow(), which shapes everything
    member i sends):
      partition(groups)   symmetric cuts between groups: blackhole routes in
                          the member namespaces (both directions)
      cut_pairs(pairs)    symmetric cuts of any set of links (bridges, rings)
      drop(i, j)          ONE direction: a blackhole route to j in i's
                          namespace only (rp_filter is off there, so j's
                          packets still reach i). TCP being TCP, a new
                          connection either way then fails (its handshake
                          needs both directions) while data j sends on an
                          established connection still reaches i.
      loss(i, pct)        nft drops pct% of member i's packets to members
                          at random (needs nft, the nftables package)
      slow(i, kbit, ms)   tc tbf on i's eth0: a link of kbit kbit/s whose
                          queue holds ms milliseconds (queueing delay, and
                          drops beyond it)
      netem(i, delay_ms, jitter_ms, loss_pct)  tc netem on i's eth0 (many
                          kernels lack sch_netem: netem_available() says)
      heal()              undoes all of the above
    """

    def __init__(self, n):
        self.n = n
        self.tag = "ct%x%s" % (os.getpid() & 0xfffff, os.urandom(2).hex())
        self.hub = self.tag + "-hub"
        self.ns = ["%s-m%d" % (self.tag, i) for i in range(n)]
        self.created = []
        self.cut = set()        # {(i, j)} with i < j: cut both ways
        self.routes = set()     # {(i, j)}: blackhole route to j in i's namespace
        self.qdiscs = set()     # member indexes with a root qdisc on eth0
        self.nft = set()        # member indexes with our nft table
        self.lock = threading.Lock()
        _labs.append(self)

    def ip(self, i):
        return "10.77.0.%d" % (i + 1)

    def _run(self, cmd, check=True):
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
        if check and r.returncode != 0:
            raise NetnsUnavailable("%s: %s" % (" ".join(cmd),
                                               r.stdout.decode(errors="replace").strip()))
        return r

    def _ip(self, *args, ns=None, check=True):
        return self._run(["ip"] + (["netns", "exec", ns, "ip"] if ns else []) + list(args),
                         check)

    def _tc(self, *args, ns=None, check=True):
        return self._run(["ip", "netns", "exec", ns or self.hub, "tc"] + list(args), check)

    def setup(self):
        if os.geteuid() != 0 or not shutil.which("ip"):
            raise NetnsUnavailable("needs root and iproute2")
        try:
            self._ip("netns", "add", self.hub)
            self.created.append(self.hub)
            self._ip("link", "set", "lo", "up", ns=self.hub)
            self._ip("link", "add", "br0", "type", "bridge", ns=self.hub)
            self._ip("addr", "add", "10.77.0.254/24", "dev", "br0", ns=self.hub)
            self._ip("link", "set", "br0", "up", ns=self.hub)
            for i, ns in enumerate(self.ns):
                self._ip("netns", "add", ns)
                self.created.append(ns)
                self._ip("link", "set", "lo", "up", ns=ns)
                self._ip("link", "add", "h%d" % i, "netns", self.hub, "type", "veth",
                         "peer", "name", "eth0", "netns", ns)
                self._ip("link", "set", "h%d" % i, "master", "br0", "up", ns=self.hub)
                self._ip("addr", "add", self.ip(i) + "/24", "dev", "eth0", ns=ns)
                self._ip("link", "set", "eth0", "up", ns=ns)
                self._run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                           "net.ipv4.conf.all.rp_filter=0",
                           "net.ipv4.conf.eth0.rp_filter=0"])
        except (NetnsUnavailable, OSError, subprocess.SubprocessError) as e:
            self.cleanup()
            raise NetnsUnavailable(str(e))
        return self

    def netem_available(self):
        """True if tc netem works here (it leaves nothing behind)."""
        try:
            self.netem(0, delay_ms=1)
            return True
        except (NetnsUnavailable, OSError, subprocess.SubprocessError):
            return False
        finally:
            self.heal()

    def probe_faults(self):
        """Raise NetnsUnavailable unless loss() and slow() work here (nft
        with numgen, tc tbf). Leaves nothing behind."""
        if not shutil.which("tc") or not shutil.which("nft"):
            raise NetnsUnavailable("tc or nft (iproute2, nftables) not found")
        try:
            self.loss(0, 1)
            self.slow(0, 1000, 50)
        except (NetnsUnavailable, OSError, subprocess.SubprocessError) as e:
            raise NetnsUnavailable(str(e))
        finally:
            self.heal()

    def enter_hub(self):
        """Move the calling thread (call it from the main thread before any
        other thread starts) into the hub namespace; threads started later
        inherit it."""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/var/run/netns/" + self.hub, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise NetnsUnavailable("setns: %s" % os.strerror(ctypes.get_errno()))
        finally:
            os.close(fd)
        self.wait_reachable()

    def wait_reachable(self, timeout=5.0):
        """The bridge needs a moment before the veths forward."""
        import socket
        deadline = time.time() + timeout
        for i in range(self.n):
            while True:
                try:
                    socket.create_connection((self.ip(i), 9), timeout=0.5).close()
                    break
                except ConnectionRefusedError:
                    break       # RST from the member namespace: reachable
                except OSError:
                    if time.time() > deadline:
                        raise NetnsUnavailable("%s unreachable from the hub" % self.ip(i))
                    time.sleep(0.1)

    def wrap(self, i, argv):
        return ["ip", "netns", "exec", self.ns[i]] + list(argv)

    def _route(self, op, i, j):
        """Blackhole route to j in i's namespace (op add) or its removal."""
        if op == "add":
            if (i, j) in self.routes:
                return
            self._ip("route", "add", "blackhole", self.ip(j) + "/32", ns=self.ns[i])
            self.routes.add((i, j))
        else:
            self._ip("route", "del", "blackhole", self.ip(j) + "/32", ns=self.ns[i],
                     check=False)
            self.routes.discard((i, j))

    def cut_pairs(self, pairs):
        """Cut these links (pairs of member indexes), both directions; other
        cuts stay."""
        with self.lock:
            for i, j in pairs:
                i, j = min(i, j), max(i, j)
                if i == j:
                    continue
                self._route("add", i, j)
                self._route("add", j, i)
                self.cut.add((i, j))

    def partition(self, groups):
        """Cut every link between members of different groups (lists of
        member indexes); links inside a group stay. Heals the previous cut."""
        self.heal()
        where = {}
        for g, members in enumerate(groups):
            for i in members:
                where[i] = g
        self.cut_pairs([(i, j) for i in range(self.n) for j in range(i + 1, self.n)
                        if where.get(i, -1 - i) != where.get(j, -1 - j)])

    def isolate(self, i):
        self.partition([[i], [j for j in range(self.n) if j != i]])

    def drop(self, i, j):
        """Drop the packets member i sends to member j (one direction)."""
        with self.lock:
            self._route("add", i, j)

    def loss(self, i, pct):
        """Drop pct% (0.1 steps) of the packets member i sends to members."""
        with self.lock:
            ns = self.ns[i]
            if i not in self.nft:
                self._run(["ip", "netns", "exec", ns, "nft", "add table ip ctlab"])
                self._run(["ip", "netns", "exec", ns, "nft",
                           "add chain ip ctlab out { type filter hook output priority 0 ; }"])
                self.nft.add(i)
            self._run(["ip", "netns", "exec", ns, "nft",
                       "add rule ip ctlab out ip daddr 10.77.0.1-10.77.0.253 "
                       "numgen random mod 1000 < %d drop" % int(round(pct * 10))])

    def slow(self, i, kbit, latency_ms):
        """Member i's eth0 becomes a kbit kbit/s link with a latency_ms queue."""
        with self.lock:
            self._tc("qdisc", "replace", "dev", "eth0", "root", "tbf", "rate",
                     "%dkbit" % kbit, "burst", "1600", "latency", "%dms" % latency_ms,
                     ns=self.ns[i])
            self.qdiscs.add(i)

    def netem(self, i, delay_ms=0, jitter_ms=0, loss_pct=0.0):
        """Delay (with jitter) and lose the packets member i sends."""
        args = []
        if delay_ms:
            args += ["delay", "%dms" % delay_ms]
            if jitter_ms:
                args += ["%dms" % jitter_ms]
        if loss_pct:
            args += ["loss", "%g%%" % loss_pct]
        with self.lock:
            self._tc("qdisc", "replace", "dev", "eth0", "root", "netem", *args, ns=self.ns[i])
            self.qdiscs.add(i)

    def heal(self):
        """Undo every cut, one-way drop, loss and shaping."""
        with self.lock:
            for i, j in sorted(self.routes):
                self._route("del", i, j)
            self.cut.clear()
            for i in sorted(self.qdiscs):
                self._tc("qdisc", "del", "dev", "eth0", "root", ns=self.ns[i], check=False)
            self.qdiscs.clear()
            for i in sorted(self.nft):
                self._run(["ip", "netns", "exec", self.ns[i], "nft", "delete table ip ctlab"],
                          check=False)
            self.nft.clear()

    def faulty(self):
        return bool(self.routes or self.qdiscs or self.nft)

    def cleanup(self):
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        self.created = []
        if self in _labs:
            _labs.remove(self)


_labs = []


def start_or_skip(n=3, **kw):
    """Start a cluster; exit 77 if the binary refuses multi-member clusters."""
    c = Cluster(n, **kw)
    try:
        return c.start()
    except Unsupported as e:
        c.cleanup()
        skip("%s refuses a %d-member cluster: %s" % (c.kind, n, e))
    except BaseException:
        print(c.log_tails(15))
        c.cleanup()
        raise


def probe_or_skip():
    """For a target that may not cluster yet (cetcd): start a 3-member
    cluster once and skip (exit 77) if it refuses. Then stop it."""
    c = start_or_skip(3)
    c.cleanup()


def _cleanup_clusters():
    """At exit (and at the end of run_scenarios): kill every member, delete
    every cluster's temp dir and every namespace."""
    procs.stop_all()
    for p in list(_proxies):
        try:
            p.cleanup()
        except Exception:
            pass
    for c in list(_clusters):
        try:
            c.cleanup()
        except Exception:
            pass
    for lab in list(_labs):
        try:
            lab.cleanup()
        except Exception:
            pass


atexit.register(_cleanup_clusters)


# --------------------------------------------------------------------------
# small runner for scenario files (each scenario builds its own cluster)

def run_scenarios(mod_globals, budget=None, probe=None, after=None):
    """Run test_* functions (no argument; each makes its own cluster) with a
    time budget; print ok/FAIL lines and 'N passed, N failed'; exit 0/1/77.
    probe: called once before the tests (may exit 77), default
    probe_or_skip for cetcd. A test function with .only_target ('etcd' or
    'cetcd', cetcdtest.needs) runs only against that target. Every proxy
    and cluster is cleaned up after each test, then after() is called."""
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    tests = sorted((f.__code__.co_firstlineno, n, f) for n, f in mod_globals.items()
                   if n.startswith("test_") and callable(f))
    tests = [(n, f) for _, n, f in tests if not only or any(o in n for o in only)]
    kind = target()
    if (kind == "etcd" and not etcd_bin()) or (kind == "cetcd" and not cetcd_bin()):
        skip("%s binary not found (CETCD_TARGET=%s)" % (kind, kind))
    print("# target: %s (%s)" % (kind, etcd_bin() if kind == "etcd" else cetcd_bin()))
    sys.stdout.flush()
    if probe is not None:
        probe()
    elif kind == "cetcd":
        probe_or_skip()
    budget = budget or float(os.environ.get("CETCD_CLUSTER_BUDGET", "240"))
    passed = failed = skipped = 0
    t_all = time.time()
    for name, fn in tests:
        want_kind = getattr(fn, "only_target", None)
        if want_kind and want_kind != kind:
            print("skip %s (only for %s: %s)" % (name, want_kind,
                                                getattr(fn, "skip_why", "beyond etcd")))
            skipped += 1
            continue
        if time.time() - t_all > budget:
            failed += 1
            print("FAIL %s: not run, time budget (%.0fs) exhausted" % (name, budget))
            continue
        t0 = time.time()
        msg = None
        try:
            fn()
        except SystemExit:
            raise
        except Exception as e:  # noqa
            msg = cetcdtest.failure_message(e, tb_lines=8)
        for p in list(_proxies):
            if msg is not None:
                msg += "\n  proxy %s log:\n%s" % (p.name, p.log_tail(8))
            p.cleanup()
        for c in list(_clusters):
            if msg is not None:
                msg += "\n  logs:\n" + c.log_tails(6)
            c.cleanup()
        if after is not None:
            after()
        dt = time.time() - t0
        if msg is None:
            passed += 1
            print("ok   %s (%.2fs)" % (name, dt))
        else:
            failed += 1
            print("FAIL %s (%.2fs): %s" % (name, dt, msg))
        sys.stdout.flush()
    print("# %.1fs total%s" % (time.time() - t_all,
                               (", %d skipped" % skipped) if skipped else ""))
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    _cleanup_clusters()
    sys.exit(1 if failed else 0)


def jdump(v):
    return json.dumps(v, sort_keys=True)
