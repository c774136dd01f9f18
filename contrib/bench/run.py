#!/usr/bin/env python3
# run.py - cetcd vs real etcd benchmark driver (Python 3 stdlib only).
#
# Starts cetcd and real etcd (v2 enabled) on 127.0.0.1 with free ports and fresh
# temp data dirs, the same flags for both; runs each scenario against each server
# alternating A B A B (--rounds, default 3); prints the median of every figure in a
# table `scenario | cetcd | etcd | cetcd/etcd`; optionally refreshes a section of
# doc/benchmarks.md (--write-doc). Every load is bounded in time and count; servers
# are always killed at the end and their temp dirs removed.
#
#   contrib/bench/run.py --quick                       # < 2 minutes
#   contrib/bench/run.py                               # full mode, < 10 minutes
#   contrib/bench/run.py --cetcd /usr/bin/etcd         # etcd vs etcd sanity check
#
# See contrib/bench/README.

import sys

sys.dont_write_bytecode = True  # keep the source tree clean

import argparse
import fnmatch
import importlib
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchlib  # noqa: E402
from benchlib import BenchError, Flavor, log  # noqa: E402

DEFAULT_DOC = os.path.normpath(os.path.join(HERE, "..", "..", "doc", "benchmarks.md"))

MODES = {
    # duration: seconds per measured wrk run; warmup: one unmeasured run per fresh
    # server; budget: hard bound on the whole run (later scenarios are skipped).
    "quick": {"duration": 2.0, "warmup": 1.0, "budget": 110.0},
    "full": {"duration": 8.0, "warmup": 2.0, "budget": 600.0},
}


def load_scenarios():
    sdir = os.path.join(HERE, "scenarios")
    for fn in sorted(os.listdir(sdir)):
        if fn.endswith(".py") and not fn.startswith("_"):
            importlib.import_module("scenarios." + fn[:-3])
    return sorted(benchlib.SCENARIOS.values(), key=lambda s: (s.order, s.name))


def looks_like_etcd(binary):
    return os.path.basename(binary) == "etcd"


class Ctx:
    def __init__(self, args, mode):
        self.args = args
        self.mode = mode
        self.wrk = args.wrk
        self.wrk_threads = args.wrk_threads
        self.duration = args.duration
        self.warmup = args.warmup
        self.rounds = args.rounds
        self.scale = args.scale
        self.seq = 0
        self.tmp_root = None
        self.deadline = None  # time.monotonic() value: the --budget bound

    def scale_count(self, n):
        return max(1, int(n * self.scale))

    def start_single(self, flavor, tag):
        return benchlib.Server(flavor, self.tmp_root, tag).start()


def start_servers(ctx, sc, flavors, tag, errs):
    """Start one server per flavor (all at once), wait until each is ready and run the
    scenario's setup. A flavor that fails gets its error in errs[i] and None in the
    returned list, so the other side is still measured."""
    starter = sc.start or (lambda c, f, t: c.start_single(f, t))
    servers = [None] * len(flavors)
    try:
        for i, f in enumerate(flavors):
            if i in errs:
                continue
            try:
                servers[i] = starter(ctx, f, "%s-%s-%s" % (tag, "AB"[i], f.label))
            except BenchError as e:
                errs[i] = e
        for i, s in enumerate(servers):
            if s is None:
                continue
            try:
                if hasattr(s, "wait_ready"):
                    s.wait_ready(timeout=max(5.0, min(30.0, ctx.deadline - time.monotonic())))
                if sc.setup:
                    sc.setup(ctx, s)
            except BenchError as e:
                errs[i] = e
                s.stop()
                servers[i] = None
        return servers
    except BaseException:
        for s in servers:
            if s is not None:
                s.stop()
        raise


def check_alive(srv):
    if hasattr(srv, "alive") and not srv.alive():
        tail = srv.log_tail() if hasattr(srv, "log_tail") else ""
        raise BenchError("%s died during the run; log tail:\n%s" % (srv.tag, tail))


