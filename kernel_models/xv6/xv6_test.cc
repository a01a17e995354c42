// Proves the xv6 model's correct kernel finishes its workloads cleanly under random schedules,
// and that each planted bug is caught, under the expected invariant, within a fixed budget of
// random runs.
#include "kernel_models/xv6/xv6.h"

#include <set>

#include "gtest/gtest.h"

namespace switchyard::xv6 {
namespace {

sim::Outcome RunSeed(const Config& config, uint64_t seed) {
  sim::RandomDecider decider(seed);
  return Run(config, decider, sim::SimOptions{});
}

TEST(Xv6, CorrectKernelPassesRandomRuns) {
  for (int ncpu = 1; ncpu <= 4; ++ncpu) {
    Config config;
    config.ncpu = ncpu;
    for (uint64_t seed = 0; seed < 100; ++seed) {
      sim::Outcome o = RunSeed(config, seed);
      ASSERT_EQ(o.kind, sim::Outcome::Kind::kPass)
          << "ncpu " << ncpu << " seed " << seed << ": " << o.invariant << ": " << o.message;
      EXPECT_GT(o.switches, 0u);
    }
  }
}

TEST(Xv6, ExplorationReachesTheLostWakeupWindow) {
  // The correct kernel's pass means something only if the campaign drives wakeup() into the
  // window where the planted bug loses a wakeup: the sleeper holds p->lock inside sleep().
  Config config;
  config.ncpu = 3;
  uint64_t reached = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    sim::Outcome o = RunSeed(config, seed);
    ASSERT_EQ(o.kind, sim::Outcome::Kind::kPass);
    for (const auto& [site, count] : o.marks) {
      if (site == "wakeup-raced-sleep") reached += count;
    }
  }
  EXPECT_GT(reached, 0u);
}

// The invariants each bug may legitimately trip first.
struct Expectation {
  Bug bug;
  std::set<std::string> invariants;
};

class PlantedBug : public ::testing::TestWithParam<Expectation> {};

TEST_P(PlantedBug, IsFoundWithinTheBudget) {
  Config config;
  config.bug = GetParam().bug;
  config.ncpu = 3;
  int found = 0;
  std::string seen;
  for (uint64_t seed = 0; seed < 200 && found == 0; ++seed) {
    sim::Outcome o = RunSeed(config, seed);
    if (o.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    seen = o.invariant + ": " + o.message;
    EXPECT_TRUE(GetParam().invariants.count(o.invariant)) << "seed " << seed << ": " << seen;
  }
  EXPECT_GT(found, 0) << BugName(GetParam().bug) << " was not found in 200 runs";
}

INSTANTIATE_TEST_SUITE_P(
    Xv6, PlantedBug,
    ::testing::Values(
        Expectation{Bug::kWakeupWithoutLock,
                    {"no-progress", "state-consistency", "one-thread-per-core"}},
        Expectation{Bug::kSchedReleasesEarly,
                    {"state-consistency", "one-thread-per-core", "stack-reused-while-running"}},
        Expectation{Bug::kSchedulerNoInterrupts, {"no-progress"}},
        Expectation{Bug::kForkretKeepsLock, {"panic: acquire", "deadlock", "no-progress"}},
        Expectation{Bug::kSchedulerKeepsCProc, {"c-proc-agrees"}}),
    [](const ::testing::TestParamInfo<Expectation>& info) {
      std::string name = BugName(info.param.bug);
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace switchyard::xv6
