"""cetcdtest - tiny end-to-end test library for cetcd (stdlib only).

Starts a server (cetcd or real etcd) on 127.0.0.1 with free ports and a
temporary data dir (the processes are tests/lib/procs.py's), offers HTTP
helpers and a small test runner.

Environment:
  CETCD_TARGET   "cetcd" (default) or "etcd": which server the suite runs against.
  CETCD_BIN      path of the cetcd binary (default: <build>/cetcd, then PATH).
  ETCD_BIN       path of etcd (default: "etcd" on PATH).
  CETCD_E2E_VERBOSE=1  print server stderr tail on failures.

Exit codes of a test script: 0 all passed, 1 a failure, 77 skipped.
"""

import atexit
import http.client
import json
import os
import shutil
import socket
import sys
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import procs  # noqa: E402
from procs import free_port  # noqa: E402,F401  (tests import it from here)

SKIP = 77
_servers = []


# --------------------------------------------------------------------------
# binaries

def etcd_bin():
    b = os.environ.get("ETCD_BIN") or ""
    if b and os.path.isfile(b) and os.access(b, os.X_OK):
        return b
    return shutil.which("etcd")


def cetcd_bin():
    b = os.environ.get("CETCD_BIN") or ""
    if b:
        return b if (os.path.isfile(b) and os.access(b, os.X_OK)) else None
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(os.getcwd(), "cetcd"),
                 os.path.join(here, "..", "..", "build", "cetcd")):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    return shutil.which("cetcd")


def target():
    t = os.environ.get("CETCD_TARGET", "cetcd").strip().lower()
    return "etcd" if t == "etcd" else "cetcd"


def skip(msg):
    print("SKIP: " + msg)
    sys.stdout.flush()
    sys.exit(SKIP)


# --------------------------------------------------------------------------
# HTTP

class Resp(tuple):
    """(status, headers, body, json) with attribute access.

    headers is an http.client.HTTPMessage: .get() is case-insensitive."""
    __slots__ = ()

    def __new__(cls, status, headers, body, js):
        return tuple.__new__(cls, (status, headers, body, js))

    status = property(lambda s: s[0])
    headers = property(lambda s: s[1])
    body = property(lambda s: s[2])
    json = property(lambda s: s[3])

    def hdr(self, name):
        return self[1].get(name) if self[1] is not None else None

    @property
    def index(self):
        v = self.hdr("X-Etcd-Index")
        return int(v) if v is not None else None

    def __repr__(self):
        b = self[2]
        if len(b) > 300:
            b = b[:300] + b"..."
        return "<%d %r>" % (self[0], b)


def _parse_json(body):
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except Exception:
        return None


def qs(params):
    """Encode params (dict or list of pairs); values passed as-is if None."""
    if params is None:
        return ""
    if isinstance(params, str):
        return params
    items = params.items() if isinstance(params, dict) else params
    out = []
    for k, v in items:
        if v is None:
            out.append(urllib.parse.quote(k, safe=""))
        else:
            out.append(urllib.parse.quote(str(k), safe="") + "=" +
                       urllib.parse.quote(str(v), safe=""))
    return "&".join(out)


def kpath(key):
    """'/v2/keys' + key, percent-escaped (keeps '/')."""
    return "/v2/keys" + urllib.parse.quote(key, safe="/")


FORM = "application/x-www-form-urlencoded"


def http_request(host, port, method, path, params=None, form=None, body=None,
                 headers=None, timeout=10.0):
    """One request on a fresh connection. form: dict/list/str -> form body.
    Returns Resp(status, headers, body bytes, parsed json or None)."""
    hdrs = dict(headers or {})
    q = qs(params)
    if q:
        path = path + ("&" if "?" in path else "?") + q
    if form is not None:
        body = qs(form).encode("utf-8") if not isinstance(form, bytes) else form
        hdrs.setdefault("Content-Type", FORM)
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read() if method != "HEAD" else r.read()
        return Resp(r.status, r.msg, data, _parse_json(data))
    finally:
        conn.close()


