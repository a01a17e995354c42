// The correct library passes under every compiler configuration, cooperative and preemptive;
// each planted bug is caught, under the expected invariant, within a few seeds; runs are
// deterministic.
#include "kernel_models/ult/ult.h"

#include <string>

#include "gtest/gtest.h"

namespace switchyard::ult {
namespace {

sim::Outcome RunSeed(const Program& program, bool preemptive, uint64_t seed) {
  Config config;
  config.program = &program;
  config.preemptive = preemptive;
  sim::RandomDecider decider(seed);
  return Run(config, decider, sim::SimOptions{}, nullptr);
}

TEST(UltTest, CorrectLibraryPassesEveryConfiguration) {
  ASSERT_GE(CorrectPrograms().size(), 4u);
  for (const Program& p : CorrectPrograms()) {
    for (bool preemptive : {false, true}) {
      for (uint64_t seed = 0; seed < 15; ++seed) {
        sim::Outcome o = RunSeed(p, preemptive, seed);
        EXPECT_EQ(o.kind, sim::Outcome::Kind::kPass)
            << p.name << (preemptive ? " preemptive" : "") << " seed " << seed << ": "
            << o.invariant << ": " << o.message;
      }
    }
  }
}

TEST(UltTest, EveryPlantedBugIsCaught) {
  const std::pair<std::string, std::string> expected[] = {
      {"ebp-epilogue-pops-old-stack", "switch-moves-stack"},
      {"ebp-omit-frame-pointer", "switch-moves-stack"},
      {"ebp-switch-inlined", "switch-moves-stack"},
      {"ebp-callee-saved-live", "callee-saved-preserved"},
      {"frame-off-by-one", "new-thread-entry"},
      {"frame-misaligned", "new-thread-entry"},
      {"remove-running", "thread-self-check"},
      {"threadcount-not-updated", "threadcount-matches-ring"},
      {"signal-race", "current-names-active-stack"},
      {"release-returns-blocked", "user-code-preemptible"},
  };
  ASSERT_EQ(Bugs().size(), std::size(expected));
  for (const Bug& bug : Bugs()) {
    const Program* program = FindProgram(bug.program);
    ASSERT_NE(program, nullptr) << bug.name;
    bool found = false;
    for (uint64_t seed = 0; seed < 20 && !found; ++seed) {
      sim::Outcome o = RunSeed(*program, bug.preemptive || bug.needs_preemptive_option, seed);
      if (o.kind == sim::Outcome::Kind::kPass) continue;
      found = true;
      for (const auto& [name, invariant] : expected) {
        if (name == bug.name) EXPECT_EQ(o.invariant, invariant) << bug.name << ": " << o.message;
      }
    }
    EXPECT_TRUE(found) << bug.name;
  }
}

TEST(UltTest, SameSeedSameTraceHash) {
  const Program& p = CorrectPrograms()[1];
  for (bool preemptive : {false, true}) {
    sim::Outcome a = RunSeed(p, preemptive, 7), b = RunSeed(p, preemptive, 7);
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    EXPECT_EQ(a.step, b.step);
  }
}

}  // namespace
}  // namespace switchyard::ult
