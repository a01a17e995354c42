#!/usr/bin/env bash
# Builds switchyard's libFuzzer targets the way OSS-Fuzz and ClusterFuzzLite do: with $CC, $CXX,
# $CFLAGS, $CXXFLAGS and $LIB_FUZZING_ENGINE from the environment, into $OUT, with each target's
# seed corpus (NAME_seed_corpus.zip) and dictionary (NAME.dict). No Bazel: the cluster's image
# compiles the sources directly. Only the project's code gets the cluster's coverage flags;
# Abseil comes from the system, uninstrumented.
#
# Try it here: CC=clang CXX=clang++ CFLAGS="-O1 -fsanitize=address,fuzzer-no-link" \
#   CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/fuzz-out \
#   bash .clusterfuzzlite/build.sh
set -euo pipefail
SRC_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
: "${CC:?set CC}" "${CXX:?set CXX}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}" "${OUT:?set OUT}"
CFLAGS="${CFLAGS:-}"
CXXFLAGS="${CXXFLAGS:-}"
mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$SRC_ROOT"

library_sources=(
  arch/context.cc
  sim/check.cc sim/decider.cc sim/trace.cc sim/simulator.cc sim/reproducer.cc
  $(ls kernel_models/xv6/*.cc kernel_models/uml/*.cc | grep -v '_test\.cc$')
  scenario/fuzz_input.cc scenario/models.cc scenario/scenario.cc scenario/xv6_spec.cc
  scenario/uml_spec.cc
  fuzz/fuzz_target.cc
)
abseil_libs=(-labsl_statusor -labsl_status -labsl_cord -labsl_cord_internal -labsl_cordz_functions
  -labsl_cordz_handle -labsl_cordz_info -labsl_str_format_internal -labsl_strings
  -labsl_strings_internal -labsl_synchronization -labsl_graphcycles_internal -labsl_stacktrace
  -labsl_symbolize -labsl_debugging_internal -labsl_demangle_internal -labsl_malloc_internal
  -labsl_time -labsl_civil_time -labsl_time_zone -labsl_int128 -labsl_exponential_biased
  -labsl_bad_optional_access -labsl_strerror -labsl_throw_delegate -labsl_raw_logging_internal
  -labsl_log_severity -labsl_base -labsl_spinlock_wait)

objects=()
for source in "${library_sources[@]}"; do
  object="$work/$(echo "$source" | tr '/' '_').o"
  $CXX $CXXFLAGS -std=c++20 -I. -c "$source" -o "$object"
  objects+=("$object")
done
for source in arch/jump_x86_64_sysv_elf_gas.S arch/jump_arm64_aapcs_elf_gas.S; do
  object="$work/$(basename "$source").o"
  $CC $CFLAGS -I. -c "$source" -o "$object"
  objects+=("$object")
done

for target in xv6_fuzz uml_fuzz reproducer_fuzz; do
  $CXX $CXXFLAGS -std=c++20 -I. "fuzz/$target.cc" "${objects[@]}" $LIB_FUZZING_ENGINE \
    "${abseil_libs[@]}" -o "$OUT/$target"
done

# Seed corpora and dictionaries.
(cd corpora/xv6 && zip -q -j "$OUT/xv6_fuzz_seed_corpus.zip" ./*)
(cd corpora/uml && zip -q -j "$OUT/uml_fuzz_seed_corpus.zip" ./*)
(cd corpora/reproducer && zip -q -j "$OUT/reproducer_fuzz_seed_corpus.zip" ./*)
cp corpora/reproducer.dict "$OUT/reproducer_fuzz.dict"
cp corpora/schedule.dict "$OUT/xv6_fuzz.dict"
cp corpora/schedule.dict "$OUT/uml_fuzz.dict"
echo "built: $(cd "$OUT" && ls)"
