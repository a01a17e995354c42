// The switch-routine model: a context switch routine (the project's own, glibc's, Boost's or the
// user's), linked into a harness program (harness/) for its architecture, runs instruction by
// instruction in the emulator (arch/emu) under the simulator's decider. The harness creates
// SY_CONTEXTS contexts with the convention's create function and switches among them in the
// order the decider chooses; the host checks every switch against the ABI.
//
// Conventions (what the routine must export; `switchyard list` says the same):
//   swap      void sy_swap(void *from, void *to) saves the running context into from's save
//             area (256 bytes, layout the routine's own) and resumes to's;
//             void sy_make(void *area, void *stack_top, void (*entry)(void)) prepares a new
//             context whose first resume enters entry.
//   fcontext  Boost.Context's transfer_t jump_fcontext(fcontext_t to, void *data) and
//             fcontext_t make_fcontext(void *stack_top, size_t size, void (*fn)(transfer_t)).
//   ucontext  getcontext, makecontext, swapcontext (glibc's shapes and ucontext_t).
//
// Checkers (names as reported):
//   callee-saved-preserved     a context gets back, when its switch returns, the callee-saved
//                              registers it had at the call: x86-64 rbx, rbp, r12-r15, rsp, the
//                              x87 control word and MXCSR's control bits (distinct values per
//                              context and per switch; caller-saved registers hold junk)
//   switch-reaches-target      the switch resumes the context it was asked to resume
//   new-context-entry          a new context enters its function once, with the ABI's stack
//                              alignment ((rsp + 8) % 16 == 0 on x86-64) and a return address
//                              that is not the harness's code; returning from it is reported
//   suspended-state-unchanged  no instruction writes a suspended context's save area or the part
//                              of its stack in use (from the lowest stack pointer of its switch
//                              out to the top) until the switch that resumes it starts
//   signal-frame-on-stack      an asynchronous signal, delivered at an instruction of the
//                              routine the decider picks, finds the stack pointer in the running
//                              context's stack with room for its frame below the red zone (the
//                              frame is then written there, as the kernel would)
//   signal-mask-per-context    (ucontext) each context runs with the signal mask it was created
//                              or saved with; rt_sigprocmask is served by the host
//   context-self-check         a context's locals on its own stack survive its switches
//   strict-alignment           (--strict=1) no misaligned load or store
//   no-cpu-fault               the emulated CPU never faults (the report has the instruction
//                              and the registers)
//   switch-progress            (liveness) the run finishes within its instruction budget: a
//                              routine that loops is a hang
//
// Deterministic: register values derive from context and switch numbers; every choice (next
// context, signal instruction) comes from the decider.
#ifndef SWITCHYARD_KERNEL_MODELS_SWITCH_SWITCH_ROUTINE_H_
#define SWITCHYARD_KERNEL_MODELS_SWITCH_SWITCH_ROUTINE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/emu/elf_image.h"
#include "sim/decider.h"
#include "sim/simulator.h"

namespace switchyard::switch_routine {

inline constexpr char kFingerprint[] = "switch-1";

enum class Arch { kX86_64, kI386, kRiscv64 };
enum class Convention { kSwap, kFcontext, kUcontext };
const char* ArchName(Arch arch);
const char* ConventionName(Convention convention);

// A harness program with a routine linked in (built by switch.bzl's switch_routine_program).
struct Routine {
  const char* name;    // "own-swap-x86_64"
  const char* source;  // where the routine's code comes from, for `list`
  Arch arch;
  Convention convention;
  const emu::ElfImage* image;
  const char* routine_symbol;  // the switch function, for reports ("sy_swap", "swapcontext")
};
// The routines that must pass, in option order.
const std::vector<Routine>& CorrectRoutines();
const Routine* FindRoutine(std::string_view name);

struct Bug {
  const char* name;
  const char* description;
  const char* routine;  // the mutant's program
};
const std::vector<Bug>& Bugs();
std::vector<std::string> InvariantNames();

struct Config {
  const Routine* routine = nullptr;
  uint32_t switches = 40;       // the run ends after this many switches
  bool signals = true;          // asynchronous signals inside the routine
  uint32_t signal_window = 48;  // the decider picks one of this many instructions (or none)
  bool strict = false;          // misaligned accesses are violations
};

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after);

// Instructions and switches of the last Run on this thread (for benchmarks).
uint64_t LastRunInstructions();
uint64_t LastRunSwitches();

}  // namespace switchyard::switch_routine

#endif  // SWITCHYARD_KERNEL_MODELS_SWITCH_SWITCH_ROUTINE_H_
