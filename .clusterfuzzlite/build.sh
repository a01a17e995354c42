#!/usr/bin/env bash
# Builds every libFuzzer target of fuzz/BUILD the way OSS-Fuzz and ClusterFuzzLite do: with $CC,
# $CXX, $CFLAGS, $CXXFLAGS, $LIB_FUZZING_ENGINE (and $SANITIZER, when set) from the environment,
# into $OUT, with each target's seed corpus (NAME_seed_corpus.zip) and dictionary (NAME.dict).
#
# No Bazel in the cluster's image, so build_graph.py reads the BUILD files instead: the fuzz
# targets are the switchyard_fuzz_target()s of fuzz/BUILD (their corpus and dict arguments give
# the seed corpus and dictionary), the sources are their cc_library closure as Bazel sees it under
# the fuzz configuration, and the files Bazel generates (the cross-compiled xv6 swtch.S and the
# threads-library programs, embedded as C++ by arch/emu/cross.bzl) are made by running the same
# genrule commands, which need the cross compilers (i686-linux-gnu-gcc, riscv64-linux-gnu-gcc and
# their objdump). A new source, target or cross_program in a BUILD file is therefore built here
# too, and a BUILD construct the reader does not know stops the build with a one-line error.
#
# Sanitizers. $SANITIZER is the cluster's choice, and it is already in $CFLAGS/$CXXFLAGS:
#   - the simulator and everything else switchyard runs on the host (base/, sim/, arch/,
#     scenario/, the C++ models in kernel_models/, fuzz/) is compiled with the cluster's flags
#     unchanged: SANITIZER=address gives AddressSanitizer (with LeakSanitizer),
#     SANITIZER=undefined gives UndefinedBehaviorSanitizer, SANITIZER=coverage the cluster's
#     coverage build;
#   - code under test, listed in `instrumented_sources` below, is always compiled with
#     -fsanitize=thread, whatever $SANITIZER is: not as a race detector but for its hooks
#     (__tsan_read4, __tsan_func_entry, ...), which switchyard's own instrumentation runtime
#     defines and which make every load, store and atomic a preemption point. clang cannot
#     combine -fsanitize=thread with address or memory in one translation unit, so these files
#     get the cluster's flags minus every -fsanitize option except fuzzer-no-link (coverage, so
#     that libFuzzer is guided by the code under test), plus -fsanitize=thread. The link never
#     adds clang's TSan runtime. Memory errors in code under test show up as crashes or
#     invariant violations, not as sanitizer reports.
#   - SANITIZER=memory is refused: MemorySanitizer needs every linked library instrumented, and
#     libstdc++, Abseil, Unicorn and Capstone come uninstrumented from the distribution.
#     SANITIZER=thread is refused: the __tsan_* hooks are switchyard's, and the simulator runs
#     on one host thread, so clang's TSan runtime would have nothing to find.
#
# Libraries: the -l options of the BUILD files' third_party targets, linked statically where the
# distribution has an archive (Abseil, Unicorn, Capstone), so that the fuzzers run in the
# cluster's runner image, which has none of them. The cluster's -stdlib=libc++ is dropped: those
# libraries are built against libstdc++.
#
# Try it here (tools/clusterfuzzlite_check.sh sets the cluster's full flags for address or
# undefined, then runs each target; .ci/run runs it for address):
#   CC=clang CXX=clang++ CFLAGS="-O1 -fsanitize=address,fuzzer-no-link" CXXFLAGS="$CFLAGS" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/fuzz-out bash .clusterfuzzlite/build.sh
set -euo pipefail

die() {
  echo "build.sh: $*" >&2
  exit 1
}

# Code under test, compiled for switchyard's TSan-ABI instrumentation runtime (see above):
# repository paths of .c/.cc files, which must also be sources of a fuzz target (or of a library
# it depends on) in the BUILD files. Empty: the models' code under test is compiled by their
# genrules (sim/instrumented.bzl) and linked as archives, with no coverage counters unless
# switchyard_code_coverage is defined. A file listed here would get fuzzer-no-link and
# -fsanitize=thread in one compile, where clang 14's TSan pass instruments the coverage pass's
# counter increments (every basic block an unattributed access): compile it in two steps first,
# as sim/instrumented.bzl does.
instrumented_sources=()

