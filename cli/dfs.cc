// `switchyard run|explore --strategy=dfs`: every schedule of one workload up to a preemption
// bound (search/dfs.h), ending "verified" or with a reproducer of the violation found with the
// fewest preemptions.
#include "search/dfs.h"

#include <signal.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/flags.h"
#include "cli/subcommands.h"
#include "sim/reproducer.h"

namespace switchyard::cli {
namespace {

volatile sig_atomic_t dfs_interrupted = 0;
void OnDfsInterrupt(int) { dfs_interrupted = 1; }

// Prints the summary and the outcome of a finished (or stopped) search; writes the reproducer
// of a violation. Returns the exit status.
int ReportSearch(const char* subcommand, const scenario::Scenario& s,
                 const search::SearchOptions& options, const search::SearchResult& r, bool tty) {
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (dfs_interrupted) std::printf("interrupted: the summary covers the schedules that ran\n");
  std::printf("summary: %s; bound %d (completed bounds: %s); %" PRIu64 " schedules (%" PRIu64
              " new at the last bound), %" PRIu64 " pruned by sleep sets, %" PRIu64
              " cut short; deepest schedule %" PRIu64 " branch points, %" PRIu64 " steps; %.2f s\n",
              search::StatusName(r.status), r.bound,
              r.bounds_completed < 0 ? "none" : absl::StrCat("0..", r.bounds_completed).c_str(),
              r.schedules, r.new_schedules, r.pruned, r.blocked, r.deepest, r.longest_steps,
              r.seconds);
  switch (r.status) {
    case search::SearchResult::Status::kVerified:
      std::printf(
          "outcome: verified: no schedule with at most %d preemptions violates an "
          "invariant\n",
          options.preemption_bound);
      return kExitOk;
    case search::SearchResult::Status::kIncomplete:
      std::printf("outcome: incomplete: stopped before the search finished\n");
      return kExitOk;
    case search::SearchResult::Status::kError:
      std::printf("outcome: error: %s\n", r.error.c_str());
      return kExitDiverged;
    case search::SearchResult::Status::kViolation:
      break;
  }
  scenario::Scenario found = s;
  found.strategy = "dfs";
  if (r.crashed) {
    PrintCrash(r.crash);
  } else {
    PrintOutcome(r.violation);
  }
  std::printf("preemptions needed: %d (the fewest: every bound below found nothing)\n",
              r.violation_preemptions);
  std::string path = absl::GetFlag(FLAGS_output);
  if (path.empty()) {
    path = ReproducerPathInOut(s, r.violation.outcome.invariant,
                               absl::StrCat("dfs-seed", s.seed, "-p", r.violation_preemptions));
  }
  absl::Status status = sim::WriteReproducer(path, scenario::ToReproducer(found, r.violation));
  if (!status.ok()) return UsageError(subcommand, std::string(status.message()));
  std::printf("reproducer: %s\nreplay: %s\nlook at it: %s\n", path.c_str(),
              scenario::ReplayCommand(path).c_str(),
              scenario::ReplayCommand(path, "--trace=interleaving").c_str());
  return scenario::ExitStatus(r.violation.outcome);
}

}  // namespace

int DfsMain(const char* subcommand, const scenario::Scenario& s) {
  search::SearchOptions options;
  options.preemption_bound = absl::GetFlag(FLAGS_preemption_bound);
  if (options.preemption_bound < 0 || options.preemption_bound > 64) {
    return UsageError(subcommand, "--preemption_bound must be between 0 and 64");
  }
  std::string dpor = absl::GetFlag(FLAGS_dpor);
  if (dpor != "sleep" && dpor != "off") {
    return UsageError(subcommand, absl::StrCat("--dpor must be sleep or off, not '", dpor, "'"));
  }
  options.reduction = dpor == "sleep";
  std::string enumerate = absl::GetFlag(FLAGS_enumerate);
  if (enumerate != "schedule" && enumerate != "all") {
    return UsageError(subcommand,
                      absl::StrCat("--enumerate must be schedule or all, not '", enumerate, "'"));
  }
  options.enumerate_all = enumerate == "all";
  int64_t runs = absl::GetFlag(FLAGS_runs);
  if (runs < 0) return UsageError(subcommand, "--runs must not be negative");
  options.max_schedules = static_cast<uint64_t>(runs);
  options.time_budget_seconds = absl::ToDoubleSeconds(absl::GetFlag(FLAGS_time));
  options.interrupted = &dfs_interrupted;
  if (absl::GetFlag(FLAGS_jobs) != 1) {
    std::printf("note: --strategy=dfs runs in one process; --jobs is ignored\n");
  }
  std::printf("switchyard %s: %s; preemption bound %d; reduction %s; enumerate %s\n", subcommand,
              scenario::Describe(s).c_str(), options.preemption_bound, dpor.c_str(),
              enumerate.c_str());
  std::fflush(stdout);
  // Ctrl-C (to the process group) and a SIGTERM both stop the search between two schedules
  // with its summary; the search's own process passes a SIGTERM on to the child it runs in.
  struct sigaction action {};
  action.sa_handler = OnDfsInterrupt;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  const bool tty = isatty(STDERR_FILENO) != 0;
  double last = -1;
  auto progress = [tty, &last](const search::SearchProgress& p) {
    if (!tty || p.seconds - last < 0.2) return;
    last = p.seconds;
    std::fprintf(stderr,
                 "\r\033[Kbound %d  schedules %" PRIu64 "  %.0f/s  pruned %" PRIu64
                 "  frontier %zu  %.1fs",
                 p.bound, p.schedules, p.seconds > 0 ? p.schedules / p.seconds : 0.0, p.pruned,
                 p.frontier, p.seconds);
  };
  auto on_crash = [tty](int signal, uint64_t run) {
    if (tty) std::fprintf(stderr, "\r\033[K");
    std::printf("the search's process died of %s in run %" PRIu64
                ": searching again up to that run, which runs isolated\n",
                scenario::SignalName(signal).c_str(), run);
    std::fflush(stdout);
  };
  int code = search::SearchSurvivingCrashes(
      s, options,
      [&](const search::SearchResult& r) { return ReportSearch(subcommand, s, options, r, tty); },
      progress, on_crash);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  return code;
}

}  // namespace switchyard::cli
