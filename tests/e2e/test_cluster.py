#!/usr/bin/env python3
"""Process-level cluster tests: 3 and 5 members on 127.0.0.1, kill -9,
restart, snapshot catch-up, TTL expiry, members/stats shapes.

Every expectation holds on real etcd 3.4.23 (CETCD_TARGET=etcd). Against a
cetcd build that refuses multi-member clusters the file exits 77 (skip).
Each scenario starts its own cluster and is bounded in time; the whole file
takes well under 3 minutes on 2 cores.

Environment: CETCD_TARGET, CETCD_BIN, ETCD_BIN as for the other e2e tests;
CETCD_CLUSTER_CATCHUP_WRITES (default 5300: etcd 3.4 keeps 5000 entries
after a snapshot for slow followers, so a follower that missed more than that
must be sent a snapshot); CETCD_CLUSTER_KEEP=1 keeps data dirs and logs.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cetcdtest import eq, true, status  # noqa: E402
from clustertest import (start_or_skip, run_scenarios, NETERR, log,  # noqa: E402
                         NetnsLab, NetnsUnavailable)


# -------------------------------------------------------------------- helpers

def flat(m, prefix, quorum=False):
    """Recursive GET of prefix on member m -> sorted [(key, value, mi, ci)]."""
    p = {"recursive": "true", "sorted": "true"}
    if quorum:
        p["quorum"] = "true"
    r = m.get(prefix, p, timeout=10.0)
    if r.status == 404:
        return []
    status(r, 200, "%s GET %s" % (m.name, prefix))
    out = []

    def walk(n):
        if n.get("dir"):
            for c in n.get("nodes") or []:
                walk(c)
        else:
            out.append((n["key"], n.get("value"), n["modifiedIndex"], n["createdIndex"]))
    walk(r.json["node"])
    return sorted(out)


def same_everywhere(members, prefix):
    """The local (non-quorum) view of prefix is identical on every member."""
    views = {m.name: flat(m, prefix) for m in members}
    names = sorted(views)
    for n in names[1:]:
        if views[n] != views[names[0]]:
            a, b = set(views[names[0]]), set(views[n])
            raise AssertionError("%s and %s differ under %s: only in %s %s, only in %s %s" % (
                names[0], n, prefix, names[0], sorted(a - b)[:5], n, sorted(b - a)[:5]))
    return views[names[0]]


class Writers:
    """Background writers: each thread writes unique keys prefix/<w>-<n>
    through its member, moving on to the next member on a connection error.
    Bounded by `duration` seconds and `max_ops` per thread. Records acked
    writes (key -> value) and the time of each ack."""

    def __init__(self, cluster, prefix, nthreads=3, duration=15.0, max_ops=20000,
                 timeout=3.0):
        self.c = cluster
        self.prefix = prefix
        self.acked = {}
        self.ack_times = []
        self.errors = 0
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.deadline = time.time() + duration
        self.threads = [threading.Thread(target=self._run, args=(w, max_ops, timeout),
                                         daemon=True) for w in range(nthreads)]
        for t in self.threads:
            t.start()

    def _run(self, w, max_ops, timeout):
        mi = w % len(self.c)
        for n in range(max_ops):
            if self.stop_ev.is_set() or time.time() > self.deadline:
                return
            m = self.c[mi]
            key = "%s/w%d-%05d" % (self.prefix, w, n)
            val = "v%d-%d" % (w, n)
            try:
                r = m.put(key, {"value": val}, timeout=timeout)
                ok = r.status in (200, 201)
            except NETERR:
                ok = False
                mi = (mi + 1) % len(self.c)
                time.sleep(0.02)
            with self.lock:
                if ok:
                    self.acked[key] = val
                    self.ack_times.append(time.time())
                else:
                    self.errors += 1

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(10)
        true(not any(t.is_alive() for t in self.threads), "writer threads did not stop")

    def acks_after(self, t):
        with self.lock:
            return sum(1 for x in self.ack_times if x > t)


def check_acked(members, prefix, acked):
    for m in members:
        got = {k: v for k, v, _, _ in flat(m, prefix)}
        missing = [k for k in acked if got.get(k) != acked[k]]
        true(not missing, "%s lost %d acknowledged writes, e.g. %s" % (
            m.name, len(missing), missing[:5]))


def new_leader_time(c, old, t_kill, limit):
    """Wait for a leader other than `old`; return seconds since t_kill.
    The bound is loose on purpose: a follower waits a randomized 1-2
    election timeouts, a pre-vote can be refused by a peer that heard the
    old leader less than one timeout ago, a split vote costs one more
    round, and CI machines are loaded. The failover time itself is a
    benchmark figure (contrib/bench/scenarios/cluster.py), not a test's."""
    lm = c.wait_leader(limit + 2.0, not_member=old)
    dt = time.time() - t_kill
    true(dt <= limit, "new leader %s after %.2fs > %.2fs (5 election timeouts)" %
         (lm.name, dt, limit))
    return lm, dt


