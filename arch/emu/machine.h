// Machine: one emulated CPU (Unicorn) running a cross-compiled program (an Elf) with a fixed
// memory layout, one instruction at a time when the caller needs it.
//
// Deterministic by construction: Unicorn is started without a timeout (no wall clock); runs are
// bounded by instruction counts only; memory is one fixed region zero-filled before the program
// is copied in; page 0 stays unmapped so a null dereference faults.
//
// Hypercalls: the program asks the host for something with `int $0x80` (i386, x86-64),
// `syscall` (x86-64) or `ecall` (RISC-V), number in eax/rax/a7. Run() stops right after the
// instruction with kHypercall; the caller reads and writes registers and calls Run() again. On
// x86-64 both instructions are hypercalls, so that a real libc's system calls (glibc's
// swapcontext calls rt_sigprocmask) are served by the host like the program's own requests.
//
// A code hook (SetStepHook) is called before every instruction with its address; it may call
// Stop() so that Run() returns kStopped before that instruction executes.
#ifndef SWITCHYARD_ARCH_EMU_MACHINE_H_
#define SWITCHYARD_ARCH_EMU_MACHINE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "arch/emu/elf_image.h"

struct uc_struct;
namespace switchyard::emu {

enum class Isa { kI386, kX86_64, kRiscv64 };

enum class StopReason {
  kCountExhausted,  // ran the number of instructions asked for
  kHypercall,       // executed int $0x80 / ecall; pc is past it
  kStopped,         // the step hook called Stop(); pc is the instruction not yet executed
  kFault,           // the CPU faulted (unmapped memory, invalid instruction); see fault()
};

class Machine {
 public:
  // Maps [memory_base, memory_base + memory_size) read/write/execute and loads `elf` into it.
  // REQUIRES: every segment lies inside that region; memory_base >= 4096.
  Machine(Isa isa, const Elf& elf, uint64_t memory_base, uint64_t memory_size);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  Isa isa() const { return isa_; }
  const Elf& elf() const { return elf_; }

  // Registers by Unicorn id (UC_X86_REG_*, UC_RISCV_REG_*).
  uint64_t Reg(int id) const;
  void SetReg(int id, uint64_t value);
  // A descriptor table register (UC_X86_REG_GDTR): base and limit.
  void SetTable(int id, uint64_t base, uint32_t limit);
  uint64_t pc() const;
  void set_pc(uint64_t value);

  // Memory accesses inside the mapped region. REQUIRES: the range is mapped.
  uint32_t Read32(uint64_t address) const;
  uint64_t Read64(uint64_t address) const;
  void Write32(uint64_t address, uint32_t value);
  void Write64(uint64_t address, uint64_t value);
  bool Mapped(uint64_t address, uint64_t size) const;

  // Runs from pc() for at most `count` instructions (count >= 1).
  StopReason Run(uint64_t count);
  void Stop();
  const std::string& fault() const { return fault_; }
  // Instructions executed since construction.
  uint64_t instructions() const { return instructions_; }
  // The hypercall number (eax / a7) of the last kHypercall stop.
  uint64_t hypercall() const { return hypercall_; }
  // The CPU exception that made the last kHypercall stop: Unicorn reports every one (an ecall
  // or int $0x80, but also an illegal instruction or a division by zero) as an interrupt.
  // ~0u after a syscall instruction (x86-64), which is always one.
  uint32_t interrupt() const { return interrupt_; }

  // Remembers the registers and memory as they are now; Restore() brings them back, with the
  // instruction count, the hooks removed and nothing of the runs in between left over. Only
  // the pages that changed are rewritten, so code Unicorn has translated stays translated: a
  // model that runs one program many times reuses one Machine instead of translating it anew.
  void Snapshot();
  void Restore();

  void SetStepHook(std::function<void(uint64_t address)> hook) { step_hook_ = std::move(hook); }
  // Calls `hook` for every emulated store into [begin, end) (and every load too when
  // `loads` is true) with the address and size, before the access happens. The instruction
  // doing it is current_instruction(). The host's own Write32/Write64 do not call it.
  void AddMemoryHook(uint64_t begin, uint64_t end, bool loads,
                     std::function<void(uint64_t address, int size, bool store)> hook);
  // Inside a memory hook for a store: the value being stored (its low `size` bytes).
  uint64_t store_value() const { return store_value_; }
  // The address of the instruction executing now (inside a hook) or executed last.
  uint64_t current_instruction() const { return current_instruction_; }
  // Copies [address, address + size) out of emulated memory. REQUIRES: the range is mapped.
  void ReadBytes(uint64_t address, void* out, uint64_t size) const;
  void WriteBytes(uint64_t address, const void* bytes, uint64_t size);

  // "mov %ebp,%esp" (AT&T, i386 and x86-64, Capstone) or objdump's text (RISC-V); "?" when
  // unknown.
  std::string Disassemble(uint64_t address) const;
  // The length in bytes of the instruction at `address` (x86, Capstone); 1 if unknown.
  uint64_t InstructionLength(uint64_t address) const;
  // "uthread.c:57": the source line of the instruction at `address`, from a listing built with
  // line tables (cross_program's line_table); "" when unknown.
  std::string SourceLine(uint64_t address) const;
  // "switch_context+12" or a hex address.
  std::string Where(uint64_t address) const;

 private:
  static void OnCode(uc_struct* uc, uint64_t address, uint32_t size, void* self);
  static void OnInterrupt(uc_struct* uc, uint32_t number, void* self);
  static void OnSyscall(uc_struct* uc, void* self);
  static void OnMemory(uc_struct* uc, int type, uint64_t address, int size, int64_t value,
                       void* self);
  void HypercallStop();

  Isa isa_;
  Elf elf_;
  uint64_t memory_base_;
  uint64_t memory_size_;
  uc_struct* uc_ = nullptr;
  size_t capstone_ = 0;
  std::map<uint64_t, std::string> listing_;
  std::map<uint64_t, std::string> lines_;  // instruction address -> "file.c:12"
  std::function<void(uint64_t)> step_hook_;
  struct MemoryHook {
    uint64_t begin, end;
    bool loads;
    std::function<void(uint64_t, int, bool)> hook;
  };
  std::vector<MemoryHook> memory_hooks_;
  bool memory_hook_installed_ = false;
  uint64_t current_instruction_ = 0;
  uint64_t store_value_ = 0;
  uint64_t instructions_ = 0;
  uint64_t remaining_ = 0;
  uint64_t hypercall_ = 0;
  uint32_t interrupt_ = ~0u;
  bool stop_requested_ = false;
  bool hypercall_pending_ = false;
  std::string fault_;
  void* context_ = nullptr;  // uc_context of Snapshot()
  std::vector<uint8_t> snapshot_;
  std::vector<uint8_t> scratch_;
};

}  // namespace switchyard::emu

#endif  // SWITCHYARD_ARCH_EMU_MACHINE_H_
