// The user-level threads library model: the library in C (lib/), compiled for i386 by the cross
// compiler at several optimisation levels, runs instruction by instruction in the emulator
// (arch/emu) inside the simulator. The decider answers every choice the workload asks for
// (HC_CHOOSE) and, in the preemptive variant, picks the instruction boundary at which the
// virtual timer signal arrives; its handler calls release().
//
// Checkers (names as reported):
//   switch-moves-stack        release() returns on the stack of the thread `current` names
//   callee-saved-preserved    ebx, esi, edi, ebp and esp are what they were when release() was
//                             called
//   current-names-active-stack  at release() entry, esp lies in current's stack
//   threadcount-matches-ring  threadcount equals the number of contexts in the ring
//   ring-progress             every thread in the ring runs within 2 * MAX_THREADS releases
//   new-thread-entry          a new thread enters worker() with its argument, (esp + 4) % 16 == 0
//   thread-self-check         the thread bodies' own checks (values kept across release())
//   no-cpu-fault              the emulated CPU never faults
// The timer signal's contracts (--preemptive=1), on a ghost record of who last changed the mask
// (the instruction and the thread's stack), never on the library's own fields:
//   user-code-preemptible     once threads_init() has unblocked the signal, user code (the
//                             workload's functions) never runs with it blocked
//   new-thread-preemptible    a new thread enters its function with the signal unblocked
//   timer-delivered           (liveness) timer signals keep being delivered: not
//                             kUndeliveredSignalsMax due signals in a row lost over many
//                             instructions
#ifndef SWITCHYARD_KERNEL_MODELS_ULT_ULT_H_
#define SWITCHYARD_KERNEL_MODELS_ULT_ULT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/emu/elf_image.h"
#include "sim/decider.h"
#include "sim/simulator.h"

namespace switchyard::ult {

inline constexpr char kFingerprint[] = "ult-1";

// A compiled configuration of the library: which switch, which compiler flags.
struct Program {
  const char* name;   // "regs-O2"
  const char* flags;  // the compiler flags, for tables
  const emu::ElfImage* image;
  bool correct;  // the register-saving switch and no -DBUG_*: must pass
};
const std::vector<Program>& CorrectPrograms();
// Every program, the seed's ebp-only switch and the planted bugs included.
const std::vector<Program>& AllPrograms();
const Program* FindProgram(std::string_view name);

struct Bug {
  const char* name;
  const char* description;
  const char* program;  // the program that carries it
  bool preemptive;      // needs the timer signal: a run with this bug always has it
  // Shows only with the timer signal, which it does not force: a campaign finds it with
  // --preemptive=1 or with --swarm, which draws preemptive runs.
  bool needs_preemptive_option = false;
};
const std::vector<Bug>& Bugs();
std::vector<std::string> InvariantNames();

struct Config {
  const Program* program = nullptr;
  bool preemptive = false;
  uint32_t timer_max = 400;  // most instructions between timer signals (decider picks 1..max)
  uint32_t choices = 120;    // the workload's HC_CHOOSE budget; then the run finishes
  // The ABI's contract on release(): ebx, esi, edi, ebp come back unchanged. Off, only what the
  // program itself observes counts (its self-checks, stacks, the ring): the README's table
  // measures the seed's switch both ways.
  bool check_callee_saved = true;
};

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after);

// Instructions the last Run on this thread executed (for benchmarks).
uint64_t LastRunInstructions();

}  // namespace switchyard::ult

#endif  // SWITCHYARD_KERNEL_MODELS_ULT_ULT_H_
