// Proves the xv6 platform on switchyard's own xv6-compatible tree (kernel_models/xv6/builtin),
// compiled at test time exactly as a user's tree is: it runs clean under random and PCT
// schedules on two and three CPUs, with every spin-lock contract on (lock_contracts.h); its
// planted bugs are found (a CPU naming a process that runs elsewhere, by cpu-proc-agrees; a lock
// kept by forkret, as the tree's own panic and as no-lock-held-in-user-mode; each lock contract
// by a bug of its own); a release() that leaves a stale owner is never reported as a lock-order
// inversion that did not happen (issue 24, item 3); runs are reset and deterministic; a cow
// lab's tree (its own PTE bits in its riscv.h, arrays sized by PHYSTOP) builds and runs; and bad
// trees are clear errors (not a tree, a compiler error as the compiler printed it, a function
// nobody defines), never a crash.
#include "kernel_models/xv6/tree.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace switchyard::xv6 {
namespace {

std::string Cache() { return std::string(std::getenv("TEST_TMPDIR")) + "/cache"; }

const LoadedTree& OwnTree() {
  static const LoadedTree* tree = [] {
    auto built = BuildTree("kernel_models/xv6/builtin", Cache(), nullptr);
    EXPECT_TRUE(built.ok()) << built.status();
    auto loaded = LoadedTree::Load(*built);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded->release();
  }();
  return *tree;
}

sim::Outcome RunTree(uint64_t seed, int cpus, int bug = 0, int pct_depth = 0,
                     TreeRunConfig config = {}) {
  std::unique_ptr<sim::Decider> decider;
  if (pct_depth > 0) {
    decider = std::make_unique<sim::PctDecider>(seed, pct_depth, 60'000, cpus);
  } else {
    decider = std::make_unique<sim::RandomDecider>(seed);
  }
  sim::SimOptions options;
  options.max_steps = 20'000'000;
  config.cpus = cpus;
  config.planted_bug = bug;
  return OwnTree().Run(config, *decider, options);
}

TEST(TreeTest, OwnTreeRunsCleanUnderRandomAndPctSchedules) {
  ASSERT_TRUE(OwnTree().has_planted_bugs());
  // Every spin-lock contract is on: none is skipped on the own tree.
  EXPECT_TRUE(OwnTree().skipped_checks().empty()) << OwnTree().skipped_checks()[0];
  for (uint64_t seed = 0; seed < 60; ++seed) {
    for (int cpus : {2, 3}) {
      sim::Outcome out = RunTree(seed, cpus, 0, seed % 2 == 0 ? 0 : 10);
      ASSERT_EQ(out.kind, sim::Outcome::Kind::kPass)
          << "seed " << seed << " cpus " << cpus << ": " << out.invariant << ": " << out.message;
      EXPECT_GT(out.switches, 10u);
      EXPECT_GT(out.interrupts, 0u);
    }
  }
}

TEST(TreeTest, SchedulerKeepingCProcIsFound) {
  int found = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*scheduler-keeps-c-proc*/ 1);
    if (out.kind == sim::Outcome::Kind::kSafety) {
      EXPECT_EQ(out.invariant, "cpu-proc-agrees") << out.message;
      ++found;
    }
  }
  EXPECT_GE(found, 15);
}

// cpu-proc-agrees re-reads only the proc slots whose p->state, p->lock or thread changed since it
// last held. A slot it failed to mark would be a violation found late or never: every run,
// correct or with a planted bug, must end exactly as with a re-read of every slot at every check
// (the same finding, at the same step, with the same message and trace).
TEST(TreeTest, CpuProcAgreesOnChangedSlotsEndsEveryRunAsAFullScan) {
  int violations = 0, slot_violations = 0;
  for (int bug : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19}) {
    for (uint64_t seed = 0; seed < 6; ++seed) {
      const int cpus = 2 + static_cast<int>(seed % 2);
      const int pct_depth = seed % 3 == 0 ? 10 : 0;
      sim::Outcome changed = RunTree(seed, cpus, bug, pct_depth);
      sim::Outcome every = RunTree(seed, cpus, bug, pct_depth, {.cpu_proc_every_slot = true});
      ASSERT_EQ(changed.kind, every.kind)
          << "bug " << bug << " seed " << seed << ": " << every.invariant << ": " << every.message;
      EXPECT_EQ(changed.invariant, every.invariant) << "bug " << bug << " seed " << seed;
      EXPECT_EQ(changed.message, every.message) << "bug " << bug << " seed " << seed;
      EXPECT_EQ(changed.step, every.step) << "bug " << bug << " seed " << seed;
      EXPECT_EQ(changed.trace_hash, every.trace_hash) << "bug " << bug << " seed " << seed;
      if (every.invariant == "cpu-proc-agrees") ++violations;
      if (every.message.find("outside its p->lock") != std::string::npos) ++slot_violations;
    }
  }
  // The comparison covers the invariant's own findings, not only runs it never fails, and among
  // them the slot loop's (sched-releases-early's), not only the c->proc loop's.
  EXPECT_GE(violations, 12);
  EXPECT_GE(slot_violations, 5);
}

