#!/usr/bin/env python3
"""The v2 auth API (etcd 3.4's /v2/auth/*) end to end: every endpoint, its
errors (exact status, body bytes and headers), HTTP Basic auth on /v2/keys
and /v2/members, the guest role, the root user and role, auth across a
restart (with a snapshot) and in a 3-member cluster (users created on one
member enforced on another; a member that catches up through a snapshot).
The expectations are etcd's: CETCD_TARGET=etcd runs them against real etcd
3.4, which is the reference."""
import base64
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cetcdtest import (run, eq, true, status, fresh_server, err,  # noqa: E402
                       target, kpath)

ROOT_PW = "rootpw"


def basic(user, pw):
    tok = base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
    return {"Authorization": "Basic " + tok}


ROOT = basic("root", ROOT_PW)


def areq(c, method, path, obj=None, auth=None, raw=None):
    body = raw if raw is not None else (json.dumps(obj) if obj is not None else None)
    return c.req(method, "/v2/auth" + path, body=body, headers=auth)


def message(r, st, msg, what=""):
    """A {"message":..} answer: json.Marshal, no newline."""
    status(r, st, what)
    eq(r.body, json.dumps({"message": msg}, separators=(",", ":")).encode(), what or msg)
    eq(r.hdr("Content-Type"), "application/json", what + " content type")


def answer(r, st, obj, what=""):
    """A JSON answer as json.Encoder writes it (newline), with the cluster id."""
    status(r, st, what)
    eq(r.json, obj, what)
    true(r.body.endswith(b"\n"), "%s: body ends with a newline: %r" % (what, r.body))
    eq(r.hdr("Content-Type"), "application/json", what + " content type")
    true(r.hdr("X-Etcd-Cluster-Id") is not None, what + ": X-Etcd-Cluster-Id")


def empty_ok(r, what=""):
    status(r, 200, what)
    eq(r.body, b"", what + " body")
    true(r.hdr("X-Etcd-Cluster-Id") is not None, what + ": X-Etcd-Cluster-Id")


def denied_key(r, what=""):
    err(r, 401, 110, "The request requires user authentication", "Insufficient credentials",
        0, what)


def no_cred(r, what=""):
    message(r, 401, "Insufficient credentials", what)
    true(r.hdr("X-Etcd-Cluster-Id") is None, what + ": no cluster id on the denial")
    true(r.hdr("WWW-Authenticate") is None, what + ": no WWW-Authenticate")


def ROLE(name, read, write):
    return {"role": name, "permissions": {"kv": {"read": read, "write": write}}}


ROOT_ROLE = ROLE("root", ["/*"], ["/*"])


def make_root(c):
    r = areq(c, "PUT", "/users/root", {"user": "root", "password": ROOT_PW})
    answer(r, 201, {"user": "root", "roles": ["root"]}, "create root")


def enable(c):
    empty_ok(areq(c, "PUT", "/enable"), "enable")


# --------------------------------------------------------------------------
# endpoints with auth off


def test_enable_endpoint_off(c):
    answer(areq(c, "GET", "/enable"), 200, {"enabled": False}, "GET enable")
    eq(areq(c, "GET", "/enable").body, b'{"enabled":false}\n', "bytes")
    message(areq(c, "PUT", "/enable"), 409, "auth: No root user available, please create one")
    message(areq(c, "DELETE", "/enable"), 409, "auth: already disabled")


def test_methods_and_paths(c):
    r = areq(c, "POST", "/enable")
    status(r, 405)
    eq(r.hdr("Allow"), "GET,PUT,DELETE", "Allow of /enable")
    r = areq(c, "PUT", "/users", {})
    status(r, 405)
    eq(r.hdr("Allow"), "GET", "Allow of /users")
    r = areq(c, "DELETE", "/roles")
    status(r, 405)
    eq(r.hdr("Allow"), "GET", "Allow of /roles")
    r = areq(c, "POST", "/users/x", {})
    status(r, 405)
    eq(r.hdr("Allow"), "GET,PUT,DELETE", "Allow of /users/x")
    # the path is checked before the method
    message(areq(c, "POST", "/users/a/b"), 400, "Invalid path")
    message(areq(c, "GET", "/roles/a/b"), 400, "Invalid path")
    status(areq(c, "GET", "/enable/x"), 404)
    status(areq(c, "GET", ""), 404)
    # /users/ is the list
    answer(areq(c, "GET", "/users/"), 200, {"users": None}, "GET /users/")


