# scenarios/mem.py - memory and disk footprint: mem100k (full mode only).
#
# A fresh server per round: RSS (VmRSS of /proc/PID/status) once it is ready, then
# 100,000 PUTs of distinct keys with 100-byte values through the bounded asyncio
# loader (16 keep-alive connections, no pipelining), RSS again after a short settle,
# and the data dir's disk usage (allocated blocks, like du -sk).

import time

from benchlib import BenchError, Metric, du_kib, load_requests, put_request, rss_kib, scenario

N_KEYS = 100000
VALUE = b"x" * 100
CONNS = 16


@scenario("mem100k",
          [Metric("RSS before MiB", fmt="{:.1f}"), Metric("RSS after MiB", fmt="{:.1f}"),
           Metric("RSS delta MiB", fmt="{:.1f}"), Metric("data dir MiB", fmt="{:.1f}"),
           Metric("load s", fmt="{:.1f}"), Metric("errors", agg="sum")],
          modes=("full",), order=90, fresh_per_round=True,
          help="RSS and data-dir size before/after loading 100k keys of 100 bytes")
def mem100k(ctx, srv):
    time.sleep(1.0)
    before = rss_kib(srv.pid)
    n = ctx.scale_count(N_KEYS)
    reqs = (put_request(srv.port, "/v2/keys/bench/mem/k%06d" % i, VALUE) for i in range(n))
    st = load_requests(srv.port, reqs, connections=CONNS, timeout=240.0)
    if st["ok"] + st["bad"] != n:
        raise BenchError("loader sent %d of %d" % (st["ok"] + st["bad"], n))
    time.sleep(2.0)
    after = rss_kib(srv.pid)
    return {
        "RSS before MiB": before / 1024.0,
        "RSS after MiB": after / 1024.0,
        "RSS delta MiB": (after - before) / 1024.0,
        "data dir MiB": du_kib(srv.data_dir) / 1024.0,
        "load s": st["seconds"],
        "errors": st["bad"],
    }
