#!/usr/bin/env bash
# Proves that an xv6_kernel_test fails on a tree with a bug, and says so usefully: the test of
# the tree whose scheduler forgets to clear c->proc (BUILD: forgets_c_proc_test) exits 1 with the
# violated invariant (cpu-proc-agrees), its seed and message, a closing FAILED line naming the
# tree, and the reproducer written to the test's undeclared outputs; the printed replay command
# works once the test is over and shows the violation in the tree's own proc.c; nothing is
# written into the tree.
set -u
test_bin=examples/xv6_kernel/forgets_c_proc_test
switchyard=cli/switchyard
tmp="${TEST_TMPDIR:-/tmp}/forgets_c_proc"
rm -rf "$tmp" && mkdir -p "$tmp/outputs" "$tmp/test_tmp"
tree=$(dirname "$(dirname "$(readlink -f examples/xv6_kernel/forgets_c_proc/kernel/proc.c)")")
before=$(find "$tree" -type f | sort | xargs md5sum)
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

TEST_TMPDIR="$tmp/test_tmp" TEST_UNDECLARED_OUTPUTS_DIR="$tmp/outputs" \
  TEST_TARGET=//examples/xv6_kernel:forgets_c_proc_test "$test_bin" >"$tmp/test.out" 2>&1
status=$?
sed 's/^/  | /' "$tmp/test.out"
[ "$status" -eq 1 ] || fail "the test exited $status, want 1"
for pattern in "safety cpu-proc-agrees: 1 \(first seed [0-9]+\)" \
  "runs its scheduler with c->proc naming proc\[[0-9]+\] \(pid [0-9]+\), whose p->lock it does not hold" \
  "^//examples/xv6_kernel:forgets_c_proc_test: FAILED: a safety violation in the xv6 tree $tree\$" \
  "reproducer: xv6-forgets_c_proc-cpu-proc-agrees-seed[0-9]+\.json, kept by Bazel in bazel-testlogs/examples/xv6_kernel/forgets_c_proc_test/test.outputs/outputs.zip$" \
  "^  replay it, from the workspace's root: unzip .* && bazel run @switchyard//:switchyard -- replay "; do
  grep -qE -- "$pattern" "$tmp/test.out" || fail "no line matches '$pattern'"
done
repro=$(ls "$tmp"/outputs/*.json 2>/dev/null | head -1)
if [ -z "$repro" ]; then
  fail "no reproducer in the test's undeclared outputs"
else
  # The replay the test prints, as a user runs it after the test (the tree is the real one, not
  # the test's runfiles, so it is still there).
  XDG_CACHE_HOME="$tmp/cache" "$switchyard" replay "$repro" --trace=interleaving \
    >"$tmp/replay.out" 2>&1
  replay_status=$?
  [ "$replay_status" -eq 1 ] || fail "replay exited $replay_status, want 1"
  grep -q "^replay matches" "$tmp/replay.out" || fail "replay does not match: $(head -5 "$tmp/replay.out")"
  grep -qE " proc\.c:[0-9]+ " "$tmp/replay.out" ||
    fail "the interleaving names no line of the tree's proc.c"
fi
after=$(find "$tree" -type f | sort | xargs md5sum)
[ "$before" = "$after" ] || fail "files in the tree changed"
[ "$failed" -eq 0 ] && echo "PASS"
exit "$failed"
