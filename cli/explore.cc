// `switchyard explore`: a campaign of runs over consecutive seeds, optionally across processes.
//
// Run i uses seed --seed + i. Results are consumed in seed order whatever the number of
// processes, so which seeds run and what they find do not depend on --jobs: workers may run
// ahead, but the campaign stops at the first violating seed in order (or, with --keep-going,
// keeps the first seed of each invariant). Reproducers are made by the coordinating process,
// which runs the violating seed again (runs are deterministic) and writes the file atomically.
//
// Runs are always made in worker processes (one with --jobs=1), so a run that crashes the host
// process kills a worker, not the campaign. The coordinator blocks in poll(2) on the workers'
// pipes (reading their reports in batches, a few milliseconds apart); a pipe at end of file means
// its worker is gone: the coordinator reaps it, runs the seed it was on again in isolation
// (scenario/isolation.h) to classify the crash and keep its decision log, and starts a new worker
// at that worker's next seed. A worker that was killed from outside (its seed passes in isolation)
// is reported and replaced the same way.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/flags.h"
#include "cli/subcommands.h"
#include "sim/reproducer.h"
#include "views/symbolize.h"

namespace switchyard::cli {
namespace {

// How long the coordinator lets workers' reports gather between two reads (see Campaign::Run).
constexpr absl::Duration kReportBatch = absl::Milliseconds(2);

volatile sig_atomic_t interrupted = 0;
volatile sig_atomic_t interrupt_signal = 0;
void OnInterrupt(int signal) {
  interrupted = 1;
  interrupt_signal = signal;
}

// What a worker reports about one run.
struct RunReport {
  uint64_t index;
  uint8_t kind;  // sim::Outcome::Kind
  char invariant[86];
};

RunReport RunOne(const scenario::Scenario& base, uint64_t index) {
  scenario::Scenario s = base;
  s.seed = base.seed + index;
  RunReport report{};
  report.index = index;
  if (!scenario::Resolve(&s).ok()) {  // cannot happen: the first seed resolved
    report.kind = static_cast<uint8_t>(sim::Outcome::Kind::kSafety);
    std::snprintf(report.invariant, sizeof report.invariant, "scenario-error");
    return report;
  }
  scenario::RunResult r = scenario::RunScenario(s);
  report.kind = static_cast<uint8_t>(r.outcome.kind);
  std::snprintf(report.invariant, sizeof report.invariant, "%s", r.outcome.invariant.c_str());
  return report;
}

bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

class Campaign {
 public:
  Campaign(const scenario::Scenario& base, uint64_t limit, absl::Duration budget, int jobs)
      : base_(base), limit_(limit), budget_(budget), jobs_(jobs) {}

  int Run();

 private:
  // Consumes the report for the next index in order; returns false when the campaign stops.
  bool Consume(const RunReport& report);
  void Progress(bool force);
  // Runs the first violating seed of invariant `key` again (or takes its isolated crash run),
  // writes its reproducer and keeps its one-line message for the summary.
  void WriteReproducer(const std::string& key, uint64_t index);
  // Starts worker `j` at run index `first` (it then takes every jobs-th index).
  void StartWorker(int j, uint64_t first);
  void StopWorkers();
  // Worker `j`'s pipe is at end of file: reaps it and, if it died before its last index,
  // classifies the run it was on and starts a new worker after it.
  void WorkerGone(int j, std::map<uint64_t, RunReport>* pending);
  bool TimeIsUp() const {
    return budget_ > absl::ZeroDuration() && absl::Now() - start_ >= budget_;
  }

