#include "kernel_models/switch/switch_routine.h"

#include <unicorn/unicorn.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arch/emu/machine.h"
#include "base/check.h"

namespace switchyard::switch_routine {
namespace {

// Constants shared with harness/harness.h (the harness's contract).
constexpr int kContexts = 4;
constexpr uint64_t kStackBytes = 8192;
constexpr uint64_t kHcChoose = 0x5301, kHcFail = 0x5302, kHcReady = 0x5303, kHcHalt = 0x5304;
constexpr uint64_t kSigSetmask = 2, kSigBlock = 0, kSigUnblock = 1;
// SIGKILL (9) and SIGSTOP (19) cannot be blocked: the kernel drops them from every mask.
constexpr uint64_t kUnblockable = (1ull << 8) | (1ull << 18);
constexpr uint64_t SigMask(int context) {
  return (1ull << (2 + context)) | (1ull << (11 + 2 * context));
}
static_assert((SigMask(0) & kUnblockable) == 0 && (SigMask(kContexts - 1) & kUnblockable) == 0);
// The frame an asynchronous signal writes below the red zone (x86-64's rt_sigframe with its
// xsave area is about this size).
constexpr uint64_t kSignalFrameBytes = 1024;
// Instructions a run may take per switch before it counts as a hang.
constexpr uint64_t kInstructionsPerSwitch = 20'000;
constexpr uint64_t kSetupInstructions = 100'000;

thread_local uint64_t last_run_instructions = 0;
thread_local uint64_t last_run_switches = 0;

struct Reg {
  const char* name;
  int id;
};

// What the model needs to know of an architecture's calling convention.
struct Abi {
  emu::Isa isa;
  uint64_t memory_base, memory_size;
  uint64_t word_bytes;
  int sp;
  std::vector<Reg> callee_saved;  // without sp
  std::vector<Reg> junk_before;   // caller-saved registers that are not the call's arguments
  std::vector<Reg> junk_after;    // caller-saved registers that are not its results
  Reg args[4];                    // hypercall and system call arguments
  int result;
  uint64_t entry_offset;  // at a function's entry, (sp + entry_offset) % 16 == 0
  uint64_t red_zone;
  uint64_t sigprocmask;      // the rt_sigprocmask system call's number
  uint64_t old_sigprocmask;  // i386's sigprocmask (32-bit sets); 0 if none
  bool x87;                  // the x87 control word is callee-saved
  bool mxcsr;                // and MXCSR's control bits
  int return_address_reg;    // -1: the return address is on the stack
  const char* alignment_rule;
  std::vector<Reg> dump;  // registers in a fault report
};

const Abi& AbiOf(Arch arch) {
  static const Abi x86_64 = {
      emu::Isa::kX86_64,
      0x10000,
      0x40000,
      8,
      UC_X86_REG_RSP,
      {{"rbx", UC_X86_REG_RBX},
       {"rbp", UC_X86_REG_RBP},
       {"r12", UC_X86_REG_R12},
       {"r13", UC_X86_REG_R13},
       {"r14", UC_X86_REG_R14},
       {"r15", UC_X86_REG_R15}},
      {{"rcx", UC_X86_REG_RCX},
       {"rdx", UC_X86_REG_RDX},
       {"r8", UC_X86_REG_R8},
       {"r9", UC_X86_REG_R9},
       {"r10", UC_X86_REG_R10},
       {"r11", UC_X86_REG_R11}},
      {{"rcx", UC_X86_REG_RCX},
       {"rsi", UC_X86_REG_RSI},
       {"rdi", UC_X86_REG_RDI},
       {"r8", UC_X86_REG_R8},
       {"r9", UC_X86_REG_R9},
       {"r10", UC_X86_REG_R10},
       {"r11", UC_X86_REG_R11}},
      {{"rdi", UC_X86_REG_RDI},
       {"rsi", UC_X86_REG_RSI},
       {"rdx", UC_X86_REG_RDX},
       {"r10", UC_X86_REG_R10}},
      UC_X86_REG_RAX,
      8,
      128,
      14,
      0,
      true,
      true,
      -1,
      "(rsp + 8) % 16 == 0",
      {{"rax", UC_X86_REG_RAX},
       {"rbx", UC_X86_REG_RBX},
       {"rcx", UC_X86_REG_RCX},
       {"rdx", UC_X86_REG_RDX},
       {"rsi", UC_X86_REG_RSI},
       {"rdi", UC_X86_REG_RDI},
       {"rbp", UC_X86_REG_RBP},
       {"rsp", UC_X86_REG_RSP},
       {"r8", UC_X86_REG_R8},
       {"r9", UC_X86_REG_R9},
       {"r10", UC_X86_REG_R10},
       {"r11", UC_X86_REG_R11},
       {"r12", UC_X86_REG_R12},
       {"r13", UC_X86_REG_R13},
       {"r14", UC_X86_REG_R14},
       {"r15", UC_X86_REG_R15},
       {"rip", UC_X86_REG_RIP}},
  };
  static const Abi i386 = {
      emu::Isa::kI386,
      0x10000,
      0x40000,
      4,
      UC_X86_REG_ESP,
      {{"ebx", UC_X86_REG_EBX},
       {"esi", UC_X86_REG_ESI},
       {"edi", UC_X86_REG_EDI},
       {"ebp", UC_X86_REG_EBP}},
      {{"ecx", UC_X86_REG_ECX}, {"edx", UC_X86_REG_EDX}},
      {{"ecx", UC_X86_REG_ECX}},
      {{"ebx", UC_X86_REG_EBX},
       {"ecx", UC_X86_REG_ECX},
       {"edx", UC_X86_REG_EDX},
       {"esi", UC_X86_REG_ESI}},
      UC_X86_REG_EAX,
      4,
      0,
      175,
      126,
      true,
      false,
      -1,
      "(esp + 4) % 16 == 0",
      {{"eax", UC_X86_REG_EAX},
       {"ebx", UC_X86_REG_EBX},
       {"ecx", UC_X86_REG_ECX},
       {"edx", UC_X86_REG_EDX},
       {"esi", UC_X86_REG_ESI},
       {"edi", UC_X86_REG_EDI},
       {"ebp", UC_X86_REG_EBP},
       {"esp", UC_X86_REG_ESP},
       {"eip", UC_X86_REG_EIP}},
  };
  static const Abi riscv64 = {
      emu::Isa::kRiscv64,
      0x80000000,
      0x40000,
      8,
      UC_RISCV_REG_SP,
      {{"s0", UC_RISCV_REG_S0},   {"s1", UC_RISCV_REG_S1},     {"s2", UC_RISCV_REG_S2},
       {"s3", UC_RISCV_REG_S3},   {"s4", UC_RISCV_REG_S4},     {"s5", UC_RISCV_REG_S5},
       {"s6", UC_RISCV_REG_S6},   {"s7", UC_RISCV_REG_S7},     {"s8", UC_RISCV_REG_S8},
       {"s9", UC_RISCV_REG_S9},   {"s10", UC_RISCV_REG_S10},   {"s11", UC_RISCV_REG_S11},
       {"fs0", UC_RISCV_REG_FS0}, {"fs1", UC_RISCV_REG_FS1},   {"fs2", UC_RISCV_REG_FS2},
       {"fs3", UC_RISCV_REG_FS3}, {"fs4", UC_RISCV_REG_FS4},   {"fs5", UC_RISCV_REG_FS5},
       {"fs6", UC_RISCV_REG_FS6}, {"fs7", UC_RISCV_REG_FS7},   {"fs8", UC_RISCV_REG_FS8},
       {"fs9", UC_RISCV_REG_FS9}, {"fs10", UC_RISCV_REG_FS10}, {"fs11", UC_RISCV_REG_FS11}},
      {{"t1", UC_RISCV_REG_T1},
       {"t2", UC_RISCV_REG_T2},
       {"a2", UC_RISCV_REG_A2},
       {"a3", UC_RISCV_REG_A3},
       {"a4", UC_RISCV_REG_A4},
       {"a5", UC_RISCV_REG_A5},
       {"a6", UC_RISCV_REG_A6},
       {"a7", UC_RISCV_REG_A7}},
      {{"t0", UC_RISCV_REG_T0},
       {"t1", UC_RISCV_REG_T1},
       {"t2", UC_RISCV_REG_T2},
       {"a2", UC_RISCV_REG_A2},
       {"a3", UC_RISCV_REG_A3},
       {"a4", UC_RISCV_REG_A4},
       {"a5", UC_RISCV_REG_A5}},
      {{"a0", UC_RISCV_REG_A0},
       {"a1", UC_RISCV_REG_A1},
       {"a2", UC_RISCV_REG_A2},
       {"a3", UC_RISCV_REG_A3}},
      UC_RISCV_REG_A0,
      0,
      0,
      135,
      0,
      false,
      false,
      UC_RISCV_REG_RA,
      "sp % 16 == 0",
      {{"ra", UC_RISCV_REG_RA},
       {"sp", UC_RISCV_REG_SP},
       {"s0", UC_RISCV_REG_S0},
       {"s1", UC_RISCV_REG_S1},
       {"a0", UC_RISCV_REG_A0},
       {"a1", UC_RISCV_REG_A1},
       {"a2", UC_RISCV_REG_A2},
       {"t0", UC_RISCV_REG_T0},
       {"pc", UC_RISCV_REG_PC}},
  };
  switch (arch) {
    case Arch::kX86_64:
      return x86_64;
    case Arch::kI386:
      return i386;
    case Arch::kRiscv64:
      return riscv64;
  }
  return x86_64;
}

// Per context, what the host knows of it.
struct Context {
  bool created = false;  // made by the convention's create function (or context 0)
  bool started = false;  // has run
  bool suspended = false;
  uint64_t area = 0, area_bytes = 0;       // save area (0 bytes: state on the stack)
  uint64_t stack_base = 0, stack_top = 0;  // [base, top)
  uint64_t protect_low = 0;                // while suspended: [protect_low, stack_top)
  // The checked call in flight: what the context had at sy_before_call.
  bool calling = false;
  uint64_t call_sp = 0;
  std::vector<uint64_t> values;
  uint64_t fpcw = 0, mxcsr = 0;
};

class Model : public sim::Machine {
 public:
  Model(const Config& config, sim::Simulator& sim)
      : config_(config),
        abi_(AbiOf(config.routine->arch)),
        sim_(sim),
        elf_(*config.routine->image),
        cpu_(abi_.isa, elf_, abi_.memory_base, abi_.memory_size),
        next_(sim.decider().Stream("switch.next")),
        signal_(sim.decider().Stream("switch.signal")) {
    before_call_ = Symbol("sy_before_call");
    after_call_ = Symbol("sy_after_call");
    entry_ = Symbol("sy_entry");
    target_ = Symbol("sy_target");
    uint64_t layout = Symbol("sy_layout");
    const uint64_t w = abi_.word_bytes;
    uint64_t area0 = Word(layout), stride = Word(layout + w);
    uint64_t stacks = Word(layout + 2 * w);
    SY_CHECK(Word(layout + 3 * w) == kStackBytes);
    for (int i = 0; i < kContexts; ++i) {
      Context& c = contexts_[i];
      c.area_bytes = stride;
      c.area = stride == 0 ? 0 : area0 + stride * static_cast<uint64_t>(i);
      c.stack_base = stacks + kStackBytes * static_cast<uint64_t>(i);
      c.stack_top = c.stack_base + kStackBytes;
      c.protect_low = c.stack_top;
    }
    contexts_[0].created = contexts_[0].started = true;
    if (const emu::Symbol* s = elf_.FindSymbol(config.routine->routine_symbol)) routine_ = s;
    cpu_.SetReg(abi_.sp, contexts_[0].stack_top);
    uint64_t thread_pointer = abi_.memory_base + abi_.memory_size - 0x800;
    if (abi_.isa == emu::Isa::kX86_64) {
      // A thread pointer for the TLS and stack-protector accesses of real libc code.
      cpu_.SetReg(UC_X86_REG_FS_BASE, thread_pointer);
    } else if (abi_.isa == emu::Isa::kI386) {
      // i386 glibc makes system calls through `call *%gs:0x10` (the vDSO's entry): point it at
      // the harness's `int $0x80; ret`.
      SetGsBase(thread_pointer);
      cpu_.Write32(thread_pointer + 0x10, static_cast<uint32_t>(Symbol("sy_vsyscall")));
    } else {
      cpu_.SetReg(UC_RISCV_REG_TP, thread_pointer);
      // The floating-point unit on (mstatus.FS = initial): glibc saves fs0-fs11.
      cpu_.SetReg(UC_RISCV_REG_MSTATUS, cpu_.Reg(UC_RISCV_REG_MSTATUS) | (1ull << 13));
    }
    cpu_.SetStepHook([this](uint64_t pc) { OnStep(pc); });
    cpu_.AddMemoryHook(stacks, stacks + kContexts * kStackBytes, false,
                       [this](uint64_t a, int size, bool) { OnStore(a, size); });
    if (stride != 0) {
      cpu_.AddMemoryHook(area0, area0 + kContexts * stride, false,
                         [this](uint64_t a, int size, bool) { OnStore(a, size); });
    }
    if (config.strict) {
      cpu_.AddMemoryHook(abi_.memory_base, abi_.memory_base + abi_.memory_size, true,
                         [this](uint64_t a, int size, bool store) { OnAccess(a, size, store); });
    }
    fiber_ = sim.CreateFiber("cpu0", &Model::Main, this);
    sim.SetBootFiber(0, fiber_);
    sim.SetMachine(this);
  }

