// Proves the change ring and the catch-up arithmetic agree with a plain model (every change ever
// made, and how many of them each process has applied): a process rescans exactly when more than
// N changes are unseen, and otherwise replays exactly its unseen changes, oldest first. Covers
// N=1, exactly N and N+1 unseen changes, three processes sharing one mm at different positions,
// and counts far beyond N. Also proves the stateful test catches each planted flaw of the
// arithmetic (those runs print the counterexample RapidCheck found; that output is expected).
#include "kernel_models/uml/change_ring.h"

#include <ostream>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "rapidcheck/state.h"

namespace switchyard::uml {
namespace {

constexpr int kProcesses = 3;  // processes sharing the one mm
constexpr int kPages = 16;

// ---- Boundary cases, one by one ----

// Appends `n` changes of pages 0, 1, 2, ... (mod kPages).
void AppendPages(ChangeRing* ring, int n) {
  for (int i = 0; i < n; ++i) ring->Append(static_cast<int>(ring->count() % kPages));
}

std::vector<int> Replay(const ChangeRing& ring, const CatchUpPlan& plan) {
  std::vector<int> pages;
  for (uint64_t n = plan.first; n < plan.last; ++n) pages.push_back(ring.SlotPage(n));
  return pages;
}

TEST(ChangeRing, ExactlyNUnseenChangesAreReplayed) {
  ChangeRing ring(4);
  AppendPages(&ring, 4);
  CatchUpPlan plan = PlanCatchUp(ring, 0);
  EXPECT_FALSE(plan.rescan);
  EXPECT_EQ(Replay(ring, plan), (std::vector<int>{0, 1, 2, 3}));
}

TEST(ChangeRing, NPlusOneUnseenChangesForceARescan) {
  ChangeRing ring(4);
  AppendPages(&ring, 5);
  EXPECT_TRUE(PlanCatchUp(ring, 0).rescan);
  EXPECT_FALSE(PlanCatchUp(ring, 1).rescan);
  EXPECT_EQ(Replay(ring, PlanCatchUp(ring, 1)), (std::vector<int>{1, 2, 3, 4}));
}

TEST(ChangeRing, OneSlot) {
  ChangeRing ring(1);
  EXPECT_FALSE(PlanCatchUp(ring, 0).rescan);
  EXPECT_EQ(Replay(ring, PlanCatchUp(ring, 0)), std::vector<int>{});
  AppendPages(&ring, 1);
  EXPECT_EQ(Replay(ring, PlanCatchUp(ring, 0)), std::vector<int>{0});
  AppendPages(&ring, 1);
  EXPECT_TRUE(PlanCatchUp(ring, 0).rescan);
  EXPECT_EQ(Replay(ring, PlanCatchUp(ring, 1)), std::vector<int>{1});
  EXPECT_EQ(CaughtUpPosition(ring), 2u);
}

TEST(ChangeRing, CountsFarBeyondN) {
  ChangeRing ring(3);
  AppendPages(&ring, 1000);
  EXPECT_TRUE(PlanCatchUp(ring, 996).rescan);
  EXPECT_EQ(Replay(ring, PlanCatchUp(ring, 997)),
            (std::vector<int>{997 % kPages, 998 % kPages, 999 % kPages}));
  EXPECT_EQ(CaughtUpPosition(ring), 1000u);
}

TEST(ChangeRing, WrapOffByOneFlawSkipsTheOldestChange) {
  ChangeRing ring(4);
  AppendPages(&ring, 5);
  CatchUpPlan plan = PlanCatchUp(ring, 0, PositionFlaw::kWrapOffByOne);
  ASSERT_FALSE(plan.rescan);
  // Change 0 (page 0) was overwritten by change 4 (page 4): page 4 twice, page 0 never.
  EXPECT_EQ(Replay(ring, plan), (std::vector<int>{4, 1, 2, 3, 4}));
}

TEST(ChangeRing, SlotIndexFlawThinksAFullLapIsUpToDate) {
  ChangeRing ring(4);
  uint64_t position = CaughtUpPosition(ring, PositionFlaw::kSlotIndexPosition);
  AppendPages(&ring, 4);
  CatchUpPlan plan = PlanCatchUp(ring, position, PositionFlaw::kSlotIndexPosition);
  EXPECT_FALSE(plan.rescan);
  EXPECT_EQ(plan.first, plan.last);  // nothing replayed, four changes unseen
}

// ---- The stateful test ----

struct RingModel {
  int slots = 1;
  std::vector<int> changes;       // every change ever made, oldest first
  std::vector<uint64_t> applied;  // by process: changes it has applied
};

struct RingSystem {
  ChangeRing ring;
  std::vector<uint64_t> position;  // by process: its stored private count
  PositionFlaw flaw;
  // What the run covered, classified once it ends.
  bool exactly_n_unseen = false;
  bool n_plus_one_unseen = false;
  bool far_beyond_n = false;
  bool three_positions = false;  // a switch-in while the three processes were at three positions
  RingSystem(int slots, PositionFlaw flaw)
      : ring(slots), position(kProcesses, CaughtUpPosition(ring, flaw)), flaw(flaw) {}
};

using RingCommand = rc::state::Command<RingModel, RingSystem>;

// A swap-out: one page's mapping changed.
struct Append : RingCommand {
  int page;
  explicit Append(const RingModel&) : page(*rc::gen::inRange(0, kPages)) {}
  void apply(RingModel& m) const override { m.changes.push_back(page); }
  void run(const RingModel&, RingSystem& s) const override { s.ring.Append(page); }
  void show(std::ostream& os) const override { os << "Append(page " << page << ")"; }
};

// kswapd swaps out a burst of pages while every process sleeps: counts run far beyond N.
struct AppendBurst : RingCommand {
  std::vector<int> pages;
  explicit AppendBurst(const RingModel& m)
      : pages(*rc::gen::container<std::vector<int>>(
            static_cast<size_t>(*rc::gen::inRange(m.slots, 4 * m.slots + 3)),
            rc::gen::inRange(0, kPages))) {}
  void apply(RingModel& m) const override {
    m.changes.insert(m.changes.end(), pages.begin(), pages.end());
  }
  void run(const RingModel&, RingSystem& s) const override {
    for (int page : pages) s.ring.Append(page);
  }
  void show(std::ostream& os) const override { os << "AppendBurst(" << pages.size() << " pages)"; }
};

// Process `process` is switched in and catches up: replay or rescan, then it has seen it all.
struct SwitchIn : RingCommand {
  int process;
  explicit SwitchIn(const RingModel&) : process(*rc::gen::inRange(0, kProcesses)) {}
  void apply(RingModel& m) const override { m.applied[process] = m.changes.size(); }
  void run(const RingModel& m, RingSystem& s) const override {
    const uint64_t unseen = m.changes.size() - m.applied[process];
    const auto slots = static_cast<uint64_t>(m.slots);
    s.exactly_n_unseen |= unseen == slots;
    s.n_plus_one_unseen |= unseen == slots + 1;
    s.far_beyond_n |= m.changes.size() > 3 * slots && unseen > 0;
    s.three_positions |= m.applied[0] != m.applied[1] && m.applied[1] != m.applied[2] &&
                         m.applied[0] != m.applied[2];
    CatchUpPlan plan = PlanCatchUp(s.ring, s.position[process], s.flaw);
    RC_ASSERT(plan.rescan == (unseen > slots));
    if (!plan.rescan) {
      std::vector<int> replayed;
      for (uint64_t n = plan.first; n < plan.last; ++n) replayed.push_back(s.ring.SlotPage(n));
      std::vector<int> want(m.changes.begin() + static_cast<ptrdiff_t>(m.applied[process]),
                            m.changes.end());
      RC_ASSERT(replayed == want);
    }
    s.position[process] = CaughtUpPosition(s.ring, s.flaw);
  }
  void show(std::ostream& os) const override { os << "SwitchIn(process " << process << ")"; }
};

// A new thread (clone with CLONE_VM) replaces process `process`: its empty host address space
// agrees with every change so far, so it starts at the mm's count.
struct NewThread : RingCommand {
  int process;
  explicit NewThread(const RingModel&) : process(*rc::gen::inRange(0, kProcesses)) {}
  void apply(RingModel& m) const override { m.applied[process] = m.changes.size(); }
  void run(const RingModel&, RingSystem& s) const override {
    s.position[process] = CaughtUpPosition(s.ring, s.flaw);
  }
  void show(std::ostream& os) const override { os << "NewThread(process " << process << ")"; }
};

RingSystem CheckRing(PositionFlaw flaw, int slots) {
  RingModel model;
  model.slots = slots;
  model.applied.assign(kProcesses, 0);
  RingSystem system(slots, flaw);
  rc::state::check(model, system,
                   rc::state::gen::execOneOfWithArgs<Append, Append, AppendBurst, SwitchIn,
                                                     SwitchIn, NewThread>());
  return system;
}

RC_GTEST_PROP(ChangeRingState, AgreesWithEveryChangeEverMade, ()) {
  const int slots =
      *rc::gen::weightedOneOf<int>({{1, rc::gen::just(1)}, {3, rc::gen::inRange(2, 9)}});
  RingSystem system = CheckRing(PositionFlaw::kNone, slots);
  RC_CLASSIFY(slots == 1, "N=1");
  RC_CLASSIFY(system.exactly_n_unseen, "exactly N unseen");
  RC_CLASSIFY(system.n_plus_one_unseen, "N+1 unseen");
  RC_CLASSIFY(system.far_beyond_n, "count far beyond N");
  RC_CLASSIFY(system.three_positions, "three processes at three positions");
}

// The stateful test has teeth: with either flaw planted it finds a counterexample.
TEST(ChangeRingState, FindsEachPlantedFlaw) {
  for (PositionFlaw flaw : {PositionFlaw::kWrapOffByOne, PositionFlaw::kSlotIndexPosition}) {
    EXPECT_FALSE(rc::check("flawed ring", [flaw] { CheckRing(flaw, *rc::gen::inRange(1, 6)); }))
        << "flaw " << static_cast<int>(flaw) << " was not found";
  }
}

}  // namespace
}  // namespace switchyard::uml