TEST(TreeTest, ForkretKeepingTheLockIsTheTreesOwnPanic) {
  // The tree's own check, by itself: without the lock contracts, which find it first (below).
  sim::Outcome out = RunTree(0, 2, /*forkret-keeps-lock*/ 2, 0, {.lock_contracts = false});
  ASSERT_EQ(out.kind, sim::Outcome::Kind::kSafety);
  EXPECT_EQ(out.invariant, "panic");
  // acquire() finds the lock already held by this CPU; the message names the panic's site.
  EXPECT_EQ(out.message.rfind("acquire (at kernel.so+0x", 0), 0u) << out.message;
}

// Each spin-lock contract fires on a planted bug of its own, on every seed, and names the CPU,
// the lock (with the pid of a p->lock) and the code.
sim::Outcome FirstFinding(int bug, uint64_t seed) {
  return RunTree(seed, 3, bug, seed % 2 ? 10 : 0);
}

TEST(TreeTest, ForkretKeepingTheLockIsNoLockHeldInUserMode) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    sim::Outcome out = FirstFinding(/*forkret-keeps-lock*/ 2, seed);
    ASSERT_EQ(out.invariant, "no-lock-held-in-user-mode") << out.message;
    EXPECT_NE(out.message.find("returns to user mode in pid 1 holding proc[0].lock (pid 1), "
                               "taken at kernel.so+0x"),
              std::string::npos)
        << out.message;
    EXPECT_NE(out.message.find("(scheduler) at step"), std::string::npos) << out.message;
  }
}

TEST(TreeTest, WaitLockUnderPLockIsLockOrder) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    sim::Outcome out = FirstFinding(/*exit-wait-lock-under-p-lock*/ 5, seed);
    ASSERT_EQ(out.invariant, "lock-order") << out.message;
    EXPECT_NE(out.message.find(" acquires wait_lock at kernel.so+0x"), std::string::npos)
        << out.message;
    EXPECT_NE(out.message.find("(exit) while holding proc["), std::string::npos) << out.message;
    EXPECT_NE(out.message.find("wait_lock must be acquired before any p->lock"), std::string::npos)
        << out.message;
  }
}

TEST(TreeTest, InterruptsOnBeforeTheUnlockIsFound) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    sim::Outcome out = FirstFinding(/*release-pops-before-unlock*/ 6, seed);
    ASSERT_EQ(out.invariant, "interrupts-off-while-holding-spinlock") << out.message;
    EXPECT_EQ(out.message.rfind("cpu", 0), 0u) << out.message;
    EXPECT_NE(out.message.find(" has interrupts on while it holds "), std::string::npos)
        << out.message;
  }
}

TEST(TreeTest, ADoubleReleaseIsReleaseByNonOwner) {
  // The second release happens only when wait() meets a child that has not exited yet.
  int found = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    sim::Outcome out = FirstFinding(/*double-release*/ 7, seed);
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    ASSERT_EQ(out.invariant, "release-by-non-owner") << out.message;
    EXPECT_NE(out.message.find(".lock (pid "), std::string::npos) << out.message;
    EXPECT_NE(out.message.find("(wait), but the ghost record says "), std::string::npos)
        << out.message;
  }
  EXPECT_GE(found, 14);
}

// Issue 24, item 3: release() that does not clear lk->cpu. The ghost record is not fooled by the
// stale owner field: the diagnosis names the stale owner (release-clears-owner); without that
// contract the ghost record alone finds at most the tree's own false recursive-acquire panic,
// and never a lock-order inversion that did not happen.
TEST(TreeTest, AStaleOwnerIsNamedAndNeverALockOrderInversion) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    sim::Outcome out = FirstFinding(/*release-keeps-owner*/ 4, seed);
    ASSERT_EQ(out.invariant, "release-clears-owner") << out.message;
    EXPECT_NE(out.message.find("while its owner field `cpu` still names cpus["), std::string::npos)
        << out.message;
  }
  int panics = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    sim::Outcome out = RunTree(seed, 3, /*release-keeps-owner*/ 4, seed % 2 ? 10 : 0,
                               {.check_owner_field = false});
    EXPECT_NE(out.invariant, "lock-order") << "seed " << seed << ": " << out.message;
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ASSERT_EQ(out.invariant, "panic") << "seed " << seed << ": " << out.message;
    EXPECT_EQ(out.message.rfind("acquire (at kernel.so+0x", 0), 0u) << out.message;
    ++panics;
  }
  std::printf(
      "release-keeps-owner without release-clears-owner: %d false recursive-acquire "
      "panics in 60 runs\n",
      panics);
}

