#!/usr/bin/env python3
"""Differential test: the same scripted request sequence goes to a fresh real
etcd (the reference) and to a fresh cetcd; responses are compared after
normalisation:

  * indexes are rebased: each server's X-Etcd-Index just before the script's
    first write is subtracted (real etcd starts higher because of its /0
    cluster writes). Rebased values print as "B+n". Rebased: modifiedIndex,
    createdIndex, error "index", X-Etcd-Index, 20-digit in-order key names and
    index numbers inside error causes ("[1 != B+6]", "[B+2/B+1]").
  * "expiration" -> "<exp>", "ttl" rounded to a multiple of 5,
  * member/cluster ids and URLs -> placeholders; stats values -> their type,
  * children of unsorted listings are sorted by key (etcd order is random).

Compared per step: status, Content-Type, Allow, Location, X-Etcd-Index,
presence of X-Raft-Index / X-Raft-Term / X-Etcd-Cluster-Id, and the body (JSON
after normalisation; else bytes). When the JSON matches, the raw bytes are also
compared after the same rewrites (field order, escaping, trailing newline) and
reported as a separate "bytes" mismatch.

CETCD_TARGET=etcd runs etcd against etcd (validates the normalisation).
Skips (77) if etcd is not installed. Args: -v (print every step)."""

import difflib
import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cetcdtest as ct  # noqa: E402

FORM = ct.FORM

# --------------------------------------------------------------------------
# the script. path: key below /v2/keys, or "!<raw path>" (sent verbatim).
# Placeholders in path/query/form: {@N} -> base+N, {Q@N} -> %020d of base+N.
# kinds: "req" (default), "sleep", "live" (watch in a thread + a write)

STEPS = []


def R(method, path, q=None, f=None, body=None, headers=None, note=""):
    STEPS.append({"kind": "req", "method": method, "path": path, "q": q, "f": f,
                  "body": body, "headers": headers, "note": note})


def SLEEP(sec):
    STEPS.append({"kind": "sleep", "sec": sec})


def LIVE(watch_path, watch_q, write, wt=6.0):
    """watch_q: query string for the watch (wait=true added). write: a step dict
    built with W(...). wt: watch socket timeout (a watch that must NOT fire is
    expected to time out)."""
    STEPS.append({"kind": "live", "path": watch_path, "q": watch_q, "write": write, "wt": wt})


def W(method, path, q=None, f=None):
    return {"kind": "req", "method": method, "path": path, "q": q, "f": f, "body": None,
            "headers": None, "note": ""}