def measure(ctx, sc, srv):
    m = sc.func(ctx, srv)
    check_alive(srv)
    return m


def run_scenario(ctx, sc, flavors, deadline, raw):
    """Fills raw = {flavor index: [metrics dict per round]} (kept if it fails midway).
    A side that fails is dropped from the remaining rounds; the other side goes on.
    Raises BenchError at the end naming what failed."""
    if sc.context:
        flavors = [Flavor("context", None, [])]
    errs = {}
    budget_err = None
    servers = [None] * len(flavors)
    try:
        if not sc.fresh_per_round:
            servers = start_servers(ctx, sc, flavors, sc.name, errs)
            if ctx.warmup > 0:
                saved = ctx.duration
                ctx.duration = ctx.warmup
                try:
                    for i, s in enumerate(servers):
                        if s is not None:
                            try:
                                measure(ctx, sc, s)
                            except BenchError as e:
                                errs[i] = e
                finally:
                    ctx.duration = saved
        for r in range(ctx.rounds):
            for i, f in enumerate(flavors):  # A B A B ...
                if i in errs:
                    continue
                if time.monotonic() > deadline:
                    budget_err = BenchError("time budget exhausted (round %d)" % (r + 1))
                    break
                try:
                    if sc.fresh_per_round:
                        e1 = {}
                        (srv,) = start_servers(ctx, sc, [f], "%s-r%d" % (sc.name, r + 1), e1)
                        if srv is None:
                            raise e1[0]
                    else:
                        srv = servers[i]
                    try:
                        m = measure(ctx, sc, srv)
                    finally:
                        if sc.fresh_per_round:
                            srv.stop()
                except BenchError as e:
                    errs[i] = e
                    log("%-8s round %d %-6s FAILED: %s" % (sc.name, r + 1, f.label, e))
                    continue
                raw[i].append(m)
                log("%-8s round %d %-6s %s" % (sc.name, r + 1, f.label, "  ".join(
                    "%s=%s" % (mt.name, mt.fmt.format(m[mt.name])) for mt in sc.metrics
                    if mt.name in m)))
            if budget_err is not None:
                break
    finally:
        for s in servers:
            if s is not None:
                s.stop()
    msgs = ["%s: %s" % (flavors[i].label, errs[i]) for i in sorted(errs)]
    if budget_err is not None:
        msgs.append(str(budget_err))
    if msgs:
        raise BenchError("; ".join(m.splitlines()[0] for m in msgs) + "\n" + "\n".join(msgs))


def aggregate(metric, values):
    if not values:
        return None
    if metric.agg == "sum":
        return sum(values)
    if metric.agg == "max":
        return max(values)
    return statistics.median(values)


def fmt_ratio(a, b):
    if a is None or b is None:
        return "—"
    if b == 0:
        return "=" if a == 0 else "—"
    return "%.2f" % (a / b)


def build_rows(scenarios, results, failures):
    """rows: (label, a_str, b_str, ratio_str); raw rows: (label, a list, b list)."""
    rows, raw_rows = [], []
    for sc in scenarios:
        if sc.context:
            continue
        if sc.name in failures and sc.name not in results:
            what = "skipped" if failures[sc.name].startswith("skipped") else "FAILED"
            rows.append((sc.name, what, what, "—"))
            continue
        raw = results.get(sc.name)
        if raw is None:
            continue
        for mt in sc.metrics:
            va = [m[mt.name] for m in raw[0] if mt.name in m]
            vb = [m[mt.name] for m in raw[1] if mt.name in m]
            a, b = aggregate(mt, va), aggregate(mt, vb)
            label = "%s %s" % (sc.name, mt.name)
            missing = "FAILED" if sc.name in failures else "—"
            rows.append((label,
                         missing if a is None else mt.fmt.format(a),
                         missing if b is None else mt.fmt.format(b),
                         fmt_ratio(a, b)))
            raw_rows.append((label, ", ".join(mt.fmt.format(v) for v in va),
                             ", ".join(mt.fmt.format(v) for v in vb)))
    return rows, raw_rows


