#!/usr/bin/env bash
# Installs exactly the Debian packages switchyard needs, and nothing when they are all present.
# Safe to run any number of times. Usage: bash tools/setup.sh
set -euo pipefail

packages=(
  bazel-bootstrap    # Bazel 4.2.3, the only Bazel Debian offers offline
  bazel-rules-java   # @rules_java for Bazel's own tools
  clang              # the project's compiler (and libFuzzer's)
  libclang-rt-14-dev # libFuzzer and the sanitizer runtimes
  g++                # libstdc++ headers and libraries that clang uses
  clang-format       # the formatting check
  libabsl-dev        # flags, strings, status, hashing
  librapidcheck-dev  # property tests
  libgtest-dev       # unit tests
  libgmock-dev
  libbenchmark-dev   # benchmarks
  libboost-context-dev # //bench:switch_bench, kernel_models/switch: Boost.Context's fcontext
  nlohmann-json3-dev # reproducer files, `list --json`, Chrome traces
  llvm-14            # llvm-symbolizer: source lines for --trace=interleaving and --trace=html
  chromium           # headless browser for //views:html_browser_test (skipped without it)
  libunicorn-dev     # arch/emu: the CPU emulator that runs i386 and RISC-V machine code
  libcapstone-dev    # arch/emu: disassembly of emulated instructions in traces
  gcc-i686-linux-gnu # kernel_models/ult: the threads library compiled for i386 at build time
  gcc-riscv64-linux-gnu      # kernel_models/xv6: swtch.S assembled for RISC-V at build time
  binutils-riscv64-linux-gnu # (the RISC-V assembler and linker used by that compiler driver)
  libc6-dev-i386-cross       # kernel_models/switch: glibc's i386 swapcontext/makecontext (libc.a)
  libc6-dev-riscv64-cross    # kernel_models/switch: glibc's riscv64 swapcontext/makecontext (libc.a)
  procps             # ps and pgrep: //cli:crash_test checks that no campaign process is left
  zip                # .clusterfuzzlite/build.sh packs the seed corpora (NAME_seed_corpus.zip)
  unzip              # tools/clusterfuzzlite_check.sh unpacks them to run each target
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get update -qq >/dev/null; then
  echo "setup: 'apt-get update' failed; check the network to Debian's archive and retry" >&2
  exit 1
fi
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "setup: could not install ${missing[*]}; run 'apt-get install ${missing[*]}' to see why" >&2
  exit 1
fi
echo "setup: done" >&2