def build_script():
    # -- set / get / update / create / CAS / CAD (first step must be a write)
    R("PUT", "/d/a", f="value=1")                                   # @1
    R("GET", "/d/a")
    R("PUT", "/d/a", f="value=2")                                   # @2
    R("PUT", "/d/a", f="value=3&prevExist=true")                    # @3
    R("PUT", "/d/b", f="value=x&prevExist=false")                   # @4
    R("PUT", "/d/b", f="value=y&prevExist=false")
    R("PUT", "/d/nokey", f="value=1&prevExist=true")
    R("PUT", "/d/a", f="value=4&prevValue=3")                       # @5
    R("PUT", "/d/a", f="value=5&prevIndex={@5}")                    # @6
    R("PUT", "/d/a", f="value=x&prevValue=bad")
    R("PUT", "/d/a", f="value=x&prevIndex=1")
    R("PUT", "/d/a", f="value=x&prevValue=bad&prevIndex=1")
    R("PUT", "/d/a", f="value=x&prevValue=5&prevIndex=1")
    R("PUT", "/d/a", f="value=6&prevExist=true&prevValue=5")        # @7
    R("PUT", "/d/nokey", f="value=1&prevValue=a")
    R("DELETE", "/d/a", q="prevValue=bad")
    R("DELETE", "/d/a", q="prevIndex=1")
    R("DELETE", "/d/a", q="prevValue=6")                            # @8
    R("DELETE", "/d/a")
    R("DELETE", "/d/a", q="prevValue=6")
    R("PUT", "/d/c", f="value=1")                                   # @9
    R("DELETE", "/d/c")                                             # @10
    R("PUT", "/d/e", f="")                                          # @11 (empty value)
    R("GET", "/d/e")
    # -- directories
    R("PUT", "/d/dir", f="dir=true")                                # @12
    R("GET", "/d/dir")
    R("PUT", "/d/dir/k1", f="value=1")                              # @13
    R("PUT", "/d/dir/sub/k2", f="value=2")                          # @14
    R("GET", "/d/dir")
    R("GET", "/d/dir", q="recursive=true")
    R("GET", "/d/dir", q="recursive=true&sorted=true")
    R("GET", "/d/dir", q="sorted=true")
    R("DELETE", "/d/dir")
    R("DELETE", "/d/dir", q="dir=true")
    R("PUT", "/d/dir", f="value=x")
    R("PUT", "/d/dir", f="dir=true")
    R("PUT", "/d/dir", f="value=x&prevValue=a")
    R("DELETE", "/d/dir", q="prevValue=a")
    R("PUT", "/d/dir", f="dir=true&prevExist=true")                 # @15
    R("GET", "/d/dir", q="sorted=true")
    R("PUT", "/d/dir", f="value=x&prevExist=true")
    R("GET", "/d/dir/k1/x")
    R("PUT", "/d/dir/k1/x", f="value=1")
    R("POST", "/d/dir/k1", f="value=1")
    R("DELETE", "/d/dir/sub/k2")                                    # @16
    R("DELETE", "/d/dir/sub", q="dir=true")                         # @17
    R("DELETE", "/d/dir", q="recursive=true")                       # @18
    R("GET", "/d/dir")
    R("GET", "/d/x/y/z")
    R("DELETE", "/d/x/y/z")
    R("PUT", "/d/f", f="value=v")                                   # @19
    R("PUT", "/d/f", f="dir=true")                                  # @20
    R("PUT", "/d/f", f="dir=true&prevExist=true")                   # @21
    R("GET", "/d/f")
    R("PUT", "/d/g", f="value=v")                                   # @22
    R("PUT", "/d/g", f="dir=true&prevExist=true")                   # @23
    R("PUT", "/d/i/j/k", f="value=deep")                            # @24
    R("GET", "/d/i", q="recursive=true")
    R("DELETE", "/d/g", q="dir=true")                               # @25
    # -- in-order keys
    R("POST", "/d/q", f="value=j1")                                 # @26
    R("POST", "/d/q", f="value=j2")                                 # @27
    R("POST", "/d/q", f="dir=true")                                 # @28
    R("POST", "/d/q", f="value=x&prevExist=true&prevValue=bad")     # @29
    R("GET", "/d/q", q="sorted=true")
    R("GET", "/d/q/{Q@26}")
    R("DELETE", "/d/q/{Q@27}")                                      # @30
    R("GET", "/d/q", q="recursive=true&sorted=true")
    R("POST", "/d/f", f="value=x")                                  # @31 (f is a dir now)
    R("POST", "/d/b", f="value=x")
    # -- hidden keys and root
    R("PUT", "/d/h/_hidden", f="value=h")                           # @32
    R("PUT", "/d/h/vis", f="value=v")                               # @33
    R("GET", "/d/h", q="recursive=true")
    R("GET", "/d/h/_hidden")
    R("GET", "!/v2/keys/")
    R("GET", "!/v2/keys")
    R("GET", "!/v2/keys/", q="recursive=true&sorted=true")
    R("PUT", "!/v2/keys/", f="value=x")
    R("PUT", "!/v2/keys/", f="value=x&prevExist=true")
    R("PUT", "!/v2/keys/", f="value=x&prevValue=y")
    R("PUT", "!/v2/keys/", f="dir=true")
    R("DELETE", "!/v2/keys/", q="recursive=true")
    R("DELETE", "!/v2/keys/", q="prevValue=x")
    R("DELETE", "!/v2/keys/", q="dir=true")
    # -- TTL, refresh
    R("PUT", "/d/t", f="value=v&ttl=100")                           # @34
    R("GET", "/d/t")
    R("PUT", "/d/t", f="value=v2&prevExist=true")                   # @35
    R("PUT", "/d/t", f="value=v3&ttl=50&prevExist=true")            # @36
    R("PUT", "/d/t", f="value=v4&ttl=&prevExist=true")              # @37
    R("PUT", "/d/t", f="ttl=60&refresh=true&prevExist=true")        # @38
    R("PUT", "/d/t", f="ttl=60&refresh=true")                       # @39
    R("PUT", "/d/t", f="refresh=true")
    R("PUT", "/d/t", f="refresh=true&ttl=5&value=v")
    R("PUT", "/d/t", f="refresh=true&ttl=70&value=")                # @40
    R("PUT", "/d/t", f="value=v5&ttl=80&prevValue=v4")              # @41
    R("PUT", "/d/nokey2", f="refresh=true&ttl=5&prevExist=true")
    R("PUT", "/d/t", f="value=x&ttl=abc")
    R("PUT", "/d/t", f="value=x&ttl=-1")
    R("PUT", "/d/t", f="value=x&ttl=1.5")
    R("DELETE", "/d/t")                                             # @42
    R("PUT", "/d/tdir", f="dir=true&ttl=100")                       # @43
    R("PUT", "/d/tdir", f="dir=true&ttl=200&prevExist=true")        # @44
    R("DELETE", "/d/tdir", q="dir=true")                            # @45
    R("POST", "/d/tq", f="value=p&ttl=100")                         # @46
    R("DELETE", "/d/tq", q="recursive=true")                        # @47
    # -- expiry (nothing else happens while the keys expire)
    R("PUT", "/d/exp", f="value=e&ttl=1")                           # @48
    R("PUT", "/d/expdir", f="dir=true&ttl=2")                       # @49
    R("PUT", "/d/expdir/child", f="value=c")                        # @50
    SLEEP(3.6)                                                      # @51 exp, @52 expdir
    R("GET", "/d/exp")
    R("GET", "/d/exp", q="wait=true&waitIndex={@49}")
    R("GET", "/d/expdir/child", q="wait=true&waitIndex={@51}")
    R("GET", "/d/expdir/child")
    R("GET", "/d/expdir", q="wait=true&waitIndex={@52}")
    # -- watches from history
    R("GET", "/d/b", q="wait=true&waitIndex={@4}")
    R("GET", "/d/b", q="wait=true&waitIndex={@1}")
    R("GET", "/d", q="wait=true&recursive=true&waitIndex={@1}")
    R("GET", "/d/dir/sub/k2", q="wait=true&waitIndex={@15}")
    R("GET", "/d/dir/k1", q="wait=true&waitIndex={@16}")
    R("GET", "/d/h", q="wait=true&recursive=true&waitIndex={@32}")
    R("GET", "/d/a", q="wait=true&recursive=true&waitIndex={@7}")
    R("GET", "/d/q", q="wait=true&recursive=true&waitIndex={@26}")
    R("GET", "/d/t", q="wait=true&waitIndex={@38}")
    # -- live watches
    LIVE("/d/w", "", W("PUT", "/d/w", f="value=1"))                 # @53
    LIVE("/d", "recursive=true", W("PUT", "/d/wdeep/x", f="value=2"))  # @54
    LIVE("/d/wdeep", "", W("DELETE", "/d/wdeep", q="recursive=true"))  # @55
    LIVE("/d/w", "waitIndex={@53}", W("PUT", "/d/w", f="value=3"))  # immediate, then @56
    R("GET", "/d/w", q="wait=true&waitIndex=abc")
    R("PUT", "/d/w", f="value=x&wait=true")
    R("DELETE", "/d/w", q="wait=true")
    R("GET", "/d/w", q="quorum=true&wait=true")
    R("GET", "/d/w", q="quorum=true")
    R("GET", "/d/nothere", q="quorum=true")
    # -- bad parameters (all index 0)
    for q in ["prevValue=", "ttl=abc", "prevIndex=abc", "prevIndex=-1", "prevIndex=",
              "waitIndex=x", "dir=x", "sorted=x", "quorum=x", "stream=x", "wait=x",
              "recursive=", "recursive=yes", "noValueOnSuccess=x", "prevExist=x",
              "refresh=x", "a=%zz", "a=%", "%zz=1", "a=1;b=2",
              "prevIndex=x&ttl=x&recursive=x", "recursive=x&ttl=x", "ttl=x&prevValue="]:
        R("GET", "/d/b", q=q)
    for f in ["value=1&prevValue=", "value=1&prevExist=", "value=%zz", "value=1&ttl=0x10",
              "value=1&prevIndex=18446744073709551616", "ttl=x&prevExist=x"]:
        R("PUT", "/d/b", f=f)
    R("DELETE", "/d/b", q="prevIndex=1x")
    R("DELETE", "/d/b", q="dir=nope")
    R("POST", "/d/b2", f="value=1&ttl=x")
    # -- bool spellings
    for v in ["1", "t", "T", "TRUE", "True", "0", "F", "False"]:
        R("GET", "/d/i", q="recursive=%s&sorted=true" % v)
    # -- form vs query
    R("PUT", "/d/fq", q="value=query", f="value=body")              # @57
    R("PUT", "/d/fq", body="value=ignored")                         # @58
    R("PUT", "/d/fq", f="value=first&value=second")                 # @59
    R("PUT", "/d/fq", body='{"value":"json"}', headers={"Content-Type": "application/json"})  # @60
    R("PUT", "/d/fq", body="value=cs", headers={"Content-Type": FORM + "; charset=utf-8"})  # @61
    R("PUT", "/d/fq", q="value=query")                              # @62
    R("DELETE", "/d/fq", f="prevValue=nomatch")                     # @63
    R("PUT", "/d/fq", q="value=%zz", f="value=ok")
    # -- noValueOnSuccess
    R("PUT", "/d/nv", f="value=1&noValueOnSuccess=true")            # @64
    R("PUT", "/d/nv", f="value=2&prevValue=1&noValueOnSuccess=true")  # @65
    R("PUT", "/d/nv", f="value=3&prevExist=true&noValueOnSuccess=true")  # @66
    R("DELETE", "/d/nv", q="noValueOnSuccess=true")                 # @67
    R("PUT", "/d/nv", f="value=3&prevExist=true&noValueOnSuccess=true")
    # -- escaping, UTF-8, JSON escaping
    R("PUT", "/d/esc/a b", f="value=sp")                            # @68
    R("PUT", "/d/esc/caf\u00e9", f="value=%C3%A9")                  # @69
    R("PUT", "!/v2/keys/d/esc/x%2Fy", f="value=slash")              # @70
    R("GET", "!/v2/keys/d/esc/%61%20b")
    R("PUT", "/d/esc/j", f="value=" + urllib.parse.quote('q"b\\s/<>&\n\t\x01\u2028\u00e9', safe=""))  # @71
    R("GET", "/d/esc/j")
    R("PUT", "/d/esc/ctl\x7f", f="value=%00nul")                    # @72
    R("GET", "/d/esc", q="recursive=true&sorted=true")
    R("GET", "/d/esc/")
    R("GET", "/d/esc/a b/")
    # -- HEAD, methods, redirects, bad escapes in the path
    R("HEAD", "/d/b")
    R("HEAD", "/d/missing")
    R("PATCH", "/d/b")
    R("OPTIONS", "/d/b")
    R("GET", "!/v2/keys/d//b")
    R("GET", "!/v2/keys/d/../d/b?recursive=true")
    R("PUT", "!/v2/keys/d/./b", f="value=redirected")
    R("GET", "!/v2/keys/d/a%zz")
    R("GET", "/d/b")
    # -- admin
    R("GET", "!/version")
    R("GET", "!/health")
    R("GET", "!/v2/machines")
    R("HEAD", "!/v2/machines")
    R("GET", "!/v2/members")
    R("GET", "!/v2/members/leader")
    R("GET", "!/v2/stats/self")
    R("GET", "!/v2/stats/leader")
    R("GET", "!/v2/stats/store")
    R("GET", "!/nope")
    R("GET", "!/v2/nope")
    R("GET", "!/v2/keysx")
    R("GET", "!/v2/stats")
    R("PUT", "!/version")
    R("POST", "!/health")
    R("POST", "!/v2/stats/self")
    R("PUT", "!/v2/machines")
    R("PATCH", "!/v2/members")
    R("POST", "!/v2/members", body='{"peerURLs":["http://127.0.0.1:9"]}',
      headers={"Content-Type": "text/plain"})
    R("DELETE", "!/v2/members/1234")
    # -- more edge cases (writes continue at @73)
    R("PUT", "/e/inv", f="value=%FF%FEok")                          # @73 invalid UTF-8
    R("GET", "/e/inv")
    R("PUT", "/e/k%FF", f="value=badkey")                           # @74
    R("GET", "/e", q="sorted=true")
    R("PUT", "/e/plus", q="value=a+b%2Bc")                          # @75
    R("PUT", "/e/qq", q="value=a?b=c")                              # @76
    R("PUT", "/e/enc", q="val%75e=enc")                             # @77
    R("PUT", "/e/ct", body="value=upper",
      headers={"Content-Type": "Application/X-WWW-Form-Urlencoded"})  # @78
    R("PUT", "/e/mp", body="value=multi",
      headers={"Content-Type": "multipart/form-data; boundary=x"})  # @79
    R("GET", "/e/ct", body="value=ignored", headers={"Content-Type": FORM})
    R("PUT", "/e/deep/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20", f="value=deep")  # @80
    R("GET", "/e/deep", q="recursive=true&sorted=true")
    R("DELETE", "/e/deep/1/2/3", q="dir=true")
    R("DELETE", "/e/deep/1/2/3", q="dir=true&recursive=false")
    R("DELETE", "/e/deep/1", q="recursive=true")                    # @81
    R("DELETE", "/e/plus", q="recursive=true")                      # @82
    R("PUT", "/e/dt", f="dir=true&ttl=100")                         # @83
    R("PUT", "/e/dt", f="dir=true&ttl=&prevExist=true")             # @84
    R("GET", "/e/dt")
    R("PUT", "/e/dt", f="dir=true&ttl=50&refresh=true&prevExist=true")  # @85
    R("DELETE", "/e/dt", q="prevIndex={@83}")
    R("PUT", "/e/dt", f="value=x&prevIndex={@83}")
    R("DELETE", "/e/dt", q="dir=true")                              # @86
    R("POST", "/e/new/queue", f="value=1")                          # @87
    R("POST", "/e/_hq", f="value=h")                                # @88
    R("GET", "/e/_hq", q="sorted=true")
    R("GET", "/e", q="recursive=true&sorted=true")
    R("GET", "/e", q="quorum=true&recursive=true&sorted=true")
    R("HEAD", "/e", q="recursive=true&sorted=true")
    R("GET", "/e/qq", q="wait=true&waitIndex=0&quorum=true")
    LIVE("/e/fut", "waitIndex={@90}", W("PUT", "/e/fut", f="value=1"), wt=1.5)   # @89: not yet
    R("GET", "/e/fut", q="wait=true&waitIndex={@89}")
    LIVE("!/v2/keys/", "recursive=true", W("PUT", "/e/root", f="value=r"))  # @90
    LIVE("/e/_hq", "recursive=true", W("POST", "/e/_hq", f="value=h2"))  # @91
    R("PUT", "/e/n", f="value=1&prevIndex=0&prevValue=1")
    R("PUT", "/e/a", f="value=1")                                    # @92
    R("PUT", "/e/a", f="value=2&prevIndex={@92}&prevValue=1")       # @93
    R("PUT", "/e/a", f="value=3&prevIndex={@92}&prevValue=2")
    R("DELETE", "/e/a", q="prevIndex={@93}&prevValue=1")
    R("DELETE", "/e/a", q="prevIndex={@93}&prevValue=2")            # @94
    R("PUT", "/e/a", f="value=1&prevExist=false&ttl=100")           # @95
    R("PUT", "/e/a", f="value=1&prevExist=true&ttl=0x1")
    R("PUT", "/e/a", f="value=9&prevExist=true&prevIndex=1")
    R("DELETE", "/e/a", q="prevExist=false")                        # @96
    R("PUT", "/e/a", f="value=1&dir=false")                          # @97
    R("PUT", "/e/a", f="value=1&prevExist=false&dir=true")
    R("PUT", "/e/a/", f="value=slash")                               # @98
    R("PUT", "!/v2/keys/e/a%2F", f="value=slash2")                   # @99
    R("GET", "!/v2/keys/e/a%2F%2Fb")
    R("GET", "!/v2/keys/e%2F..%2Fe/a")
    R("DELETE", "/e/nope/deeper")
    R("POST", "/e/a", f="value=1")
    R("GET", "/e/a", q="recursive=true&sorted=true&quorum=true")
    # -- final state
    R("GET", "!/v2/keys/d", q="recursive=true&sorted=true")
    R("GET", "!/v2/keys/", q="recursive=true&sorted=true")
    # -- v2 auth with auth off (last: etcd's auth writes would move its index;
    #    none of these writes)
    R("GET", "!/v2/auth/enable")
    R("PUT", "!/v2/auth/enable")
    R("DELETE", "!/v2/auth/enable")
    R("POST", "!/v2/auth/enable")
    R("GET", "!/v2/auth/users")
    R("PUT", "!/v2/auth/users", body="{}")
    R("GET", "!/v2/auth/roles")
    R("GET", "!/v2/auth/roles/root")
    R("GET", "!/v2/auth/roles/guest")
    R("GET", "!/v2/auth/users/nobody")
    R("GET", "!/v2/auth/users/a/b")
    R("PUT", "!/v2/auth/users/a", body="{")
    R("PUT", "!/v2/auth/users/a", body='{"user":"b"}')
    R("PUT", "!/v2/auth/users/a", body='{"user":"a"}')
    R("PUT", "!/v2/auth/users/a", body='{"user":"a","roles":["x"],"revoke":["y"]}')
    R("PUT", "!/v2/auth/roles/root", body='{"role":"root"}')
    R("PUT", "!/v2/auth/roles/r", body='{"role":"r","grant":{"kv":{"read":["/a"]}}}')


