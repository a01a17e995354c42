// What crash isolation costs a campaign: xv6 runs per second (default options, access
// granularity) made five ways, interleaved in one process so that machine load hits all alike.
//   in-process   RunScenario in a loop: no protection, the baseline;
//   worker       the runs in one forked worker that reports each over a pipe, the coordinator
//                blocking in poll(2) and reading each report as it comes;
//   batched      the same, the coordinator napping 2 ms after each read so that reports gather
//                (a wake-up of the coordinator costs the worker);
//   + watchdog   batched, and the worker with the hang watchdog installed (scenario/isolation.h:
//                a SIGPROF every CPU second): what `switchyard explore` does for any --jobs;
//   fork-per-run each run in its own forked child (scenario::RunScenarioIsolated): what the
//                coordinator does only for the seed a worker died on.
// Usage: isolation_bench [--runs=N] [--trials=T]; prints the median of T trials of N runs each
// and each way's ratio to in-process.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "scenario/isolation.h"
#include "scenario/scenario.h"

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;

scenario::Scenario Xv6(uint64_t seed) {
  scenario::Scenario s;
  s.model = "xv6";
  s.seed = seed;
  if (!scenario::Resolve(&s).ok()) std::abort();
  return s;
}

double InProcess(uint64_t first, uint64_t runs) {
  auto start = Clock::now();
  uint64_t sink = 0;
  for (uint64_t i = 0; i < runs; ++i) sink += scenario::RunScenario(Xv6(first + i)).outcome.step;
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (sink == 0) std::printf("(no steps?)\n");
  return runs / seconds;
}

struct Report {
  uint64_t index;
  uint8_t kind;
  char invariant[86];
};

double Worker(uint64_t first, uint64_t runs, bool batched, bool watchdog) {
  auto start = Clock::now();
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (watchdog) scenario::InstallHangWatchdog(-1, scenario::HangSeconds());
    for (uint64_t i = 0; i < runs; ++i) {
      scenario::RunResult r = scenario::RunScenario(Xv6(first + i));
      Report report{};
      report.index = i;
      report.kind = static_cast<uint8_t>(r.outcome.kind);
      std::snprintf(report.invariant, sizeof report.invariant, "%s", r.outcome.invariant.c_str());
      if (write(fds[1], &report, sizeof report) != sizeof report) _exit(1);
    }
    _exit(0);
  }
  close(fds[1]);
  uint64_t received = 0;
  std::string partial;
  while (received < runs) {
    pollfd p{fds[0], POLLIN, 0};
    poll(&p, 1, 200);
    char buffer[sizeof(Report) * 64];
    ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    partial.append(buffer, static_cast<size_t>(n));
    received += partial.size() / sizeof(Report);
    partial.erase(0, partial.size() / sizeof(Report) * sizeof(Report));
    if (batched) usleep(2000);
  }
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return received / seconds;
}

double ForkPerRun(uint64_t first, uint64_t runs) {
  auto start = Clock::now();
  for (uint64_t i = 0; i < runs; ++i) scenario::RunScenarioIsolated(Xv6(first + i));
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return runs / seconds;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Main(int argc, char** argv) {
  uint64_t runs = 2000, trials = 5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--runs=", 0) == 0 && absl::SimpleAtoi(arg.substr(7), &runs) && runs > 0) {
    } else if (arg.rfind("--trials=", 0) == 0 && absl::SimpleAtoi(arg.substr(9), &trials) &&
               trials > 0) {
    } else {
      std::fprintf(stderr, "isolation_bench: unknown argument '%s' (--runs=N --trials=T)\n",
                   arg.c_str());
      return 2;
    }
  }
  std::vector<double> in_process, worker, batched, watchdog, fork_per_run;
  for (uint64_t t = 0; t < trials; ++t) {
    // The same seeds for each way within a trial; a new range per trial.
    uint64_t first = t * runs;
    in_process.push_back(InProcess(first, runs));
    worker.push_back(Worker(first, runs, false, false));
    batched.push_back(Worker(first, runs, true, false));
    watchdog.push_back(Worker(first, runs, true, true));
    fork_per_run.push_back(ForkPerRun(first, runs));
  }
  double base = Median(in_process);
  std::printf("xv6 default options, access granularity; %llu runs x %llu trials, median\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(trials));
  std::printf("%-14s %10s %8s\n", "way", "runs/s", "ratio");
  std::printf("%-14s %10.0f %8.3f\n", "in-process", base, 1.0);
  std::printf("%-14s %10.0f %8.3f\n", "worker", Median(worker), Median(worker) / base);
  std::printf("%-14s %10.0f %8.3f\n", "batched", Median(batched), Median(batched) / base);
  std::printf("%-14s %10.0f %8.3f\n", "+ watchdog", Median(watchdog), Median(watchdog) / base);
  std::printf("%-14s %10.0f %8.3f\n", "fork-per-run", Median(fork_per_run),
              Median(fork_per_run) / base);
  return 0;
}

}  // namespace
}  // namespace switchyard

int main(int argc, char** argv) { return switchyard::Main(argc, argv); }
