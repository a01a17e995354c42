// Proves the xv6 model's correct kernel finishes its workloads cleanly under random schedules
// at both granularities, that each planted bug is caught, under the expected invariant, within
// a fixed budget of random runs, that the narrow-window bugs are found at access granularity and
// missed at coarse granularity, and that the contract-only bugs have no symptom but the
// contract.
#include "kernel_models/xv6/xv6.h"

#include <map>
#include <set>

#include "gtest/gtest.h"

namespace switchyard::xv6 {
namespace {

sim::Outcome RunSeed(const Config& config, uint64_t seed,
                     sim::Granularity granularity = sim::Granularity::kAccess) {
  sim::RandomDecider decider(seed);
  sim::SimOptions options;
  options.granularity = granularity;
  return Run(config, decider, options);
}

TEST(Xv6, CorrectKernelPassesRandomRuns) {
  for (sim::Granularity granularity : {sim::Granularity::kAccess, sim::Granularity::kCoarse}) {
    for (int ncpu = 1; ncpu <= 4; ++ncpu) {
      Config config;
      config.ncpu = ncpu;
      for (uint64_t seed = 0; seed < 100; ++seed) {
        sim::Outcome o = RunSeed(config, seed, granularity);
        ASSERT_EQ(o.kind, sim::Outcome::Kind::kPass)
            << sim::GranularityName(granularity) << " ncpu " << ncpu << " seed " << seed << ": "
            << o.invariant << ": " << o.message;
        EXPECT_GT(o.switches, 0u);
      }
    }
  }
}

TEST(Xv6, ExplorationReachesTheBugWindows) {
  // The correct kernel's pass means something only if the campaign drives it into the windows
  // the planted bugs need: wakeup() meeting a sleeper that holds p->lock inside sleep() (the
  // lost wakeup), and an interrupt due where the narrow-window bugs would take it.
  Config config;
  config.ncpu = 3;
  std::map<std::string, uint64_t> reached;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    sim::Outcome o = RunSeed(config, seed);
    ASSERT_EQ(o.kind, sim::Outcome::Kind::kPass);
    for (const auto& [site, count] : o.marks) reached[site] += count;
  }
  for (const char* site : {"wakeup-raced-sleep", "interrupt-waits-for-pop-off",
                           "interrupt-due-at-acquire", "interrupt-due-at-syscall-entry"}) {
    EXPECT_GT(reached[site], 0u) << site;
  }
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
  for (uint64_t seed = 0; seed < 3000 && found == 0; ++seed) {
    sim::Outcome o = RunSeed(config, seed);
    if (o.kind == sim::Outcome::Kind::kPass) continue;
    ++found;
    seen = o.invariant + ": " + o.message;
    EXPECT_TRUE(GetParam().invariants.count(o.invariant)) << "seed " << seed << ": " << seen;
  }
  EXPECT_GT(found, 0) << BugName(GetParam().bug) << " was not found in 3000 runs";
}

INSTANTIATE_TEST_SUITE_P(
    Xv6, PlantedBug,
    ::testing::Values(
        Expectation{Bug::kWakeupWithoutLock,
                    {"no-progress", "state-consistency", "one-thread-per-core"}},
        Expectation{Bug::kSchedReleasesEarly,
                    {"state-consistency", "runnable-context-saved", "c-proc-agrees",
                     "one-thread-per-core", "stack-reused-while-running"}},
        Expectation{Bug::kSchedulerNoInterrupts, {"no-progress"}},
        Expectation{Bug::kForkretKeepsLock,
                    {"user-mode-holds-no-locks", "panic: acquire", "deadlock", "no-progress"}},
        Expectation{Bug::kSchedulerKeepsCProc, {"c-proc-agrees"}},
        Expectation{Bug::kPopOffEnablesEarly, {"panic: sched locks"}},
        Expectation{Bug::kUsertrapIntrOnEarly, {"exit-status", "panic: init exiting"}},
        Expectation{Bug::kAcquireBeforePushOff, {"interrupts-off-while-holding"}},
        Expectation{Bug::kSchedForgetsIntena,
                    {"intena-belongs-to-thread", "pop-off-restores-interrupts"}},
        Expectation{Bug::kPushOffSavesAfterOff, {"pop-off-restores-interrupts"}}),
    [](const ::testing::TestParamInfo<Expectation>& info) {
      std::string name = BugName(info.param.bug);
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

// The narrow-window bugs open a window between two hand-placed points: coarse granularity cannot
// see them however long it runs, access granularity finds them.
TEST(Xv6, NarrowWindowBugsNeedAccessGranularity) {
  for (Bug bug :
       {Bug::kPopOffEnablesEarly, Bug::kUsertrapIntrOnEarly, Bug::kAcquireBeforePushOff}) {
    Config config;
    config.bug = bug;
    config.ncpu = 3;
    int coarse = 0;
    for (uint64_t seed = 0; seed < 300; ++seed) {
      coarse += RunSeed(config, seed, sim::Granularity::kCoarse).kind != sim::Outcome::Kind::kPass;
    }
    EXPECT_EQ(coarse, 0) << BugName(bug) << " was seen at coarse granularity";
    int access = 0;
    for (uint64_t seed = 0; seed < 200 && access == 0; ++seed) {
      access += RunSeed(config, seed).kind != sim::Outcome::Kind::kPass;
    }
    EXPECT_GT(access, 0) << BugName(bug) << " was not found at access granularity";
  }
}

// The contract-only bugs break a promise of xv6's comments and nothing else: with the contract
// checks off, the same campaign passes.
TEST(Xv6, ContractOnlyBugsHaveNoOtherSymptom) {
  for (Bug bug : {Bug::kSchedForgetsIntena, Bug::kPushOffSavesAfterOff}) {
    Config config;
    config.bug = bug;
    config.ncpu = 3;
    config.check_contracts = false;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      sim::Outcome o = RunSeed(config, seed);
      ASSERT_EQ(o.kind, sim::Outcome::Kind::kPass)
          << BugName(bug) << " seed " << seed << ": " << o.invariant << ": " << o.message;
    }
  }
}

}  // namespace
}  // namespace switchyard::xv6