def test_lists_off(c):
    answer(areq(c, "GET", "/users"), 200, {"users": None}, "no users")
    answer(areq(c, "GET", "/roles"), 200, {"roles": [ROOT_ROLE]}, "only root")
    answer(areq(c, "GET", "/roles/root"), 200, ROOT_ROLE, "root role")
    message(areq(c, "GET", "/roles/guest"), 404, "auth: Role guest does not exist.")
    message(areq(c, "GET", "/users/nobody"), 404, "auth: User nobody does not exist.")
    # the list handlers parse the query (Go's ParseForm): a bad one is a 500
    message(areq(c, "GET", "/users?x=%zz"), 500, "Internal Server Error")
    message(areq(c, "GET", "/roles?a;b"), 500, "Internal Server Error")
    message(areq(c, "GET", "/users/nobody?x=%zz"), 404, "auth: User nobody does not exist.")
    answer(areq(c, "GET", "/roles/root?x=%zz"), 200, ROOT_ROLE, "a role GET does not parse it")


@fresh_server
def test_users(c):
    # bad bodies
    message(areq(c, "PUT", "/users/alice", raw="{"), 400, "Invalid JSON in request body.")
    message(areq(c, "PUT", "/users/alice", raw=""), 400, "Invalid JSON in request body.")
    message(areq(c, "PUT", "/users/alice", {"user": 5}), 400, "Invalid JSON in request body.")
    message(areq(c, "PUT", "/users/alice", {"user": "alice", "roles": "r"}), 400,
            "Invalid JSON in request body.")
    message(areq(c, "PUT", "/users/alice", {"user": "bob", "password": "x"}), 400,
            "User JSON name does not match the name in the URL")
    message(areq(c, "PUT", "/users/alice", raw="null"), 400,
            "User JSON name does not match the name in the URL")
    message(areq(c, "PUT", "/users/alice", {"user": "alice"}), 400,
            "auth: Cannot create user alice with an empty password")
    message(areq(c, "PUT", "/users/alice", {"user": "alice", "roles": ["r"], "grant": ["g"]}),
            400, "User JSON contains both roles and grant/revoke")
    message(areq(c, "PUT", "/users/alice", {"user": "alice", "grant": ["g"]}), 404,
            "auth: User alice does not exist.")
    # create without roles: 201, roles null
    r = areq(c, "PUT", "/users/alice", {"user": "alice", "password": "pw"})
    answer(r, 201, {"user": "alice", "roles": None}, "create alice")
    eq(r.body, b'{"user":"alice","roles":null}\n', "bytes")
    # created with roles: 200, the roles as given
    r = areq(c, "PUT", "/users/bob", {"user": "bob", "password": "pw", "roles": ["r2", "r1"]})
    answer(r, 200, {"user": "bob", "roles": ["r2", "r1"]}, "create bob with roles")
    message(areq(c, "PUT", "/users/bob", {"user": "bob", "password": "pw", "roles": ["x"]}),
            409, "auth: User bob already exists.")
    # keys are matched without regard to case, extra keys ignored, trailing data too
    r = areq(c, "PUT", "/users/carol", raw='{"USER":"carol","Password":"pw","x":1} trailing')
    answer(r, 201, {"user": "carol", "roles": None}, "case-insensitive keys")
    # a user whose roles do not exist: GET fails, the list skips them
    message(areq(c, "GET", "/users/bob"), 404, "auth: Role r2 does not exist.")
    answer(areq(c, "GET", "/users/alice"), 200, {"user": "alice"}, "GET alice")
    answer(areq(c, "GET", "/users"), 200,
           {"users": [{"user": "alice"}, {"user": "bob"}, {"user": "carol"}]}, "list")
    # grant / revoke
    r = areq(c, "PUT", "/users/alice", {"user": "alice", "grant": ["r1", "r0"]})
    answer(r, 200, {"user": "alice", "roles": ["r0", "r1"]}, "grant")
    message(areq(c, "PUT", "/users/alice", {"user": "alice", "grant": ["r1"]}), 409,
            "auth: Granting duplicate role r1 for user alice")
    message(areq(c, "PUT", "/users/alice", {"user": "alice", "revoke": ["zz"]}), 409,
            "auth: Revoking ungranted role zz for user alice")
    r = areq(c, "PUT", "/users/alice", {"user": "alice", "revoke": ["r0"]})
    answer(r, 200, {"user": "alice", "roles": ["r1"]}, "revoke")
    # nothing to change
    message(areq(c, "PUT", "/users/alice", {"user": "alice"}), 400,
            "auth: User not updated. Use grant/revoke/password to update the user.")
    # a new password is a change
    answer(areq(c, "PUT", "/users/alice", {"user": "alice", "password": "pw2"}), 200,
           {"user": "alice", "roles": ["r1"]}, "password change")
    # delete
    empty_ok(areq(c, "DELETE", "/users/carol"), "delete carol")
    message(areq(c, "DELETE", "/users/carol"), 404, "auth: User carol does not exist")
    # the root user always has the root role
    make_root(c)
    answer(areq(c, "GET", "/users/root"), 200, {"user": "root", "roles": [ROOT_ROLE]},
           "GET root")
    message(areq(c, "PUT", "/users/root", {"user": "root"}), 400,
            "auth: User not updated. Use grant/revoke/password to update the user.")
    empty_ok(areq(c, "DELETE", "/users/root"), "root can go while auth is off")


