#!/usr/bin/env bash
# Re-records corpora/reproducers/ after a model change that alters what a seed does (a new
# fingerprint): for every planted bug of every model, the first seed the default campaign finds
# it at becomes the stored reproducer. Usage: bash tools/rerecord_reproducers.sh
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
    f=$(ls "$out"/*.json 2>/dev/null | head -1 || true)
    # Bugs planted only in switchyard's own C tree (--kernel=builtin) and host crashes are not
    # stored: the corpus holds the default campaign's violations.
    case "$f" in
      "" | *crash__*)
        echo "rerecord: $model $bug: not stored"
        continue
        ;;
    esac
    cp "$f" corpora/reproducers/
    echo "rerecord: $(basename "$f")"
  done
done
