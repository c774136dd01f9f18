#!/usr/bin/env python3
"""Disaster recovery (issue 16): what an operator does when a cluster lost its
majority, when a data dir must be backed up and restored, and when a member's
files are damaged. doc/operations.md gives the same steps as commands.

- test_force_new_cluster: 3 members, keys written, 2 members killed for good;
  the survivor restarted with --force-new-cluster is a 1-member cluster (same
  member id) with every key, takes writes, logs etcd's "forcing restart" line,
  then grows again: a member added with POST /v2/members catches up.
- test_backup_restore: `ctl backup` (cetcdctl, or etcdctl against etcd) of a
  running 3-member cluster's member data dir; a new 1-member cluster started on
  the backup with --force-new-cluster has every key, a new member id and a
  new cluster id, and takes writes.
- test_backup_cli: the two backup commands side by side (cetcdctl and etcdctl,
  cetcd-only because it needs both binaries): usage, the missing data dir.
- damaged data dirs (cetcd only: the file format is cetcd's): a flipped byte
  in the middle of a WAL segment, an older segment cut short in the middle of
  a record (not a torn tail), a WAL segment missing, and damaged snapshots
  the WAL cannot stand in for make the member refuse to start (non-zero exit,
  the file named, what to do) and never serve; a damaged snapshot the WAL can
  stand in for is set aside (.broken) and the member starts with every key.

- test_backup_without_snapshot: a member with no snapshot yet is backed up
  from its WAL alone.
- test_snapshot_log_lines: etcd's "start to snapshot" and "saved snapshot at
  index" log lines around a snapshot (the scale sweep benchmark reads them).
- test_operations_doc (CETCD_OPS_DOC=1 only, about 30 s): runs every sh block
  of doc/operations.md in order (fixed ports 12379-15380, /tmp/cetcd-ops).

CETCD_TARGET=etcd runs the force-new-cluster, backup/restore and log line scenarios against
etcd 3.4 (etcdctl backup). About 25 s on the 2-core VM (CETCD_RECOVERY_BUDGET,
default 180 s). Every wait is bounded; every process started here is killed at
the end.
"""

import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest  # noqa: E402
from cetcdtest import eq, true, status, needs, target, cetcd_bin  # noqa: E402
from clustertest import (start_or_skip, run_scenarios, wait_for, log, Member,  # noqa: E402
                         NETERR)
import procs  # noqa: E402


N_KEYS = 60


# -------------------------------------------------------------------- helpers

def ctl_bin(kind):
    """cetcdctl next to the cetcd binary, or etcdctl for etcd."""
    if kind == "etcd":
        return os.environ.get("ETCDCTL_BIN") or shutil.which("etcdctl")
    b = cetcd_bin()
    if not b:
        return None
    p = os.path.join(os.path.dirname(b), "cetcdctl")
    return p if os.path.exists(p) else None


