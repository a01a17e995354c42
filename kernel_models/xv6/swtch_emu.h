// EmulatedSwtch: xv6's real swtch.S (riscv/swtch.S, assembled by the RISC-V cross assembler)
// run in Unicorn at every swtch(&old, &new) of the xv6 model (--swtch=emulated).
//
// Each model context (a process's kernel thread or a CPU's scheduler) has a register file
// (ra, sp, s0-s11) that stands for the CPU's registers while that thread runs, and a
// `struct context` in emulated memory. Swtch(old, new) loads old's register file into the
// emulated CPU, runs swtch.S from its first instruction until it returns, and takes the CPU's
// registers as new's register file. The checker (swtch-restores-registers): a thread's ra, sp and
// s0-s11 after its swtch back are what they were before its swtch out; a context that allocproc
// initialised starts at the ra and sp it was given. Between switches a thread's s registers
// change (it runs), so a register swtch.S forgets comes back stale.
//
// Deterministic: the register values derive from context numbers and a switch counter only.
#ifndef SWITCHYARD_KERNEL_MODELS_XV6_SWTCH_EMU_H_
#define SWITCHYARD_KERNEL_MODELS_XV6_SWTCH_EMU_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::emu {
class Machine;
class Elf;
}  // namespace switchyard::emu

namespace switchyard::xv6 {

class EmulatedSwtch {
 public:
  enum class Variant {
    kCorrect,
    kForgetsS11,         // swtch.S built with -DBUG_SWTCH_FORGETS_S11
    kContextOutOfOrder,  // the C side's struct context declares sp before ra
  };
  static constexpr int kMaxContexts = 80;  // riscv/swtch.S reserves this many
  static constexpr int kRegs = 14;         // ra, sp, s0..s11: swtch.S's offsets are 8 * index

  // REQUIRES: 1 <= contexts <= kMaxContexts.
  EmulatedSwtch(Variant variant, int contexts);
  ~EmulatedSwtch();

  // allocproc: context `c` will start at `ra` on stack `sp` (written through the C side's
  // struct context layout).
  void InitContext(int c, uint64_t ra, uint64_t sp);
  // The thread of context `c` is running (a scheduler's first run): its register file is live.
  void Start(int c);
  // swtch(&contexts[old], &contexts[new]). Returns "" or one line naming what went wrong.
  std::string Swtch(int old_context, int new_context);

  uint64_t instructions() const;
  uint64_t switches() const { return switches_; }

 private:
  using RegisterFile = std::array<uint64_t, kRegs>;
  uint64_t ContextAddress(int c) const;
  RegisterFile Fresh(int c) const;

  Variant variant_;
  int contexts_;
  std::unique_ptr<emu::Elf> elf_;
  std::unique_ptr<emu::Machine> cpu_;
  uint64_t swtch_ = 0, swtch_end_ = 0, context_base_ = 0;
  std::vector<RegisterFile> live_;      // while the thread runs
  std::vector<RegisterFile> expected_;  // what its swtch back must restore
  std::vector<bool> started_;           // has a live register file (has run)
  std::vector<bool> fresh_;             // InitContext'd and not yet switched to
  uint64_t switches_ = 0;
};

}  // namespace switchyard::xv6

#endif  // SWITCHYARD_KERNEL_MODELS_XV6_SWTCH_EMU_H_
