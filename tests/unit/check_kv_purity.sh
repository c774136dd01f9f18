#!/bin/sh
# check_kv_purity.sh - libkv.a must stay pure like the Raft core: the same
# nm check (tests/raft/check_purity.sh) over the kv archive.
exec ${SHELL:-/bin/sh} "${TOP_SRCDIR:-.}/tests/raft/check_purity.sh" src/kv/libkv.a src/util/libutil.a
