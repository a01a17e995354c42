#!/usr/bin/env bash
# Proves that the AArch64 context switch (arch/jump_arm64_aapcs_elf_gas.S) assembles for
# aarch64-linux-gnu and defines switchyard_jump_context and switchyard_start_context, and that
# the x86-64 file assembles to nothing there (its architecture guard works). This machine cannot
# run AArch64 code; this at least keeps the file from rotting unseen. Skips (exit 0) only when
# clang is not installed.
set -u
PATH="$PATH:/usr/bin:/usr/local/bin"
src="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-switchyard}"

clang_bin=$(command -v clang || command -v clang-14 || true)
if [ -z "$clang_bin" ]; then
  echo "SKIP: clang is not installed, cannot cross-assemble the AArch64 context switch"
  exit 0
fi
nm_bin=$(command -v llvm-nm-14 || command -v llvm-nm || command -v nm || true)
if [ -z "$nm_bin" ]; then
  echo "FAIL: clang is installed but no nm (llvm-nm-14, llvm-nm, nm) to read its output"
  exit 1
fi

tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0

if ! "$clang_bin" --target=aarch64-linux-gnu -c -I"$src" \
  "$src/arch/jump_arm64_aapcs_elf_gas.S" -o "$tmp/jump_arm64.o"; then
  echo "FAIL: arch/jump_arm64_aapcs_elf_gas.S does not assemble for aarch64-linux-gnu"
  exit 1
fi
symbols=$("$nm_bin" "$tmp/jump_arm64.o")
for symbol in switchyard_jump_context switchyard_start_context; do
  if ! grep -qE "^[0-9a-f]+ T ${symbol}\$" <<<"$symbols"; then
    echo "FAIL: $symbol is not defined in the AArch64 object; nm says:"
    echo "$symbols"
    failures=$((failures + 1))
  fi
done
for symbol in switchyard_fiber_start switchyard_fiber_returned; do
  if ! grep -qE "^ +U ${symbol}\$" <<<"$symbols"; then
    echo "FAIL: the AArch64 start trampoline does not call $symbol; nm says:"
    echo "$symbols"
    failures=$((failures + 1))
  fi
done

if ! "$clang_bin" --target=aarch64-linux-gnu -c -I"$src" \
  "$src/arch/jump_x86_64_sysv_elf_gas.S" -o "$tmp/jump_x86_64.o"; then
  echo "FAIL: arch/jump_x86_64_sysv_elf_gas.S breaks an AArch64 build (architecture guard)"
  exit 1
fi
if "$nm_bin" "$tmp/jump_x86_64.o" 2>/dev/null | grep -q switchyard_; then
  echo "FAIL: arch/jump_x86_64_sysv_elf_gas.S defines symbols on AArch64 (architecture guard)"
  failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
  exit 1
fi
echo "PASS: the AArch64 context switch assembles and defines its symbols"
