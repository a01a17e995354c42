#!/usr/bin/env bash
# The threads-lab check's speed: runs per second on one core of a lab-sized program (three
# threads, a hundred yields each) with and without the reference run, in the same run, and the
# time to find each planted bug of the fixture under the default explore.
# Usage: bash bench/uthread_bench.sh [RUNS] [PROGRAM]   (PROGRAM: a directory, default the fixture)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-4000}"
program="${2:-}"
bazel build --config=opt //cli:switchyard >/dev/null 2>&1
bin=bazel-bin/cli/switchyard
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
args=(--model=uthread)
if [[ -n "$program" ]]; then args+=(--program="$program"); fi
# Build (and check) the program once first, so that its compilation is not timed.
"$bin" run "${args[@]}" --seed=0 >/dev/null 2>&1 || true
rate() {  # rate NAME ARGS...: prints "NAME runs/s"
  local name=$1
  shift
  local start end
  start=$(date +%s.%N)
  "$bin" explore "${args[@]}" --runs="$runs" --jobs=1 --out="$out/$name" "$@" >"$out/$name.log" 2>&1
  end=$(date +%s.%N)
  echo "$name $(awk -v r="$runs" -v a="$start" -v b="$end" 'BEGIN { print r / (b - a) }')"
}
with=$(rate reference)
without=$(rate no-reference --reference=0)
printf '%-14s %10s\n' what runs/s
for line in "$with" "$without"; do
  read -r name r <<<"$line"
  printf '%-14s %10.1f\n' "$name" "$r"
done
read -r _ a <<<"$with"
read -r _ b <<<"$without"
awk -v a="$a" -v b="$b" 'BEGIN { printf "with/without reference: %.3f; 10,000 runs: %.0f s\n", a / b, 10000 / a }'
if [[ -n "$program" ]]; then exit 0; fi
echo
printf '%-8s %-24s %6s %8s  %s\n' arch bug runs seconds invariant
for arch in riscv64 i386; do
  for bug in register-not-saved wrong-offset sp-at-stack-bottom sp-one-byte-off ra-not-set \
    picks-current-again resumes-finished-thread; do
    start=$(date +%s.%N)
    "$bin" explore --model=uthread --arch="$arch" --bug="$bug" --runs=1000 --jobs=1 \
      --out="$out/find" >"$out/find.log" 2>&1 || true
    end=$(date +%s.%N)
    found=$(sed -n 's/^summary: \([0-9]*\) runs.*/\1/p' "$out/find.log")
    invariant=$(sed -n 's/^  [a-z]* \([a-z-]*\): .*/\1/p' "$out/find.log" | head -1)
    printf '%-8s %-24s %6s %8.3f  %s\n' "$arch" "$bug" "$found" \
      "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$invariant"
  done
done