# The checkout: beside this script (.clusterfuzzlite/..), or the current directory, which is the
# WORKDIR of the cluster's image when the script has been copied to $SRC/build.sh.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$root/fuzz/BUILD" ]; then
  root="$(pwd)"
fi
[ -f "$root/fuzz/BUILD" ] || die "run from the switchyard checkout (no fuzz/BUILD beside the script or in $(pwd))"
cd "$root"

[ -n "${CC:-}" ] || die "set CC (the cluster's C compiler, e.g. clang)"
[ -n "${CXX:-}" ] || die "set CXX (the cluster's C++ compiler, e.g. clang++)"
[ -n "${LIB_FUZZING_ENGINE:-}" ] || die "set LIB_FUZZING_ENGINE (e.g. -fsanitize=fuzzer)"
[ -n "${OUT:-}" ] || die "set OUT (the directory for the fuzz targets)"
CFLAGS="${CFLAGS:-}"
CXXFLAGS="${CXXFLAGS:-}"
case "${SANITIZER:-}" in
  memory) die "SANITIZER=memory is not supported: libstdc++, Abseil, Unicorn and Capstone are not instrumented" ;;
  thread) die "SANITIZER=thread is not supported: the __tsan_* hooks are switchyard's own instrumentation runtime" ;;
esac
command -v python3 >/dev/null || die "python3 is needed to read the BUILD files"

# The distribution's C++ libraries use libstdc++; the cluster asks for libc++.
remove_word() {
  local word="$1" result=() flag
  shift
  for flag in $*; do
    [ "$flag" = "$word" ] || result+=("$flag")
  done
  echo "${result[*]:-}"
}
CFLAGS="$(remove_word -stdlib=libc++ "$CFLAGS")"
CXXFLAGS="$(remove_word -stdlib=libc++ "$CXXFLAGS")"

# The flags for code under test: every sanitizer option dropped except the coverage one
# (-fsanitize=fuzzer-no-link and -fsanitize-coverage=...), then -fsanitize=thread.
for_code_under_test() {
  local result=() flag kind kept
  for flag in $1; do
    case "$flag" in
      -fsanitize=*)
        kept=()
        for kind in $(echo "${flag#-fsanitize=}" | tr ',' ' '); do
          [ "$kind" = fuzzer-no-link ] && kept+=("$kind")
        done
        [ ${#kept[@]} -eq 0 ] || result+=("-fsanitize=$(
          IFS=,
          echo "${kept[*]}"
        )")
        ;;
      -fsanitize-coverage=* | -fno-sanitize-coverage=*) result+=("$flag") ;;
      -fsanitize* | -fno-sanitize*) ;;
      *) result+=("$flag") ;;
    esac
  done
  echo "${result[*]:-} -fsanitize=thread"
}
instrumented_cflags="$(for_code_under_test "$CFLAGS")"
instrumented_cxxflags="$(for_code_under_test "$CXXFLAGS")"

mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gen="$work/gen"
mkdir -p "$gen" "$work/obj" "$work/log"

# What Bazel would build for `--config=fuzz` (its --define) from the BUILD files.
python3 .clusterfuzzlite/build_graph.py "$root" "$gen" --define switchyard_fuzzing=1 \
  >"$work/plan.sh" || die "could not read the BUILD files (the line above says why)"
# shellcheck source=/dev/null
source "$work/plan.sh"

declare -A is_source is_instrumented
for src in "${sources[@]}"; do is_source[$src]=1; done
for src in "${instrumented_sources[@]}"; do
  [ -n "${is_source[$src]:-}" ] || die "instrumented source $src is not a source of any fuzz target"
  is_instrumented[$src]=1
done

# run_all WHAT FUNCTION ITEM...: runs FUNCTION ITEM for every item, as many at once as there are
# cores. When one fails, the others still finish; then the first failure's output is printed and
# the build stops, naming it.
parallel="$(nproc 2>/dev/null || echo 2)"
run_all() {
  local what="$1" function="$2" item
  shift 2
  rm -f "$work/failed"
  for item in "$@"; do
    { "$function" "$item" >"$work/log/$(log_name "$item")" 2>&1 || echo "$item" >>"$work/failed"; } &
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  done
  wait
  if [ -s "$work/failed" ]; then
    item="$(head -n 1 "$work/failed")"
    tail -n 30 "$work/log/$(log_name "$item")" >&2
    die "$what $item failed (the output above says why; $(($(wc -l <"$work/failed") - 1)) more failed)"
  fi
}
log_name() { echo "$1" | tr '/ ' '__'; }