def raw_exchange(host, port, data, timeout=3.0, shut=True, read_max=1 << 20):
    """Send raw bytes, optionally half-close, read until EOF/timeout.
    Returns the bytes received (maybe empty)."""
    s = socket.create_connection((host, port), timeout=timeout)
    out = b""
    try:
        if data:
            s.sendall(data)
        if shut:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        deadline = time.time() + timeout
        while len(out) < read_max and time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out


# --------------------------------------------------------------------------
# servers

class Server(procs.Member):
    """A running single-member cetcd or etcd in its own temp dir
    (procs.Member: .port, .url, .peer_url, .data_dir, .log_path, .proc, ...).
    kind: 'cetcd' | 'etcd'."""

    def __init__(self, kind=None, name="e2e", extra_args=None, wait=10.0):
        self.kind = kind or target()
        self.bin = etcd_bin() if self.kind == "etcd" else cetcd_bin()
        if not self.bin:
            skip("%s binary not found" % self.kind)
        flags = ["--enable-v2=true", "--log-level", "error"] if self.kind == "etcd" else []
        procs.Member.__init__(self, self.bin, procs.temp_dir("cetcd-e2e-"), name,
                              flags + list(extra_args or []))
        self.tmp = self.dir
        _servers.append(self)
        try:
            self.start_answering(wait)
        except BaseException:
            self.cleanup()
            raise
        self._settle(wait)

    def start(self, wait=10.0):
        """Start again on the same ports and data dir; wait until it answers
        and its startup writes are done."""
        self.spawn()
        try:
            self.wait_answering(wait)
        except procs.ProcError:
            self.stop()
            raise
        self._settle(wait)

    def _settle(self, wait):
        """Wait (bounded) for the startup writes to stop: cluster version
        decided and X-Etcd-Index stable over a short interval."""
        deadline = time.time() + min(3.0, max(0.5, wait / 2))
        prev = None
        while time.time() < deadline:
            try:
                v = self.request("GET", "/version", timeout=1.0)
                r = self.request("GET", "/v2/keys/", timeout=1.0)
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
                continue
            decided = v.json and v.json.get("etcdcluster") not in (None, "not_decided")
            idx = r.index
            if decided and idx is not None and idx == prev:
                return
            prev = idx if decided else None
            time.sleep(0.15)

    def restart(self, wait=10.0):
        """Graceful stop (SIGTERM) and start again on the same ports/data dir."""
        self.stop()
        self.start(wait)

    def cleanup(self):
        procs.Member.cleanup(self)
        if self in _servers:
            _servers.remove(self)

    def request(self, method, path, params=None, form=None, body=None,
                headers=None, timeout=10.0):
        return http_request(self.host, self.port, method, path, params, form,
                            body, headers, timeout)

    def raw(self, data, timeout=3.0, shut=True):
        return raw_exchange(self.host, self.port, data, timeout, shut)


def _cleanup_all():
    for s in list(_servers):
        try:
            s.cleanup()
        except Exception:
            pass


atexit.register(_cleanup_all)
procs.install_exit_handlers()


# --------------------------------------------------------------------------
# per-test client

class Client:
    """Bound to a server and a fresh key prefix (self.p, e.g. '/t17')."""

    def __init__(self, srv, prefix):
        self.srv = srv
        self.p = prefix
        self.base = None

    def k(self, key=""):
        """Key below this test's prefix."""
        return self.p + key

    def req(self, method, path, params=None, form=None, body=None, headers=None,
            timeout=10.0):
        return self.srv.request(method, path, params, form, body, headers, timeout)

    # keys API, key is an absolute key ('/t1/a'), not escaped
    def get(self, key, params=None, **kw):
        return self.req("GET", kpath(key), params, **kw)

    def head(self, key, params=None, **kw):
        return self.req("HEAD", kpath(key), params, **kw)

    def put(self, key, form=None, params=None, **kw):
        return self.req("PUT", kpath(key), params, form=form, **kw)

    def post(self, key, form=None, params=None, **kw):
        return self.req("POST", kpath(key), params, form=form, **kw)

    def delete(self, key, params=None, **kw):
        return self.req("DELETE", kpath(key), params, **kw)

    def current_index(self):
        r = self.srv.request("GET", "/v2/keys/")
        return r.index

    def watch(self, key, params=None, timeout=5.0):
        """Start a long-poll GET ?wait=true in a thread. Returns a Watch;
        .result(t) gives the Resp or raises on timeout."""
        p = {"wait": "true"}
        p.update(params or {})
        return Watch(self.srv, kpath(key), p, timeout)