def build_context_rows(scenarios, results, failures):
    rows = []
    for sc in scenarios:
        if not sc.context:
            continue
        raw = results.get(sc.name)
        if raw is None:
            if sc.name in failures:
                rows.append((sc.name, "FAILED", ""))
            continue
        for mt in sc.metrics:
            v = [m[mt.name] for m in raw[0] if mt.name in m]
            a = aggregate(mt, v)
            rows.append(("%s %s" % (sc.name, mt.name), "—" if a is None else mt.fmt.format(a),
                         ", ".join(mt.fmt.format(x) for x in v)))
    return rows


def render_text_table(headers, rows):
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    out = []
    for j, r in enumerate([headers] + rows):
        cells = [str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                 for i, c in enumerate(r)]
        out.append(" | ".join(cells))
        if j == 0:
            out.append("-+-".join("-" * w for w in widths))
    return "\n".join(out)


def render_md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def machine_facts():
    facts = {}
    facts["nproc"] = subprocess.run(["nproc"], stdout=subprocess.PIPE).stdout.decode().strip()
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    facts["cpu"] = cpu
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = "%.1f GiB" % (int(line.split()[1]) / 1048576.0)
                    break
    except OSError:
        pass
    facts["mem"] = mem
    facts["kernel"] = platform.release()
    return facts


def first_line(s):
    return s.splitlines()[0] if s else "?"


