// Proves the UML model's correct kernel finishes its workloads cleanly under random runs (N=1,
// the default N, and many threads sharing mms), and that each planted bug is caught, under the
// expected invariant, within a fixed budget of random runs.
#include "kernel_models/uml/uml.h"

#include <map>
#include <set>

#include "gtest/gtest.h"

namespace switchyard::uml {
namespace {

sim::Outcome RunSeed(const Config& config, uint64_t seed) {
  sim::RandomDecider decider(seed);
  return Run(config, decider, sim::SimOptions{});
}

Config SharedMmConfig() {
  Config config;
  config.workload.fork_weight = 0;
  config.workload.clone_weight = 3;
  config.workload.max_children = 10;
  return config;
}

void ExpectCleanRuns(const Config& config, const char* what) {
  uint64_t switches = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    sim::Outcome o = RunSeed(config, seed);
    ASSERT_EQ(o.kind, sim::Outcome::Kind::kPass)
        << what << " seed " << seed << ": " << o.invariant << ": " << o.message;
    switches += o.switches;
  }
  EXPECT_GT(switches, 300u);
}

TEST(Uml, CorrectKernelPassesWithOneSlot) {
  Config config;
  config.slots = 1;
  ExpectCleanRuns(config, "N=1");
}

TEST(Uml, CorrectKernelPassesWithDefaultSlots) { ExpectCleanRuns(Config{}, "N=default"); }

TEST(Uml, CorrectKernelPassesWithThreadsSharingMms) {
  ExpectCleanRuns(SharedMmConfig(), "shared mm");
}

// The isolation check on its own (the other two address-space checks off) stays quiet on the
// correct kernel too.
TEST(Uml, CorrectKernelNeverTouchesAnotherMmsFrame) {
  Config config;
  config.check_wrap_accounting = false;
  config.check_no_lost_unmaps = false;
  ExpectCleanRuns(config, "isolation only");
}

TEST(Uml, SameSeedSameTrace) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    sim::Outcome a = RunSeed(Config{}, seed);
    sim::Outcome b = RunSeed(Config{}, seed);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.step, b.step) << "seed " << seed;
  }
}

// Run N+1 cannot see run N: the kernel and everything it allocates live in the run's heap arena
// (sim/arena.h), which every run empties and zeroes, so a seed gives the same trace first and
// after thousands of other runs in the same process. Its accesses also fall at the same arena
// offsets, so they are the same cells: where a pending interrupt may land depends on which cells
// the handlers have touched (Simulator::DeliverInterrupts).
TEST(Uml, SameSeedSameTraceAfterThousandsOfOtherRuns) {
  Config config;
  config.workload.processes = 4;
  const sim::Outcome first = RunSeed(config, 7);
  for (uint64_t seed = 1000; seed < 3000; ++seed) RunSeed(config, seed);
  const sim::Outcome again = RunSeed(config, 7);
  EXPECT_EQ(first.trace_hash, again.trace_hash);
  EXPECT_EQ(first.step, again.step);
}

// The invariants each bug may legitimately trip first.
struct Expectation {
  Bug bug;
  std::set<std::string> invariants;
  bool check_wrap_accounting = true;
  bool check_no_lost_unmaps = true;
};

class PlantedBug : public ::testing::TestWithParam<Expectation> {};

constexpr uint64_t kBudget = 300;

TEST_P(PlantedBug, IsFoundWithinTheBudget) {
  Config config;
  config.bug = GetParam().bug;
  config.check_wrap_accounting = GetParam().check_wrap_accounting;
  config.check_no_lost_unmaps = GetParam().check_no_lost_unmaps;
  bool found = false;
  for (uint64_t seed = 0; seed < kBudget && !found; ++seed) {
    sim::Outcome o = RunSeed(config, seed);
    if (o.kind == sim::Outcome::Kind::kPass) continue;
    found = true;
    EXPECT_TRUE(GetParam().invariants.count(o.invariant))
        << "seed " << seed << ": " << o.invariant << ": " << o.message;
  }
  EXPECT_TRUE(found) << BugName(GetParam().bug) << " was not found in " << kBudget << " runs";
}