class Watch:
    def __init__(self, srv, path, params, timeout):
        self.resp = None
        self.exc = None
        self.headers_at = None
        self._t = threading.Thread(target=self._run, args=(srv, path, params, timeout),
                                   daemon=True)
        self._t.start()

    def _run(self, srv, path, params, timeout):
        try:
            conn = http.client.HTTPConnection(srv.host, srv.port, timeout=timeout)
            try:
                conn.request("GET", path + "?" + qs(params))
                r = conn.getresponse()
                self.headers_at = time.time()
                self.early = r
                data = r.read()
                self.resp = Resp(r.status, r.msg, data, _parse_json(data))
            finally:
                conn.close()
        except Exception as e:  # noqa
            self.exc = e

    def done(self):
        return not self._t.is_alive()

    def result(self, timeout=5.0):
        self._t.join(timeout)
        if self._t.is_alive():
            raise AssertionError("watch did not return within %.1fs" % timeout)
        if self.exc is not None:
            raise AssertionError("watch failed: %r" % (self.exc,))
        return self.resp


# --------------------------------------------------------------------------
# assertions

class Fail(AssertionError):
    pass


def _fmt(v):
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v)
        return repr(v if len(v) < 400 else v[:400] + b"...")
    try:
        s = json.dumps(v, sort_keys=True)
    except Exception:
        s = repr(v)
    return s if len(s) < 800 else s[:800] + "..."


def eq(got, want, what=""):
    if got != want:
        raise Fail("%s: expected %s, got %s" % (what or "value", _fmt(want), _fmt(got)))


def true(cond, what):
    if not cond:
        raise Fail(what)


def status(r, want, what=""):
    if r.status != want:
        raise Fail("%sexpected HTTP %d, got %d body=%s" %
                   (what + ": " if what else "", want, r.status, _fmt(r.body)))


def err(r, http_status, code, message, cause=None, index=None, what=""):
    """Check a v2 error reply. cause=None -> field must be absent.
    index: int or None (None = don't check)."""
    pre = (what + ": ") if what else ""
    status(r, http_status, what)
    js = r.json
    if not isinstance(js, dict):
        raise Fail(pre + "error body not JSON: %s" % _fmt(r.body))
    want = {"errorCode": code, "message": message}
    if cause is not None:
        want["cause"] = cause
    got = {k: js.get(k) for k in ("errorCode", "message", "cause") if k in js}
    if got != want:
        raise Fail(pre + "error expected %s, got %s" % (_fmt(want), _fmt(js)))
    extra = set(js) - {"errorCode", "message", "cause", "index"}
    if extra:
        raise Fail(pre + "unexpected fields in error: %s" % sorted(extra))
    if "index" not in js:
        raise Fail(pre + "error without index: %s" % _fmt(js))
    if index is not None:
        eq(js["index"], index, pre + "error index")
        eq(r.index, index, pre + "X-Etcd-Index on error")


def node_eq(got, want, what="node"):
    """Compare nodes, ignoring 'expiration' value (presence checked) and ttl
    (checked to be within [want-1, want])."""
    def norm(n, w):
        if isinstance(n, dict) and isinstance(w, dict):
            out = {}
            for k, v in n.items():
                if k == "expiration" and "expiration" in w:
                    out[k] = w[k] if isinstance(v, str) else v
                elif k == "ttl" and "ttl" in w and isinstance(v, int) and \
                        w["ttl"] - 1 <= v <= w["ttl"]:
                    out[k] = w[k]
                elif k == "nodes" and isinstance(v, list) and isinstance(w.get(k), list):
                    out[k] = [norm(a, b) for a, b in zip(v, w[k])] + v[len(w[k]):]
                else:
                    out[k] = norm(v, w.get(k))
            return out
        return n
    eq(norm(got, want), want, what)


ANY = object()


# --------------------------------------------------------------------------
# runner

def _collect(mod_globals):
    tests = []
    for name, fn in list(mod_globals.items()):
        if name.startswith("test_") and callable(fn):
            tests.append((fn.__code__.co_firstlineno, name, fn))
    tests.sort()
    return [(n, f) for _, n, f in tests]


