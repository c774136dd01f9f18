# scenarios/baseline.py - context, not a comparison: the get64 load against a do-nothing
# HTTP server (baseline/mhd_hello.c: one-thread epoll libmicrohttpd, like cetcd's
# listener, fixed etcd-like reply). Shows what HTTP + wrk alone cost on this machine.
# The server is compiled on the fly with $CC (default cc) and pkg-config libmicrohttpd;
# start_hello(fsync=True) starts it in fsync mode for put1floor (scenarios/durable.py).

from benchlib import Flavor, Server, compile_c, scenario
from scenarios.kv import THROUGHPUT, _get


def build_mhd_hello(ctx):
    return compile_c(ctx, "baseline/mhd_hello.c", "mhd_hello", pkgs=("libmicrohttpd",))


class HelloServer(Server):
    """mhd_hello on a free port; in fsync mode its PUTs write + fdatasync a file in
    the server's temp dir."""
    fsync = False

    def argv(self):
        return [self.flavor.binary, str(self.port)] + ([self.dir] if self.fsync else [])


def start_hello(ctx, tag, fsync=False):
    name = "mhd-hello-fsync" if fsync else "mhd-hello"
    srv = HelloServer(Flavor(name, build_mhd_hello(ctx), []), ctx.tmp_root, tag)
    srv.fsync = fsync
    return srv.start()


def _start(ctx, flavor, tag):
    return start_hello(ctx, tag)


@scenario("http64", THROUGHPUT, order=1, start=_start, context=True,
          help="context: get64's load against a do-nothing one-thread MHD server")
def http64(ctx, srv):
    return _get(ctx, srv, 64)
