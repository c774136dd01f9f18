# scenarios/growth.py - write availability while a cluster grows 1 -> 2 -> 3
# (scenario "growth", quick and full; a fresh seed member per round).
#
# One client thread writes to the seed member in a loop (one PUT at a time, 2 s
# timeout each, 50 ms pause after a failure) while, twice, a member is added with
# POST /v2/members, the "operator" waits GAP_S seconds, then starts it with
# --initial-cluster-state existing and the test waits until it answers GET
# /v2/keys/. Figures: writes that failed (non-2xx or timeout), the slowest write,
# writes acknowledged. etcd 3.4 adds a voter at once: from the add of the second
# member until it starts, a 2-member cluster has no quorum and every write waits
# (or times out). cetcd adds a learner that votes only once it has caught up, so
# nothing waits. tests/e2e/test_membership.py checks the same thing.
#
# The joiners are tests/lib/procs.py members (killed at the end of the round, temp
# dirs removed). A change right after a start may get etcd's strict-reconfig 500
# (it wants peers connected for 5 s): the add is retried for up to 12 s.

import json
import shutil
import threading
import time

from benchlib import BenchError, Metric, http_request, scenario  # noqa: E402
import procs  # noqa: E402  (on sys.path through benchlib)

GAP_S = 3.0          # seconds between an add and the new member's start
WRITE_TIMEOUT = 2.0  # seconds per PUT


class _Writer(threading.Thread):
    def __init__(self, port):
        threading.Thread.__init__(self, daemon=True)
        self.port = port
        self.ok = self.failed = 0
        self.max_s = 0.0
        self.halt = threading.Event()

    def run(self):
        i = 0
        while not self.halt.is_set():
            t0 = time.monotonic()
            try:
                st, _ = http_request(self.port, "PUT", "/v2/keys/bench/growth/%d" % i,
                                     body="value=w", timeout=WRITE_TIMEOUT)
                good = 200 <= st < 300
            except OSError:
                good = False
            self.max_s = max(self.max_s, time.monotonic() - t0)
            if good:
                self.ok += 1
            else:
                self.failed += 1
                time.sleep(0.05)
            i += 1


def _add(seed, peer_url):
    body = json.dumps({"peerURLs": [peer_url]}).encode()
    deadline = time.monotonic() + 12.0
    while True:
        st, out = http_request(seed.port, "POST", "/v2/members", body=body,
                               headers={"Content-Type": "application/json"}, timeout=5.0)
        if st == 201 or time.monotonic() > deadline or st != 500:
            break
        time.sleep(0.5)
    if st != 201:
        raise BenchError("member add: HTTP %d %r" % (st, out[:200]))


def _answering(m):
    try:
        st, _ = http_request(m.port, "GET", "/v2/keys/", timeout=1.0)
        return st == 200
    except OSError:
        return False


@scenario("growth",
          [Metric("failed writes", agg="sum"), Metric("max write ms", agg="max"),
           Metric("writes ok")],
          order=95, fresh_per_round=True,
          help="writes to the seed while the cluster grows 1 -> 2 -> 3 (add, %.0f s, start)"
          % GAP_S)
def growth(ctx, srv):
    """Writes during 1 -> 2 -> 3 growth: failed writes, the slowest one."""
    joiners = []
    w = _Writer(srv.port)
    w.start()
    try:
        members = ["%s=%s" % (srv.name, srv.peer_url)]
        for name in ("g1", "g2"):
            j = procs.Member(srv.binary, procs.temp_dir("growth-" + name + "-", ctx.tmp_root),
                             name, srv.extra_args)
            joiners.append(j)
            _add(srv, j.peer_url)
            time.sleep(GAP_S)
            members.append("%s=%s" % (name, j.peer_url))
            j.spawn(procs.member_argv(j.binary, name, j.data_dir, j.url, j.peer_url,
                                      ",".join(members))
                    + ["--initial-cluster-state", "existing"] + list(srv.extra_args))
            deadline = time.monotonic() + 30.0
            while not _answering(j):
                if time.monotonic() > deadline or not j.alive():
                    raise BenchError("%s did not join; log tail:\n%s" % (name, j.log_tail(15)))
                time.sleep(0.1)
            time.sleep(0.5)
    finally:
        w.halt.set()
        w.join(WRITE_TIMEOUT + 3)
        for j in joiners:
            procs.Proc.stop(j)
            shutil.rmtree(j.dir, ignore_errors=True)
    return {"failed writes": w.failed, "max write ms": w.max_s * 1000.0, "writes ok": w.ok}
