#!/usr/bin/env python3
# sweep_plot.py - draws the scale sweep's plots (PNG, gnuplot) from the numbers
# run.py recorded in doc/benchmarks.md.
#
# The data file is the markdown itself: every section whose name starts with
# "sweep" (<!-- bench:sweep...:begin --> ... end) holds rows such as
#   | sweep-keys-100k RSS MiB | 38.2 | 263.9 | 0.14 |
# A figure recorded in more than one section is taken from the newest section
# (the one nearest the top: run.py writes new sections above older ones).
# One PNG per figure family, cetcd and etcd on the same axes, cetcd's points
# labelled with the cetcd/etcd ratio of the same run:
#
#   contrib/bench/sweep_plot.py [--doc doc/benchmarks.md] [--out doc]
#
# Needs gnuplot (Debian gnuplot-nox, in contrib/install-deps.sh --test).

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))

ROW = re.compile(r"^\| (sweep-[a-z]+-[0-9a-z.\-]+) (.+?) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$")
SECTION = re.compile(r"<!-- bench:(sweep[^:]*):begin -->(.*?)<!-- bench:\1:end -->", re.S)

# x value of each point of a family (the 64 KiB keys are a table row, no point)
KEYS_X = {"sweep-keys-10k": 1e4, "sweep-keys-100k": 1e5, "sweep-keys-1m": 1e6}
WATCH_X = {"sweep-watch-1k": 1000, "sweep-watch-10k": 10000, "sweep-watch-19.8k": 19800}
MEMBERS_X = {"sweep-members-1": 1, "sweep-members-3": 3, "sweep-members-5": 5}

# file, title, x family, x label, log x, y label, log y, [(figure, legend suffix)]
PLOTS = [
    ("sweep-keys-rss.png", "RSS after loading N keys of 100 B", KEYS_X, "keys", True,
     "MiB", True, [("RSS MiB", ""), ("RSS restarted MiB", " after restart")]),
    ("sweep-keys-disk.png", "Data dir after a graceful stop", KEYS_X, "keys", True,
     "MiB", True, [("data dir MiB", "")]),
    ("sweep-keys-restart.png", "Restart: exec to the first good GET", KEYS_X, "keys", True,
     "seconds", True, [("restart s", "")]),
    ("sweep-keys-get.png", "GET of a random key, 64 connections", KEYS_X, "keys", True,
     "ms", True, [("GET p50 ms", " p50"), ("GET p99 ms", " p99")]),
    ("sweep-keys-snap.png", "PUT p99 (16 connections), without and during a snapshot",
     KEYS_X, "keys", True, "ms", True,
     [("PUT p99 ms", " without"), ("PUT p99 snap ms", " during snapshot")]),
    ("sweep-watch-fanout.png", "One PUT wakes N watchers: ms after its reply",
     WATCH_X, "watchers", True, "ms", False,
     [("fan-out p50 ms", " median"), ("fan-out last ms", " last")]),
    ("sweep-watch-rss.png", "RSS per idle watcher", WATCH_X, "watchers", True,
     "KiB", False, [("KiB/watcher", "")]),
    ("sweep-members-put.png", "PUT req/s at 64 connections", MEMBERS_X, "members", False,
     "req/s", False, [("leader req/s", " to the leader"), ("spread req/s", " spread")]),
    ("sweep-members-p99.png", "PUT p99 at 64 connections", MEMBERS_X, "members", False,
     "ms", False, [("leader p99 ms", " to the leader"), ("spread p99 ms", " spread")]),
]

COLORS = {"cetcd": ["#1f5fbf", "#6fa0e8"], "etcd": ["#c0392b", "#e8908a"]}


def num(s):
    try:
        return float(s.strip())
    except ValueError:
        return None


def read_doc(path):
    """{(scenario, figure): (a, b, ratio)} and the column labels."""
    with open(path) as f:
        text = f.read()
    data, labels = {}, None
    for m in SECTION.finditer(text):
        for line in m.group(2).splitlines():
            if line.startswith("| scenario |") and labels is None:
                labels = [c.strip() for c in line.strip("|").split("|")][1:3]
            r = ROW.match(line.strip())
            if not r:
                continue
            key = (r.group(1), r.group(2))
            if key in data:  # newest (topmost) section wins
                continue
            a, b, ratio = num(r.group(3)), num(r.group(4)), num(r.group(5))
            if a is not None and b is not None:
                data[key] = (a, b, ratio)
    return data, labels or ["cetcd", "etcd"]


def plot(gnuplot, out_dir, data, labels, spec, tmp):
    fname, title, xs, xlabel, logx, ylabel, logy, figs = spec
    series = []
    for fig, suffix in figs:
        pts = sorted((x, data[(sc, fig)]) for sc, x in xs.items() if (sc, fig) in data)
        if pts:
            series.append((fig, suffix, pts))
    if not series:
        return None
    cmds = ["set terminal pngcairo size 640,400 font 'sans,9'",
            "set output '%s'" % os.path.join(out_dir, fname),
            "set title \"%s\"" % title, "set xlabel '%s'" % xlabel,
            "set ylabel '%s'" % ylabel, "set key top left", "set grid",
            "set offsets graph 0.05, graph 0.05, graph 0.1, graph 0.05"]
    if logx:
        cmds.append("set logscale x")
        cmds.append("set format x '%.0s%c'")
    else:
        cmds.append("set xtics 1")
    if logy:
        cmds.append("set logscale y")
    plots = []
    for j, (fig, suffix, pts) in enumerate(series):
        for side in (0, 1):
            dat = os.path.join(tmp, "%s-%d-%d.dat" % (fname, j, side))
            with open(dat, "w") as f:
                for x, (a, b, r) in pts:
                    v = a if side == 0 else b
                    if logy and v <= 0:
                        continue
                    f.write("%g %g %s\n" % (x, v, ("%.2fx" % r) if r is not None else "-"))
            name = labels[side]
            color = COLORS["cetcd" if side == 0 else "etcd"][j % 2]
            dash = "dt 1" if j == 0 else "dt 2"
            plots.append("'%s' using 1:2 with linespoints lw 2 pt 7 ps 0.8 %s lc rgb '%s' "
                         "title '%s%s'" % (dat, dash, color, name, suffix))
            if side == 0:
                plots.append("'%s' using 1:2:3 with labels offset 0,0.9 font 'sans,8' "
                             "tc rgb '%s' notitle" % (dat, color))
    cmds.append("plot " + ", ".join(plots))
    p = subprocess.run([gnuplot], input="\n".join(cmds).encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("gnuplot failed for %s: %s" % (fname, p.stderr.decode()[-500:]))
    return fname


def main():
    ap = argparse.ArgumentParser(description="draw the scale sweep's plots")
    ap.add_argument("--doc", default=os.path.join(TOP, "doc", "benchmarks.md"))
    ap.add_argument("--out", default=os.path.join(TOP, "doc"))
    ap.add_argument("--gnuplot", default=shutil.which("gnuplot") or "gnuplot")
    args = ap.parse_args()
    data, labels = read_doc(args.doc)
    if not data:
        sys.stderr.write("sweep_plot: no sweep rows in %s\n" % args.doc)
        return 1
    tmp = tempfile.mkdtemp(prefix="sweep-plot-")
    try:
        for spec in PLOTS:
            f = plot(args.gnuplot, args.out, data, labels, spec, tmp)
            if f:
                path = os.path.join(args.out, f)
                print("%s (%d bytes)" % (path, os.path.getsize(path)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
