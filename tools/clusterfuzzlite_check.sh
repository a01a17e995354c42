#!/usr/bin/env bash
# Builds the fuzz targets with .clusterfuzzlite/build.sh under the variables OSS-Fuzz's and
# ClusterFuzzLite's base-builder image sets for libFuzzer and the given sanitizer, then runs each
# target for a few seconds on its unzipped seed corpus with its dictionary, as the cluster's
# runner would. Prints the build time and each target's exec/s; exits non-zero, with one line
# saying which, when the build fails or a target crashes.
#
# Usage: tools/clusterfuzzlite_check.sh address|undefined [SECONDS_PER_TARGET (default 5)] [OUT]
# OUT (default: a temporary directory, removed at the end) keeps the built targets.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizer="${1:-}"
seconds="${2:-5}"
keep_out="${3:-}"
case "$sanitizer" in
  address) sanitizer_flags="-fsanitize=address -fsanitize-address-use-after-scope" ;;
  undefined)
    # The base-builder's list: unsigned-integer-overflow is reported but recoverable, and the
    # runner silences it (UBSAN_OPTIONS below).
    checks="array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
    sanitizer_flags="-fsanitize=$checks,unsigned-integer-overflow -fno-sanitize-recover=$checks"
    ;;
  *)
    echo "clusterfuzzlite_check: usage: $0 address|undefined [SECONDS] [OUT]" >&2
    exit 2
    ;;
esac
case "$seconds" in
  '' | *[!0-9]*)
    echo "clusterfuzzlite_check: SECONDS must be a whole number, not '$seconds'" >&2
    exit 2
    ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="${keep_out:-$work/out}"

export CC=clang CXX=clang++ SANITIZER="$sanitizer" OUT="$out"
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $sanitizer_flags -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS -stdlib=libc++"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"

start=$(date +%s)
if ! bash .clusterfuzzlite/build.sh >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log"
  echo "clusterfuzzlite_check: .clusterfuzzlite/build.sh failed with SANITIZER=$sanitizer"
  exit 1
fi
echo "clusterfuzzlite_check: $sanitizer: build.sh took $(($(date +%s) - start)) s"
tail -n 1 "$work/build.log"

# The runner's options (base-runner sets these for every target).
export UBSAN_OPTIONS="print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1"
export ASAN_OPTIONS="alloc_dealloc_mismatch=0:allocator_may_return_null=1:detect_leaks=1:symbolize=1"
targets=0
for zip in "$out"/*_seed_corpus.zip; do
  target="$(basename "$zip" _seed_corpus.zip)"
  corpus="$work/corpus-$target"
  mkdir -p "$corpus" "$work/artifacts-$target"
  unzip -q "$zip" -d "$corpus"
  status=0
  env -u SWITCHYARD_BUG "$out/$target" -dict="$out/$target.dict" -max_total_time="$seconds" \
    -print_final_stats=1 -artifact_prefix="$work/artifacts-$target/" "$corpus" \
    >"$work/$target.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$work/$target.log"
    echo "clusterfuzzlite_check: $target (SANITIZER=$sanitizer) failed (exit $status); the input is in the log above"
    exit 1
  fi
  execs="$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$work/$target.log")"
  rate="$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$work/$target.log")"
  echo "clusterfuzzlite_check: $sanitizer: $target: ${rate:-?} exec/s (${execs:-?} runs in ${seconds} s)"
  targets=$((targets + 1))
done
if [ "$targets" -eq 0 ]; then
  echo "clusterfuzzlite_check: build.sh built no target into $out"
  exit 1
fi
