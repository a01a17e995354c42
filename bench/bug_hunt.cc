// Runs and time to find each planted bug, per model and strategy, through the scenario registry
// (the same path as `switchyard explore`), and a check that the correct model stays clean.
//
// For each model, each planted bug and each strategy (random; pct with depth 3), campaign k runs
// the model's default options with seeds k*1000000 + i, i = 0, 1, 2, ..., until the first run
// whose outcome is not a pass (at most --max_runs runs; "not found" past that). The table gives
// the median runs and wall time over the campaigns, the fewest and most runs, and the
// invariants reported. Then the correct model runs, with each strategy, the seeds
// k*1000000 + i of every campaign k for i below the larger of the largest campaign's runs and
// --clean_min_runs (default 20000, the cap: bugs are found so fast that the largest campaign
// alone would be a weak check), and must report nothing.
//
// --kernel=builtin runs xv6's bugs on switchyard's own C tree instead of the C++ model (the bugs
// the chosen kernel lacks are left out), and --strategies=swarm measures what `explore` does by
// default.
//
// Run with: bazel run --config=opt //bench:bug_hunt [-- --model=xv6 --bug=NAME --campaigns=5]
#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "scenario/isolation.h"
#include "scenario/models.h"
#include "scenario/scenario.h"

ABSL_FLAG(std::string, model, "", "only this model (default: every model)");
ABSL_FLAG(std::string, bug, "", "only this planted bug (default: every bug of each model)");
ABSL_FLAG(std::string, kernel, "",
          "xv6's --kernel for every scenario: model or builtin (default: each bug's own)");
ABSL_FLAG(std::vector<std::string>, strategies, std::vector<std::string>({"random", "pct"}),
          "the strategies to measure, comma-separated: random, pct (depth 3), swarm, ...");
ABSL_FLAG(int, campaigns, 5, "campaigns per model, bug and strategy");
ABSL_FLAG(std::string, granularity, "access", "where vCPUs interleave: access or coarse");
ABSL_FLAG(int64_t, max_runs, 20000, "runs per campaign before the bug counts as not found");
ABSL_FLAG(int64_t, clean_min_runs, 20000,
          "the correct model runs at least this many seeds per campaign and strategy, even when "
          "every bug was found sooner");

