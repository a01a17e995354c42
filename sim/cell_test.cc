// Proves what shared-state cells promise: at access granularity a race with no hand-placed point
// inside its window is found, and at coarse granularity it is not; every performed access is
// reported once, in order, with its kind (an exchange is one access); spinning on cells with
// interrupts off is recognised as a deadlock; checkers read cells without making points; cell
// ids follow construction order.
#include "sim/cell.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/simulator.h"

namespace switchyard::sim {
namespace {

// Each of two workers increments a shared counter `iterations` times as `counter = counter + 1`:
// a read and a write of a cell, with no point between them in the model's code. With `locked`,
// the increment is guarded by a spinlock on a cell (amoswap and spin), taken in the order
// given by `lock_order` (two locks, opposite orders per cpu: a deadlock).
struct CounterModel : Machine {
  struct Options {
    int iterations = 5;
    bool locked = false;
    bool opposite_lock_order = false;
    bool checker_reads_counter = false;
  };
  CounterModel(const Options& options, Simulator& sim) : options(options), sim(sim) {
    sim.SetMachine(this);
    for (int cpu = 0; cpu < 2; ++cpu) {
      sim.SetBootFiber(cpu, sim.CreateFiber(absl::StrCat("worker", cpu), &Worker, this));
    }
    if (options.checker_reads_counter) {
      sim.AddInvariant("counter-in-range", [this](std::string* why) {
        if (counter <= 2 * this->options.iterations) return true;
        *why = "counter too large";
        return false;
      });
    }
  }
  void Trap(int, int) override {}
  std::string DescribeStuck() override { return "stuck"; }

  void Acquire(Cell<bool>* lock) {
    while (lock->exchange(true)) sim.Spin();
  }
  static void Worker(void* arg) {
    CounterModel* m = static_cast<CounterModel*>(arg);
    Simulator& sim = m->sim;
    int cpu = sim.cpu();
    for (int i = 0; i < m->options.iterations; ++i) {
      Cell<bool>* first = &m->lock_a;
      Cell<bool>* second = &m->lock_b;
      if (m->options.opposite_lock_order && cpu == 1) std::swap(first, second);
      if (m->options.locked) {
        m->Acquire(first);
        if (m->options.opposite_lock_order) m->Acquire(second);
      }
      m->counter = m->counter + 1;
      if (m->options.locked) {
        if (m->options.opposite_lock_order) *second = false;
        *first = false;
      }
      sim.NoteProgress();
      sim.CoarsePoint();  // between increments
    }
    if (++m->finished == 2) {
      if (m->counter.peek() != 2 * m->options.iterations) sim.Fail("lost-update", "lost");
      sim.Finish();
    }
    for (;;) sim.WaitForInterrupt();
  }

  Options options;
  Simulator& sim;
  Cell<int> counter;
  Cell<bool> lock_a;
  Cell<bool> lock_b;
  int finished = 0;
};

Outcome RunCounter(const CounterModel::Options& options, Decider& decider, Granularity granularity,
                   AccessObserver* observer = nullptr) {
  SimOptions sim_options;
  sim_options.cpus = 2;
  sim_options.granularity = granularity;
  sim_options.progress_budget_ticks = 10'000;
  Simulator sim(sim_options, decider);
  CounterModel model(options, sim);
  sim.SetAccessObserver(observer);
  return sim.Run();
}

TEST(Cell, AccessGranularityFindsARaceThatCoarseMisses) {
  int found_access = 0;
  int found_coarse = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    RandomDecider a(seed);
    Outcome access = RunCounter({}, a, Granularity::kAccess);
    if (access.kind == Outcome::Kind::kSafety) {
      EXPECT_EQ(access.invariant, "lost-update");
      ++found_access;
    }
    RandomDecider c(seed);
    Outcome coarse = RunCounter({}, c, Granularity::kCoarse);
    EXPECT_EQ(coarse.kind, Outcome::Kind::kPass) << coarse.invariant;
    found_coarse += coarse.kind != Outcome::Kind::kPass;
  }
  EXPECT_GT(found_access, 0);
  EXPECT_EQ(found_coarse, 0);
}

TEST(Cell, LockedCounterIsCleanAtAccessGranularity) {
  CounterModel::Options options;
  options.locked = true;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    RandomDecider d(seed);
    Outcome o = RunCounter(options, d, Granularity::kAccess);
    ASSERT_EQ(o.kind, Outcome::Kind::kPass) << "seed " << seed << ": " << o.message;
  }
}

