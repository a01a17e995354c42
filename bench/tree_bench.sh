#!/usr/bin/env bash
# Runs per second of an xv6 tree compiled at run time (every access a point, through the xv6
# platform) against the built-in C++ model, in the same run, one job each, default workload.
# Usage: bash bench/tree_bench.sh [RUNS] [TREE]   (TREE: a directory, default builtin)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-300}"
tree="${2:-builtin}"
bazel build --config=opt //cli:switchyard >/dev/null 2>&1
bin=bazel-bin/cli/switchyard
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# Compile (and cache) the tree first, so that its compilation is not timed.
"$bin" run --model=xv6 --kernel="$tree" --seed=0 >/dev/null 2>&1 || true
rate() {  # rate NAME ARGS...: prints "NAME runs/s steps/run"
  local name=$1
  shift
  local start end
  start=$(date +%s.%N)
  "$bin" explore --model=xv6 --runs="$runs" --jobs=1 --out="$out/$name" "$@" >"$out/$name.log" 2>&1
  end=$(date +%s.%N)
  local steps
  steps=$("$bin" run --model=xv6 --seed=1 "$@" 2>/dev/null | sed -n 's/^stats: steps \([0-9]*\).*/\1/p')
  echo "$name $(awk -v r="$runs" -v a="$start" -v b="$end" 'BEGIN { print r / (b - a) }') $steps"
}
model=$(rate model)
tree_rate=$(rate tree --kernel="$tree")
printf '%-8s %10s %12s\n' what runs/s steps/run
for line in "$model" "$tree_rate"; do
  read -r name r s <<<"$line"
  printf '%-8s %10.1f %12s\n' "$name" "$r" "$s"
done
read -r _ m _ <<<"$model"
read -r _ t _ <<<"$tree_rate"
awk -v t="$t" -v m="$m" 'BEGIN { printf "tree/model runs/s: %.3f\n", t / m }'
