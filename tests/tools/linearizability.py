"""linearizability - a Wing-Gong / Lowe / Porcupine style linearizability
checker for a per-key register with compare-and-swap (Python 3 stdlib only).

History: a list of Op. Each op has a key, a kind, its arguments, an outcome
and its invocation/completion times (any monotonic clock, one clock for the
whole history):

  write(v)          ok=True                     the register becomes v
  cas(old -> new)   ok=True  (swapped)          requires state == old
                    ok=False (compare failed)   requires state != old
  read -> v         ok=True                     requires state == v
                                                 (v None = key absent)

  ok=None means the outcome is unknown (client timeout, connection reset,
  server-side timeout): the op may have taken effect at any point after its
  invocation, or never. As in Porcupine, such an op gets completion time
  +infinity, and the model accepts it in any state (a write applies, a CAS
  applies iff state == old); linearizing it after everything else is the
  same as "never". Reads with unknown outcome constrain nothing and are
  dropped. Ops that certainly did not happen (connection refused before
  the request was sent) should simply not be recorded.

Keys are independent registers, so the history is partitioned per key
(P-compositionality) and each partition is searched separately.

Search (checkSingle in Porcupine): the call/return events sorted by time
(a call sorts before a return at the same instant, so touching intervals
count as concurrent) form a doubly-linked list. Walk it: at a call, try to
linearize that op now (model step ok?) and if the pair (set of linearized
ops, new state) was never seen before, remember it, push (op, old state)
and lift the op's call and return out of the list; at a return whose call
is still in the list, that op cannot be linearized any later, so backtrack:
pop the last linearized op, restore the state, put its events back and
try the next candidate after it. The history is linearizable iff the list
becomes empty. The memo of (bitset, state) pairs prunes the exponential
search (Lowe's "just-in-time linearization" plus caching).

Unobserved unknown ops: an op with unknown outcome whose value nobody ever
saw (no successful read returned it, no CAS named it as the old value) is
first left out, i.e. linearized as "never", which its unknown outcome
allows. If the rest is linearizable, so is the whole (the same order with
the left-out ops never happening); only if not is the full search run.
This keeps histories with many timed-out writes (a partitioned minority)
tractable: the full search tries every subset of the pending ops.

API:
  check(history, init=None, budget=500000, prune=True) -> Result
     Result.ok: True / False / None (search budget exhausted)
     Result.anomalies: list of dicts (one per non-linearizable key)
  Op(key, kind, arg, ok, call, ret, client=None, result=None)
"""

import collections
import math

INF = math.inf


class Op:
    __slots__ = ("key", "kind", "arg", "ok", "call", "ret", "client", "result", "id")

    def __init__(self, key, kind, arg, ok, call, ret, client=None, result=None):
        """kind: 'write' (arg=v), 'cas' (arg=(old, new)), 'read' (arg=value
        read, None = absent). ok: True/False/None (unknown). ret: completion
        time (ignored, +inf, when ok is None)."""
        if kind not in ("write", "cas", "read"):
            raise ValueError("bad op kind %r" % kind)
        self.key = key
        self.kind = kind
        self.arg = arg
        self.ok = ok
        self.call = call
        self.ret = INF if ok is None else ret
        self.client = client
        self.result = result
        self.id = None
        if self.ret < self.call:
            raise ValueError("op completes before it is invoked: %r" % self)

    def __repr__(self):
        if self.kind == "write":
            what = "write(%r)" % (self.arg,)
        elif self.kind == "cas":
            what = "cas(%r->%r)" % self.arg
        else:
            what = "read()->%r" % (self.arg,)
        out = {True: "ok", False: "fail", None: "unknown"}[self.ok]
        return "<%s %s %s [%.6f, %s]%s>" % (
            self.key, what, out, self.call,
            "inf" if self.ret == INF else "%.6f" % self.ret,
            (" c=%s" % self.client) if self.client is not None else "")

    def to_dict(self):
        return {"key": self.key, "kind": self.kind, "arg": self.arg, "ok": self.ok,
                "call": self.call, "ret": None if self.ret == INF else self.ret,
                "client": self.client}

    @classmethod
    def from_dict(cls, d):
        arg = d["arg"]
        if d["kind"] == "cas" and isinstance(arg, list):
            arg = tuple(arg)
        return cls(d["key"], d["kind"], arg, d["ok"], d["call"],
                   INF if d.get("ret") is None else d["ret"], d.get("client"))


def step(state, op):
    """Register/CAS model. Returns (legal, new_state)."""
    k = op.kind
    if k == "write":
        return True, op.arg
    if k == "read":
        return state == op.arg, state
    old, new = op.arg
    if op.ok is True:
        return (True, new) if state == old else (False, state)
    if op.ok is False:
        return state != old, state
    # unknown CAS: whatever it did was consistent with the state it met
    return True, (new if state == old else state)


class _Entry:
    __slots__ = ("op", "is_call", "match", "prev", "next", "t")

    def __init__(self, op, is_call, t):
        self.op = op
        self.is_call = is_call
        self.t = t
        self.match = None
        self.prev = None
        self.next = None


