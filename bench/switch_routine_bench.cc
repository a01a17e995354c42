// The switch-routine model (kernel_models/switch), measured; prints two tables for
// bench/README.md:
//   per correct routine: runs per second and emulated switches per second (default options: 40
//   switches per run, signals on), one core;
//   per planted mutant: the median, over 21 campaigns started at seeds 0, 1000, ..., 20000, of
//   the time from the campaign's first run to the run that finds it (seeds tried in order, as
//   `explore` does), and the median number of runs that took.
// Usage: bazel run --config=opt //bench:switch_routine_bench [-- SECONDS_PER_ROUTINE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kernel_models/switch/switch_routine.h"
#include "sim/decider.h"

namespace switchyard::switch_routine {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int Main(double seconds) {
  std::printf("| routine | runs/s | switches/s | instructions/s |\n|---|---|---|---|\n");
  for (const Routine& r : CorrectRoutines()) {
    Config config;
    config.routine = &r;
    uint64_t runs = 0, switches = 0, instructions = 0, failures = 0;
    auto start = std::chrono::steady_clock::now();
    while (Seconds(start) < seconds) {
      sim::RandomDecider decider(runs);
      sim::Outcome o = Run(config, decider, sim::SimOptions{}, nullptr);
      failures += o.kind != sim::Outcome::Kind::kPass;
      switches += LastRunSwitches();
      instructions += LastRunInstructions();
      ++runs;
    }
    double t = Seconds(start);
    std::printf("| %s | %.0f | %.0f | %.2fM |%s\n", r.name, runs / t, switches / t,
                instructions / t / 1e6, failures != 0 ? " FAILURES" : "");
  }
  std::printf(
      "\n| planted bug | invariant | median time to find | median runs |\n"
      "|---|---|---|---|\n");
  for (const Bug& bug : Bugs()) {
    Config config;
    config.routine = FindRoutine(bug.routine);
    std::vector<double> times;
    std::vector<uint64_t> runs;
    std::string invariant;
    for (uint64_t campaign = 0; campaign < 21; ++campaign) {
      auto start = std::chrono::steady_clock::now();
      uint64_t n = 0;
      for (uint64_t seed = campaign * 1000;; ++seed) {
        ++n;
        sim::RandomDecider decider(seed);
        sim::Outcome o = Run(config, decider, sim::SimOptions{}, nullptr);
        if (o.kind != sim::Outcome::Kind::kPass) {
          invariant = o.invariant;
          break;
        }
        if (n > 10000) break;
      }
      times.push_back(Seconds(start));
      runs.push_back(n);
    }
    std::sort(times.begin(), times.end());
    std::sort(runs.begin(), runs.end());
    std::printf("| %s | %s | %.1f ms | %llu |\n", bug.name, invariant.c_str(), times[10] * 1e3,
                static_cast<unsigned long long>(runs[10]));
  }
  return 0;
}

}  // namespace
}  // namespace switchyard::switch_routine

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  return switchyard::switch_routine::Main(seconds);
}