  void Trap(int, int) override {}
  // 32-bit x86 has no writable GS base: a GDT with a flat data segment (for ss, ds, es, as
  // Unicorn's own sample reloads them) and a data segment based at `base`, gs loaded with it.
  // The emulator starts at privilege level 0, so both are DPL 0.
  static uint64_t Descriptor(uint64_t base) {
    uint64_t d = 0xffff;               // limit 0..15
    d |= (base & 0xffffff) << 16;      // base 0..23
    d |= uint64_t{0x92} << 40;         // present, DPL 0, data, read/write
    d |= uint64_t{0xf} << 48;          // limit 16..19
    d |= uint64_t{0xc} << 52;          // 4 KiB granularity, 32-bit
    d |= ((base >> 24) & 0xff) << 56;  // base 24..31
    return d;
  }
  void SetGsBase(uint64_t base) {
    uint64_t gdt = base - 0x100;
    cpu_.Write64(gdt, 0);
    cpu_.Write64(gdt + 8, Descriptor(0));
    cpu_.Write64(gdt + 16, Descriptor(base));
    cpu_.SetTable(UC_X86_REG_GDTR, gdt, 24 - 1);
    cpu_.SetReg(UC_X86_REG_SS, 0x08);
    cpu_.SetReg(UC_X86_REG_DS, 0x08);
    cpu_.SetReg(UC_X86_REG_ES, 0x08);
    cpu_.SetReg(UC_X86_REG_GS, 0x10);
  }
  std::string DescribeStuck() override {
    return absl::StrCat("the emulated CPU is at ", cpu_.Where(cpu_.pc()));
  }

