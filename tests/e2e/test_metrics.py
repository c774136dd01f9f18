#!/usr/bin/env python3
"""GET /metrics (issue 15): Prometheus text exposition on a member's client
port, on --listen-metrics-urls, and on a proxy, read with a real
exposition-format parser (Debian's python3-prometheus-client).

What etcd 3.4.23 does (the tests that are not cetcd-only pass against it):
  * /metrics answers 200 "text/plain; version=0.0.4; charset=utf-8" on the
    client port; --listen-metrics-urls starts a listener with /metrics and
    /health only (/version there is 404).
  * etcd_server_proposals_committed_total/applied_total are gauges (the raft
    indexes), etcd_disk_wal_write_bytes_total a gauge too; a CounterVec shows
    only the label values it has seen (no peers, no etcd_network_* lines).
  * a PUT moves proposals committed/applied, etcd_debugging_store_writes_total
    {action="set"}, etcd_http_received_total{method="PUT"} and the WAL fsync
    histogram; a GET of a missing key counts etcd_http_failed_total
    {code="404",method="GET"}; a watch counts watch_requests_total and is not
    in etcd_http_received_total.
  * peers: etcd_network_peer_sent_bytes_total{To=<id>} and
    received_bytes_total{From=<id>} for each other member; killing the leader
    moves etcd_server_leader_changes_seen_total on the others.
  * a v2 proxy serves its own /metrics (etcd_proxy_requests_total{method},
    etcd_proxy_handled_total{code,method}) and does not forward /metrics.

Run: python3 tests/e2e/test_metrics.py [name-filter...]; CETCD_TARGET=etcd for
real etcd. Exit 77 when the parser is not installed (contrib/install-deps.sh
--test installs python3-prometheus-client).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402
from cetcdtest import eq, true, needs  # noqa: E402
import clustertest  # noqa: E402
from clustertest import (wait_for, start_or_skip, start_proxy, run_scenarios, target,  # noqa: E402
                         NETERR)
import procs  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # python3 may be another interpreter than Debian's (pyenv): the Debian
    # package is pure Python, so its directory serves any Python 3.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        ct.skip("python3-prometheus-client is not installed "
                "(contrib/install-deps.sh --test)")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# (name, type) every member shows, etcd 3.4 and cetcd alike
MEMBER_FAMILIES = [
    ("etcd_cluster_version", "gauge"),
    ("etcd_server_has_leader", "gauge"),
    ("etcd_server_is_leader", "gauge"),
    ("etcd_server_is_learner", "gauge"),
    ("etcd_server_id", "gauge"),
    ("etcd_server_version", "gauge"),
    ("etcd_server_leader_changes_seen_total", "counter"),
    ("etcd_server_proposals_committed_total", "gauge"),
    ("etcd_server_proposals_applied_total", "gauge"),
    ("etcd_server_proposals_pending", "gauge"),
    ("etcd_server_proposals_failed_total", "counter"),
    ("etcd_server_health_success", "counter"),
    ("etcd_server_health_failures", "counter"),
    ("etcd_disk_wal_fsync_duration_seconds", "histogram"),
    ("etcd_disk_wal_write_bytes_total", "gauge"),
    ("etcd_debugging_snap_save_total_duration_seconds", "histogram"),
    ("etcd_debugging_store_reads_total", "counter"),
    ("etcd_debugging_store_writes_total", "counter"),
    ("etcd_debugging_store_watchers", "gauge"),
    ("etcd_debugging_store_expires_total", "counter"),
    ("etcd_debugging_store_watch_requests_total", "counter"),
    ("etcd_http_received_total", "counter"),
    ("etcd_http_failed_total", "counter"),
    ("etcd_http_successful_duration_seconds", "histogram"),
    ("process_cpu_seconds_total", "counter"),
    ("process_open_fds", "gauge"),
    ("process_max_fds", "gauge"),
    ("process_resident_memory_bytes", "gauge"),
    ("process_virtual_memory_bytes", "gauge"),
    ("process_start_time_seconds", "gauge"),
]

# cetcd's own group-commit figures
CETCD_FAMILIES = [
    ("cetcd_wal_batches_total", "counter"),
    ("cetcd_wal_entries_total", "counter"),
    ("cetcd_wal_rounds_total", "counter"),
    ("cetcd_wal_inline_rounds_total", "counter"),
    ("cetcd_wal_syncs_total", "counter"),
    ("cetcd_wal_max_group_batches", "gauge"),
    ("cetcd_wal_group_batches", "histogram"),
]

# label vectors: shown once a label value was seen (client_golang's *Vec)
VECTORS = {"etcd_http_received_total", "etcd_http_failed_total",
           "etcd_http_successful_duration_seconds", "etcd_debugging_store_reads_total",
           "etcd_debugging_store_writes_total"}

PROXY_FAMILIES = [
    ("etcd_proxy_requests_total", "counter"),
    ("etcd_proxy_handled_total", "counter"),
    ("process_open_fds", "gauge"),
]

# etcd's WAL fsync buckets: ExponentialBuckets(0.001, 2, 14)
FSYNC_BUCKETS = ["0.001", "0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128",
                 "0.256", "0.512", "1.024", "2.048", "4.096", "8.192", "+Inf"]


class Scrape:
    """One parsed scrape. The parser names a counter family without its
    _total and calls every counter sample <family>_total; the exposition's own
    names come from its TYPE lines."""

    def __init__(self, text):
        self.text = text
        parsed = {f.name: f for f in text_string_to_metric_families(text)}
        self.families = {}
        for ln in text.splitlines():
            if ln.startswith("# TYPE "):
                _, _, name, _typ = ln.split(" ", 3)
                f = parsed.get(name)
                if f is None and name.endswith("_total"):
                    f = parsed.get(name[:-len("_total")])
                if f is not None:
                    self.families[name] = f

    def has(self, name, typ):
        f = self.families.get(name)
        return f is not None and f.type == typ

    def value(self, name, **labels):
        """The sample called name whose labels include these (summed); 0 if
        none (a CounterVec shows no line for a label value it has not seen)."""
        total = 0.0
        for f in self.families.values():
            for s in f.samples:
                named = s.name == name or (f.type == "counter" and s.name == name + "_total")
                if named and all(s.labels.get(k) == v for k, v in labels.items()):
                    total += s.value
        return total

    def labels(self, name, key):
        return sorted({s.labels.get(key) for f in self.families.values() for s in f.samples
                       if s.name == name and key in s.labels})


def scrape(host, port, path="/metrics"):
    r = ct.http_request(host, port, "GET", path, timeout=5.0)
    eq(r.status, 200, "GET %s status" % path)
    eq(r.hdr("Content-Type"), CONTENT_TYPE, "Content-Type of /metrics")
    return Scrape(r.body.decode() if isinstance(r.body, bytes) else r.body)


def check_families(s, families, where):
    missing = [(n, t) for n, t in families if not s.has(n, t)]
    true(not missing, "%s: missing or mistyped families %r" % (where, missing))


def metrics_member(extra_args=()):
    """A single member with --listen-metrics-urls on a port of its own."""
    mport = procs.free_port()
    murl = "http://%s:%d" % (procs.HOST, mport)
    srv = ct.Server(extra_args=["--listen-metrics-urls", murl] + list(extra_args))
    return srv, mport


def test_member_families_and_counters():
    srv, _ = metrics_member()
    try:
        h, p = srv.host, srv.port
        before = scrape(h, p)
        check_families(before, [f for f in MEMBER_FAMILIES if f[0] not in VECTORS],
                       "member before any request")
        if target() == "cetcd":
            check_families(before, CETCD_FAMILIES, "member")
        eq(before.value("etcd_server_has_leader"), 1.0, "has_leader")
        eq(before.value("etcd_server_is_leader"), 1.0, "is_leader")
        true(before.value("etcd_server_leader_changes_seen_total") >= 1, "a leader was seen")
        eq(before.value("etcd_server_version", server_version="3.4.23") in (1.0,), True,
           "etcd_server_version{server_version=\"3.4.23\"}")
        buckets = [s.labels["le"] for s in before.families[
            "etcd_disk_wal_fsync_duration_seconds"].samples if s.name.endswith("_bucket")]
        eq(buckets, FSYNC_BUCKETS, "fsync buckets (etcd's)")
        true(before.value("process_open_fds") > 3, "open fds")
        true(before.value("process_resident_memory_bytes") > 1 << 20, "resident memory")
        true(before.value("process_start_time_seconds") > time.time() - 600,
             "start time is recent")

        eq(srv.request("PUT", "/v2/keys/metrics/a", form={"value": "1"}).status, 201, "PUT")
        eq(srv.request("GET", "/v2/keys/metrics/a").status, 200, "GET")
        eq(srv.request("GET", "/v2/keys/metrics/missing").status, 404, "GET missing")
        eq(srv.request("GET", "/v2/keys/metrics", params={"recursive": "true"}).status, 200,
           "GET recursive")
        eq(srv.request("GET", "/v2/keys/metrics/a",
                       params={"wait": "true", "waitIndex": "1"}).status, 200, "watch")
        eq(srv.request("GET", "/health").status, 200, "health")
        after = scrape(h, p)
        check_families(after, MEMBER_FAMILIES, "member")

        def grew(name, **labels):
            b, a = before.value(name, **labels), after.value(name, **labels)
            true(a > b, "%s%r grew (%s -> %s)" % (name, labels, b, a))

        grew("etcd_server_proposals_committed_total")
        grew("etcd_server_proposals_applied_total")
        grew("etcd_debugging_store_writes_total", action="set")
        grew("etcd_debugging_store_reads_total", action="get")
        grew("etcd_debugging_store_reads_total", action="getRecursive")
        grew("etcd_debugging_store_watch_requests_total")
        grew("etcd_disk_wal_fsync_duration_seconds_count")
        grew("etcd_disk_wal_write_bytes_total")
        grew("etcd_http_received_total", method="PUT")
        grew("etcd_http_received_total", method="GET")
        grew("etcd_http_failed_total", method="GET", code="404")
        grew("etcd_http_successful_duration_seconds_count", method="PUT")
        grew("etcd_server_health_success")
        # the watch is not a received request: GET a, GET missing, GET recursive
        eq(after.value("etcd_http_received_total", method="GET")
           - before.value("etcd_http_received_total", method="GET"), 3.0,
           "GETs counted (the watch excluded)")
        if target() == "cetcd":
            grew("cetcd_wal_batches_total")
            grew("cetcd_wal_entries_total")
            grew("cetcd_wal_group_batches_count")
        eq(after.value("etcd_server_proposals_pending"), 0.0, "nothing pending")
    finally:
        srv.cleanup()


def test_listen_metrics_urls():
    srv, mport = metrics_member()
    try:
        srv.request("GET", "/v2/keys/nope")
        srv.request("PUT", "/v2/keys/m", form={"value": "1"})
        s = scrape(srv.host, mport)
        check_families(s, MEMBER_FAMILIES, "--listen-metrics-urls")
        r = ct.http_request(srv.host, mport, "GET", "/health", timeout=5.0)
        eq(r.status, 200, "/health on the metrics listener")
        eq(r.json, {"health": "true"}, "/health body")
        eq(ct.http_request(srv.host, mport, "GET", "/version", timeout=5.0).status, 404,
           "/version is not on the metrics listener")
        eq(ct.http_request(srv.host, mport, "GET", "/v2/keys/", timeout=5.0).status, 404,
           "/v2/keys is not on the metrics listener")
        # the same counters as the client port's
        a = scrape(srv.host, srv.port).value("etcd_server_proposals_applied_total")
        b = scrape(srv.host, mport).value("etcd_server_proposals_applied_total")
        eq(a, b, "applied on both listeners")
    finally:
        srv.cleanup()


def test_snapshot_save_histogram():
    """--snapshot-count 10: 30 writes make snapshots, each observed once."""
    srv = ct.Server(extra_args=["--snapshot-count", "10"])
    try:
        for i in range(30):
            eq(srv.request("PUT", "/v2/keys/snap/%d" % i, form={"value": "v"}).status, 201,
               "PUT %d" % i)
        s = wait_for(lambda: (lambda s: s.value(
            "etcd_debugging_snap_save_total_duration_seconds_count") >= 1 and s)(
                scrape(srv.host, srv.port)), "a snapshot save observed")
        true(s.has("etcd_debugging_snap_save_total_duration_seconds", "histogram"),
             "snap save: histogram")
        true(s.value("etcd_debugging_snap_save_total_duration_seconds_sum") > 0,
             "snap save: time spent")
    finally:
        srv.cleanup()


@needs("cetcd")
def test_help_and_types_match_etcd():
    """Every etcd_*/process_* family cetcd shows that real etcd 3.4 also shows
    (a single member, after the same requests) has etcd's TYPE and HELP."""
    if not ct.etcd_bin():
        print("  (no etcd binary: nothing to compare)")
        return
    ours = ct.Server(kind="cetcd")
    theirs = ct.Server(kind="etcd")
    try:
        lines = {}
        for srv in (ours, theirs):
            srv.request("PUT", "/v2/keys/h", form={"value": "1"})
            srv.request("GET", "/v2/keys/h")
            srv.request("GET", "/v2/keys/nope")
            r = ct.http_request(srv.host, srv.port, "GET", "/metrics", timeout=5.0)
            body = r.body.decode() if isinstance(r.body, bytes) else r.body
            lines[srv.kind] = {ln for ln in body.splitlines() if ln.startswith("# ")}
        diff = []
        theirs_by = {}
        for ln in lines["etcd"]:
            theirs_by.setdefault(ln.split(" ", 3)[2], set()).add(ln)
        ours_by = {}
        for ln in lines["cetcd"]:
            ours_by.setdefault(ln.split(" ", 3)[2], set()).add(ln)
        for name, ls in ours_by.items():
            if name in theirs_by and ls != theirs_by[name]:
                diff.append((sorted(ls), sorted(theirs_by[name])))
        true(not diff, "HELP/TYPE lines differ from etcd's: %r" % diff)
        shared = set(ours_by) & set(theirs_by)
        true(len(shared) >= 25, "families in common with etcd: %d" % len(shared))
    finally:
        ours.cleanup()
        theirs.cleanup()


