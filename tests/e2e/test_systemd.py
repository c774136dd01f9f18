#!/usr/bin/env python3
"""contrib/systemd without systemd: read each unit's ExecStart= and
EnvironmentFile= (the file of the same name in contrib/systemd/), put a temp
data dir and free ports in place of the environment file's, start the
command line with exactly that environment (nothing else ETCD_*), and check
it serves: cetcd.service as a member (write, read, /health), then
cetcd-proxy.service in front of it (a write through the proxy read back from
the member). The binary is CETCD_BIN (or ./cetcd), in place of /usr/bin/cetcd.
CETCD_TARGET=etcd runs the same units with real etcd (ETCD_ENABLE_V2=true
added)."""

import json
import os
import shlex
import shutil
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


def unit_command(unit, subst):
    """(argv, env) the way systemd would start the unit, with subst applied
    to the environment file's values (old -> new substrings) and the data
    dir replaced."""
    svc = parse_unit(unit)
    ct.eq(svc.get("Type"), ["simple"], unit + " Type")
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
    def __init__(self, unit, subst, datadir, logdir):
        argv, env = unit_command(unit, subst)
        ct.true("ETCD_DATA_DIR" in env, unit + ": ETCD_DATA_DIR in its environment")
        env["ETCD_DATA_DIR"] = datadir
        kind = ct.target()
        binary = ct.etcd_bin() if kind == "etcd" else ct.cetcd_bin()
        if not binary:
            ct.skip("%s binary not found" % kind)
        if kind == "etcd":
            env["ETCD_ENABLE_V2"] = "true"
        base = {k: v for k, v in os.environ.items() if not k.startswith("ETCD_")}
        procs.Proc.__init__(self, os.path.join(logdir, unit + ".log"), cwd=logdir)
        self.env_full = dict(base, **env)
        self.argv = [binary] + argv[1:]

    def start(self):
        # Proc.spawn takes extra variables on top of ours; ours may hold ETCD_*.
        saved = dict(os.environ)
        try:
            for k in [k for k in os.environ if k.startswith("ETCD_")]:
                del os.environ[k]
            self.env = {k: v for k, v in self.env_full.items() if k.startswith("ETCD_")}
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
        cport, pport, xport = procs.free_port(), procs.free_port(), procs.free_port()
        member = UnitProc("cetcd.service", {"127.0.0.1:2379": "127.0.0.1:%d" % cport,
                                            "127.0.0.1:2380": "127.0.0.1:%d" % pport},
                          os.path.join(tmp, "member"), tmp)
        started.append(member)
        member.start()
        wait_serving(member, cport)
        st, _ = put(cport, "/systemd/member", "up")
        ct.true(st in (200, 201), "PUT on the member: %d" % st)
        ct.eq(get_value(cport, "/systemd/member"), "up", "member value")
        st, body = procs.http_status("127.0.0.1", cport, "GET", "/health", timeout=5.0)
        ct.eq(st, 200, "/health")
        ct.eq(json.loads(body).get("health"), "true", "/health body")
        print("ok   cetcd.service serves on %d" % cport)

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
    except ct.Fail as e:
        print("FAIL %s" % e)
        return 1
    finally:
        for p in reversed(started):
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("2 passed, 0 failed")
    return 0


if __name__ == "__main__":
    procs.install_exit_handlers()
    sys.exit(main())