build_script()

# --------------------------------------------------------------------------
# execution


def subst(s, base):
    if s is None:
        return None
    s = re.sub(r"\{Q@(\d+)\}", lambda m: "%020d" % (base + int(m.group(1))), s)
    return re.sub(r"\{@(\d+)\}", lambda m: str(base + int(m.group(1))), s)


def do_req(srv, st, base, timeout=6.0):
    p = st["path"]
    if p.startswith("!"):
        path = subst(p[1:], base)
    else:
        path = ct.kpath(subst(p, base))
    q = subst(st["q"], base)
    if q:
        path += ("&" if "?" in path else "?") + q
    headers = dict(st.get("headers") or {})
    body = st.get("body")
    if st.get("f") is not None:
        body = subst(st["f"], base)
        headers.setdefault("Content-Type", FORM)
    try:
        return srv.request(st["method"], path, body=body, headers=headers, timeout=timeout)
    except Exception as e:  # noqa
        return e


def run_script(srv, out):
    """Runs STEPS against srv; out gets (step_no, label, resp, base, extra)."""
    base = srv.request("GET", "/v2/keys/").index
    mem = srv.request("GET", "/v2/members").json or {}
    try:
        srv.member_id = mem["members"][0]["id"]
    except Exception:
        srv.member_id = None
    srv.cluster_id = srv.request("GET", "/v2/keys/").hdr("X-Etcd-Cluster-Id")
    srv.base = base
    t0 = time.time()
    for i, st in enumerate(STEPS):
        if time.time() - t0 > 90:
            late = TimeoutError("script deadline (90 s) passed")
            if st["kind"] == "req":
                out.append((i, st, late))
            elif st["kind"] == "live":
                out.append((i, {"method": "GET", "path": st["path"], "q": "wait=true"}, late))
                out.append((i, st["write"], late))
            continue
        if st["kind"] == "sleep":
            time.sleep(st["sec"])
            continue
        if st["kind"] == "req":
            out.append((i, st, do_req(srv, st, base)))
        elif st["kind"] == "live":
            res = {}
            wst = {"method": "GET", "path": st["path"],
                   "q": "wait=true" + ("&" + st["q"] if st["q"] else ""),
                   "f": None, "body": None, "headers": None}

            def watcher():
                res["w"] = do_req(srv, wst, base, timeout=st["wt"])
            t = threading.Thread(target=watcher, daemon=True)
            t.start()
            time.sleep(0.4)
            wr = do_req(srv, st["write"], base)
            t.join(st["wt"] + 0.5)
            out.append((i, wst, res.get("w", TimeoutError("watch did not return"))))
            out.append((i, st["write"], wr))


