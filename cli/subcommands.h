// The subcommands of `switchyard`. Each returns the process's exit status (see command_line.h)
// and prints errors as one line on stderr.
#ifndef SWITCHYARD_CLI_SUBCOMMANDS_H_
#define SWITCHYARD_CLI_SUBCOMMANDS_H_

#include <functional>
#include <memory>
#include <string>

#include "cli/command_line.h"
#include "scenario/isolation.h"
#include "scenario/scenario.h"

namespace switchyard::cli {

int RunMain(const ParsedArgs& args);
int ReplayMain(const ParsedArgs& args);
// Replays a read reproducer in this process (ReplayMain runs it in a child).
int ReplayBody(const std::string& path, const scenario::Scenario& s, const sim::Reproducer& file);
int ExploreMain(const ParsedArgs& args);
// --strategy=dfs for run and explore (dfs.cc): the bounded exhaustive search of `s`.
int DfsMain(const char* subcommand, const scenario::Scenario& s);
int ShrinkMain(const ParsedArgs& args);
int CheckDeterminismMain(const ParsedArgs& args);
int ListMain(const ParsedArgs& args);

// Shared by the subcommands.

// The strategy `explore` uses without --strategy (the other subcommands use random, so that
// `run --seed=N` means what it always meant). Each seed draws its own strategy: see
// scenario::DrawStrategy and bench/README.md for the measurements behind the choice.
inline constexpr const char* kExploreDefaultStrategy = "swarm";

// Prints "switchyard SUB: what" on stderr and returns kExitUsage.
int UsageError(const char* subcommand, const std::string& what);
// Builds and resolves the scenario from --model, --seed, --bug, --strategy, --pct_depth,
// --burst_max, --swarm and the model options given as extra flags.
// With `unresolved`, also returns the scenario before Resolve (explicit options only), which a
// swarm campaign resolves again for every seed.
bool ScenarioFromFlags(const char* subcommand, const ParsedArgs& args, scenario::Scenario* scenario,
                       scenario::Scenario* unresolved = nullptr);
// Prints the outcome lines and the trace hash of a run.
void PrintOutcome(const scenario::RunResult& result);
// Where a campaign keeps the reproducer of a violation of `invariant` found for `s`:
// --out/MODEL-BUG-INVARIANT-SUFFIX.json (BUG is "correct" without one; the invariant is made
// file-safe). Makes the --out directory if it is missing; a failure shows on the write.
std::string ReproducerPathInOut(const scenario::Scenario& s, const std::string& invariant,
                                const std::string& suffix);
// Writes the timeline that --trace/--trace_out ask for. Returns false (after printing an
// error) when it cannot.
bool WriteTimeline(const char* subcommand, const scenario::RunResult& result,
                   const std::string& title, const std::string& replay_command);
// Checks --trace before a run, so a typo fails before any work.
bool CheckTraceFlags(const char* subcommand);

// Crashes (crash.cc). Runs body() in a forked child that shares this process's stdout and
// stderr, and returns its exit status, or -1 when it died of a signal (*signal says which).
int RunInChild(const std::function<int()>& body, int* signal);
// Prints the crash report: outcome line, frames, the decisions made.
void PrintCrash(const scenario::IsolatedRun& crash);

}  // namespace switchyard::cli

#endif  // SWITCHYARD_CLI_SUBCOMMANDS_H_