# -------------------------------------------------------------------- scenarios

def test_three_members_basics():
    """Writes through every member, reads from every member, quorum reads,
    /v2/members, /v2/members/leader, /v2/stats/self, /v2/stats/leader,
    X-Raft-Index/X-Raft-Term and X-Etcd-Cluster-Id agree across members."""
    c = start_or_skip(3)
    lm = c.wait_leader(5)
    ids = {m.name: m.stats_self()["id"] for m in c}
    eq(len(set(ids.values())), 3, "distinct member ids")

    # /v2/members: the same full list on every member
    lists = []
    for m in c:
        r = m.request("GET", "/v2/members")
        status(r, 200, "%s /v2/members" % m.name)
        mem = sorted(r.json["members"], key=lambda x: x["name"])
        lists.append(mem)
        eq([x["name"] for x in mem], ["m0", "m1", "m2"], "member names")
        for x, mm in zip(mem, c):
            eq(x["id"], ids[mm.name], "member id of %s" % mm.name)
            eq(x["peerURLs"], [mm.peer_url], "peerURLs of %s" % mm.name)
            eq(x["clientURLs"], [mm.url], "clientURLs of %s" % mm.name)
    eq(lists[1], lists[0], "members list m1 vs m0")
    eq(lists[2], lists[0], "members list m2 vs m0")

    # the leader, seen from everywhere
    for m in c:
        r = m.request("GET", "/v2/members/leader")
        status(r, 200, "%s /v2/members/leader" % m.name)
        eq((r.json["id"], r.json["name"]), (ids[lm.name], lm.name), "%s: leader" % m.name)
        s = m.stats_self()
        eq(s["name"], m.name, "stats/self name")
        eq(s["id"], ids[m.name], "stats/self id")
        eq(s["state"], "StateLeader" if m is lm else "StateFollower", "%s state" % m.name)
        eq(s["leaderInfo"]["leader"], ids[lm.name], "%s leaderInfo.leader" % m.name)
        for f in ("startTime", "recvAppendRequestCnt", "sendAppendRequestCnt"):
            true(f in s, "%s stats/self lacks %s: %s" % (m.name, f, s))
    r = lm.request("GET", "/v2/stats/leader")
    status(r, 200, "leader /v2/stats/leader")
    eq(r.json["leader"], ids[lm.name], "stats/leader leader")
    eq(sorted(r.json["followers"]), sorted(ids[m.name] for m in c if m is not lm),
       "stats/leader followers")
    for fid, f in r.json["followers"].items():
        true(set(f["latency"]) >= {"current", "average", "standardDeviation",
                                   "minimum", "maximum"}, "latency fields %s" % f)
        true(set(f["counts"]) == {"fail", "success"}, "counts fields %s" % f)
        true(f["counts"]["success"] > 0, "follower %s: no successful appends" % fid)
    for m in c:
        if m is lm:
            continue
        r = m.request("GET", "/v2/stats/leader")
        eq((r.status, r.json), (403, {"message": "not current leader"}),
           "%s /v2/stats/leader" % m.name)

    # writes through every member, answered by that member
    idx = []
    for m in c:
        r = m.put("/basic/from-" + m.name, {"value": m.name})
        status(r, 201, "write via %s" % m.name)
        eq(r.json["node"]["value"], m.name, "value")
        idx.append(r.index)
        true(int(r.hdr("X-Raft-Term")) >= 1, "X-Raft-Term")
        true(int(r.hdr("X-Raft-Index")) >= r.index, "X-Raft-Index >= X-Etcd-Index")
    eq(idx, sorted(idx), "indexes increase")
    eq(len(set(idx)), 3, "distinct indexes")
    # quorum reads from every member see every write at once
    for m in c:
        for w in c:
            r = m.get("/basic/from-" + w.name, {"quorum": "true"})
            status(r, 200, "quorum read of %s's write on %s" % (w.name, m.name))
            eq(r.json["node"]["value"], w.name, "quorum read value")
    # local reads converge, headers agree
    c.wait_converged(10)
    view = same_everywhere(c, "/basic")
    eq([v for _, v, _, _ in view], ["m0", "m1", "m2"], "values")
    hdr = {}
    deadline = time.time() + 5
    while time.time() < deadline:
        hdr = {}
        for m in c:
            r = m.get("/basic/from-m0")
            hdr[m.name] = (r.index, r.hdr("X-Raft-Term"), r.hdr("X-Raft-Index"),
                           r.hdr("X-Etcd-Cluster-Id"))
        if len(set(hdr.values())) == 1:
            break
        time.sleep(0.1)
    eq(len(set(hdr.values())), 1, "X-Etcd-Index/X-Raft-Term/X-Raft-Index/"
       "X-Etcd-Cluster-Id on all members (%s)" % hdr)
    eq(hdr["m0"][0], idx[-1], "X-Etcd-Index after the writes")
    true(int(hdr["m0"][2]) >= idx[-1], "X-Raft-Index")
    # /v2/machines lists every member's client URL
    r = c[0].request("GET", "/v2/machines")
    eq(sorted(r.body.decode().split(", ")), sorted(m.url for m in c), "/v2/machines")
    c.cleanup()