@fresh_server
def test_roles(c):
    message(areq(c, "PUT", "/roles/r1", raw="[1]"), 400, "Invalid JSON in request body.")
    message(areq(c, "PUT", "/roles/r1", {"role": "r2"}), 400,
            "Role JSON name does not match the name in the URL")
    message(areq(c, "PUT", "/roles/root", {"role": "root"}), 403,
            "auth: Cannot modify role root: is root role.")
    message(areq(c, "DELETE", "/roles/root"), 403, "auth: Cannot modify role root: is root role.")
    message(areq(c, "PUT", "/roles/root", {"role": "root", "grant": {"kv": {"read": ["/a"]}}}),
            403, "auth: Cannot modify role root: is root role.")
    r = areq(c, "PUT", "/roles/r1", {"role": "r1", "permissions": {"kv": {"read": ["/a*", "/b"]}}})
    answer(r, 201, ROLE("r1", ["/a*", "/b"], None), "create r1")
    eq(r.body, b'{"role":"r1","permissions":{"kv":{"read":["/a*","/b"],"write":null}}}\n',
       "bytes")
    message(areq(c, "PUT", "/roles/r1", {"role": "r1"}), 409, "auth: Role r1 already exists.")
    message(areq(c, "PUT", "/roles/r1", {"role": "r1", "permissions": {"kv": {"read": ["/x"]}},
                                        "grant": {"kv": {"write": ["/w"]}}}),
            400, "Role JSON contains both permissions and grant/revoke")
    message(areq(c, "PUT", "/roles/r9", {"role": "r9", "grant": {"kv": {"write": ["/w"]}}}),
            404, "auth: Role r9 does not exist.")
    message(areq(c, "PUT", "/roles/r1", {"role": "r1", "grant": {"kv": {"read": ["/b"]}}}),
            409, "auth: Granting duplicate read permission /b")
    r = areq(c, "PUT", "/roles/r1", {"role": "r1", "grant": {"kv": {"write": ["/w*", "/a"]}}})
    answer(r, 200, ROLE("r1", ["/a*", "/b"], ["/a", "/w*"]), "grant write")
    # revoking what is not granted is ignored; nothing left to change is refused
    r = areq(c, "PUT", "/roles/r1", {"role": "r1", "revoke": {"kv": {"read": ["/b", "/zz"]}}})
    answer(r, 200, ROLE("r1", ["/a*"], ["/a", "/w*"]), "revoke")
    message(areq(c, "PUT", "/roles/r1", {"role": "r1", "revoke": {"kv": {"read": ["/zz"]}}}),
            400, "auth: Role not updated. Use grant/revoke to update the role.")
    answer(areq(c, "GET", "/roles/r1"), 200, ROLE("r1", ["/a*"], ["/a", "/w*"]), "GET r1")
    answer(areq(c, "PUT", "/roles/guest", {"role": "guest"}), 201, ROLE("guest", None, None),
           "a guest role made by hand")
    answer(areq(c, "GET", "/roles"), 200,
           {"roles": [ROLE("guest", None, None), ROLE("r1", ["/a*"], ["/a", "/w*"]), ROOT_ROLE]},
           "list")
    # users list their existing roles
    areq(c, "PUT", "/users/u", {"user": "u", "password": "p", "roles": ["r1", "gone"]})
    answer(areq(c, "GET", "/users"), 200,
           {"users": [{"user": "u", "roles": [ROLE("r1", ["/a*"], ["/a", "/w*"])]}]}, "users")
    empty_ok(areq(c, "DELETE", "/roles/r1"), "delete r1")
    message(areq(c, "DELETE", "/roles/r1"), 404, "auth: Role r1 doesn't exist.")
    message(areq(c, "GET", "/roles/r1"), 404, "auth: Role r1 does not exist.")


