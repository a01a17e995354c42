#!/usr/bin/env bash
# Proves --model=xv6 --kernel=... as a user runs it: switchyard's own C tree (--kernel=builtin,
# compiled at run time as a user's tree is) explores clean, a planted bug is found and its
# reproducer replays with the same trace hash and shows the tree's own file:line in
# --trace=interleaving; a directory that is not a tree, a tree that does not compile (the
# compiler's message) and --bug on a user's tree are one-line errors with exit 2; a tree that
# lacks what a check needs (wait_lock) says which check it skips; a reproducer records the tree's
# path and sources hash, and a replay against a changed tree says so in one line (and still
# replays, diverging when the change matters); the default explore finds the lost wakeup and
# burst schedules are the same in two processes; findings name the tree's file:line; and nothing
# is written into the user's tree.
set -u
bin="$TEST_SRCDIR/switchyard/cli/switchyard"
tmp="${TEST_TMPDIR:-/tmp}/kernel_test"
rm -rf "$tmp" && mkdir -p "$tmp"
cd "$tmp" || exit 1
export XDG_CACHE_HOME="$tmp/cache"
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}
# check NAME STATUS WANT FILE PATTERN...
check() {
  local name=$1 status=$2 want=$3 file=$4
  shift 4
  if [ "$status" -ne "$want" ]; then
    fail "$name: exit $status, want $want"
    sed 's/^/  | /' "$file" | tail -n 15
    return
  fi
  local pattern
  for pattern in "$@"; do
    if ! grep -qE -- "$pattern" "$file"; then
      fail "$name: no line matches '$pattern'"
      sed 's/^/  | /' "$file" | tail -n 15
      return
    fi
  done
  pass
}

"$bin" explore --model=xv6 --kernel=builtin --runs=40 --jobs=2 --out="$tmp/clean" >clean.out 2>&1
check "clean explore" $? 0 clean.out "^switchyard: compiling .*xv6-builtin-tree" \
  "^summary: 40 runs"

# explore's default strategy (swarm: burst, pct or random per seed) on the tree's lost wakeup:
# guarded-field-under-lock finds wakeup()'s unlocked read of p->state at the first run, and names
# it, whatever the schedule. (bench/README.md's figures for finding the lost wakeup itself, as
# no-progress, are from before that contract.)
"$bin" explore --model=xv6 --kernel=builtin --bug=wakeup-without-lock --runs=150 --jobs=1 \
  --out="$tmp/wakeup" >wakeup.out 2>&1
check "default explore finds the lost wakeup" $? 1 wakeup.out "strategy swarm" \
  "safety guarded-field-under-lock: 1 \(first seed 0\)" \
  "reads proc\[[0-9]+\]\.state \(pid [0-9]+\) at kernel/proc\.c:[0-9]+ in wakeup\(\) without holding" \
  "^reproducer: "