 private:
  static void Main(void* self) { static_cast<Model*>(self)->Loop(); }

  uint64_t Symbol(const char* name) {
    std::optional<uint64_t> address = elf_.Find(name);
    SY_CHECK(address.has_value());
    return *address;
  }
  uint64_t Word(uint64_t address) const {
    if (abi_.isa == emu::Isa::kI386) return cpu_.Mapped(address, 4) ? cpu_.Read32(address) : 0;
    return cpu_.Mapped(address, 8) ? cpu_.Read64(address) : 0;
  }
  uint64_t R(int reg) const { return cpu_.Reg(reg); }
  uint64_t Sp() const { return R(abi_.sp); }

  void Loop() {
    for (;;) {
      uint64_t budget = kSetupInstructions + kInstructionsPerSwitch * (config_.switches + 1);
      if (cpu_.instructions() >= budget) {
        std::string message =
            absl::StrCat("the run did not finish in ", budget, " instructions (", switches_,
                         " switches done); the CPU is at ", At(cpu_.pc()), InSwitchNote());
        sim_.FailLiveness("switch-progress", std::move(message));
      }
      emu::StopReason why = cpu_.Run(budget - cpu_.instructions());
      last_run_instructions = cpu_.instructions();
      last_run_switches = switches_;
      if (!violation_.empty()) sim_.Fail(violated_, violation_);
      switch (why) {
        case emu::StopReason::kFault: {
          // Fail() never returns: every string it gets is built first and moved in.
          std::string message = absl::StrCat("the emulated CPU faulted: ", cpu_.fault(), "; ",
                                             At(cpu_.current_instruction()), InSwitchNote(),
                                             "; registers: ", RegisterDump());
          sim_.Fail("no-cpu-fault", std::move(message));
        }
        case emu::StopReason::kStopped:
        case emu::StopReason::kCountExhausted:
          break;
        case emu::StopReason::kHypercall:
          Hypercall();
          if (!violation_.empty()) sim_.Fail(violated_, violation_);
          break;
      }
      sim_.Point();
    }
  }

