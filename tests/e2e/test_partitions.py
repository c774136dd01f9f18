#!/usr/bin/env python3
"""Network partitions (issue 17): the minority never acknowledges, the whole
history is linearizable, the cluster heals by itself.

Members run in private network namespaces (clustertest.NetnsLab; the test
process lives in the lab's hub and reaches every member all the time: only
member <-> member traffic is cut, so a leader cut off from its followers is
still reachable by clients). Scenarios (5 members unless marked [3]):

  split-2/3 (leader in the minority / in the majority), split-1/4 (leader
  isolated from its followers but not from clients / a follower isolated),
  split-1/2/2 (no majority anywhere), rolling 2/3 splits, a bridge (two
  majorities sharing one member), one-way links (leader -> followers dropped,
  followers -> leader dropped, one link each way, a ring of one-way drops),
  flapping links on a bounded schedule (leader isolation, 2/3 splits, one
  link), random loss (nft numgen) and a slow link with loss (tc tbf: 64
  kbit/s, 300 ms queue; tc netem is used instead when the kernel has it),
  a member (leader, follower) kill -9'd and restarted while cut off, and
  [3] leader isolation, one-way leader drop, flapping leader.

During each scenario, clients write (PUT), compare-and-swap (PUT prevValue),
read with quorum=true and read locally, on random members. Checks:
  - while a member is in a minority (it cannot reach a majority, one-way
    drops included), no write/CAS sent to it after the cut and answered
    before the heal gets a definite answer (2xx, 412, 404), and no
    quorum=true read sent to it is answered 200;
  - the whole history (writes, CAS, quorum reads, over all scenarios, plus
    a final quorum read of every key on every member) is linearizable
    (tests/tools/linearizability.py); local reads may be stale (etcd v2
    allows it): they are left out of the check, they only must return a
    value some client wrote;
  - after the heal, without any action, the members agree on one leader and
    every member acknowledges a write within HEAL_MAX seconds (the heal
    time), and once the clients stop all members reach the same
    X-Etcd-Index and the same content (a recursive GET of /).

Knobs: CETCD_PARTITION_ROUNDS=N runs every scenario N times with longer
holds (default: a CI subset, ~40 s); CETCD_PARTITION_HOLD (seconds a fault
lasts), CETCD_PARTITION_CLIENTS, CETCD_PARTITION_SEED,
CETCD_PARTITION_ELECTION_MS (1000; the heartbeat is a tenth),
CETCD_PARTITION_ONLY=substring, CETCD_PARTITION_HISTORY=file (the history
as JSON, for tests/tools/linearizability.py). CETCD_TARGET=etcd runs it against etcd.
Exit 77 without root, ip, tc or nft (namespaces cannot be created).
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
from clustertest import (start_or_skip, NETERR, log, NetnsLab,  # noqa: E402
                         NetnsUnavailable)
import linearizability as lin  # noqa: E402
from test_linearizable import classify  # noqa: E402  (HTTP reply -> outcome)


def env(name, default, conv=float):
    v = os.environ.get(name)
    return conv(v) if v not in (None, "") else default


ROUNDS = env("CETCD_PARTITION_ROUNDS", 0, int)
FULL = ROUNDS > 0
HOLD = env("CETCD_PARTITION_HOLD", 4.0 if FULL else 2.5)
CLIENTS = env("CETCD_PARTITION_CLIENTS", 6, int)
SEED = env("CETCD_PARTITION_SEED", int(time.time()) % 100000, int)
ONLY = os.environ.get("CETCD_PARTITION_ONLY", "")
ELECTION_MS = env("CETCD_PARTITION_ELECTION_MS", 1000, int)
PROBERS = 3
OP_TIMEOUT = 2.0
HEAL_MAX = 20.0
NKEYS = 2
now = time.monotonic


# --------------------------------------------------------------------------
# one scenario's context

class Ctx:
    def __init__(self, lab, c, rnd):
        self.lab = lab
        self.c = c
        self.n = len(c)
        self.rnd = rnd
        self.windows = []   # (t_from, t_to, set of minority member indexes)
        self.notes = []
        self.leader = None
        self.minority = ()  # the minority right now (for the probers)
        self.leader_after = "?"

    def others(self, *but):
        return [i for i in range(self.n) if i not in but]

    def hold(self, groups_or_none, minority, seconds):
        """Install a partition (groups; None: keep the current faults),
        record a minority window for `seconds`, then return (faults stay
        until the caller or the runner heals)."""
        if groups_or_none is not None:
            self.lab.partition(groups_or_none)
        t0 = now()
        self.minority = tuple(minority)
        time.sleep(seconds)
        self.minority = ()
        if minority:
            self.windows.append((t0, now(), set(minority)))

    def cur_leader(self, timeout=3.0):
        """Index of the member everybody agrees leads, waiting a bit."""
        deadline = now() + timeout
        while now() < deadline:
            lm = self.c.leader(timeout=0.5)
            if lm is not None:
                return lm.idx
            time.sleep(0.05)
        return self.rnd.randrange(self.n)


# --------------------------------------------------------------------------
# faults: f(ctx) installs faults, holds, returns (the runner heals)

def split23_leader_minority(x):
    L = x.leader
    mino = [L, x.rnd.choice(x.others(L))]
    x.hold([mino, x.others(*mino)], mino, HOLD)


def split23_leader_majority(x):
    L = x.leader
    mino = x.rnd.sample(x.others(L), 2)
    x.hold([mino, x.others(*mino)], mino, HOLD)


def split14_leader_isolated(x):
    """The leader cut off from its followers; clients still reach it."""
    x.hold([[x.leader], x.others(x.leader)], [x.leader], HOLD)


def split14_follower_isolated(x):
    f = x.rnd.choice(x.others(x.leader))
    x.hold([[f], x.others(f)], [f], HOLD)


def split122_no_majority(x):
    L = x.leader
    rest = x.others(L)
    x.rnd.shuffle(rest)
    x.hold([[L], rest[:2], rest[2:]], range(x.n), HOLD)


def rolling_splits(x):
    """2/3 with the leader in the minority, then again with whoever leads
    the majority now in the new minority."""
    split23_leader_minority(x)
    x.lab.heal()
    time.sleep(0.3)
    x.leader = x.cur_leader()
    split23_leader_minority(x)


def bridge(x):
    """Two majorities {a,b,m} and {m,c,d} sharing m (a and b cannot talk
    to c and d); the leader is a."""
    L = x.leader
    rest = x.others(L)
    x.rnd.shuffle(rest)
    m, b, c, d = rest
    x.lab.cut_pairs([(L, c), (L, d), (b, c), (b, d)])
    x.notes.append("bridge m%d" % m)
    x.hold(None, (), HOLD)


def oneway_leader_out(x):
    """Nothing the leader sends reaches a follower; it hears them all."""
    for j in x.others(x.leader):
        x.lab.drop(x.leader, j)
    x.hold(None, [x.leader], HOLD)


def oneway_leader_in(x):
    """The leader's messages reach the followers; nothing comes back."""
    for j in x.others(x.leader):
        x.lab.drop(j, x.leader)
    x.hold(None, [x.leader], HOLD)