// Records the cell accesses; the pseudo-accesses of time, timers, interrupts and switches
// (kTimeCell, kGlobalCell) are counted apart.
struct Recorder : AccessObserver {
  void OnAccess(const Access& access) override {
    if (access.cell == kGlobalCell || access.cell == kTimeCell) {
      ++pseudo;
      return;
    }
    accesses.push_back(access);
  }
  std::vector<Access> accesses;
  int pseudo = 0;
};

TEST(Cell, EveryAccessIsReportedOnceInOrder) {
  CounterModel::Options options;
  options.iterations = 1;
  options.locked = true;
  BytesDecider d(nullptr, 0);  // no preemption: cpu0's worker runs to its end first
  Recorder recorder;
  Outcome o = RunCounter(options, d, Granularity::kAccess, &recorder);
  ASSERT_EQ(o.kind, Outcome::Kind::kPass) << o.message;
  // Cell ids in construction order: counter 0, lock_a 1, lock_b 2. Per worker: the exchange
  // (one access), the counter's read and write, the lock's release.
  std::vector<std::pair<uint32_t, AccessKind>> want = {
      {1, AccessKind::kReadModifyWrite},
      {0, AccessKind::kRead},
      {0, AccessKind::kWrite},
      {1, AccessKind::kWrite},
  };
  ASSERT_EQ(recorder.accesses.size(), 2 * want.size());
  EXPECT_GT(recorder.pseudo, 0);  // at least the explicit points' time
  for (size_t i = 0; i < recorder.accesses.size(); ++i) {
    const Access& a = recorder.accesses[i];
    EXPECT_EQ(a.cell, want[i % want.size()].first) << i;
    EXPECT_EQ(a.kind, want[i % want.size()].second) << i;
    EXPECT_EQ(a.cpu, i < want.size() ? 0 : 1) << i;
    if (i > 0) EXPECT_GT(a.step, recorder.accesses[i - 1].step) << i;
  }
}

TEST(Cell, CoarseGranularityMakesNoAccessPoints) {
  BytesDecider d(nullptr, 0);
  Recorder recorder;
  Outcome o = RunCounter({}, d, Granularity::kCoarse, &recorder);
  ASSERT_EQ(o.kind, Outcome::Kind::kPass) << o.message;
  EXPECT_TRUE(recorder.accesses.empty());
}

TEST(Cell, SpinningOnCellsWithInterruptsOffIsADeadlock) {
  CounterModel::Options options;
  options.locked = true;
  options.opposite_lock_order = true;
  options.iterations = 50;
  int deadlocks = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    RandomDecider d(seed);
    Outcome o = RunCounter(options, d, Granularity::kAccess);
    if (o.kind == Outcome::Kind::kPass) continue;
    ASSERT_EQ(o.invariant, "deadlock") << "seed " << seed << ": " << o.message;
    ++deadlocks;
  }
  EXPECT_GT(deadlocks, 0);
}

TEST(Cell, CheckersReadCellsWithoutMakingPoints) {
  CounterModel::Options plain;
  CounterModel::Options checked;
  checked.checker_reads_counter = true;
  RandomDecider a(7);
  RandomDecider b(7);
  Outcome without = RunCounter(plain, a, Granularity::kAccess);
  Outcome with = RunCounter(checked, b, Granularity::kAccess);
  EXPECT_EQ(without.step, with.step);
  EXPECT_EQ(without.trace_hash, with.trace_hash);
}

TEST(Cell, OutsideARunAccessesArePlain) {
  Cell<int> x = 3;
  x = x + 1;
  x += 2;
  EXPECT_EQ(x.exchange(10), 6);
  EXPECT_EQ(x.peek(), 10);
}

}  // namespace
}  // namespace switchyard::sim
