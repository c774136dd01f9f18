#!/usr/bin/env python3
"""Linearizability under faults.

Concurrent clients run writes (PUT value), compare-and-swap (PUT prevValue)
and linearizable reads (GET quorum=true) on a few keys, sent to random
members, while a nemesis kill -9s members (the leader half of the time) and
restarts them. Every op is recorded with its invocation and completion time
and outcome (ok / failed / unknown) and the history is checked per key with
tests/tools/linearizability.py (Wing-Gong/Porcupine search). Zero anomalies
are required.

Outcomes:
  connection refused           -> the request never reached a server: not recorded
  2xx                          -> ok (read: the value)
  CAS 412/101, 404/100         -> failed (compare failed / key absent)
  read 404/100                 -> ok, key absent
  anything else (timeout, reset, 5xx, errorCode 300) -> unknown: it may have
                                   taken effect at any later point, or never
Knobs (environment): CETCD_LIN_SECONDS (20), CETCD_LIN_CLIENTS (5),
CETCD_LIN_KEYS (3), CETCD_LIN_MEMBERS (3), CETCD_LIN_NEMESIS_S (3.0, seconds
between faults), CETCD_LIN_SEED, CETCD_LIN_HISTORY (write the history as
JSON there), CETCD_LIN_READS=local (plain, non-quorum GETs: a self-test of
the pipeline, which must then FIND anomalies, e.g. stale reads from a
partitioned member). Exit 77 when the target cannot run a cluster.
"""

import json
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from cetcdtest import target, etcd_bin, cetcd_bin, skip  # noqa: E402
from clustertest import start_or_skip, NETERR, log, NetnsLab, NetnsUnavailable  # noqa: E402
import linearizability as lin  # noqa: E402


def env(name, default, conv=float):
    v = os.environ.get(name)
    return conv(v) if v not in (None, "") else default


SECONDS = env("CETCD_LIN_SECONDS", 20.0)
CLIENTS = env("CETCD_LIN_CLIENTS", 5, int)
NKEYS = env("CETCD_LIN_KEYS", 3, int)
MEMBERS = env("CETCD_LIN_MEMBERS", 3, int)
NEMESIS_S = env("CETCD_LIN_NEMESIS_S", 3.0)
SEED = env("CETCD_LIN_SEED", int(time.time()) % 100000, int)
QUORUM_READS = os.environ.get("CETCD_LIN_READS", "quorum") != "local"
OP_TIMEOUT = 2.5
MAX_OPS_PER_CLIENT = 20000
now = time.monotonic


class History:
    def __init__(self):
        self.ops = []
        self.lock = threading.Lock()
        self.refused = 0
        self.dropped_reads = 0

    def add(self, op):
        with self.lock:
            self.ops.append(op)


def classify(kind, r):
    """HTTP response -> (ok, value). ok None = unknown."""
    js = r.json if isinstance(r.json, dict) else {}
    code = js.get("errorCode")
    if kind == "read":
        if r.status == 200:
            return True, js["node"].get("value")
        if r.status == 404 and code == 100:
            return True, None
        return None, None
    if kind == "write":
        if r.status in (200, 201):
            return True, None
        return None, None
    # cas
    if r.status == 200:
        return True, None
    if (r.status, code) in ((412, 101), (404, 100)):
        return False, None
    return None, None


def client(cid, cluster, keys, hist, stop_at, rnd):
    seen = {}       # key -> last value this client saw (for CAS)
    n = 0
    for n in range(MAX_OPS_PER_CLIENT):
        if now() >= stop_at:
            break
        m = cluster[rnd.randrange(len(cluster))]
        key = rnd.choice(keys)
        path = "/lin" + key
        x = rnd.random()
        val = "c%d-%d" % (cid, n)
        if x < 0.4:
            kind, arg = "read", None
        elif x < 0.7:
            kind, arg = "write", val
        else:
            old = seen.get(key)
            if old is None:
                kind, arg = "write", val
            else:
                kind, arg = "cas", (old, val)
        t0 = now()
        try:
            if kind == "read":
                r = m.get(path, {"quorum": "true"} if QUORUM_READS else None,
                          timeout=OP_TIMEOUT)
            elif kind == "write":
                r = m.put(path, {"value": val}, timeout=OP_TIMEOUT)
            else:
                r = m.put(path, {"value": val, "prevValue": arg[0]}, timeout=OP_TIMEOUT)
            t1 = now()
            ok, got = classify(kind, r)
        except ConnectionRefusedError:
            hist.refused += 1     # never reached a server: did not happen
            time.sleep(0.02)
            continue
        except Exception:   # noqa: timeout, reset, bad reply: outcome unknown
            t1 = now()
            ok, got = None, None
        if kind == "read":
            if ok is None:
                hist.dropped_reads += 1
                continue
            seen[key] = got
            hist.add(lin.Op(key, "read", got, True, t0, t1, cid))
        else:
            hist.add(lin.Op(key, kind, arg, ok, t0, t1 if ok is not None else None, cid))
            if ok:
                seen[key] = val
            elif ok is False:
                seen.pop(key, None)
        if ok is None:
            time.sleep(0.05)


