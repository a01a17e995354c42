#!/usr/bin/env bash
# Replays every stored reproducer: files in reproducers/ must reproduce their violation with the
# same trace hash (exit 1 or 3 and "replay matches"); files in regressions/ record fixed bugs and
# must now pass (exit 0).
set -u
bin="$TEST_SRCDIR/switchyard/cli/switchyard"
dir="$TEST_SRCDIR/switchyard/corpora"
passed=0
failed=0
for f in "$dir"/reproducers/*.json; do
  [ -e "$f" ] || continue
  out=$("$bin" replay "$f" 2>&1)
  status=$?
  if { [ $status -eq 1 ] || [ $status -eq 3 ]; } && grep -q "replay matches" <<<"$out"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $f no longer reproduces (exit $status):"
    echo "$out" | tail -5
    failed=$((failed + 1))
  fi
done
for f in "$dir"/regressions/*.json; do
  [ -e "$f" ] || continue
  if "$bin" replay "$f" >/dev/null 2>&1; then
    passed=$((passed + 1))
  else
    echo "FAIL: regression $f fails again"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