  scenario::Scenario base_;
  uint64_t limit_;
  absl::Duration budget_;
  int jobs_;
  absl::Time start_;
  absl::Time last_progress_ = absl::InfinitePast();
  bool tty_ = isatty(STDERR_FILENO) != 0;
  uint64_t done_ = 0;
  uint64_t violations_ = 0;
  int first_status_ = kExitOk;
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_invariant_;  // count, first index
  std::map<std::string, std::string> first_message_;  // by invariant: its first finding's message
  std::vector<std::string> reproducers_;
  std::vector<pid_t> workers_;        // -1: finished or not running
  std::vector<int> fds_;              // -1: closed
  std::vector<uint64_t> next_index_;  // the index each worker is on (or will start)
  std::vector<std::string> partial_;  // a worker's report bytes not yet whole
  std::map<uint64_t, scenario::IsolatedRun> crashes_;  // by index: the classified crashes
  std::map<std::string, uint64_t> worker_deaths_;      // deaths not caused by the run, by signal
};

void Campaign::Progress(bool force) {
  if (!tty_) return;
  absl::Time now = absl::Now();
  if (!force && now - last_progress_ < absl::Milliseconds(200)) return;
  last_progress_ = now;
  double elapsed = absl::ToDoubleSeconds(now - start_);
  std::string left;
  if (budget_ > absl::ZeroDuration()) {
    left = absl::StrCat(
        ", ", absl::FormatDuration(absl::Trunc(budget_ - (now - start_), absl::Seconds(1))),
        " left");
  } else if (limit_ != UINT64_MAX && done_ > 0) {
    left = absl::StrCat(", about ", static_cast<int64_t>(elapsed / done_ * (limit_ - done_)),
                        "s left");
  }
  std::fprintf(stderr,
               "\r\033[Kruns %" PRIu64 "  %.0f runs/s  violations %" PRIu64 "  elapsed %.1fs%s",
               done_, elapsed > 0 ? done_ / elapsed : 0.0, violations_, elapsed, left.c_str());
}

void Campaign::WriteReproducer(const std::string& key, uint64_t index) {
  scenario::Scenario s = base_;
  s.seed = base_.seed + index;
  if (!scenario::Resolve(&s).ok()) return;
  // A crash is not run again here (it would kill the coordinator): its isolated run kept the
  // decisions up to the crash.
  auto crash = crashes_.find(index);
  scenario::RunResult r =
      crash != crashes_.end() ? scenario::ResultOf(crash->second) : scenario::RunScenario(s);
  first_message_[key] = r.outcome.message;
  std::string path = ReproducerPathInOut(s, r.outcome.invariant, absl::StrCat("seed", s.seed));
  absl::Status status = sim::WriteReproducer(path, scenario::ToReproducer(s, r));
  if (!status.ok()) {
    std::fprintf(stderr, "switchyard explore: %s\n", std::string(status.message()).c_str());
    first_status_ = kExitUsage;
    return;
  }
  reproducers_.push_back(path);
}

bool Campaign::Consume(const RunReport& report) {
  ++done_;
  auto kind = static_cast<sim::Outcome::Kind>(report.kind);
  if (kind != sim::Outcome::Kind::kPass) {
    ++violations_;
    // A crash's invariant already says so ("crash: SIGSEGV").
    std::string key = kind == sim::Outcome::Kind::kCrash || kind == sim::Outcome::Kind::kHang
                          ? std::string(report.invariant)
                          : absl::StrCat(scenario::OutcomeKindName(kind), " ", report.invariant);
    auto [it, fresh] = by_invariant_.try_emplace(key, 0, report.index);
    ++it->second.first;
    if (first_status_ == kExitOk) {
      first_status_ = kind == sim::Outcome::Kind::kLiveness ? kExitLiveness
                      : kind == sim::Outcome::Kind::kCrash  ? kExitCrash
                      : kind == sim::Outcome::Kind::kHang   ? kExitHang
                                                            : kExitSafety;
    }
    if (fresh) WriteReproducer(key, report.index);
    if (!absl::GetFlag(FLAGS_keep_going)) return false;
  }
  Progress(false);
  return done_ < limit_ && !TimeIsUp() && !interrupted;
}

void Campaign::StartWorker(int j, uint64_t first) {
  next_index_[j] = first;
  partial_[j].clear();
  if (first >= limit_) return;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    std::fprintf(stderr, "switchyard explore: cannot create a pipe: %s\n", std::strerror(errno));
    std::exit(kExitUsage);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t coordinator = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "switchyard explore: cannot start a worker: %s\n", std::strerror(errno));
    std::exit(kExitUsage);
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
    // The coordinator ends the campaign and then its workers; a worker must not outlive it.
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != coordinator) _exit(0);
    // A run that stops reaching points ends this worker; its seed then runs isolated, where the
    // same watchdog records the hang (WorkerGone).
    scenario::InstallHangWatchdog(-1, scenario::HangSeconds());
    for (uint64_t i = first; i < limit_; i += jobs_) {
      RunReport report = RunOne(base_, i);
      if (!WriteAll(pipe_fds[1], &report, sizeof report)) break;
    }
    _exit(0);
  }
  close(pipe_fds[1]);
  workers_[j] = pid;
  fds_[j] = pipe_fds[0];
}

