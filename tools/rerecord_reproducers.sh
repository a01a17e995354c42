#!/usr/bin/env bash
# Re-records corpora/reproducers/ after a model change that alters what a seed does (a new
# fingerprint): for every planted bug of every model and every invariant the default campaign
# finds it violating (the first violation in 20,000 runs, then every other one in 5,000
# runs, --keep_going), the first seed that shows it becomes a stored
# reproducer. (A bug may show as more than one violation: xv6's wakeup-without-lock as a lost
# wakeup and as a process made RUNNABLE while it runs; the views' tests need the lost wakeup.)
# Usage: bash tools/rerecord_reproducers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build --config=opt //:switchyard
bin=bazel-bin/cli/switchyard
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rm -f corpora/reproducers/*.json
# The kernel models' corpus (the switch-routine and uthread models are checked by their own tests).
for model in xv6 uml ult; do
  for bug in $("$bin" list --json | python3 -c "import json,sys; print(' '.join(b['name'] for m in json.load(sys.stdin)['models'] if m['name']=='$model' for b in m['bugs']))"); do
    rm -f "$out"/*.json
    "$bin" explore --model="$model" --bug="$bug" --runs=20000 --out="$out" >/dev/null || true
    first=$(ls "$out"/*.json 2>/dev/null | head -1 || true)
    # Bugs planted only in switchyard's own C tree (--kernel=builtin) and host crashes are not
    # stored: the corpus holds the default campaign's violations. (A crash is also too slow to
    # keep going after: every run of it is isolated in a child.)
    case "$first" in
      "" | *crash__*)
        echo "rerecord: $model $bug: not stored"
        continue
        ;;
    esac
    cp "$first" corpora/reproducers/
    rm -f "$out"/*.json
    "$bin" explore --model="$model" --bug="$bug" --runs=5000 --keep_going --out="$out" \
      >/dev/null || true
    for f in "$out"/*.json; do
      case "$f" in
        "$out/*.json" | *crash__*) continue ;;
      esac
      cp "$f" corpora/reproducers/
      echo "rerecord: $(basename "$f")"
    done
  done
done