def oneway_one_link_out(x):
    x.lab.drop(x.leader, x.rnd.choice(x.others(x.leader)))
    x.hold(None, (), HOLD)


def oneway_one_link_in(x):
    x.lab.drop(x.rnd.choice(x.others(x.leader)), x.leader)
    x.hold(None, (), HOLD)


def oneway_ring(x):
    for i in range(x.n):
        x.lab.drop(i, (i + 1) % x.n)
    x.hold(None, (), HOLD)


def _flap(x, pick, on_s, off_s):
    """Bounded schedule: cut (pick() -> groups, minority) for on_s, heal for
    off_s, for HOLD * 1.5 seconds at most."""
    end = now() + HOLD * 1.5
    cycles = 0
    while now() + on_s < end and cycles < 50:
        groups, mino = pick()
        x.hold(groups, mino, on_s)
        x.lab.heal()
        time.sleep(off_s)
        cycles += 1
    x.notes.append("%d flaps" % cycles)


def flap_leader(x):
    def pick():
        L = x.cur_leader(1.0)
        return [[L], x.others(L)], [L]
    _flap(x, pick, 0.8, 0.4)


def flap_split23(x):
    def pick():
        mino = x.rnd.sample(range(x.n), 2)
        return [mino, x.others(*mino)], mino
    _flap(x, pick, 1.2, 0.3)


def flap_one_link(x):
    f = x.rnd.choice(x.others(x.leader))
    L = x.leader
    end = now() + HOLD * 1.5
    cycles = 0
    while now() < end and cycles < 100:
        x.lab.cut_pairs([(L, f)])
        time.sleep(0.2)
        x.lab.heal()
        time.sleep(0.2)
        cycles += 1
    x.notes.append("%d flaps of m%d-m%d" % (cycles, L, f))


