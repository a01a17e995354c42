// The bounded exhaustive search: deterministic, the reduction only removes schedules, a
// violation's reproducer replays, bounds are searched in increasing order, and a stop request
// ends the search with what ran.
#include "search/dfs.h"

#include <csignal>

#include "gtest/gtest.h"
#include "sim/decider.h"

namespace switchyard::search {
namespace {

scenario::Scenario SmallXv6(const std::string& bug = "") {
  scenario::Scenario s;
  s.model = "xv6";
  s.bug = bug;
  s.strategy = "dfs";
  s.options = {{"cpus", 2},  {"nproc", 3},     {"children", 1},    {"program_length", 1},
               {"depth", 0}, {"disk", 0},      {"sleep_ticks", 0}, {"semaphores", 0},
               {"kill", 0},  {"max_forks", 1}, {"compute_max", 1}};
  EXPECT_TRUE(scenario::Resolve(&s).ok());
  return s;
}

TEST(Dfs, SameScenarioSameSearch) {
  SearchOptions options;
  options.preemption_bound = 1;
  SearchResult a = Search(SmallXv6(), options);
  SearchResult b = Search(SmallXv6(), options);
  EXPECT_EQ(a.status, SearchResult::Status::kVerified);
  EXPECT_EQ(a.schedules, b.schedules);
  EXPECT_EQ(a.pruned, b.pruned);
  EXPECT_EQ(a.blocked, b.blocked);
  EXPECT_EQ(a.deepest, b.deepest);
}

TEST(Dfs, SleepSetsRunFewerSchedulesWithTheSameVerdict) {
  SearchOptions with;
  with.preemption_bound = 1;
  SearchOptions without = with;
  without.reduction = false;
  SearchResult reduced = Search(SmallXv6(), with);
  SearchResult full = Search(SmallXv6(), without);
  EXPECT_EQ(reduced.status, SearchResult::Status::kVerified);
  EXPECT_EQ(full.status, SearchResult::Status::kVerified);
  EXPECT_EQ(full.pruned, 0u);
  EXPECT_GT(reduced.pruned, 0u);
  EXPECT_LT(reduced.schedules, full.schedules);
  // Every schedule is either run or cut short when it turns out to be equivalent.
  EXPECT_LE(reduced.schedules + reduced.blocked, full.schedules);
}

TEST(Dfs, BoundZeroRunsOneSchedulePerFirstPick) {
  SearchOptions options;
  options.preemption_bound = 0;
  SearchResult r = Search(SmallXv6(), options);
  EXPECT_EQ(r.status, SearchResult::Status::kVerified);
  EXPECT_EQ(r.schedules, 2u);  // which of the 2 vCPUs starts is free; then no preemption
  EXPECT_EQ(r.bounds_completed, 0);
}

TEST(Dfs, ViolationHasTheFewestPreemptionsAndReplays) {
  scenario::Scenario s = SmallXv6("wakeup-without-lock");
  SearchOptions options;
  options.preemption_bound = 2;
  SearchResult r = Search(s, options);
  ASSERT_EQ(r.status, SearchResult::Status::kViolation);
  EXPECT_EQ(r.violation_preemptions, 2);
  EXPECT_EQ(r.bounds_completed, 1);  // bounds 0 and 1 found nothing
  // The reproducer's log replays strictly, with the same outcome and trace hash.
  sim::Reproducer file = scenario::ToReproducer(s, r.violation);
  scenario::Scenario replay;
  ASSERT_TRUE(scenario::FromReproducer(file, &replay).ok());
  sim::ReplayDecider decider(file.log);
  scenario::RunResult again = scenario::RunWith(replay, decider, false);
  EXPECT_EQ(again.outcome.invariant, r.violation.outcome.invariant);
  EXPECT_EQ(again.outcome.trace_hash, r.violation.outcome.trace_hash);
}

TEST(Dfs, StopRequestEndsTheSearchIncomplete) {
  volatile sig_atomic_t stop = 1;
  SearchOptions options;
  options.interrupted = &stop;
  SearchResult r = Search(SmallXv6(), options);
  EXPECT_EQ(r.status, SearchResult::Status::kIncomplete);
  EXPECT_EQ(r.schedules, 0u);
  options.interrupted = nullptr;
  options.max_schedules = 5;
  r = Search(SmallXv6(), options);
  EXPECT_EQ(r.status, SearchResult::Status::kIncomplete);
  EXPECT_EQ(r.schedules, 5u);
}

}  // namespace
}  // namespace switchyard::search
