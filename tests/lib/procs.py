"""procs - server processes for the end-to-end tests and the benchmarks.

Python 3 stdlib only. Used by tests/e2e (cetcdtest.py, clustertest.py) and
contrib/bench (benchlib.py, scenarios/cluster.py); each puts this directory on
sys.path from its own file's location.

What lives here:
  free_port()       a TCP port on 127.0.0.1 in 20000-31999, never twice
  Proc              one process we started: its log file, pid, stop/kill
  Member            one cetcd or etcd member: ports, data dir, the shared
                    flags (member_argv), "answers GET /version"
  Cluster           N members bootstrapped statically (--initial-cluster);
                    the leader they agree on, waiting for it and for equal
                    indexes (wait_leader, wait_converged)
  Proxy             one cetcd or etcd v2 proxy (--proxy on|readonly): its
                    client port, data dir, "knows an endpoint" (wait_ready)
  stop_all()        kill every process started here (atexit and exit signals)

Every process runs in its own session (process group), so stop() and kill()
reach its children too (a cetcd snapshot child) and nothing else; a process
started from the main thread also gets SIGKILL if this process dies
(PR_SET_PDEATHSIG). Every wait is bounded.
"""

import atexit
import ctypes
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HOST = "127.0.0.1"  # never anything else
NETERR = (OSError, http.client.HTTPException)


class ProcError(RuntimeError):
    """A server did not start, exited during its start or did not answer."""


# --------------------------------------------------------------------------
# ports, logs, temp dirs

_used_ports = set()


def free_port():
    """A free TCP port on HOST below the kernel's ephemeral range (32768-60999
    by default): a port the kernel hands out could be taken by an outgoing
    connection (a client, a member dialing a peer, wrk) between this check and
    the server's bind. Never the same port twice in one process."""
    for _ in range(200):
        p = random.randrange(20000, 32000)
        if p in _used_ports:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, p))
        except OSError:
            continue
        finally:
            s.close()
        _used_ports.add(p)
        return p
    raise ProcError("no free port in 20000-31999")


def file_tail(path, n):
    """The last n lines of a file, or "" if it cannot be read."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError:
        return ""


def temp_dir(prefix, parent=None):
    """A fresh directory; the caller removes it (Member/Cluster cleanup)."""
    return tempfile.mkdtemp(prefix=prefix, dir=parent)


def http_status(host, port, method, path, body=None, timeout=1.0):
    """(status, body bytes) of one request on a fresh connection."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# --------------------------------------------------------------------------
# processes

_live = set()                       # Procs that may be running
_shutting_down = threading.Event()  # set by stop_all: no more spawns
_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """For Popen(preexec_fn=): the child gets SIGKILL when the thread that
    forked it exits (use from the main thread only)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Proc:
    """One process we started, its output appended to log_path; env: extra
    environment variables (on top of ours)."""

    def __init__(self, log_path, cwd=None, env=None):
        self.log_path = log_path
        self.cwd = cwd
        self.env = dict(env or {})
        self.proc = None
        self._log = None
        self._log_start = 0

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def spawn(self, argv):
        """Start argv (no waiting); a line "=== start <time>: <argv>" goes to
        the log first. PR_SET_PDEATHSIG fires when the forking *thread* exits,
        so only a spawn from the main thread asks for it."""
        if self.alive():
            raise ProcError("%s already running (pid %d)" % (self.log_path, self.pid))
        if _shutting_down.is_set():
            raise ProcError("shutting down: not starting %s" % argv[0])
        self._close_log()
        self._log = open(self.log_path, "ab")
        self._log.write(("\n=== start %s: %s\n" % (time.strftime("%H:%M:%S"),
                                                    " ".join(argv))).encode())
        self._log.flush()
        self._log_start = self._log.tell()
        main = threading.current_thread() is threading.main_thread()
        _live.add(self)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.cwd,
                                     env=dict(os.environ, **self.env) if self.env else None,
                                     start_new_session=True, close_fds=True,
                                     preexec_fn=die_with_parent if main else None)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self):
        return self.proc.returncode if self.proc is not None else None

    def signal_group(self, sig):
        """Send sig to our process group (the pid is our own child's)."""
        if self.alive():
            try:
                os.killpg(self.proc.pid, sig)
            except OSError:
                pass

    def kill(self):
        """SIGKILL (the whole process group) and reap."""
        self.signal_group(signal.SIGKILL)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close_log()
        _live.discard(self)

    def stop(self, timeout=5.0):
        """Graceful SIGTERM, SIGKILL after timeout seconds."""
        self.signal_group(signal.SIGTERM)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def wait_exit(self, timeout):
        """The exit status, or None if still running after timeout seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def _close_log(self):
        if self._log is not None:
            try:
                self._log.close()
            except OSError:
                pass
            self._log = None

    def log_tail(self, n=20):
        return file_tail(self.log_path, n)

    def output(self):
        """What the process wrote since its last spawn."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def stop_all():
    """Kill every process started here (no more spawns afterwards)."""
    _shutting_down.set()
    for p in list(_live):
        try:
            p.kill()
        except Exception:  # keep going: stop the rest
            pass


def _on_exit_signal(signum, frame):
    stop_all()
    raise SystemExit(128 + signum)


def install_exit_handlers():
    """SIGTERM/SIGINT/SIGHUP kill our servers, then exit 128+signal (atexit
    hooks run). Call from the main thread."""
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _on_exit_signal)


