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

namespace switchyard::cli {

int RunInChild(const std::function<int()>& body, int* signal) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return body();  // cannot fork: run unprotected rather than not at all
  if (pid == 0) {
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

scenario::IsolatedRun ClassifyCrash(const scenario::Scenario& s,
                                    const std::function<std::unique_ptr<sim::Decider>()>& make) {
  return scenario::RunIsolated([&s, &make](int tee_fd) {
    std::unique_ptr<sim::Decider> decider = make();
    decider->TeeTo(tee_fd);
    return scenario::RunWith(s, *decider, false);
  });
}

void PrintCrash(const scenario::IsolatedRun& crash) {
  std::printf("outcome: crash: %s: %s\n", crash.outcome.invariant.c_str(),
              crash.outcome.message.c_str());
  for (size_t i = 0; i < crash.frames.size() && i < 4; ++i) {
    std::printf("  frame %zu: %s\n", i, crash.frames[i].c_str());
  }
  std::printf("stats: decisions up to the crash %zu\n", crash.log.decisions.size());
}

scenario::RunResult CrashResult(const scenario::IsolatedRun& crash) {
  scenario::RunResult r;
  r.outcome = crash.outcome;
  r.log = crash.log;
  return r;
}

}  // namespace switchyard::cli
