// Proves the decider's contracts: seeded streams are independent and reproducible, replay
// reproduces a log and reports divergence, fuzzer bytes default to 0 when exhausted, PCT
// with depth 1 always keeps the highest-priority vCPU, and burst scheduling stays on the running
// vCPU for bursts of every scale, is fixed by its seed, and replays exactly from its log.
#include "sim/decider.h"

#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace switchyard::sim {
namespace {

TEST(RandomDecider, SameSeedSameChoices) {
  RandomDecider a(42), b(42);
  StreamId sa = a.Stream("workload"), sb = b.Stream("workload");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Choose(sa, 1000), b.Choose(sb, 1000));
}

TEST(RandomDecider, AddingChoicesOnOneStreamDoesNotShiftAnother) {
  RandomDecider a(7), b(7);
  StreamId wa = a.Stream("workload");
  StreamId da = a.Stream("disk");
  StreamId wb = b.Stream("workload");
  StreamId db = b.Stream("disk");
  std::vector<uint32_t> from_a, from_b;
  for (int i = 0; i < 50; ++i) {
    from_a.push_back(a.Choose(wa, 97));
    a.Choose(da, 5);  // extra choices on another stream
    a.Choose(da, 5);
    from_b.push_back(b.Choose(wb, 97));
  }
  EXPECT_EQ(from_a, from_b);
  (void)db;
}

TEST(Decider, SingleOptionChoicesAreNotRecorded) {
  RandomDecider d(1);
  StreamId s = d.Stream("x");
  EXPECT_EQ(d.Choose(s, 1), 0u);
  uint8_t one_cpu[] = {3};
  EXPECT_EQ(d.PickCpu(one_cpu, 1), 0u);
  EXPECT_TRUE(d.log().decisions.empty());
}

RC_GTEST_PROP(ReplayDecider, ReplayOfARandomRunGivesTheSameChoices,
              (uint64_t seed, std::vector<uint8_t> sizes)) {
  RandomDecider random(seed);
  StreamId a = random.Stream("a");
  std::vector<uint32_t> values;
  for (uint8_t n : sizes) values.push_back(random.Choose(a, n + 1u));
  ReplayDecider replay(random.log());
  StreamId b = replay.Stream("a");
  for (size_t i = 0; i < sizes.size(); ++i) RC_ASSERT(replay.Choose(b, sizes[i] + 1u) == values[i]);
  RC_ASSERT(!replay.divergence().has_value());
  RC_ASSERT(replay.log().decisions == random.log().decisions);
}

TEST(ReplayDecider, ReportsWhereTheRunLeavesTheLog) {
  RandomDecider random(3);
  StreamId s = random.Stream("workload");
  random.Choose(s, 4);
  random.Choose(s, 4);
  ReplayDecider replay(random.log());
  StreamId r = replay.Stream("workload");
  replay.Choose(r, 4);
  replay.Choose(r, 5);  // the model changed: five options now
  ASSERT_TRUE(replay.divergence().has_value());
  EXPECT_EQ(replay.divergence()->decision_index, 1u);
  EXPECT_EQ(replay.divergence()->detail,
            "decision 1: the log has a choice among 4 on stream 'workload', the run asked for a "
            "choice among 5 on stream 'workload'");
}

TEST(ReplayDecider, RunningPastTheLogIsADivergence) {
  ReplayDecider replay(DecisionLog{{"schedule"}, {}});
  replay.Choose(replay.Stream("w"), 3);
  ASSERT_TRUE(replay.divergence().has_value());
}

TEST(BytesDecider, DefaultsToZeroWhenBytesRunOut) {
  const uint8_t bytes[] = {7};
  BytesDecider d(bytes, sizeof bytes);
  StreamId s = d.Stream("w");
  EXPECT_EQ(d.Choose(s, 5), 2u);  // 7 % 5
  for (int i = 0; i < 10; ++i) EXPECT_EQ(d.Choose(s, 5), 0u);
  uint8_t cpus[] = {1, 2, 0};
  EXPECT_EQ(d.PickCpu(cpus, 1), 0u);
}