# --------------------------------------------------------------------------
# auth on


def setup_alice(c):
    """root; role readers: read /pub*, write /pub/w*; alice in readers;
    auth on."""
    make_root(c)
    areq(c, "PUT", "/roles/readers",
         {"role": "readers", "permissions": {"kv": {"read": ["/pub*"], "write": ["/pub/w*"]}}})
    areq(c, "PUT", "/users/alice", {"user": "alice", "password": "apw", "roles": ["readers"]})
    status(c.put("/pub/a", {"value": "1"}), 201, "write before enabling")
    status(c.put("/secret", {"value": "s"}), 201, "write before enabling")
    enable(c)


ALICE = basic("alice", "apw")


@fresh_server
def test_enable_and_guest(c):
    setup_alice(c)
    answer(areq(c, "GET", "/enable"), 200, {"enabled": True}, "enabled")
    message(areq(c, "PUT", "/enable", auth=ROOT), 409, "auth: already enabled")
    # the guest role was created with full access: nothing changes for guests
    answer(areq(c, "GET", "/roles/guest", auth=ROOT), 200, ROLE("guest", ["/*"], ["/*"]),
           "guest role")
    status(c.get("/secret"), 200, "guest reads")
    status(c.put("/secret", {"value": "g"}), 200, "guest writes")
    # but "/v2/keys" itself is "" and "/*" does not match it
    denied_key(c.req("GET", "/v2/keys"), "guest on /v2/keys")
    status(c.req("GET", "/v2/keys/"), 200, "guest on /v2/keys/")
    # root changes the guest role: guests lose write
    answer(areq(c, "PUT", "/roles/guest", {"role": "guest", "revoke": {"kv": {"write": ["/*"]}}},
                auth=ROOT), 200, ROLE("guest", ["/*"], []), "revoke guest write")
    denied_key(c.put("/secret", {"value": "g2"}), "guest write")
    status(c.get("/secret"), 200, "guest still reads")
    # guests are checked without recursion rights: "/*" still matches the key
    status(c.get("/pub", {"recursive": "true"}), 200, "guest recursive read")
    # auth management needs root; GET /enable does not
    no_cred(areq(c, "GET", "/users"), "guest lists users")
    no_cred(areq(c, "PUT", "/roles/x", {"role": "x"}), "guest makes a role")
    no_cred(areq(c, "DELETE", "/enable"), "guest disables")
    no_cred(areq(c, "DELETE", "/enable", auth=ALICE), "alice disables")
    no_cred(areq(c, "GET", "/users", auth=ALICE), "alice lists users")
    no_cred(areq(c, "GET", "/users", auth=basic("root", "wrong")), "wrong root password")
    answer(areq(c, "GET", "/users", auth=ROOT), 200,
           {"users": [{"user": "alice", "roles": [ROLE("readers", ["/pub*"], ["/pub/w*"])]},
                      {"user": "root", "roles": [ROOT_ROLE]}]}, "root lists users")
    message(areq(c, "DELETE", "/users/root", auth=ROOT), 403,
            "auth: Cannot delete root user while auth is enabled.")
    empty_ok(areq(c, "DELETE", "/enable", auth=ROOT), "root disables")
    answer(areq(c, "GET", "/enable"), 200, {"enabled": False}, "disabled")
    status(c.put("/secret", {"value": "g3"}), 200, "auth off: anyone writes")


