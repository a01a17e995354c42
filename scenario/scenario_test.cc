// Proves scenarios resolve with one-line errors for bad input, swarm draws (options and
// --strategy=swarm's strategy) depend only on the seed and are explicit after Resolve, and a run
// turned into a reproducer (random, and burst) replays to the same trace hash.
#include "scenario/scenario.h"

#include <set>

#include "gtest/gtest.h"

namespace switchyard::scenario {
namespace {

TEST(Resolve, FillsDefaultsAndRejectsBadInput) {
  Scenario s;
  ASSERT_TRUE(Resolve(&s).ok());
  EXPECT_EQ(s.options.at("cpus"), 2);
  Scenario bad_model;
  bad_model.model = "linux";
  EXPECT_EQ(Resolve(&bad_model).message(),
            "unknown model 'linux' (models: xv6, uml, ult, switch, uthread)");
  Scenario bad_bug;
  bad_bug.bug = "typo";
  EXPECT_NE(Resolve(&bad_bug).message().find("unknown bug 'typo' for model xv6"),
            std::string::npos);
  Scenario bad_option;
  bad_option.options["cpus"] = 99;
  EXPECT_EQ(Resolve(&bad_option).message(), "option cpus=99 is out of range [1, 8]");
  Scenario storm;
  storm.options["timer_period"] = 50;
  EXPECT_EQ(Resolve(&storm).message(),
            "timer_period=50 must be at least 8*nproc+20=84, so that a process can run between "
            "two timer ticks");
  Scenario bigger;
  bigger.options["nproc"] = 32;  // the default timer period grows to fit
  ASSERT_TRUE(Resolve(&bigger).ok());
  EXPECT_EQ(bigger.options.at("timer_period"), 8 * 32 + 20);
  Scenario unknown_option;
  unknown_option.options["frobs"] = 1;
  EXPECT_NE(Resolve(&unknown_option).message().find("has no option 'frobs'"), std::string::npos);
  // A tree's points are its memory accesses: coarse granularity would check almost nothing. The
  // check comes before the tree is compiled.
  Scenario coarse_tree;
  coarse_tree.options["kernel"] = 1;  // builtin
  coarse_tree.granularity = "coarse";
  EXPECT_NE(Resolve(&coarse_tree)
                .message()
                .find("--granularity=coarse: this code's points are its "
                      "memory accesses"),
            std::string::npos);
  Scenario coarse_model;
  coarse_model.granularity = "coarse";
  EXPECT_TRUE(Resolve(&coarse_model).ok());
}

TEST(Resolve, SwarmDrawsDependOnlyOnTheSeed) {
  Scenario a, b, c;
  a.swarm = b.swarm = c.swarm = true;
  a.seed = b.seed = 5;
  b.strategy = "pct";
  c.seed = 6;
  ASSERT_TRUE(Resolve(&a).ok());
  ASSERT_TRUE(Resolve(&b).ok());
  ASSERT_TRUE(Resolve(&c).ok());
  EXPECT_EQ(a.options, b.options);
  Scenario explicit_cpus;
  explicit_cpus.swarm = true;
  explicit_cpus.seed = 5;
  explicit_cpus.options["cpus"] = 7;
  ASSERT_TRUE(Resolve(&explicit_cpus).ok());
  EXPECT_EQ(explicit_cpus.options.at("cpus"), 7);
}

// --strategy=swarm becomes one concrete strategy with explicit parameters, from the seed alone,
// and every strategy it can draw is drawn for some seed.
TEST(Resolve, StrategySwarmDrawsAConcreteStrategyFromTheSeed) {
  std::set<std::string> drawn;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    Scenario a, b;
    a.strategy = b.strategy = "swarm";
    a.seed = b.seed = seed;
    b.bug = "wakeup-without-lock";  // the bug does not change the draw
    ASSERT_TRUE(Resolve(&a).ok());
    ASSERT_TRUE(Resolve(&b).ok());
    EXPECT_EQ(a.strategy, b.strategy);
    EXPECT_EQ(a.pct_depth, b.pct_depth);
    EXPECT_EQ(a.burst_max, b.burst_max);
    EXPECT_NE(a.strategy, "swarm");
    EXPECT_EQ(a.burst_max != 0, a.strategy == "burst");
    // Resolving again keeps what was drawn: a campaign resolves each seed's copy once more.
    Scenario again = a;
    ASSERT_TRUE(Resolve(&again).ok());
    EXPECT_EQ(Describe(again), Describe(a));
    drawn.insert(a.strategy);
  }
  EXPECT_EQ(drawn, (std::set<std::string>{"burst", "pct", "random"}));
}

TEST(Resolve, BurstMaxDefaultsToTheRunLengthAndIsCheckedAgainstTheStrategy) {
  Scenario burst;
  burst.strategy = "burst";
  ASSERT_TRUE(Resolve(&burst).ok());
  EXPECT_EQ(burst.burst_max, 3000u);  // the xv6 model's pct_steps
  Scenario random;
  random.burst_max = 10;
  EXPECT_EQ(Resolve(&random).message(),
            "burst_max is for --strategy=burst or conflict, not random");
  Scenario huge;
  huge.strategy = "burst";
  huge.burst_max = kBurstMaxLimit + 1;
  EXPECT_EQ(Resolve(&huge).message(), "burst_max 4294967297 is out of range [1, 4294967296]");
}

// A burst run's reproducer records its strategy and parameter, and replays to the same hash.
TEST(Reproducer, BurstRunReplaysToTheSameHash) {
  Scenario s;
  s.bug = "wakeup-without-lock";
  s.strategy = "burst";
  s.burst_max = 500;
  ASSERT_TRUE(Resolve(&s).ok());
  RunResult first;
  for (s.seed = 0; s.seed < 3000; ++s.seed) {
    first = RunScenario(s);
    if (first.outcome.kind != sim::Outcome::Kind::kPass) break;
  }
  ASSERT_NE(first.outcome.kind, sim::Outcome::Kind::kPass);
  sim::Reproducer file = ToReproducer(s, first);
  EXPECT_EQ(file.strategy, "burst");
  EXPECT_EQ(file.burst_max, 500u);
  absl::StatusOr<sim::Reproducer> parsed = sim::ReproducerFromJson(sim::ReproducerToJson(file));
  ASSERT_TRUE(parsed.ok());
  Scenario again;
  ASSERT_TRUE(FromReproducer(*parsed, &again).ok());
  std::unique_ptr<sim::Decider> d = MakeDecider(again, &parsed->log, {});
  RunResult replayed = RunWith(again, *d, false);
  EXPECT_EQ(replayed.outcome.trace_hash, first.outcome.trace_hash);
  EXPECT_EQ(replayed.outcome.invariant, first.outcome.invariant);
  // And `run --seed` with the recorded strategy gives the same run too.
  EXPECT_NE(RunCommand(s).find("--strategy=burst --burst_max=500"), std::string::npos);
  EXPECT_EQ(RunScenario(s).outcome.trace_hash, first.outcome.trace_hash);
}

TEST(Reproducer, RoundTripReplaysToTheSameHash) {
  Scenario s;
  s.bug = "pop-off-enables-early";
  s.options["cpus"] = 3;
  ASSERT_TRUE(Resolve(&s).ok());
  RunResult first;
  for (s.seed = 0; s.seed < 200; ++s.seed) {
    first = RunScenario(s);
    if (first.outcome.kind != sim::Outcome::Kind::kPass) break;
  }
  ASSERT_NE(first.outcome.kind, sim::Outcome::Kind::kPass);
  sim::Reproducer file = ToReproducer(s, first);
  absl::StatusOr<sim::Reproducer> parsed = sim::ReproducerFromJson(sim::ReproducerToJson(file));
  ASSERT_TRUE(parsed.ok());
  Scenario again;
  ASSERT_TRUE(FromReproducer(*parsed, &again).ok());
  std::unique_ptr<sim::Decider> d = MakeDecider(again, &parsed->log, {});
  RunResult replayed = RunWith(again, *d, false);
  EXPECT_EQ(replayed.outcome.trace_hash, first.outcome.trace_hash);
  EXPECT_EQ(replayed.outcome.invariant, first.outcome.invariant);

  parsed->model_fingerprint = "xv6-0";
  EXPECT_FALSE(FromReproducer(*parsed, &again).ok());
}

// Golden trace hashes of whole model runs. Like //sim:golden_hash_test, CI checks them under
// several builds, g++ among them: a model must not depend on the compiler either.
uint64_t GoldenHash(const std::string& model, const std::string& strategy, uint64_t seed,
                    uint64_t burst_max = 0) {
  Scenario s;
  s.model = model;
  s.strategy = strategy;
  s.burst_max = burst_max;
  s.seed = seed;
  EXPECT_TRUE(Resolve(&s).ok());
  return RunScenario(s).outcome.trace_hash;
}

// Invariants skip the steps at which nothing they read can have changed (sim/simulator.h). The
// skipping must never change an outcome: every model, correct and with each planted bug, gives
// the same outcome, at the same step, with the same trace hash, when every step is checked.
TEST(Checks, SkippingQuietStepsChangesNoOutcome) {
  for (const ModelSpec& m : Models()) {
    std::vector<std::string> bugs = {""};
    for (const BugSpec& b : m.bugs) {
      // A bug that crashes the host ends the run before any outcome (//cli:crash_test).
      if (b.crashes_host) continue;
      // A bug of switchyard's own C tree (needs --kernel=builtin) runs a tree compiled at run
      // time; //kernel_models/xv6:tree_test runs each of those.
      if (b.needs_options.count("kernel") != 0) continue;
      bugs.push_back(b.name);
    }
    for (const std::string& bug : bugs) {
      for (uint64_t seed = 0; seed < 60; ++seed) {
        Scenario s;
        s.model = m.name;
        s.bug = bug;
        s.seed = seed;
        ASSERT_TRUE(Resolve(&s).ok());
        sim::SimOptions every;
        every.check_every_step = true;
        std::unique_ptr<sim::Decider> a = MakeDecider(s, nullptr, {});
        std::unique_ptr<sim::Decider> b = MakeDecider(s, nullptr, {});
        sim::Outcome skipping = RunWith(s, *a, false).outcome;
        sim::Outcome full = RunWith(s, *b, false, every).outcome;
        ASSERT_EQ(skipping.invariant, full.invariant) << Describe(s);
        ASSERT_EQ(skipping.step, full.step) << Describe(s);
        ASSERT_EQ(skipping.trace_hash, full.trace_hash) << Describe(s);
      }
    }
  }
}

TEST(GoldenHash, ModelRuns) {
  EXPECT_EQ(GoldenHash("xv6", "random", 1), 0xa08d3c479f0121bfull);
  EXPECT_EQ(GoldenHash("xv6", "pct", 2), 0x01a6fff16ade2354ull);
  EXPECT_EQ(GoldenHash("uml", "random", 3), 0xc9a20c72aa4b3a68ull);
  EXPECT_EQ(GoldenHash("xv6", "burst", 4), 0x9597a9ac85ea9879ull);
  EXPECT_EQ(GoldenHash("xv6", "burst", 5, 16), 0xc44626283a94ed91ull);
  EXPECT_EQ(GoldenHash("xv6", "conflict", 6), 0xc7b4058380e347e3ull);
}

}  // namespace
}  // namespace switchyard::scenario