atexit.register(stop_all)


# --------------------------------------------------------------------------
# members and clusters of cetcd or etcd

def member_argv(binary, name, data_dir, client_url, peer_url, initial_cluster=None):
    """The flags every member gets, cetcd and etcd alike; a single member by
    default (extra flags are appended by the caller)."""
    return [binary, "--name", name, "--data-dir", data_dir,
            "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", initial_cluster or "%s=%s" % (name, peer_url)]


class Member(Proc):
    """One member: <dir>/<name> is its data dir, <dir>/<name>.log its log.
    Alone it runs a single-member cluster; a Cluster sets .cluster."""

    def __init__(self, binary, dir, name, extra_args=(), host=HOST):
        Proc.__init__(self, os.path.join(dir, name + ".log"), cwd=dir)
        self.binary = binary
        self.dir = dir
        self.name = name
        self.host = host
        self.data_dir = os.path.join(dir, name)
        self.extra_args = list(extra_args)
        self.cluster = None     # set by Cluster: its flags replace the single-member ones
        self.id = None          # hex member id, learnt from /v2/stats/self
        self.port = self.peer_port = None
        self.new_ports()

    url = property(lambda s: "http://%s:%d" % (s.host, s.port))
    peer_url = property(lambda s: "http://%s:%d" % (s.host, s.peer_port))

    def __repr__(self):
        return "<%s :%d %s>" % (self.name, self.port, "up" if self.alive() else "down")

    def new_ports(self):
        self.port, self.peer_port = free_port(), free_port()

    def argv(self):
        if self.cluster is not None:
            return self.cluster.member_argv(self)
        return member_argv(self.binary, self.name, self.data_dir, self.url,
                           self.peer_url) + self.extra_args

    def spawn(self, argv=None):
        """Start the member (its own argv() unless given; no waiting)."""
        Proc.spawn(self, argv or self.argv())
        return self

    def wait_answering(self, timeout=10.0):
        """Until GET /version answers 200. Raises ProcError (with the log's
        tail) if the process exits first or the deadline passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise ProcError("%s exited with %s at start:\n%s" % (
                    self.name, self.returncode, self.log_tail(15)))
            try:
                if http_status(self.host, self.port, "GET", "/version")[0] == 200:
                    return self
            except NETERR:
                pass
            time.sleep(0.05)
        raise ProcError("%s did not answer /version within %.0fs:\n%s" %
                        (self.name, timeout, self.log_tail(15)))

    def get_json(self, path, timeout=1.0):
        """The JSON of a 200 answer to GET path, or None (down, another
        status, not JSON)."""
        try:
            st, body = http_status(self.host, self.port, "GET", path, timeout=timeout)
            return json.loads(body.decode("utf-8", "replace")) if st == 200 else None
        except NETERR + (ValueError,):
            return None

    def stats_self(self, timeout=1.0):
        """/v2/stats/self as a dict, or None; notes the member's id."""
        js = self.get_json("/v2/stats/self", timeout)
        if not isinstance(js, dict) or not js.get("id"):
            return None
        self.id = js["id"]
        return js

    def index(self, timeout=1.0):
        """X-Etcd-Index of a local GET /v2/keys/ (None if no answer)."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            c.request("GET", "/v2/keys/")
            r = c.getresponse()
            r.read()
            v = r.getheader("X-Etcd-Index")
            return int(v) if v is not None else None
        except NETERR + (ValueError,):
            return None
        finally:
            c.close()

    def start_answering(self, timeout=10.0, attempts=3):
        """spawn() and wait_answering(); on "address already in use" (another
        process took a port between free_port and the bind) retry on new ports
        with an empty data dir."""
        for attempt in range(attempts):
            try:
                return self.spawn().wait_answering(timeout)
            except ProcError as e:
                self.stop()
                if attempt == attempts - 1 or "address already in use" not in str(e).lower():
                    raise
                self.new_ports()
                shutil.rmtree(self.data_dir, ignore_errors=True)

    def cleanup(self):
        """Stop and remove the member's directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Cluster:
    """N members bootstrapped statically with the same flags on both sides:
    member_argv plus --initial-cluster m0=P0,m1=P1,... --initial-cluster-state
    new --initial-cluster-token <unique> --heartbeat-interval H
    --election-timeout E, then extra_args. Members live in dir."""

    def __init__(self, binary, dir, n=3, heartbeat_ms=100, election_ms=1000,
                 extra_args=(), token=None, member_class=Member):
        self.binary = binary
        self.dir = dir
        self.n = n
        self.heartbeat_ms = heartbeat_ms
        self.election_ms = election_ms
        self.extra_args = list(extra_args)
        self.token = token or "cetcd-%d-%d-%06d" % (os.getpid(), int(time.time()),
                                                    random.randrange(10 ** 6))
        self.members = [member_class(binary, dir, "m%d" % i) for i in range(n)]
        for m in self.members:
            m.cluster = self

    def __getitem__(self, i):
        return self.members[i]

    def __iter__(self):
        return iter(self.members)

    def __len__(self):
        return len(self.members)

    @property
    def pids(self):
        return [m.pid for m in self.members]

    def initial_cluster(self):
        return ",".join("%s=%s" % (m.name, m.peer_url) for m in self.members)

    def member_argv(self, m):
        return member_argv(self.binary, m.name, m.data_dir, m.url, m.peer_url,
                           self.initial_cluster()) + [
            "--initial-cluster-state", "new",
            "--initial-cluster-token", self.token,
            "--heartbeat-interval", str(self.heartbeat_ms),
            "--election-timeout", str(self.election_ms)] + self.extra_args

    def live(self):
        return [m for m in self.members if m.alive()]

    def spawn_all(self):
        """Start every member at once (no waiting)."""
        for m in self.members:
            m.spawn()

    def start_answering(self, timeout=30.0, attempts=3):
        """spawn_all() and wait until each member answers /version; on a port
        clash start again on new ports with empty data dirs."""
        for attempt in range(attempts):
            self.spawn_all()
            try:
                for m in self.members:
                    m.wait_answering(timeout)
                return self
            except ProcError as e:
                self.kill_all()
                if attempt == attempts - 1 or "address already in use" not in str(e).lower():
                    raise
                for m in self.members:
                    m.new_ports()
                    shutil.rmtree(m.data_dir, ignore_errors=True)

    def kill_all(self):
        for m in self.members:
            m.kill()

    def stop_all(self):
        """SIGTERM to every member at once, then wait for each."""
        for m in self.members:
            m.signal_group(signal.SIGTERM)
        for m in self.members:
            m.stop()

    # leader and convergence
    def leader(self, timeout=1.0):
        """The member every live member agrees is leader right now, or None.
        Agreement: /v2/members/leader names the same member on every live
        member, and that member's /v2/stats/self says StateLeader and its
        id. (stats/self alone is not enough: etcd keeps "StateLeader" in a
        deposed leader's stats until it hears from the new leader.)"""
        ids = set()
        for m in self.live():
            js = m.get_json("/v2/members/leader", timeout)
            if not isinstance(js, dict):
                return None
            ids.add(js.get("id"))
        if len(ids) != 1:
            return None
        lid = ids.pop()
        for m in self.live():
            if m.id is None:
                m.stats_self(timeout)
            if m.id == lid:
                s = m.stats_self(timeout)
                if s is None or s.get("state") != "StateLeader" or s.get("id") != lid:
                    return None
                return m
        return None

    def wait_leader(self, timeout=10.0, not_member=None):
        """Poll (every 50 ms) until the live members agree on a leader
        (other than not_member). Returns the leader Member; ProcError after
        timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lm = self.leader()
            if lm is not None and lm is not not_member:
                return lm
            time.sleep(0.05)
        states = {m.name: (m.stats_self() or {}).get("state") for m in self.live()}
        raise ProcError("no agreed leader within %.1fs (states %s)" % (timeout, states))

    def wait_converged(self, timeout=10.0, members=None, settle=0.3):
        """Until the members (the live ones by default) report the same
        X-Etcd-Index and it holds for settle seconds. Returns that index;
        ProcError after timeout seconds."""
        ms = members or self.live()
        deadline = time.monotonic() + timeout
        prev = stable_since = idx = None
        while time.monotonic() < deadline:
            idx = [m.index() for m in ms]
            if None not in idx and len(set(idx)) == 1:
                if idx[0] == prev:
                    if time.monotonic() - stable_since >= settle:
                        return idx[0]
                else:
                    prev, stable_since = idx[0], time.monotonic()
            else:
                prev = None
            time.sleep(0.05)
        raise ProcError("members did not converge within %.1fs: %s" %
                        (timeout, dict(zip([m.name for m in ms], idx or []))))

    def log_tails(self, n=8):
        return "\n".join("--- %s\n%s" % (m.name, m.log_tail(n)) for m in self.members)

    def cleanup(self):
        """Kill every member and remove the cluster's directory."""
        self.kill_all()
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------
# proxies