void Campaign::WorkerGone(int j, std::map<uint64_t, RunReport>* pending) {
  close(fds_[j]);
  fds_[j] = -1;
  int status = 0;
  while (waitpid(workers_[j], &status, 0) < 0 && errno == EINTR) {
  }
  workers_[j] = -1;
  const uint64_t index = next_index_[j];
  if (index >= limit_) return;                                // it ran all of its seeds
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;  // its pipe broke: ending anyway
  // It died on `index`: run that seed again, isolated, to see whether the run crashes.
  scenario::Scenario s = base_;
  s.seed = base_.seed + index;
  RunReport report{};
  report.index = index;
  if (scenario::Resolve(&s).ok()) {
    scenario::IsolatedRun run =
        scenario::RunScenarioIsolated(s, [&s] { return scenario::MakeDecider(s, nullptr, {}); });
    report.kind = static_cast<uint8_t>(run.outcome.kind);
    std::snprintf(report.invariant, sizeof report.invariant, "%s", run.outcome.invariant.c_str());
    if (run.crashed) {
      crashes_.emplace(index, std::move(run));
    } else {
      // Killed from outside (or out of memory): the run itself is fine; say so, go on.
      std::string how = WIFSIGNALED(status) ? scenario::SignalName(WTERMSIG(status))
                                            : absl::StrCat("exit ", WEXITSTATUS(status));
      ++worker_deaths_[how];
      if (tty_) std::fprintf(stderr, "\r\033[K");
      std::fprintf(stderr,
                   "switchyard explore: a worker died (%s) on seed %" PRIu64
                   ", which does not crash when run again in isolation; a new worker goes on\n",
                   how.c_str(), s.seed);
    }
  }
  (*pending)[index] = report;
  StartWorker(j, index + jobs_);
}