def write_doc(path, section, content):
    begin = "<!-- bench:%s:begin -->" % section
    end = "<!-- bench:%s:end -->" % section
    block = "%s\n%s\n%s\n" % (begin, content.rstrip("\n"), end)
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    else:
        text = ("# Benchmarks\n\ncetcd vs real etcd (v2 API), measured in the same run by "
                "`contrib/bench/run.py`. Sections below are refreshed by `run.py "
                "--write-doc`.\n\n")
    i, j = text.find(begin), text.find(end)
    if i >= 0 and j > i:
        text = text[:i] + block.rstrip("\n") + text[j + len(end):]
    else:
        # A new section goes above the existing ones (newest kind first).
        k = text.find("<!-- bench:")
        if k >= 0:
            text = text[:k] + block + "\n" + text[k:]
        else:
            text = text.rstrip("\n") + "\n\n" + block
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--cetcd", default="./build/cetcd", help="side A binary (default ./build/cetcd)")
    ap.add_argument("--etcd", default=shutil.which("etcd") or "/usr/bin/etcd",
                    help="side B binary: real etcd (default: etcd on PATH)")
    ap.add_argument("--cetcd-args", default="--enable-v2=true",
                    help="extra flags for side A (default --enable-v2=true: cetcd accepts "
                         "it, so both sides get the very same flags)")
    ap.add_argument("--etcd-args", default="--enable-v2=true", help="extra flags for side B")
    ap.add_argument("--cetcd-proxy", default=None,
                    help="proxy binary of side A for the proxy-* scenarios (default: "
                         "--cetcd itself, run with --proxy on)")
    ap.add_argument("--etcd-proxy", default=None,
                    help="proxy binary of side B for the proxy-* scenarios (default: --etcd)")
    ap.add_argument("--names", default=None, help="column labels A,B (default cetcd,etcd)")
    ap.add_argument("--quick", action="store_true", help="quick mode (< 2 minutes)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=None, help="seconds per measured run")
    ap.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per server")
    ap.add_argument("--budget", type=float, default=None, help="hard bound on total seconds")
    ap.add_argument("--scenarios", default=None,
                    help="comma-separated names or patterns such as 'sweep-*' "
                         "(default: all of the mode)")
    ap.add_argument("--list", action="store_true", help="list scenarios and exit")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="scale key counts (e.g. 0.1 for a dry run of mem100k)")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--write-doc", action="store_true", help="refresh a section of the doc")
    ap.add_argument("--doc", default=DEFAULT_DOC)
    ap.add_argument("--doc-section", default=None, help="section name (default: the mode)")
    ap.add_argument("--title", default=None, help="section title")
    ap.add_argument("--note", action="append", default=[], help="note line for the doc")
    ap.add_argument("--tmpdir", default=None, help="parent of the servers' temp dirs")
    args = ap.parse_args()

    scenarios = load_scenarios()
    if args.list:
        for sc in scenarios:
            print("%-10s %-12s %s" % (sc.name, "/".join(sc.modes), sc.help))
        return 0

    mode = "quick" if args.quick else "full"
    for k, v in MODES[mode].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")

    if args.scenarios:
        want = []
        for w in (s.strip() for s in args.scenarios.split(",")):
            if any(c in w for c in "*?["):  # a pattern: sweep-* (in order)
                want += [s.name for s in scenarios if fnmatch.fnmatchcase(s.name, w)] or [w]
            elif w:
                want.append(w)
        unknown = [w for w in want if w not in benchlib.SCENARIOS]
        if unknown:
            ap.error("unknown scenario(s): %s" % ", ".join(unknown))
        scenarios = [s for s in scenarios if s.name in want]
    else:
        scenarios = [s for s in scenarios if mode in s.modes]

    a_bin = os.path.abspath(args.cetcd)
    b_bin = os.path.abspath(args.etcd)
    for what, b in (("--cetcd", a_bin), ("--etcd", b_bin), ("--wrk", args.wrk)):
        if not (os.path.isfile(b) and os.access(b, os.X_OK)) and not shutil.which(b):
            ap.error("%s: %s is not an executable" % (what, b))
    a_args = args.cetcd_args
    if args.names:
        la, lb = [x.strip() for x in args.names.split(",", 1)]
    elif looks_like_etcd(a_bin):
        la, lb = "etcd(A)", "etcd(B)"
    else:
        la, lb = "cetcd", "etcd"
    flavors = [Flavor(la, a_bin, shlex.split(a_args)), Flavor(lb, b_bin, shlex.split(args.etcd_args))]
    for f, p, what in ((flavors[0], args.cetcd_proxy, "--cetcd-proxy"),
                       (flavors[1], args.etcd_proxy, "--etcd-proxy")):
        f.proxy_binary = os.path.abspath(p) if p else f.binary
        if not (os.path.isfile(f.proxy_binary) and os.access(f.proxy_binary, os.X_OK)):
            ap.error("%s: %s is not an executable" % (what, f.proxy_binary))

    benchlib.procs.install_exit_handlers()
    ctx = Ctx(args, mode)
    ctx.tmp_root = benchlib.make_tmp_root(args.tmpdir)
    t_start = time.monotonic()
    deadline = ctx.deadline = t_start + args.budget
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = benchlib.loadavg()
    versions = [f.version() for f in flavors]
    wrk_version = first_line(subprocess.run([args.wrk, "-v"], stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT).stdout.decode())
    log("mode %s: %d rounds, %gs per run (+%gs warm-up), budget %gs, scenarios: %s" % (
        mode, args.rounds, args.duration, args.warmup, args.budget,
        ", ".join(s.name for s in scenarios)))
    log("A = %s: %s" % (la, " / ".join(versions[0].splitlines()[:2])))
    log("B = %s: %s" % (lb, " / ".join(versions[1].splitlines()[:2])))

    results, failures = {}, {}
    try:
        for sc in scenarios:
            if time.monotonic() > deadline:
                failures[sc.name] = "skipped: time budget exhausted"
                log("%s skipped: time budget exhausted" % sc.name)
                continue
            raw = results[sc.name] = {0: [], 1: []}
            try:
                run_scenario(ctx, sc, flavors, deadline, raw)
            except BenchError as e:
                failures[sc.name] = str(e).splitlines()[0]
                log("%s FAILED: %s" % (sc.name, e))
                if not raw[0] and not raw[1]:
                    del results[sc.name]
    finally:
        benchlib.stop_all()
        shutil.rmtree(ctx.tmp_root, ignore_errors=True)
    elapsed = time.monotonic() - t_start
    load_end = benchlib.loadavg()

    headers = ["scenario", la, lb, "%s/%s" % (la, lb)]
    rows, raw_rows = build_rows(scenarios, results, failures)
    print(render_text_table(headers, rows))
    ctx_rows = build_context_rows(scenarios, results, failures)
    ctx_headers = ["context (not cetcd/etcd)", "median", "per round"]
    if ctx_rows:
        print()
        print(render_text_table(ctx_headers, ctx_rows))
    for name, why in failures.items():
        print("%s: %s" % (name, why))
    print("(%s mode, %d rounds alternating A B, median per figure, errors summed; %.0fs)"
          % (mode, args.rounds, elapsed))

    if args.write_doc:
        facts = machine_facts()
        argv_tmpl = benchlib.procs.member_argv("<binary>", "bench", "<tmp>/bench",
                                               "http://127.0.0.1:<client port>",
                                               "http://127.0.0.1:<peer port>")[1:]
        section = args.doc_section or mode
        title = args.title or ("%s mode" % mode)
        cmd = [sys.argv[0]] + sys.argv[1:]
        lines = ["### %s — %s" % (title, started_at), ""]
        for n in args.note:
            lines += ["**%s**" % n, ""]
        lines += [
            "- machine: %s CPUs (`nproc`), %s, %s RAM, Linux %s. **The client (wrk) and "
            "the servers share the same %s cores; nothing is pinned.**"
            % (facts["nproc"], facts["cpu"], facts["mem"], facts["kernel"], facts["nproc"]),
            "- load average (1/5/15 min) at start: %s; at end: %s" % (load_start, load_end),
            "- A = %s `%s`: `%s`" % (la, a_bin, " / ".join(versions[0].splitlines()[:2])),
            "- B = %s `%s`: `%s`" % (lb, b_bin, " / ".join(versions[1].splitlines()[:2])),
            "- client: `%s`, %d wrk threads; Python %s"
            % (wrk_version, args.wrk_threads, platform.python_version()),
            "- command (in `%s`): `%s` (%.0f s)"
            % (os.getcwd(), " ".join(shlex.quote(c) for c in cmd), elapsed),
            "- servers: `<binary> %s`; A extra: `%s`; B extra: `%s`"
            % (" ".join(argv_tmpl), a_args or "(none)", args.etcd_args or "(none)"),
        ]
        if any(s.start is not None and s.name.startswith("proxy-") for s in scenarios):
            lines.append("- proxy-*: a 3-member cluster per side and `<proxy binary> --proxy "
                         "on --listen-client-urls http://127.0.0.1:<port> --initial-cluster "
                         "<the 3 members> --data-dir <tmp>/proxy`; proxy binary A: `%s`, "
                         "B: `%s`" % (flavors[0].proxy_binary, flavors[1].proxy_binary))
        lines += [
            "- method: per scenario both servers fresh (temp data dir), %g s warm-up each, "
            "then %d rounds alternating A B A B, %g s per wrk run; each figure is the "
            "median over rounds, `errors` (non-2xx + socket errors) is the sum. mem100k "
            "uses a fresh server per round." % (args.warmup, args.rounds, args.duration),
        ]
        if args.scale != 1.0:
            lines.append("- key counts scaled by %g" % args.scale)
        lines += ["", render_md_table(headers, rows), ""]
        if ctx_rows:
            lines += ["For context, the same load against a do-nothing server:", "",
                      render_md_table(ctx_headers, ctx_rows), ""]
        for name, why in failures.items():
            lines += ["- %s: %s" % (name, why)]
        if raw_rows:
            if lines[-1] != "":
                lines.append("")
            lines += ["<details><summary>values per round</summary>", "",
                      render_md_table(["figure", la, lb], raw_rows), "", "</details>"]
        write_doc(args.doc, section, "\n".join(lines))
        log("wrote section '%s' of %s" % (section, args.doc))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
