#!/usr/bin/env bash
# Schedules explored by `--strategy=dfs` with and without sleep-set reduction, at the same bound,
# on the small configurations of //search:verify_*_test. Prints a Markdown table.
#   bazel build --config=opt //:switchyard && bash bench/dfs_reduction.sh [BOUND]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bazel-bin/cli/switchyard
bound=${1:-2}
xv6="--model=xv6 --cpus=2 --nproc=3 --children=1 --program_length=1 --compute_max=1 --depth=0 --max_forks=1 --disk=0 --sleep_ticks=0 --semaphores=0 --kill=0"
xv6_3="${xv6/--children=1/--children=2} --max_forks=2"
uml2="--model=uml --slots=2 --max_children=0 --processes=2"
uml3="--model=uml --slots=2 --max_children=0 --processes=3"
echo "| configuration | bound | reduction | status | schedules | pruned | cut short | deepest (branch points) | time |"
echo "|---|---|---|---|---|---|---|---|---|"
row() {
  local name=$1 b=$2 dpor=$3
  shift 3
  local line
  line=$("$bin" explore --strategy=dfs --preemption_bound="$b" --dpor="$dpor" "$@" | grep '^summary:')
  # summary: STATUS; bound B (...); N schedules (M new ...), P pruned by sleep sets, C cut short;
  # deepest schedule D branch points, S steps; T s
  echo "$line" | sed -E "s/^summary: ([a-z]+); bound ([0-9]+) .*; ([0-9]+) schedules .*, ([0-9]+) pruned .*, ([0-9]+) cut short; deepest schedule ([0-9]+) branch points, [0-9]+ steps; ([0-9.]+) s$/| $name | \2 | $dpor | \1 | \3 | \4 | \5 | \6 | \7 s |/"
}
for dpor in sleep off; do row "xv6 2 CPUs, init + 1 child" "$bound" "$dpor" $xv6; done
for dpor in sleep off; do row "xv6 2 CPUs, init + 2 children" 1 "$dpor" $xv6_3; done
for dpor in sleep off; do row "uml 2 processes, 2 slots" "$bound" "$dpor" $uml2; done
for dpor in sleep off; do row "uml 3 processes, 2 slots" "$bound" "$dpor" $uml3; done
