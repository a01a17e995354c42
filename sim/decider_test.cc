// Proves the decider's contracts: seeded streams are independent and reproducible, replay
// reproduces a log and reports divergence, fuzzer bytes default to 0 when exhausted, and PCT
// with depth 1 always keeps the highest-priority vCPU.
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

}  // namespace
}  // namespace switchyard::sim