def loss_all(x):
    for i in range(x.n):
        x.lab.loss(i, 10)
    x.hold(None, (), HOLD)


def loss_leader(x):
    x.lab.loss(x.leader, 30)
    x.hold(None, (), HOLD)


def _delay(x, i, loss):
    if x.lab.has_netem:
        x.lab.netem(i, delay_ms=150, jitter_ms=50, loss_pct=loss)
    else:
        x.lab.slow(i, 64, 300)
        if loss:
            x.lab.loss(i, loss)


def slow_leader(x):
    _delay(x, x.leader, 0)
    x.hold(None, (), HOLD)


def slow_lossy_all(x):
    for i in range(x.n):
        _delay(x, i, 5)
    x.hold(None, (), HOLD)


def split23_lossy_majority(x):
    L = x.leader
    mino = [L, x.rnd.choice(x.others(L))]
    x.lab.partition([mino, x.others(*mino)])
    for i in x.others(*mino):
        x.lab.loss(i, 10)
    x.hold(None, mino, HOLD)


def _restart_isolated(x, i):
    """Member i cut off, kill -9'd and restarted while still cut off."""
    x.lab.partition([[i], x.others(i)])
    t0 = now()
    x.minority = (i,)
    time.sleep(HOLD / 3)
    m = x.c[i]
    m.kill()
    time.sleep(0.3)
    m.spawn()   # not waiting: etcd serves clients only once it has
    time.sleep(HOLD / 2)    # published itself, which needs a quorum
    x.minority = ()
    x.windows.append((t0, now(), {i}))


def restart_isolated_leader(x):
    _restart_isolated(x, x.leader)


def restart_isolated_follower(x):
    _restart_isolated(x, x.rnd.choice(x.others(x.leader)))


# (name, members, fault, in the CI subset)
SCENARIOS = [
    ("split23_leader_minority", 5, split23_leader_minority, True),
    ("split23_leader_majority", 5, split23_leader_majority, False),
    ("split14_leader_isolated", 5, split14_leader_isolated, True),
    ("split14_follower_isolated", 5, split14_follower_isolated, False),
    ("split122_no_majority", 5, split122_no_majority, False),
    ("rolling_splits", 5, rolling_splits, False),
    ("bridge", 5, bridge, False),
    ("oneway_leader_out", 5, oneway_leader_out, True),
    ("oneway_leader_in", 5, oneway_leader_in, False),
    ("oneway_one_link_out", 5, oneway_one_link_out, False),
    ("oneway_one_link_in", 5, oneway_one_link_in, False),
    ("oneway_ring", 5, oneway_ring, False),
    ("flap_leader", 5, flap_leader, True),
    ("flap_split23", 5, flap_split23, False),
    ("flap_one_link", 5, flap_one_link, False),
    ("loss_all", 5, loss_all, False),
    ("loss_leader", 5, loss_leader, False),
    ("slow_leader", 5, slow_leader, False),
    ("slow_lossy_all", 5, slow_lossy_all, True),
    ("split23_lossy_majority", 5, split23_lossy_majority, False),
    ("restart_isolated_leader", 5, restart_isolated_leader, False),
    ("restart_isolated_follower", 5, restart_isolated_follower, False),
    ("split12_leader_isolated_3", 3, split14_leader_isolated, False),
    ("oneway_leader_out_3", 3, oneway_leader_out, False),
    ("flap_leader_3", 3, flap_leader, False),
]


# --------------------------------------------------------------------------
# clients

class History:
    def __init__(self):
        self.ops = []           # lin.Op, .result = member index
        self.local = []         # (key, value, member) of local (non-quorum) reads
        self.written = {}       # key -> set of values clients tried to write
        self.lock = threading.Lock()
        self.refused = 0