  // "sy_swap+12 (movq (%rsi), %rsp)"
  std::string At(uint64_t pc) const {
    return absl::StrCat(cpu_.Where(pc), " (", cpu_.Disassemble(pc), ")");
  }

  std::string InSwitchNote() const {
    if (!switching_) return "";
    return absl::StrFormat(", inside the switch from context %d to context %d", from_, to_);
  }

  std::string RegisterDump() const {
    std::string out;
    for (const Reg& r : abi_.dump) {
      absl::StrAppendFormat(&out, "%s%s=%#x", out.empty() ? "" : " ", r.name, R(r.id));
    }
    return out;
  }

  void Violation(const char* invariant, std::string message) {
    if (!violation_.empty()) return;
    violated_ = invariant;
    violation_ = std::move(message);
    cpu_.Stop();
  }

  void Hypercall() {
    uint64_t number = cpu_.hypercall();
    uint64_t a = R(abi_.args[0].id), b = R(abi_.args[1].id);
    if (number == kHcChoose) {
      if (switches_ >= config_.switches) {
        sim_.Note("switch.done", switches_);
        sim_.Finish();
      }
      uint64_t value = a == 0 ? 0 : sim_.decider().Choose(next_, static_cast<uint32_t>(a));
      cpu_.SetReg(abi_.result, value);
      sim_.NoteProgress();
    } else if (number == kHcReady) {
      OnReady();
    } else if (number == kHcFail) {
      if (a == 0xffff) {
        Violation("new-context-entry",
                  absl::StrFormat("context %d returned from its entry function: the convention's "
                                  "return path called exit(%d)",
                                  current_, static_cast<int>(b)));
      } else if (a == 0xfffe) {
        Violation("context-self-check",
                  absl::StrFormat("context %d: the stack protector's canary changed", current_));
      } else {
        Violation("context-self-check",
                  absl::StrFormat("context %d: local[%d] on its stack changed across the switch "
                                  "(last switch: context %d to %d)",
                                  static_cast<int>(a), static_cast<int>(b), from_, to_));
      }
    } else if (number == kHcHalt) {
      sim_.Finish();
    } else if (number == abi_.sigprocmask) {
      SigProcMask(8);
    } else if (abi_.old_sigprocmask != 0 && number == abi_.old_sigprocmask) {
      SigProcMask(4);
    } else {
      Violation("no-cpu-fault", absl::StrFormat("unknown system call or hypercall %d at %s%s",
                                                static_cast<int64_t>(number),
                                                At(cpu_.current_instruction()), InSwitchNote()));
    }
  }