# --------------------------------------------------------------------------
# normalisation


def rb(v, base):
    if isinstance(v, int) and not isinstance(v, bool) and v >= base and v > 0:
        return "B+%d" % (v - base)
    return v


def rb_text(s, base):
    def f(m):
        n = int(m.group(0))
        return "B+%d" % (n - base) if n >= base and n > 0 else m.group(0)
    return re.sub(r"(?<![\w.])\d+(?![\w.])", f, s)


def cas_cause(v, base, st):
    """101 causes: "[pv != v]", "[pi != mi]" or "[pv != v] [pi != mi]". Only the
    index pair is rebased: mi always, pi only when the script used {@N}."""
    params = urllib.parse.parse_qs((st.get("q") or "") + "&" + (st.get("f") or ""))
    pi = (params.get("prevIndex") or [""])[0]
    if not pi:
        return v
    m = re.match(r"^(.*)\[(\d+) != (\d+)\]$", v, re.S)  # values may hold newlines
    if not m:
        return v
    pv = (params.get("prevValue") or [None])[0]
    sent = subst(pi, base)
    if not m.group(1) and (m.group(2) != sent or pv == sent):
        return v  # a single value pair "[pv != v]"
    left = int(m.group(2))
    left = rb(left, base) if "{@" in pi else left
    return "%s[%s != %s]" % (m.group(1), left, rb(int(m.group(3)), base))


