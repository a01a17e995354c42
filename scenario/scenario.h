// A scenario: a model, its options, a planted bug, a strategy and a seed. Everything a driver
// (the CLI, a fuzzer, a property) needs to run a model once and to turn the run into a
// reproducer file and back.
#ifndef SWITCHYARD_SCENARIO_SCENARIO_H_
#define SWITCHYARD_SCENARIO_SCENARIO_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "scenario/models.h"
#include "sim/decider.h"
#include "sim/reproducer.h"
#include "sim/simulator.h"
#include "sim/trace.h"

namespace switchyard::scenario {

// Strategies a scenario can name. "replay", "lenient" and "bytes" need their input (a log or
// fuzzer bytes) next to the scenario; "random", "pct" and "burst" need only the seed. "dfs"
// (search/dfs.h) names the bounded exhaustive search: a driver runs the search; run alone, a dfs
// scenario takes the random strategy's choices. "swarm" is not a strategy a run uses: Resolve
// replaces it by random, pct or burst with parameters drawn from the seed (see DrawStrategy), so
// that what a run used is explicit in its description, its command and its reproducer.
inline constexpr const char* kStrategies[] = {"random", "pct",   "burst",   "conflict", "swarm",
                                              "replay", "bytes", "lenient", "dfs"};

// "burst" and "conflict" (burst scheduling whose bursts also end near conflicting accesses: see
// sim::BurstDecider) take burst_max.
inline bool UsesBursts(const std::string& strategy) {
  return strategy == "burst" || strategy == "conflict";
}

// The longest burst --burst_max accepts: longer than any run's schedule points.
inline constexpr uint64_t kBurstMaxLimit = uint64_t{1} << 32;

struct Scenario {
  std::string model = "xv6";
  Options options;  // after Resolve: every option of the model
  std::string bug;  // "" for the correct model
  std::string strategy = "random";
  uint64_t seed = 0;
  int pct_depth = 3;
  // --strategy=burst and conflict: the longest burst, in schedule points; 0 before Resolve means
  // the model's expected run length (ModelSpec::pct_steps), which Resolve writes in.
  uint64_t burst_max = 0;
  bool swarm = false;  // draw the options left unset from the seed
  // Where vCPUs may interleave: "access" (every shared-state access) or "coarse" (only the
  // models' hand-placed points).
  std::string granularity = "access";
  // A file of the user's code the model builds (ModelSpec::prepare), absolute; empty for none.
  std::string user_file;
};

// Checks the scenario against the registry and completes its options: explicit options are
// range-checked, swarm options are drawn from the seed (stream "swarm", independent of the
// strategy), the rest take their defaults. Errors are one line naming what is wrong.
// Strategy "swarm" is drawn here too (DrawStrategy).
absl::Status Resolve(Scenario* scenario);

// True when Resolve draws something from the seed (--swarm options or --strategy=swarm), so a
// campaign must resolve the unresolved scenario again for each seed.
inline bool DrawsPerSeed(const Scenario& unresolved) {
  return unresolved.swarm || unresolved.strategy == "swarm";
}

// --strategy=swarm: the strategy and parameters of one seed, from their own generator (seed ^
// HashName("strategy-swarm")), so the model's options and the run's decisions do not shift it.
// A quarter of the seeds random; a quarter pct with depth 2..5; half burst with burst_max =
// run_length / 2^j, j in 0..4 (at least 2). Burst has the larger share because it alone finds
// the races of long runs (a real xv6 tree's lost wakeup) in reasonable time, and pct is kept
// because it finds the C++ xv6 model's lost wakeup fastest (bench/README.md has the figures).
// "conflict" is not drawn: it was slower than burst wherever it was measured.
// REQUIRES: run_length >= 1.
void DrawStrategy(uint64_t seed, uint64_t run_length, Scenario* scenario);

// What a driver may want from a finished run.
struct RunResult {
  sim::Outcome outcome;
  sim::DecisionLog log;
  // Kept only when asked for (keep_trace):
  std::vector<sim::TraceRecord> records;
  std::vector<sim::PointRecord> points;  // one per step: where the fiber stood (pc)
  std::vector<std::string> fiber_names;
  std::vector<uint32_t> boot_fibers;
  // The accesses of instrumented code under test in this run that were not points
  // (sim::Instrumentation's filter), by reason; all 0 for a model without instrumented code.
  struct NotPoints {
    uint64_t own_stack = 0;    // the running fiber's own stack
    uint64_t private_ = 0;     // memory the model or platform declared private
    uint64_t per_cpu_off = 0;  // per-CPU memory while the vCPU has interrupts off
    uint64_t total() const { return own_stack + private_ + per_cpu_off; }
  } not_points;
  uint64_t access_points = 0;  // the accesses of instrumented code that were points
};

// The decider a resolved scenario asks for. `log` feeds "replay" and "lenient"; `bytes` feeds
// "bytes" (they must outlive the decider).
std::unique_ptr<sim::Decider> MakeDecider(const Scenario& scenario, const sim::DecisionLog* log,
                                          std::span<const uint8_t> bytes);

// Runs a resolved scenario once with the given decider.
RunResult RunWith(const Scenario& scenario, sim::Decider& decider, bool keep_trace,
                  sim::SimOptions sim_options = {});
// Runs a resolved "random", "pct" or "burst" scenario.
RunResult RunScenario(const Scenario& scenario, bool keep_trace = false);

// Reproducer files <-> scenarios.
sim::Reproducer ToReproducer(const Scenario& scenario, const RunResult& result);
// Checks the model, its fingerprint, options and bug; the result replays the file's log.
absl::Status FromReproducer(const sim::Reproducer& file, Scenario* scenario);
// One line when the user's code that `file` was made with (an xv6 tree) has changed since, as
// its recorded fingerprint shows ("the xv6 tree /home/me/xv6 has changed since ..."); "" when it
// has not or the file records none. The replay can still run; it diverges if the change
// matters. REQUIRES: `scenario` from FromReproducer(file).
std::string UserCodeChange(const sim::Reproducer& file, const Scenario& scenario);

// "model=xv6 bug=none strategy=random seed=7 cpus=2 nproc=8 ..." for the first line of output.
std::string Describe(const Scenario& scenario);
// How printed commands invoke switchyard, so that they can be pasted as printed into a shell in
// the workspace; the same form as the README's workflow (an optimised build, whose cache the
// campaign that printed the command has just filled).
inline constexpr const char* kCommandPrefix = "bazel run --config=opt //:switchyard --";
// The exact command that runs this scenario again ("bazel run ... -- run --model=...").
std::string RunCommand(const Scenario& scenario);
// "bazel run ... -- replay /abs/path/FILE [extra]": `path` made absolute (from the
// current directory, which `switchyard` sets to the user's under `bazel run`).
std::string ReplayCommand(const std::string& path, const std::string& extra = "");

// Exit status for an outcome: 0 pass, 1 safety, 3 liveness, 4 diverged, 5 crash.
int ExitStatus(const sim::Outcome& outcome);
std::string OutcomeKindName(sim::Outcome::Kind kind);  // "pass", "safety", ...

}  // namespace switchyard::scenario

#endif  // SWITCHYARD_SCENARIO_SCENARIO_H_
