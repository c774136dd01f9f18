# scenarios/auth.py - v2 auth (issue 14): get64auth, GET of one key at 64 connections
# with HTTP Basic auth on, as a user whose role reads a prefix ("/bench*").
#
# Setup (per server): the key, the root user, role benchread (read /bench*), user
# bench in it, auth enabled, and the guest role deleted, so that every measured
# request is authenticated (a request without credentials is checked to get 401).
# Compare with get64 (the same GET, auth off) in the same run: issue 14's targets are
# get64auth(cetcd) >= 0.85 x get64(cetcd) and >= 50 x get64auth(etcd). etcd bcrypts
# the password on every request; cetcd checks it once and caches the result.

import base64
import json

from benchlib import BenchError, http_request, run_wrk, scenario
from scenarios.kv import GET_PATH, THROUGHPUT, _preload_get, _wrk_metrics

ROOT = "Basic " + base64.b64encode(b"root:benchroot").decode()
USER = "Basic " + base64.b64encode(b"bench:benchpw").decode()


def _call(srv, method, path, obj=None, auth=None, want=(200, 201)):
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    st, body = http_request(srv.port, method, path,
                            body=json.dumps(obj) if obj is not None else None,
                            headers=headers, timeout=10.0)
    if st not in want:
        raise BenchError("auth setup: %s %s -> %d %r" % (method, path, st, body[:200]))
    return body


def _setup_auth(ctx, srv):
    _preload_get(ctx, srv)
    _call(srv, "PUT", "/v2/auth/users/root", {"user": "root", "password": "benchroot"})
    _call(srv, "PUT", "/v2/auth/roles/benchread",
          {"role": "benchread", "permissions": {"kv": {"read": ["/bench*"]}}})
    _call(srv, "PUT", "/v2/auth/users/bench",
          {"user": "bench", "password": "benchpw", "roles": ["benchread"]})
    _call(srv, "PUT", "/v2/auth/enable")
    _call(srv, "DELETE", "/v2/auth/roles/guest", auth=ROOT)
    st, body = http_request(srv.port, "GET", GET_PATH, headers={"Authorization": USER})
    if st != 200:
        raise BenchError("auth setup: GET as bench -> %d %r" % (st, body[:200]))
    st, body = http_request(srv.port, "GET", GET_PATH)
    if st != 401:
        raise BenchError("auth setup: GET without credentials -> %d, not 401" % st)


@scenario("get64auth", THROUGHPUT, order=12, setup=_setup_auth,
          help="GET one 16-byte key, 64 connections, Basic auth on (a user with a prefix role)")
def get64auth(ctx, srv):
    # etcd bcrypts every request (tens of ms of CPU): its 64 connections' requests all
    # finish about together, seconds apart, so a run lasts at least 8 s and wrk waits
    # up to 10 s for an answer
    res = run_wrk(ctx, srv.url + GET_PATH, "get.lua", 64, ctx.wrk_threads,
                  max(ctx.duration, 8), timeout_s=10, headers=("Authorization: " + USER,))
    return _wrk_metrics(res, res["non2xx"] + res["socket_errors"])
