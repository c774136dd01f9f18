# scenarios/baseline.py - context, not a comparison: the get64 load against a do-nothing
# HTTP server (baseline/mhd_hello.c: one-thread epoll libmicrohttpd, like cetcd's
# listener, fixed etcd-like reply). Shows what HTTP + wrk alone cost on this machine.
# The server is compiled on the fly with $CC (default cc) and pkg-config libmicrohttpd.

from benchlib import Flavor, Server, compile_c, scenario
from scenarios.kv import THROUGHPUT, _get


def build_mhd_hello(ctx):
    return compile_c(ctx, "baseline/mhd_hello.c", "mhd_hello", pkgs=("libmicrohttpd",))


class HelloServer(Server):
    def argv(self):
        return [self.flavor.binary, str(self.port)]


def _start(ctx, flavor, tag):
    return HelloServer(Flavor("mhd-hello", build_mhd_hello(ctx), []), ctx.tmp_root, tag).start()


@scenario("http64", THROUGHPUT, order=1, start=_start, context=True,
          help="context: get64's load against a do-nothing one-thread MHD server")
def http64(ctx, srv):
    return _get(ctx, srv, 64)
