#!/usr/bin/env bash
# SPIN beside switchyard's bounded exhaustive search (--strategy=dfs) on the same small
# configurations, correct and with each planted bug: time to verify, time to the first
# counterexample and its length. Prints two Markdown tables (xv6, uml).
#   bazel build --config=opt //:switchyard && bash bench/spin/compare.sh [CAP_SECONDS] [SEEDS]
#
# They do not check the same thing, and the tables should be read with that in mind:
#   - SPIN checks the Promela abstraction in this directory (xv6.pml: locks and the state
#     machine; uml_ring.pml: the ring with 2 pages), every data choice included, with full state
#     hashing. Its counterexample length is the trail's depth in Promela steps.
#   - switchyard checks the C++ model itself (every access point, traps, timers, the real
#     invariants) for the workload one seed generates, every schedule up to 2 preemptions,
#     stateless (no state hashing). For uml, whose bugs need a workload with enough unmaps, it
#     sweeps seeds 0..SEEDS-1 and reports the first seed whose schedules hold a counterexample.
#     Its length is the violating run's steps and preemptions.
# CAP_SECONDS (default 300) bounds each cell; a cell that hits it says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
cap=${1:-300}
seeds=${2:-50}
bin=$PWD/bazel-bin/cli/switchyard
spin_dir=$PWD/bench/spin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v spin >/dev/null || { echo "compare.sh: spin is not installed (apt-get install spin)" >&2; exit 1; }
[ -x "$bin" ] || { echo "compare.sh: build first: bazel build --config=opt //:switchyard" >&2; exit 1; }

now() { date +%s.%N; }
since() { printf '%.2f' "$(echo "$(now) - $1" | bc)"; }

# spin_cell MODEL DEFINES...: "result | states | pan s | total s" for one SPIN check.
spin_cell() {
  local model=$1
  shift
  local start out pan_start pan_time result states
  start=$(now)
  (cd "$work" && rm -f pan pan.* ./*.trail && spin "$@" -a "$spin_dir/$model" >/dev/null &&
    gcc -w -O2 -DSAFETY -o pan pan.c)
  pan_start=$(now)
  out=$(cd "$work" && timeout "$cap" ./pan -m1000000 2>&1) || true
  pan_time=$(since "$pan_start")
  states=$(echo "$out" | sed -nE 's/^ *([0-9.e+]+) states, stored.*/\1/p')
  if echo "$out" | grep -q "out of memory"; then
    result="out of memory"
  elif [ -z "$states" ]; then
    result="stopped at ${cap} s"
  elif echo "$out" | grep -qE "^pan:1: "; then
    result="found, depth $(echo "$out" | sed -nE 's/^pan:1: .*\(at depth ([0-9]+)\).*/\1/p')"
  else
    result="verified"
  fi
  echo "$result | ${states:--} | $pan_time s | $(since "$start") s"
}

# length OUTPUT: a counterexample's length: the violating run's steps and the preemptions the
# search needed (the fewest that show the bug).
length() {
  echo "$(echo "$1" | sed -nE 's/^stats: steps ([0-9]+),.*/\1/p') steps," \
    "$(echo "$1" | sed -nE 's/^preemptions needed: ([0-9]+).*/\1/p') preemptions"
}

# dfs_cell ARGS...: "result | schedules | s" for one bounded search (bound 2) of one seed.
dfs_cell() {
  local out summary result
  out=$(timeout "$cap" "$bin" explore --strategy=dfs --preemption_bound=2 --out="$work/out" "$@" \
    2>&1) || true
  summary=$(echo "$out" | grep '^summary:' || echo "summary: stopped")
  case "$summary" in
    "summary: violation"*)
      result="found, $(length "$out")"
      ;;
    "summary: verified"*) result="verified" ;;
    *) result="stopped at ${cap} s" ;;
  esac
  echo "$result | $(echo "$summary" | sed -nE 's/.*; ([0-9]+) schedules .*/\1/p') |" \
    "$(echo "$summary" | sed -nE 's/.*; ([0-9.]+) s$/\1/p') s"
}

# dfs_seeds ARGS...: bounded search of seeds 0..SEEDS-1 until one has a counterexample.
dfs_seeds() {
  local start seed out left schedules=0
  start=$(now)
  for ((seed = 0; seed < seeds; seed++)); do
    left=$((cap - $(printf '%.0f' "$(echo "$(now) - $start" | bc)")))
    out=$(timeout "$((left > 1 ? left : 1))" "$bin" explore --strategy=dfs --preemption_bound=2 \
      --out="$work/out" --seed="$seed" "$@" 2>&1) || true
    schedules=$((schedules + $(echo "$out" | sed -nE 's/^summary: .*; ([0-9]+) schedules .*/\1/p' | grep . || echo 0)))
    if echo "$out" | grep -q '^summary: violation'; then
      echo "found at seed $seed, $(length "$out") | $schedules | $(since "$start") s"
      return
    fi
    if ! echo "$out" | grep -q '^summary: verified'; then
      echo "stopped at ${cap} s (seeds below $seed verified) | $schedules | $(since "$start") s"
      return
    fi
    if [ "$(printf '%.0f' "$(echo "$(now) - $start" | bc)")" -ge "$cap" ]; then
      echo "stopped at ${cap} s (seeds 0..$seed verified) | $schedules | $(since "$start") s"
      return
    fi
  done
  echo "verified for seeds 0..$((seeds - 1)) | $schedules | $(since "$start") s"
}

xv6_flags="--model=xv6 --program_length=1 --compute_max=1 --depth=0 --disk=0 --sleep_ticks=0"
xv6_flags+=" --semaphores=0 --kill=0"
echo "### xv6: sleep/wakeup and the scheduler's hand-off"
echo
echo "| CPUs, children | bug | SPIN | states | pan | SPIN total | switchyard dfs (bound 2) | schedules | time |"
echo "|---|---|---|---|---|---|---|---|---|"
for size in "2 1" "2 2" "3 1" "3 2"; do
  read -r cpus children <<<"$size"
  for bug in none wakeup-without-lock sched-releases-early; do
    define=()
    [ "$bug" = wakeup-without-lock ] && define=(-DWAKEUP_WITHOUT_LOCK)
    [ "$bug" = sched-releases-early ] && define=(-DSCHED_RELEASES_EARLY)
    # shellcheck disable=SC2086
    echo "| $cpus, $children | $bug | $(spin_cell xv6.pml "${define[@]}" -DNCPU="$cpus" \
      -DNCHILD="$children") | $(dfs_cell $xv6_flags --bug="$bug" --cpus="$cpus" \
      --children="$children" --nproc=$((children + 2)) --max_forks="$children") |"
  done
done
echo
echo "### uml: the mm's ring of address-space changes"
echo
echo "| processes, slots | bug | SPIN | states | pan | SPIN total | switchyard dfs (bound 2, seeds) | schedules | time |"
echo "|---|---|---|---|---|---|---|---|---|"
for size in "2 2" "3 2" "2 4" "3 4" "2 8"; do
  read -r processes slots <<<"$size"
  for bug in none wrap-off-by-one position-modulo; do
    define=()
    [ "$bug" = wrap-off-by-one ] && define=(-DWRAP_OFF_BY_ONE)
    [ "$bug" = position-modulo ] && define=(-DPOSITION_MODULO)
    echo "| $processes, $slots | $bug | $(spin_cell uml_ring.pml "${define[@]}" \
      -DNPROC="$processes" -DN="$slots") | $(dfs_seeds --model=uml --max_children=0 \
      --processes="$processes" --slots="$slots" --bug="$bug") |"
  done
done
