// The real routines (ours, glibc's, Boost's) pass; each planted mutant is caught under the
// expected invariant within a few seeds, with a message naming what broke; runs are
// deterministic.
#include "kernel_models/switch/switch_routine.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "kernel_models/switch/user_routine.h"

namespace switchyard::switch_routine {
namespace {

sim::Outcome RunSeed(const Routine& routine, uint64_t seed) {
  Config config;
  config.routine = &routine;
  sim::RandomDecider decider(seed);
  return Run(config, decider, sim::SimOptions{}, nullptr);
}

TEST(SwitchRoutineTest, CorrectRoutinesPass) {
  ASSERT_GE(CorrectRoutines().size(), 9u);
  for (const Routine& r : CorrectRoutines()) {
    for (uint64_t seed = 0; seed < 30; ++seed) {
      sim::Outcome o = RunSeed(r, seed);
      EXPECT_EQ(o.kind, sim::Outcome::Kind::kPass)
          << r.name << " seed " << seed << ": " << o.invariant << ": " << o.message;
      EXPECT_GE(LastRunSwitches(), 40u) << r.name;
    }
  }
}

TEST(SwitchRoutineTest, EveryPlantedMutantIsCaught) {
  struct Expected {
    const char* bug;
    const char* invariant;
    const char* says;  // a piece of the message
  };
  const Expected expected[] = {
      {"x86_64-callee-saved-not-saved", "callee-saved-preserved", "r15"},
      {"x86_64-fpu-not-preserved", "callee-saved-preserved", "control"},
      {"x86_64-frame-one-word-off", "new-context-entry", "(rsp + 8) % 16 == 0"},
      {"x86_64-sp-in-save-area", "signal-frame-on-stack", "save area"},
      {"x86_64-writes-suspended-slot", "suspended-state-unchanged", "save area +0x8"},
      {"x86_64-new-context-signals-blocked", "signal-mask-per-context", "every signal blocked"},
      {"x86_64-fcontext-frame-one-word-off", "new-context-entry", "(rsp + 8) % 16 == 0"},
      {"i386-callee-saved-not-saved", "callee-saved-preserved", "edi"},
      {"i386-fpu-not-preserved", "callee-saved-preserved", "x87 control word"},
      {"i386-frame-one-word-off", "new-context-entry", "(esp + 4) % 16 == 0"},
      {"i386-sp-in-save-area", "signal-frame-on-stack", "save area"},
      {"i386-writes-suspended-slot", "suspended-state-unchanged", "save area +0x4"},
      {"riscv64-callee-saved-not-saved", "callee-saved-preserved", "s11"},
      {"riscv64-fpu-not-preserved", "callee-saved-preserved", "fs0"},
      {"riscv64-frame-one-word-off", "new-context-entry", "sp % 16 == 0"},
      {"riscv64-sp-in-save-area", "signal-frame-on-stack", "save area"},
      {"riscv64-writes-suspended-slot", "suspended-state-unchanged", "save area +0xd0"},
  };
  ASSERT_EQ(Bugs().size(), std::size(expected));
  for (const Bug& bug : Bugs()) {
    const Routine* routine = FindRoutine(bug.routine);
    ASSERT_NE(routine, nullptr) << bug.name;
    bool found = false;
    for (uint64_t seed = 0; seed < 20 && !found; ++seed) {
      sim::Outcome o = RunSeed(*routine, seed);
      if (o.kind == sim::Outcome::Kind::kPass) continue;
      found = true;
      std::printf("%s (seed %llu): %s: %s\n", bug.name, static_cast<unsigned long long>(seed),
                  o.invariant.c_str(), o.message.c_str());
      for (const Expected& e : expected) {
        if (bug.name != std::string(e.bug)) continue;
        EXPECT_EQ(o.invariant, e.invariant) << bug.name << ": " << o.message;
        EXPECT_NE(o.message.find(e.says), std::string::npos) << bug.name << ": " << o.message;
      }
    }
    EXPECT_TRUE(found) << bug.name;
  }
}

TEST(SwitchRoutineTest, CorrectRoutinesPassStrictAlignment) {
  for (const Routine& r : CorrectRoutines()) {
    for (uint64_t seed = 0; seed < 5; ++seed) {
      Config config;
      config.routine = &r;
      config.strict = true;
      sim::RandomDecider decider(seed);
      sim::Outcome o = switch_routine::Run(config, decider, sim::SimOptions{}, nullptr);
      EXPECT_EQ(o.kind, sim::Outcome::Kind::kPass) << r.name << ": " << o.message;
    }
  }
}

// A file of the user's, built at run time: the example routine passes; a file that does not
// assemble gives the assembler's message; one that loops is a hang, one that faults a fault with
// the instruction and the registers.
TEST(SwitchRoutineTest, UserFilesAreBuiltAndChecked) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  std::string example =
      std::string(srcdir) + "/switchyard/examples/switch_routine/my_switch_x86_64_sysv_elf_gas.S";
  absl::StatusOr<const Routine*> built =
      BuildUserRoutine(example, Arch::kX86_64, Convention::kSwap);
  ASSERT_TRUE(built.ok()) << built.status().message();
  EXPECT_EQ(RunSeed(**built, 3).kind, sim::Outcome::Kind::kPass);