@fresh_server
def test_key_permissions(c):
    setup_alice(c)
    # the guest may do nothing
    empty_ok(areq(c, "DELETE", "/roles/guest", auth=ROOT), "delete the guest role")
    denied_key(c.get("/pub/a"), "no guest role")
    # alice: read /pub*, write /pub/w*
    status(c.get("/pub/a", headers=ALICE), 200, "alice reads /pub/a")
    status(c.get("/public", headers=ALICE), 404, "the prefix is a string prefix")
    denied_key(c.get("/secret", headers=ALICE), "alice reads /secret")
    denied_key(c.put("/pub/a", {"value": "2"}, headers=ALICE), "alice writes /pub/a")
    status(c.put("/pub/w1", {"value": "2"}, headers=ALICE), 201, "alice writes /pub/w1")
    status(c.get("/pub", {"recursive": "true"}, headers=ALICE), 200, "recursive read")
    denied_key(c.get("/", {"recursive": "true"}, headers=ALICE), "recursive read of /")
    denied_key(c.delete("/pub", {"recursive": "true"}, headers=ALICE), "recursive delete")
    status(c.delete("/pub/w1", headers=ALICE), 200, "alice deletes /pub/w1")
    # a watch is a read
    idx = c.get("/pub/a", headers=ALICE).json["node"]["modifiedIndex"]
    status(c.get("/pub/a", {"wait": "true", "waitIndex": str(idx)}, headers=ALICE), 200, "watch")
    denied_key(c.get("/secret", {"wait": "true"}, headers=ALICE), "watch /secret")
    # bad credentials
    denied_key(c.get("/pub/a", headers=basic("alice", "nope")), "wrong password")
    denied_key(c.get("/pub/a", headers=basic("nobody", "x")), "unknown user")
    denied_key(c.get("/pub/a", headers={"Authorization": "Basic !!!"}), "bad base64")
    denied_key(c.get("/pub/a", headers={"Authorization": "Bearer x"}), "not Basic")
    denied_key(c.get("/pub/a", headers={
        "Authorization": "Basic " + base64.b64encode(b"alice").decode()}), "no colon")
    status(c.get("/pub/a", headers={
        "Authorization": "basic " + base64.b64encode(b"alice:apw").decode()}), 200,
        "the scheme in lower case")
    # the same wrong password again, then the right one (a cached failure
    # does not stick to the right password)
    denied_key(c.get("/pub/a", headers=basic("alice", "nope")), "wrong password again")
    status(c.get("/pub/a", headers=ALICE), 200, "right password after wrong ones")
    # root may do anything
    status(c.get("/secret", headers=ROOT), 200, "root reads")
    status(c.put("/secret", {"value": "r"}, headers=ROOT), 200, "root writes")
    # a password change takes effect at once
    answer(areq(c, "PUT", "/users/alice", {"user": "alice", "password": "apw2"}, auth=ROOT), 200,
           {"user": "alice", "roles": ["readers"]}, "change alice's password")
    denied_key(c.get("/pub/a", headers=ALICE), "old password")
    status(c.get("/pub/a", headers=basic("alice", "apw2")), 200, "new password")
    # roles take effect at once
    areq(c, "PUT", "/users/alice", {"user": "alice", "revoke": ["readers"]}, auth=ROOT)
    denied_key(c.get("/pub/a", headers=basic("alice", "apw2")), "role revoked")
    areq(c, "PUT", "/users/alice", {"user": "alice", "grant": ["root"]}, auth=ROOT)
    status(c.get("/secret", headers=basic("alice", "apw2")), 200, "granted root")
    answer(areq(c, "GET", "/users", auth=basic("alice", "apw2")), 200,
           {"users": [{"user": "alice", "roles": [ROOT_ROLE]},
                      {"user": "root", "roles": [ROOT_ROLE]}]}, "a root-role user manages auth")
    # a deleted user is gone at once
    empty_ok(areq(c, "DELETE", "/users/alice", auth=ROOT), "delete alice")
    denied_key(c.get("/secret", headers=basic("alice", "apw2")), "deleted user")


@fresh_server
def test_members_need_root(c):
    setup_alice(c)
    status(c.req("GET", "/v2/members"), 200, "members list for anyone")
    status(c.req("GET", "/v2/members/leader"), 200, "leader for anyone")
    body = json.dumps({"peerURLs": ["http://127.0.0.1:1"]})
    js = {"Content-Type": "application/json"}
    no_cred(c.req("POST", "/v2/members", body=body, headers=js), "guest adds a member")
    no_cred(c.req("POST", "/v2/members", body=body, headers=dict(js, **ALICE)),
            "alice adds a member")
    no_cred(c.req("DELETE", "/v2/members/1234"), "guest removes a member")
    r = c.req("DELETE", "/v2/members/1234", headers=ROOT)
    message(r, 404, "No such member: 1234", "root gets past the check")


