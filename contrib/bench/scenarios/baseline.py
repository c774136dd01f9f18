# scenarios/baseline.py - context, not a comparison: the get64 load against a do-nothing
# HTTP server (baseline/mhd_hello.c: one-thread epoll libmicrohttpd, like cetcd's
# listener, fixed etcd-like reply). Shows what HTTP + wrk alone cost on this machine.
# The server is compiled on the fly with $CC (default cc) and pkg-config libmicrohttpd.

import os
import shlex
import subprocess

from benchlib import BENCH_DIR, BenchError, Flavor, Server, scenario
from scenarios.kv import THROUGHPUT, _get

SRC = os.path.join(BENCH_DIR, "baseline", "mhd_hello.c")


def _build(ctx):
    exe = os.path.join(ctx.tmp_root, "mhd_hello")
    if os.path.exists(exe):
        return exe
    try:
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmicrohttpd"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True,
                               timeout=30).stdout.decode().split()
        argv = shlex.split(os.environ.get("CC", "cc")) + ["-O2", "-o", exe, SRC] + flags
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        raise BenchError("cannot build %s: %s" % (SRC, e))
    if p.returncode != 0:
        raise BenchError("cannot build %s: %s" % (SRC, p.stdout.decode("utf-8", "replace")[-500:]))
    return exe


class HelloServer(Server):
    def argv(self):
        return [self.flavor.binary, str(self.port)]


def _start(ctx, flavor, tag):
    return HelloServer(Flavor("mhd-hello", _build(ctx), []), ctx.tmp_root, tag).start()


@scenario("http64", THROUGHPUT, order=1, start=_start, context=True,
          help="context: get64's load against a do-nothing one-thread MHD server")
def http64(ctx, srv):
    return _get(ctx, srv, 64)