def norm_json(js, base, srv, sort_nodes, path, st):
    def key_name(k):
        return re.sub(r"/(\d{20})(?=/|$)", lambda m: "/<%s>" % (rb(int(m.group(1)), base),), k) \
            if isinstance(k, str) else k

    def walk(x, parent=None):
        if isinstance(x, dict):
            o = {}
            for k, v in x.items():
                if k in ("modifiedIndex", "createdIndex"):
                    o[k] = rb(v, base)
                elif k == "index" and "errorCode" in x:
                    o[k] = rb(v, base)
                elif k == "expiration":
                    o[k] = "<exp>"
                elif k == "ttl" and isinstance(v, int):
                    o[k] = int(round(v / 5.0)) * 5 if v > 2 else v
                elif k == "key":
                    o[k] = key_name(v)
                elif k == "cause" and isinstance(v, str) and x.get("errorCode") == 101:
                    o[k] = cas_cause(v, base, st)
                elif k == "cause" and isinstance(v, str) and x.get("errorCode") == 401:
                    o[k] = rb_text(v, base)
                elif k == "cause" and isinstance(v, str):
                    o[k] = key_name(v)
                elif k == "nodes" and isinstance(v, list):
                    items = [walk(n) for n in v]
                    if sort_nodes:
                        items.sort(key=lambda n: json.dumps(n.get("key") if isinstance(n, dict) else n))
                    o[k] = items
                else:
                    o[k] = walk(v)
            return o
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, str):
            s = x.replace(srv.url, "<client-url>").replace(srv.peer_url, "<peer-url>")
            if srv.member_id and s == srv.member_id:
                s = "<member-id>"
            return s
        return x

    js = walk(js)
    if path.startswith("/v2/stats/self") or path.startswith("/v2/stats/store"):
        def shape(x, k=None):
            if isinstance(x, dict):
                return {kk: shape(vv, kk) for kk, vv in x.items()}
            if k in ("state", "name", "leader", "id"):
                return x
            return "<%s>" % type(x).__name__
        js = shape(js)
    return js