def client(cid, x, keys, hist, stop, rnd):
    seen = {}
    for n in range(100000):
        if stop.is_set():
            break
        mi = rnd.randrange(x.n)
        m = x.c[mi]
        key = rnd.choice(keys)
        val = "c%d-%d" % (cid, n)
        r = rnd.random()
        if r < 0.35:
            kind, arg = "read", None
        elif r < 0.45:
            kind, arg = "local", None
        elif r < 0.7 or seen.get(key) is None:
            kind, arg = "write", val
        else:
            kind, arg = "cas", (seen[key], val)
        if kind in ("write", "cas"):
            with hist.lock:
                hist.written.setdefault(key, set()).add(val)
        t0 = now()
        try:
            if kind == "read":
                resp = m.get(key, {"quorum": "true"}, timeout=OP_TIMEOUT)
            elif kind == "local":
                resp = m.get(key, timeout=OP_TIMEOUT)
            elif kind == "write":
                resp = m.put(key, {"value": val}, timeout=OP_TIMEOUT)
            else:
                resp = m.put(key, {"value": val, "prevValue": arg[0]}, timeout=OP_TIMEOUT)
            t1 = now()
            ok, got = classify("read" if kind == "local" else kind, resp)
        except ConnectionRefusedError:
            hist.refused += 1
            time.sleep(0.02)
            continue
        except Exception:   # noqa: timeout, reset: outcome unknown
            t1 = now()
            ok, got = None, None
        if kind == "local":
            if ok:
                with hist.lock:
                    hist.local.append((key, got, mi))
            continue
        if kind == "read":
            op = lin.Op(key, "read", got, ok, t0, t1, cid, mi)
            if ok:
                seen[key] = got
        else:
            op = lin.Op(key, kind, arg, ok, t0, t1, cid, mi)
            if ok:
                seen[key] = val
            elif ok is False:
                seen.pop(key, None)
        with hist.lock:
            hist.ops.append(op)
        if ok is None:
            time.sleep(0.05)


def prober(cid, x, keys, hist, stop, rnd):
    """Sends writes, CAS and quorum reads only to the current minority
    (short timeouts), to give it many chances to answer."""
    for n in range(100000):
        if stop.is_set():
            break
        mino = x.minority
        if not mino:
            time.sleep(0.02)
            continue
        mi = rnd.choice(mino)
        key = rnd.choice(keys)
        val = "p%d-%d" % (cid, n)
        kind = rnd.choice(("read", "write", "cas"))
        arg = val if kind == "write" else (val + "-old", val) if kind == "cas" else None
        if kind != "read":
            with hist.lock:
                hist.written.setdefault(key, set()).add(val)
        t0 = now()
        try:
            m = x.c[mi]
            if kind == "read":
                resp = m.get(key, {"quorum": "true"}, timeout=0.8)
            elif kind == "write":
                resp = m.put(key, {"value": val}, timeout=0.8)
            else:
                resp = m.put(key, {"value": val, "prevValue": arg[0]}, timeout=0.8)
            t1 = now()
            ok, got = classify(kind, resp)
        except ConnectionRefusedError:
            continue
        except Exception:   # noqa: timeout, reset: outcome unknown
            t1 = now()
            ok, got = None, None
        op = lin.Op(key, kind, got if kind == "read" else arg, ok, t0, t1, cid, mi)
        with hist.lock:
            hist.ops.append(op)


# --------------------------------------------------------------------------
# checks

def minority_violations(ops, windows):
    """Definite answers from a member while it sat in a minority."""
    bad = []
    for o in ops:
        if o.ok is None or o.ret == lin.INF:
            continue
        for t0, t1, mino in windows:
            if o.result in mino and o.call >= t0 and o.ret <= t1:
                if o.kind != "read" or o.ok is True:
                    bad.append((o, sorted(mino)))
                break
    return bad


def wait_healed(x, key):
    """After the heal: one agreed leader, then a write acknowledged by every
    member. Returns seconds taken; AssertionError after HEAL_MAX."""
    t0 = now()
    deadline = t0 + HEAL_MAX
    pending = list(range(x.n))
    last = None
    while now() < deadline:
        if x.c.leader(timeout=0.5) is None:
            last = "no agreed leader"
            time.sleep(0.05)
            continue
        for i in list(pending):
            try:
                r = x.c[i].put(key, {"value": "healed-m%d" % i}, timeout=2.0)
                if r.status in (200, 201):
                    pending.remove(i)
                else:
                    last = "m%d: %r" % (i, r)
            except NETERR as e:
                last = "m%d: %s" % (i, e)
        if not pending:
            lm = x.c.leader(timeout=0.5)
            x.leader_after = lm.name if lm is not None else "?"
            return now() - t0
        time.sleep(0.05)
    raise AssertionError("not healed %.0fs after the heal: %s" % (HEAL_MAX, last))


def content(m):
    r = m.request("GET", "/v2/keys/", {"recursive": "true", "sorted": "true"}, timeout=5)
    return json.dumps(r.json.get("node") if isinstance(r.json, dict) else r.status,
                      sort_keys=True)


