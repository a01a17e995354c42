#!/usr/bin/env bash
# The UML model's archive (sim/instrumented.bzl) calls the __tsan_* hooks from the model's own
# kernel code only: never from a header's function (the standard library's, Abseil's, the
# simulator's: a copy the linker might keep for the whole executable), never from the checks and
# setup that the ignorelist leaves out. And the kernel code that must make points does.
set -euo pipefail
callers=""
for archive in "$@"; do
  callers+="$(objdump -dr --no-show-raw-insn -C "$archive" |
    awk '/^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn) }
         /R_X86_64_PLT32[[:space:]]+__tsan_/ { print fn }')"$'\n'
done
callers="$(grep -v '^$' <<<"$callers" | sort -u)"
[ -n "$callers" ] || {
  echo "FAIL: no function in $* calls a __tsan_ hook"
  exit 1
}
status=0
while IFS= read -r fn; do
  case "$fn" in
    tsan.module_ctor) ;;
    switchyard::uml::Kernel::check_* | switchyard::uml::Kernel::host_agrees* | \
      switchyard::uml::Kernel::AddInvariants* | switchyard::uml::Kernel::InvariantNames* | \
      switchyard::uml::Workload* | switchyard::uml::Bug* | switchyard::uml::AllBugs* | \
      switchyard::uml::Run*)
      echo "FAIL: $fn is instrumented, but checks and setup are not the kernel's work"
      status=1
      ;;
    switchyard::uml::Kernel::* | switchyard::uml::ChangeRing::* | switchyard::uml::PlanCatchUp* | \
      switchyard::uml::CaughtUpPosition*) ;;
    *)
      echo "FAIL: $fn calls a __tsan_ hook: only the model's own functions may"
      status=1
      ;;
  esac
done <<<"$callers"
for want in "Kernel::touch(" "Kernel::swap_out_page(" "Kernel::flush_tlb_mm(" "Kernel::schedule(" \
  "Kernel::timer_interrupt(" "Kernel::kswapd(" "Kernel::fix_range("; do
  grep -qF "$want" <<<"$callers" || {
    echo "FAIL: $want makes no instrumented access"
    status=1
  }
done
[ "$status" -ne 0 ] || echo "PASS: $(wc -l <<<"$callers") instrumented functions, all the model's kernel code"
exit "$status"
