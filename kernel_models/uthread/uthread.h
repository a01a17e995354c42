// The uthread model: a whole user-level threads program, as students write it for the 6.1810
// "Multithreading" lab (user/uthread.c and user/uthread_switch.S in their xv6 tree) or as a
// library's author writes one (any directory of C and assembly with a switch routine), runs
// instruction by instruction in the emulator (arch/emu) under the simulator's decider, linked
// against switchyard's own stand-in for xv6's user library (ulib/).
//
// Decisions (stream "uthread.yield"): at each call of the program's yield function
// (thread_yield, or release for a seed-style library) the decider may add up to
// Config::extra_yields calls of it, made by the model with a return address the program cannot
// tell from its own call.
//
// How the model follows threads without trusting the program: a thread is named by the save
// area its switch routine is given (the first argument when it switches out, the second when it
// is switched to). At each switch the model replaces the caller's callee-saved registers with
// values of its own (distinct per thread and per switch, restored when the thread resumes), so a
// register the routine forgets is seen even when the program never uses it.
//
// Checkers (names as reported):
//   callee-saved-preserved         a thread resumes with the callee-saved registers it switched
//                                  out with (RISC-V s0-s11, and fs0-fs11 when the program's
//                                  code uses them; i386 ebx, esi, edi, ebp)
//   switch-resumes-thread          a switch to a saved thread continues it where it called the
//                                  switch, with its stack pointer
//   thread-entry                   a new thread starts at the first instruction of a function,
//                                  with a word-aligned stack pointer, and with
//                                  Config::abi_alignment the psABI's (RISC-V sp % 16 == 0; i386
//                                  (esp + 4) % 16 == 0). Not by default: most lab solutions
//                                  start odd threads at sp % 16 == 8 (sizeof(struct thread) is
//                                  8 mod 16), which no RV64 code the lab's compiler emits minds
//   suspended-state-unchanged      no store lands in a suspended thread's saved context or in the
//                                  part of its stack in use
//   current-thread-runs            after a switch, current_thread is the thread that runs and
//                                  its state is RUNNING                               (lab only)
//   finished-thread-resumed        a thread that marked itself FREE is never resumed (lab only)
//   yield-lets-others-run          a yield returns to its caller without a switch only when no
//                                  other thread is RUNNABLE                          (lab only)
//   scheduler-ends-when-none-runnable  the program exits only when no thread is RUNNABLE
//                                  (lab only)
//   misaligned-access              no load or store is misaligned (QEMU hides it; cores without
//                                  misaligned support trap)
//   no-cpu-fault                   the emulated CPU never faults
//   output-matches-reference       the program prints the same, and exits with the same status,
//                                  when the model performs every switch itself (a correct
//                                  switch) under the same decisions
//   thread-progress                (liveness) the program ends within its instruction budget
//   timer-delivered                (liveness) a program that asked for xv6's alarm
//                                  (sigalarm(ticks, handler)) gets it: a due timer is not kept
//                                  from firing for 20 periods by a handler that never called
//                                  sigreturn (preemption silently lost)
// Preemption: a program that calls sigalarm gets its handler called at a decider-chosen
// instruction of each period (stream "uthread.timer"), inside the switch routine too, with the
// interrupted registers saved by the host and restored by sigreturn(); such a program is not
// compared with the reference (its timer counts instructions the reference does not make).
// "(lab only)": needs the lab's bookkeeping (all_thread[MAX_THREAD] with a `state` of FREE,
// RUNNING, RUNNABLE, and current_thread); Program::skipped says why a program lacks it.
//
// Deterministic: the emulator has no clock; register values derive from thread and switch
// numbers; every choice comes from the decider.
#ifndef SWITCHYARD_KERNEL_MODELS_UTHREAD_UTHREAD_H_
#define SWITCHYARD_KERNEL_MODELS_UTHREAD_UTHREAD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "arch/emu/elf_image.h"
#include "sim/decider.h"
#include "sim/simulator.h"

namespace switchyard::uthread {

inline constexpr char kFingerprint[] = "uthread-1";

enum class Arch { kRiscv64, kI386 };
const char* ArchName(Arch arch);

// A threads program linked with ulib, and what the model needs to know of it.
struct Program {
  std::string name;  // "fixture-riscv64", or the user's directory
  // Where the line table's relative file names are ("" for the fixtures: the workspace).
  std::string source_root;
  Arch arch = Arch::kRiscv64;
  const emu::ElfImage* image = nullptr;
  std::string switch_symbol;  // "thread_switch"
  std::string yield_symbol;   // "thread_yield"; "" when the program has none
  // Why the lab's bookkeeping checks do not apply ("" when they do).
  std::string skipped;
};

// The built-in fixtures (fixture/): the correct program per architecture, and its mutants.
const std::vector<Program>& Fixtures();
struct Bug {
  const char* name;
  const char* description;
};
const std::vector<Bug>& Bugs();
// The fixture program `bug` ("" for the correct one) for `arch`; nullptr if there is none.
const Program* FindFixture(Arch arch, const std::string& bug);

std::vector<std::string> InvariantNames();

// Why the program `elf` cannot run in the model's memory (its code, data and static arrays must
// end below the main thread's stack, leaving room for the heap), or "" when it can.
std::string ImageDoesNotFit(const emu::Elf& elf);

struct Config {
  const Program* program = nullptr;
  uint32_t extra_yields = 1;    // at most this many added yields per yield call
  uint64_t budget = 5'000'000;  // instructions before thread-progress fails
  bool reference = true;        // output-matches-reference
  bool abi_alignment = false;   // thread-entry checks the psABI's 16-byte alignment
  bool timer = true;            // deliver the alarm a program asks for with sigalarm()
};

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after);

// Instructions and switches of the last Run on this thread (for benchmarks).
uint64_t LastRunInstructions();
uint64_t LastRunSwitches();
// Whether the last Run on this thread compared its output with the reference execution.
enum class ReferenceResult { kNotRun, kCompared, kFailed };
ReferenceResult LastRunReference();
// Alarm handlers the last Run on this thread started.
uint64_t LastRunAlarms();

}  // namespace switchyard::uthread

#endif  // SWITCHYARD_KERNEL_MODELS_UTHREAD_UTHREAD_H_