def nemesis(cluster, stop_at, rnd, events, lab):
    """Every ~NEMESIS_S s one fault, cycling through: kill -9 the leader,
    isolate the leader (network partition), kill -9 a random member,
    partition a random minority. Killed members restart 0.5-1.5 s later;
    partitions heal after 2.5-4 s. One fault at a time. Without a netns lab
    only the kills run."""
    faults = ["kill-leader", "part-leader", "kill-any", "part-any"]
    if lab is None:
        faults = ["kill-leader", "kill-any"]
    i = 0
    while now() + NEMESIS_S < stop_at:
        time.sleep(NEMESIS_S * (0.6 + 0.8 * rnd.random()))
        if now() >= stop_at - 1.0:
            break
        fault = faults[i % len(faults)]
        i += 1
        victim = cluster.leader(timeout=0.5) if fault.endswith("leader") else None
        if victim is None:
            victim = cluster[rnd.randrange(len(cluster))]
        t = now()
        if fault.startswith("kill"):
            cluster.kill(victim)
            events.append("%.1fs kill -9 %s%s" % (t - T0, victim.name,
                                                  " (leader)" if fault == "kill-leader" else ""))
            time.sleep(0.5 + rnd.random())
            cluster.restart(victim, timeout=15)
            events.append("%.1fs restart %s" % (now() - T0, victim.name))
        else:
            n = len(cluster)
            minority = [victim.idx]
            others = [j for j in range(n) if j != victim.idx]
            rnd.shuffle(others)
            minority += others[:(n - 1) // 2 - 1]
            majority = [j for j in range(n) if j not in minority]
            lab.partition([minority, majority])
            events.append("%.1fs partition %s | %s%s" % (
                t - T0, ",".join("m%d" % j for j in sorted(minority)),
                ",".join("m%d" % j for j in sorted(majority)),
                " (leader isolated)" if fault == "part-leader" else ""))
            time.sleep(2.5 + 1.5 * rnd.random())
            views = []      # each member's idea of the leader (/v2/members/leader)
            for m in cluster:
                try:
                    r = m.request("GET", "/v2/members/leader", timeout=0.3)
                    who = (r.json or {}).get("name") if r.status == 200 else "none"
                except NETERR:
                    who = "?"
                views.append("%s->%s" % (m.name, who))
            events.append("%.1fs leaders seen before heal: %s" % (now() - T0, " ".join(views)))
            lab.heal()
            events.append("%.1fs heal" % (now() - T0))


def setup_lab():
    """Private network namespaces for partitions, if possible (root, ip,
    CETCD_LIN_PARTITIONS not 0). Returns (lab or None, note)."""
    if os.environ.get("CETCD_LIN_PARTITIONS", "auto") in ("0", "no", "false"):
        return None, "disabled by CETCD_LIN_PARTITIONS"
    lab = NetnsLab(MEMBERS)
    try:
        lab.setup()
        lab.enter_hub()
    except NetnsUnavailable as e:
        lab.cleanup()
        return None, "network namespaces unavailable (%s)" % e
    return lab, "members in private network namespaces"


T0 = now()


def main():
    global T0
    kind = target()
    if (kind == "etcd" and not etcd_bin()) or (kind == "cetcd" and not cetcd_bin()):
        skip("%s binary not found (CETCD_TARGET=%s)" % (kind, kind))
    print("# target: %s (%s)" % (kind, etcd_bin() if kind == "etcd" else cetcd_bin()))
    print("# %d members, %d clients, %d keys, %.0fs, nemesis every ~%.1fs, seed %d" % (
        MEMBERS, CLIENTS, NKEYS, SECONDS, NEMESIS_S, SEED))
    sys.stdout.flush()
    lab, note = setup_lab()
    print("# partitions: %s" % ("on, " + note if lab else "SKIPPED: " + note))
    sys.stdout.flush()
    c = start_or_skip(MEMBERS, netns=lab)
    rnd = random.Random(SEED)
    keys = ["/k%d" % i for i in range(NKEYS)]
    hist = History()
    events = []
    failed = []
    T0 = now()
    stop_at = T0 + SECONDS
    ths = [threading.Thread(target=client, args=(i, c, keys, hist, stop_at,
                                                 random.Random(SEED * 100 + i)),
                            daemon=True) for i in range(CLIENTS)]
    nem_err = []

    def nem():
        try:
            nemesis(c, stop_at, random.Random(SEED * 7 + 1), events, lab)
        except Exception as e:  # noqa
            nem_err.append(e)
    nt = threading.Thread(target=nem, daemon=True)
    for t in ths:
        t.start()
    nt.start()
    for t in ths:
        t.join(SECONDS + 30)
    nt.join(30)
    if any(t.is_alive() for t in ths) or nt.is_alive():
        failed.append("client or nemesis threads did not stop")
    if nem_err:
        failed.append("nemesis: %s" % nem_err[0])
    run_s = now() - T0
    if lab is not None:
        lab.heal()
    for e in events:
        log("nemesis " + e)
    # every member back, one final quorum read of each key on each member
    for m in c:
        if not m.alive():
            c.restart(m)
    c.wait_leader(10)
    c.wait_converged(20)
    for m in c:
        for k in keys:
            t0 = now()
            r = m.get("/lin" + k, {"quorum": "true"}, timeout=10)
            ok, got = classify("read", r)
            if ok is None:
                failed.append("final quorum read of %s on %s: %r" % (k, m.name, r))
                continue
            hist.add(lin.Op(k, "read", got, True, t0, now(), "final-" + m.name))
    c.cleanup()
    if lab is not None:
        lab.cleanup()

    ops = hist.ops
    nok = sum(1 for o in ops if o.ok is True)
    nfail = sum(1 for o in ops if o.ok is False)
    nunk = sum(1 for o in ops if o.ok is None)
    by_kind = {k: sum(1 for o in ops if o.kind == k) for k in ("write", "cas", "read")}
    t0 = time.time()
    res = lin.check(ops, init=None)
    dt = time.time() - t0
    path = os.environ.get("CETCD_LIN_HISTORY")
    if path:
        with open(path, "w") as f:
            json.dump([o.to_dict() for o in ops], f)
    rkind = "quorum" if QUORUM_READS else "LOCAL (non-quorum)"
    print("# history: %d ops in %.1fs (%d writes, %d cas, %d %s reads): %d ok, "
          "%d failed (CAS), %d unknown outcome; %d refused (not sent), %d reads with "
          "unknown outcome dropped" % (len(ops), run_s, by_kind["write"], by_kind["cas"],
                                       by_kind["read"], rkind, nok, nfail, nunk,
                                       hist.refused, hist.dropped_reads))
    print("# checker: %.2fs, %d search steps, anomalies: %d" % (
        dt, res.stats["steps"], len(res.anomalies)))
    if res.ok is not True:
        failed.append("history is %s:\n%s" % (
            "NOT linearizable" if res.ok is False else "undecided (budget)", res.describe()))
    if len(ops) < 50:
        failed.append("too few operations recorded (%d)" % len(ops))
    if by_kind["cas"] == 0 or nok == 0:
        failed.append("no successful ops / no CAS recorded")
    kills = sum(1 for e in events if "kill" in e)
    parts = sum(1 for e in events if "partition" in e)
    if kills + parts == 0 and SECONDS >= 8:
        failed.append("the nemesis never struck")
    if failed:
        print("FAIL test_linearizable: " + "\n  ".join(failed))
        print("0 passed, 1 failed")
        sys.exit(1)
    print("ok   test_linearizable (%d ops, %d kills, %d partitions, 0 anomalies, "
          "%d unknown)" % (len(ops), kills, parts, nunk))
    print("1 passed, 0 failed")
    sys.exit(0)


if __name__ == "__main__":
    main()
