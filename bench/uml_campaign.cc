// Campaign figures for the User-Mode Linux model, on one core:
//   1. complete correct runs per second for the default configuration;
//   2. for each planted bug, the runs and the time needed to find it with RandomDecider and with
//      PctDecider (depth 3), median over five campaigns (campaign k uses run seeds k*1000000+i);
//   3. how often a switch-in rescans instead of replaying, as N grows (to help choose N).
// Run with: bazel run --config=opt //bench:uml_campaign
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "kernel_models/uml/uml.h"

namespace switchyard::uml {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void CorrectRunsPerSecond() {
  Config config;
  uint64_t runs = 0;
  uint64_t steps = 0;
  Clock::time_point start = Clock::now();
  while (Seconds(Clock::now() - start) < 3.0) {
    sim::RandomDecider decider(runs);
    sim::Outcome o = Run(config, decider, sim::SimOptions{});
    if (o.kind != sim::Outcome::Kind::kPass) {
      std::printf("correct model failed on seed %llu: %s\n", static_cast<unsigned long long>(runs),
                  o.invariant.c_str());
      return;
    }
    ++runs;
    steps += o.step;
  }
  double s = Seconds(Clock::now() - start);
  std::printf(
      "correct runs, default config: %.0f runs/s, %.0f steps/s (%llu runs, %.1f steps/run)\n",
      runs / s, steps / s, static_cast<unsigned long long>(runs),
      static_cast<double>(steps) / runs);
}

struct Found {
  uint64_t runs;  // runs until the first failure, that run included
  double seconds;
};

Found FindBug(Config config, Bug bug, bool pct, uint64_t campaign) {
  config.bug = bug;
  Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < 100000; ++i) {
    uint64_t seed = campaign * 1000000 + i;
    std::unique_ptr<sim::Decider> decider;
    if (pct) {
      decider = std::make_unique<sim::PctDecider>(seed, 3, 300, 1);
    } else {
      decider = std::make_unique<sim::RandomDecider>(seed);
    }
    sim::Outcome o = Run(config, *decider, sim::SimOptions{});
    if (o.kind != sim::Outcome::Kind::kPass) return {i + 1, Seconds(Clock::now() - start)};
  }
  return {0, Seconds(Clock::now() - start)};
}

template <typename T>
T Median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void BugCampaigns(const Config& config, const char* what) {
  std::printf("\n%s\n%-28s %-8s %12s %14s   runs per campaign\n", what, "bug", "decider",
              "median runs", "median time");
  for (Bug bug : AllBugs()) {
    if (bug == Bug::kReclaimAssumesUserMm) continue;  // crashes the host: see bug_hunt
    for (bool pct : {false, true}) {
      std::vector<uint64_t> runs;
      std::vector<double> seconds;
      for (uint64_t k = 0; k < 5; ++k) {
        Found f = FindBug(config, bug, pct, k);
        runs.push_back(f.runs);
        seconds.push_back(f.seconds);
      }
      std::printf("%-28s %-8s %12llu %11.3f ms  ", BugName(bug), pct ? "pct-3" : "random",
                  static_cast<unsigned long long>(Median(runs)), 1000 * Median(seconds));
      for (uint64_t r : runs) std::printf(" %llu", static_cast<unsigned long long>(r));
      std::printf("\n");
    }
  }
}

void RescanShare() {
  std::printf("\n%6s %12s %12s %14s\n", "N", "switch-ins", "rescans", "changes replayed");
  for (int slots : {1, 2, 4, 8, 16, 32}) {
    Config config;
    config.slots = slots;
    uint64_t catchups = 0, rescans = 0, replays = 0;
    for (uint64_t seed = 0; seed < 500; ++seed) {
      sim::RandomDecider decider(seed);
      sim::SimOptions options;
      options.keep_trace = true;
      Run(config, decider, options, [&](const sim::Simulator& sim) {
        for (const sim::TraceRecord& r : sim.trace().records()) {
          if (r.kind != sim::EventKind::kNote) continue;
          std::string_view label = r.label;
          if (label == "catch-up") ++catchups;
          if (label == "fix_range-all") ++rescans;
          if (label == "replay") ++replays;
        }
      });
    }
    std::printf("%6d %12llu %11.1f%% %14llu\n", slots, static_cast<unsigned long long>(catchups),
                100.0 * rescans / std::max<uint64_t>(catchups, 1),
                static_cast<unsigned long long>(replays));
  }
}

}  // namespace
}  // namespace switchyard::uml

int main() {
  switchyard::uml::CorrectRunsPerSecond();
  switchyard::uml::BugCampaigns(switchyard::uml::Config{}, "default config (N=4)");
  switchyard::uml::Config roomy;
  roomy.slots = 8;  // the ring rarely wraps: the ring's bugs get harder to hit
  switchyard::uml::BugCampaigns(roomy, "N=8");
  switchyard::uml::RescanShare();
  return 0;
}