repro=$(ls "$tmp"/wakeup/*.json)
"$bin" replay "$repro" >wakeup-replay.out 2>&1
check "replay of the swarm's finding" $? 1 wakeup-replay.out \
  "^replay matches: same outcome, same trace hash"

# Burst and conflict-directed schedules of a tree are the same in two processes (the tree's
# module is loaded at another address in each; cell ids and decisions must not depend on it).
for strategy in burst conflict; do
  "$bin" check-determinism --model=xv6 --kernel=builtin --strategy=$strategy --runs=3 \
    >determinism-$strategy.out 2>&1
  check "check-determinism --strategy=$strategy" $? 0 determinism-$strategy.out \
    "strategy=$strategy seed=0 burst_max=40000" "^deterministic: 3 seeds"
done

# The tree's own panic() names its file:line in the tree (not the module's offset).
"$bin" explore --model=xv6 --kernel=builtin --bug=pop-off-enables-early --runs=40 \
  --out="$tmp/panic" >panic.out 2>&1
check "a panic names the tree's file:line" $? 1 panic.out "safety panic: 1" \
  "^    sched locks \(at kernel/proc\.c:[0-9]+ in sched\(\)\)$"

"$bin" explore --model=xv6 --kernel=builtin --bug=scheduler-keeps-c-proc --runs=100 \
  --out="$tmp/bug" >bug.out 2>&1
check "bug explore" $? 1 bug.out "safety cpu-proc-agrees: 1" "^reproducer: "
repro=$(ls "$tmp"/bug/*.json)
"$bin" replay "$repro" >replay.out 2>&1
check "replay" $? 1 replay.out "^replay matches: same outcome, same trace hash"
"$bin" replay "$repro" --trace=interleaving >timeline.out 2>&1
check "interleaving" $? 1 timeline.out "VIOLATION \(safety violation\) cpu-proc-agrees" \
  "(scheduler|sched|acquire|release|pop_off|push_off|holding) (proc|spinlock)\.c:[0-9]+"

# Bad input: one line on stderr, exit 2.
one_line_error() {  # one_line_error NAME PATTERN -- ARGS...
  local name=$1 pattern=$2
  shift 3
  local status
  "$bin" "$@" >/dev/null 2>"$name.err"
  status=$?
  if [ "$status" -ne 2 ]; then
    fail "$name: exit $status, want 2: $(cat "$name.err")"
  elif ! grep -qE -- "$pattern" "$name.err"; then
    fail "$name: no line matches '$pattern': $(cat "$name.err")"
  else
    pass
  fi
}
mkdir -p notatree
one_line_error notatree "is not an xv6-riscv tree: it has no kernel/proc.c" -- run --model=xv6 \
  --kernel="$tmp/notatree"
one_line_error missing "no such file" -- run --model=xv6 --kernel="$tmp/nowhere"

# A user's tree: a copy of the own tree, made read-only, that does not compile.
cp -r "$XDG_CACHE_HOME"/switchyard/xv6-builtin-tree-*/ mytree
chmod -R a-w mytree
before=$(find mytree -type f | sort | xargs md5sum)
one_line_error bugtree "a tree of your own has no planted bugs" -- run --model=xv6 \
  --kernel="$tmp/mytree" --bug=wakeup-without-lock
"$bin" run --model=xv6 --kernel="$tmp/mytree" --seed=1 >mytree.out 2>&1
# It says how many of the run's accesses were no points, and why: a CPU's own struct cpu with
# interrupts off is most of them.
check "user tree" $? 0 mytree.out "^outcome: pass" \
  "^accesses: [0-9]+ of instrumented code, [0-9]+ points; not points: [0-9]+ \([0-9.]+%\): own stack [0-9]+, private 0, per-CPU with interrupts off [1-9][0-9]*$"
# Its reproducer records the tree's path and the hash of its sources; replayed against the same
# tree it matches without a word about the tree.
"$bin" run --model=xv6 --kernel="$tmp/mytree" --seed=1 --output="$tmp/mytree.json" >/dev/null 2>&1
check "tree reproducer" $? 0 "$tmp/mytree.json" "\"user_file\": \"$tmp/mytree\"" \
  "\"user_file_fingerprint\": \"[0-9a-f]{16}\""
"$bin" replay "$tmp/mytree.json" >same.out 2>&1
check "replay same tree" $? 0 same.out "^replay matches: same outcome, same trace hash"
if grep -q "changed since" same.out; then
  fail "replay of an unchanged tree says it changed: $(grep 'changed since' same.out)"
else
  pass
fi
after=$(find mytree -type f | sort | xargs md5sum)
if [ "$before" == "$after" ]; then
  pass
else
  fail "something was written into the user's tree"
fi

# A tree without wait_lock (as before 2021): the run says which check it skips, and runs clean.
cp -r "$XDG_CACHE_HOME"/switchyard/xv6-builtin-tree-*/ nowaitlock
sed -i 's/wait_lock/wait_mutex/g' nowaitlock/kernel/proc.c
"$bin" run --model=xv6 --kernel="$tmp/nowaitlock" --seed=1 >nowaitlock.out 2>&1
check "skipped check" $? 0 nowaitlock.out \
  "^switchyard: check skipped on this tree: lock-order \(the tree has no .wait_lock." \
  "^outcome: pass"

chmod -R u+w mytree
# A changed tree: the replay says so in one line, and replays (a comment changes nothing it runs).
echo '// a comment' >>mytree/kernel/proc.c
"$bin" replay "$tmp/mytree.json" >changed.out 2>&1
check "replay changed tree" $? 0 changed.out \
  "^switchyard replay: the code under test changed since the reproducer was made: $tmp/mytree has sources hash [0-9a-f]{16}, the reproducer recorded [0-9a-f]{16}; replaying anyway" \
  "^replay matches: same outcome, same trace hash"
# A change that matters: the replay says the tree changed, diverges and exits non-zero.
cp -r mytree changedtree
sed -i 's/^#define NPROC 16 /#define NPROC 12 /' changedtree/kernel/param.h
sed "s#$tmp/mytree\"#$tmp/changedtree\"#" "$tmp/mytree.json" >"$tmp/changed.json"
"$bin" replay "$tmp/changed.json" >diverged.out 2>&1
check "replay diverged tree" $? 4 diverged.out \
  "^switchyard replay: the code under test changed since the reproducer was made: $tmp/changedtree has sources hash" \
  "^replay diverged"
echo 'int broken(void) { return }' >>mytree/kernel/proc.c
"$bin" run --model=xv6 --kernel="$tmp/mytree" >broken.out 2>&1
check "broken tree" $? 2 broken.out "does not compile" "mytree/kernel/proc.c:[0-9]+:[0-9]+: error"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