def test_leader_kill_under_writes():
    """kill -9 the leader during continuous writes: a new leader within 3
    election timeouts, writes resume, no acknowledged write is lost on any
    survivor, and the old leader catches up after restart."""
    c = start_or_skip(3)
    old = c.wait_leader(5)
    term0 = int(old.get("/").hdr("X-Raft-Term"))
    w = Writers(c, "/lk", nthreads=3, duration=20.0)
    time.sleep(1.5)
    acked_before = len(w.acked)
    t_kill = time.time()
    c.kill(old)
    lm, dt = new_leader_time(c, old, t_kill, 5 * c.election_s)
    t_lead = time.time()
    # writes in flight at the kill may hang until the client timeout (3 s);
    # wait (bounded) for acks after the election, then write a little more
    resumed = None
    while time.time() < t_lead + 10:
        if w.acks_after(t_lead) > 0:
            resumed = time.time() - t_kill
            break
        time.sleep(0.05)
    time.sleep(1.0)
    w.stop()
    after = w.acks_after(t_lead)
    log("leader %s killed, %s elected after %.2fs, writes resumed after %ss; %d acked "
        "writes (%d before the kill, %d after the election), %d errors" % (
            old.name, lm.name, dt, "%.2f" % resumed if resumed else "-", len(w.acked),
            acked_before, after, w.errors))
    true(acked_before > 0, "no write acknowledged before the kill")
    true(after > 0, "no write acknowledged after the new leader was elected")
    survivors = c.live()
    c.wait_converged(10)
    terms = [int(m.get("/").hdr("X-Raft-Term")) for m in survivors]
    true(terms[0] == terms[1] and terms[0] > term0,
         "X-Raft-Term after the failover %s, before %d" % (terms, term0))
    check_acked(survivors, "/lk", w.acked)
    same_everywhere(survivors, "/lk")
    # the old leader restarts (same flags, its data dir) and catches up
    c.restart(old)
    c.wait_leader(5)
    c.wait_converged(15)
    check_acked(c, "/lk", w.acked)
    same_everywhere(c, "/lk")
    r = old.put("/lk/after-restart", {"value": "x"})
    status(r, 201, "write through the restarted old leader")
    c.cleanup()


