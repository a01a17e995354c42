// `switchyard check-determinism`: runs each seed in two separate processes and compares their
// trace hashes. A difference means something other than the seed steered a run (wall clock,
// hashed-container order, pointer values, uninitialised memory, the environment).
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/flags.h"
#include "cli/subcommands.h"

namespace switchyard::cli {
namespace {

// Runs the scenario in a child process and returns the trace hash it reports, or nullopt.
bool HashInChild(const scenario::Scenario& s, uint64_t* hash) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    close(fds[0]);
    uint64_t h = scenario::RunScenario(s).outcome.trace_hash;
    _exit(write(fds[1], &h, sizeof h) == sizeof h ? 0 : 1);
  }
  close(fds[1]);
  bool ok = read(fds[0], hash, sizeof *hash) == sizeof *hash;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
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
  std::printf("switchyard check-determinism: %s; %" PRId64 " seeds, each in two processes\n",
              scenario::Describe(base).c_str(), runs);
  for (int64_t i = 0; i < runs; ++i) {
    scenario::Scenario s = unresolved.swarm ? unresolved : base;
    s.seed = base.seed + static_cast<uint64_t>(i);
    if (!scenario::Resolve(&s).ok()) return kExitUsage;
    uint64_t first = 0, second = 0;
    if (!HashInChild(s, &first) || !HashInChild(s, &second)) {
      std::fprintf(stderr,
                   "switchyard check-determinism: a child process failed (seed %" PRIu64 ")\n",
                   s.seed);
      return kExitSafety;
    }
    if (first != second) {
      std::printf("NOT deterministic: seed %" PRIu64 " gave trace hash 0x%016" PRIx64
                  " then 0x%016" PRIx64 "\nreproduce: %s\n",
                  s.seed, first, second, scenario::RunCommand(s).c_str());
      return kExitSafety;
    }
  }
  std::printf("deterministic: %" PRId64 " seeds gave the same trace hash in two processes each\n",
              runs);
  return kExitOk;
}

}  // namespace switchyard::cli