def test_cluster_peers_and_leader_changes():
    c = start_or_skip(3)
    ids = {}
    for m in c.members:
        ids[m.name] = m.request("GET", "/v2/stats/self", timeout=5.0).json["id"]
    leader = c.wait_leader(10.0)
    leader.put("/metrics/x", form={"value": "1"})
    for m in c.members:
        m.get("/metrics/x")
        m.get("/metrics/missing")
    for m in c.members:
        others = sorted(ids[o.name] for o in c.members if o is not m)

        # etcd: a follower may send nothing to the other follower after the
        # election, and it counts stream handshakes as From="0"
        def peers_seen(m=m, others=others):
            s = scrape(m.host, m.port)
            to = s.labels("etcd_network_peer_sent_bytes_total", "To")
            frm = [f for f in s.labels("etcd_network_peer_received_bytes_total", "From")
                   if f != "0"]
            ok = to and frm and set(to) <= set(others) and set(frm) <= set(others)
            if m is leader:
                ok = ok and to == others
            return ok and s
        s = wait_for(peers_seen, "%s's peer traffic by To/From" % m.name)
        check_families(s, MEMBER_FAMILIES, m.name)
        true(s.has("etcd_network_peer_sent_bytes_total", "counter"), "sent bytes: counter")
        true(s.has("etcd_network_peer_received_bytes_total", "counter"),
             "received bytes: counter")
        eq(s.value("etcd_server_has_leader"), 1.0, "%s has a leader" % m.name)
        eq(s.value("etcd_server_is_leader"), 1.0 if m is leader else 0.0,
           "%s is_leader" % m.name)
        eq(s.value("etcd_server_id", server_id=ids[m.name]), 1.0, "%s server_id" % m.name)
    survivors = [m for m in c.members if m is not leader]
    seen = {m.name: scrape(m.host, m.port).value("etcd_server_leader_changes_seen_total")
            for m in survivors}
    c.kill(leader)
    c.wait_leader(15.0)
    for m in survivors:
        wait_for(lambda m=m: scrape(m.host, m.port).value(
            "etcd_server_leader_changes_seen_total") > seen[m.name],
            "%s sees the leader change" % m.name)
        wait_for(lambda m=m: scrape(m.host, m.port).value("etcd_server_has_leader") == 1.0,
                 "%s has a leader again" % m.name)


def test_proxy_metrics():
    c = start_or_skip(1)
    p = start_proxy(c)
    before = scrape(p.host, p.port)
    check_families(before, [("process_open_fds", "gauge")], "proxy")
    # the proxy's own figures, not a member's (etcd's proxy process shows its
    # registry's etcd_server_* at their zero values)
    eq(before.value("etcd_server_has_leader"), 0.0, "the proxy's own /metrics")
    eq(p.put("/metrics/p", form={"value": "1"}).status, 201, "PUT through the proxy")
    eq(p.get("/metrics/p").status, 200, "GET through the proxy")
    after = scrape(p.host, p.port)
    check_families(after, PROXY_FAMILIES, "proxy")
    for method in ("GET", "PUT"):
        b = before.value("etcd_proxy_requests_total", method=method)
        a = after.value("etcd_proxy_requests_total", method=method)
        true(a > b, "etcd_proxy_requests_total{method=%s} grew (%s -> %s)" % (method, b, a))
    true(after.value("etcd_proxy_handled_total", method="PUT", code="201") >= 1,
         "handled PUT 201")
    true(after.value("etcd_proxy_handled_total", method="GET", code="200") >= 1,
         "handled GET 200")


if __name__ == "__main__":
    run_scenarios(globals())
