#!/bin/sh
# contrib/quickstart.sh - installs the build dependencies, builds cetcd out of
# tree in ./build and starts a single-member server on 127.0.0.1:2379 with its
# data in ./default.etcd, like a fresh `etcd`. Extra arguments go to cetcd.
# The source tree itself is never configured, so contrib/test-all.sh can run
# in the same clone afterwards.
set -e
cd "$(dirname "$0")/.."
contrib/install-deps.sh
[ -x configure ] || autoreconf -fi
mkdir -p build
[ -f build/Makefile ] || (cd build && ../configure)
make -C build -j"$(nproc)"
exec ./build/cetcd "$@"