def norm_bytes(body, base, srv, st):
    b = body.decode("utf-8", "replace")
    b = re.sub(r'"(modifiedIndex|createdIndex|index)":(\d+)',
               lambda m: '"%s":"%s"' % (m.group(1), rb(int(m.group(2)), base)), b)
    b = re.sub(r'"expiration":"[^"]*"', '"expiration":"<exp>"', b)
    b = re.sub(r'"ttl":(\d+)', lambda m: '"ttl":%d' % (int(round(int(m.group(1)) / 5.0)) * 5
                                                       if int(m.group(1)) > 2 else int(m.group(1))), b)
    b = re.sub(r"/(\d{20})", lambda m: "/<%s>" % (rb(int(m.group(1)), base),), b)
    b = re.sub(r'"cause":"((?:[^"\\]|\\.)*)"', lambda m: '"cause":"%s"' % (
        cas_cause(m.group(1), base, st) if '"errorCode":101' in b else m.group(1)), b)
    b = b.replace(srv.url, "<client-url>").replace(srv.peer_url, "<peer-url>")
    if srv.member_id:
        b = b.replace(srv.member_id, "<member-id>")
    return b


def norm(srv, st, r):
    if isinstance(r, Exception):
        return {"exception": type(r).__name__}, None
    base = srv.base
    path = st["path"][1:] if st["path"].startswith("!") else "/v2/keys"
    h = {}
    ctyp = (r.hdr("Content-Type") or "").split(";")[0].strip()
    h["status"] = r.status
    h["Content-Type"] = ctyp or None
    for name in ("Allow", "Location"):
        if r.hdr(name) is not None:
            h[name] = r.hdr(name)
    if r.hdr("X-Etcd-Index") is not None:
        try:
            h["X-Etcd-Index"] = rb(int(r.hdr("X-Etcd-Index")), base)
        except ValueError:
            h["X-Etcd-Index"] = "bad:" + r.hdr("X-Etcd-Index")
    for name in ("X-Raft-Index", "X-Raft-Term", "X-Etcd-Cluster-Id"):
        h[name] = "present" if r.hdr(name) is not None else "absent"
    sorted_req = "sorted=true" in (st.get("q") or "")
    if r.json is not None and ctyp == "application/json":
        h["body"] = norm_json(r.json, base, srv, not sorted_req, path, st)
        raw = None
        if (sorted_req or b'"nodes"' not in r.body) and not path.startswith("/v2/stats"):
            raw = norm_bytes(r.body, base, srv, st)
        return h, raw
    text = r.body.decode("utf-8", "replace").replace(srv.url, "<client-url>")
    h["body"] = text
    return h, None