namespace switchyard::bench {
namespace {

constexpr uint64_t kCampaignStride = 1000000;

struct CampaignResult {
  bool found = false;
  uint64_t runs = 0;  // runs made, the failing one included
  double ms = 0;
  std::string invariant;  // "safety NAME" or "liveness NAME"
};

scenario::Scenario Make(const std::string& model, const std::string& bug,
                        const std::string& strategy, uint64_t seed) {
  scenario::Scenario s;
  s.model = model;
  s.bug = bug;
  s.strategy = strategy;
  s.pct_depth = 3;
  s.seed = seed;
  s.granularity = absl::GetFlag(FLAGS_granularity);
  // The options the bug needs and does not force (BugSpec::needs_options).
  if (const scenario::ModelSpec* m = scenario::FindModel(model)) {
    for (const scenario::BugSpec& b : m->bugs) {
      if (b.name == bug) s.options = b.needs_options;
    }
  }
  const std::string kernel = absl::GetFlag(FLAGS_kernel);
  if (model == "xv6" && !kernel.empty()) s.options["kernel"] = kernel == "builtin" ? 1 : 0;
  return s;
}

CampaignResult Hunt(const std::string& model, const std::string& bug, const std::string& strategy,
                    uint64_t campaign, uint64_t max_runs) {
  CampaignResult result;
  absl::Time start = absl::Now();
  for (uint64_t i = 0; i < max_runs; ++i) {
    scenario::Scenario s = Make(model, bug, strategy, campaign * kCampaignStride + i);
    absl::Status status = scenario::Resolve(&s);
    if (!status.ok()) {
      std::fprintf(stderr, "bug_hunt: %s\n", std::string(status.message()).c_str());
      std::exit(2);
    }
    scenario::RunResult r = scenario::RunScenarioGuarded(s);
    result.runs = i + 1;
    if (r.outcome.kind != sim::Outcome::Kind::kPass) {
      result.found = true;
      result.invariant =
          absl::StrCat(scenario::OutcomeKindName(r.outcome.kind), " ", r.outcome.invariant);
      break;
    }
  }
  result.ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  return result;
}

template <typename T>
T Median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string RunsText(uint64_t runs, uint64_t max_runs) {
  return runs > max_runs ? "not found" : absl::StrCat(runs);
}

int Main() {
  const std::string only_model = absl::GetFlag(FLAGS_model);
  const std::string only_bug = absl::GetFlag(FLAGS_bug);
  const int campaigns = absl::GetFlag(FLAGS_campaigns);
  const int64_t max_runs_flag = absl::GetFlag(FLAGS_max_runs);
  if (campaigns < 1 || max_runs_flag < 1) {
    std::fprintf(stderr, "bug_hunt: --campaigns and --max_runs must be at least 1\n");
    return 2;
  }
  const std::string kernel = absl::GetFlag(FLAGS_kernel);
  if (!kernel.empty() && kernel != "model" && kernel != "builtin") {
    std::fprintf(stderr, "bug_hunt: --kernel must be model or builtin, not '%s'\n", kernel.c_str());
    return 2;
  }
  const uint64_t max_runs = static_cast<uint64_t>(max_runs_flag);
  const uint64_t clean_min_runs =
      static_cast<uint64_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_clean_min_runs)));
  if (!only_model.empty() && scenario::FindModel(only_model) == nullptr) {
    std::fprintf(stderr, "bug_hunt: unknown model '%s' (models: %s)\n", only_model.c_str(),
                 scenario::ModelNames().c_str());
    return 2;
  }

  std::vector<const scenario::ModelSpec*> models;
  bool bug_known = only_bug.empty();
  for (const scenario::ModelSpec& m : scenario::Models()) {
    if (!only_model.empty() && m.name != only_model) continue;
    models.push_back(&m);
    for (const scenario::BugSpec& b : m.bugs) bug_known = bug_known || b.name == only_bug;
  }
  if (!bug_known) {
    std::fprintf(stderr, "bug_hunt: no selected model has a bug '%s'\n", only_bug.c_str());
    return 2;
  }

  const std::vector<std::string> strategies = absl::GetFlag(FLAGS_strategies);
  for (const std::string& strategy : strategies) {
    scenario::Scenario probe = Make(models[0]->name, "", strategy, 0);
    if (absl::Status status = scenario::Resolve(&probe); !status.ok()) {
      std::fprintf(stderr, "bug_hunt: --strategies=%s: %s\n", strategy.c_str(),
                   std::string(status.message()).c_str());
      return 2;
    }
  }
  std::printf(
      "bug_hunt: %d campaigns per model/bug/strategy; campaign k uses seeds "
      "k*%" PRIu64 "+i; at most %" PRIu64 " runs each; default options; pct depth 3\n\n",
      campaigns, kCampaignStride, max_runs);
  std::printf(
      "| model | bug | strategy | median runs | median ms | min/max runs | invariant(s) |\n");
  std::printf("| --- | --- | --- | ---: | ---: | ---: | --- |\n");
  std::fflush(stdout);

  uint64_t largest = 0;  // runs of the largest campaign
  std::vector<std::string> problems;
  absl::Time total_start = absl::Now();
  for (const scenario::ModelSpec* m : models) {
    for (const scenario::BugSpec& b : m->bugs) {
      if (!only_bug.empty() && b.name != only_bug) continue;
      if (scenario::Scenario probe = Make(m->name, b.name, "random", 0);
          !scenario::Resolve(&probe).ok()) {
        if (only_bug.empty()) continue;  // not planted in this kernel (--kernel)
        std::fprintf(stderr, "bug_hunt: %s: %s\n", b.name.c_str(),
                     std::string(scenario::Resolve(&probe).message()).c_str());
        return 2;
      }
      for (const std::string& strategy : strategies) {
        std::vector<uint64_t> runs;  // not found: max_runs + 1, so it sorts last
        std::vector<double> ms;
        std::map<std::string, int> invariants;
        int missed = 0;
        for (int k = 0; k < campaigns; ++k) {
          CampaignResult c = Hunt(m->name, b.name, strategy, static_cast<uint64_t>(k), max_runs);
          largest = std::max(largest, c.runs);
          runs.push_back(c.found ? c.runs : max_runs + 1);
          ms.push_back(c.ms);
          if (c.found) {
            ++invariants[c.invariant];
          } else {
            ++missed;
          }
        }
        std::vector<std::string> names;
        for (const auto& [name, count] : invariants) {
          names.push_back(count == campaigns ? name : absl::StrCat(name, " (", count, ")"));
        }
        if (missed > 0) {
          names.push_back(absl::StrCat("not found in ", missed));
          problems.push_back(absl::StrCat(m->name, " ", b.name, " ", strategy, ": not found in ",
                                          missed, " of ", campaigns, " campaigns"));
        }
        auto [lo, hi] = std::minmax_element(runs.begin(), runs.end());
        std::printf("| %s | %s | %s | %s | %.2f | %s/%s | %s |\n", m->name.c_str(), b.name.c_str(),
                    strategy == "pct" ? "pct-3" : strategy.c_str(),
                    RunsText(Median(runs), max_runs).c_str(), Median(ms),
                    RunsText(*lo, max_runs).c_str(), RunsText(*hi, max_runs).c_str(),
                    absl::StrJoin(names, ", ").c_str());
        std::fflush(stdout);
      }
    }
  }

  // The correct model over the same seeds as the largest campaign (or more), for every campaign
  // and strategy.
  const uint64_t clean_runs = std::max(largest, clean_min_runs);
  std::printf("\nlargest campaign: %" PRIu64
              " runs. Correct model (bug none), each strategy, seeds k*%" PRIu64
              "+i for i < %" PRIu64 " and k < %d:\n\n",
              largest, kCampaignStride, clean_runs, campaigns);
  std::printf("| model | strategy | runs | violations | ms | runs/s |\n");
  std::printf("| --- | --- | ---: | ---: | ---: | ---: |\n");
  for (const scenario::ModelSpec* m : models) {
    for (const std::string& strategy : strategies) {
      uint64_t done = 0, violations = 0;
      std::map<std::string, uint64_t> first;  // invariant -> first seed
      absl::Time start = absl::Now();
      for (int k = 0; k < campaigns; ++k) {
        for (uint64_t i = 0; i < clean_runs; ++i) {
          uint64_t seed = static_cast<uint64_t>(k) * kCampaignStride + i;
          scenario::Scenario s = Make(m->name, "", strategy, seed);
          if (!scenario::Resolve(&s).ok()) return 2;
          scenario::RunResult r = scenario::RunScenarioGuarded(s);
          ++done;
          if (r.outcome.kind != sim::Outcome::Kind::kPass) {
            ++violations;
            first.try_emplace(
                absl::StrCat(scenario::OutcomeKindName(r.outcome.kind), " ", r.outcome.invariant),
                seed);
          }
        }
      }
      double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
      std::printf("| %s | %s | %" PRIu64 " | %" PRIu64 " | %.0f | %.0f |\n", m->name.c_str(),
                  strategy == "pct" ? "pct-3" : strategy.c_str(), done, violations, ms,
                  ms > 0 ? done / (ms / 1000) : 0.0);
      for (const auto& [name, seed] : first) {
        problems.push_back(absl::StrCat(m->name, " correct model, ", strategy, ": ", name,
                                        " (first seed ", seed, ")"));
      }
    }
  }
  std::printf("\ntotal %.1f s\n", absl::ToDoubleSeconds(absl::Now() - total_start));
  if (problems.empty()) {
    std::printf("every planted bug found in every campaign; the correct model stayed clean\n");
    return 0;
  }
  for (const std::string& p : problems) std::printf("PROBLEM: %s\n", p.c_str());
  return 1;
}

}  // namespace
}  // namespace switchyard::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return switchyard::bench::Main();
}
