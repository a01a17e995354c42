#include "kernel_models/xv6/swtch_emu.h"

#include <unicorn/unicorn.h>

#include "absl/strings/str_format.h"
#include "arch/emu/machine.h"
#include "kernel_models/xv6/swtch_riscv64.h"
#include "kernel_models/xv6/swtch_riscv64_forgets_s11.h"
#include "sim/check.h"

namespace switchyard::xv6 {
namespace {

constexpr uint64_t kMemoryBase = 0x80000000;
constexpr uint64_t kMemorySize = 0x10000;
constexpr const char* kNames[EmulatedSwtch::kRegs] = {"ra", "sp", "s0", "s1", "s2", "s3",  "s4",
                                                      "s5", "s6", "s7", "s8", "s9", "s10", "s11"};
constexpr int kUcRegs[EmulatedSwtch::kRegs] = {
    UC_RISCV_REG_RA, UC_RISCV_REG_SP, UC_RISCV_REG_S0,  UC_RISCV_REG_S1, UC_RISCV_REG_S2,
    UC_RISCV_REG_S3, UC_RISCV_REG_S4, UC_RISCV_REG_S5,  UC_RISCV_REG_S6, UC_RISCV_REG_S7,
    UC_RISCV_REG_S8, UC_RISCV_REG_S9, UC_RISCV_REG_S10, UC_RISCV_REG_S11};
// Instructions swtch.S may take: 28 memory instructions and a ret.
constexpr uint64_t kSwtchBudget = 64;

}  // namespace

EmulatedSwtch::EmulatedSwtch(Variant variant, int contexts)
    : variant_(variant),
      contexts_(contexts),
      live_(contexts),
      expected_(contexts),
      started_(contexts, false),
      fresh_(contexts, false) {
  SY_CHECK(contexts >= 1 && contexts <= kMaxContexts);
  elf_ = std::make_unique<emu::Elf>(variant == Variant::kForgetsS11 ? emu::swtch_riscv64_forgets_s11
                                                                    : emu::swtch_riscv64);
  cpu_ = std::make_unique<emu::Machine>(emu::Isa::kRiscv64, *elf_, kMemoryBase, kMemorySize);
  swtch_ = *elf_->Find("swtch");
  swtch_end_ = *elf_->Find("swtch_end");
  context_base_ = *elf_->Find("contexts");
  // Stop before the first instruction outside swtch: the thread's code is not emulated.
  cpu_->SetStepHook([this](uint64_t pc) {
    if (pc < swtch_ || pc >= swtch_end_) cpu_->Stop();
  });
}

EmulatedSwtch::~EmulatedSwtch() = default;

uint64_t EmulatedSwtch::ContextAddress(int c) const {
  return context_base_ + 8 * kRegs * static_cast<uint64_t>(c);
}

EmulatedSwtch::RegisterFile EmulatedSwtch::Fresh(int c) const {
  RegisterFile r;
  for (int i = 0; i < kRegs; ++i) {
    r[i] = 0x1000'0000'0000ull * (static_cast<uint64_t>(c) + 1) + 0x100 * static_cast<uint64_t>(i);
  }
  return r;
}

void EmulatedSwtch::InitContext(int c, uint64_t ra, uint64_t sp) {
  SY_CHECK(c >= 0 && c < contexts_);
  // The C side: memset(&p->context, 0, ...); p->context.ra = ra; p->context.sp = sp; through its
  // own declaration of struct context.
  for (int i = 0; i < kRegs; ++i) cpu_->Write64(ContextAddress(c) + 8 * i, 0);
  int ra_slot = variant_ == Variant::kContextOutOfOrder ? 1 : 0;
  cpu_->Write64(ContextAddress(c) + 8 * ra_slot, ra);
  cpu_->Write64(ContextAddress(c) + 8 * (1 - ra_slot), sp);
  RegisterFile want{};
  want[0] = ra;
  want[1] = sp;
  expected_[c] = want;
  fresh_[c] = true;
  started_[c] = false;
}

void EmulatedSwtch::Start(int c) {
  SY_CHECK(c >= 0 && c < contexts_);
  live_[c] = Fresh(c);
  started_[c] = true;
}

std::string EmulatedSwtch::Swtch(int old_context, int new_context) {
  SY_CHECK(old_context >= 0 && old_context < contexts_);
  SY_CHECK(new_context >= 0 && new_context < contexts_);
  if (!started_[old_context]) Start(old_context);
  ++switches_;
  // The old thread ran since it was switched to: its callee-saved registers changed.
  RegisterFile& old_regs = live_[old_context];
  for (int i = 2; i < kRegs; ++i)
    old_regs[i] += 0x10001ull * (switches_ + static_cast<uint64_t>(i));
  expected_[old_context] = old_regs;
  fresh_[old_context] = false;
  for (int i = 0; i < kRegs; ++i) cpu_->SetReg(kUcRegs[i], old_regs[i]);
  cpu_->SetReg(UC_RISCV_REG_A0, ContextAddress(old_context));
  cpu_->SetReg(UC_RISCV_REG_A1, ContextAddress(new_context));
  cpu_->set_pc(swtch_);
  // One run: swtch.S's 29 instructions, then the step hook stops at the return address (or, if
  // that is outside emulated memory, the fetch there faults with pc at it).
  emu::StopReason why = cpu_->Run(kSwtchBudget);
  bool returned = cpu_->pc() < swtch_ || cpu_->pc() >= swtch_end_;
  if (why == emu::StopReason::kCountExhausted) {
    return absl::StrFormat("swtch.S did not return within %d instructions", kSwtchBudget);
  }
  if (!returned) return "swtch.S stopped inside itself: " + cpu_->fault();
  RegisterFile now;
  for (int i = 0; i < kRegs; ++i) now[i] = cpu_->Reg(kUcRegs[i]);
  // swtch's ret jumped to the new thread's ra.
  if (cpu_->pc() != (now[0] & ~uint64_t{1})) {  // jalr clears bit 0
    return absl::StrFormat("swtch.S returned to %#x, not to ra=%#x", cpu_->pc(), now[0]);
  }
  bool was_fresh = fresh_[new_context];
  const RegisterFile& want = expected_[new_context];
  live_[new_context] = now;
  started_[new_context] = true;
  fresh_[new_context] = false;
  if (was_fresh) {
    if (now[0] != want[0] || now[1] != want[1]) {
      return absl::StrFormat(
          "context %d, new from allocproc, started with ra=%#x sp=%#x instead of ra=%#x sp=%#x: "
          "struct context's field order disagrees with swtch.S's offsets (ra at 0, sp at 8)",
          new_context, now[0], now[1], want[0], want[1]);
    }
    return "";
  }
  for (int i = 0; i < kRegs; ++i) {
    if (now[i] != want[i]) {
      return absl::StrFormat(
          "context %d: %s was %#x at its swtch out and is %#x after its swtch back: swtch.S did "
          "not save or restore it",
          new_context, kNames[i], want[i], now[i]);
    }
  }
  return "";
}

uint64_t EmulatedSwtch::instructions() const { return cpu_->instructions(); }

}  // namespace switchyard::xv6
