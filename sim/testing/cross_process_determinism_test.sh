#!/usr/bin/env bash
# Proves the same scenario gives the same trace hash in two separate processes (and that the
# hash depends on the seed, so the comparison means something).
set -eu
bin="$TEST_SRCDIR/switchyard/sim/toy_hash"
a=$("$bin" 17)
b=$("$bin" 17)
c=$("$bin" 18)
[ "$a" = "$b" ] || { echo "FAIL: seed 17 gave '$a' then '$b'"; exit 1; }
[ "$a" != "$c" ] || { echo "FAIL: seeds 17 and 18 gave the same hash '$a'"; exit 1; }
echo "1 passed, 0 failed"
