#!/bin/sh
# contrib/quickstart.sh - installs the build dependencies, builds cetcd and
# starts a single-member server on 127.0.0.1:2379 with its data in
# ./default.etcd, like a fresh `etcd`. Extra arguments go to cetcd.
set -e
cd "$(dirname "$0")/.."
contrib/install-deps.sh
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
make -j"$(nproc)"
exec ./src/cetcd "$@"