  // rt_sigprocmask(how, set, oldset, sigsetsize) (set_bytes 8) or i386's sigprocmask(how, set,
  // oldset) (set_bytes 4: the low 32 signals), as the kernel serves them.
  void SigProcMask(uint64_t set_bytes) {
    uint64_t how = R(abi_.args[0].id), set = R(abi_.args[1].id), old = R(abi_.args[2].id);
    uint64_t size = set_bytes == 8 ? R(abi_.args[3].id) : 8;
    if (size != 8) {
      cpu_.SetReg(abi_.result, static_cast<uint64_t>(-22));  // EINVAL
      return;
    }
    if (old != 0) {
      if (!cpu_.Mapped(old, 8)) return cpu_.SetReg(abi_.result, static_cast<uint64_t>(-14));
      if (set_bytes == 8) {
        cpu_.Write64(old, mask_);
      } else {
        cpu_.Write32(old, static_cast<uint32_t>(mask_));
      }
    }
    if (set != 0) {
      if (!cpu_.Mapped(set, 8)) return cpu_.SetReg(abi_.result, static_cast<uint64_t>(-14));
      uint64_t value = set_bytes == 8 ? cpu_.Read64(set) : cpu_.Read32(set);
      if (set_bytes == 4 && how == kSigSetmask) value |= mask_ & ~0xffffffffull;
      if (how == kSigSetmask) {
        mask_ = value;
      } else if (how == kSigBlock) {
        mask_ |= value;
      } else if (how == kSigUnblock) {
        mask_ &= ~value;
      } else {
        return cpu_.SetReg(abi_.result, static_cast<uint64_t>(-22));
      }
      mask_ &= ~kUnblockable;
    }
    cpu_.SetReg(abi_.result, 0);
  }

  void OnReady() {
    ready_ = true;
    for (int i = 1; i < kContexts; ++i) {
      Context& c = contexts_[i];
      c.created = true;
      c.suspended = true;
      c.protect_low = std::min(c.protect_low, setup_low_[i]);
    }
  }

  int StackOwner(uint64_t address) const {
    for (int i = 0; i < kContexts; ++i) {
      if (address >= contexts_[i].stack_base && address < contexts_[i].stack_top) return i;
    }
    return -1;
  }
  int AreaOwner(uint64_t address) const {
    for (int i = 0; i < kContexts; ++i) {
      const Context& c = contexts_[i];
      if (c.area_bytes != 0 && address >= c.area && address < c.area + c.area_bytes) return i;
    }
    return -1;
  }

  // "context 2's save area +0x8" or "context 1's stack (top - 0x40)" or a symbol.
  std::string DescribeAddress(uint64_t address) const {
    if (int i = AreaOwner(address); i >= 0) {
      return absl::StrFormat("context %d's save area +%#x", i, address - contexts_[i].area);
    }
    if (int i = StackOwner(address); i >= 0) {
      return absl::StrFormat("context %d's stack (top - %#x)", i, contexts_[i].stack_top - address);
    }
    return cpu_.Where(address);
  }

  // Every store into the stacks and save areas.
  void OnStore(uint64_t address, int size) {
    if (!ready_) {
      int i = StackOwner(address);
      if (i > 0) setup_low_[i] = std::min(setup_low_[i], address);
      return;
    }
    for (int i = 0; i < kContexts; ++i) {
      const Context& c = contexts_[i];
      if (!c.suspended || (switching_ && i == to_)) continue;
      uint64_t end = address + static_cast<uint64_t>(size);
      bool in_area = c.area_bytes != 0 && address < c.area + c.area_bytes && end > c.area;
      bool in_stack = address < c.stack_top && end > c.protect_low;
      if (!in_area && !in_stack) continue;
      Violation("suspended-state-unchanged",
                absl::StrFormat("%s wrote %d bytes at %#x, %s, while context %d was suspended "
                                "(running: context %d%s)",
                                At(cpu_.current_instruction()), size, address,
                                DescribeAddress(address), i, current_, InSwitchNote()));
      return;
    }
  }

