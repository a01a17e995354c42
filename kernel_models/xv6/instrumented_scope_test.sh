#!/usr/bin/env bash
# The xv6 model's archive (sim/instrumented.bzl) calls the __tsan_* hooks from the model's own
# kernel code only: never from a header's function (the standard library's, Abseil's, the
# simulator's: a copy the linker might keep for the whole executable), never from the checks,
# bug table, workload generator and entry point (plain_srcs). And the kernel code that must make
# points does, atomics included: acquire()'s amoswap and release()'s store are atomic hooks.
set -euo pipefail
archive="$1"
disassembly="$(objdump -dr --no-show-raw-insn -C "$archive")"
calls="$(awk '/^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn) }
              /R_X86_64_PLT32[[:space:]]+__tsan_/ { print fn "\t" $NF }' <<<"$disassembly")"
callers="$(cut -f1 <<<"$calls" | sort -u)"
[ -n "$callers" ] || {
  echo "FAIL: no function in $archive calls a __tsan_ hook"
  exit 1
}
status=0
while IFS= read -r fn; do
  case "$fn" in
    tsan.module_ctor) ;;
    switchyard::xv6::Kernel::Check* | switchyard::xv6::Kernel::AddInvariants* | \
      switchyard::xv6::Kernel::InvariantNames* | switchyard::xv6::Kernel::ghost* | \
      switchyard::xv6::Workload* | switchyard::xv6::FetchAction* | switchyard::xv6::ChildPid* | \
      switchyard::xv6::AddChild* | switchyard::xv6::Bug* | switchyard::xv6::AllBugs* | \
      switchyard::xv6::Run*)
      echo "FAIL: $fn is instrumented, but checks, user memory and setup are not the kernel's work"
      status=1
      ;;
    switchyard::xv6::Kernel::*) ;;
    *)
      echo "FAIL: $fn calls a __tsan_ hook: only the model's own kernel functions may"
      status=1
      ;;
  esac
done <<<"$callers"
for want in "Kernel::acquire(" "Kernel::release(" "Kernel::sched(" "Kernel::scheduler(" \
  "Kernel::sleep(" "Kernel::wakeup(" "Kernel::allocproc(" "Kernel::virtio_disk_intr(" \
  "Kernel::usertrap_syscall(" "Kernel::push_off("; do
  grep -qF "$want" <<<"$callers" || {
    echo "FAIL: $want makes no instrumented access"
    status=1
  }
done
grep -qP '^switchyard::xv6::Kernel::acquire\(.*\t__tsan_atomic32_exchange' <<<"$calls" || {
  echo "FAIL: acquire()'s __sync_lock_test_and_set is not an instrumented atomic"
  status=1
}
grep -qP '^switchyard::xv6::Kernel::release\(.*\t__tsan_atomic32_store' <<<"$calls" || {
  echo "FAIL: release()'s __sync_lock_release is not an instrumented atomic"
  status=1
}
[ "$status" -ne 0 ] || echo "PASS: $(wc -l <<<"$callers") instrumented functions, all the model's kernel code"
exit "$status"