TEST(BytesDecider, ScheduleBytesPickACpuAndHoldIt) {
  const uint8_t bytes[] = {1, 2};  // candidate 1, then keep it for two more picks
  BytesDecider d(bytes, sizeof bytes);
  uint8_t first[] = {0, 1, 2};
  EXPECT_EQ(d.PickCpu(first, 1), 1u);
  uint8_t second[] = {1, 2, 0};
  EXPECT_EQ(d.PickCpu(second, 2), 0u);
  uint8_t third[] = {2, 0, 1};
  EXPECT_EQ(d.PickCpu(third, 3), 2u);  // cpu1 is at index 2 now
  EXPECT_EQ(d.PickCpu(third, 4), 0u);  // bytes exhausted: no preemption
}

TEST(PctDecider, DepthOneKeepsTheHighestPriorityCpu) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    PctDecider d(seed, /*depth=*/1, /*expected_steps=*/100, /*cpus=*/4);
    uint8_t all[] = {0, 1, 2, 3};
    uint8_t chosen = all[d.PickCpu(all, 0)];
    for (uint64_t step = 1; step < 200; ++step) {
      uint8_t rotated[4];
      for (int i = 0; i < 4; ++i) rotated[i] = static_cast<uint8_t>((chosen + i) % 4);
      ASSERT_EQ(d.PickCpu(rotated, step), 0u) << "seed " << seed << " step " << step;
    }
  }
}

TEST(PctDecider, DeeperRunsDoPreempt) {
  int preempted = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    PctDecider d(seed, /*depth=*/3, /*expected_steps=*/100, /*cpus=*/4);
    uint8_t chosen = 0;
    for (uint64_t step = 1; step < 200; ++step) {
      uint8_t rotated[4];
      for (int i = 0; i < 4; ++i) rotated[i] = static_cast<uint8_t>((chosen + i) % 4);
      uint32_t index = d.PickCpu(rotated, step);
      if (index != 0 && step > 1) ++preempted;
      chosen = rotated[index];
    }
  }
  EXPECT_GT(preempted, 0);
}

TEST(PctDecider, ThreadPicksKeepTheHighestPriorityThreadAtDepthOne) {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    PctDecider d(seed, /*depth=*/1, /*expected_steps=*/100, /*cpus=*/1);
    StreamId runqueue = d.Stream("runqueue");
    const uint32_t pids[] = {3, 7, 9};
    uint32_t first = d.PickThread(runqueue, pids, 1);
    for (uint64_t step = 2; step < 100; ++step) {
      ASSERT_EQ(d.PickThread(runqueue, pids, step), first) << "seed " << seed;
    }
  }
}

TEST(PctDecider, ThreadPicksChangeAtChangePoints) {
  int changed = 0;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    PctDecider d(seed, /*depth=*/4, /*expected_steps=*/50, /*cpus=*/1);
    StreamId runqueue = d.Stream("runqueue");
    const uint32_t pids[] = {3, 7, 9};
    uint32_t first = d.PickThread(runqueue, pids, 0);
    for (uint64_t step = 1; step < 60; ++step)
      changed += d.PickThread(runqueue, pids, step) != first;
  }
  EXPECT_GT(changed, 0);
}

// Drives a decider as the simulator does: candidates start with the vCPU that ran last, then
// round robin, and SetPosition tells the decider which vCPU each pick chose. Returns the vCPU
// chosen at each step.
std::vector<uint8_t> DriveCpus(Decider& d, int cpus, uint64_t steps) {
  std::vector<uint8_t> chosen;
  uint8_t all[8];
  for (int i = 0; i < cpus; ++i) all[i] = static_cast<uint8_t>(i);
  uint8_t running = all[d.PickCpu({all, static_cast<size_t>(cpus)}, 0)];
  d.SetPosition(0, running);
  for (uint64_t step = 1; step <= steps; ++step) {
    uint8_t rotated[8];
    for (int i = 0; i < cpus; ++i) rotated[i] = static_cast<uint8_t>((running + i) % cpus);
    running = rotated[d.PickCpu({rotated, static_cast<size_t>(cpus)}, step)];
    d.SetPosition(step, running);
    chosen.push_back(running);
  }
  return chosen;
}

