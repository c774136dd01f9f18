#!/usr/bin/env python3
"""--config-file: etcd's YAML configuration file.

1. A member started from a file (etcd's sample keys, TLS-free) serves from
   the addresses and name in the file; the command line's --name and an
   ETCD_* variable given beside it are ignored, as etcd ignores them. Then
   the same through ETCD_CONFIG_FILE. Runs against CETCD_TARGET (cetcd or
   real etcd).
2. Bad files, differential: cetcd and real etcd 3.4 get the same files and
   must exit with the same status and the same error line (timestamps
   aside). Skipped when etcd is not installed."""

import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
import procs  # noqa: E402

BAD_FILES = [
    "name: 123\nsnapshot-count: -1\n",
    "snapshot-count: 1.5\n",
    "heartbeat-interval: \"100\"\n",
    "enable-v2: maybe\n",
    "client-transport-security:\n  cert-file: 5\n",
    "peer-transport-security: []\n",
    "cipher-suites: abc\n",
    "- a\n- b\n",
    "name: x\n  bad: : :\n",
    "x: [1,2\n",
    "initial-cluster-state: foo\n",
    "listen-peer-urls: foo\n",
    "advertise-client-urls: foo\n",
    "proxy: bogus\n",
    "heartbeat-interval: 100\nelection-timeout: 100\n",
]


def write(dir, name, text):
    path = os.path.join(dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def member_file(dir, name, cport, pport):
    url, purl = "http://127.0.0.1:%d" % cport, "http://127.0.0.1:%d" % pport
    return ("# as etcd's etcd.conf.yml.sample\n"
            "name: '%s'\n"
            "data-dir: %s\n"
            "snapshot-count: 10000\n"
            "heartbeat-interval: 100\n"
            "election-timeout: 1000\n"
            "listen-peer-urls: %s\n"
            "listen-client-urls: %s\n"
            "initial-advertise-peer-urls: %s\n"
            "advertise-client-urls: %s\n"
            "initial-cluster: %s=%s\n"
            "initial-cluster-token: 'etcd-cluster'\n"
            "initial-cluster-state: 'new'\n"
            "enable-v2: true\n"
            "log-level: info\n"
            "client-transport-security:\n"
            "  client-cert-auth: false\n"
            "peer-transport-security:\n"
            "  auto-tls: false\n"
            % (name, os.path.join(dir, name), purl, url, purl, url, name, purl))


def wait_answering(proc, port, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ct.true(proc.alive(), "exited at start:\n%s" % proc.log_tail(10))
        try:
            st, _ = procs.http_status("127.0.0.1", port, "GET", "/version", timeout=1.0)
            if st == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise ct.Fail("not answering after %.0fs:\n%s" % (timeout, proc.log_tail(10)))


def serve_from_file(binary, tmp, name, by_env):
    """Start binary from a file (by flag or by ETCD_CONFIG_FILE), with a
    --name and an ETCD_* variable that must not count; check it serves."""
    cport, pport = procs.free_port(), procs.free_port()
    path = write(tmp, name + ".yml", member_file(tmp, name, cport, pport))
    env = {"ETCD_NAME": "from-env", "ETCD_SNAPSHOT_COUNT": "x"}
    argv = [binary, "--name", "from-flag"]
    if by_env:
        env["ETCD_CONFIG_FILE"] = path
    else:
        argv += ["--config-file", path]
    p = procs.Proc(os.path.join(tmp, name + ".log"), cwd=tmp, env=env)
    p.spawn(argv)
    try:
        wait_answering(p, cport)
        st, body = procs.http_status("127.0.0.1", cport, "PUT", "/v2/keys/cf?value=1",
                                     timeout=5.0)
        ct.true(st in (200, 201), "PUT: %d %s" % (st, body))
        st, body = procs.http_status("127.0.0.1", cport, "GET", "/v2/members", timeout=5.0)
        ct.eq(st, 200, "GET /v2/members")
        ms = json.loads(body)["members"]
        ct.eq([(m["name"], m["clientURLs"]) for m in ms],
              [(name, ["http://127.0.0.1:%d" % cport])], "members")
        ct.true(os.path.isdir(os.path.join(tmp, name, "member")), "the file's data dir")
        ct.true("Loading server configuration from" in p.output(), "etcd's line")
    finally:
        p.stop()


def first_error(text):
    """The line etcd ends with, timestamp removed."""
    lines = [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ ", "", ln)
             for ln in text.splitlines()]
    for ln in lines:
        if ln.startswith(("E | ", "C | ", "unexpected error", "I | unexpected")):
            return ln
    return None


def run_bad(binary, tmp, path):
    p = procs.Proc(os.path.join(tmp, "bad.log"), cwd=tmp)
    p.spawn([binary, "--config-file", path])
    rc = p.wait_exit(10)
    out = p.output()
    p.stop()
    return rc, first_error(out)


def main():
    kind = ct.target()
    binary = ct.etcd_bin() if kind == "etcd" else ct.cetcd_bin()
    if not binary:
        ct.skip("%s binary not found" % kind)
    tmp = procs.temp_dir("cetcd-config-file-")
    passed = failed = 0
    tests = [("serves from --config-file", lambda: serve_from_file(binary, tmp, "m1", False)),
             ("serves from ETCD_CONFIG_FILE", lambda: serve_from_file(binary, tmp, "m2", True))]
    etcd, cetcd = ct.etcd_bin(), ct.cetcd_bin()
    for i, text in enumerate(BAD_FILES):
        def diff(text=text, i=i):
            if not (etcd and cetcd):
                raise ct.Fail("needs both etcd and cetcd")
            path = write(tmp, "bad%d.yml" % i, text)
            want, got = run_bad(etcd, tmp, path), run_bad(cetcd, tmp, path)
            ct.true(want[0] != 0 and want[1], "etcd refuses %r: %s" % (text, want))
            ct.eq(got, want, "cetcd vs etcd on %r" % text)
        tests.append(("bad file %d like etcd" % i, diff))
    try:
        for name, fn in tests:
            if name.startswith("bad") and not (etcd and cetcd):
                print("skip %s (needs etcd and cetcd)" % name)
                continue
            t0 = time.time()
            try:
                fn()
                passed += 1
                print("ok   %s (%.2fs)" % (name, time.time() - t0))
            except (ct.Fail, AssertionError, procs.ProcError) as e:
                failed += 1
                print("FAIL %s: %s" % (name, e))
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    procs.install_exit_handlers()
    sys.exit(main())
