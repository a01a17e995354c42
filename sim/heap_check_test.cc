// Instrumented code's accesses to the models' heap arena (sim/arena.h) are checked: past the end
// of a block is "heap-buffer-overflow", in a freed block (a vector's storage after it grew) is
// "heap-use-after-free", each a violation naming the code; inside a live block is a point. And the
// memory a model declares for its run (RunMemory) is filtered as declared.
#include <string>

#include "gtest/gtest.h"
#include "sim/arena.h"
#include "sim/instrumentation.h"
#include "sim/simulator.h"
#include "sim/testing/heap_fixture.h"

namespace switchyard::sim {
namespace {

class Body : public Machine {
 public:
  explicit Body(void (*body)()) : body_(body) {}
  void Trap(int, int) override {}
  std::string DescribeStuck() override { return "heap fixture"; }
  static void Boot(void* arg) {
    static_cast<Body*>(arg)->body_();
    static_cast<Body*>(arg)->sim->Finish();
  }
  Simulator* sim = nullptr;

 private:
  void (*body_)();
};

Simulator* running = nullptr;  // the simulator RunBody runs, for bodies that need it

Outcome RunBody(void (*body)(), uint32_t accesses_per_tick = 0) {
  RandomDecider decider(1);
  SimOptions options;
  options.cpus = 1;
  options.accesses_per_tick = accesses_per_tick;
  Simulator sim(options, decider);
  running = &sim;
  Arena::Scope heap;
  Body machine(body);
  machine.sim = &sim;
  sim.SetMachine(&machine);
  sim.SetBootFiber(0, sim.CreateFiber("boot", &Body::Boot, &machine));
  return sim.Run();
}

// The same, with the body on vCPU 1 of two (vCPU 0 only makes points until the run ends).
Outcome RunBodyOnCpu1(void (*body)()) {
  RandomDecider decider(1);
  SimOptions options;
  options.cpus = 2;
  Simulator sim(options, decider);
  running = &sim;
  Arena::Scope heap;
  Body machine(body);
  machine.sim = &sim;
  sim.SetMachine(&machine);
  sim.SetBootFiber(0, sim.CreateFiber(
                          "other",
                          [](void* s) {
                            for (;;) static_cast<Simulator*>(s)->Point();
                          },
                          &sim));
  sim.SetBootFiber(1, sim.CreateFiber("boot", &Body::Boot, &machine));
  return sim.Run();
}

TEST(HeapCheck, AccessesInsideALiveBlockArePoints) {
  const Outcome o = RunBody([] {
    auto* v = ArenaNew<ArenaVector<int>>(4, 7);
    testing::HeapFixtureWrite(v->data(), 3, 8);
    if (testing::HeapFixtureRead(v->data(), 3) != 8) std::abort();
  });
  EXPECT_EQ(o.kind, Outcome::Kind::kPass) << o.invariant << ": " << o.message;
  EXPECT_GE(o.step, 2u);
}

TEST(HeapCheck, ReadingPastTheEndOfABlockIsAHeapBufferOverflow) {
  const Outcome o = RunBody([] {
    auto* v = ArenaNew<ArenaVector<int>>(4, 7);
    testing::HeapFixtureRead(v->data(), 4);
  });
  EXPECT_EQ(o.invariant, "heap-buffer-overflow");
  EXPECT_NE(o.message.find("HeapFixtureRead"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("reads 4 bytes"), std::string::npos) << o.message;
}

TEST(HeapCheck, WritingThroughAVectorsOldStorageIsAHeapUseAfterFree) {
  const Outcome o = RunBody([] {
    auto* v = ArenaNew<ArenaVector<int>>(4, 7);
    int* old = v->data();
    v->resize(64);  // new storage; the old block is freed
    testing::HeapFixtureWrite(old, 0, 1);
  });
  EXPECT_EQ(o.invariant, "heap-use-after-free");
  EXPECT_NE(o.message.find("HeapFixtureWrite"), std::string::npos) << o.message;
}

// Memory a model declares for its run (Instrumentation::DeclareForRun): private memory is never a
// point; per-CPU memory is a point only while the vCPU has interrupts on (with a stride, and only
// its own entry); and a declaration ends
// with its run, so the next run's memory at the same arena offsets makes points again.
Instrumentation::Counters counted;  // the counters' change over one body

// Four ints from the arena, declared as `kind` for the run.
int* DeclaredBlock(Instrumentation::RunMemory kind) {
  auto* v = ArenaNew<ArenaVector<int>>(4, 7);
  Instrumentation::DeclareForRun(v->data(), 4 * sizeof(int), kind);
  return v->data();
}

void CountOneWriteAndRead(int* p, int index = 0) {
  const Instrumentation::Counters before = Instrumentation::counters();
  testing::HeapFixtureWrite(p, index, 5);
  if (testing::HeapFixtureRead(p, index) != 5) std::abort();
  const Instrumentation::Counters& after = Instrumentation::counters();
  counted.points = after.points - before.points;
  counted.private_ranges = after.private_ranges - before.private_ranges;
  counted.per_cpu_interrupts_off = after.per_cpu_interrupts_off - before.per_cpu_interrupts_off;
}

TEST(RunMemory, PrivateMemoryIsNeverAPoint) {
  const Outcome o = RunBody([] {
    int* p = DeclaredBlock(Instrumentation::RunMemory::kPrivate);
    running->intr_on();
    CountOneWriteAndRead(p);
  });
  ASSERT_EQ(o.kind, Outcome::Kind::kPass) << o.invariant << ": " << o.message;
  EXPECT_EQ(counted.points, 0u);
  EXPECT_EQ(counted.private_ranges, 2u);
}

TEST(RunMemory, PerCpuMemoryIsAPointOnlyWhileInterruptsAreOn) {
  const Outcome off = RunBody([] {
    int* p = DeclaredBlock(Instrumentation::RunMemory::kPerCpu);
    running->intr_off();
    CountOneWriteAndRead(p);
  });
  ASSERT_EQ(off.kind, Outcome::Kind::kPass) << off.invariant << ": " << off.message;
  EXPECT_EQ(counted.points, 0u);
  EXPECT_EQ(counted.per_cpu_interrupts_off, 2u);

  const Outcome on = RunBody([] {
    int* p = DeclaredBlock(Instrumentation::RunMemory::kPerCpu);
    running->intr_on();
    CountOneWriteAndRead(p);
  });
  ASSERT_EQ(on.kind, Outcome::Kind::kPass) << on.invariant << ": " << on.message;
  EXPECT_EQ(counted.points, 2u);
  EXPECT_EQ(counted.per_cpu_interrupts_off, 0u);
}

// Per-CPU memory declared with a stride (an xv6 tree's cpus[]): only the running vCPU's own entry
// is filtered while interrupts are off; another vCPU's entry is a point (a stale mycpu()). The
// access observer sees the filtered write too, since it changes what checkers read.
int observed_writes = 0;
void CountWrites(void*, const Instrumentation::AccessEvent& event) {
  if (event.write) ++observed_writes;
}

// Writes and reads int `kIndex` of two strided entries of two ints (vCPU 0's, then vCPU 1's)
// with interrupts off, the access observer watching both entries.
template <int kIndex>
void TouchStridedEntryWithInterruptsOff() {
  auto* v = ArenaNew<ArenaVector<int>>(4, 7);
  int* entries = v->data();
  Instrumentation::DeclareForRun(entries, 4 * sizeof(int), Instrumentation::RunMemory::kPerCpu,
                                 2 * sizeof(int));
  Instrumentation::SetAccessObserver(
      &CountWrites, nullptr,
      {{reinterpret_cast<uintptr_t>(entries), reinterpret_cast<uintptr_t>(entries + 4)}});
  observed_writes = 0;
  running->intr_off();
  CountOneWriteAndRead(entries, kIndex);
}

TEST(RunMemory, PerCpuMemoryWithAStrideFiltersOnlyTheRunningVcpusEntry) {
  const Outcome own = RunBody(&TouchStridedEntryWithInterruptsOff<1>);  // vCPU 0's own entry
  ASSERT_EQ(own.kind, Outcome::Kind::kPass) << own.invariant << ": " << own.message;
  EXPECT_EQ(counted.points, 0u);
  EXPECT_EQ(counted.per_cpu_interrupts_off, 2u);
  EXPECT_EQ(observed_writes, 1);

  // vCPU 1's entry, from vCPU 0.
  const Outcome other = RunBody(&TouchStridedEntryWithInterruptsOff<2>);
  Instrumentation::SetAccessObserver(nullptr, nullptr);
  ASSERT_EQ(other.kind, Outcome::Kind::kPass) << other.invariant << ": " << other.message;
  EXPECT_EQ(counted.points, 2u);
  EXPECT_EQ(counted.per_cpu_interrupts_off, 0u);
  EXPECT_EQ(observed_writes, 1);
}

// Per-CPU memory declared to pass time (an xv6 tree's cpus[]): its accesses with interrupts off
// are no points, but each counts toward accesses_per_tick as a point does, and the ticks they
// complete pass at the next point, so code with interrupts off takes as long as when they were
// points. Without passes_time they take no time.
uint64_t ticks_passed = 0;  // the virtual time a body measured
template <bool kPassesTime>
void TwentyFilteredAccessesThenAPoint() {
  auto* v = ArenaNew<ArenaVector<int>>(2, 7);
  int* entry = v->data();
  Instrumentation::DeclareForRun(entry, 2 * sizeof(int), Instrumentation::RunMemory::kPerCpu,
                                 2 * sizeof(int), kPassesTime);
  running->intr_off();
  const uint64_t before = running->now();
  for (int i = 0; i < 10; ++i) CountOneWriteAndRead(entry);
  if (counted.points != 0 || running->now() != before) std::abort();  // owed, not yet passed
  running->intr_on();
  CountOneWriteAndRead(entry);  // two points now: the first passes what is owed
  ticks_passed = running->now() - before;
}

TEST(RunMemory, PerCpuMemoryThatPassesTimeCountsTowardTheNextTick) {
  const Outcome passes = RunBody(&TwentyFilteredAccessesThenAPoint<true>, 4);
  ASSERT_EQ(passes.kind, Outcome::Kind::kPass) << passes.invariant << ": " << passes.message;
  EXPECT_EQ(ticks_passed, 5u);  // 20 accesses at 4 a tick; the two points make no fourth access
  const Outcome not_time = RunBody(&TwentyFilteredAccessesThenAPoint<false>, 4);
  ASSERT_EQ(not_time.kind, Outcome::Kind::kPass) << not_time.invariant << ": " << not_time.message;
  EXPECT_EQ(ticks_passed, 0u);
}

// On vCPU 1, its own entry is entry 1, and vCPU 0's is another's.
TEST(RunMemory, PerCpuMemoryWithAStrideFiltersVcpu1sOwnEntryOnVcpu1) {
  static int index = 0;  // the int the body touches: 2 and 3 are vCPU 1's entry
  for (const auto& [at, points] : {std::pair{2, 0u}, std::pair{0, 2u}}) {
    index = at;
    const Outcome o = RunBodyOnCpu1([] {
      if (running->cpu() != 1) std::abort();
      auto* v = ArenaNew<ArenaVector<int>>(4, 7);
      Instrumentation::DeclareForRun(v->data(), 4 * sizeof(int),
                                     Instrumentation::RunMemory::kPerCpu, 2 * sizeof(int));
      running->intr_off();
      CountOneWriteAndRead(v->data(), index);
      if (running->cpu() != 1) std::abort();
    });
    ASSERT_EQ(o.kind, Outcome::Kind::kPass) << o.invariant << ": " << o.message;
    EXPECT_EQ(counted.points, points) << "int " << at;
    EXPECT_EQ(counted.per_cpu_interrupts_off, 2u - points) << "int " << at;
  }
}

// An access that starts in the running vCPU's own entry and runs into the next one is a point:
// only an access wholly inside its own entry is filtered.
TEST(RunMemory, AnAccessAcrossTwoEntriesIsAPoint) {
  const Outcome o = RunBody([] {
    auto* v = ArenaNew<ArenaVector<int>>(4, 7);
    int* entries = v->data();  // two entries of two ints: vCPU 0's, then vCPU 1's
    Instrumentation::DeclareForRun(entries, 4 * sizeof(int), Instrumentation::RunMemory::kPerCpu,
                                   2 * sizeof(int));
    running->intr_off();
    const Instrumentation::Counters before = Instrumentation::counters();
    testing::HeapFixtureWrite8(entries + 1, 1);  // entry 0's second int and entry 1's first
    counted.points = Instrumentation::counters().points - before.points;
    counted.per_cpu_interrupts_off =
        Instrumentation::counters().per_cpu_interrupts_off - before.per_cpu_interrupts_off;
  });
  ASSERT_EQ(o.kind, Outcome::Kind::kPass) << o.invariant << ": " << o.message;
  EXPECT_EQ(counted.points, 1u);
  EXPECT_EQ(counted.per_cpu_interrupts_off, 0u);
}

// Time that accesses to such memory owe may not pile up: once Simulator::kMaxTicksOwed ticks are
// owed, the next access is a point and pays them, so a loop over a CPU's own entry with
// interrupts off still makes steps (and reaches the step budget and the liveness checks).
TEST(RunMemory, ALoopOverItsOwnEntryStillReachesPoints) {
  const Outcome o = RunBody(
      [] {
        auto* v = ArenaNew<ArenaVector<int>>(2, 7);
        int* entry = v->data();
        Instrumentation::DeclareForRun(entry, 2 * sizeof(int), Instrumentation::RunMemory::kPerCpu,
                                       2 * sizeof(int),
                                       /*passes_time=*/true);
        running->intr_off();
        const Instrumentation::Counters before = Instrumentation::counters();
        const uint64_t now = running->now();
        for (int i = 0; i < 100; ++i) {
          testing::HeapFixtureWrite(entry, 0, i);
          if (testing::HeapFixtureRead(entry, 0) != i) std::abort();
        }
        counted.points = Instrumentation::counters().points - before.points;
        counted.per_cpu_interrupts_off =
            Instrumentation::counters().per_cpu_interrupts_off - before.per_cpu_interrupts_off;
        ticks_passed = running->now() - now;
      },
      4);
  ASSERT_EQ(o.kind, Outcome::Kind::kPass) << o.invariant << ": " << o.message;
  // 16 ticks are owed after 64 accesses (4 a tick): the 65th is a point and pays them; from then
  // on the access counted at each point starts the next tick, so the 129th and 193rd are points.
  EXPECT_EQ(counted.points, 3u);
  EXPECT_EQ(counted.per_cpu_interrupts_off, 197u);
  EXPECT_EQ(ticks_passed, 3u * Simulator::kMaxTicksOwed);
}

TEST(RunMemory, ADeclarationEndsWithItsRun) {
  RunBody([] { DeclaredBlock(Instrumentation::RunMemory::kPrivate); });
  const Outcome o = RunBody([] {
    auto* v = ArenaNew<ArenaVector<int>>(4, 7);  // the same arena offset as the last run's
    CountOneWriteAndRead(v->data());
  });
  ASSERT_EQ(o.kind, Outcome::Kind::kPass) << o.invariant << ": " << o.message;
  EXPECT_EQ(counted.points, 2u);
  EXPECT_EQ(counted.private_ranges, 0u);
}

}  // namespace
}  // namespace switchyard::sim