// Issue 24, item 1: push_off() reads mycpu() before intr_off(). A timer interrupt in between
// can yield, and the thread is resumed on another CPU where it updates the first CPU's noff.
// Neither the cpuid read nor the interrupt state is a memory access: the platform makes them
// points while interrupts are on, so the interrupt lands there.
TEST(TreeTest, AStaleMycpuIsNamedWithTheMigration) {
  int found = 0;
  uint64_t first_seed = 0;
  for (uint64_t seed = 0; seed < 200 && found < 5; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*push-off-reads-cpu-early*/ 8, seed % 2 ? 10 : 0);
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ASSERT_EQ(out.invariant, "per-cpu-state-by-own-cpu") << "seed " << seed << ": " << out.message;
    EXPECT_NE(out.message.find("(push_off), running the kernel thread of proc["), std::string::npos)
        << out.message;
    EXPECT_NE(out.message.find(" and was resumed on cpu"), std::string::npos) << out.message;
    if (found++ == 0) first_seed = seed;
  }
  EXPECT_GE(found, 5);
  std::printf("push-off-reads-cpu-early: first found at seed %llu\n",
              static_cast<unsigned long long>(first_seed));
}

// Issue 24, item 2: kill() compares p->pid before it takes p->lock. The guarded-field contract
// finds the unlocked read itself, in any run that calls kill(), without needing the slot to be
// reused in the window.
TEST(TreeTest, AnUnlockedReadOfAGuardedFieldIsFound) {
  // A run finds it when a child calls kill(), one of the seven actions a child draws from: about
  // two runs in three.
  int found = 0;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*kill-checks-pid-unlocked*/ 9, seed % 2 ? 10 : 0);
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    ASSERT_EQ(out.invariant, "guarded-field-under-lock") << "seed " << seed << ": " << out.message;
    EXPECT_NE(out.message.find("].pid (pid "), std::string::npos) << out.message;
    EXPECT_NE(out.message.find("(kill) without holding proc["), std::string::npos) << out.message;
  }
  EXPECT_GE(found, 15);
}

// The disk and the buffer cache: a bget() that looks for a cached block before it takes
// bcache.lock lets two processes that miss the same block recycle a buffer each (or take a
// buffer that is being recycled for another block). The platform's ghost records of the buffer
// bread() gave for each block, of each block's last write, and of the block a buffer from bread()
// must hold, see it.
TEST(TreeTest, TwoBuffersForOneBlockAreFound) {
  int found = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    // The timer period explore uses: a child is preempted inside bget() more often.
    sim::Outcome out =
        RunTree(seed, 2, /*bget-looks-up-unlocked*/ 12, seed % 2 ? 10 : 0, {.timer_period = 100});
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    // Mostly the second buffer itself, as soon as bread() returns it; a read of the stale copy, or
    // a buffer taken while it is recycled for another block, otherwise.
    ASSERT_TRUE(out.invariant == "one-buffer-per-block" ||
                out.invariant == "bread-returns-latest-write" ||
                out.invariant == "bread-returns-requested-block")
        << "seed " << seed << ": " << out.invariant << ": " << out.message;
    EXPECT_NE(out.message.find("bread()"), std::string::npos) << out.message;
  }
  EXPECT_GE(found, 2);
  std::printf("bget-looks-up-unlocked: found in %d of 200 runs\n", found);
}

// A buffer recycled for another block with b->valid still set: bread() returns what the buffer
// held (zeros, in the runs that fill the cache first) instead of reading the block.
TEST(TreeTest, ARecycledBufferThatStaysValidIsFound) {
  int found = 0;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*bget-keeps-valid*/ 13, seed % 2 ? 10 : 0);
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    ASSERT_EQ(out.invariant, "bread-returns-latest-write")
        << "seed " << seed << ": " << out.message;
    EXPECT_NE(out.message.find(" through bread(), but "), std::string::npos) << out.message;
  }
  EXPECT_GE(found, 2);
}

// The disk's completion interrupt goes through the tree's devintr() and wakeup(): a correct run
// whose children read and write blocks finishes, so every request it made completed (a request
// whose interrupt were lost would leave its process asleep: no-progress).
TEST(TreeTest, DiskRequestsCompleteThroughTheTreesInterruptPath) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    sim::Outcome out = RunTree(seed, 2);
    ASSERT_EQ(out.kind, sim::Outcome::Kind::kPass) << out.invariant << ": " << out.message;
  }
}

// push_off()/pop_off() against the ghost record of their nesting: a thread gets back the
// interrupt state its outermost push_off() found, wherever it runs by then.
TEST(TreeTest, InterruptStateLostAcrossSchedIsFound) {
  int found = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*sched-forgets-intena*/ 10, seed % 2 ? 10 : 0);
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    ASSERT_EQ(out.invariant, "pop-off-restores-interrupts")
        << "seed " << seed << ": " << out.message;
    // Either way round: the CPU it resumes on had the other state.
    EXPECT_NE(out.message.find(") of the kernel thread of proc["), std::string::npos)
        << out.message;
  }
  EXPECT_GE(found, 10);
}

TEST(TreeTest, PushOffReadingTheStateTooLateIsFound) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*push-off-saves-after-off*/ 11, seed % 2 ? 10 : 0);
    ASSERT_EQ(out.invariant, "pop-off-restores-interrupts")
        << "seed " << seed << ": " << out.message;
    EXPECT_NE(out.message.find("with interrupts off, but the outermost push_off() (called from "),
              std::string::npos)
        << out.message;
  }
}