# Generated files: the BUILD files' own genrule commands, run as Bazel runs them (bash, strict
# mode, from the workspace root), one level of the dependency order at a time.
# A genrule is named by its first output.
declare -A genrule_of
for i in "${!genrule_outputs[@]}"; do
  first="${genrule_outputs[$i]%% *}"
  genrule_of[$first]=$i
done
generate() {
  local i="${genrule_of[$1]}" output
  for output in ${genrule_outputs[$i]}; do mkdir -p "$(dirname "$output")"; done
  bash -c "set -euo pipefail; ${genrule_commands[$i]}"
}
phase_start=$SECONDS
level=0
while :; do
  batch=()
  for i in "${!genrule_levels[@]}"; do
    [ "${genrule_levels[$i]}" -ne "$level" ] || batch+=("${genrule_outputs[$i]%% *}")
  done
  [ ${#batch[@]} -gt 0 ] || break
  run_all generating generate "${batch[@]}"
  level=$((level + 1))
done
generate_seconds=$((SECONDS - phase_start))

object_of() {
  case "$1" in
    "$gen"/*) echo "$work/obj/generated/${1#"$gen"/}.o" ;;
    *) echo "$work/obj/$1.o" ;;
  esac
}

compile() {
  local src="$1" object compiler flags
  object="$(object_of "$src")"
  mkdir -p "$(dirname "$object")"
  case "$src" in
    *.c | *.S | *.s)
      compiler="$CC"
      flags="$CFLAGS"
      [ -z "${is_instrumented[$src]:-}" ] || flags="$instrumented_cflags"
      ;;
    *)
      compiler="$CXX"
      flags="$CXXFLAGS -std=c++20"
      [ -z "${is_instrumented[$src]:-}" ] || flags="$instrumented_cxxflags -std=c++20"
      ;;
  esac
  # shellcheck disable=SC2086 # flags are words
  $compiler $flags ${source_copts[$src]} -I. -I"$gen" -c "$src" -o "$object"
}
phase_start=$SECONDS
run_all compiling compile "${sources[@]}"
compile_seconds=$((SECONDS - phase_start))

# -lNAME for a library with a static archive becomes -l:libNAME.a; the C library's parts stay
# dynamic.
link_options() {
  local option name archive static=() dynamic=()
  for option in $1; do
    name="${option#-l}"
    case "$option" in
      -lc | -lm | -lrt | -lpthread | -ldl) dynamic+=("$option") ;;
      -l*)
        archive="$($CXX -print-file-name="lib$name.a")"
        if [ "$archive" != "lib$name.a" ] && [ -f "$archive" ]; then
          static+=("-l:lib$name.a")
        else
          dynamic+=("$option")
        fi
        ;;
      *) dynamic+=("$option") ;;
    esac
  done
  echo "-Wl,--start-group ${static[*]:-} -Wl,--end-group ${dynamic[*]:-} -lpthread -lm -ldl"
}

# Each target with its seed corpus and dictionary.
link() {
  local target="$1" objects=() src corpus="${target_corpus[$1]}"
  for src in ${target_sources[$target]}; do objects+=("$(object_of "$src")"); done
  # Archives that genrules made (instrumented model code, sim/instrumented.bzl), linked as is.
  for src in ${target_archives[$target]}; do objects+=("$src"); done
  # shellcheck disable=SC2086 # flags are words
  $CXX $CXXFLAGS "${objects[@]}" $LIB_FUZZING_ENGINE $(link_options "${target_linkopts[$target]}") \
    -o "$OUT/$target"
  [ -d "$corpus" ] || die "$target: no corpus directory $corpus"
  rm -f "$OUT/${target}_seed_corpus.zip"
  (cd "$corpus" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*)
  cp "${target_dict[$target]}" "$OUT/$target.dict"
}
phase_start=$SECONDS
run_all linking link "${targets[@]}"
echo "build.sh: built ${targets[*]} into $OUT (generated ${#genrule_commands[@]} genrules' files in" \
  "${generate_seconds} s, compiled ${#sources[@]} sources in ${compile_seconds} s, linked and" \
  "packaged in $((SECONDS - phase_start)) s)"
