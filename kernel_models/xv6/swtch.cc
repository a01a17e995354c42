// --swtch=emulated: the model's swtch() also runs xv6's real swtch.S (riscv/swtch.S) in the
// emulator on per-context register files (see swtch_emu.h), and fails the run with
// swtch-restores-registers when a thread does not get its ra, sp and s0-s11 back.
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {
namespace {

// What allocproc writes into a new context: forkret's address and the top of the kernel stack
// (stand-ins in the emulator's address space; nothing executes there).
constexpr uint64_t kForkret = 0x80400000;
constexpr uint64_t kKstackTop = 0x80800000;
constexpr uint64_t kKstackSize = 0x2000;

}  // namespace

void Kernel::EmulateSwtch(int old_context, int new_context) {
  if (!swtch_emu_) return;
  std::string why = swtch_emu_->Swtch(old_context, new_context);
  // Moved, not copied: Fail() never returns, and a copy's buffer would be left behind on this
  // fiber's abandoned stack (LeakSanitizer sees it).
  if (!why.empty()) sim_.Fail("swtch-restores-registers", std::move(why));
}

void Kernel::EmulateAllocContext(int context) {
  if (!swtch_emu_) return;
  swtch_emu_->InitContext(context, kForkret,
                          kKstackTop + kKstackSize * static_cast<uint64_t>(context));
}

}  // namespace switchyard::xv6