def proxy_argv(binary, name, data_dir, client_url, initial_cluster, mode="on"):
    """The flags of a v2 proxy, cetcd and etcd alike (etcd 3.4: --proxy
    on|readonly; no peer URLs, no advertise URLs)."""
    return [binary, "--proxy", mode, "--name", name, "--data-dir", data_dir,
            "--listen-client-urls", client_url, "--initial-cluster", initial_cluster]


class Proxy(Proc):
    """One proxy: <dir>/<name> is its data dir (the cluster file is
    <data dir>/proxy/cluster), <dir>/<name>.log its log. initial_cluster is
    the --initial-cluster value (name=peerURL,...); extra_args go last
    (--proxy-refresh-interval and the like)."""

    def __init__(self, binary, dir, initial_cluster, name="proxy", mode="on",
                 extra_args=(), host=HOST):
        Proc.__init__(self, os.path.join(dir, name + ".log"), cwd=dir)
        self.binary = binary
        self.dir = dir
        self.name = name
        self.host = host
        self.mode = mode
        self.initial_cluster = initial_cluster
        self.data_dir = os.path.join(dir, name)
        self.extra_args = list(extra_args)
        self.port = free_port()

    url = property(lambda s: "http://%s:%d" % (s.host, s.port))
    cluster_file = property(lambda s: os.path.join(s.data_dir, "proxy", "cluster"))

    def __repr__(self):
        return "<proxy %s :%d %s>" % (self.name, self.port, "up" if self.alive() else "down")

    def argv(self):
        return proxy_argv(self.binary, self.name, self.data_dir, self.url,
                          self.initial_cluster, self.mode) + self.extra_args

    def spawn(self, argv=None):
        Proc.spawn(self, argv or self.argv())
        return self

    def endpoints(self, timeout=1.0):
        """The "endpoints" list of GET /v2/config/local/proxy, or None."""
        try:
            st, body = http_status(self.host, self.port, "GET", "/v2/config/local/proxy",
                                   timeout=timeout)
            js = json.loads(body.decode("utf-8", "replace")) if st == 200 else None
        except NETERR + (ValueError,):
            return None
        eps = js.get("endpoints") if isinstance(js, dict) else None
        return eps if isinstance(eps, list) else None

    def wait_ready(self, timeout=10.0, want=None):
        """Until /v2/config/local/proxy lists at least one endpoint (or, with
        want, exactly the URLs in want, in any order). Returns the list;
        ProcError (with the log's tail) if the process exits or the deadline
        passes."""
        deadline = time.monotonic() + timeout
        eps = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise ProcError("proxy %s exited with %s at start:\n%s" % (
                    self.name, self.returncode, self.log_tail(15)))
            eps = self.endpoints()
            if eps and (want is None or sorted(eps) == sorted(want)):
                return eps
            time.sleep(0.05)
        raise ProcError("proxy %s: endpoints %r (want %s) after %.0fs:\n%s" % (
            self.name, eps, sorted(want) if want else "any", timeout, self.log_tail(15)))

    def start_ready(self, timeout=10.0, attempts=3):
        """spawn() and wait_ready(); a port clash retries on a new port."""
        for attempt in range(attempts):
            try:
                self.spawn().wait_ready(timeout)
                return self
            except ProcError as e:
                self.stop()
                if attempt == attempts - 1 or "address already in use" not in str(e).lower():
                    raise
                self.port = free_port()