  void OnAccess(uint64_t address, int size, bool store) {
    if (size <= 1 || address % static_cast<uint64_t>(size) == 0) return;
    Violation("strict-alignment",
              absl::StrFormat("%s %s %d bytes at %#x (%s), not %d-byte aligned%s",
                              At(cpu_.current_instruction()), store ? "stored" : "loaded", size,
                              address, DescribeAddress(address), size, InSwitchNote()));
  }

  void OnStep(uint64_t pc) {
    if (pc == before_call_) {
      OnBeforeCall();
    } else if (pc == after_call_) {
      OnAfterCall();
    } else if (pc == entry_) {
      OnEntry();
    }
    if (!switching_ || !violation_.empty()) return;
    uint64_t sp = Sp();
    if (StackOwner(sp) == from_ || StackOwner(sp - 1) == from_) min_sp_ = std::min(min_sp_, sp);
    if (++in_switch_ == signal_at_) DeliverSignal(pc);
  }

  // The host's values for context c's callee-saved registers at its switch number n.
  uint64_t Marker(int reg, int c, uint64_t n) const {
    if (abi_.word_bytes == 4) {
      return (0x51ull + static_cast<uint64_t>(reg)) << 24 | static_cast<uint64_t>(c + 1) << 20 |
             (n & 0xfffff);
    }
    return (0x5100ull + static_cast<uint64_t>(reg)) << 48 | static_cast<uint64_t>(c + 1) << 40 |
           (n & 0xffffffffffull);
  }
  static uint64_t Fpcw(int c, uint64_t n) {
    return 0x037f | ((static_cast<uint64_t>(c) + n) & 3) << 10;  // rounding control varies
  }
  static uint64_t Mxcsr(int c, uint64_t n) {
    return 0x1f80 | ((static_cast<uint64_t>(c) + n) & 3) << 13 | (c & 1 ? 0x8040 : 0);
  }

  void OnBeforeCall() {
    int target = static_cast<int>(Word(target_));
    if (target < 0 || target >= kContexts || target == current_) {
      Violation("switch-reaches-target",
                absl::StrFormat("the harness asked context %d to switch to %d", current_, target));
      return;
    }
    Context& c = contexts_[current_];
    ++calls_;
    c.calling = true;
    c.call_sp = Sp();
    c.values.clear();
    for (size_t r = 0; r < abi_.callee_saved.size(); ++r) {
      uint64_t v = Marker(static_cast<int>(r), current_, calls_);
      c.values.push_back(v);
      cpu_.SetReg(abi_.callee_saved[r].id, v);
    }
    if (abi_.x87) {
      c.fpcw = Fpcw(current_, calls_);
      cpu_.SetReg(UC_X86_REG_FPCW, c.fpcw);
    }
    if (abi_.mxcsr) {
      c.mxcsr = Mxcsr(current_, calls_);
      cpu_.SetReg(UC_X86_REG_MXCSR, c.mxcsr);
    }
    for (size_t r = 0; r < abi_.junk_before.size(); ++r) {
      cpu_.SetReg(abi_.junk_before[r].id, 0xbad0000000000000ull | calls_ << 8 | r);
    }
    switching_ = true;
    from_ = current_;
    to_ = target;
    min_sp_ = c.call_sp;
    in_switch_ = 0;
    signal_at_ = config_.signals ? sim_.decider().Choose(signal_, config_.signal_window + 1) : 0;
    sim_.Note("switch.call", static_cast<uint64_t>(from_), static_cast<uint64_t>(to_));
  }

