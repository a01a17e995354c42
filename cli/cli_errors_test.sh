#!/usr/bin/env bash
# Proves the command reports usage errors as one line on stderr with exit status 2, and that
# help and list succeed.
set -u
bin="$TEST_SRCDIR/switchyard/cli/switchyard"
failures=0

expect() {  # expect STATUS LINES -- ARGS...
  local want_status=$1 want_lines=$2
  shift 3
  local err status lines
  err=$("$bin" "$@" 2>&1 >/dev/null)
  status=$?
  lines=$(printf '%s' "$err" | grep -c '' || true)
  if [ "$status" -ne "$want_status" ]; then
    echo "FAIL: switchyard $*: exit $status, want $want_status ($err)"
    failures=$((failures + 1))
  fi
  if [ "$want_lines" != "-" ] && [ "$lines" -ne "$want_lines" ]; then
    echo "FAIL: switchyard $*: $lines stderr lines, want $want_lines: $err"
    failures=$((failures + 1))
  fi
}

expect 2 1 -- frobnicate
expect 2 1 -- list --no-such-flag
expect 2 1 -- list --json=maybe
expect 2 1 -- help frobnicate
expect 0 0 -- --help
expect 0 0 -- help
expect 0 0 -- help list
expect 0 0 -- list

if "$bin" list --bogus 2>&1 | grep -q "run 'switchyard help list'"; then :; else
  echo "FAIL: the error does not say how to get help"
  failures=$((failures + 1))
fi

echo "$((8 + 1 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
