#!/usr/bin/env bash
# Proves that a run which crashes the host process is a finding, not the end of the campaign:
# explore with --jobs=1 and --jobs=2 survives a crash in run 1 and in run 1000 of 2000, ends with
# exit status 5 ("crash"), a summary and a reproducer that replays to the same crash, and leaves
# no process behind; a worker killed from outside is replaced and reported; SIGTERM ends with the
# summary; run, replay, shrink, check-determinism and replay --fuzz_input report the planted
# crash bugs the same way; so does the bounded exhaustive search (--strategy=dfs).
#
# The crash at a chosen run comes from the test hook SWITCHYARD_TEST_CRASH_SEEDS (a run with one
# of those seeds raises SIGSEGV before its first step; scenario/scenario.cc).
set -u
bin="$TEST_SRCDIR/switchyard/cli/switchyard"
tmp="${TEST_TMPDIR:-/tmp}/crash_test"
rm -rf "$tmp" && mkdir -p "$tmp"
cd "$tmp" || exit 1
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}

# check NAME STATUS WANT_STATUS FILE PATTERN...: the status, and every pattern in FILE.
check() {
  local name=$1 status=$2 want=$3 file=$4
  shift 4
  if [ "$status" -ne "$want" ]; then
    fail "$name: exit $status, want $want"
    sed 's/^/  | /' "$file" | tail -n 20
    return
  fi
  local pattern
  for pattern in "$@"; do
    if ! grep -qE -- "$pattern" "$file"; then
      fail "$name: no line matches '$pattern'"
      sed 's/^/  | /' "$file" | tail -n 20
      return
    fi
  done
  pass
}

# The children of process $1 (its workers and isolated runs), as "pid pid ...".
children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' | tr '\n' ' '; }

# no_leftovers NAME PIDS...: none of these processes exists any more, not even as a zombie.
no_leftovers() {
  local name=$1 pid
  shift
  for pid in "$@"; do
    if [ -e "/proc/$pid" ]; then
      fail "$name: process $pid is still there: $(ps -o pid=,stat=,args= -p "$pid")"
      return
    fi
  done
  pass
}

# A campaign run in the background while its children are sampled: sets status, seen.
campaign() {  # campaign OUT ENV... -- ARGS...
  local out=$1
  shift
  local envs=()
  while [ "$1" != "--" ]; do
    envs+=("$1")
    shift
  done
  shift
  # In a process group of its own (setsid execs the command: the group is the command's pid),
  # which its workers and isolated runs inherit.
  env "${envs[@]}" setsid "$bin" "$@" >"$out" 2>&1 &
  local pid=$!
  seen=""
  while kill -0 "$pid" 2>/dev/null; do
    seen="$seen $(children "$pid")"
    sleep 0.05
  done
  wait "$pid"
  status=$?
  # Every child the campaign had while it ran must have been reaped with it, and nothing of its
  # process group may live on.
  # shellcheck disable=SC2086
  no_leftovers "$out: children" $seen
  local group
  group=$(pgrep -g "$pid" | tr '\n' ' ')
  if [ -n "$group" ]; then
    fail "$out: processes of the campaign's group live on: $group"
  else
    pass
  fi
}

