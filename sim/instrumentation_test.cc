// Proves the instrumentation runtime and the platform on a tiny instrumented kernel
// (sim/testing/instrumented_fixture.c, built by clang and by gcc): accesses are points that find
// a lost update, atomics are performed and recorded with their kind, the running fiber's own
// stack is filtered out, the module's globals are reset before every run (the same trace hash
// first and after 10,000 other runs), wild pointers and panics are violations naming the code,
// threads started through sy_swtch run on fibers, and the hooks do nothing outside a run.
#include "sim/instrumentation.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/decider.h"
#include "sim/module.h"
#include "sim/platform_host.h"
#include "sim/simulator.h"

namespace switchyard::sim {
namespace {

enum Mode {
  kCounter = 0,
  kLockedCounter = 1,
  kWildWrite = 2,
  kThreads = 3,
  kSharedContext = 4,
  kLocals = 5,
  kPanic = 6,
  kAtomics = 7,
  kLeakedLock = 8,
};

Module& Fixture(bool gcc = false) {
  static Module* clang_module = nullptr;
  static Module* gcc_module = nullptr;
  Module*& m = gcc ? gcc_module : clang_module;
  if (m == nullptr) {
    auto loaded =
        Module::Load(gcc ? "sim/libinstrumented_fixture_gcc.so" : "sim/libinstrumented_fixture.so");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    m = loaded->release();
  }
  return *m;
}

template <typename T>
T& Global(Module& m, const char* name) {
  auto* p = static_cast<T*>(m.Symbol(name));
  EXPECT_NE(p, nullptr) << name;
  return *p;
}

class Recorder : public AccessObserver {
 public:
  void OnAccess(const Access& access) override { accesses.push_back(access); }
  std::vector<Access> accesses;
};

struct RunOptions {
  int mode = kCounter;
  int cpus = 2;
  int rounds = 3;
  bool gcc = false;
  AccessObserver* observer = nullptr;
  volatile int* wild = nullptr;
};

Outcome RunFixture(uint64_t seed, const RunOptions& o) {
  Module& m = Fixture(o.gcc);
  m.Reset();
  Global<int>(m, "fixture_mode") = o.mode;
  Global<int>(m, "fixture_rounds") = o.rounds;
  Global<int>(m, "fixture_cpus_count") = o.cpus;
  Global<volatile int*>(m, "fixture_wild") = o.wild;
  RandomDecider decider(seed);
  SimOptions options;
  options.cpus = o.cpus;
  options.max_steps = 100'000;
  options.access_observer = o.observer;
  Simulator sim(options, decider);
  Platform platform(sim);
  auto* boot = reinterpret_cast<void (*)(int)>(m.Symbol("fixture_boot"));
  EXPECT_NE(boot, nullptr);
  for (int cpu = 0; cpu < o.cpus; ++cpu) platform.Boot(cpu, boot);
  return sim.Run();
}

TEST(InstrumentationTest, PlainAccessesArePointsThatFindALostUpdate) {
  for (bool gcc : {false, true}) {
    int lost = 0;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      Outcome out = RunFixture(seed, {.mode = kCounter, .gcc = gcc});
      ASSERT_NE(out.kind, Outcome::Kind::kLiveness) << out.invariant << ": " << out.message;
      if (out.kind == Outcome::Kind::kSafety) {
        EXPECT_EQ(out.invariant, "lost-update");
        ++lost;
      }
    }
    // A lost update needs the other vCPU to run between one vCPU's load and store.
    EXPECT_GT(lost, 5) << (gcc ? "gcc" : "clang");
    EXPECT_LT(lost, 200) << (gcc ? "gcc" : "clang");
  }
}

TEST(InstrumentationTest, AtomicTestAndSetLockIsCorrectAndSpinsAreDetected) {
  for (uint64_t seed = 0; seed < 500; ++seed) {
    Outcome out = RunFixture(seed, {.mode = kLockedCounter, .cpus = 3});
    ASSERT_EQ(out.kind, Outcome::Kind::kPass)
        << "seed " << seed << ": " << out.invariant << ": " << out.message;
  }
}

TEST(InstrumentationTest, FailedTestAndSetIsASpinSoALeakedLockIsADeadlock) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Outcome out = RunFixture(seed, {.mode = kLeakedLock});
    ASSERT_EQ(out.kind, Outcome::Kind::kLiveness) << out.invariant << ": " << out.message;
    EXPECT_EQ(out.invariant, "deadlock") << out.message;
  }
}

TEST(InstrumentationTest, AtomicsArePerformedAndRecordedAsReadModifyWrites) {
  Recorder recorder;
  Outcome out = RunFixture(1, {.mode = kAtomics, .observer = &recorder});
  ASSERT_EQ(out.kind, Outcome::Kind::kPass) << out.invariant << ": " << out.message;
  Module& m = Fixture();
  // load 0, store 5, add 2 -> 7, cas 7 -> 9, or 16 -> 25 (returns 9).
  EXPECT_EQ(Global<long>(m, "lock_word"), 25);
  EXPECT_EQ(Global<long>(m, "fixture_atomic_result"), 9);
  uint32_t lock_cell = 0;
  ASSERT_TRUE(
      Instrumentation::CellOf(reinterpret_cast<uintptr_t>(m.Symbol("lock_word")), &lock_cell));
  std::vector<AccessKind> kinds;
  for (const Access& a : recorder.accesses) {
    if (a.cell == lock_cell) kinds.push_back(a.kind);
  }
  // cpu0's five atomics; finished_cpus is another cell.
  ASSERT_EQ(kinds.size(), 5u);
  EXPECT_EQ(kinds[0], AccessKind::kRead);
  EXPECT_EQ(kinds[1], AccessKind::kWrite);
  for (int i = 2; i < 5; ++i) EXPECT_EQ(kinds[i], AccessKind::kReadModifyWrite);
}

