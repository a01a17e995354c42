#!/usr/bin/env bash
# Proves every subcommand reports bad input as one line on stderr with exit status 2 and writes
# nothing half-way: unknown subcommands, flags, models, bugs and options; missing, malformed,
# truncated, wrong-model and wrong-version files; --jobs=0, --time=-1. Also that help, list and
# a good replay succeed, that `list --json` is one JSON object with the promised fields, and that
# explore's summary prints each invariant's first message.
set -u
bin="$TEST_SRCDIR/switchyard/cli/switchyard"
good="$TEST_SRCDIR/switchyard/corpora/reproducers/xv6-forkret-keeps-lock-user-mode-holds-no-locks-seed0.json"
tmp="${TEST_TMPDIR:-/tmp}/cli_errors"
rm -rf "$tmp" && mkdir -p "$tmp"
cd "$tmp" || exit 1
passed=0
failed=0

expect() {  # expect STATUS LINES -- ARGS...   (LINES: stderr lines, or - for any)
  local want_status=$1 want_lines=$2
  shift 3
  local err status lines
  err=$("$bin" "$@" 2>&1 >/dev/null)
  status=$?
  lines=$(printf '%s' "$err" | grep -c '' || true)
  if [ "$status" -ne "$want_status" ]; then
    echo "FAIL: switchyard $*: exit $status, want $want_status ($err)"
    failed=$((failed + 1))
  elif [ "$want_lines" != "-" ] && [ "$lines" -ne "$want_lines" ]; then
    echo "FAIL: switchyard $*: $lines stderr lines, want $want_lines: $err"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

# The command itself.
expect 2 1 -- frobnicate
expect 2 1 -- list --no-such-flag
expect 2 1 -- list --json=maybe
expect 2 1 -- help frobnicate
expect 0 0 -- --help
expect 0 0 -- help
expect 0 0 -- help explore
expect 0 0 -- list
# Scenario flags, for every subcommand that takes them.
for sub in run explore check-determinism; do
  expect 2 1 -- $sub --model=linux
  expect 2 1 -- $sub --bug=no-such-bug
  expect 2 1 -- $sub --strategy=psychic
  expect 2 1 -- $sub --cpus=99
  expect 2 1 -- $sub --frobs=3
  expect 2 1 -- $sub --cpus=two
  expect 2 1 -- $sub --timer_period=40
  expect 2 1 -- $sub --strategy=bogus
  expect 2 1 -- $sub --strategy=random --burst_max=5
  expect 2 1 -- $sub --strategy=swarm --burst_max=5
  expect 2 1 -- $sub --strategy=burst --burst_max=99999999999
  expect 2 1 -- $sub --strategy=burst --burst_max=-3
  expect 2 1 -- $sub --strategy=conflict --burst_max=lots
done
# The switch model's bad input: unknown architecture or convention, a routine that is no file,
# does not assemble (the assembler's message, several lines) or does not link, a mismatch.
printf '.text\n.globl sy_swap\nsy_swap:\n  movq %%rbx, (%%rdi\n' >broken.S
printf '.text\n.globl sy_swap\nsy_swap: ret\n' >nomake.S
expect 2 1 -- run --model=switch --arch=sparc
expect 2 1 -- explore --model=switch --convention=coroutine
expect 2 1 -- run --model=switch --routine=no-such-file.S
expect 2 - -- run --model=switch --routine=broken.S
expect 2 - -- explore --model=switch --routine=nomake.S --runs=1
expect 2 1 -- run --model=switch --routine=own-swap-x86_64 --convention=ucontext
if "$bin" run --model=switch --routine=broken.S 2>&1 | grep -q "broken.S:4: Error: unbalanced parenthesis"; then
  passed=$((passed + 1))
else
  echo "FAIL: the assembler's message is not in switchyard's report"
  failed=$((failed + 1))
fi
expect 2 1 -- run --trace=svg
expect 2 1 -- run --trace_out=x.json
expect 2 1 -- explore --jobs=0
expect 2 1 -- explore --jobs=1000
expect 2 1 -- explore --time=-1s
expect 2 1 -- explore --time=soon
expect 2 1 -- explore --runs=-5
# Files.
printf '{"format": "switchyard-reproducer", "version": 1, "model"' >truncated.json
printf 'not json at all' >malformed.json
sed 's/"version": 1/"version": 7/' "$good" >future.json
sed 's/"model": "xv6"/"model": "linux"/' "$good" >othermodel.json
sed 's/"model_fingerprint": "xv6-4"/"model_fingerprint": "xv6-0"/' "$good" >oldmodel.json
python3 - "$good" >shortlog.json <<'PY' 2>/dev/null || head -c 300 "$good" >shortlog.json
import json, sys
d = json.load(open(sys.argv[1])); d["decisions"] = d["decisions"][:0]; d["decisions"].append([0, 2, 5])
print(json.dumps(d))
PY
# Numbers out of type or range (found by the reader's fuzzer: a 46-digit option parses as a JSON
# double, whose conversion to an integer was undefined behaviour).
sed 's/"compute_max": [0-9]*/"compute_max": 5555555555555555555555555555555555555555555551/' \
  "$good" >hugeoption.json
sed 's/"compute_max": [0-9]*/"compute_max": 2.5/' "$good" >doubleoption.json
sed 's/"seed": [0-9]*/"seed": -1/' "$good" >negativeseed.json
sed 's/"pct_depth": [0-9]*/"pct_depth": 99999999999999999999/' "$good" >hugedepth.json
# A string with a control character in it (the reader's fuzzer: a newline in trace_hash made the
# error two lines).
sed 's/"trace_hash": "0x/"trace_hash": "0x9m\\u000A,/' "$good" >newlinehash.json
for sub in replay shrink; do
  expect 2 1 -- $sub newlinehash.json
  expect 2 1 -- $sub hugeoption.json
  expect 2 1 -- $sub doubleoption.json
  expect 2 1 -- $sub negativeseed.json
  expect 2 1 -- $sub hugedepth.json
  expect 2 1 -- $sub missing.json
  expect 2 1 -- $sub truncated.json
  expect 2 1 -- $sub malformed.json
  expect 2 1 -- $sub future.json
  expect 2 1 -- $sub othermodel.json
  expect 2 1 -- $sub oldmodel.json
  expect 2 1 -- $sub shortlog.json
  expect 2 1 -- $sub
done
expect 2 1 -- replay --fuzz_input=missing.bin
expect 2 1 -- replay --fuzz_input=malformed.json --model=linux
expect 2 1 -- shrink "$good" -o
expect 2 1 -- run -o "$tmp/no/such/dir/out.json"
# A well-formed file whose decision log stops early: the replay runs past it and says where
# (exit 4, replay diverged), rather than silently running a different schedule.
python3 - "$good" >cutlog.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["decisions"] = []
print(json.dumps(d))
PY
out=$("$bin" replay cutlog.json 2>&1)
if [ $? -eq 4 ] && grep -q "diverged" <<<"$out"; then passed=$((passed + 1)); else
  echo "FAIL: a cut decision log does not report a divergence: $out"
  failed=$((failed + 1))
fi
# Nothing half-way: no temporary or partial files were left behind.
if ls "$tmp" | grep -q '\.tmp$'; then
  echo "FAIL: a temporary file was left behind: $(ls "$tmp")"
  failed=$((failed + 1))
fi
# Good input works: the stored reproducer replays (exit 1: a safety violation) and matches.
if "$bin" replay "$good" | grep -q "replay matches"; then passed=$((passed + 1)); else
  echo "FAIL: the stored reproducer does not replay"
  failed=$((failed + 1))
fi
# check-determinism runs seeds in separate processes and agrees with itself.
if "$bin" check-determinism --model=uml --runs=3 | grep -q "^deterministic"; then
  passed=$((passed + 1))
else
  echo "FAIL: check-determinism"
  failed=$((failed + 1))
fi
# explore's summary gives each violated invariant's first finding's one-line message, under its
# count: what went wrong, in the model's terms, as `run` prints it.
out=$("$bin" explore --model=ult --bug=release-returns-blocked --preemptive=1 --runs=5 \
  --out="$tmp/explore" 2>&1)
status=$?
if [ "$status" -eq 1 ] &&
  grep -A1 "^  safety user-code-preemptible: 1 (first seed 0)$" <<<"$out" |
  grep -Eq "^    thread 0 runs user code at main_thread\+[0-9]+ with the timer signal blocked: blocked at release\+[0-9]+ on thread 0's stack"; then
  passed=$((passed + 1))
else
  echo "FAIL: explore does not print the first finding's message (exit $status): $out"
  failed=$((failed + 1))
fi
# list --json: one object with models[].{name,options,bugs[].{name,description},invariants}.
if "$bin" list --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for m in d["models"]:
    assert m["name"] and m["options"] and m["invariants"]
    for b in m["bugs"]:
        assert b["name"] and b["description"]
assert {m["name"] for m in d["models"]} >= {"xv6", "uml"}
'; then passed=$((passed + 1)); else
  echo "FAIL: list --json"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