void Campaign::StopWorkers() {
  for (pid_t pid : workers_) {
    if (pid > 0) kill(pid, SIGKILL);
  }
  for (pid_t pid : workers_) {
    if (pid > 0) {
      while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  for (int fd : fds_) {
    if (fd >= 0) close(fd);
  }
}

int Campaign::Run() {
  start_ = absl::Now();
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  workers_.assign(jobs_, -1);
  fds_.assign(jobs_, -1);
  next_index_.assign(jobs_, 0);
  partial_.assign(jobs_, "");
  for (int j = 0; j < jobs_; ++j) StartWorker(j, static_cast<uint64_t>(j));
  std::map<uint64_t, RunReport> pending;
  uint64_t next = 0;
  bool more = limit_ > 0;
  while (more) {
    std::vector<pollfd> polls;
    for (int fd : fds_) polls.push_back({fd, POLLIN, 0});  // poll skips fd -1
    // Blocks until a worker reports or goes; wakes up for the progress line and the time limit.
    int ready = poll(polls.data(), polls.size(), 200);
    if (ready < 0 && errno != EINTR) break;
    if (interrupted || TimeIsUp()) break;
    for (size_t j = 0; j < polls.size(); ++j) {
      if (fds_[j] < 0 || !(polls[j].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      static char buffer[sizeof(RunReport) * 704];  // a full pipe's reports in one read
      ssize_t n = read(fds_[j], buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        WorkerGone(static_cast<int>(j), &pending);
        continue;
      }
      partial_[j].append(buffer, static_cast<size_t>(n));
      size_t used = 0;
      for (; partial_[j].size() - used >= sizeof(RunReport); used += sizeof(RunReport)) {
        RunReport report;
        std::memcpy(&report, partial_[j].data() + used, sizeof report);
        pending[report.index] = report;
        next_index_[j] = report.index + jobs_;
      }
      partial_[j].erase(0, used);
    }
    while (more && pending.count(next)) {
      more = Consume(pending[next]);
      pending.erase(next++);
    }
    bool any_worker = false;
    for (int fd : fds_) any_worker = any_worker || fd >= 0;
    if (more && !any_worker) {  // cannot happen: every index below the limit was reported
      std::fprintf(stderr, "switchyard explore: every worker is gone before run %" PRIu64 "\n",
                   next);
      break;
    }
    Progress(false);
    // Reports are read in batches: each wake-up of the coordinator cost a worker about 6-25% of
    // its runs on the 2-CPU machine (a worker's write that wakes the other CPU; bench/README,
    // "Crash isolation"). A pipe holds 680 reports: a worker waits for the coordinator only if
    // it makes that many runs in one nap.
    if (more) absl::SleepFor(kReportBatch);
  }
  StopWorkers();
  double elapsed = absl::ToDoubleSeconds(absl::Now() - start_);
  if (tty_) {
    Progress(true);
    std::fprintf(stderr, "\n");
  }
  if (interrupted) {
    std::printf("interrupted (%s): the summary covers the runs that completed\n",
                interrupt_signal == SIGTERM ? "SIGTERM" : "SIGINT");
  }
  std::printf("summary: %" PRIu64 " runs in %.2f s (%.0f runs/s, %d jobs), %" PRIu64
              " violations; strategy %s; seeds %" PRIu64 "..%" PRIu64 "\n",
              done_, elapsed, elapsed > 0 ? done_ / elapsed : 0.0, jobs_, violations_,
              base_.strategy.c_str(), base_.seed, base_.seed + (done_ == 0 ? 0 : done_ - 1));
  for (const auto& [key, value] : by_invariant_) {
    std::printf("  %s: %" PRIu64 " (first seed %" PRIu64 ")\n", key.c_str(), value.first,
                base_.seed + value.second);
    // What went wrong, in the model's terms: the first finding's one-line message, as `run`
    // prints it.
    auto message = first_message_.find(key);
    if (message != first_message_.end() && !message->second.empty()) {
      std::printf("    %s\n", views::LocateCode(message->second).c_str());
    }
  }
  for (const auto& [key, value] : by_invariant_) {
    auto crash = crashes_.find(value.second);
    if (crash == crashes_.end()) continue;
    std::printf("first %s, seed %" PRIu64 ":\n", key.c_str(), base_.seed + value.second);
    PrintCrash(crash->second);
  }
  for (const auto& [how, count] : worker_deaths_) {
    std::printf("  workers killed from outside (%s): %" PRIu64
                " (their seeds ran again in isolation)\n",
                how.c_str(), count);
  }
  for (const std::string& path : reproducers_) {
    std::printf("reproducer: %s\nreplay: %s\nlook at it: %s\n", path.c_str(),
                scenario::ReplayCommand(path).c_str(),
                scenario::ReplayCommand(path, "--trace=interleaving").c_str());
  }
  return first_status_;
}

}  // namespace

int ExploreMain(const ParsedArgs& args) {
  if (!args.positional.empty()) {
    return UsageError("explore", absl::StrCat("unexpected argument '", args.positional[0], "'"));
  }
  int jobs = absl::GetFlag(FLAGS_jobs);
  if (jobs < 1 || jobs > 64) {
    return UsageError("explore", absl::StrCat("--jobs must be between 1 and 64, not ", jobs));
  }
  absl::Duration budget = absl::GetFlag(FLAGS_time);
  if (budget < absl::ZeroDuration()) {
    return UsageError("explore", "--time must not be negative");
  }
  int64_t runs = absl::GetFlag(FLAGS_runs);
  if (runs < 0) return UsageError("explore", "--runs must not be negative");
  scenario::Scenario resolved, unresolved;
  if (!ScenarioFromFlags("explore", args, &resolved, &unresolved)) return kExitUsage;
  if (resolved.strategy == "dfs") return DfsMain("explore", resolved);
  uint64_t limit =
      runs > 0 ? static_cast<uint64_t>(runs) : (budget > absl::ZeroDuration() ? UINT64_MAX : 1000);
  scenario::Scenario base = scenario::DrawsPerSeed(unresolved) ? unresolved : resolved;
  // The first line names the campaign's strategy, not what the first seed drew from the swarm.
  scenario::Scenario shown = resolved;
  if (unresolved.strategy == "swarm") {
    shown.strategy = "swarm";
    shown.burst_max = 0;
  }
  std::string drawn;
  if (unresolved.swarm) drawn += " (swarm: options drawn per seed)";
  if (unresolved.strategy == "swarm") drawn += " (strategy drawn per seed)";
  std::printf("switchyard explore: %s%s; runs %s; jobs %d; reproducers in %s\n",
              scenario::Describe(shown).c_str(), drawn.c_str(),
              limit == UINT64_MAX ? "until time is up" : absl::StrCat(limit).c_str(), jobs,
              absl::GetFlag(FLAGS_out).c_str());
  std::fflush(stdout);
  return Campaign(base, limit, budget, jobs).Run();
}

}  // namespace switchyard::cli