TEST(InstrumentationTest, CellIdsAreRegionOffsetsNotAddresses) {
  Module& m = Fixture();
  uint32_t counter_cell = 0;
  uint32_t lock_cell = 0;
  const auto counter = reinterpret_cast<uintptr_t>(m.Symbol("counter"));
  const auto lock = reinterpret_cast<uintptr_t>(m.Symbol("lock_word"));
  ASSERT_TRUE(Instrumentation::CellOf(counter, &counter_cell));
  ASSERT_TRUE(Instrumentation::CellOf(lock, &lock_cell));
  EXPECT_EQ(counter_cell & 0xFFFFFFu, (counter - m.data_begin()) >> 3);
  EXPECT_EQ(counter_cell >> 24, lock_cell >> 24);
  EXPECT_NE(counter_cell >> 24, 0u);
}

TEST(InstrumentationTest, OwnStackAccessesAreNotPoints) {
  const auto before = Instrumentation::counters();
  Recorder recorder;
  Outcome out = RunFixture(0, {.mode = kLocals, .cpus = 1, .observer = &recorder});
  ASSERT_EQ(out.kind, Outcome::Kind::kPass) << out.invariant << ": " << out.message;
  const auto after = Instrumentation::counters();
  // Eight stores and eight loads of the volatile local array.
  EXPECT_GE(after.own_stack - before.own_stack, 16u);
  for (const Access& a : recorder.accesses) {
    EXPECT_NE(a.cell >> 24, Instrumentation::kStackRegion) << "an access to a stack was a point";
  }
}

TEST(InstrumentationTest, GlobalsAreResetBeforeEveryRun) {
  const Outcome first = RunFixture(42, {.mode = kCounter});
  EXPECT_EQ(Global<int>(Fixture(), "fixture_first_seen"), 1);
  for (uint64_t seed = 0; seed < 10'000; ++seed) RunFixture(seed, {.mode = kCounter});
  const Outcome again = RunFixture(42, {.mode = kCounter});
  EXPECT_EQ(Global<int>(Fixture(), "fixture_first_seen"), 1);
  EXPECT_EQ(first.kind, again.kind);
  EXPECT_EQ(first.step, again.step);
  EXPECT_EQ(first.trace_hash, again.trace_hash);
}

TEST(InstrumentationTest, AWildWriteIsAViolationNamingTheCode) {
  static volatile int host_memory = 0;
  Outcome out = RunFixture(0, {.mode = kWildWrite, .cpus = 1, .wild = &host_memory});
  ASSERT_EQ(out.kind, Outcome::Kind::kSafety);
  EXPECT_EQ(out.invariant, "unattributed-access");
  EXPECT_NE(out.message.find("libinstrumented_fixture.so+0x"), std::string::npos) << out.message;
  EXPECT_NE(out.message.find("fixture_boot"), std::string::npos) << out.message;
  EXPECT_EQ(host_memory, 0);
}

TEST(InstrumentationTest, PanicIsAViolationWithTheMessageAndTheCode) {
  Outcome out = RunFixture(0, {.mode = kPanic, .cpus = 1});
  ASSERT_EQ(out.kind, Outcome::Kind::kSafety);
  EXPECT_EQ(out.invariant, "panic");
  EXPECT_NE(out.message.find("fixture panics (at libinstrumented_fixture.so+0x"), std::string::npos)
      << out.message;
}

TEST(InstrumentationTest, SwtchStartsAndResumesThreads) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Outcome out = RunFixture(seed, {.mode = kThreads, .rounds = 4});
    ASSERT_EQ(out.kind, Outcome::Kind::kPass) << out.invariant << ": " << out.message;
    EXPECT_GE(out.switches, 8u);
  }
}

TEST(InstrumentationTest, ResumingARunningThreadIsFound) {
  int found = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Outcome out = RunFixture(seed, {.mode = kSharedContext});
    if (out.kind == Outcome::Kind::kSafety) {
      EXPECT_TRUE(out.invariant == "one-thread-per-core" ||
                  out.invariant == "stack-reused-while-running")
          << out.invariant;
      ++found;
    }
  }
  EXPECT_EQ(found, 50);
}

TEST(InstrumentationTest, HooksDoNothingOutsideARun) {
  Module& m = Fixture();
  m.Reset();
  const auto before = Instrumentation::counters();
  auto* touch = reinterpret_cast<int (*)()>(m.Symbol("fixture_touch"));
  ASSERT_NE(touch, nullptr);
  EXPECT_EQ(touch(), 1);
  EXPECT_EQ(touch(), 2);
  EXPECT_EQ(Instrumentation::counters().points, before.points);
  EXPECT_GE(Instrumentation::counters().outside_run, before.outside_run + 2);
  EXPECT_TRUE(Instrumentation::CallStack().empty());
}

TEST(InstrumentationTest, EachBuildIsDeterministic) {
  // Each build is deterministic on its own: the same seed twice gives the same hash.
  for (bool gcc : {false, true}) {
    Outcome a = RunFixture(7, {.mode = kLockedCounter, .cpus = 3, .gcc = gcc});
    Outcome b = RunFixture(7, {.mode = kLockedCounter, .cpus = 3, .gcc = gcc});
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    EXPECT_EQ(a.step, b.step);
  }
}

TEST(InstrumentationTest, LoadingSomethingThatIsNotAModuleIsAnError) {
  auto missing = Module::Load("sim/no-such-module.so");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot load sim/no-such-module.so"),
            std::string::npos);
}

}  // namespace
}  // namespace switchyard::sim
