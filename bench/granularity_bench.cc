// What access granularity costs: runs and steps per second of each model's default scenario at
// coarse and at access granularity, measured in the same process, interleaved (coarse, access,
// coarse, ...) so that load on a shared machine falls on both alike. Prints the median of
// --trials per granularity and the ratio access/coarse.
//
// Run with: bazel run --config=opt //bench:granularity_bench [-- --runs=2000 --trials=5]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "scenario/models.h"
#include "scenario/scenario.h"

ABSL_FLAG(int, runs, 2000, "runs per trial");
ABSL_FLAG(int, trials, 5, "trials per model and granularity");

namespace switchyard::bench {
namespace {

struct Trial {
  double runs_per_s;
  double steps_per_s;
  double steps_per_run;
};

Trial Measure(const std::string& model, const std::string& granularity, uint64_t first, int runs) {
  uint64_t steps = 0;
  absl::Time start = absl::Now();
  for (int i = 0; i < runs; ++i) {
    scenario::Scenario s;
    s.model = model;
    s.granularity = granularity;
    s.seed = first + static_cast<uint64_t>(i);
    if (!scenario::Resolve(&s).ok()) std::abort();
    steps += scenario::RunScenario(s).outcome.step;
  }
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return {runs / seconds, steps / seconds, static_cast<double>(steps) / runs};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace
}  // namespace switchyard::bench

int main(int argc, char** argv) {
  using namespace switchyard;
  absl::ParseCommandLine(argc, argv);
  const int runs = absl::GetFlag(FLAGS_runs);
  const int trials = absl::GetFlag(FLAGS_trials);
  std::printf("%-6s %-7s %12s %14s %11s\n", "model", "gran.", "runs/s", "steps/s", "steps/run");
  for (const scenario::ModelSpec& m : scenario::Models()) {
    std::vector<double> runs_s[2], steps_s[2], per_run[2];
    const char* grans[2] = {"coarse", "access"};
    for (int t = 0; t < trials; ++t) {
      for (int g = 0; g < 2; ++g) {
        bench::Trial r = bench::Measure(m.name, grans[g], static_cast<uint64_t>(t) * runs, runs);
        runs_s[g].push_back(r.runs_per_s);
        steps_s[g].push_back(r.steps_per_s);
        per_run[g].push_back(r.steps_per_run);
      }
    }
    for (int g = 0; g < 2; ++g) {
      std::printf("%-6s %-7s %12.0f %14.0f %11.0f\n", m.name.c_str(), grans[g],
                  bench::Median(runs_s[g]), bench::Median(steps_s[g]), bench::Median(per_run[g]));
    }
    std::printf("%-6s ratio access/coarse: runs/s %.2f, steps/run %.2f\n", m.name.c_str(),
                bench::Median(runs_s[1]) / bench::Median(runs_s[0]),
                bench::Median(per_run[1]) / bench::Median(per_run[0]));
  }
  return 0;
}