# 1. A crash in run 1 and in run 1000 of 2000, one job and two.
for jobs in 1 2; do
  name="run1-jobs$jobs"
  campaign "$name.out" SWITCHYARD_TEST_CRASH_SEEDS=0 -- explore --model=xv6 --runs=2000 \
    --jobs="$jobs" --out="$tmp/$name"
  check "$name" "$status" 5 "$name.out" "^summary: 1 runs" "crash: SIGSEGV: 1 \(first seed 0\)" \
    "^reproducer: "
  SWITCHYARD_TEST_CRASH_SEEDS=0 "$bin" replay "$tmp/$name"/*.json >"$name.replay" 2>&1
  check "$name replay" $? 5 "$name.replay" "^replay matches: the same crash"

  name="run1000-jobs$jobs"
  campaign "$name.out" SWITCHYARD_TEST_CRASH_SEEDS=999 -- explore --model=xv6 --runs=2000 \
    --jobs="$jobs" --keep-going --out="$tmp/$name"
  check "$name" "$status" 5 "$name.out" "^summary: 2000 runs" \
    "crash: SIGSEGV: 1 \(first seed 999\)" "seed999.json"
  SWITCHYARD_TEST_CRASH_SEEDS=999 "$bin" replay "$tmp/$name"/*.json >"$name.replay" 2>&1
  check "$name replay" $? 5 "$name.replay" "^replay matches: the same crash"
done
# Without --keep-going the campaign stops at the crash, in seed order whatever the jobs.
campaign stop.out SWITCHYARD_TEST_CRASH_SEEDS=999 -- explore --model=xv6 --runs=2000 --jobs=2 \
  --out="$tmp/stop"
check stop "$status" 5 stop.out "^summary: 1000 runs" "first seed 999"

# 2. A planted bug that crashes the model itself (a null mm in kswapd): every subcommand.
campaign uml.out -- explore --model=uml --bug=reclaim-assumes-user-mm --runs=100 --jobs=2 \
  --out="$tmp/uml"
check "uml explore" "$status" 5 uml.out "crash: SIGSEGV" \
  "^outcome: crash: SIGSEGV: SIGSEGV in fiber 'task\[[0-9]+\]' on cpu0 at step [0-9]+" \
  "(try_to_free_pages|kswapd) \(kernel_models/uml/(mm|sched).cc:[0-9]+\)"
repro=$(ls "$tmp"/uml/*.json)
"$bin" replay "$repro" >uml.replay 2>&1
check "uml replay" $? 5 uml.replay "^replay matches: the same crash"
"$bin" shrink "$repro" -o "$tmp/uml-shrunk.json" >uml.shrink 2>&1
check "uml shrink" $? 5 uml.shrink "^outcome: crash: SIGSEGV" "^reproducer: "
"$bin" replay "$tmp/uml-shrunk.json" >uml.shrunk.replay 2>&1
check "uml shrunk replay" $? 5 uml.shrunk.replay "^replay matches: the same crash"
seed=$(sed -n 's/.*first seed \([0-9]*\).*/\1/p' uml.out | head -n 1)
"$bin" run --model=uml --bug=reclaim-assumes-user-mm --seed="$seed" >uml.run 2>&1
check "uml run" $? 5 uml.run "^outcome: crash: SIGSEGV" "^reproduce: "
"$bin" check-determinism --model=uml --bug=reclaim-assumes-user-mm --seed="$seed" --runs=2 \
  >uml.determinism 2>&1
check "uml check-determinism" $? 5 uml.determinism "crashes, the same way in both processes" \
  "^deterministic: 2 seeds"
: >empty.input
"$bin" replay --fuzz_input=empty.input --model=uml --bug=reclaim-assumes-user-mm \
  >uml.fuzz 2>&1
check "uml replay --fuzz_input" $? 5 uml.fuzz "^outcome: crash: SIGSEGV: SIGSEGV in fiber"

campaign xv6.out -- explore --model=xv6 --bug=fork-runnable-before-program --runs=300 --jobs=1 \
  --out="$tmp/xv6"