// The lengths of the runs of equal vCPUs in a schedule.
std::vector<uint64_t> Bursts(const std::vector<uint8_t>& schedule) {
  std::vector<uint64_t> bursts;
  for (size_t i = 0; i < schedule.size(); ++i) {
    if (i == 0 || schedule[i] != schedule[i - 1]) bursts.push_back(0);
    ++bursts.back();
  }
  return bursts;
}

TEST(BurstDecider, SameSeedSameSchedule) {
  BurstDecider a(99, 1000), b(99, 1000);
  EXPECT_EQ(DriveCpus(a, 3, 5000), DriveCpus(b, 3, 5000));
  BurstDecider c(100, 1000);
  BurstDecider d(99, 1000);
  EXPECT_NE(DriveCpus(c, 3, 5000), DriveCpus(d, 3, 5000));
}

// The schedule is fixed by its definition (splitmix64 and integer arithmetic only), not by this
// build: the same picks in every process, with every compiler. A change of these values changes
// every burst reproducer's meaning for `run --seed`, so it must be deliberate.
TEST(BurstDecider, ScheduleIsPinned) {
  BurstDecider d(7, 16);
  std::vector<uint8_t> schedule = DriveCpus(d, 3, 60);
  std::string text;
  for (uint8_t c : schedule) text += static_cast<char>('0' + c);
  EXPECT_EQ(text, "022222222222222221112222222222222222111111111111122222222222");
}

TEST(BurstDecider, MaxBurstOneSwitchesAtEveryPoint) {
  BurstDecider d(5, 1);
  std::vector<uint8_t> schedule = DriveCpus(d, 2, 500);
  for (size_t i = 1; i < schedule.size(); ++i) {
    ASSERT_NE(schedule[i], schedule[i - 1]) << "step " << i;
  }
}

// Log-uniform lengths: with bursts up to 2^16 points, short bursts (a switch within 3 points) and
// long ones (over 4096 points) both happen, and no burst is longer than the bound.
TEST(BurstDecider, BurstsOfEveryScaleHappen) {
  int short_bursts = 0, long_bursts = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    BurstDecider d(seed, uint64_t{1} << 16);
    std::vector<uint64_t> bursts = Bursts(DriveCpus(d, 2, 200000));
    // The last burst may have been cut by the end of the schedule; the others are whole.
    for (size_t i = 0; i + 1 < bursts.size(); ++i) {
      ASSERT_LE(bursts[i], uint64_t{1} << 16);
      short_bursts += bursts[i] <= 3;
      long_bursts += bursts[i] > 4096;
    }
  }
  EXPECT_GT(short_bursts, 20);
  EXPECT_GT(long_bursts, 10);
}

// Uniform random switching gives the other vCPU about two points at a time; bursts keep a vCPU
// running much longer on average.
TEST(BurstDecider, StaysLongerThanRandom) {
  RandomDecider random(3);
  BurstDecider burst(3, 4096);
  std::vector<uint64_t> r = Bursts(DriveCpus(random, 2, 100000));
  std::vector<uint64_t> b = Bursts(DriveCpus(burst, 2, 100000));
  EXPECT_GT(r.size(), 10 * b.size());
}

// A vCPU that cannot run on (the simulator leaves it out of the candidates) is left at once,
// whatever its burst: the pick among the others is drawn, not "index 0 = stay".
TEST(BurstDecider, LeavesAVcpuThatCannotRun) {
  int picked[2] = {0, 0};
  for (uint64_t seed = 0; seed < 50; ++seed) {
    BurstDecider d(seed, 1 << 20);
    DriveCpus(d, 3, 10);
    const uint8_t without_running[] = {static_cast<uint8_t>((d.position_cpu() + 1) % 3),
                                       static_cast<uint8_t>((d.position_cpu() + 2) % 3)};
    uint32_t index = d.PickCpu(without_running, 11);
    ASSERT_LT(index, 2u);
    ++picked[index];
  }
  EXPECT_GT(picked[0], 5);
  EXPECT_GT(picked[1], 5);
}