class Result:
    def __init__(self, ok, anomalies, stats):
        self.ok = ok
        self.anomalies = anomalies
        self.stats = stats

    def __bool__(self):
        return self.ok is True

    def __repr__(self):
        return "<Result ok=%s anomalies=%d %s>" % (self.ok, len(self.anomalies), self.stats)

    def describe(self, limit=3):
        lines = []
        for a in self.anomalies[:limit]:
            lines.append("key %r: %s after %d of %d ops linearized" % (
                a["key"], a["why"], a["linearized"], a["ops"]))
            if a.get("stuck"):
                lines.append("  op that could not be linearized: %r" % (a["stuck"],))
            if a.get("state") is not None or a.get("stuck"):
                lines.append("  register state there: %r" % (a.get("state"),))
            for o in a.get("window", []):
                lines.append("    %r" % (o,))
        return "\n".join(lines)


def _check_key(key, ops, init, budget):
    """Search one key's history. Returns (ok, info)."""
    ops = [o for o in ops if not (o.kind == "read" and o.ok is None)]
    n = len(ops)
    if n == 0:
        return True, {"steps": 0}
    for i, o in enumerate(ops):
        o.id = i
    events = []
    for o in ops:
        c = _Entry(o, True, o.call)
        r = _Entry(o, False, o.ret)
        c.match = r
        events.append(c)
        events.append(r)
    # calls before returns at the same time; stable otherwise
    events.sort(key=lambda e: (e.t, 0 if e.is_call else 1))
    head = _Entry(None, False, -INF)
    prev = head
    for e in events:
        prev.next = e
        e.prev = prev
        prev = e

    def lift(e):
        e.prev.next = e.next
        if e.next is not None:
            e.next.prev = e.prev
        m = e.match
        m.prev.next = m.next
        if m.next is not None:
            m.next.prev = m.prev

    def unlift(e):
        m = e.match
        m.prev.next = m
        if m.next is not None:
            m.next.prev = m
        e.prev.next = e
        if e.next is not None:
            e.next.prev = e

    cache = set()
    calls = []          # stack of (entry, state before it)
    state = init
    linearized = 0      # bitset of op ids
    entry = head.next
    steps = 0
    best = (-1, None, None)     # (depth, stuck op, state)
    while head.next is not None:
        steps += 1
        if budget is not None and steps > budget:
            return None, {"steps": steps, "why": "search budget exhausted"}
        if entry.is_call:
            op = entry.op
            legal, new_state = step(state, op)
            if legal:
                nl = linearized | (1 << op.id)
                memo = (nl, new_state)
                if memo not in cache:
                    cache.add(memo)
                    calls.append((entry, state))
                    state = new_state
                    linearized = nl
                    lift(entry)
                    entry = head.next
                    continue
            entry = entry.next
        else:
            # the op returning here is not linearized yet: dead end
            if len(calls) > best[0]:
                best = (len(calls), entry.op, state)
            if not calls:
                break
            entry, state = calls.pop()
            linearized &= ~(1 << entry.op.id)
            unlift(entry)
            entry = entry.next
    if head.next is None:
        return True, {"steps": steps, "memo": len(cache)}
    depth, stuck, st = best
    window = []
    if stuck is not None:
        window = sorted((o for o in ops if o.call <= stuck.ret and o.ret >= stuck.call),
                        key=lambda o: o.call)[:12]
    return False, {"steps": steps, "memo": len(cache), "why": "not linearizable",
                   "linearized": max(depth, 0), "stuck": stuck, "state": st,
                   "window": window}


def _unobserved_unknown(ops):
    """The unknown-outcome writes/CAS whose value nobody observed."""
    seen = set()
    for o in ops:
        if o.kind == "read" and o.ok is True:
            seen.add(_hashable(o.arg))
        elif o.kind == "cas":
            seen.add(_hashable(o.arg[0]))
    out = set()
    for o in ops:
        if o.ok is None and o.kind != "read":
            v = o.arg if o.kind == "write" else o.arg[1]
            if _hashable(v) not in seen:
                out.add(id(o))
    return out


def _hashable(v):
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def check(history, init=None, budget=500000, prune=True):
    """Check a whole history. init: initial register value for every key
    (None = absent) or a dict key -> value. budget: max search steps per key
    (None = unlimited); the memo grows with the steps, so keep it bounded
    (real histories of ~10k ops need ~5k steps per key). prune: first try
    without the unobserved unknown ops (see above)."""
    by_key = collections.OrderedDict()
    for o in history:
        by_key.setdefault(o.key, []).append(o)
    anomalies = []
    stats = {"keys": len(by_key), "ops": len(history),
             "unknown": sum(1 for o in history if o.ok is None), "steps": 0}
    overall = True
    for key, ops in by_key.items():
        kinit = init.get(key) if isinstance(init, dict) else init
        ok = None
        if prune:
            drop = _unobserved_unknown(ops)
            if drop:
                ok, info = _check_key(key, [o for o in ops if id(o) not in drop], kinit,
                                      budget)
                stats["steps"] += info.get("steps", 0)
                stats["pruned"] = stats.get("pruned", 0) + len(drop)
        if ok is not True:
            ok, info = _check_key(key, ops, kinit, budget)
            stats["steps"] += info.get("steps", 0)
        if ok is not True:
            a = {"key": key, "ops": len(ops), "why": info.get("why"),
                 "linearized": info.get("linearized", 0), "stuck": info.get("stuck"),
                 "state": info.get("state"), "window": info.get("window", [])}
            anomalies.append(a)
            if ok is None and overall is True:
                overall = None
            elif ok is False:
                overall = False
    return Result(overall, anomalies, stats)