  void OnAfterCall() {
    uint64_t sp = Sp();
    int resumed = -1;
    for (int i = 0; i < kContexts; ++i) {
      if (contexts_[i].calling && contexts_[i].call_sp == sp) resumed = i;
    }
    if (resumed < 0) {
      Violation("callee-saved-preserved",
                absl::StrFormat("the switch from context %d to context %d returned with "
                                "sp=%#x (%s), where no context called it: the stack pointer "
                                "was not restored%s",
                                from_, to_, sp, DescribeAddress(sp),
                                RoutineNote(abi_.isa == emu::Isa::kI386 ? "esp" : "rsp")));
      return;
    }
    if (resumed != to_) {
      Violation(
          "switch-reaches-target",
          absl::StrFormat("the switch from context %d to context %d resumed context %d%s", from_,
                          to_, resumed, resumed == from_ ? " (no switch at all)" : ""));
      return;
    }
    Context& c = contexts_[resumed];
    for (size_t r = 0; r < abi_.callee_saved.size(); ++r) {
      uint64_t now = R(abi_.callee_saved[r].id);
      if (now == c.values[r]) continue;
      Violation("callee-saved-preserved",
                absl::StrFormat("context %d: %s was %#x when it called %s and is %#x when the "
                                "call returned%s%s",
                                resumed, abi_.callee_saved[r].name, c.values[r], RoutineName(), now,
                                OwnerOfValue(now), RoutineNote(abi_.callee_saved[r].name)));
      return;
    }
    if (abi_.x87) {
      uint64_t fpcw = R(UC_X86_REG_FPCW) & 0x1f3f;
      if (fpcw != (c.fpcw & 0x1f3f)) {
        Violation(
            "callee-saved-preserved",
            absl::StrFormat("context %d: the x87 control word was %#06x when it called %s "
                            "and is %#06x when the call returned (the ABI makes it "
                            "callee-saved)%s",
                            resumed, c.fpcw & 0x1f3f, RoutineName(), fpcw, RoutineNote("fnstcw")));
        return;
      }
    }
    if (abi_.mxcsr) {
      uint64_t mxcsr = R(UC_X86_REG_MXCSR) & 0xffc0;
      if (mxcsr != (c.mxcsr & 0xffc0)) {
        Violation("callee-saved-preserved",
                  absl::StrFormat("context %d: MXCSR's control bits were %#06x when it called %s "
                                  "and are %#06x when the call returned (the ABI makes them "
                                  "callee-saved)%s",
                                  resumed, c.mxcsr & 0xffc0, RoutineName(), mxcsr,
                                  RoutineNote("stmxcsr")));
        return;
      }
    }
    c.calling = false;
    Complete(resumed);
    for (size_t r = 0; r < abi_.junk_after.size(); ++r) {
      cpu_.SetReg(abi_.junk_after[r].id, 0xbad1000000000000ull | calls_ << 8 | r);
    }
  }

  void OnEntry() {
    uint64_t sp = Sp();
    int k = switching_ ? to_ : current_;
    Context& c = contexts_[k];
    if (c.started) {
      Violation("new-context-entry",
                absl::StrFormat("context %d entered its entry function a second time%s", k,
                                InSwitchNote()));
      return;
    }
    if ((sp + abi_.entry_offset) % 16 != 0) {
      Violation("new-context-entry",
                absl::StrFormat("context %d entered %s with sp=%#x: %s does not hold (it is "
                                "%d), the first frame the create function built is misaligned or "
                                "a word off%s",
                                k, cpu_.Where(entry_), sp, abi_.alignment_rule,
                                static_cast<int>((sp + abi_.entry_offset) % 16), InSwitchNote()));
      return;
    }
    if (StackOwner(sp - 1) != k) {  // sp - 1: an empty stack's sp is its top
      Violation("new-context-entry",
                absl::StrFormat("context %d entered %s with sp=%#x, %s, not on its own stack", k,
                                cpu_.Where(entry_), sp, DescribeAddress(sp)));
      return;
    }
    uint64_t ret = abi_.return_address_reg >= 0 ? R(abi_.return_address_reg) : Word(sp);
    if (const emu::Symbol* f = elf_.FunctionAt(ret); f != nullptr && IsHarness(f->name)) {
      Violation("new-context-entry",
                absl::StrFormat("context %d entered %s with return address %#x = %s: returning "
                                "from the entry function would run the harness's code",
                                k, cpu_.Where(entry_), ret, cpu_.Where(ret)));
      return;
    }
    Complete(k);
  }

  static bool IsHarness(const std::string& name) {
    return name.rfind("sy_", 0) == 0 && name != "sy_swap" && name != "sy_make";
  }

  // The switch in flight ended in context k.
  void Complete(int k) {
    Context& from = contexts_[from_];
    from.suspended = true;
    from.protect_low = std::min(min_sp_, from.stack_top);
    Context& to = contexts_[k];
    bool first = !to.started;
    to.suspended = false;
    to.started = true;
    to.protect_low = to.stack_top;
    current_ = k;
    switching_ = false;
    ++switches_;
    if (config_.routine->convention == Convention::kUcontext && mask_ != SigMask(k)) {
      Violation("signal-mask-per-context",
                absl::StrFormat("context %d runs with signal mask %#x after the switch from "
                                "context %d, but it was %s with %#x%s",
                                k, mask_, from_, first ? "created" : "saved", SigMask(k),
                                mask_ == ~kUnblockable ? " (every signal blocked)" : ""));
    }
  }