@fresh_server
def test_restart_keeps_auth(c):
    setup_alice(c)
    # enough writes for a snapshot (--snapshot-count 20 below), then a restart
    for i in range(40):
        status(c.put("/fill/%d" % i, {"value": "x"}, headers=ROOT), 201, "fill")
    areq(c, "PUT", "/users/late", {"user": "late", "password": "lpw", "roles": ["readers"]},
         auth=ROOT)
    c.srv.restart()
    answer(areq(c, "GET", "/enable"), 200, {"enabled": True}, "still enabled")
    status(c.get("/pub/a", headers=ALICE), 200, "alice after restart")
    denied_key(c.get("/secret", headers=ALICE), "alice still denied")
    status(c.get("/pub/a", headers=basic("late", "lpw")), 200, "a user made after the snapshot")
    answer(areq(c, "GET", "/roles/readers", auth=ROOT), 200,
           ROLE("readers", ["/pub*"], ["/pub/w*"]), "roles after restart")


def test_cluster(c):
    """Users created on one member are enforced on the others; a member
    that was down catches up (through a snapshot of the auth table)."""
    import clustertest
    try:
        cl = clustertest.Cluster(3, kind=target(), snapshot_count=100).start()
    except clustertest.Unsupported as e:
        print("# skipped: %s" % e)
        return
    try:
        m0, m1, m2 = cl.members
        # password hashing is slow (bcrypt) and, in cetcd, runs at a low
        # priority: generous timeouts for a loaded machine
        r = m0.request("PUT", "/v2/auth/users/root",
                       body=json.dumps({"user": "root", "password": ROOT_PW}), timeout=30)
        status(r, 201, "root on m0")
        r = m1.request("PUT", "/v2/auth/roles/pubrole",
                       body=json.dumps({"role": "pubrole",
                                        "permissions": {"kv": {"read": ["/pub*"]}}}))
        status(r, 201, "role on m1")
        r = m2.request("PUT", "/v2/auth/users/alice",
                       body=json.dumps({"user": "alice", "password": "apw",
                                        "roles": ["pubrole"]}), timeout=30)
        status(r, 200, "alice on m2")
        status(m0.request("PUT", "/v2/auth/enable"), 200, "enable on m0")
        status(m0.request("PUT", kpath("/pub/x"), form={"value": "1"}, headers=ROOT), 201,
               "a key")
        # wait for m2 to see both
        deadline = time.time() + 10
        while time.time() < deadline:
            r = m2.request("GET", kpath("/pub/x"), headers=ALICE, timeout=30)
            if r.status == 200:
                break
            time.sleep(0.1)
        status(r, 200, "alice reads on m2")
        r = m1.request("GET", kpath("/pub/x"), headers=basic("alice", "bad"), timeout=30)
        denied_key(r, "wrong password on m1")
        answer(m1.request("GET", "/v2/auth/enable"), 200, {"enabled": True}, "enabled on m1")
        # a follower goes down; bob is made, then enough writes that the
        # others snapshot and compact past bob (etcd keeps 5000 entries for
        # followers): the follower gets the auth table in a snapshot
        down = cl.followers()[-1]
        m0 = [m for m in cl.members if m is not down][0]
        cl.stop(down)
        r = m0.request("PUT", "/v2/auth/users/bob",
                       body=json.dumps({"user": "bob", "password": "bpw", "roles": ["pubrole"]}),
                       headers=ROOT, timeout=30)
        status(r, 200, "bob")
        conn = http.client.HTTPConnection(m0.host, m0.port, timeout=10)
        try:
            for i in range(5300):
                conn.request("PUT", kpath("/fill/%d" % (i % 50)), body="value=x",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                resp = conn.getresponse()
                resp.read()
                true(resp.status in (200, 201), "fill write: %d" % resp.status)
        finally:
            conn.close()
        m2 = cl.restart(down)
        deadline = time.time() + 20
        while time.time() < deadline:
            r = m2.request("GET", kpath("/pub/x"), headers=basic("bob", "bpw"), timeout=30)
            if r.status == 200:
                break
            time.sleep(0.2)
        status(r, 200, "bob reads on the member that caught up")
        denied_key(m2.request("GET", kpath("/pub/x"), headers=basic("bob", "no"), timeout=30),
                   "bob's wrong password there")
        no_cred(m2.request("GET", "/v2/auth/users", headers=basic("bob", "bpw"), timeout=30),
                "bob is not root there")
    finally:
        cl.cleanup()


if __name__ == "__main__":
    # a low --snapshot-count: the restart test recovers from a snapshot
    run(globals(), server_args=["--snapshot-count", "20"])
