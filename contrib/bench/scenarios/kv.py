# scenarios/kv.py - key-space throughput/latency: get64, get256, put64, put256, put1.
#
# All loads come from wrk (contrib/bench/get.lua, put.lua) with 2 threads for a fixed
# duration (ctx.duration seconds; --quick shortens it). Latencies are reported in ms.

from benchlib import BenchError, Metric, http_request, run_wrk, scenario

GET_PATH = "/v2/keys/bench/get"
GET_VALUE = "0123456789abcdef"  # small value: 16 bytes
PUT_VALUE_LEN = 32


def _wrk_metrics(res, errors):
    return {
        "req/s": res["rps"],
        "p50 ms": res["p50_us"] / 1000.0,
        "p99 ms": res["p99_us"] / 1000.0,
        "errors": errors,
    }


THROUGHPUT = [Metric("req/s"), Metric("p50 ms", fmt="{:.2f}"), Metric("p99 ms", fmt="{:.2f}"),
              Metric("errors", agg="sum")]


def _preload_get(ctx, srv):
    st, body = http_request(srv.port, "PUT", GET_PATH, body="value=" + GET_VALUE)
    if not 200 <= st < 300:
        raise BenchError("preload PUT %s -> %d %r" % (GET_PATH, st, body[:200]))
    st, body = http_request(srv.port, "GET", GET_PATH)
    if st != 200 or GET_VALUE.encode() not in body:
        raise BenchError("preload GET %s -> %d %r" % (GET_PATH, st, body[:200]))


def _get(ctx, srv, conns):
    res = run_wrk(ctx, srv.url + GET_PATH, "get.lua", conns, ctx.wrk_threads, ctx.duration)
    # get.lua has no per-request Lua: non-2xx here means status > 399 (wrk's count).
    return _wrk_metrics(res, res["non2xx"] + res["socket_errors"])


def _put(ctx, srv, conns, threads=None):
    # A distinct prefix per run, so rounds never overwrite each other's keys.
    ctx.seq += 1
    prefix = "/v2/keys/bench/put/r%d" % ctx.seq
    res = run_wrk(ctx, srv.url, "put.lua", conns, threads or ctx.wrk_threads, ctx.duration,
                  script_args=(prefix, PUT_VALUE_LEN))
    return _wrk_metrics(res, res["non2xx"] + res["socket_errors"])


@scenario("get64", THROUGHPUT, order=10, setup=_preload_get,
          help="GET one existing 16-byte key, 64 connections")
def get64(ctx, srv):
    return _get(ctx, srv, 64)


@scenario("get256", THROUGHPUT, order=11, setup=_preload_get,
          help="GET one existing 16-byte key, 256 connections")
def get256(ctx, srv):
    return _get(ctx, srv, 256)


@scenario("put64", THROUGHPUT, order=20,
          help="PUT value=<32 bytes> to distinct keys, 64 connections")
def put64(ctx, srv):
    return _put(ctx, srv, 64)


@scenario("put256", THROUGHPUT, order=21,
          help="PUT value=<32 bytes> to distinct keys, 256 connections")
def put256(ctx, srv):
    return _put(ctx, srv, 256)


@scenario("put1", [Metric("p50 ms", fmt="{:.3f}"), Metric("p99 ms", fmt="{:.3f}"),
                   Metric("req/s"), Metric("errors", agg="sum")],
          order=22, help="PUT latency with 1 connection (1 wrk thread)")
def put1(ctx, srv):
    return _put(ctx, srv, 1, threads=1)
