#!/bin/sh
# contrib/install-deps.sh - installs what building cetcd needs on Debian
# (and, with --test, what the test suite and benchmarks need: real etcd 3.4 as
# the differential oracle, etcdctl, python3, wrk). Uses sudo when not root.
set -e
SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
# One TLS library in the process: libmicrohttpd uses GnuTLS, so libcurl is its
# GnuTLS flavour too (libcurl4-gnutls-dev; it replaces libcurl4-openssl-dev).
# libcrypt-dev is libxcrypt (password hashes of the v2 auth API).
PKGS="build-essential autoconf automake pkg-config libmicrohttpd-dev libjansson-dev libcurl4-gnutls-dev libgnutls28-dev libcrypt-dev libyaml-dev libjemalloc-dev"
if [ "$1" = "--test" ]; then
	# gnutls-bin: certtool, which the TLS tests make their certificates with;
	# python3-prometheus-client: the exposition-format parser of test_metrics.py;
	# groff-base: groff, with which check_install.sh renders the man pages;
	# dnsmasq-base: the loopback DNS server of test_discovery.py (SRV records;
	# the binary only, no service);
	# nftables: nft, with which test_partitions.py drops packets at random (loss);
	# clang + libclang-rt-14-dev: libFuzzer for the --enable-fuzzing build;
	# gnuplot-nox: contrib/bench/sweep_plot.py draws the scale sweep's plots
	PKGS="$PKGS python3 curl etcd-server etcd-client wrk clang-format gnutls-bin python3-prometheus-client groff-base dnsmasq-base nftables clang libclang-rt-14-dev gnuplot-nox"
fi
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
	# Debian starts the packaged etcd as a service; the tests start their own.
	if command -v systemctl >/dev/null 2>&1 && echo "$missing" | grep -q etcd-server; then
		$SUDO systemctl disable --now etcd >/dev/null 2>&1 || true
	fi
fi
