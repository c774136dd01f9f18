# scenarios/tls.py - TLS (issue 14): tls-get64, tls-put64 and tls-newconn.
#
# Each side runs one member whose client listener is https:// (--cert-file/--key-file,
# no client certificates), the same flags on both sides; the certificates (a CA and a
# server certificate with SAN IP 127.0.0.1, ECDSA P-256, made once per run with GnuTLS's
# certtool) are the same for both.
#
# tls-get64    GET of one 16-byte key at 64 keep-alive connections over TLS (wrk).
# tls-put64    PUT value=<32 bytes> to distinct keys at 64 keep-alive connections.
# tls-newconn  the GET at 16 connections with "Connection: close": every request is a
#              new TCP connection and a full TLS handshake (a client without
#              keep-alive).
# Targets (issue 14): tls-get64 and tls-put64 >= 3x etcd over TLS; tls-newconn >= 2x.
#
# Not in the default sets: run.py --scenarios tls-get64,tls-put64,tls-newconn

import http.client
import os
import shutil
import ssl
import subprocess
import time

from benchlib import HOST, BenchError, run_wrk, scenario
import procs  # noqa: E402  (on sys.path through benchlib)
from scenarios.kv import GET_PATH, GET_VALUE, PUT_VALUE_LEN, THROUGHPUT, _wrk_metrics

ON_DEMAND = ("on-demand",)


def _certtool(*args):
    try:
        subprocess.run(["certtool"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise BenchError("certtool (gnutls-bin) failed: %s" % e)


def _certs(ctx):
    """(ca.pem, server.pem, server.key) under the run's temp dir, made once."""
    dir = os.path.join(ctx.tmp_root, "tls-certs")
    ca, crt, key = (os.path.join(dir, n) for n in ("ca.pem", "server.pem", "server.key"))
    if os.path.exists(key):
        return ca, crt, key
    os.makedirs(dir, exist_ok=True)
    ca_key = os.path.join(dir, "ca.key")

    def tmpl(name, text):
        p = os.path.join(dir, name + ".tmpl")
        with open(p, "w") as f:
            f.write(text + "expiration_days = 30\n")
        return p

    _certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", ca_key)
    _certtool("--generate-self-signed", "--load-privkey", ca_key, "--template",
              tmpl("ca", "cn = bench-ca\nca\ncert_signing_key\n"), "--outfile", ca)
    _certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", key)
    _certtool("--generate-certificate", "--load-privkey", key, "--load-ca-certificate", ca,
              "--load-ca-privkey", ca_key, "--template",
              tmpl("server", "cn = bench\nip_address = 127.0.0.1\ntls_www_server\n"
                             "signing_key\nencryption_key\n"), "--outfile", crt)
    return ca, crt, key


class TlsServer(procs.Proc):
    """A single member of `flavor` whose client listener is https://."""

    def __init__(self, ctx, flavor, tag):
        self.dir = procs.temp_dir(tag + "-tls-", ctx.tmp_root)
        procs.Proc.__init__(self, os.path.join(self.dir, "bench.log"), cwd=self.dir)
        self.ca, crt, key = _certs(ctx)
        self.port, peer = procs.free_port(), procs.free_port()
        self.url = "https://%s:%d" % (HOST, self.port)
        peer_url = "http://%s:%d" % (HOST, peer)
        self.argv = [flavor.binary] + list(flavor.extra_args) + [
            "--name", "bench", "--data-dir", os.path.join(self.dir, "bench"),
            "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", "bench=" + peer_url, "--cert-file", crt, "--key-file", key]
        self.tag = tag

    @property
    def pids(self):
        return [self.pid]

    def request(self, method, path, body=None, timeout=5.0):
        tls = ssl.create_default_context(cafile=self.ca)
        c = http.client.HTTPSConnection(HOST, self.port, context=tls, timeout=timeout)
        try:
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def start(self):
        self.spawn(self.argv)
        deadline = time.time() + 30
        last = None
        while time.time() < deadline:
            if not self.alive():
                raise BenchError("%s exited:\n%s" % (self.tag, self.log_tail(15)))
            try:
                st, body = self.request("PUT", "/v2/keys/bench/ready", "value=1", 2.0)
                if 200 <= st < 300:
                    return self
                last = "HTTP %d %r" % (st, body[:200])
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.05)
        raise BenchError("%s not ready over TLS (last: %s):\n%s"
                         % (self.tag, last, self.log_tail(15)))

    def stop(self):
        procs.Proc.stop(self)
        shutil.rmtree(self.dir, ignore_errors=True)


def _start(ctx, flavor, tag):
    return TlsServer(ctx, flavor, tag).start()


def _preload(ctx, srv):
    st, body = srv.request("PUT", GET_PATH, "value=" + GET_VALUE)
    if not 200 <= st < 300:
        raise BenchError("preload PUT over TLS -> %d %r" % (st, body[:200]))


@scenario("tls-get64", THROUGHPUT, modes=ON_DEMAND, order=40, start=_start, setup=_preload,
          help="GET one 16-byte key, 64 keep-alive connections over TLS")
def tls_get64(ctx, srv):
    res = run_wrk(ctx, srv.url + GET_PATH, "get.lua", 64, ctx.wrk_threads, ctx.duration)
    return _wrk_metrics(res, res["non2xx"] + res["socket_errors"])


@scenario("tls-put64", THROUGHPUT, modes=ON_DEMAND, order=41, start=_start, setup=_preload,
          help="PUT 32-byte values to distinct keys, 64 keep-alive connections over TLS")
def tls_put64(ctx, srv):
    ctx.seq += 1  # a distinct prefix per run, as kv.py's put64
    prefix = "/v2/keys/bench/tls/r%d" % ctx.seq
    res = run_wrk(ctx, srv.url, "put.lua", 64, ctx.wrk_threads, ctx.duration,
                  script_args=(prefix, PUT_VALUE_LEN))
    return _wrk_metrics(res, res["non2xx"] + res["socket_errors"])


@scenario("tls-newconn", THROUGHPUT, modes=ON_DEMAND, order=42, start=_start, setup=_preload,
          help="GET at 16 connections, each request a new TLS connection (Connection: close)")
def tls_newconn(ctx, srv):
    res = run_wrk(ctx, srv.url + GET_PATH, "get.lua", 16, ctx.wrk_threads, ctx.duration,
                  headers=("Connection: close",))
    return _wrk_metrics(res, res["non2xx"] + res["socket_errors"])
