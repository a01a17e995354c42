#include "kernel_models/xv6/swtch_emu.h"

#include <unicorn/unicorn.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arch/emu/machine.h"
#include "base/check.h"
#include "kernel_models/xv6/swtch_riscv64.h"
#include "kernel_models/xv6/swtch_riscv64_forgets_s11.h"

namespace switchyard::xv6 {
namespace {

constexpr const char* kNames[EmulatedSwtch::kRegs] = {"ra", "sp", "s0", "s1", "s2", "s3",  "s4",
                                                      "s5", "s6", "s7", "s8", "s9", "s10", "s11"};
constexpr int kUcRegs[EmulatedSwtch::kRegs] = {
    UC_RISCV_REG_RA, UC_RISCV_REG_SP, UC_RISCV_REG_S0,  UC_RISCV_REG_S1, UC_RISCV_REG_S2,
    UC_RISCV_REG_S3, UC_RISCV_REG_S4, UC_RISCV_REG_S5,  UC_RISCV_REG_S6, UC_RISCV_REG_S7,
    UC_RISCV_REG_S8, UC_RISCV_REG_S9, UC_RISCV_REG_S10, UC_RISCV_REG_S11};
// Instructions swtch.S may take: 28 memory instructions and a ret.
constexpr uint64_t kSwtchBudget = 64;

}  // namespace

SwtchRoutine EmulatedSwtch::BuiltinRoutine(Variant variant) {
  // Built once per process; the routine points at them.
  static const emu::Elf* const correct = new emu::Elf(emu::swtch_riscv64);
  static const emu::Elf* const forgets_s11 = new emu::Elf(emu::swtch_riscv64_forgets_s11);
  SwtchRoutine r;
  r.elf = variant == Variant::kForgetsS11 ? forgets_s11 : correct;
  r.begin = *r.elf->Find("swtch");
  r.end = *r.elf->Find("swtch_end");
  // The C side: struct context { ra; sp; s0..s11 }, or with sp declared before ra.
  r.ra_offset = variant == Variant::kContextOutOfOrder ? 8 : 0;
  r.sp_offset = variant == Variant::kContextOutOfOrder ? 0 : 8;
  r.context_size = 8 * kRegs;
  return r;
}

EmulatedSwtch::EmulatedSwtch(Variant variant, int contexts) {
  SY_CHECK(contexts >= 1 && contexts <= 80);
  SwtchRoutine routine = BuiltinRoutine(variant);
  // riscv/swtch.S reserves the contexts in its .bss.
  Init(routine, contexts, routine.elf->Find("contexts"));
}

EmulatedSwtch::EmulatedSwtch(const SwtchRoutine& routine, int contexts, bool plant_bug) {
  SY_CHECK(contexts >= 1 && contexts <= kMaxContexts);
  SY_CHECK(!plant_bug || routine.planted_bug_word.has_value());
  Init(routine, contexts, std::nullopt);
  cpu_->Snapshot();
  if (plant_bug) cpu_->Write32(*routine.planted_bug_word, 1);
  resettable_ = true;
}

void EmulatedSwtch::Reset(bool plant_bug) {
  SY_CHECK(resettable_);
  SY_CHECK(!plant_bug || routine_.planted_bug_word.has_value());
  cpu_->Restore();  // also removes the step hook
  InstallStepHook();
  live_.assign(contexts_, {});
  expected_.assign(contexts_, {});
  started_.assign(contexts_, false);
  fresh_.assign(contexts_, false);
  names_.assign(contexts_, "");
  switches_ = 0;
  if (plant_bug) cpu_->Write32(*routine_.planted_bug_word, 1);
}

void EmulatedSwtch::InstallStepHook() {
  // Stop before the first instruction outside swtch: the thread's code is not emulated.
  cpu_->SetStepHook([this](uint64_t pc) {
    if (pc < routine_.begin || pc >= routine_.end) cpu_->Stop();
  });
}

void EmulatedSwtch::Init(const SwtchRoutine& routine, int contexts,
                         std::optional<uint64_t> context_base) {
  SY_CHECK(routine.elf != nullptr && routine.begin < routine.end);
  SY_CHECK(routine.context_size >= 16 && routine.context_size <= 4096);
  SY_CHECK(routine.ra_offset + 8 <= routine.context_size);
  SY_CHECK(routine.sp_offset + 8 <= routine.context_size);
  routine_ = routine;
  contexts_ = contexts;
  live_.assign(contexts, {});
  expected_.assign(contexts, {});
  started_.assign(contexts, false);
  fresh_.assign(contexts, false);
  names_.assign(contexts, "");
  // The contexts lie after the image's last segment unless the image reserves them.
  uint64_t image_end = kSwtchTextAddress;
  for (const emu::Segment& s : routine.elf->segments()) {
    SY_CHECK(s.address >= kSwtchTextAddress);
    image_end = std::max<uint64_t>(image_end, s.address + s.bytes.size());
  }
  context_base_ = context_base.value_or((image_end + 63) & ~uint64_t{63});
  const uint64_t memory_end =
      std::max(image_end, context_base_ + routine.context_size * static_cast<uint64_t>(contexts));
  const uint64_t memory_size = (memory_end - kSwtchTextAddress + 4095) & ~uint64_t{4095};
  cpu_ = std::make_unique<emu::Machine>(emu::Isa::kRiscv64, *routine.elf, kSwtchTextAddress,
                                        memory_size);
  InstallStepHook();
}

EmulatedSwtch::~EmulatedSwtch() = default;

uint64_t EmulatedSwtch::ContextAddress(int c) const {
  return context_base_ + routine_.context_size * static_cast<uint64_t>(c);
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
  for (uint64_t i = 0; i + 8 <= routine_.context_size; i += 8)
    cpu_->Write64(ContextAddress(c) + i, 0);
  cpu_->Write64(ContextAddress(c) + routine_.ra_offset, ra);
  cpu_->Write64(ContextAddress(c) + routine_.sp_offset, sp);
  RegisterFile want{};
  want[0] = ra;
  want[1] = sp;
  expected_[c] = want;
  fresh_[c] = true;
  started_[c] = false;
}

void EmulatedSwtch::SetName(int c, std::string name) {
  SY_CHECK(c >= 0 && c < contexts_);
  names_[c] = std::move(name);
}

void EmulatedSwtch::SetValueNamer(std::function<std::string(uint64_t)> namer) {
  value_namer_ = std::move(namer);
}

std::string EmulatedSwtch::Name(int c) const {
  return names_[c].empty() ? absl::StrCat("context ", c) : names_[c];
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
  cpu_->set_pc(routine_.begin);
  // One run: swtch.S's 29 instructions, then the step hook stops at the return address (or, if
  // that is outside emulated memory, the fetch there faults with pc at it).
  emu::StopReason why = cpu_->Run(kSwtchBudget);
  bool returned = cpu_->pc() < routine_.begin || cpu_->pc() >= routine_.end;
  if (why == emu::StopReason::kCountExhausted) {
    return absl::StrFormat("swtch.S did not return within %d instructions", kSwtchBudget);
  }
  if (!returned && why == emu::StopReason::kHypercall) {
    // Unicorn reports an ecall, and an instruction the CPU cannot execute, as an interrupt.
    return absl::StrFormat(
        "swtch.S trapped before it returned (an ecall, or an instruction the CPU cannot execute), "
        "at %#x",
        cpu_->pc());
  }
  if (!returned) return "swtch.S stopped inside itself: " + cpu_->fault();
  RegisterFile now;
  for (int i = 0; i < kRegs; ++i) now[i] = cpu_->Reg(kUcRegs[i]);
  // A fresh context's ra is allocproc's (a tree's is a host address): shown through the namer.
  auto show = [this](uint64_t value) {
    return value_namer_ ? value_namer_(value) : absl::StrFormat("%#x", value);
  };
  // swtch's ret jumped to the new thread's ra.
  if (cpu_->pc() != (now[0] & ~uint64_t{1})) {  // jalr clears bit 0
    return absl::StrCat("swtch.S returned to ", show(cpu_->pc()), ", not to ra=", show(now[0]));
  }
  bool was_fresh = fresh_[new_context];
  const RegisterFile& want = expected_[new_context];
  live_[new_context] = now;
  started_[new_context] = true;
  fresh_[new_context] = false;
  if (was_fresh) {
    if (now[0] != want[0] || now[1] != want[1]) {
      return absl::StrFormat(
          "%s, new from allocproc, started with ra=%s sp=%s instead of ra=%s sp=%s: "
          "struct context's field order disagrees with swtch.S's offsets (the C side has ra at "
          "%d and sp at %d)",
          Name(new_context), show(now[0]), show(now[1]), show(want[0]), show(want[1]),
          routine_.ra_offset, routine_.sp_offset);
    }
    return "";
  }
  for (int i = 0; i < kRegs; ++i) {
    if (now[i] != want[i]) {
      return absl::StrFormat(
          "%s: %s was %#x at its swtch out and is %#x after its swtch back: swtch.S did "
          "not save or restore it",
          Name(new_context), kNames[i], want[i], now[i]);
    }
  }
  return "";
}

uint64_t EmulatedSwtch::instructions() const { return cpu_->instructions(); }

}  // namespace switchyard::xv6