std::string TestName(const ::testing::TestParamInfo<Expectation>& info) {
  std::string name = BugName(info.param.bug);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  if (!info.param.check_no_lost_unmaps) return name + "_observed_as_isolation";
  return info.param.check_wrap_accounting ? name : name + "_without_wrap_accounting";
}

INSTANTIATE_TEST_SUITE_P(
    Uml, PlantedBug,
    ::testing::Values(
        Expectation{Bug::kWrapOffByOne, {"wrap-accounting"}},
        Expectation{Bug::kPositionModulo, {"wrap-accounting"}},
        Expectation{Bug::kSelfReclaimKeepsMapping, {"no-lost-unmaps"}},
        Expectation{Bug::kContinueBeforeStop, {"one-uml-process-on-host"}},
        Expectation{Bug::kReturnToUserKeepsSignalsBlocked, {"user-mode-interruptible"}},
        // Without the accounting check the ring's bugs still show: a stale host mapping.
        Expectation{Bug::kWrapOffByOne, {"no-lost-unmaps", "isolation"}, false},
        Expectation{Bug::kPositionModulo, {"no-lost-unmaps", "isolation"}, false},
        // With both checks off, each address-space bug is still observable: a process touches
        // a frame that is free or belongs to someone else.
        Expectation{Bug::kWrapOffByOne, {"isolation"}, false, false},
        Expectation{Bug::kPositionModulo, {"isolation"}, false, false},
        Expectation{Bug::kSelfReclaimKeepsMapping, {"isolation"}, false, false}),
    TestName);

}  // namespace
}  // namespace switchyard::uml

namespace switchyard::uml {
namespace {

sim::Outcome RunAt(const Config& config, uint64_t seed, sim::Granularity granularity) {
  sim::RandomDecider decider(seed);
  sim::SimOptions options;
  options.granularity = granularity;
  return Run(config, decider, options);
}

// The narrow-window bugs race the timer between two statements with no hand-placed point
// between them: coarse granularity cannot see them, access granularity finds them, under the
// contract they break.
TEST(Uml, NarrowWindowBugsNeedAccessGranularity) {
  struct Case {
    Bug bug;
    const char* invariant;
  };
  for (Case c : {Case{Bug::kKswapdChecksBeforeSleeping, "kswapd-sleeps-idle"},
                 Case{Bug::kReturnToUserInterruptible, "no-pending-resched-in-user"}}) {
    Config config;
    config.bug = c.bug;
    int coarse = 0;
    for (uint64_t seed = 0; seed < 300; ++seed) {
      coarse += RunAt(config, seed, sim::Granularity::kCoarse).kind != sim::Outcome::Kind::kPass;
    }
    EXPECT_EQ(coarse, 0) << BugName(c.bug) << " was seen at coarse granularity";
    sim::Outcome found;
    for (uint64_t seed = 0; seed < 3000 && found.kind == sim::Outcome::Kind::kPass; ++seed) {
      found = RunAt(config, seed, sim::Granularity::kAccess);
    }
    EXPECT_EQ(found.invariant, c.invariant) << BugName(c.bug) << ": " << found.message;
  }
}

TEST(Uml, ExplorationReachesTheBugWindows) {
  std::map<std::string, uint64_t> reached;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    sim::Outcome o = RunAt(Config{}, seed, sim::Granularity::kAccess);
    ASSERT_EQ(o.kind, sim::Outcome::Kind::kPass);
    for (const auto& [site, count] : o.marks) reached[site] += count;
  }
  for (const char* site : {"kswapd-woken-in-its-sleep-window", "tick-due-at-return-to-user"}) {
    EXPECT_GT(reached[site], 0u) << site;
  }
}

TEST(Uml, CorrectKernelPassesAtCoarseGranularity) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    sim::Outcome o = RunAt(Config{}, seed, sim::Granularity::kCoarse);
    ASSERT_EQ(o.kind, sim::Outcome::Kind::kPass) << "seed " << seed << ": " << o.message;
  }
}

}  // namespace
}  // namespace switchyard::uml
