// Bounded exhaustive search: every schedule of one workload up to a preemption bound.
//
// Stateless systematic search in the manner of CHESS (Musuvathi and Qadeer, PLDI 2007 and OSDI
// 2008): each schedule is a fresh run of the scenario from its start under a DfsDecider, which
// replays the choices of a prefix and then takes the default choice at every later branch point;
// backtracking changes the deepest choice that has an unexplored alternative. A branch point is
// a schedule choice (Decider::PickCpu: which vCPU runs next) or a model's own thread pick
// (Decider::PickThread: UML's runqueue); with `enumerate_all`, every other choice too. Choices
// on the other streams (workload, timer phase, interrupt delay, ...) come from the scenario's
// seed, as under the random strategy, so one seed is one workload.
//
// Iterative context bounding: the search runs with bounds 0, 1, ..., preemption_bound in turn,
// so the first violation found has the fewest preemptions any schedule needs for it (up to the
// reduction's caveat below). A preemption is a choice that switches away from a vCPU (or thread)
// that could have gone on running; the default choice never preempts.
//
// Reduction (sleep sets, Godefroid 1996): the simulator reports each step's accesses to shared
// memory (cells of instrumented code, sim/instrumentation.h) and, as writes of sim::kGlobalCell,
// the work other vCPUs can observe (time, timers, interrupts, switches). Two steps are dependent
// when they run on the same vCPU, when either is global, or when they touch the same cell and at
// least one writes (a lock's amoswap is a read-modify-write, so lock operations always conflict).
// After the subtree of choice q at a branch point is explored, q sleeps in its later siblings'
// subtrees until a step dependent on q's step runs: every schedule it would lead to is equivalent
// to one already explored. Only vCPU choices are reduced; after a thread pick or an enumerated
// choice nothing sleeps. As in CHESS, preemption bounding and reduction interact: a schedule pruned
// as equivalent may be equivalent only to a schedule with more preemptions than the bound, so with
// the reduction on, "verified up to bound K" means every equivalence class that has a member within
// the bound.
//
// Crashes: a schedule that crashes the host (a null pointer in the model, a failed SY_CHECK, a
// fiber stack overflow) is a violation of kind "crash" like any other. SearchSurvivingCrashes
// runs the search in a forked child that counts the runs it starts in shared memory; when the
// child dies of a signal, the search runs again in the calling process up to that run, which
// alone runs isolated (scenario/isolation.h): the runs before it passed in the child, and runs
// are deterministic, so only the isolated one can crash.
//
// Determinism: no wall clock or hashing enters the search's order or results (the time budget
// only decides when to stop); the same scenario and options give the same schedules in the same
// order.
#ifndef SWITCHYARD_SEARCH_DFS_H_
#define SWITCHYARD_SEARCH_DFS_H_

#include <csignal>
#include <cstdint>
#include <functional>
#include <string>

#include "scenario/isolation.h"
#include "scenario/scenario.h"

namespace switchyard::search {

struct SearchOptions {
  int preemption_bound = 2;
  bool reduction = true;           // sleep sets over the recorded accesses
  bool enumerate_all = false;      // every choice is a branch point, not only schedule choices
  uint64_t max_schedules = 0;      // 0: no limit
  double time_budget_seconds = 0;  // 0: no limit
  // Set (by a signal handler) to stop between two schedules; the result covers what ran.
  const volatile sig_atomic_t* interrupted = nullptr;
  // If set, the number of runs started so far (complete, cut short or crashing), stored before
  // each run starts: point it at memory shared with a parent to learn which run killed a child.
  volatile uint64_t* runs_started = nullptr;
  // The run (0-based, counted as runs_started counts) that runs in a forked child.
  uint64_t isolate_run = UINT64_MAX;
};

// Where a running search stands, for a progress line.
struct SearchProgress {
  int bound = 0;
  uint64_t schedules = 0;
  uint64_t pruned = 0;
  size_t frontier = 0;  // branch points on the current path
  double seconds = 0;
};

struct SearchResult {
  enum class Status {
    kVerified,    // every bound up to preemption_bound explored, no violation
    kViolation,   // `violation` holds the failing run
    kIncomplete,  // stopped by a budget or an interrupt
    kError,       // the model behaved differently on a replayed prefix (`error` says where)
  };
  Status status = Status::kIncomplete;
  int bounds_completed = -1;   // the largest bound whose search finished
  int bound = 0;               // the bound being searched when it stopped
  uint64_t schedules = 0;      // complete runs, every bound together
  uint64_t new_schedules = 0;  // runs with exactly as many preemptions as their bound allows
  uint64_t pruned = 0;         // alternatives skipped because they slept (equivalent schedules)
  uint64_t blocked = 0;        // runs cut short: every choice left slept or exceeded the bound
  uint64_t deepest = 0;        // the most branch points in one schedule
  uint64_t longest_steps = 0;  // the most steps in one schedule
  double seconds = 0;
  // kViolation: the failing run (outcome and complete decision log) and its preemptions.
  scenario::RunResult violation;
  int violation_preemptions = 0;
  // A violation of kind crash: the isolated run with its signal, frames and stderr.
  bool crashed = false;
  scenario::IsolatedRun crash;
  std::string error;
};

// Searches the resolved scenario (its model, options, bug, granularity and seed; its strategy is
// ignored). `progress`, if given, is called after each schedule.
SearchResult Search(const scenario::Scenario& scenario, const SearchOptions& options,
                    const std::function<void(const SearchProgress&)>& progress = nullptr);

// Search, surviving a crash of the code under test (see "Crashes" above): `report` is called
// with the result, in a forked child when no run crashes, else in this process after the
// crashing run was found and isolated; its return value is returned (the child's exit status).
// `on_crash`, if given, is called in this process when the child died, with the signal and the
// run it died in. While the child runs, an interrupt (options.interrupted set in this process,
// by a SIGTERM sent to it alone) is passed on to the child as SIGTERM.
// REQUIRES: no other threads (fork).
int SearchSurvivingCrashes(const scenario::Scenario& scenario, SearchOptions options,
                           const std::function<int(const SearchResult&)>& report,
                           const std::function<void(const SearchProgress&)>& progress = nullptr,
                           const std::function<void(int signal, uint64_t run)>& on_crash = nullptr);

const char* StatusName(SearchResult::Status status);

}  // namespace switchyard::search

#endif  // SWITCHYARD_SEARCH_DFS_H_