// The C++ model's planted bugs, planted in the tree as well (14-19 in the tree's proc.c): each
// found by the tree's own checks and the platform's.
TEST(TreeTest, ReleasingPLockBeforeSwtchIsFound) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    sim::Outcome out = FirstFinding(/*sched-releases-early*/ 14, seed);
    ASSERT_EQ(out.invariant, "cpu-proc-agrees") << "seed " << seed << ": " << out.message;
    EXPECT_NE(out.message.find("whose p->state is not RUNNING outside its p->lock"),
              std::string::npos)
        << out.message;
  }
}

// No CPU in the scheduler takes interrupts: once every process sleeps on the disk or on ticks,
// nothing wakes them. A liveness finding, which costs the no-progress budget to report.
TEST(TreeTest, ASchedulerThatNeverTakesInterruptsMakesNoProgress) {
  int found = 0;
  for (uint64_t seed = 0; seed < 40 && found == 0; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*scheduler-no-interrupts*/ 15);
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    ASSERT_EQ(out.invariant, "no-progress") << "seed " << seed << ": " << out.message;
    EXPECT_NE(out.message.find("SLEEPING on"), std::string::npos) << out.message;
  }
  EXPECT_EQ(found, 1);
}

// Interrupts back on while noff still counts the lock: a timer interrupt in between yields inside
// the critical section, and the tree's own sched() panics. The panic names its caller, sched(),
// not the platform's panic().
TEST(TreeTest, InterruptsOnBeforeNoffDropsIsTheTreesOwnPanic) {
  int found = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*pop-off-enables-early*/ 16, seed % 2 ? 10 : 0);
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    ASSERT_EQ(out.invariant, "panic") << "seed " << seed << ": " << out.message;
    EXPECT_EQ(out.message.rfind("sched locks (at kernel.so+0x", 0), 0u) << out.message;
    EXPECT_NE(out.message.find(" (sched))"), std::string::npos) << out.message;
  }
  EXPECT_GE(found, 12);
}

// The platform's trap from the kernel overwrites sepc, as the hardware does: usertrap() that
// turns interrupts on before it saves sepc returns to user mode at a kernel address.
TEST(TreeTest, InterruptsOnBeforeSepcIsSavedReturnsToTheKernelsPc) {
  int found = 0;
  for (uint64_t seed = 0; seed < 200 && found == 0; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*usertrap-intr-on-early*/ 17);
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    ASSERT_EQ(out.invariant, "user-program") << "seed " << seed << ": " << out.message;
    EXPECT_NE(out.message.find("is not in its program (the kernel's pc: a trap overwrote sepc"),
              std::string::npos)
        << out.message;
  }
  EXPECT_EQ(found, 1);
}

// acquire() takes the lock with interrupts still on: the contract sees a CPU holding a spin
// lock with interrupts on, on every seed.
TEST(TreeTest, TakingTheLockBeforePushOffIsFound) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    sim::Outcome out = FirstFinding(/*acquire-before-push-off*/ 18, seed);
    ASSERT_EQ(out.invariant, "interrupts-off-while-holding-spinlock")
        << "seed " << seed << ": " << out.message;
  }
}

// The child is RUNNABLE before fork() copies the trapframe: another CPU that is scanning
// proc[] (not waiting in wfi) runs it, and it returns to user mode at the pc kalloc()'s junk
// left there. About one run in four.
TEST(TreeTest, AChildRunBeforeForkCopiedItIsFound) {
  int found = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*fork-runnable-before-program*/ 19);
    if (out.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    ASSERT_EQ(out.invariant, "user-program") << "seed " << seed << ": " << out.message;
    EXPECT_NE(out.message.find("is not in its program"), std::string::npos) << out.message;
  }
  EXPECT_GE(found, 4);
}

TEST(TreeTest, RunsAreResetAndDeterministic) {
  sim::Outcome first = RunTree(11, 2);
  for (uint64_t seed = 100; seed < 300; ++seed) RunTree(seed, 2, seed % 3 == 0 ? 1 : 0);
  sim::Outcome again = RunTree(11, 2);
  EXPECT_EQ(first.trace_hash, again.trace_hash);
  EXPECT_EQ(first.step, again.step);
  EXPECT_EQ(first.kind, sim::Outcome::Kind::kPass);
}

// A seed's trace is the same in every build: fastbuild, opt, asan, and
// --config=fuzz_code_coverage, where the tree's objects also carry libFuzzer's counters (added
// after the access instrumentation: tree.cc, kCoverage). Re-record only with a reason, as
// scenario_test's golden hashes.
TEST(TreeTest, ASeedsTraceIsTheSameInEveryBuild) {
  EXPECT_EQ(RunTree(11, 2).trace_hash, 0xec14242ddbd5cd9cull);
  EXPECT_EQ(RunTree(12, 2, 0, 3).trace_hash, 0xf384cef9daf3c850ull);
}

