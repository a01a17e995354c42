// EmulatedSwtch: a real RISC-V swtch.S, assembled by the RISC-V cross assembler, run in Unicorn at
// every swtch(&old, &new) (--swtch=1, "emulated"): xv6's own (riscv/swtch.S) under the C++ model,
// a tree's kernel/swtch.S under a tree (kernel_models/xv6/tree.h).
//
// Each context (a process's kernel thread or a CPU's scheduler) has a register file (ra, sp,
// s0-s11) that stands for the CPU's registers while that thread runs, and a `struct context` in
// emulated memory, laid out as the C side declares it. Swtch(old, new) loads old's register file
// into the emulated CPU, runs swtch.S from its first instruction until it returns, and takes the
// CPU's registers as new's register file. The checker (swtch-restores-registers): a thread's ra,
// sp and s0-s11 after its swtch back are what they were before its swtch out; a context that
// allocproc initialised (through the C side's `ra` and `sp` fields) starts at that ra and sp.
// Between switches a thread's s registers change (it runs), so a register swtch.S forgets comes
// back stale, and a C struct whose ra and sp are not where swtch.S loads them starts a new thread
// at the wrong place.
//
// Deterministic: the register values derive from context numbers and a switch counter only.
#ifndef SWITCHYARD_KERNEL_MODELS_XV6_SWTCH_EMU_H_
#define SWITCHYARD_KERNEL_MODELS_XV6_SWTCH_EMU_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::emu {
class Machine;
class Elf;
}  // namespace switchyard::emu

namespace switchyard::xv6 {

// A swtch routine and the C side's `struct context` it serves.
struct SwtchRoutine {
  // A RISC-V ELF, statically linked at kSwtchTextAddress, defining `swtch`. Not owned: it must
  // outlive every EmulatedSwtch made from this routine.
  const emu::Elf* elf = nullptr;
  uint64_t begin = 0;  // swtch's first instruction
  uint64_t end = 0;    // the end of its code: leaving [begin, end) is its return
  // The C side's declaration: where allocproc's `ra` and `sp` are (bytes into the struct), and the
  // struct's size.
  uint64_t ra_offset = 0, sp_offset = 8, context_size = 112;
  // A word the routine tests for a planted bug (switchyard's own tree's kernel/swtch.S has
  // `swtch_planted_bug`), or nullopt.
  std::optional<uint64_t> planted_bug_word;
};

// Where a routine's ELF is linked.
constexpr uint64_t kSwtchTextAddress = 0x80000000;

class EmulatedSwtch {
 public:
  enum class Variant {
    kCorrect,
    kForgetsS11,         // swtch.S built with -DBUG_SWTCH_FORGETS_S11
    kContextOutOfOrder,  // the C side's struct context declares sp before ra
  };
  static constexpr int kMaxContexts = 1024;
  static constexpr int kRegs = 14;  // ra, sp, s0..s11

  // xv6's swtch.S (riscv/swtch.S) with the C++ model's struct context.
  // REQUIRES: 1 <= contexts <= 80 (the routine's image reserves that many).
  EmulatedSwtch(Variant variant, int contexts);
  // Any routine. `plant_bug`: write 1 into routine.planted_bug_word (REQUIRES: it has one).
  // REQUIRES: 1 <= contexts <= kMaxContexts; the C side's ra and sp fit in its struct.
  EmulatedSwtch(const SwtchRoutine& routine, int contexts, bool plant_bug);
  ~EmulatedSwtch();

  // Back to what the routine constructor made (memory as loaded, no context started or named,
  // the planted bug as asked now; SetValueNamer's namer stays), keeping the code Unicorn has
  // translated: a tree's runs reuse
  // one emulator instead of creating one each (emulator creation is most of --swtch=1's cost).
  // REQUIRES: made by the routine constructor.
  void Reset(bool plant_bug);

  // allocproc: context `c` will start at `ra` on stack `sp` (written through the C side's
  // struct context layout).
  void InitContext(int c, uint64_t ra, uint64_t sp);
  // The thread of context `c` is running (a scheduler's first run): its register file is live.
  void Start(int c);
  // What messages call context `c` ("proc[3].context"); "context c" until set.
  void SetName(int c, std::string name);
  // How messages show an ra or sp value that InitContext was given (a tree's forkret is a host
  // address, different in every process: it is shown as "forkret"); hex by default.
  void SetValueNamer(std::function<std::string(uint64_t)> namer);
  // swtch(&contexts[old], &contexts[new]). Returns "" or one line naming what went wrong.
  std::string Swtch(int old_context, int new_context);

  int contexts() const { return contexts_; }
  uint64_t instructions() const;
  uint64_t switches() const { return switches_; }

  // The routine of Variant's image (riscv/swtch.S, correct or with s11 forgotten).
  static SwtchRoutine BuiltinRoutine(Variant variant);

 private:
  using RegisterFile = std::array<uint64_t, kRegs>;
  void Init(const SwtchRoutine& routine, int contexts, std::optional<uint64_t> context_base);
  void InstallStepHook();
  uint64_t ContextAddress(int c) const;
  RegisterFile Fresh(int c) const;
  std::string Name(int c) const;

  SwtchRoutine routine_;
  int contexts_;
  std::unique_ptr<emu::Machine> cpu_;
  uint64_t context_base_ = 0;
  std::vector<RegisterFile> live_;      // while the thread runs
  std::vector<RegisterFile> expected_;  // what its swtch back must restore
  std::vector<bool> started_;           // has a live register file (has run)
  std::vector<bool> fresh_;             // InitContext'd and not yet switched to
  std::vector<std::string> names_;      // SetName's, or empty
  std::function<std::string(uint64_t)> value_namer_;
  uint64_t switches_ = 0;
  bool resettable_ = false;  // made by the routine constructor, with a snapshot to Reset to
};

}  // namespace switchyard::xv6

#endif  // SWITCHYARD_KERNEL_MODELS_XV6_SWTCH_EMU_H_