def fresh_server(fn):
    """Decorator: run this test on its own fresh server."""
    fn.fresh_server = True
    return fn


def needs(kind):
    """Decorator: only run against this target ('etcd' or 'cetcd')."""
    def deco(fn):
        fn.only_target = kind
        return fn
    return deco


def _tidy(c):
    """Best effort: remove the test's prefix (TTL keys must not expire
    during later tests and shift their index arithmetic)."""
    try:
        if c.srv.alive():
            c.srv.request("DELETE", kpath(c.p), {"recursive": "true"}, timeout=3.0)
            for k in getattr(c, "extra_cleanup", ()):
                c.srv.request("DELETE", kpath(k), {"recursive": "true"}, timeout=3.0)
    except Exception:
        pass


def failure_message(e, tb_lines=6):
    """A test's failure as one report line: an assertion's text with the
    test file's line, or an exception with the last lines of its traceback.
    Call from the except clause that caught e."""
    if isinstance(e, AssertionError):
        msg = str(e) or "assertion failed"
        for fr in reversed(traceback.extract_tb(sys.exc_info()[2])):
            if os.path.basename(fr.filename).startswith("test_"):
                return msg + "  [%s:%d]" % (os.path.basename(fr.filename), fr.lineno)
        return msg
    tb = traceback.format_exc().strip().splitlines()
    return "exception: %s: %s\n    %s" % (type(e).__name__, e, "\n    ".join(tb[-tb_lines:]))


def run(mod_globals, server_args=None, per_test_server=False):
    """Run all test_* functions of a module. Each test gets a Client with a
    fresh prefix; a crashed server is reported and replaced."""
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    tests = _collect(mod_globals)
    if only:
        tests = [(n, f) for n, f in tests if any(o in n for o in only)]
    kind = target()
    if (kind == "etcd" and not etcd_bin()) or (kind == "cetcd" and not cetcd_bin()):
        skip("%s binary not found (CETCD_TARGET=%s)" % (kind, kind))
    print("# target: %s (%s)" % (kind, etcd_bin() if kind == "etcd" else cetcd_bin()))
    sys.stdout.flush()
    passed = failed = skipped = 0
    srv = None
    t_all = time.time()
    budget = float(os.environ.get("CETCD_E2E_BUDGET", "150"))
    for i, (name, fn) in enumerate(tests):
        if time.time() - t_all > budget:
            failed += 1
            print("FAIL %s: not run, the file's time budget (%.0fs) is exhausted" % (name, budget))
            continue
        want_kind = getattr(fn, "only_target", None)
        if want_kind and want_kind != kind:
            print("skip %s (only for %s)" % (name, want_kind))
            skipped += 1
            continue
        fresh = per_test_server or getattr(fn, "fresh_server", False)
        t0 = time.time()
        msg = None
        try:
            if fresh and srv is not None:
                srv.cleanup()
                srv = None
            if srv is None or not srv.alive():
                if srv is not None:
                    srv.cleanup()
                srv = Server(kind, extra_args=server_args)
            c = Client(srv, "/t%d" % (i + 1))
            c.base = c.current_index()
            try:
                fn(c)
            finally:
                _tidy(c)
        except SystemExit:
            raise
        except Exception as e:  # noqa
            msg = failure_message(e)
        dt = time.time() - t0
        if srv is not None and not srv.alive():
            msg = (msg + "; " if msg else "") + \
                "SERVER DIED (exit %s); log tail:\n%s" % (srv.proc.returncode, srv.log_tail(15))
        if msg is None:
            passed += 1
            print("ok   %s (%.2fs)" % (name, dt))
        else:
            failed += 1
            print("FAIL %s (%.2fs): %s" % (name, dt, msg))
            if os.environ.get("CETCD_E2E_VERBOSE") and srv is not None:
                print("  server log tail:\n" + srv.log_tail(10))
        sys.stdout.flush()
        if fresh and srv is not None:
            srv.cleanup()
            srv = None
    if srv is not None:
        srv.cleanup()
    print("# %.1fs total%s" % (time.time() - t_all,
                               (", %d skipped" % skipped) if skipped else ""))
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    _cleanup_all()
    sys.exit(1 if failed else 0)