def describe(st):
    p = st["path"]
    s = "%s %s" % (st["method"], p[1:] if p.startswith("!") else "/v2/keys" + p)
    if st.get("q"):
        s += "?" + st["q"]
    if st.get("f") is not None:
        s += "  form: " + st["f"]
    elif st.get("body") is not None:
        s += "  body: %r" % st["body"]
    if st.get("headers"):
        s += "  headers: %s" % st["headers"]
    return s


def pretty(x):
    return json.dumps(x, indent=1, sort_keys=True, ensure_ascii=False).splitlines()


def main():
    verbose = "-v" in sys.argv
    kind = ct.target()
    if not ct.etcd_bin():
        ct.skip("etcd not installed: nothing to compare against")
    if kind == "cetcd" and not ct.cetcd_bin():
        ct.skip("cetcd binary not found")
    nreq = sum(1 if s["kind"] == "req" else 2 if s["kind"] == "live" else 0 for s in STEPS)
    print("# differential: etcd vs %s, %d requests" % (kind, nreq))
    sys.stdout.flush()
    ref = ct.Server("etcd", name="diff")
    try:
        other = ct.Server(kind, name="diff")
    except RuntimeError as e:
        print("FAIL starting %s: %s" % (kind, e))
        print("0 passed, 1 failed")
        sys.exit(1)
    outs = {"ref": [], "other": []}
    errs = {}

    def go(tag, srv):
        try:
            run_script(srv, outs[tag])
        except Exception as e:  # noqa
            import traceback
            errs[tag] = traceback.format_exc()
    t1 = threading.Thread(target=go, args=("ref", ref))
    t2 = threading.Thread(target=go, args=("other", other))
    t1.start()
    t2.start()
    t1.join(120)
    t2.join(120)
    for tag, e in errs.items():
        print("# script crashed on %s:\n%s" % (tag, e))
    passed = failed = 0
    byte_diffs = 0
    n = max(len(outs["ref"]), len(outs["other"]))
    for j in range(n):
        if j >= len(outs["ref"]) or j >= len(outs["other"]):
            failed += 1
            print("FAIL step %d: missing result" % j)
            continue
        i, st, ra = outs["ref"][j]
        _, _, rbb = outs["other"][j]
        a, araw = norm(ref, st, ra)
        b, braw = norm(other, st, rbb)
        label = "#%d %s" % (j + 1, describe(st))
        if a == b:
            passed += 1
            if araw is not None and braw is not None and araw != braw:
                byte_diffs += 1
                print("note %s: same JSON, different bytes\n    etcd : %s\n    %-5s: %s" %
                      (label, araw.rstrip("\n")[:400] + ("\\n" if araw.endswith("\n") else ""),
                       kind, braw.rstrip("\n")[:400] + ("\\n" if braw.endswith("\n") else "")))
            elif verbose:
                print("ok   %s -> %s" % (label, json.dumps(a, sort_keys=True)[:300]))
            continue
        failed += 1
        print("FAIL %s" % label)
        diff = difflib.unified_diff(pretty(a), pretty(b), "etcd", kind, n=2, lineterm="")
        for line in list(diff)[2:]:
            print("    " + line)
    if kind == "cetcd" and (not other.alive()):
        print("# cetcd died during the script (exit %s); log tail:\n%s" %
              (other.proc.returncode, other.log_tail(15)))
        failed += 1
    if byte_diffs:
        print("# %d responses had identical JSON but different bytes (see 'note' lines)" % byte_diffs)
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    ref.cleanup()
    other.cleanup()
    sys.exit(1 if failed or errs else 0)


if __name__ == "__main__":
    main()
