#include "search/dfs.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace switchyard::search {
namespace {

// The pseudo-cell a draw from a seeded stream touches: the i-th draw's value does not depend on
// who draws it, so two steps that draw from one stream do not commute.
constexpr uint32_t kStreamCellBase = 0xFFFF0000u;

// What one step did: its vCPU and the cells it touched.
struct Transition {
  uint64_t step = 0;
  int cpu = -1;
  bool global = false;
  std::vector<std::pair<uint32_t, bool>> cells;  // (cell, writes), in first-access order

  void Add(uint32_t cell, bool writes) {
    if (cell == sim::kGlobalCell) {
      global = true;
      return;
    }
    for (auto& [c, w] : cells) {
      if (c == cell) {
        w = w || writes;
        return;
      }
    }
    cells.emplace_back(cell, writes);
  }
};

bool Dependent(const Transition& a, const Transition& b) {
  if (a.cpu == b.cpu || a.global || b.global) return true;
  for (const auto& [ca, wa] : a.cells) {
    for (const auto& [cb, wb] : b.cells) {
      if (ca == cb && (wa || wb)) return true;
    }
  }
  return false;
}

struct SleepEntry {
  uint32_t id;  // the vCPU
  Transition transition;
};

enum class NodeKind : uint8_t { kCpu, kThread, kOther };

// A branch point on the current path.
struct Node {
  NodeKind kind;
  sim::StreamId stream;
  uint64_t step;
  std::vector<uint32_t> ids;  // the candidates (vCPUs or thread ids); for kOther, 0..n-1
  int running = -1;           // index of the candidate that was running; -1: none
  int preemptions_before = 0;
  std::vector<uint32_t> order;    // the order choices are tried in: the default first
  size_t position = 0;            // order[position] is the current choice
  std::vector<SleepEntry> sleep;  // asleep when the node was reached
  std::vector<SleepEntry> done;   // choices explored before the current one, with their steps
  Transition chosen_transition;   // the step the current choice ran (kCpu)
  bool has_transition = false;

  uint32_t chosen() const { return order[position]; }
  int Cost(uint32_t index) const {
    return running >= 0 && static_cast<int>(index) != running ? 1 : 0;
  }
  bool Asleep(uint32_t index) const {
    for (const SleepEntry& e : sleep) {
      if (e.id == ids[index]) return true;
    }
    return false;
  }
};

// Replays the path's choices, then defaults; builds the nodes past the path and the sleep sets.
class DfsDecider : public sim::RandomDecider, public sim::AccessObserver {
 public:
  DfsDecider(uint64_t seed, std::vector<Node>* path, const SearchOptions& options, int bound)
      : sim::RandomDecider(seed),
        path_(path),
        fixed_(path->size()),
        options_(options),
        bound_(bound) {
    WantPositions();
  }

  // Every step gets a transition, even one that touches no cell: it still moves its vCPU on.
  // A vCPU that sleeps and runs anyway (it was the only one that could, or fairness forced it)
  // starts a schedule equivalent to one already explored: the run is cut short.
  void OnPosition() override {
    Flush(position_step());
    Current(position_step(), position_cpu());
    if (!tracking_ || blocked_) return;
    for (const SleepEntry& e : sleep_) {
      if (static_cast<int>(e.id) == position_cpu()) {
        blocked_ = true;
        ++pruned_;
        SetDivergence("dfs: a sleeping vCPU runs");
        return;
      }
    }
  }

  void OnAccess(const sim::Access& access) override {
    Current(access.step, access.cpu).Add(access.cell, access.kind != sim::AccessKind::kRead);
  }

  // After the run: the steps still pending end.
  void Finish() { Flush(UINT64_MAX); }

  bool blocked() const { return blocked_; }
  const std::string& error() const { return error_; }
  int preemptions() const { return preemptions_; }
  // Also stores the preemptions so far at `*out` as they change (memory shared with the parent
  // of an isolated run, which cannot ask a decider that died with its process).
  void PublishPreemptions(volatile int* out) {
    published_preemptions_ = out;
    *out = preemptions_;
  }
  uint64_t branch_points() const { return branch_index_; }
  uint64_t pruned() const { return pruned_; }

