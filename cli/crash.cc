// Crash reporting shared by the subcommands: a crash of the code under test is reported as an
// outcome of kind "crash" (exit status 5) with the signal, where the simulation stood, a few
// host frames and the decisions that lead to it, never as a dead switchyard.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "cli/subcommands.h"
#include "views/symbolize.h"

namespace switchyard::cli {

int RunInChild(const std::function<int()>& body, int* signal) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return body();  // cannot fork: run unprotected rather than not at all
  if (pid == 0) {
    // A body that stops reaching points exits with kExitHang, with one line on stderr.
    scenario::InstallHangWatchdog(-1, scenario::HangSeconds());
    int code = body();
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    *signal = WTERMSIG(status);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : kExitUsage;
}

void PrintCrash(const scenario::IsolatedRun& crash) {
  // The invariant of a crash says so already: "outcome: crash: SIGSEGV: in fiber ...".
  std::printf("outcome: %s: %s\n", crash.outcome.invariant.c_str(), crash.outcome.message.c_str());
  // frames[0] is the faulting pc, the rest are return addresses.
  const std::vector<const void*>& pcs = crash.frames;
  views::Symbolized symbols = views::Symbolize(pcs);
  // The crashing frame, then the next few in the workspace's own code (not library headers).
  int shown = 0;
  for (size_t i = 0; i < pcs.size() && shown < 4; ++i) {
    const views::SourceLocation& where = symbols.locations.at(pcs[i]);
    if (i > 0 && (where.file.empty() || where.file[0] == '/')) continue;
    std::printf("  %s %s%s%s\n", i == 0 ? "at" : "from", where.Long().c_str(),
                where.inlined_into.empty() ? "" : ", inlined into ", where.inlined_into.c_str());
    ++shown;
  }
  if (!pcs.empty() && !symbols.note.empty()) std::printf("  (%s)\n", symbols.note.c_str());
  std::printf("stats: decisions up to the %s %zu\n",
              crash.outcome.kind == sim::Outcome::Kind::kHang ? "hang" : "crash",
              crash.log.decisions.size());
}

}  // namespace switchyard::cli
