#!/usr/bin/env python3
"""contrib/systemd without systemd: read each unit's ExecStart= and
EnvironmentFile= (the file of the same name in contrib/systemd/), put a temp
data dir and free ports in place of the environment file's, start the
command line with exactly that environment (nothing else ETCD_*), and check
it serves: cetcd.service as a member (Type=notify: READY=1 arrives on
$NOTIFY_SOCKET, a datagram socket of ours, and then it serves: write, read,
/health; an abstract socket "@name" too), then
cetcd-proxy.service in front of it (a write through the proxy read back from
the member). The binary is CETCD_BIN (or ./cetcd), in place of /usr/bin/cetcd.
CETCD_TARGET=etcd runs the same units with real etcd (ETCD_ENABLE_V2=true
added)."""

import json
import os
import select
import shlex
import shutil
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
import procs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEMD = os.path.join(HERE, "..", "..", "contrib", "systemd")


def parse_unit(name):
    """{key: [values]} of the unit's [Service] section."""
    out, section = {}, None
    with open(os.path.join(SYSTEMD, name)) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            k, _, v = line.partition("=")
            if section == "Service":
                out.setdefault(k.strip(), []).append(v.strip())
    return out


def parse_env_file(path):
    """systemd EnvironmentFile syntax as the units use it: KEY=value lines."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            k, sep, v = line.partition("=")
            ct.true(sep and k.strip().startswith("ETCD_"), "bad line in %s: %r" % (path, line))
            env[k.strip()] = v.strip()
    return env


def unit_command(unit, subst, unit_type="simple"):
    """(argv, env) the way systemd would start the unit, with subst applied
    to the environment file's values (old -> new substrings) and the data
    dir replaced."""
    svc = parse_unit(unit)
    ct.eq(svc.get("Type"), [unit_type], unit + " Type")
    ct.eq(len(svc.get("ExecStart", [])), 1, unit + " ExecStart")
    argv = shlex.split(svc["ExecStart"][0])
    ct.eq(argv[0], "/usr/bin/cetcd", unit + " binary")
    env = {}
    for ef in svc.get("EnvironmentFile", []):
        env.update(parse_env_file(os.path.join(SYSTEMD, os.path.basename(ef.lstrip("-")))))
    for ev in svc.get("Environment", []):
        k, _, v = ev.partition("=")
        env[k] = v
    for k, v in list(env.items()):
        for old, new in subst.items():
            v = v.replace(old, new)
        env[k] = v
    return argv, env


class UnitProc(procs.Proc):
    def __init__(self, unit, subst, datadir, logdir, unit_type="simple", extra_env=None):
        argv, env = unit_command(unit, subst, unit_type)
        env.update(extra_env or {})
        ct.true("ETCD_DATA_DIR" in env, unit + ": ETCD_DATA_DIR in its environment")
        env["ETCD_DATA_DIR"] = datadir
        kind = ct.target()
        binary = ct.etcd_bin() if kind == "etcd" else ct.cetcd_bin()
        if not binary:
            ct.skip("%s binary not found" % kind)
        if kind == "etcd":
            env["ETCD_ENABLE_V2"] = "true"
        procs.Proc.__init__(self, os.path.join(logdir, os.path.basename(datadir) + ".log"),
                            cwd=logdir)
        self.unit_env = env
        self.argv = [binary] + argv[1:]

    def start(self):
        # Proc.spawn takes extra variables on top of ours; ours may hold ETCD_*.
        saved = dict(os.environ)
        try:
            for k in [k for k in os.environ if k.startswith("ETCD_")]:
                del os.environ[k]
            self.env = dict(self.unit_env)
            self.spawn(self.argv)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def wait_serving(p, port, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not p.alive():
            raise ct.Fail("exited (%s); log:\n%s" % (p.returncode, p.log_tail(15)))
        try:
            st, _ = procs.http_status("127.0.0.1", port, "GET", "/v2/keys/", timeout=1.0)
            if st == 200:
                return
        except procs.NETERR:
            pass
        time.sleep(0.1)
    raise ct.Fail("not serving on %d after %.0fs; log:\n%s" % (port, timeout, p.log_tail(15)))


class NotifySocket:
    """An AF_UNIX datagram socket, as systemd's for Type=notify units: a path
    in dir, or an abstract name ("@...")."""

    def __init__(self, dir, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "cetcd-test-%d-%d" % (os.getpid(), procs.free_port())
            self.sock.bind("\0" + name)
            self.env = "@" + name
        else:
            self.env = os.path.join(dir, "notify.sock")
            self.sock.bind(self.env)

    def wait_ready(self, p, timeout=15.0):
        """The messages received until one holds READY=1."""
        deadline, got = time.time() + timeout, []
        while time.time() < deadline:
            if not p.alive():
                raise ct.Fail("exited (%s) before READY=1; log:\n%s" % (p.returncode, p.log_tail(15)))
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if r:
                msg = self.sock.recv(4096).decode()
                got.append(msg)
                if "READY=1" in msg.split("\n"):
                    return got
        raise ct.Fail("no READY=1 within %.0fs (got %r); log:\n%s" % (timeout, got, p.log_tail(15)))

    def close(self):
        self.sock.close()


def notify_member(tmp, name, abstract, started):
    """Start cetcd.service with NOTIFY_SOCKET; once READY=1 is in, it must
    serve at once. Returns (proc, client port, peer port)."""
    cport, pport = procs.free_port(), procs.free_port()
    ns = NotifySocket(tmp, abstract)
    try:
        p = UnitProc("cetcd.service", {"127.0.0.1:2379": "127.0.0.1:%d" % cport,
                                       "127.0.0.1:2380": "127.0.0.1:%d" % pport},
                     os.path.join(tmp, name), tmp, "notify", {"NOTIFY_SOCKET": ns.env})
        started.append(p)
        p.start()
        ns.wait_ready(p)
    finally:
        ns.close()
    st, _ = procs.http_status("127.0.0.1", cport, "GET", "/v2/keys/", timeout=2.0)
    ct.eq(st, 200, "GET /v2/keys/ right after READY=1")
    return p, cport, pport


def put(port, key, value):
    body = urllib.parse.urlencode({"value": value})
    return procs.http_status("127.0.0.1", port, "PUT", "/v2/keys" + key, body=body, timeout=5.0)


def get_value(port, key):
    st, body = procs.http_status("127.0.0.1", port, "GET", "/v2/keys" + key, timeout=5.0)
    ct.eq(st, 200, "GET %s on %d" % (key, port))
    return json.loads(body)["node"]["value"]


def main():
    tmp = procs.temp_dir("cetcd-systemd-")
    started = []
    try:
        member, cport, pport = notify_member(tmp, "member", False, started)
        xport = procs.free_port()
        st, _ = put(cport, "/systemd/member", "up")
        ct.true(st in (200, 201), "PUT on the member: %d" % st)
        ct.eq(get_value(cport, "/systemd/member"), "up", "member value")
        st, body = procs.http_status("127.0.0.1", cport, "GET", "/health", timeout=5.0)
        ct.eq(st, 200, "/health")
        ct.eq(json.loads(body).get("health"), "true", "/health body")
        print("ok   cetcd.service: READY=1 on a path socket, serves on %d" % cport)

        proxy = UnitProc("cetcd-proxy.service", {"127.0.0.1:2379": "127.0.0.1:%d" % xport,
                                                 "127.0.0.1:2380": "127.0.0.1:%d" % pport},
                         os.path.join(tmp, "proxy"), tmp)
        started.append(proxy)
        proxy.start()
        wait_serving(proxy, xport)
        st, _ = put(xport, "/systemd/proxy", "through")
        ct.true(st in (200, 201), "PUT through the proxy: %d" % st)
        ct.eq(get_value(cport, "/systemd/proxy"), "through", "written through the proxy")
        ct.true(os.path.exists(os.path.join(tmp, "proxy", "proxy", "cluster")),
                "the proxy keeps <data-dir>/proxy/cluster")
        print("ok   cetcd-proxy.service serves on %d, forwards to the member" % xport)

        other, oport, _ = notify_member(tmp, "abstract", True, started)
        other.stop()
        print("ok   cetcd.service: READY=1 on an abstract socket, serves on %d" % oport)
    except ct.Fail as e:
        print("FAIL %s" % e)
        return 1
    finally:
        for p in reversed(started):
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("3 passed, 0 failed")
    return 0


if __name__ == "__main__":
    procs.install_exit_handlers()
    sys.exit(main())