 protected:
  uint32_t DoChoose(sim::StreamId stream, uint32_t n) override {
    if (!options_.enumerate_all) {
      Current(position_step(), position_cpu()).Add(kStreamCellBase | stream, true);
      return sim::RandomDecider::DoChoose(stream, n);
    }
    std::vector<uint32_t> ids(n);
    for (uint32_t i = 0; i < n; ++i) ids[i] = i;
    return Branch(NodeKind::kOther, stream, position_step(), ids, -1);
  }
  uint32_t DoPickCpu(std::span<const uint8_t> candidates, uint64_t step) override {
    std::vector<uint32_t> ids(candidates.begin(), candidates.end());
    int running = static_cast<int>(candidates[0]) == position_cpu() ? 0 : -1;
    return Branch(NodeKind::kCpu, sim::kScheduleStream, step, ids, running);
  }
  uint32_t DoPickThread(sim::StreamId stream, std::span<const uint32_t> thread_ids,
                        uint64_t step) override {
    std::vector<uint32_t> ids(thread_ids.begin(), thread_ids.end());
    int running = -1;
    if (last_thread_.size() > stream && last_thread_[stream] >= 0) {
      for (size_t i = 0; i < ids.size(); ++i) {
        if (static_cast<int64_t>(ids[i]) == last_thread_[stream]) running = static_cast<int>(i);
      }
    }
    uint32_t value = Branch(NodeKind::kThread, stream, step, ids, running);
    if (last_thread_.size() <= stream) last_thread_.resize(stream + 1, -1);
    last_thread_[stream] = ids[value];
    return value;
  }

 private:
  void Publish() {
    if (published_preemptions_ != nullptr) *published_preemptions_ = preemptions_;
  }

  Transition& Current(uint64_t step, int cpu) {
    if (pending_.empty() || pending_.back().step != step) {
      pending_.emplace_back();
      pending_.back().step = step;
      pending_.back().cpu = cpu;
    }
    return pending_.back();
  }