RC_GTEST_PROP(BurstDecider, ReplayOfABurstLogGivesTheSameSchedule,
              (uint64_t seed, uint8_t log2_max_burst)) {
  const uint64_t max_burst = uint64_t{1} << (log2_max_burst % 20);
  BurstDecider burst(seed, max_burst);
  StreamId timer = burst.Stream("timer");
  std::vector<uint8_t> schedule = DriveCpus(burst, 3, 3000);
  uint32_t jitter = burst.Choose(timer, 10);
  ReplayDecider replay(burst.log());
  RC_ASSERT(DriveCpus(replay, 3, 3000) == schedule);
  RC_ASSERT(replay.Choose(replay.Stream("timer"), 10) == jitter);
  RC_ASSERT(!replay.divergence().has_value());
  RC_ASSERT(replay.log().decisions == burst.log().decisions);
}

// Drives a conflict-directed decider as the simulator does, each step's vCPU first making an
// access to a cell: `shared` makes every vCPU use cell 1 (a write every 4th step), otherwise
// each vCPU has its own cell. Returns the schedule.
std::vector<uint8_t> DriveWithAccesses(BurstDecider& d, int cpus, uint64_t steps, bool shared) {
  std::vector<uint8_t> chosen;
  uint8_t all[8];
  for (int i = 0; i < cpus; ++i) all[i] = static_cast<uint8_t>(i);
  uint8_t running = all[d.PickCpu({all, static_cast<size_t>(cpus)}, 0)];
  d.SetPosition(0, running);
  for (uint64_t step = 1; step <= steps; ++step) {
    const uint32_t cell = shared ? 1u : 0x01000000u + running;
    d.NoteAccess(running, cell, step % 4 == 0, step);
    uint8_t rotated[8];
    for (int i = 0; i < cpus; ++i) rotated[i] = static_cast<uint8_t>((running + i) % cpus);
    running = rotated[d.PickCpu({rotated, static_cast<size_t>(cpus)}, step)];
    d.SetPosition(step, running);
    chosen.push_back(running);
  }
  return chosen;
}

TEST(BurstDecider, OnlyConflictDirectedBurstsAskForAccesses) {
  EXPECT_FALSE(BurstDecider(1, 100).wants_accesses());
  EXPECT_TRUE(BurstDecider(1, 100, /*conflict_directed=*/true).wants_accesses());
}

// Accesses of one cell by two vCPUs, some of them writes, cut bursts short; the same schedule
// with every vCPU on its own cell never does, and is the plain burst schedule.
TEST(BurstDecider, ConflictingAccessesEndBurstsEarly) {
  BurstDecider shared(8, 1 << 14, true);
  std::vector<uint64_t> with_conflicts = Bursts(DriveWithAccesses(shared, 2, 50000, true));
  EXPECT_GT(shared.conflict_cuts(), 10u);
  BurstDecider disjoint(8, 1 << 14, true);
  BurstDecider plain(8, 1 << 14);
  std::vector<uint8_t> schedule = DriveWithAccesses(disjoint, 2, 50000, false);
  EXPECT_EQ(disjoint.conflict_cuts(), 0u);
  EXPECT_EQ(schedule, DriveCpus(plain, 2, 50000));
  EXPECT_GT(with_conflicts.size(), 2 * Bursts(schedule).size());
}

RC_GTEST_PROP(BurstDecider, ReplayOfAConflictDirectedLogGivesTheSameSchedule, (uint64_t seed)) {
  BurstDecider conflict(seed, 1 << 10, true);
  std::vector<uint8_t> schedule = DriveWithAccesses(conflict, 3, 3000, true);
  ReplayDecider replay(conflict.log());
  RC_ASSERT(DriveCpus(replay, 3, 3000) == schedule);
  RC_ASSERT(!replay.divergence().has_value());
}

// Other streams are the random strategy's: adding burst scheduling does not shift a workload.
TEST(BurstDecider, OtherStreamsAreTheRandomStrategys) {
  BurstDecider burst(11, 100);
  RandomDecider random(11);
  StreamId wb = burst.Stream("workload"), wr = random.Stream("workload");
  DriveCpus(burst, 2, 100);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(burst.Choose(wb, 1000), random.Choose(wr, 1000));
}

}  // namespace
}  // namespace switchyard::sim