// --swtch=1: the tree's own swtch.S runs in the emulator at every swtch(), and only observes: a
// correct tree passes with the same trace as without it.
TEST(TreeTest, TheTreesOwnSwtchRunsInTheEmulatorAndOnlyObserves) {
  ASSERT_TRUE(OwnTree().has_swtch_routine()) << OwnTree().swtch_error();
  TreeRunConfig emulated;
  emulated.swtch_emulated = true;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    sim::Outcome native = RunTree(seed, 2, 0, seed % 2 == 0 ? 0 : 10);
    sim::Outcome out = RunTree(seed, 2, 0, seed % 2 == 0 ? 0 : 10, emulated);
    ASSERT_EQ(out.kind, sim::Outcome::Kind::kPass)
        << "seed " << seed << ": " << out.invariant << ": " << out.message;
    EXPECT_GT(out.switches, 10u);
    EXPECT_EQ(out.trace_hash, native.trace_hash) << "seed " << seed;
  }
}

// swtch-forgets-s11 is planted in the own tree's kernel/swtch.S (a word it tests), and turns the
// emulator on by itself.
TEST(TreeTest, ASwtchThatForgetsS11IsFound) {
  sim::Outcome out = RunTree(1, 2, kSwtchForgetsS11Bug);
  EXPECT_EQ(out.kind, sim::Outcome::Kind::kSafety);
  EXPECT_EQ(out.invariant, "swtch-restores-registers");
  EXPECT_NE(out.message.find("].context: s11 was"), std::string::npos) << out.message;
  EXPECT_NE(out.message.find("swtch.S did not save or restore it"), std::string::npos)
      << out.message;
  // The tree's emulator is reused run after run: the next run's swtch.S saves s11 again.
  TreeRunConfig emulated;
  emulated.swtch_emulated = true;
  sim::Outcome clean = RunTree(1, 2, 0, 0, emulated);
  EXPECT_EQ(clean.kind, sim::Outcome::Kind::kPass) << clean.invariant << ": " << clean.message;
}

// The workload's options reach the tree's user programs: without children nothing is forked, and
// with more forks than the own tree's NPROC (16) holds, fork() fails in some runs (allocproc's
// search finds no UNUSED slot and releases every p->lock it took) and the tree still runs clean.
TEST(TreeTest, TheWorkloadsOptionsReachTheTreesPrograms) {
  auto* failures = static_cast<int*>(OwnTree().Symbol("xv6_fork_failures"));
  ASSERT_NE(failures, nullptr);
  TreeRunConfig none;
  none.workload.children = 0;
  sim::Outcome alone = RunTree(1, 2, 0, 0, none);
  ASSERT_EQ(alone.kind, sim::Outcome::Kind::kPass) << alone.invariant << ": " << alone.message;
  TreeRunConfig defaults;
  sim::Outcome usual = RunTree(1, 2, 0, 0, defaults);
  EXPECT_LT(alone.step * 4, usual.step);

  TreeRunConfig crowded;
  crowded.workload.children = 14;
  crowded.workload.max_forks = 200;
  crowded.workload.depth = 4;
  crowded.workload.program_length = 10;
  int runs_with_failures = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    sim::Outcome out = RunTree(seed, 2, 0, seed % 2 == 0 ? 0 : 10, crowded);
    ASSERT_EQ(out.kind, sim::Outcome::Kind::kPass)
        << "seed " << seed << ": " << out.invariant << ": " << out.message;
    if (*failures > 0) ++runs_with_failures;
  }
  EXPECT_GT(runs_with_failures, 0);
  for (uint64_t seed = 0; seed < 10; ++seed) {
    RunTree(seed, 2, 0, 0, defaults);
    EXPECT_EQ(*failures, 0) << "seed " << seed;
  }
}

