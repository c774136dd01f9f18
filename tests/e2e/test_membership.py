#!/usr/bin/env python3
"""Runtime membership beyond add/remove (test_members.py): PUT /v2/members/<id>
(peer URL changes through the log, every error answer as etcd 3.4's), the
--strict-reconfig-check refusals, a removed member restarted on its old data
dir, a joining member that must not answer from a partial store, and write
availability while a cluster grows 1 -> 2 -> 3.

Runs against cetcd (default) or real etcd (CETCD_TARGET=etcd). Where the
two differ on purpose (cetcd adds members as learners, so a member added but
not started yet costs no availability; doc/operations.md) the test says so
and checks each its own way. CETCD_MEMBERSHIP_LONG=1 writes for longer
between the add and the start of each new member (default 1.5 s)."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cetcdtest import (run, eq, true, status, fresh_server, needs,  # noqa: E402
                       free_port, http_request, Server)
from clustertest import wait_for  # noqa: E402

JSON = {"Content-Type": "application/json"}
GAP_S = 6.0 if os.environ.get("CETCD_MEMBERSHIP_LONG") else 1.5




class Joiner:
    """A member started with --initial-cluster-state existing (its own temp
    dir, ports on 127.0.0.1)."""

    def __init__(self, seed, name, members):
        self.seed, self.name = seed, name
        self.port, self.peer_port = free_port(), free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.peer_url = "http://127.0.0.1:%d" % self.peer_port
        self.dir = tempfile.mkdtemp(prefix="cetcd-memb-")
        self.members = members  # [(name, peer_url)] already in the cluster
        self.proc = None
        self.id = None

    def add(self):
        """POST /v2/members for this member; returns the answer."""
        r = self.seed.request("POST", "/v2/members", headers=JSON,
                              body=json.dumps({"peerURLs": [self.peer_url]}).encode())
        if r.status == 201:
            self.id = r.json["id"]
        return r

    def argv(self, peer_url=None):
        peer_url = peer_url or self.peer_url
        cluster = ",".join("%s=%s" % m for m in self.members + [(self.name, peer_url)])
        argv = [self.seed.bin, "--name", self.name, "--data-dir", os.path.join(self.dir, "d"),
                "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                "--initial-cluster", cluster, "--initial-cluster-state", "existing"]
        if self.seed.kind == "etcd":
            argv += ["--enable-v2=true"]
        return argv

    def start(self, peer_url=None):
        self.log_path = os.path.join(self.dir, "server.log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(peer_url), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log)
        log.close()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, timeout=2.0, **kw):
        return http_request("127.0.0.1", self.port, method, path, timeout=timeout, **kw)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        subprocess.run(["rm", "-rf", self.dir])


def serves(j, key, value):
    try:
        r = j.request("GET", "/v2/keys" + key, timeout=1.0)
    except OSError:
        return False
    return r.status == 200 and r.json["node"]["value"] == value


def put_member(srv, mid, body, ctype="application/json"):
    return srv.request("PUT", "/v2/members/" + mid, headers={"Content-Type": ctype},
                       body=body.encode() if isinstance(body, str) else body)


def retry_on_500(fn, timeout=12.0):
    """etcd's strict check counts a peer only once it has been connected for
    5 s (HealthInterval): a change right after a start gets a bare 500."""
    t0 = time.time()
    r = fn()
    while r.status == 500 and time.time() - t0 < timeout:
        time.sleep(0.5)
        r = fn()
    return r


# --------------------------------------------------------------------------

@fresh_server
def test_put_member_answers(c):
    """Every answer of PUT /v2/members/<id> on a one-member cluster, as etcd."""
    srv = c.srv
    me = srv.request("GET", "/v2/members").json["members"][0]
    mid, url = me["id"], me["peerURLs"][0]
    r = put_member(srv, mid, json.dumps({"peerURLs": [url]}))
    eq((r.status, r.body), (204, b""), "same URLs")
    for body, msg in [('{"peerURLs":[]}', "no valid URLs given"),
                      ("{}", "no valid URLs given"),
                      ('{"peerURLs":["foo"]}',
                       "URL scheme must be http, https, unix, or unixs: foo"),
                      ('{"peerURLs":"x"}',
                       "json: cannot unmarshal string into Go struct field .peerURLs of type "
                       "[]string")]:
        r = put_member(srv, mid, body)
        eq((r.status, r.json), (400, {"message": msg}), "PUT %s" % body)
    # encoding/json's words for every kind of malformed body
    struct = 'struct { PeerURLs []string "json:\\"peerURLs\\"" }'
    for body, msg in [
            ("{bad", "invalid character 'b' looking for beginning of object key string"),
            ("[]", "json: cannot unmarshal array into Go value of type " + struct),
            ('"x"', "json: cannot unmarshal string into Go value of type " + struct),
            ("1", "json: cannot unmarshal number into Go value of type " + struct),
            ("null", "no valid URLs given"),
            ("", "unexpected end of JSON input"),
            (" ", "unexpected end of JSON input"),
            ('{"peerURLs":["a', "unexpected end of JSON input"),
            ('{"a" 1}', "invalid character '1' after object key"),
            ('{"a":1 2}', "invalid character '2' after object key:value pair"),
            ("[1 2]", "invalid character '2' after array element"),
            ("{} x", "invalid character 'x' after top-level value"),
            ("tru", "invalid character ' ' in literal true (expecting 'e')"),
            ("trx", "invalid character 'x' in literal true (expecting 'u')"),
            ("-x", "invalid character 'x' in numeric literal"),
            ("1.x", "invalid character 'x' after decimal point in numeric literal"),
            ("1ex", "invalid character 'x' in exponent of numeric literal"),
            ('"\\x"', "invalid character 'x' in string escape code"),
            ('"\\u12x4"', "invalid character 'x' in \\u hexadecimal character escape"),
            ("{'a'}", "invalid character '\\'' looking for beginning of object key string"),
            ('{"a":1,}', "invalid character '}' looking for beginning of object key string"),
            ("\x01", "invalid character '\\x01' looking for beginning of value"),
            ('{"a":"b\nc"}', "invalid character '\\n' in string literal"),
            ('{"peerURLs":[1]}',
             "json: cannot unmarshal number into Go struct field .peerURLs of type string"),
            ('{"peerURLs":{}}',
             "json: cannot unmarshal object into Go struct field .peerURLs of type []string"),
            ('{"peerURLs":true}',
             "json: cannot unmarshal bool into Go struct field .peerURLs of type []string"),
            ('{"peerURLs":[null]}', "URL scheme must be http, https, unix, or unixs: ")]:
        r = put_member(srv, mid, body)
        eq((r.status, r.json), (400, {"message": msg}), "PUT %r" % body)
    r = put_member(srv, "1234", json.dumps({"peerURLs": ["http://127.0.0.1:9"]}))
    eq((r.status, r.json), (404, {"message": "No such member: 1234"}), "unknown id")
    r = put_member(srv, "zz", json.dumps({"peerURLs": ["http://127.0.0.1:9"]}))
    eq((r.status, r.json), (404, {"message": "No such member: zz"}), "not an id")
    r = put_member(srv, "1234", "{}")
    eq((r.status, r.json), (400, {"message": "no valid URLs given"}), "unknown id, bad body")
    r = put_member(srv, "", json.dumps({"peerURLs": [url]}))
    eq(r.status, 405, "no id")
    r = put_member(srv, mid, json.dumps({"peerURLs": [url]}), ctype="text/plain")
    eq((r.status, r.json), (415, {"message": "Bad Content-Type text/plain, accept application/json"}),
       "content type")
    true(r.headers.get("X-Etcd-Cluster-Id"), "cluster id header")
    # a new URL for a one-member cluster: in the table at once (nobody to tell)
    new = "http://127.0.0.1:%d" % free_port()
    r = put_member(srv, mid, json.dumps({"peerURLs": [new]}))
    eq(r.status, 204, "new URL")
    eq(srv.request("GET", "/v2/members").json["members"][0]["peerURLs"], [new], "table")
    c.srv.restart()  # the table (with the new URL) survives a restart
    eq(srv.request("GET", "/v2/members").json["members"][0]["peerURLs"], [new], "after restart")


@fresh_server
def test_put_member_moves_peer(c):
    """Two members; the joiner's peer URL changes through the log (409 for a
    URL another member has); restarted on the new URL the cluster works."""
    seed = c.srv
    j = Joiner(seed, "j1", [(seed.name, seed.peer_url)])
    try:
        status(j.add(), 201, "add")
        j.start()
        wait_for(lambda: j.request("GET", "/v2/keys/").status == 200, "the joiner to serve", 20)
        r = retry_on_500(lambda: put_member(seed, j.id, json.dumps({"peerURLs": [seed.peer_url]})))
        eq((r.status, r.json), (409, {"message": "membership: peerURL exists"}), "taken URL")
        # through the follower (forwarded to the leader, answered once applied there)
        r = j.request("PUT", "/v2/members/" + j.id, headers=JSON, timeout=10.0,
                      body=json.dumps({"peerURLs": [j.peer_url]}).encode())
        eq(r.status, 204, "same URLs through the follower")
        new = "http://127.0.0.1:%d" % free_port()
        r = put_member(seed, j.id, json.dumps({"peerURLs": [new]}))
        eq(r.status, 204, "move j1")
        eq([m["peerURLs"] for m in seed.request("GET", "/v2/members").json["members"]
            if m["id"] == j.id], [[new]], "the seed's table")
        j.stop()
        j.peer_url = new
        j.start(peer_url=new)
        # two voters: a write commits only if the seed reaches j1 on its new URL
        t0 = time.time()
        while True:
            r = seed.request("PUT", "/v2/keys" + c.k("/moved"), form={"value": "yes"}, timeout=3.0)
            if r.status in (200, 201) or time.time() - t0 > 20:
                break
            time.sleep(0.2)
        true(r.status in (200, 201), "write after the move: %r" % (r,))
        wait_for(lambda: serves(j, c.k("/moved"), "yes"), "j1 to see the write", 10)
        # the change went through the log: j1's own table has it too
        wait_for(lambda: [m for m in j.request("GET", "/v2/members").json["members"]
                          if m["id"] == j.id and m["peerURLs"] == [new]], "j1's own table", 5)
    finally:
        j.cleanup()


@fresh_server
def test_strict_reconfig_refusals(c):
    """etcd's --strict-reconfig-check: growing a one-member cluster is allowed
    (a new member that has not started), a second add while it has not
    started is refused with a bare 500 (ErrNotEnoughStartedMembers)."""
    seed = c.srv
    a = Joiner(seed, "a", [(seed.name, seed.peer_url)])
    b = Joiner(seed, "b", [(seed.name, seed.peer_url)])
    try:
        status(a.add(), 201, "1 -> 2")
        r = b.add()
        eq((r.status, r.json), (500, {"message": "Internal Server Error"}),
           "2 -> 3 with one started member")
        if seed.kind == "etcd":
            return  # etcd lost its quorum with the add: nothing more commits
        # cetcd: the unstarted member is a learner, so the cluster still commits
        r = seed.request("PUT", "/v2/keys" + c.k("/still"), form={"value": "1"}, timeout=3.0)
        eq(r.status, 201, "write with a member added but not started")
        r = seed.request("DELETE", "/v2/members/" + a.id)
        eq(r.status, 204, "remove the member that never started")
    finally:
        a.cleanup()
        b.cleanup()


@fresh_server
def test_strict_reconfig_quorum(c):
    """Three started members, one of them down: removing a running member is
    refused (500, etcd's ErrUnhealthy: it would leave 1 of 2 running), so is
    an add (not connected to every member); removing the dead one is fine."""
    seed = c.srv
    members, joiners = [(seed.name, seed.peer_url)], []
    try:
        for name in ("q1", "q2"):
            j = Joiner(seed, name, list(members))
            joiners.append(j)
            status(retry_on_500(j.add), 201, "add " + name)
            j.start()
            wait_for(lambda: j.request("GET", "/v2/keys/").status == 200, name, 30)
            members.append((name, j.peer_url))
        q1, q2 = joiners
        if seed.kind == "etcd":
            time.sleep(5.5)  # etcd counts a peer connected for 5 s (HealthInterval)
        else:
            time.sleep(1.0)
        q2.proc.kill()
        q2.proc.wait(5)
        time.sleep(1.5)  # one election timeout: the leader no longer hears q2
        r = seed.request("DELETE", "/v2/members/" + q1.id)
        eq((r.status, r.json), (500, {"message": "Internal Server Error"}), "remove a live member")
        r = seed.request("POST", "/v2/members", headers=JSON, body=json.dumps(
            {"peerURLs": ["http://127.0.0.1:%d" % free_port()]}).encode())
        eq((r.status, r.json), (500, {"message": "Internal Server Error"}), "add with one down")
        r = seed.request("DELETE", "/v2/members/" + q2.id)
        eq(r.status, 204, "remove the dead member")
        eq(len(seed.request("GET", "/v2/members").json["members"]), 2, "two left")
    finally:
        for j in joiners:
            j.cleanup()


@needs("cetcd")
def test_strict_reconfig_off(c):
    """--strict-reconfig-check=false: adds go through even when sent at the
    same time (the second waits for the first to commit instead of failing);
    cetcd adds learners, so the cluster keeps its quorum of one."""
    srv = Server(extra_args=["--strict-reconfig-check=false"])
    try:
        answers = []

        def add():
            answers.append(srv.request("POST", "/v2/members", headers=JSON, body=json.dumps(
                {"peerURLs": ["http://127.0.0.1:%d" % free_port()]}).encode()).status)
        threads = [threading.Thread(target=add) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        eq(sorted(answers), [201, 201, 201], "three adds at once")
        r = srv.request("PUT", "/v2/keys/strict-off", form={"value": "1"}, timeout=3.0)
        eq(r.status, 201, "write with three members added, none started")
        eq(len(srv.request("GET", "/v2/members").json["members"]), 4, "four members")
    finally:
        srv.cleanup()


@fresh_server
def test_removed_member_restart(c):
    """A removed member restarted on its old data dir stops again and says it
    was removed; it never rejoins."""
    seed = c.srv
    j = Joiner(seed, "gone", [(seed.name, seed.peer_url)])
    try:
        status(j.add(), 201, "add")
        j.start()
        wait_for(lambda: j.request("GET", "/v2/keys/").status == 200, "the joiner", 20)
        r = retry_on_500(lambda: seed.request("DELETE", "/v2/members/" + j.id))
        eq(r.status, 204, "remove")
        wait_for(lambda: j.proc.poll() is not None, "the removed member to stop", 15)
        j.start()  # same data dir, same flags
        wait_for(lambda: j.proc.poll() is not None, "the restarted removed member to stop", 20)
        for line in ("the member has been permanently removed from the cluster",
                     "the data-dir used by this member must be removed."):
            true(line in j.log(), "says %r: %s" % (line, j.log()[-600:]))
        eq(j.proc.returncode, 0, "exit status (etcd's)")
        print("# %s: the removed member exits with status %s; last lines:\n#   %s" % (
            seed.kind, j.proc.returncode, "\n#   ".join(j.log().strip().split("\n")[-3:])))
        ids = [m["id"] for m in seed.request("GET", "/v2/members").json["members"]]
        true(j.id not in ids, "not back in the table")
        r = put_member(seed, j.id, json.dumps({"peerURLs": [j.peer_url]}))
        eq((r.status, r.json), (500, {"message": "Internal Server Error"}), "PUT a removed id")
        r = seed.request("DELETE", "/v2/members/" + j.id)
        eq((r.status, r.json), (410, {"message": "Member permanently removed: " + j.id}),
           "DELETE a removed id")
        r = seed.request("PUT", "/v2/keys" + c.k("/after"), form={"value": "1"}, timeout=3.0)
        eq(r.status, 201, "the seed alone still writes")
    finally:
        j.cleanup()


@fresh_server
def test_joiner_no_stale_reads(c):
    """A member that joins answers nothing before it has caught up: every GET
    of the last key written before it joined either waits/fails or sees it."""
    seed = c.srv
    for i in range(150):
        seed.request("PUT", "/v2/keys" + c.k("/bulk/%d" % i), form={"value": "x" * 200})
    status(seed.request("PUT", "/v2/keys" + c.k("/last"), form={"value": "v"}), 201, "last")
    j = Joiner(seed, "fresh", [(seed.name, seed.peer_url)])
    try:
        status(j.add(), 201, "add")
        j.start()
        stale, seen, t0 = [], False, time.time()
        while not seen and time.time() - t0 < 20:
            try:
                r = j.request("GET", "/v2/keys" + c.k("/last"), timeout=2.0)
            except OSError:
                time.sleep(0.01)
                continue
            if r.status == 200 and r.json["node"]["value"] == "v":
                seen = True
            else:
                stale.append(r.status)
        true(seen, "the joiner serves the key at last")
        eq(stale, [], "answers before the joiner caught up")
        r = j.request("GET", "/v2/keys" + c.k("/bulk"))
        eq(len(r.json["node"]["nodes"]), 150, "the whole store")
        # etcd v2 adds voters; cetcd's learner is promoted once it caught up
        wait_for(lambda: "\netcd_server_is_learner 0\n" in
                 j.request("GET", "/metrics").body.decode(), "etcd_server_is_learner 0", 10)
    finally:
        j.cleanup()


class Writer(threading.Thread):
    """PUTs in a loop (one at a time, 2 s timeout each) until stopped;
    counts failures and the slowest write."""

    def __init__(self, srv, prefix):
        threading.Thread.__init__(self, daemon=True)
        self.srv, self.prefix = srv, prefix
        self.ok = self.failed = 0
        self.max_s = 0.0
        self.halt = threading.Event()

    def run(self):
        i = 0
        while not self.halt.is_set():
            t0 = time.time()
            try:
                r = self.srv.request("PUT", "/v2/keys%s/%d" % (self.prefix, i),
                                     form={"value": "w"}, timeout=2.0)
                good = r.status in (200, 201)
            except OSError:
                good = False
            dt = time.time() - t0
            self.max_s = max(self.max_s, dt)
            if good:
                self.ok += 1
            else:
                self.failed += 1
                time.sleep(0.05)
            i += 1


def grow(seed, prefix, gap_s=GAP_S):
    """1 -> 2 -> 3 with a writer on the seed: add a member, wait gap_s (the
    operator starting it), start it, wait until it serves. Returns the
    writer's (ok, failed, max latency s) and the joiners (to clean up)."""
    w = Writer(seed, prefix)
    joiners = []
    w.start()
    try:
        members = [(seed.name, seed.peer_url)]
        for name in ("g1", "g2"):
            j = Joiner(seed, name, list(members))
            joiners.append(j)
            r = retry_on_500(j.add)
            if r.status != 201:
                raise AssertionError("add %s: %r" % (name, r))
            time.sleep(gap_s)
            j.start()
            wait_for(lambda: j.request("GET", "/v2/keys/").status == 200,
                     "%s to serve" % name, 30)
            members.append((name, j.peer_url))
            time.sleep(0.5)
    finally:
        w.halt.set()
        w.join(5)
    return (w.ok, w.failed, w.max_s), joiners


@fresh_server
def test_growth_write_availability(c):
    """Writes during 1 -> 2 -> 3 growth. etcd: the cluster cannot commit
    between an add and the new member's start (figures printed). cetcd: no
    failed write, none slower than a second."""
    joiners = []
    try:
        (ok, failed, max_s), joiners = grow(c.srv, c.k("/w"))
        print("# %s growth 1->2->3: %d writes ok, %d failed, max latency %.0f ms"
              % (c.srv.kind, ok, failed, max_s * 1000))
        true(ok > 0, "some writes went through")
        if c.srv.kind == "cetcd":
            eq(failed, 0, "failed writes during growth")
            true(max_s < 1.0, "slowest write %.0f ms" % (max_s * 1000))
        else:
            true(failed > 0 or max_s >= 1.0, "etcd is unavailable between add and start")
    finally:
        for j in joiners:
            j.cleanup()


if __name__ == "__main__":
    run(globals())