def run_ctl(kind, args, timeout=60):
    env = dict(os.environ, ETCDCTL_API="2")
    p = subprocess.run([ctl_bin(kind)] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def fill(m, prefix, n):
    want = {}
    for i in range(n):
        k = "%s/k%03d" % (prefix, i)
        r = m.put(k, {"value": "v%d" % i}, timeout=10.0)
        status(r, 201, "PUT " + k)
        want[k] = "v%d" % i
    return want


def tree(m, prefix):
    r = m.get(prefix, {"recursive": "true"}, timeout=10.0)
    if r.status == 404:
        return {}
    status(r, 200, "GET %s on %s" % (prefix, m.name))
    out = {}

    def walk(n):
        for c in n.get("nodes") or []:
            if c.get("dir"):
                walk(c)
            else:
                out[c["key"]] = c.get("value")
    walk(r.json["node"])
    return out


def members_of(m):
    r = m.request("GET", "/v2/members", timeout=5.0)
    status(r, 200, "GET /v2/members")
    return r.json["members"]


def self_id(m):
    r = m.request("GET", "/v2/stats/self", timeout=5.0)
    status(r, 200, "GET /v2/stats/self")
    return r.json["id"]


def cluster_id(m):
    return m.request("GET", "/v2/members", timeout=5.0).hdr("X-Etcd-Cluster-Id")


def single_argv(c, m, extra=()):
    """m's own flags as a member of a 1-member cluster (used on a data dir that
    already holds a log, where etcd ignores --initial-*)."""
    return procs.member_argv(c.binary, m.name, m.data_dir, m.url, m.peer_url) + [
        "--heartbeat-interval", str(c.heartbeat_ms),
        "--election-timeout", str(c.election_ms)] + c.extra_args + list(extra)


def add_member(c, seed, name):
    """POST /v2/members on seed, then start the new member with
    --initial-cluster-state existing; returns it once it answers."""
    m = Member(c.binary, c.dir, name)
    r = seed.request("POST", "/v2/members",
                     body=json.dumps({"peerURLs": [m.peer_url]}).encode(),
                     headers={"Content-Type": "application/json"}, timeout=10.0)
    status(r, 201, "member add of %s" % name)
    ic = ",".join("%s=%s" % (x["name"] or name, x["peerURLs"][0])
                  for x in members_of(seed))
    argv = procs.member_argv(c.binary, name, m.data_dir, m.url, m.peer_url, ic) + [
        "--initial-cluster-state", "existing",
        "--heartbeat-interval", str(c.heartbeat_ms),
        "--election-timeout", str(c.election_ms)] + c.extra_args
    c.members.append(m)
    m.cluster = c
    m.saved_argv = argv
    m.spawn(argv)
    m.wait_answering(20.0)
    return m


def leader_is(m):
    r = m.request("GET", "/v2/stats/self", timeout=2.0)
    return r.status == 200 and r.json.get("state") == "StateLeader"


# -------------------------------------------------------------- force-new-cluster

def test_force_new_cluster():
    c = start_or_skip(3)
    lead = c.leader()
    want = fill(lead, "/fnc", N_KEYS)
    c.wait_converged(10.0)
    survivor = c.members[0]
    sid = self_id(survivor)
    cid = cluster_id(survivor)
    for m in c.members[1:]:
        c.kill(m)                  # lost for good: their data dirs are never used again
        shutil.rmtree(m.data_dir, ignore_errors=True)
    c.kill(survivor)
    survivor.spawn(single_argv(c, survivor, ["--force-new-cluster", "--log-level", "info"]))
    survivor.wait_answering(20.0)
    wait_for(lambda: leader_is(survivor), "the survivor to lead its 1-member cluster", 10.0)
    got = tree(survivor, "/fnc")
    missing = sorted(set(want) - set(got))
    if c.kind == "etcd":
        # etcd drops the entries past the commit index its WAL logged, and a
        # follower logs that index lazily: the newest writes (acknowledged by
        # the leader, applied by the survivor) can go. cetcd keeps them.
        true(set(missing) <= set(list(want)[-3:]), "etcd lost more than its tail: %s"
             % missing)
        if missing:
            log("etcd dropped %d acknowledged write(s): %s" % (len(missing), missing))
        for k in missing:
            del want[k]
    eq(missing if c.kind != "etcd" else [], [], "keys missing after --force-new-cluster")
    eq(got, want, "every key after --force-new-cluster")
    mem = members_of(survivor)
    eq([x["id"] for x in mem], [sid], "the member table holds only the survivor")
    eq(self_id(survivor), sid, "the survivor keeps its member id")
    eq(cluster_id(survivor), cid, "the cluster keeps its id")
    r = survivor.put("/fnc/after", {"value": "x"}, timeout=10.0)
    status(r, 201, "write after --force-new-cluster")
    want["/fnc/after"] = "x"
    out = survivor.log_tail(400)
    true(re.search(r"forcing restart of member %s in cluster %s at commit index \d+"
                   % (sid, cid), out), "etcd's forcing-restart line:\n" + out[-2000:])
    # grows again
    n3 = add_member(c, survivor, "m3")
    wait_for(lambda: tree(n3, "/fnc") == want, "the added member to catch up", 20.0)
    r = n3.put("/fnc/through-new", {"value": "y"}, timeout=10.0)
    status(r, 201, "write through the added member")
    eq(len(members_of(survivor)), 2, "two members after the add")
    # both restarted without the flag: the new 2-member cluster stays
    n3_id = [x["id"] for x in members_of(survivor) if x["id"] != sid][0]
    c.kill(n3)
    c.kill(survivor)
    survivor.spawn(single_argv(c, survivor))
    n3.spawn(n3.saved_argv)
    survivor.wait_answering(20.0)
    n3.wait_answering(20.0)
    eq(sorted(x["id"] for x in members_of(survivor)), sorted([sid, n3_id]),
       "the member table after a restart without the flag")
    status(wait_for(lambda: survivor.put("/fnc/last", {"value": "z"}, timeout=3.0),
                    "a write after the restart", 20.0), 201, "write after the restart")
    c.cleanup()


# -------------------------------------------------------------- backup and restore

def test_backup_restore():
    c = start_or_skip(3, snapshot_count=20)
    if not ctl_bin(c.kind):
        log("skipped: no %s binary" % ("etcdctl" if c.kind == "etcd" else "cetcdctl"))
        return
    lead = c.leader()
    want = fill(lead, "/bk", N_KEYS)
    status(lead.put("/bk/dir/deep", {"value": "d"}), 201, "PUT in a directory")
    want["/bk/dir/deep"] = "d"
    c.wait_converged(10.0)
    old_ids = {self_id(m) for m in c.members}
    old_cid = cluster_id(lead)
    src = c.members[1]                              # a running member's data dir
    r = Member(c.binary, c.dir, "r0")
    rc, out, err = run_ctl(c.kind, ["backup", "--data-dir", src.data_dir,
                                    "--backup-dir", r.data_dir])
    eq(rc, 0, "backup of a running member's data dir:\n" + out + err)
    true(os.path.isdir(os.path.join(r.data_dir, "member", "wal")), "backup WAL dir")
    # the documented restore: a new 1-member cluster on the backup
    c.members.append(r)
    r.cluster = c
    r.spawn(single_argv(c, r, ["--force-new-cluster"]))
    r.wait_answering(20.0)
    wait_for(lambda: leader_is(r), "the restored member to lead", 10.0)
    got = tree(r, "/bk")
    missing = sorted(set(want) - set(got))
    if c.kind == "etcd":                            # see test_force_new_cluster
        true(set(missing) <= set(list(want)[-3:]), "etcd lost more than its tail: %s"
             % missing)
        for k in missing:
            del want[k]
    else:
        eq(missing, [], "keys missing in the restored cluster")
    eq(got, want, "every key in the restored cluster")
    mem = wait_for(lambda: [x for x in members_of(r) if x["name"] == "r0"],
                   "the restored member to publish its name", 10.0)
    eq(len(members_of(r)), 1, "one member in the restored cluster")
    rid = mem[0]["id"]
    true(rid not in old_ids, "a new member id %s (old: %s)" % (rid, sorted(old_ids)))
    true(cluster_id(r) != old_cid, "a new cluster id")
    eq(mem[0]["clientURLs"], [r.url], "the restored member's client URLs")
    if c.kind == "cetcd":
        eq(mem[0]["peerURLs"], [r.peer_url], "peer URLs from --initial-advertise-peer-urls")
    else:
        log("etcd's restored member advertises %s (update it with member update)"
            % mem[0]["peerURLs"])
    status(r.put("/bk/after", {"value": "a"}, timeout=10.0), 201, "write to the restored cluster")
    # the original cluster is not disturbed by its copy
    status(lead.put("/bk/old-still-works", {"value": "o"}, timeout=10.0), 201,
           "write to the original cluster")
    eq(r.get("/bk/old-still-works").status, 404, "the two clusters are separate")
    c.cleanup()


def _strip_time(text):
    return re.sub(r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} ", "TIME ", text)


@needs("cetcd")
def test_backup_cli():
    """cetcdctl backup and etcdctl backup (v2) side by side where they can be
    compared: usage, a bad flag, a missing data dir, a data dir without a WAL."""
    if not ctl_bin("etcd") or not ctl_bin("cetcd"):
        log("skipped: needs etcdctl and cetcdctl")
        return
    tmp = procs.temp_dir("cetcd-backup-cli-")
    try:
        nowal = os.path.join(tmp, "nowal")
        os.makedirs(os.path.join(nowal, "member", "snap"))
        cases = [
            ["backup", "--help"],
            ["backup", "--bogus"],
            ["backup", "--data-dir", os.path.join(tmp, "missing"),
             "--backup-dir", os.path.join(tmp, "B1-%s")],
            ["backup", "--data-dir", nowal, "--backup-dir", os.path.join(tmp, "B2-%s")],
            ["backup", "--data-dir", nowal, "--wal-dir", os.path.join(tmp, "nowhere"),
             "--backup-dir", os.path.join(tmp, "B3-%s")],
        ]
        for args in cases:
            res = {}
            for kind in ("etcd", "cetcd"):
                a = [x.replace("%s", kind) for x in args]
                rc, out, err = run_ctl(kind, a, timeout=20)
                a_out = out.replace("cetcdctl", "etcdctl")
                a_err = _strip_time(err.replace("cetcdctl", "etcdctl")).replace(
                    "-cetcd", "-KIND").replace("-etcd", "-KIND")
                res[kind] = (rc, a_out, sorted(a_err.splitlines()))
            eq(res["cetcd"], res["etcd"], "cetcdctl vs etcdctl: %s" % " ".join(args))
        # both made the backup's snapshot dir before failing, as etcdctl does
        for kind in ("etcd", "cetcd"):
            true(os.path.isdir(os.path.join(tmp, "B1-%s" % kind, "member", "snap")),
                 "%s created the backup snap dir" % kind)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -------------------------------------------------------------- damaged data dirs

ENTRY = 2


def segments(d):
    return sorted(glob.glob(os.path.join(d, "*.wal")))


def frames(path):
    """[(offset, frame size, type)] of a segment's records (disk-format.md 2.1)."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off + 8 <= len(data):
        ln, crc = struct.unpack_from("<II", data, off)
        if ln == 0 and crc == 0:
            break
        size = (8 + ln + 1 + 7) // 8 * 8
        if off + size > len(data):
            break
        out.append((off, size, data[off + 8]))
        off += size
    return out


def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x5A]))


def server(extra=()):
    return cetcdtest.Server("cetcd", extra_args=list(extra))


def expect_refusal(srv, what, names):
    """srv must exit non-zero without ever answering a read, naming names and
    saying what to do. Returns its output."""
    srv.spawn()
    deadline = time.time() + 15
    served = False
    while time.time() < deadline and srv.alive():
        try:
            served = served or srv.request("GET", "/v2/keys/", timeout=0.5).status == 200
        except NETERR:
            pass
        time.sleep(0.05)
    rc = srv.wait_exit(1.0)
    out = srv.output()
    srv.kill()
    true(rc is not None, "%s: the member still runs on a damaged data dir:\n%s"
         % (what, out[-1500:]))
    true(rc != 0, "%s: exit status %r (want non-zero)" % (what, rc))
    true(not served, "%s: the member answered a read before exiting" % what)
    for n in names:
        true(n in out, "%s: the message names %s:\n%s" % (what, n, out[-1500:]))
    true("restore it from a backup" in out and "member remove" in out,
         "%s: the message says what to do:\n%s" % (what, out[-1500:]))
    return out


def all_keys(srv, prefix):
    r = srv.request("GET", "/v2/keys" + prefix, {"recursive": "true"}, timeout=10.0)
    status(r, 200, "GET " + prefix)
    return {n["key"]: n["value"] for n in r.json["node"].get("nodes") or []}


@needs("cetcd")
def test_wal_flipped_byte_refuses():
    srv = server()
    want = {}
    for i in range(40):
        k = "/w/k%02d" % i
        status(srv.request("PUT", "/v2/keys" + k, form={"value": str(i)}), 201, "PUT")
        want[k] = str(i)
    srv.stop()
    seg = segments(os.path.join(srv.data_dir, "member", "wal"))[-1]
    ents = [f for f in frames(seg) if f[2] == ENTRY]
    off = ents[len(ents) // 2][0]
    flip(seg, off + 8 + 1 + 20)                     # inside the entry, mid-segment
    out = expect_refusal(srv, "a flipped byte in a WAL record", [seg, "offset %d" % off])
    true("CRC" in out, "the message says CRC:\n" + out[-800:])
    flip(seg, off + 8 + 1 + 20)                     # put back by hand: it starts again
    srv.start()
    eq(all_keys(srv, "/w"), want, "every key once the byte is restored")
    srv.cleanup()


@needs("cetcd")
def test_snapshots_damaged_wal_stands_in():
    """Every snapshot fails its CRC but the WAL still reaches back to index 1:
    the snapshots are set aside (.broken, named in the log) and every key comes
    back from the log."""
    srv = server(["--snapshot-count", "20"])
    want = {}
    for i in range(70):
        k = "/s/k%02d" % i
        status(srv.request("PUT", "/v2/keys" + k, form={"value": str(i)}), 201, "PUT")
        want[k] = str(i)
    sd = os.path.join(srv.data_dir, "member", "snap")
    wait_for(lambda: len(glob.glob(os.path.join(sd, "*.snap"))) >= 2, "two snapshots", 10.0)
    time.sleep(0.3)
    srv.stop()
    snaps = sorted(glob.glob(os.path.join(sd, "*.snap")))
    for p in snaps:
        flip(p, os.path.getsize(p) // 2)
    srv.start()
    eq(all_keys(srv, "/s"), want, "every key with every snapshot damaged")
    out = srv.log_tail(80)
    for p in snaps:
        true(os.path.exists(p + ".broken"), "%s set aside as .broken" % p)
        true(p in out, "the log names %s:\n%s" % (p, out[-1500:]))
    srv.cleanup()


@needs("cetcd")
def test_missing_segment_and_snapshots_refuse():
    """A WAL of two segments (64 MiB each: 1.4 MB values) with snapshots. The
    first segment cut short in the middle of a record: refused. The first
    segment removed as retention would: the member starts from its
    snapshot with every key. Then every snapshot damaged too: nothing can
    stand in for the missing entries, so the member refuses to start, names
    the problem and says what to do."""
    srv = server(["--snapshot-count", "8"])
    wd = os.path.join(srv.data_dir, "member", "wal")
    sd = os.path.join(srv.data_dir, "member", "snap")
    big = "b" * 1400000
    t_end = time.time() + 60
    i = after_roll = 0
    while time.time() < t_end and i < 200 and after_roll < 16:
        r = srv.request("PUT", "/v2/keys/m/k%d" % (i % 4),
                        form={"value": big[:-8] + "%08d" % i}, timeout=20.0)
        true(r.status in (200, 201), "PUT #%d: %r" % (i, r.status))
        i += 1
        if len(segments(wd)) >= 2:
            after_roll += 1
    eq(after_roll, 16, "writes after the WAL rolled to a second segment")
    want = {"/m/k%d" % k: big[:-8] + "%08d" % max(j for j in range(i) if j % 4 == k)
            for k in range(4)}
    time.sleep(0.5)                                 # a snapshot save in progress
    srv.stop()
    segs = segments(wd)
    true(len(segs) >= 2, "segments: %s" % segs)
    # an older segment cut in the middle of a record is not a torn tail
    fr = frames(segs[0])
    cut = fr[len(fr) // 2][0] + 24
    os.truncate(segs[0], cut)
    out = expect_refusal(srv, "an older segment cut short", [segs[0]])
    true("past end of file" in out, "the message says the record is cut:\n" + out[-800:])
    os.unlink(segs[0])                              # released, as retention would
    srv.start(wait=20.0)
    eq(all_keys(srv, "/m"), want, "every key from the snapshot once segment 0 is gone")
    srv.stop()
    snaps = sorted(glob.glob(os.path.join(sd, "*.snap")))
    true(snaps, "snapshots: %s" % os.listdir(sd))
    for p in snaps:
        flip(p, 40)                                 # in the metadata: CRC mismatch
    out = expect_refusal(srv, "a missing segment with no usable snapshot",
                         ["entries in between are missing"])
    for p in snaps:
        true(p in out, "the message names the damaged snapshot %s:\n%s" % (p, out[-1500:]))
    srv.cleanup()


@needs("cetcd")
def test_backup_without_snapshot():
    """A member that has taken no snapshot yet (cetcd makes member/snap at the
    first one; etcd at start) is backed up from its WAL alone."""
    srv = server()
    want = {}
    for i in range(10):
        k = "/n/k%d" % i
        status(srv.request("PUT", "/v2/keys" + k, form={"value": str(i)}), 201, "PUT")
        want[k] = str(i)
    true(not os.path.exists(os.path.join(srv.data_dir, "member", "snap")), "no snap dir yet")
    r = cetcdtest.Server("cetcd", name="restored")
    r.stop()
    shutil.rmtree(r.data_dir)
    rc, out, err = run_ctl("cetcd", ["backup", "--data-dir", srv.data_dir,
                                     "--backup-dir", r.data_dir])
    eq(rc, 0, "backup without a snapshot:\n" + out + err)
    r.extra_args.append("--force-new-cluster")
    r.start()
    eq(all_keys(r, "/n"), want, "every key restored from the WAL alone")
    srv.cleanup()
    r.cleanup()


def test_snapshot_log_lines():
    """etcd's two lines around a snapshot, "start to snapshot (applied: A,
    lastsnap: B)" then "saved snapshot at index A": the scale sweep
    (contrib/bench/scenarios/sweep.py) reads them to know when one is in
    progress."""
    extra = ["--snapshot-count", "20"]
    if target() == "etcd":
        extra += ["--log-level", "info"]  # cetcdtest.Server runs etcd at error level
    srv = cetcdtest.Server(target(), extra_args=extra)
    for i in range(30):
        status(srv.request("PUT", "/v2/keys/sl/k%02d" % i, form={"value": "v"}), 201, "PUT")
    wait_for(lambda: "saved snapshot at index" in srv.log_tail(400), "the saved line", 10.0)
    out = srv.log_tail(400)
    m = re.search(r"I \| etcdserver: start to snapshot \(applied: (\d+), lastsnap: (\d+)\)\n"
                  r"(?:.*\n)*?.* I \| etcdserver: saved snapshot at index (\d+)", out)
    true(m is not None, "start line, then saved line:\n" + out[-1500:])
    eq(m.group(1), m.group(3), "the saved index is the applied index of the start line")
    srv.cleanup()


def test_operations_doc():
    """CETCD_OPS_DOC=1: runs every ```sh block of doc/operations.md in order
    (fixed ports 12379-15380, /tmp/cetcd-ops; about 30 s), with the build's
    cetcd and cetcdctl first on PATH."""
    if not os.environ.get("CETCD_OPS_DOC") or target() != "cetcd":
        log("skipped: set CETCD_OPS_DOC=1 to run doc/operations.md")
        return
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "doc",
                       "operations.md")
    blocks = re.findall(r"```sh\n(.*?)```", open(doc).read(), re.S)
    script = "set -e\n" + "\n".join(blocks)
    env = dict(os.environ, PATH=os.path.dirname(cetcd_bin()) + ":" + os.environ["PATH"])
    p = subprocess.run(["bash", "-c", script], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=180)
    out = p.stdout.decode(errors="replace")
    eq(p.returncode, 0, "doc/operations.md's commands:\n" + out[-3000:])
    for line in ("forcing restart of member", "cluster is healthy", "backed up snapshot",
                 "Removed member"):
        true(line in out, "%r in the output:\n%s" % (line, out[-3000:]))


if __name__ == "__main__":
    run_scenarios(globals(), budget=float(os.environ.get("CETCD_RECOVERY_BUDGET", "180")),
                  probe=lambda: None)