TEST(TreeTest, ACachedTreeIsNotCompiledAgain) {
  OwnTree();
  auto built = BuildTree("kernel_models/xv6/builtin", Cache(), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(built->cached);
  EXPECT_EQ(built->fingerprint, OwnTree().built().fingerprint);
}

// A copy of the own tree in the test's temporary directory, with one file changed.
std::string BrokenTree(const std::string& name, const std::string& file,
                       const std::string& appended) {
  const std::string root = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  const std::string command = "rm -rf " + root + " && mkdir -p " + root +
                              " && cp -rL kernel_models/xv6/builtin/kernel " + root + "/";
  EXPECT_EQ(std::system(command.c_str()), 0);
  std::ofstream(root + "/kernel/" + file, std::ios::app) << appended;
  return root;
}

// A copy of the own tree with the text `from` in one file replaced by `to` (which must be there).
std::string EditedTree(const std::string& name, const std::string& file, const std::string& from,
                       const std::string& to) {
  const std::string root = BrokenTree(name, file, "");
  std::stringstream text;
  text << std::ifstream(root + "/kernel/" + file).rdbuf();
  std::string edited = text.str();
  const size_t at = edited.find(from);
  EXPECT_NE(at, std::string::npos) << file << " has no " << from;
  if (at != std::string::npos) edited.replace(at, from.size(), to);
  std::ofstream(root + "/kernel/" + file) << edited;
  return root;
}

TEST(TreeTest, BadTreesAreClearErrors) {
  auto not_a_tree = BuildTree("kernel_models/xv6", Cache(), nullptr);
  ASSERT_FALSE(not_a_tree.ok());
  EXPECT_NE(not_a_tree.status().message().find("is not an xv6-riscv tree: it has no kernel/proc.c"),
            std::string::npos)
      << not_a_tree.status();

  auto missing = BuildTree("/no/such/tree", Cache(), nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--kernel=/no/such/tree: "), std::string::npos);

  const std::string broken = BrokenTree("syntax", "proc.c", "\nint broken(void) { return }\n");
  auto does_not_compile = BuildTree(broken, Cache(), nullptr);
  ASSERT_FALSE(does_not_compile.ok());
  // The compiler's own message, naming the user's file.
  EXPECT_NE(does_not_compile.status().message().find(broken + "/kernel/proc.c:"), std::string::npos)
      << does_not_compile.status();
  EXPECT_NE(does_not_compile.status().message().find("error:"), std::string::npos);

  const std::string needs = BrokenTree(
      "undefined", "sysproc.c", "\nvoid lab_helper(void);\nvoid call_it(void) { lab_helper(); }\n");
  auto undefined = BuildTree(needs, Cache(), nullptr);
  ASSERT_FALSE(undefined.ok());
  EXPECT_NE(undefined.status().message().find("`lab_helper` (needed by sysproc.c)"),
            std::string::npos)
      << undefined.status();
}

TEST(TreeTest, SystemCallsOfFilesThatAreNotCompiledFail) {
  // A lab's extra system call, implemented in a file the platform does not compile: the tree
  // builds, and the call returns -1.
  const std::string lab = BrokenTree("lab", "sysproc.c",
                                     "\nextern uint64 sys_trace(void);\n"
                                     "uint64 (*keep_trace)(void) = sys_trace;\n");
  auto built = BuildTree(lab, Cache(), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
}

// A riscv.h as a cow lab writes it (our own text): CSR accessors in RISC-V assembly, xv6's
// constants, and the lab's own PTE bits, one of them a multi-line macro and one under a guard.
constexpr char kLabRiscvH[] = R"(#ifndef __ASSEMBLER__
static inline uint64
r_sstatus()
{
  uint64 x;
  asm volatile("csrr %0, sstatus" : "=r" (x) );  /* a comment with a #define in it */
  return x;
}
#endif
#define PGSIZE 4096 // bytes per page
#define PTE_V (1L << 0) // valid
#define PTE_COW (1L << 8) // copy-on-write
#define PTE_LAB_BITS \
  (PTE_COW | \
   PTE_V)
#ifndef PTE_RSW
#define PTE_RSW (3L << 8)
#endif
#define MAXVA (1L << (9 + 9 + 9 + 12 - 1))
)";

TEST(TreeTest, TheTreesOwnRiscvDefinitionsAreKeptWithTheirLines) {
  const std::string kept = TreeRiscvDefinitions(kLabRiscvH, "/t/kernel/riscv.h",
                                                "#define PGSIZE 4096\n#define PTE_V (1L << 0)\n"
                                                "static inline uint64 r_sstatus(void);\n"
                                                "#define MAXVA 0x500000000000L\n");
  // After the #line, line N of the output is line N of the tree's file.
  const size_t at = kept.find("#line 1 \"/t/kernel/riscv.h\"\n");
  ASSERT_NE(at, std::string::npos) << kept;
  std::vector<std::string> lines;
  std::stringstream body(kept.substr(at + std::strlen("#line 1 \"/t/kernel/riscv.h\"\n")));
  for (std::string line; std::getline(body, line);) lines.push_back(line);
  ASSERT_GE(lines.size(), 20u) << kept;
  EXPECT_EQ(lines[0], "#ifndef __ASSEMBLER__");
  EXPECT_EQ(lines[8], "#endif");
  EXPECT_EQ(lines[11], "#define PTE_COW (1L << 8)  ");
  EXPECT_EQ(lines[12], "#define PTE_LAB_BITS \\");
  EXPECT_EQ(lines[14], "   PTE_V)");
  EXPECT_EQ(lines[15], "#ifndef PTE_RSW");
  EXPECT_EQ(lines[16], "#define PTE_RSW (3L << 8)");
  EXPECT_EQ(lines[17], "#endif");
  // The CSR accessor, the comment's #define and the platform's own names are left out.
  EXPECT_EQ(kept.find("csrr"), std::string::npos) << kept;
  EXPECT_EQ(kept.find("in it"), std::string::npos) << kept;
  EXPECT_EQ(kept.find("PGSIZE"), std::string::npos) << kept;
  EXPECT_EQ(kept.find("PTE_V ("), std::string::npos) << kept;
  EXPECT_EQ(kept.find("MAXVA"), std::string::npos) << kept;
}

// A cow lab's tree, from our own: its riscv.h adds PTE bits (kLabRiscvH), kalloc.c keeps a
// count per page in arrays sized by PHYSTOP, which must be a constant, and vm.c has a kvminit(). It
// builds, loads (in a process of its own: one tree per process, and OwnTree is this one's) and runs
// clean, and its memory is restored before every run.
TEST(TreeTest, ACowLabTreeWithItsOwnPteBitAndPhystopArraysRuns) {
  const std::string lab = BrokenTree(
      "cow", "kalloc.c",
      "\nint lab_refs[(PHYSTOP - KERNBASE) / PGSIZE];\n"
      "int lab_refs_from_zero[PHYSTOP / PGSIZE];\n"
      "_Static_assert(sizeof lab_refs == XV6_PHYS_PAGES * sizeof(int), \"one count a page\");\n"
      "_Static_assert(PTE_COW == (1L << 8) && PTE_LAB_BITS == ((1L << 8) | 1), \"lab bits\");\n"
      "_Static_assert(PTE_RSW == (3L << 8), \"a guarded definition\");\n"
      "_Static_assert(MAXVA == 0x500000000000L, \"the platform's MAXVA\");\n"
      "uint64 lab_cow_bits(void) { return PTE_COW | PTE_LAB_BITS; }\n");
  std::ofstream(lab + "/kernel/riscv.h") << kLabRiscvH;
  // Its own kvminit(), which the platform calls at boot as main() does: it maps the kernel's text
  // [KERNBASE, etext) and the rest of physical memory, as xv6's kvmmake() does (a cow lab that
  // counts every mapping of a page counts these).
  std::ofstream(lab + "/kernel/vm.c", std::ios::app)
      << "\npagetable_t kernel_pagetable;\nuint64 lab_etext;\nvoid kvminit(void);\n"
         "extern char etext[];\n"
         "void kvminit(void) {\n"
         "  kernel_pagetable = (pagetable_t)kalloc();\n"
         "  memset(kernel_pagetable, 0, PGSIZE);\n"
         "  if (mappages(kernel_pagetable, KERNBASE, (uint64)etext - KERNBASE, KERNBASE,\n"
         "               PTE_R | PTE_X) != 0 ||\n"
         "      mappages(kernel_pagetable, (uint64)etext, PHYSTOP - (uint64)etext,\n"
         "               (uint64)etext, PTE_R | PTE_W) != 0)\n"
         "    panic(\"kvminit\");\n"
         "  lab_etext = (uint64)etext;\n"
         "}\n";
  auto built = BuildTree(lab, Cache(), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process, without OwnTree
  EXPECT_EXIT(
      {
        auto loaded = LoadedTree::Load(*built);
        if (!loaded.ok()) {
          std::fprintf(stderr, "%s\n", std::string(loaded.status().message()).c_str());
          std::exit(1);
        }
        // kvminit() ran at boot, with the kernel's text one page long.
        auto* etext = static_cast<uint64_t*>((*loaded)->Symbol("lab_etext"));
        if (etext == nullptr || *etext != 0x40001000) std::exit(4);
        // kalloc.c hands out the pages at KERNBASE, and what a run writes there is undone.
        const uint64_t first_hash = [&] {
          sim::RandomDecider decider(5);
          return (*loaded)->Run({}, decider, {}).trace_hash;
        }();
        for (uint64_t seed = 0; seed < 20; ++seed) {
          sim::RandomDecider decider(seed);
          sim::Outcome out = (*loaded)->Run({}, decider, {});
          if (out.kind != sim::Outcome::Kind::kPass) {
            std::fprintf(stderr, "seed %d: %s: %s\n", static_cast<int>(seed), out.invariant.c_str(),
                         out.message.c_str());
            std::exit(2);
          }
        }
        sim::RandomDecider decider(5);
        std::exit((*loaded)->Run({}, decider, {}).trace_hash == first_hash ? 0 : 3);
      },
      ::testing::ExitedWithCode(0), "");
}

// A tree whose struct context declares sp before ra: swtch.S loads ra from the C side's sp, so a
// new process would start at its stack address. With --swtch=1 the first swtch() into it says so
// in struct context's terms (in a process of its own: one tree per process).
TEST(TreeTest, AStructContextOutOfOrderWithSwtchSIsFoundInTheEmulator) {
  const std::string tree = EditedTree("context-order", "proc.h", "  uint64 ra;\n  uint64 sp;\n",
                                      "  uint64 sp;\n  uint64 ra;\n");
  auto built = BuildTree(tree, Cache(), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE(built->swtch_error.empty()) << built->swtch_error;
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process, without OwnTree
  EXPECT_EXIT(
      {
        auto loaded = LoadedTree::Load(*built);
        if (!loaded.ok()) std::exit(1);
        TreeRunConfig config;
        config.swtch_emulated = true;
        sim::RandomDecider decider(1);
        sim::Outcome out = (*loaded)->Run(config, decider, {});
        std::fprintf(stderr, "%s: %s\n", out.invariant.c_str(), out.message.c_str());
        std::exit(out.invariant == "swtch-restores-registers" ? 0 : 2);
      },
      ::testing::ExitedWithCode(0),
      "proc\\[0\\]\\.context, new from allocproc, started with ra=0x[0-9a-f]+ sp=forkret instead "
      "of ra=forkret sp=0x[0-9a-f]+: struct context's field order disagrees with swtch.S's "
      "offsets \\(the C side has ra at 8 and sp at 0\\)");
}

// A scheduler() that lets go of p->lock before it switches to a process it never marked RUNNING:
// the switch itself is the first moment that a process whose p->lock nobody holds runs while its
// p->state says otherwise, with no write or lock operation in its slot. cpu-proc-agrees re-reads
// the slots a switch changes and reports it at the first step after the switch, as a re-read of
// every slot does (a check that re-read only written slots would meet the release() of a lock
// nobody holds first). In a process of its own: one tree per process.
TEST(TreeTest, ASwitchToAProcessNotMarkedRunningIsFoundAtTheSwitch) {
  const std::string tree =
      EditedTree("switch-unlocked", "proc.c",
                 "        p->state = RUNNING;\n        c->proc = p;\n"
                 "        swtch(&c->context, &p->context);\n",
                 "        release(&p->lock);\n        c->proc = p;\n"
                 "        swtch(&c->context, &p->context);\n        acquire(&p->lock);\n");
  auto built = BuildTree(tree, Cache(), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process, without OwnTree
  EXPECT_EXIT(
      {
        auto loaded = LoadedTree::Load(*built);
        if (!loaded.ok()) std::exit(1);
        // Some schedules meet another CPU's release() of the lock first (a panic): the bug
        // either way, and the same finding at the same step under both checks.
        int at_switch = 0;
        for (uint64_t seed = 0; seed < 10; ++seed) {
          sim::Outcome outs[2];
          for (bool every_slot : {false, true}) {
            TreeRunConfig config;
            config.cpu_proc_every_slot = every_slot;
            sim::RandomDecider decider(seed);
            outs[every_slot] = (*loaded)->Run(config, decider, {});
          }
          std::fprintf(stderr, "seed %d: %s: %s\n", static_cast<int>(seed),
                       outs[0].invariant.c_str(), outs[0].message.c_str());
          if (outs[0].kind == sim::Outcome::Kind::kPass) std::exit(2);
          if (outs[0].step != outs[1].step || outs[0].message != outs[1].message) std::exit(3);
          if (outs[0].message.find(", whose p->state is not RUNNING outside its p->lock") !=
              std::string::npos) {
            ++at_switch;
          }
        }
        std::exit(at_switch >= 5 ? 0 : 2);
      },
      ::testing::ExitedWithCode(0),
      "seed [0-9]: cpu-proc-agrees: cpu[0-9] runs the kernel thread of proc\\[[0-9]+\\] \\(pid "
      "[0-9]+\\).*, whose p->state is not RUNNING outside its p->lock");
}

// A swtch.S with a label of its own inside swtch (a loop's, a restore path's) is one routine: the
// label is not taken for the end of swtch's code, and the tree runs clean under --swtch=1.
TEST(TreeTest, ASwtchWithLabelsInsideRunsWhole) {
  const std::string tree = EditedTree("swtch-labels", "swtch.S", "        ld ra, 0(a1)\n",
                                      "restore:\n        ld ra, 0(a1)\n");
  auto built = BuildTree(tree, Cache(), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE(built->swtch_error.empty()) << built->swtch_error;
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process, without OwnTree
  EXPECT_EXIT(
      {
        auto loaded = LoadedTree::Load(*built);
        if (!loaded.ok() || !(*loaded)->has_swtch_routine()) std::exit(1);
        TreeRunConfig config;
        config.swtch_emulated = true;
        for (uint64_t seed = 0; seed < 5; ++seed) {
          sim::RandomDecider decider(seed);
          sim::Outcome out = (*loaded)->Run(config, decider, {});
          if (out.kind != sim::Outcome::Kind::kPass) {
            std::fprintf(stderr, "%s: %s\n", out.invariant.c_str(), out.message.c_str());
            std::exit(2);
          }
        }
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

// A tree without a swtch.S, or one that does not assemble, still builds and runs natively; the
// build says why --swtch=1 cannot run, in the assembler's own words.
TEST(TreeTest, ASwtchThatDoesNotAssembleIsOnlyAReasonForSwtch) {
  const std::string broken = BrokenTree("swtch-broken", "swtch.S", "\n        frobnicate a0, a1\n");
  auto built = BuildTree(broken, Cache(), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(built->swtch_elf.empty());
  EXPECT_NE(
      built->swtch_error.find(broken + "/kernel/swtch.S cannot be assembled and linked for RISC-V"),
      std::string::npos)
      << built->swtch_error;
  // The assembler's own message, on the same line.
  EXPECT_NE(built->swtch_error.find("frobnicate"), std::string::npos) << built->swtch_error;
  EXPECT_EQ(built->swtch_error.find('\n'), std::string::npos) << built->swtch_error;

  const std::string none = BrokenTree("swtch-none", "param.h", "");
  ASSERT_EQ(std::remove((none + "/kernel/swtch.S").c_str()), 0);
  auto without = BuildTree(none, Cache(), nullptr);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_TRUE(without->swtch_elf.empty());
  EXPECT_NE(without->swtch_error.find("has no kernel/swtch.S"), std::string::npos)
      << without->swtch_error;
  // Cached: the same answer without building again.
  auto again = BuildTree(none, Cache(), nullptr);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->swtch_error, without->swtch_error);
}

}  // namespace
}  // namespace switchyard::xv6
