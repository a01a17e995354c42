#!/usr/bin/env bash
# Runs and seconds to find each planted bug under each strategy: `explore --strategy=S
# --seed=OFFSET --jobs=1 --time=CAP`, once per start offset, and the median over the offsets.
# A campaign stops at its first finding, so its summary's run count and time are the time to find.
# An offset that finds nothing within the cap counts as infinite (the median is then ">CAP" when
# half or more found nothing).
#
# Usage: bash bench/strategy_bench.sh [CAP_SECONDS] [OFFSETS] [STRATEGIES] [CASES]
#   CAP_SECONDS  per campaign (default 20)
#   OFFSETS      start seeds, comma-separated (default 0,100000,200000)
#   STRATEGIES   comma-separated (default random,pct,burst,swarm; "swarm" is explore's default)
#   CASES        which bugs: tree, model, uml, ult, or a comma-separated mix (default all four)
# Prints one line per (case, strategy): median runs, median seconds, how many offsets found it,
# and the per-offset runs. SWITCHYARD=PATH uses that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
cap="${1:-20}"
IFS=, read -r -a offsets <<<"${2:-0,100000,200000}"
IFS=, read -r -a strategies <<<"${3:-random,pct,burst,swarm}"
IFS=, read -r -a kinds <<<"${4:-tree,model,uml,ult}"
if [[ -z "${SWITCHYARD:-}" ]]; then
  bazel build --config=opt //cli:switchyard >/dev/null 2>&1
  SWITCHYARD=bazel-bin/cli/switchyard
fi
bin="$SWITCHYARD"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

cases=()
for kind in "${kinds[@]}"; do
  case "$kind" in
    tree)
      for bug in scheduler-keeps-c-proc forkret-keeps-lock wakeup-without-lock; do
        cases+=("--model=xv6 --kernel=builtin --bug=$bug")
      done
      ;;
    model)
      for bug in wakeup-without-lock sched-releases-early scheduler-no-interrupts \
        forkret-keeps-lock scheduler-keeps-c-proc pop-off-enables-early usertrap-intr-on-early \
        acquire-before-push-off sched-forgets-intena push-off-saves-after-off; do
        cases+=("--model=xv6 --bug=$bug")
      done
      ;;
    uml)
      for bug in wrap-off-by-one position-modulo self-reclaim-keeps-mapping continue-before-stop \
        kswapd-checks-before-sleeping return-to-user-interruptible \
        return-to-user-keeps-signals-blocked; do
        cases+=("--model=uml --bug=$bug")
      done
      ;;
    ult)
      for bug in remove-running threadcount-not-updated signal-race; do
        cases+=("--model=ult --bug=$bug")
      done
      ;;
    *)
      echo "strategy_bench: unknown case kind '$kind' (tree, model, uml, ult)" >&2
      exit 2
      ;;
  esac
done

# Compile (and cache) the builtin tree first, so that no campaign's time includes it.
"$bin" run --model=xv6 --kernel=builtin --seed=0 >/dev/null 2>&1 || true

median() {  # median of the numbers on stdin ("inf" sorts last)
  sort -g | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; print m }'
}

printf '%-52s %-7s %10s %9s %6s  %s\n' case strategy runs seconds found "runs per offset"
for c in "${cases[@]}"; do
  for strategy in "${strategies[@]}"; do
    runs_list=()
    secs_list=()
    found=0
    for offset in "${offsets[@]}"; do
      log="$out/log"
      # shellcheck disable=SC2086  # $c is a list of flags
      "$bin" explore $c --strategy="$strategy" --seed="$offset" --jobs=1 --time="${cap}s" \
        --out="$out/repro" >"$log" 2>&1 || true
      summary=$(grep '^summary:' "$log" || true)
      runs=$(sed -n 's/^summary: \([0-9]*\) runs in \([0-9.]*\) s.*/\1/p' <<<"$summary")
      secs=$(sed -n 's/^summary: \([0-9]*\) runs in \([0-9.]*\) s.*/\2/p' <<<"$summary")
      if grep -q '(first seed' "$log"; then
        found=$((found + 1))
        runs_list+=("$runs")
        secs_list+=("$secs")
      else
        runs_list+=("inf")
        secs_list+=("inf")
      fi
    done
    mr=$(printf '%s\n' "${runs_list[@]}" | median)
    ms=$(printf '%s\n' "${secs_list[@]}" | median)
    [[ "$mr" == inf ]] && mr=">cap"
    [[ "$ms" == inf ]] && ms=">${cap}"
    printf '%-52s %-7s %10s %9s %4s/%d  %s\n' "$c" "$strategy" "$mr" "$ms" "$found" \
      "${#offsets[@]}" "${runs_list[*]}"
  done
done
