#!/usr/bin/env bash
# Time and executions the libFuzzer targets need to find each planted bug, their speed on the
# correct model, and one crash triaged end to end (fuzz input -> reproducer -> replay -> shrink).
#
#   bench/fuzz_bug_hunt.sh [MAX_SECONDS_PER_RUN (60)] [RUNS_PER_BUG (5)]
#
# For each model and planted bug, RUNS_PER_BUG fuzzing runs (-seed=1..RUNS_PER_BUG), each from a
# fresh empty corpus, until the first crash or MAX_SECONDS_PER_RUN. The whole fuzzing budget is
# FUZZ_BUDGET seconds (default 1500); a run never gets more than what is left of it.
# Everything it writes goes to a fresh directory under /tmp, named on its first line.
set -euo pipefail
cd "$(dirname "$0")/.."

max_time=${1:-60}
runs_per_bug=${2:-5}
budget=${FUZZ_BUDGET:-1500}
work=$(mktemp -d /tmp/fuzz_bug_hunt.XXXXXX)
echo "fuzz_bug_hunt: work directory $work; at most ${max_time}s per run; budget ${budget}s"

bazel build --config=fuzz //fuzz:xv6_fuzz //fuzz:uml_fuzz 2>"$work/build-fuzz.log" ||
  { cat "$work/build-fuzz.log"; exit 1; }
# Copies: later builds in another configuration share bazel-bin.
cp bazel-bin/fuzz/xv6_fuzz bazel-bin/fuzz/uml_fuzz "$work/"
# The CLI (default configuration) lists the planted bugs and triages the crash.
bazel build //cli:switchyard 2>"$work/build-cli.log" || { cat "$work/build-cli.log"; exit 1; }
cp bazel-bin/cli/switchyard "$work/"
cli="$work/switchyard"

bugs_of() {
  "$cli" list --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
for m in doc["models"]:
    if m["name"] == sys.argv[1]:
        print(" ".join(b["name"] for b in m["bugs"]))' "$1"
}

spent=0   # seconds of fuzzing so far (float)
left() { python3 -c "print(max(0, int($budget - $spent)))"; }

# median of numbers on stdin ("inf" sorts last)
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }

# fuzz MODEL BUG SEED SECONDS: runs one campaign; prints "seconds executions crash-file|-"
fuzz() {
  local model=$1 bug=$2 seed=$3 seconds=$4
  local dir="$work/$model-$bug-seed$seed"
  mkdir -p "$dir/corpus"
  local start end rc=0
  start=$(date +%s.%N)
  SWITCHYARD_BUG=$bug "$work/${model}_fuzz" -seed="$seed" -max_total_time="$seconds" \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  end=$(date +%s.%N)
  local elapsed execs crash
  elapsed=$(python3 -c "print(f'{$end - $start:.2f}')")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  # crash-* when the model reported a violation; oom-, timeout- or leak- would be the harness.
  crash=$(ls "$dir"/crash-* "$dir"/oom-* "$dir"/timeout-* "$dir"/leak-* 2>/dev/null | head -1 || true)
  if [ "$rc" -eq 0 ] || [ -z "$crash" ]; then crash=-; fi
  echo "$elapsed ${execs:-?} $crash"
}

echo
echo "## planted bugs: time and executions to the first crash (median of $runs_per_bug runs)"
echo
echo "| model | bug | found | median s | median execs | s per run | execs per run | invariant |"
echo "| --- | --- | ---: | ---: | ---: | --- | --- | --- |"
triage_model="" triage_bug="" triage_crash=""
for model in xv6 uml; do
  for bug in $(bugs_of "$model"); do
    times=() execs=() found=0 invariant=""
    for seed in $(seq 1 "$runs_per_bug"); do
      t=$(left)
      [ "$t" -gt "$max_time" ] && t=$max_time
      if [ "$t" -lt 1 ]; then times+=("skipped") && execs+=("skipped") && continue; fi
      read -r s n crash < <(fuzz "$model" "$bug" "$seed" "$t")
      spent=$(python3 -c "print($spent + $s)")
      if [ "$crash" = - ]; then
        times+=("inf") execs+=("inf")
      else
        found=$((found + 1)) times+=("$s") execs+=("$n")
        inv=$(sed -n 's/^switchyard fuzz: \([a-z]*\): \(.*\) at step .*/\1 \2/p' \
          "$work/$model-$bug-seed$seed/log" | head -1)
        case $(basename "$crash") in crash-*) ;; *) inv="HARNESS $(basename "$crash" | cut -d- -f1)" ;; esac
        case ",$invariant," in *",$inv,"*) ;; *) invariant=${invariant:+$invariant,}$inv ;; esac
        # Triage the first xv6 wakeup-without-lock crash (the bug that takes the fuzzer
        # longest), else the first crash that needed more than one execution.
        if [ "$model $bug" = "xv6 wakeup-without-lock" ] && [ "$triage_bug" != "$bug" ] ||
          { [ -z "$triage_crash" ] && [ "$n" != 1 ]; }; then
          triage_model=$model triage_bug=$bug triage_crash=$crash
        fi
      fi
    done
    mt=$(printf '%s\n' "${times[@]}" | grep -v skipped | median)
    me=$(printf '%s\n' "${execs[@]}" | grep -v skipped | median)
    [ "$mt" = inf ] && mt="not found" && me="not found"
    echo "| $model | $bug | $found/$runs_per_bug | $mt | $me | ${times[*]} | ${execs[*]} | ${invariant:--} |"
  done
done
echo
echo "fuzzing time spent: $(python3 -c "print(f'{$spent:.0f}')") s"

echo
echo "## executions per second on the correct model"
echo
echo "| target | empty corpus, 20 s: execs/s | execs in 20 s | corpus after | empty input x20000: execs/s |"
echo "| --- | ---: | ---: | ---: | ---: |"
for model in xv6 uml; do
  dir="$work/$model-correct"
  mkdir -p "$dir/corpus"
  SWITCHYARD_BUG=none "$work/${model}_fuzz" -seed=1 -max_total_time=20 -print_final_stats=1 \
    -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1 || echo "(the correct $model model crashed: see $dir/log)"
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  corpus=$(ls "$dir/corpus" | wc -l)
  : >"$dir/empty-input"
  start=$(date +%s.%N)
  SWITCHYARD_BUG=none "$work/${model}_fuzz" -runs=20000 "$dir/empty-input" >"$dir/empty.log" 2>&1 ||
    echo "(the empty input crashed the correct $model model: see $dir/empty.log)"
  end=$(date +%s.%N)
  empty_rate=$(python3 -c "print(f'{20000 / ($end - $start):.0f}')")
  echo "| ${model}_fuzz | ${rate:-?} | ${n:-?} | $corpus | $empty_rate |"
done

echo
echo "## triage of one crash"
if [ -z "$triage_crash" ]; then
  echo "no crash to triage"
  exit 0
fi
echo
echo "crash file: $triage_crash ($(stat -c %s "$triage_crash") bytes)"
repro="$work/repro.json"
set -x
bazel run //cli:switchyard -- replay --fuzz_input="$triage_crash" --model="$triage_model" \
  --bug="$triage_bug" -o "$repro" 2>"$work/run-cli.log" || true
"$cli" replay "$repro" || true
"$cli" shrink "$repro" || true
"$cli" replay "$work/repro.shrunk.json" || true
set +x
echo "reproducer sizes: $(stat -c %s "$repro") bytes, shrunk $(stat -c %s "$work/repro.shrunk.json") bytes"