  std::string dir = std::getenv("TEST_TMPDIR");
  std::ofstream(dir + "/broken.S") << ".text\n.globl sy_swap\nsy_swap:\n  movq %rbx, (%rdi\n";
  absl::StatusOr<const Routine*> broken =
      BuildUserRoutine(dir + "/broken.S", Arch::kX86_64, Convention::kSwap);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("broken.S:4: Error:"), std::string::npos)
      << broken.status().message();

  std::ofstream(dir + "/loops.S") << ".text\n.globl sy_swap, sy_make\nsy_swap: jmp sy_swap\n"
                                     "sy_make: ret\n";
  absl::StatusOr<const Routine*> loops =
      BuildUserRoutine(dir + "/loops.S", Arch::kX86_64, Convention::kSwap);
  ASSERT_TRUE(loops.ok()) << loops.status().message();
  sim::Outcome hang = RunSeed(**loops, 0);
  EXPECT_EQ(hang.kind, sim::Outcome::Kind::kLiveness);
  EXPECT_EQ(hang.invariant, "switch-progress");

  std::ofstream(dir + "/faults.S") << ".text\n.globl sy_swap, sy_make\nsy_swap: movq 8, %rax\n"
                                      "  ret\nsy_make: ret\n";
  absl::StatusOr<const Routine*> faults =
      BuildUserRoutine(dir + "/faults.S", Arch::kX86_64, Convention::kSwap);
  ASSERT_TRUE(faults.ok()) << faults.status().message();
  sim::Outcome fault = RunSeed(**faults, 0);
  EXPECT_EQ(fault.invariant, "no-cpu-fault");
  EXPECT_NE(fault.message.find("sy_swap+0"), std::string::npos) << fault.message;
  EXPECT_NE(fault.message.find("rip="), std::string::npos) << fault.message;
}

// --strict=1: a routine that keeps the stack pointer at a misaligned offset of its save area
// works on x86 and is reported only under strict alignment.
TEST(SwitchRoutineTest, StrictReportsMisalignedSaveSlots) {
  std::string dir = std::getenv("TEST_TMPDIR");
  std::ofstream(dir + "/misaligned.S")
      << ".text\n.globl sy_swap, sy_make\n"
         "sy_swap: pushq %rbp\n pushq %rbx\n pushq %r12\n pushq %r13\n pushq %r14\n"
         " pushq %r15\n subq $8, %rsp\n stmxcsr (%rsp)\n fnstcw 4(%rsp)\n"
         " movq %rsp, 4(%rdi)\n movq 4(%rsi), %rsp\n"
         " ldmxcsr (%rsp)\n fldcw 4(%rsp)\n addq $8, %rsp\n"
         " popq %r15\n popq %r14\n popq %r13\n popq %r12\n popq %rbx\n popq %rbp\n ret\n"
         "sy_make: andq $-16, %rsi\n leaq -0x48(%rsi), %rax\n movq $0, 0x40(%rax)\n"
         " movq %rdx, 0x38(%rax)\n stmxcsr (%rax)\n fnstcw 4(%rax)\n movq %rax, 4(%rdi)\n ret\n";
  absl::StatusOr<const Routine*> built =
      BuildUserRoutine(dir + "/misaligned.S", Arch::kX86_64, Convention::kSwap);
  ASSERT_TRUE(built.ok()) << built.status().message();
  EXPECT_EQ(RunSeed(**built, 0).kind, sim::Outcome::Kind::kPass);
  Config config;
  config.routine = *built;
  config.strict = true;
  sim::RandomDecider decider(0);
  sim::Outcome o = switch_routine::Run(config, decider, sim::SimOptions{}, nullptr);
  EXPECT_EQ(o.invariant, "strict-alignment") << o.message;
  EXPECT_NE(o.message.find("not 8-byte aligned"), std::string::npos) << o.message;
}

TEST(SwitchRoutineTest, SameSeedSameTraceHash) {
  for (const Routine& r : CorrectRoutines()) {
    sim::Outcome a = RunSeed(r, 7), b = RunSeed(r, 7);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << r.name;
    EXPECT_EQ(a.step, b.step) << r.name;
  }
}

}  // namespace
}  // namespace switchyard::switch_routine
