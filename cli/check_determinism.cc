// `switchyard check-determinism`: runs each seed in two separate processes and compares their
// trace hashes. A difference means something other than the seed steered a run (wall clock,
// hashed-container order, pointer values, uninitialised memory, the environment).
#include <cinttypes>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/flags.h"
#include "cli/subcommands.h"
#include "scenario/isolation.h"

namespace switchyard::cli {
namespace {

// Two runs of one seed agree: the same outcome and trace hash, or the same crash at the same step
// after the same decisions.
bool Same(const scenario::IsolatedRun& a, const scenario::IsolatedRun& b) {
  if (a.crashed != b.crashed || a.outcome.invariant != b.outcome.invariant) return false;
  if (a.crashed) return a.outcome.step == b.outcome.step && a.log.decisions == b.log.decisions;
  return a.outcome.trace_hash == b.outcome.trace_hash;
}

std::string Account(const scenario::IsolatedRun& r) {
  return r.crashed ? absl::StrCat(r.outcome.invariant, " at step ", r.outcome.step, " after ",
                                  r.log.decisions.size(), " decisions")
                   : absl::StrFormat("trace hash 0x%016" PRIx64, r.outcome.trace_hash);
}

}  // namespace

int CheckDeterminismMain(const ParsedArgs& args) {
  if (!args.positional.empty()) {
    return UsageError("check-determinism",
                      absl::StrCat("unexpected argument '", args.positional[0], "'"));
  }
  int64_t runs = absl::GetFlag(FLAGS_runs);
  if (runs < 0) return UsageError("check-determinism", "--runs must not be negative");
  if (runs == 0) runs = 20;
  scenario::Scenario base, unresolved;
  if (!ScenarioFromFlags("check-determinism", args, &base, &unresolved)) return kExitUsage;
  scenario::Scenario shown = base;  // the strategy asked for, not the first seed's draw
  if (unresolved.strategy == "swarm") {
    shown.strategy = "swarm";
    shown.burst_max = 0;
  }
  std::printf("switchyard check-determinism: %s; %" PRId64 " seeds, each in two processes\n",
              scenario::Describe(shown).c_str(), runs);
  int64_t crashes = 0;
  for (int64_t i = 0; i < runs; ++i) {
    scenario::Scenario s = scenario::DrawsPerSeed(unresolved) ? unresolved : base;
    s.seed = base.seed + static_cast<uint64_t>(i);
    if (!scenario::Resolve(&s).ok()) return kExitUsage;
    // Each run in its own process, isolated: a crash is compared like any other outcome.
    scenario::IsolatedRun first = scenario::RunScenarioIsolated(s);
    scenario::IsolatedRun second = scenario::RunScenarioIsolated(s);
    if (!Same(first, second)) {
      std::printf("NOT deterministic: seed %" PRIu64 " gave %s then %s\nreproduce: %s\n", s.seed,
                  Account(first).c_str(), Account(second).c_str(), scenario::RunCommand(s).c_str());
      return kExitSafety;
    }
    if (first.crashed) {
      ++crashes;
      std::printf("seed %" PRIu64 " crashes, the same way in both processes:\n", s.seed);
      PrintCrash(first);
      std::printf("reproduce: %s\n", scenario::RunCommand(s).c_str());
    }
  }
  std::printf("deterministic: %" PRId64
              " seeds gave the same trace hash (or the same crash) in two processes each\n",
              runs);
  return crashes > 0 ? kExitCrash : kExitOk;
}

}  // namespace switchyard::cli
