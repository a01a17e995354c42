#!/usr/bin/env bash
# Checks that .clusterfuzzlite/build_graph.py, which reads the BUILD files for the cluster's build
# (no Bazel there), compiles for every fuzz target exactly the files that Bazel compiles for it
# under --config=fuzz (bazel aquery's compile actions). CI runs it after building that config.
# Usage: tools/check_build_graph.sh    (BAZEL="bazel --output_base=DIR" to choose the server)
set -euo pipefail
cd "$(dirname "$0")/.."
bazel="${BAZEL:-bazel}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 .clusterfuzzlite/build_graph.py . GENERATED --define switchyard_fuzzing=1 >"$work/plan.sh"
# shellcheck source=/dev/null
source "$work/plan.sh"
for target in "${targets[@]}"; do
  tr ' ' '\n' <<<"${target_sources[$target]}" | sed 's#^GENERATED/##' | sort >"$work/$target.graph"
  # shellcheck disable=SC2086 # $bazel is a command and its options
  if ! $bazel aquery --config=fuzz "mnemonic(\"CppCompile\", deps(//fuzz:$target))" \
    --output=text >"$work/$target.aquery" 2>"$work/$target.err"; then
    cat "$work/$target.err" >&2
    echo "check_build_graph: bazel aquery failed for //fuzz:$target (the output above says why)"
    exit 1
  fi
  # The argument after each "-c", generated files without their bazel-out/CONFIG/bin/ prefix.
  awk 'compile { sub(/^ +/, ""); sub(/ \\$/, ""); print; compile = 0 } / -c \\$/ { compile = 1 }' \
    "$work/$target.aquery" | sed -E 's#^bazel-out/[^/]+/bin/##' | sort >"$work/$target.bazel"
  if ! diff "$work/$target.bazel" "$work/$target.graph" >"$work/$target.diff"; then
    sed 's/^</only Bazel compiles:/; s/^>/only build_graph.py compiles:/' "$work/$target.diff" | grep compiles
    echo "check_build_graph: $target: build_graph.py and Bazel disagree on the sources (above)"
    exit 1
  fi
  echo "check_build_graph: $target: the same $(wc -l <"$work/$target.graph") compiled files as Bazel"
done