def wait_same(x, timeout=15.0):
    """Same X-Etcd-Index and same content on every member (clients stopped)."""
    t0 = now()
    x.c.wait_converged(timeout)
    deadline = t0 + timeout
    while True:
        cs = [content(m) for m in x.c]
        if len(set(cs)) == 1:
            return now() - t0
        if now() > deadline:
            raise AssertionError("members differ after the heal: %s" % [
                (m.name, len(s)) for m, s in zip(x.c, cs)])
        time.sleep(0.2)


# --------------------------------------------------------------------------
# the run

def run_one(sid, name, fault, lab, c, hist, rnd, results):
    x = Ctx(lab, c, rnd)
    keys = ["/part/s%d/k%d" % (sid, k) for k in range(NKEYS)]
    stop = threading.Event()
    ths = [threading.Thread(target=client, args=(sid * 100 + i, x, keys, hist, stop,
                                                 random.Random(rnd.random())),
                            daemon=True) for i in range(CLIENTS)]
    ths += [threading.Thread(target=prober, args=(sid * 100 + 90 + i, x, keys, hist, stop,
                                                  random.Random(rnd.random())),
                             daemon=True) for i in range(PROBERS)]
    n0 = len(hist.ops)
    for t in ths:
        t.start()
    err = None
    heal_s = same_s = lead0 = None
    try:
        time.sleep(0.5)
        x.leader = x.cur_leader()
        lead0 = x.leader
        fault(x)
        lab.heal()
        heal_s = wait_healed(x, "/part/s%d/heal" % sid)
        time.sleep(0.3)
    except Exception as e:  # noqa
        err = e
    finally:
        lab.heal()
        stop.set()
        for t in ths:
            t.join(OP_TIMEOUT + 5)
    if err is None:
        try:
            same_s = wait_same(x)
        except Exception as e:  # noqa
            err = e
    ops = hist.ops[n0:]
    bad = minority_violations(ops, x.windows)
    res = {"name": name, "n": x.n, "leader": "m%d" % lead0 if lead0 is not None else "?",
           "leader_after": x.leader_after,
           "ops": len(ops), "ok": sum(1 for o in ops if o.ok is True),
           "unknown": sum(1 for o in ops if o.ok is None),
           "minority_ops": sum(1 for o in ops for w in x.windows
                               if o.result in w[2] and w[0] <= o.call <= w[1]),
           "violations": bad, "heal_s": heal_s, "same_s": same_s,
           "error": err, "notes": x.notes}
    results.append(res)
    return res


# faults that need nft (loss) and tc tbf (slow links)
SHAPING = (loss_all, loss_leader, slow_leader, slow_lossy_all, split23_lossy_majority)


def setup_lab(n):
    """The lab, or exit 77 if namespaces cannot be made. lab.shaping: nft
    and tc tbf work (else the loss/slow scenarios are skipped)."""
    lab = NetnsLab(n)
    try:
        lab.setup()
    except NetnsUnavailable as e:
        lab.cleanup()
        skip("network namespaces unavailable: %s" % e)
    try:
        lab.probe_faults()
        lab.shaping = True
    except NetnsUnavailable as e:
        lab.shaping = False
        log("loss and slow-link scenarios SKIPPED: %s" % e)
    lab.has_netem = lab.netem_available()
    try:
        lab.enter_hub()
    except NetnsUnavailable as e:
        lab.cleanup()
        skip("network namespaces unusable: %s" % e)
    return lab