  // Steps before `step` have ended: they wake the sleepers they depend on, and a node's own step
  // becomes its chosen transition.
  void Flush(uint64_t step) {
    size_t i = 0;
    for (; i < pending_.size() && pending_[i].step < step; ++i) {
      const Transition& t = pending_[i];
      std::erase_if(unfilled_, [this, &t](size_t k) {
        Node& node = (*path_)[k];
        if (node.step != t.step) return false;
        node.chosen_transition = t;
        node.has_transition = true;
        return true;
      });
      if (tracking_ && t.step >= tracking_from_) {
        std::erase_if(sleep_, [&t](const SleepEntry& e) { return Dependent(e.transition, t); });
      }
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  uint32_t Branch(NodeKind kind, sim::StreamId stream, uint64_t step, std::vector<uint32_t> ids,
                  int running) {
    Flush(step);
    if (blocked_ || !error_.empty()) return 0;
    const size_t index = branch_index_++;
    if (index < fixed_) {
      Node& node = (*path_)[index];
      if (node.kind != kind || node.stream != stream || node.ids != ids) {
        error_ = absl::StrCat("branch point ", index, " (step ", step,
                              ") differs from the one recorded at the same place of an earlier "
                              "run: the model is not deterministic");
        SetDivergence(error_);
        return 0;
      }
      preemptions_ = node.preemptions_before + node.Cost(node.chosen());
      Publish();
      if (index + 1 == fixed_) {
        // The choice that changed: from here on, the sleep set is tracked.
        tracking_ = options_.reduction && kind == NodeKind::kCpu;
        tracking_from_ = step;
        sleep_.clear();
        if (tracking_) {
          for (const SleepEntry& e : node.sleep) sleep_.push_back(e);
          for (const SleepEntry& e : node.done) sleep_.push_back(e);
        }
      }
      if (kind == NodeKind::kCpu && !node.has_transition) unfilled_.push_back(index);
      return node.chosen();
    }
    Node node;
    node.kind = kind;
    node.stream = stream;
    node.step = step;
    node.ids = std::move(ids);
    node.running = running;
    node.preemptions_before = preemptions_;
    const uint32_t n = static_cast<uint32_t>(node.ids.size());
    if (running >= 0) node.order.push_back(static_cast<uint32_t>(running));
    for (uint32_t i = 0; i < n; ++i) {
      if (static_cast<int>(i) != running) node.order.push_back(i);
    }
    if (kind == NodeKind::kCpu && tracking_) {
      node.sleep = sleep_;
    } else {
      sleep_.clear();  // nothing sleeps across a choice that is not reduced
      tracking_ = options_.reduction && kind == NodeKind::kCpu;
      tracking_from_ = step;
    }
    bool found = false;
    for (size_t p = 0; p < node.order.size(); ++p) {
      uint32_t choice = node.order[p];
      if (preemptions_ + node.Cost(choice) > bound_) continue;
      if (node.Asleep(choice)) {
        ++pruned_;
        continue;
      }
      if (!found) {
        node.position = p;
        found = true;
      }
    }
    if (!found) {
      // Every choice left sleeps or preempts once too often: no new schedule lies below.
      blocked_ = true;
      SetDivergence("dfs: blocked");
      return 0;
    }
    preemptions_ += node.Cost(node.chosen());
    Publish();
    uint32_t value = node.chosen();
    if (kind == NodeKind::kCpu) unfilled_.push_back(path_->size());
    path_->push_back(std::move(node));
    return value;
  }

  std::vector<Node>* path_;
  const size_t fixed_;
  const SearchOptions& options_;
  const int bound_;
  size_t branch_index_ = 0;
  std::vector<size_t> unfilled_;  // kCpu nodes whose chosen step has not ended yet
  int preemptions_ = 0;
  uint64_t pruned_ = 0;
  bool blocked_ = false;
  std::string error_;
  bool tracking_ = false;
  uint64_t tracking_from_ = 0;
  std::vector<SleepEntry> sleep_;
  std::vector<Transition> pending_;
  std::vector<int64_t> last_thread_;  // by stream: the thread id picked last
  volatile int* published_preemptions_ = nullptr;
};

// Moves the path to the next schedule within the bound: the deepest branch point with an
// untried choice that neither sleeps nor exceeds the bound takes it. False when none is left.
bool Backtrack(std::vector<Node>* path, int bound, bool reduction) {
  while (!path->empty()) {
    Node& node = path->back();
    for (size_t p = node.position + 1; p < node.order.size(); ++p) {
      uint32_t choice = node.order[p];
      if (node.preemptions_before + node.Cost(choice) > bound) continue;
      if (node.Asleep(choice)) continue;  // counted when the node was built
      if (reduction && node.kind == NodeKind::kCpu && node.has_transition) {
        node.done.push_back({node.ids[node.chosen()], node.chosen_transition});
      }
      node.position = p;
      node.has_transition = false;
      return true;
    }
    path->pop_back();
  }
  return false;
}

// Runs the schedule `path` leads to in a forked child (scenario/isolation.h) and records the
// result: a crash is the violation; anything else means the schedule did not crash this time.
void RunIsolatedSchedule(const scenario::Scenario& scenario, const SearchOptions& options,
                         int bound, std::vector<Node>* path, SearchResult* result) {
  void* page =
      mmap(nullptr, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  SY_CHECK(page != MAP_FAILED);
  volatile int* preemptions = static_cast<volatile int*>(page);
  *preemptions = 0;
  scenario::IsolatedRun run = scenario::RunIsolated([&](int tee_fd) {
    DfsDecider decider(scenario.seed, path, options, bound);
    decider.PublishPreemptions(preemptions);
    decider.TeeTo(tee_fd);
    sim::SimOptions sim_options;
    sim_options.access_observer = &decider;
    return scenario::RunWith(scenario, decider, false, sim_options);
  });
  const int published = *preemptions;
  munmap(page, sizeof(int));
  if (!run.crashed) {
    result->status = SearchResult::Status::kError;
    result->error =
        absl::StrCat("schedule ", options.isolate_run,
                     " killed the search process but did not crash when run again "
                     "isolated (",
                     run.outcome.invariant.empty() ? scenario::OutcomeKindName(run.outcome.kind)
                                                   : run.outcome.invariant,
                     "): the model or the search is not deterministic");
    return;
  }
  ++result->schedules;
  result->longest_steps = std::max(result->longest_steps, run.outcome.step);
  result->status = SearchResult::Status::kViolation;
  result->violation = scenario::ResultOf(run);
  result->violation_preemptions = published;
  result->crashed = true;
  result->crash = std::move(run);
}

}  // namespace

const char* StatusName(SearchResult::Status status) {
  switch (status) {
    case SearchResult::Status::kVerified:
      return "verified";
    case SearchResult::Status::kViolation:
      return "violation";
    case SearchResult::Status::kIncomplete:
      return "incomplete";
    case SearchResult::Status::kError:
      return "error";
  }
  return "?";
}

SearchResult Search(const scenario::Scenario& scenario, const SearchOptions& options,
                    const std::function<void(const SearchProgress&)>& progress) {
  SY_CHECK(options.preemption_bound >= 0);
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  auto elapsed = [&start] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  SearchResult result;
  std::vector<Node> path;
  uint64_t runs_started = 0;
  for (int bound = 0; bound <= options.preemption_bound; ++bound) {
    result.bound = bound;
    path.clear();
    for (;;) {
      if ((options.interrupted != nullptr && *options.interrupted) ||
          (options.max_schedules != 0 && result.schedules >= options.max_schedules) ||
          (options.time_budget_seconds > 0 && elapsed() >= options.time_budget_seconds)) {
        result.status = SearchResult::Status::kIncomplete;
        result.seconds = elapsed();
        return result;
      }
      const uint64_t run_index = runs_started++;
      if (options.runs_started != nullptr) *options.runs_started = runs_started;
      if (run_index == options.isolate_run) {
        RunIsolatedSchedule(scenario, options, bound, &path, &result);
        result.seconds = elapsed();
        return result;
      }
      DfsDecider decider(scenario.seed, &path, options, bound);
      sim::SimOptions sim_options;
      sim_options.access_observer = &decider;
      scenario::RunResult run = scenario::RunWith(scenario, decider, false, sim_options);
      decider.Finish();
      result.pruned += decider.pruned();
      if (!decider.error().empty()) {
        result.status = SearchResult::Status::kError;
        result.error = decider.error();
        result.seconds = elapsed();
        return result;
      }
      if (decider.blocked() && run.outcome.kind == sim::Outcome::Kind::kDiverged) {
        ++result.blocked;
      } else {
        ++result.schedules;
        if (decider.preemptions() == bound) ++result.new_schedules;
        result.deepest = std::max<uint64_t>(result.deepest, decider.branch_points());
        result.longest_steps = std::max(result.longest_steps, run.outcome.step);
        if (run.outcome.kind != sim::Outcome::Kind::kPass) {
          result.status = SearchResult::Status::kViolation;
          result.violation = std::move(run);
          result.violation_preemptions = decider.preemptions();
          result.seconds = elapsed();
          return result;
        }
      }
      if (progress) {
        progress({bound, result.schedules, result.pruned, path.size(), elapsed()});
      }
      if (!Backtrack(&path, bound, options.reduction)) break;
    }
    result.bounds_completed = bound;
  }
  result.status = SearchResult::Status::kVerified;
  result.seconds = elapsed();
  return result;
}

}  // namespace switchyard::search

namespace switchyard::search {

int SearchSurvivingCrashes(const scenario::Scenario& scenario, SearchOptions options,
                           const std::function<int(const SearchResult&)>& report,
                           const std::function<void(const SearchProgress&)>& progress,
                           const std::function<void(int signal, uint64_t run)>& on_crash) {
  void* page =
      mmap(nullptr, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return report(Search(scenario, options, progress));  // unprotected
  volatile uint64_t* started = static_cast<volatile uint64_t*>(page);
  *started = 0;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    munmap(page, sizeof(uint64_t));
    return report(Search(scenario, options, progress));  // cannot fork: unprotected
  }
  if (pid == 0) {
    // The child dies with its parent (a SIGKILL of the parent leaves no orphan searching on).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    options.runs_started = started;
    int code = report(Search(scenario, options, progress));
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);
  }
  int status = 0;
  bool passed_on = false;
  for (;;) {
    if (waitpid(pid, &status, 0) == pid) break;
    if (errno != EINTR) {
      status = 0;
      break;
    }
    if (!passed_on && options.interrupted != nullptr && *options.interrupted) {
      kill(pid, SIGTERM);
      passed_on = true;
    }
  }
  const uint64_t runs = *started;
  munmap(page, sizeof(uint64_t));
  if (!WIFSIGNALED(status)) return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  const int signal = WTERMSIG(status);
  if (on_crash) on_crash(signal, runs == 0 ? 0 : runs - 1);
  if (runs == 0 || signal == SIGKILL || (passed_on && signal == SIGTERM)) {
    // Killed from outside, or dead before its first run: there is no run to isolate.
    SearchResult result;
    result.status = SearchResult::Status::kError;
    result.error = runs == 0 ? absl::StrCat("the search process died before its first run (",
                                            scenario::SignalName(signal), ")")
                             : absl::StrCat("the search process was killed (",
                                            scenario::SignalName(signal), ") in run ", runs - 1);
    return report(result);
  }
  options.isolate_run = runs - 1;
  return report(Search(scenario, options, progress));
}

}  // namespace switchyard::search