def test_follower_snapshot_catchup():
    """A follower that misses more entries than the leader keeps is brought
    up to date with a snapshot (--snapshot-count 100) and converges. The two
    live members are restarted first: the leader then sends a snapshot it
    recovered from disk at boot (cetcd keeps only its metadata in memory)."""
    c = start_or_skip(3, snapshot_count=100, log_level="info")
    lm = c.wait_leader(5)
    f = [m for m in c if m is not lm][0]
    c.kill(f)
    nwrites = int(os.environ.get("CETCD_CLUSTER_CATCHUP_WRITES", "5300"))
    live = c.live()
    done = [0]
    errs = [0]
    lock = threading.Lock()
    deadline = time.time() + 40

    def wr(t, nthreads=8):
        i = t
        while i < nwrites and time.time() < deadline:
            m = live[i % len(live)]
            try:
                r = m.put("/snap/k%03d" % (i % 200), {"value": "v%d" % i}, timeout=5)
                ok = r.status in (200, 201)
            except NETERR:
                ok = False
            with lock:
                if ok:
                    done[0] += 1
                else:
                    errs[0] += 1
            i += nthreads
    t0 = time.time()
    ths = [threading.Thread(target=wr, args=(t,), daemon=True) for t in range(8)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(45)
    log("%d writes (%d errors) in %.1fs while %s was down" % (
        done[0], errs[0], time.time() - t0, f.name))
    eq(done[0], nwrites, "acknowledged writes")
    target_idx = c.wait_converged(10)
    for m in live:  # graceful, so the snapshots and the log stay as they are
        c.stop(m)
    for m in live:  # both at once: etcd answers only once it has a quorum
        m.spawn()
    for m in live:
        m.wait_answering(15)
    c.wait_leader(10)
    t1 = time.time()
    c.restart(f)
    c.wait_index(target_idx, timeout=30)
    c.wait_converged(15)
    log("%s caught up to index %d in %.1fs" % (f.name, target_idx, time.time() - t1))
    view = same_everywhere(c, "/snap")
    eq(len(view), 200, "keys under /snap")
    with open(f.log_path, "rb") as fh:
        text = fh.read().decode("utf-8", "replace")
    true("snapshot" in text and ("applied incoming snapshot" in text or
                                 "applied snapshot" in text or
                                 "applying snapshot" in text or
                                 "received and saved database snapshot" in text),
         "the restarted follower's log shows no incoming snapshot")
    r = f.put("/snap/after", {"value": "x"})
    status(r, 201, "write through the caught-up follower")
    c.cleanup()


def test_five_members_two_dead():
    """A 5-member cluster keeps serving with two members dead (the leader
    among them): new leader within 3 election timeouts, writes and quorum
    reads through every survivor; the dead come back and converge."""
    c = start_or_skip(5)
    lm = c.wait_leader(5)
    other = [m for m in c if m is not lm][0]
    t_kill = time.time()
    c.kill(lm)
    c.kill(other)
    nl, dt = new_leader_time(c, lm, t_kill, 5 * c.election_s)
    log("killed %s (leader) and %s; %s leads after %.2fs" % (lm.name, other.name,
                                                           nl.name, dt))
    for m in c.live():
        r = m.put("/five/" + m.name, {"value": m.name}, timeout=10)
        status(r, 201, "write via %s with 2 dead" % m.name)
    for m in c.live():
        for w in c.live():
            r = m.get("/five/" + w.name, {"quorum": "true"}, timeout=10)
            status(r, 200, "quorum read on %s" % m.name)
            eq(r.json["node"]["value"], w.name, "quorum read value")
    c.restart(lm)
    c.restart(other)
    c.wait_leader(5)
    c.wait_converged(15)
    view = same_everywhere(c, "/five")
    eq(len(view), 3, "keys under /five")
    c.cleanup()


def test_restart_ignores_initial_cluster_flags():
    """A member restarted with a data dir ignores --initial-cluster,
    --initial-cluster-state and --initial-cluster-token: it rejoins with
    its old id and the cluster is unchanged."""
    c = start_or_skip(3)
    lm = c.wait_leader(5)
    m = [x for x in c if x is not lm][0]
    old_id = m.stats_self()["id"]
    cid = m.get("/").hdr("X-Etcd-Cluster-Id")
    status(lm.put("/ign/before", {"value": "1"}), 201, "write")
    c.wait_converged(10)
    c.stop(m)
    argv = m.argv()

    def setflag(flag, val):
        argv[argv.index(flag) + 1] = val
    setflag("--initial-cluster", "%s=http://127.0.0.1:9,zz=http://127.0.0.1:10" % m.name)
    setflag("--initial-cluster-state", "existing")
    setflag("--initial-cluster-token", "some-other-token")
    status(lm.put("/ign/while-down", {"value": "2"}), 201, "write while down")
    c.restart(m, argv=argv)
    c.wait_leader(5)
    c.wait_converged(10)
    eq(m.stats_self()["id"], old_id, "member id after restart")
    eq(m.get("/").hdr("X-Etcd-Cluster-Id"), cid, "cluster id after restart")
    r = m.request("GET", "/v2/members")
    eq(sorted((x["name"], x["peerURLs"][0]) for x in r.json["members"]),
       sorted((x.name, x.peer_url) for x in c), "members after restart")
    eq(m.get("/ign/while-down").json["node"]["value"], "2", "caught up")
    status(m.put("/ign/after", {"value": "3"}), 201, "write via the restarted member")
    c.wait_converged(10)
    same_everywhere(c, "/ign")
    c.cleanup()


def test_ttl_key_expires_once():
    """A TTL key set through a follower expires exactly once: every member
    reports the same expire event (same modifiedIndex), expireCount 1, and
    no second expire follows."""
    c = start_or_skip(3)
    lm = c.wait_leader(5)
    f = [m for m in c if m is not lm][0]
    r = f.put("/ttl/k", {"value": "v", "ttl": "2"})
    status(r, 201, "TTL set via follower")
    set_idx = r.index
    c.wait_index(set_idx, 5)
    results = {}

    def watch(m):
        try:
            results[m.name] = m.get("/ttl/k", {"wait": "true", "waitIndex": set_idx + 1},
                                    timeout=10)
        except NETERR as e:
            results[m.name] = e
    ths = [threading.Thread(target=watch, args=(m,), daemon=True) for m in c]
    for t in ths:
        t.start()
    for t in ths:
        t.join(12)
    exp = set()
    for m in c:
        r = results.get(m.name)
        true(r is not None and not isinstance(r, Exception),
             "%s: watch failed: %r" % (m.name, r))
        status(r, 200, "%s expire watch" % m.name)
        eq(r.json["action"], "expire", "%s action" % m.name)
        eq(r.json["node"]["key"], "/ttl/k", "key")
        eq(r.json["prevNode"]["value"], "v", "prevNode value")
        exp.add(r.json["node"]["modifiedIndex"])
    eq(len(exp), 1, "expire index identical on all members (%s)" % sorted(exp))
    e_idx = exp.pop()
    true(e_idx > set_idx, "expire after set")
    time.sleep(1.2)     # a few more SYNC rounds: nothing must expire again
    w = c[2].put("/ttl/after", {"value": "a"})
    status(w, 201, "write after expiry")
    c.wait_index(w.index, 5)
    for m in c:
        eq(m.get("/ttl/k").status, 404, "%s: expired key gone" % m.name)
        r = m.get("/", {"wait": "true", "recursive": "true", "waitIndex": e_idx + 1},
                  timeout=5)
        status(r, 200, "%s watch after the expire" % m.name)
        eq((r.json["action"], r.json["node"]["key"], r.json["node"]["modifiedIndex"]),
           ("set", "/ttl/after", w.index), "%s: first event after the expire" % m.name)
        st = m.request("GET", "/v2/stats/store").json
        eq(st["expireCount"], 1, "%s expireCount" % m.name)
    eq(w.index, e_idx + 1, "no other event between the expire and the next write")
    c.cleanup()


def test_partitioned_leader():
    """(Private network namespaces; skipped without root/ip.) The leader is
    cut off from the others: the majority elects a new leader within 3
    election timeouts and keeps serving; the old leader serves no quorum
    read and acknowledges no write while cut off; after the heal it steps
    down and converges. Runs last: it moves this process into the lab's
    hub namespace."""
    lab = NetnsLab(3)
    try:
        lab.setup()
        lab.enter_hub()
    except NetnsUnavailable as e:
        lab.cleanup()
        log("test_partitioned_leader: SKIPPED, network namespaces unavailable: %s" % e)
        return
    c = start_or_skip(3, netns=lab)
    old = c.wait_leader(5)
    status(old.put("/part/k", {"value": "before"}), 201, "write before the cut")
    c.wait_converged(10)
    t_cut = time.time()
    lab.isolate(old.idx)
    rest = [m for m in c if m is not old]
    deadline = t_cut + 5 * c.election_s + 2
    nl = None
    while time.time() < deadline and nl is None:
        st = [m.stats_self() or {} for m in rest]
        lead = [m for m, x in zip(rest, st) if x.get("state") == "StateLeader"]
        if lead and all((x.get("leaderInfo") or {}).get("leader") == lead[0].id for x in st):
            nl = lead[0]
        time.sleep(0.05)
    dt = time.time() - t_cut
    true(nl is not None, "the majority elected no leader within %.1fs" % dt)
    true(dt <= 5 * c.election_s, "majority leader after %.2fs" % dt)
    r = rest[0].put("/part/k", {"value": "during"}, timeout=10)
    status(r, 200, "write through the majority")
    # plain GETs are served locally, even by the cut-off member (stale)
    r = old.get("/part/k", timeout=3)
    status(r, 200, "local GET on the isolated member")
    eq(r.json["node"]["value"], "before", "local (stale) read on the isolated member")
    # the isolated old leader: no quorum read of stale data, no acked write
    try:
        r = old.get("/part/k", {"quorum": "true"}, timeout=3)
        true(r.status != 200 or r.json["node"]["value"] == "during",
             "isolated old leader served a stale quorum read: %r" % (r,))
        true(r.status != 200, "isolated old leader answered a quorum read: %r" % (r,))
    except NETERR:
        pass
    try:
        r = old.put("/part/minority", {"value": "x"}, timeout=3)
        true(r.status not in (200, 201), "isolated old leader acked a write: %r" % (r,))
    except NETERR:
        pass
    lab.heal()
    c.wait_leader(3 * c.election_s + 5)
    c.wait_converged(15)
    log("leader %s isolated; %s elected by the majority after %.2fs; healed and "
        "converged" % (old.name, nl.name, dt))
    for m in c:
        eq(m.get("/part/k").json["node"]["value"], "during", "%s after heal" % m.name)
    r = c[0].get("/part/minority", {"quorum": "true"})
    if r.status == 200:      # an unacknowledged write may still have committed
        log("note: the write sent to the isolated leader committed after the heal")
    same_everywhere(c, "/part")
    c.cleanup()
    lab.cleanup()


if __name__ == "__main__":
    run_scenarios(globals(), budget=240)