  // An asynchronous signal before the instruction at pc: the kernel writes its frame below the
  // red zone on the current stack, runs the handler (which returns at once) and sigreturns.
  void DeliverSignal(uint64_t pc) {
    ++signals_;
    uint64_t sp = Sp();
    uint64_t top = sp - abi_.red_zone;
    uint64_t frame = (top - kSignalFrameBytes) & ~uint64_t{63};
    int owner = StackOwner(sp - 1);
    bool fits = owner >= 0 && frame >= contexts_[owner].stack_base;
    bool running = owner == from_ || owner == to_;
    if (!fits || !running) {
      std::string what = DescribeAddress(AreaOwner(sp) >= 0 ? sp : sp - 1);
      std::string below = cpu_.Mapped(frame, kSignalFrameBytes)
                              ? absl::StrCat(" and overwrite ", DescribeAddress(frame), " up to ",
                                             DescribeAddress(top - 1))
                              : " outside memory";
      Violation("signal-frame-on-stack",
                absl::StrFormat("a signal at %s in the switch from context %d to context %d "
                                "finds sp=%#x pointing into %s, not the running context's "
                                "stack: its frame would go at [%#x, %#x)%s",
                                At(pc), from_, to_, sp, what, frame, top, below));
      return;
    }
    sim_.Note("switch.signal", pc, sp);
    std::vector<uint8_t> bytes(kSignalFrameBytes, 0x5a);
    cpu_.WriteBytes(frame, bytes.data(), bytes.size());
  }

  std::string RoutineName() const { return config_.routine->routine_symbol; }

  // " (the value context 2 had)" when a register came back with another context's marker.
  std::string OwnerOfValue(uint64_t value) const {
    uint64_t c = (value >> 40) & 0xff;
    if (abi_.word_bytes == 4) {
      if ((value >> 24) < 0x51 || (value >> 24) > 0x5f) return "";
      c = (value >> 20) & 0xf;
    } else if ((value >> 48) < 0x5100 || (value >> 48) > 0x5120) {
      return "";
    }
    if (c == 0 || c > kContexts) return "";
    return absl::StrFormat(" (a value context %d had)", static_cast<int>(c - 1));
  }

  // What the routine's code does with a register, read with the disassembler: " (sy_swap has
  // no instruction that mentions r15)".
  std::string RoutineNote(const char* reg) const {
    if (routine_ == nullptr || routine_->size == 0 || abi_.isa == emu::Isa::kRiscv64) return "";
    int mentions = 0;
    for (uint64_t a = routine_->address; a < routine_->address + routine_->size;) {
      if (cpu_.Disassemble(a).find(reg) != std::string::npos) ++mentions;
      a += cpu_.InstructionLength(a);
    }
    if (mentions > 0) return "";
    return absl::StrFormat("; %s has no instruction that mentions %s", routine_->name, reg);
  }

  const Config& config_;
  const Abi& abi_;
  sim::Simulator& sim_;
  emu::Elf elf_;
  emu::Machine cpu_;
  sim::StreamId next_, signal_;
  sim::Fiber* fiber_ = nullptr;
  const emu::Symbol* routine_ = nullptr;
  uint64_t before_call_ = 0, after_call_ = 0, entry_ = 0, target_ = 0;
  Context contexts_[kContexts];
  uint64_t setup_low_[kContexts] = {~0ull, ~0ull, ~0ull, ~0ull};
  bool ready_ = false;
  int current_ = 0;
  bool switching_ = false;
  int from_ = 0, to_ = 0;
  uint64_t min_sp_ = 0;
  uint64_t in_switch_ = 0, signal_at_ = 0;
  uint64_t calls_ = 0, switches_ = 0, signals_ = 0;
  uint64_t mask_ = 0;
  const char* violated_ = "";
  std::string violation_;
};

}  // namespace

const char* ArchName(Arch arch) {
  switch (arch) {
    case Arch::kX86_64:
      return "x86_64";
    case Arch::kI386:
      return "i386";
    case Arch::kRiscv64:
      return "riscv64";
  }
  return "?";
}

const char* ConventionName(Convention convention) {
  switch (convention) {
    case Convention::kSwap:
      return "swap";
    case Convention::kFcontext:
      return "fcontext";
    case Convention::kUcontext:
      return "ucontext";
  }
  return "?";
}

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after) {
  SY_CHECK(config.routine != nullptr);
  options.cpus = 1;
  // Unicorn's translator and its hooks run on the fiber's stack.
  options.stack_bytes = std::max<size_t>(options.stack_bytes, 1 << 20);
  sim::Simulator simulator(options, decider);
  Model model(config, simulator);
  sim::Outcome outcome = simulator.Run();
  if (after) after(simulator);
  return outcome;
}

uint64_t LastRunInstructions() { return last_run_instructions; }
uint64_t LastRunSwitches() { return last_run_switches; }

std::vector<std::string> InvariantNames() {
  return {"callee-saved-preserved", "switch-reaches-target",
          "new-context-entry",      "suspended-state-unchanged",
          "signal-frame-on-stack",  "signal-mask-per-context",
          "context-self-check",     "strict-alignment",
          "no-cpu-fault",           "switch-progress"};
}

}  // namespace switchyard::switch_routine