def main():
    kind = target()
    if (kind == "etcd" and not etcd_bin()) or (kind == "cetcd" and not cetcd_bin()):
        skip("%s binary not found (CETCD_TARGET=%s)" % (kind, kind))
    plan = [(nm, n, f) for nm, n, f, ci in SCENARIOS
            if (FULL or ci) and (not ONLY or ONLY in nm)]
    rounds = max(1, ROUNDS)
    print("# target: %s (%s); %d scenarios x %d rounds, hold %.1fs, %d clients, seed %d" % (
        kind, etcd_bin() if kind == "etcd" else cetcd_bin(), len(plan), rounds, HOLD,
        CLIENTS, SEED))
    sys.stdout.flush()
    lab = setup_lab(5)
    if not lab.shaping:
        plan = [(nm, n, f) for nm, n, f in plan if f not in SHAPING]
    print("# lab %s (%s)" % (lab.tag, "tc netem" if lab.has_netem else
                             "no netem in this kernel: delay = tc tbf 64kbit/300ms"))
    rnd = random.Random(SEED)
    hist = History()
    results = []
    failed = []
    t_all = now()
    for size in (5, 3):
        todo = [(nm, f) for nm, n, f in plan if n == size]
        if not todo:
            continue
        c = start_or_skip(size, netns=lab, heartbeat_ms=max(10, ELECTION_MS // 10),
                          election_ms=ELECTION_MS)
        n_before = len(hist.ops)
        try:
            sid = len(results)
            for r in range(rounds):
                for nm, f in todo:
                    sid += 1
                    res = run_one(sid, nm, f, lab, c, hist, rnd, results)
                    line = ("%-26s n=%d leader %s->%s: %4d ops (%d ok, %d unknown), %d to "
                            "the minority, heal %s, same %s%s" % (
                                nm, size, res["leader"], res["leader_after"], res["ops"],
                                res["ok"],
                                res["unknown"], res["minority_ops"],
                                "%.2fs" % res["heal_s"] if res["heal_s"] is not None else "-",
                                "%.2fs" % res["same_s"] if res["same_s"] is not None else "-",
                                (" [%s]" % ", ".join(res["notes"])) if res["notes"] else ""))
                    if res["error"] is not None or res["violations"]:
                        why = []
                        if res["error"] is not None:
                            why.append(str(res["error"]))
                        for o, mino in res["violations"][:5]:
                            why.append("minority %s answered %r" % (mino, o))
                        failed.append("%s: %s" % (nm, "; ".join(why)))
                        print("FAIL " + line + "\n  " + "\n  ".join(why))
                        print(c.log_tails(6))
                        if res["error"] is not None:
                            raise RuntimeError("cluster did not heal, stopping")
                    else:
                        print("ok   " + line)
                    sys.stdout.flush()
            # a final quorum read of every key on every member
            keys = sorted({o.key for o in hist.ops[n_before:]})
            for m in c:
                for k in keys:
                    t0 = now()
                    resp = m.get(k, {"quorum": "true"}, timeout=10)
                    ok, got = classify("read", resp)
                    if ok is None:
                        failed.append("final quorum read of %s on %s: %r" % (k, m.name, resp))
                    else:
                        hist.ops.append(lin.Op(k, "read", got, True, t0, now(),
                                               "final", m.idx))
        except RuntimeError:
            pass
        finally:
            c.cleanup()
    lab.cleanup()
    run_s = now() - t_all

    ops = hist.ops
    stale = [(k, v, mi) for k, v, mi in hist.local
             if v is not None and v not in hist.written.get(k, ())
             and not str(v).startswith("healed-")]
    if stale:
        failed.append("local reads returned values nobody wrote: %r" % stale[:3])
    path = os.environ.get("CETCD_PARTITION_HISTORY")
    if path:
        with open(path, "w") as f:
            json.dump([dict(o.to_dict(), member=o.result) for o in ops], f)
    t0 = time.time()
    res = lin.check(ops, init=None)
    dt = time.time() - t0
    nunk = sum(1 for o in ops if o.ok is None)
    heals = [r["heal_s"] for r in results if r["heal_s"] is not None]
    print("# %d scenarios in %.1fs; history: %d ops (%d writes, %d cas, %d quorum reads; "
          "%d unknown outcome), %d local reads (not checked), %d refused" % (
              len(results), run_s, len(ops), sum(1 for o in ops if o.kind == "write"),
              sum(1 for o in ops if o.kind == "cas"),
              sum(1 for o in ops if o.kind == "read"), nunk, len(hist.local), hist.refused))
    print("# minority ops: %d, answered: %d; heal time max %.2fs, mean %.2fs" % (
        sum(r["minority_ops"] for r in results), sum(len(r["violations"]) for r in results),
        max(heals) if heals else -1, sum(heals) / len(heals) if heals else -1))
    print("# checker: %.2fs, %d steps, anomalies: %d" % (dt, res.stats["steps"],
                                                        len(res.anomalies)))
    if res.ok is not True:
        failed.append("history is %s:\n%s" % (
            "NOT linearizable" if res.ok is False else "undecided (budget)", res.describe()))
    if sum(1 for o in ops if o.ok is True) < 20:
        failed.append("too few successful operations")
    if failed:
        print("FAIL test_partitions:\n  " + "\n  ".join(failed))
        print("0 passed, 1 failed")
        sys.exit(1)
    print("ok   test_partitions (%d scenarios, %d ops, 0 anomalies)" % (len(results), len(ops)))
    print("1 passed, 0 failed")
    sys.exit(0)


if __name__ == "__main__":
    main()