check "xv6 explore" "$status" 5 xv6.out "crash: SIGSEGV" "(UserMain|ForkretMain) \(kernel_models/xv6/(user|kernel).cc:[0-9]+\)"
"$bin" replay "$tmp"/xv6/*.json >xv6.replay 2>&1
check "xv6 replay" $? 5 xv6.replay "^replay matches: the same crash"

# 3. A worker killed from outside: reported, replaced, its seed run again; the campaign goes on.
"$bin" explore --model=xv6 --time=6s --jobs=2 --out="$tmp/killed" >killed.out 2>&1 &
pid=$!
sleep 2
victims=$(children "$pid")
victim=${victims%% *}
[ -n "$victim" ] && kill -KILL "$victim"
sleep 1
seen="$victims $(children "$pid")"
wait "$pid"
check "worker killed" $? 0 killed.out "^summary: [0-9]+ runs" \
  "workers killed from outside \(SIGKILL\): 1"
# shellcheck disable=SC2086
no_leftovers "worker killed: children" $seen

# 4. SIGTERM ends the campaign with its summary, like Ctrl-C.
"$bin" explore --model=xv6 --time=60s --jobs=2 --out="$tmp/term" >term.out 2>&1 &
pid=$!
sleep 2
seen=$(children "$pid")
kill -TERM "$pid"
wait "$pid"
check "SIGTERM" $? 0 term.out "^interrupted \(SIGTERM\)" "^summary: [0-9]+ runs"
# shellcheck disable=SC2086
no_leftovers "SIGTERM: children" $seen

# 5. The bounded exhaustive search survives a crash too: the schedule that killed the search's
# process is found again, isolated, and is the violation, with the fewest preemptions.
small_xv6="--model=xv6 --cpus=2 --nproc=3 --children=1 --program_length=1 --compute_max=1 \
  --depth=0 --max_forks=1 --disk=0 --sleep_ticks=0 --semaphores=0 --kill=0"
# shellcheck disable=SC2086
campaign dfs.out -- explore $small_xv6 --bug=fork-runnable-before-program --strategy=dfs \
  --preemption_bound=2 --out="$tmp/dfs"
# Under ASan (abort_on_error=1) the sanitizer turns the search process's SIGSEGV into SIGABRT;
# the isolated run of that schedule reports the SIGSEGV itself either way.
check "dfs crash" "$status" 5 dfs.out "^the search's process died of SIG(SEGV|ABRT) in run [0-9]+" \
  "^summary: violation" "^outcome: crash: SIGSEGV" "^preemptions needed: 1 " "^reproducer: "
"$bin" replay "$tmp"/dfs/*.json >dfs.replay 2>&1
check "dfs crash replay" $? 5 dfs.replay "^replay matches: the same crash"

# 6. SIGTERM stops a search with its summary; the search's process goes with it.
"$bin" explore --model=xv6 --strategy=dfs --preemption_bound=3 --out="$tmp/dfsterm" \
  >dfsterm.out 2>&1 &
pid=$!
sleep 2
seen=$(children "$pid")
kill -TERM "$pid"
wait "$pid"
check "dfs SIGTERM" $? 0 dfsterm.out "^interrupted: " "^summary: incomplete" \
  "^outcome: incomplete"
# shellcheck disable=SC2086
no_leftovers "dfs SIGTERM: children" $seen

# 7. A run that stops reaching points is a hang (exit 6), caught by the CPU-time watchdog in the
# workers, the isolated runs and the subcommands' children; its reproducer replays to the same
# hang instead of hanging. (SWITCHYARD_TEST_HANG_SEEDS loops without a point before the run's
# first step; SWITCHYARD_HANG_SECONDS=1 makes the watchdog's limit one second of CPU time.)
for jobs in 1 2; do
  name="hang-jobs$jobs"
  campaign "$name.out" SWITCHYARD_TEST_HANG_SEEDS=3 SWITCHYARD_HANG_SECONDS=1 -- explore \
    --model=xv6 --runs=20 --jobs="$jobs" --keep-going --out="$tmp/$name"
  check "$name" "$status" 6 "$name.out" "^summary: 20 runs" "hang: 1 \(first seed 3\)" \
    "seed3.json"
  SWITCHYARD_TEST_HANG_SEEDS=3 SWITCHYARD_HANG_SECONDS=1 "$bin" replay "$tmp/$name"/*.json \
    >"$name.replay" 2>&1
  check "$name replay" $? 6 "$name.replay" "^outcome: hang: no progress for 1 s of CPU time" \
    "^replay matches: the same hang"
done
SWITCHYARD_TEST_HANG_SEEDS=5 SWITCHYARD_HANG_SECONDS=1 "$bin" run --model=uml --seed=5 \
  >hang-run.out 2>&1
check "hang run" $? 6 hang-run.out "hang"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
