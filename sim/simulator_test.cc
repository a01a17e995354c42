// Proves the simulator's core promises on the toy model: a planted race is found by random and
// PCT schedules and not by a schedule that never preempts; the locked toy stays clean;
// one-thread-per-core fires before a harmful switch; PCT with depth 1 never preempts; a recorded
// run replays to the same trace hash and a changed log is reported as a divergence; timers
// interrupt.
#include "sim/simulator.h"

#include "gtest/gtest.h"
#include "sim/testing/toy_model.h"

namespace switchyard::sim {
namespace {

using testing::RunToy;
using testing::ToyOptions;

ToyOptions Racy() {
  ToyOptions o;
  o.cpus = 3;
  o.iterations = 10;
  o.racy = true;
  return o;
}

TEST(Simulator, RandomFindsThePlantedRace) {
  int found = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    RandomDecider d(seed);
    Outcome o = RunToy(Racy(), d);
    if (o.kind == Outcome::Kind::kSafety) {
      EXPECT_EQ(o.invariant, "lost-update");
      ++found;
    }
  }
  EXPECT_GT(found, 0);
}

TEST(Simulator, PctFindsThePlantedRace) {
  int found = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    PctDecider d(seed, /*depth=*/3, /*expected_steps=*/60, /*cpus=*/3);
    if (RunToy(Racy(), d).invariant == "lost-update") ++found;
  }
  EXPECT_GT(found, 0);
}

TEST(Simulator, NeverPreemptingDoesNotFindTheRace) {
  BytesDecider d(nullptr, 0);  // every choice takes the default: no preemption
  Outcome o = RunToy(Racy(), d);
  EXPECT_EQ(o.kind, Outcome::Kind::kPass) << o.invariant << ": " << o.message;
  EXPECT_EQ(o.preemptions, 0u);
}

TEST(Simulator, LockedToyStaysCleanUnderRandomSchedules) {
  ToyOptions o = Racy();
  o.racy = false;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    RandomDecider d(seed);
    Outcome out = RunToy(o, d);
    ASSERT_EQ(out.kind, Outcome::Kind::kPass) << "seed " << seed << ": " << out.message;
  }
}

TEST(Simulator, OneThreadPerCoreFiresBeforeTheSwitch) {
  ToyOptions o;
  o.cpus = 2;
  o.switch_to_running = true;
  RandomDecider d(5);
  Outcome out = RunToy(o, d);
  EXPECT_EQ(out.kind, Outcome::Kind::kSafety);
  EXPECT_EQ(out.invariant, "one-thread-per-core");
  EXPECT_EQ(out.message, "cpu0 switches to 'worker1', which is running on cpu1");
  EXPECT_EQ(out.switches, 0u);  // reported before it happened
}

TEST(Simulator, PctDepthOneNeverPreempts) {
  ToyOptions o = Racy();
  o.racy = false;
  o.cpus = 4;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    PctDecider d(seed, /*depth=*/1, /*expected_steps=*/100, /*cpus=*/4);
    Outcome out = RunToy(o, d);
    ASSERT_EQ(out.kind, Outcome::Kind::kPass);
    EXPECT_EQ(out.preemptions, 0u) << "seed " << seed;
  }
}

TEST(Simulator, ReplayReproducesTheTraceHash) {
  RandomDecider random(11);
  Outcome first = RunToy(Racy(), random);
  ReplayDecider replay(random.log());
  Outcome again = RunToy(Racy(), replay);
  EXPECT_EQ(again.kind, first.kind);
  EXPECT_EQ(again.invariant, first.invariant);
  EXPECT_EQ(again.trace_hash, first.trace_hash);
  EXPECT_EQ(replay.log().decisions, random.log().decisions);
}

TEST(Simulator, ReplayOfAChangedRunDiverges) {
  RandomDecider random(11);
  RunToy(Racy(), random);
  ToyOptions changed = Racy();
  changed.cpus = 2;  // the scenario no longer matches the log
  ReplayDecider replay(random.log());
  Outcome out = RunToy(changed, replay);
  EXPECT_EQ(out.kind, Outcome::Kind::kDiverged);
  EXPECT_NE(out.message.find("decision "), std::string::npos) << out.message;
}

TEST(Simulator, TimersInterruptVcpusWithInterruptsOn) {
  ToyOptions o = Racy();
  o.racy = false;
  o.timer_period = 7;
  RandomDecider d(2);
  SimOptions sim_options;
  sim_options.keep_trace = true;
  Outcome out = RunToy(o, d, sim_options);
  EXPECT_EQ(out.kind, Outcome::Kind::kPass);
  EXPECT_GT(out.interrupts, 0u);
}

TEST(Simulator, StepBudgetIsALivenessFailure) {
  ToyOptions o = Racy();
  o.racy = false;
  o.iterations = 1000;
  RandomDecider d(2);
  SimOptions sim_options;
  sim_options.max_steps = 100;
  Outcome out = RunToy(o, d, sim_options);
  EXPECT_EQ(out.kind, Outcome::Kind::kLiveness);
  EXPECT_EQ(out.invariant, "step-budget");
}

// A one-vCPU machine whose boot thread runs `body`, for the switch checks below.
class Scripted : public Machine {
 public:
  explicit Scripted(void (*body)(Scripted*)) : body_(body) {}
  void Trap(int, int) override {}
  std::string DescribeStuck() override { return "scripted"; }
  static void Boot(void* arg) {
    Scripted* self = static_cast<Scripted*>(arg);
    self->body_(self);
  }
  Simulator* sim = nullptr;
  Fiber* boot = nullptr;
  Fiber* other = nullptr;

 private:
  void (*body_)(Scripted*);
};

Outcome RunScripted(void (*body)(Scripted*), bool retire_other) {
  RandomDecider d(1);
  SimOptions options;
  options.cpus = 1;
  Simulator sim(options, d);
  Scripted machine(body);
  machine.sim = &sim;
  sim.SetMachine(&machine);
  machine.boot = sim.CreateFiber("boot", &Scripted::Boot, &machine);
  machine.other = sim.CreateFiber("other", &Scripted::Boot, &machine);
  sim.SetBootFiber(0, machine.boot);
  if (retire_other) sim.RetireFiber(machine.other);
  return sim.Run();
}

TEST(SwitchChecks, ResumingAFinishedThreadIsReported) {
  Outcome o = RunScripted([](Scripted* m) { m->sim->Switch(m->boot, m->other); }, true);
  EXPECT_EQ(o.invariant, "no-resume-after-finish");
  EXPECT_EQ(o.message, "cpu0 switches to 'other', whose thread has finished");
}

TEST(SwitchChecks, SavingIntoAnotherThreadsContextIsReported) {
  Outcome o = RunScripted([](Scripted* m) { m->sim->Switch(m->other, m->boot); }, false);
  EXPECT_EQ(o.invariant, "switch-saves-running-thread");
}

TEST(SwitchChecks, SwitchingToItselfIsReported) {
  Outcome o = RunScripted([](Scripted* m) { m->sim->Switch(m->boot, m->boot); }, false);
  EXPECT_EQ(o.invariant, "resume-saved-context");
}

TEST(SwitchChecks, RebuildingARunningThreadsStackIsReported) {
  Outcome o = RunScripted(
      [](Scripted* m) { m->sim->ResetFiber(m->boot, &Scripted::Boot, nullptr); }, false);
  EXPECT_EQ(o.invariant, "stack-reused-while-running");
}

TEST(SwitchChecks, AThreadThatReturnsIsReported) {
  Outcome o = RunScripted([](Scripted*) {}, false);
  EXPECT_EQ(o.invariant, "fiber-returned");
  EXPECT_EQ(o.message, "kernel thread 'boot' returned from its entry function");
}

// The instrumentation's first filters read the running fiber's stack and id from members that
// every change of the running fiber updates (Simulator::NoteRunning): across switches on a
// vCPU (Switch) and across preemptions between vCPUs (Step).
class Checking : public Machine {
 public:
  void Trap(int, int) override {}
  std::string DescribeStuck() override { return "checking"; }
  static void Body(void* arg) {
    Checking* self = static_cast<Checking*>(arg);
    Simulator* sim = self->sim;
    for (int i = 0;; ++i) {
      int local = 0;
      if (sim->running_fiber_id() != sim->current()->id ||
          !sim->OnRunningStack(reinterpret_cast<uintptr_t>(&local))) {
        sim->Fail("running-fiber-stale", sim->current()->name);
      }
      if (++self->checks == 400) sim->Finish();
      // Every eighth round, a boot thread hands its vCPU to its worker and the worker hands it
      // back; the other rounds are points, where the other vCPU may run.
      const int cpu = sim->cpu();
      if (i % 8 == 7) {
        Fiber* from = sim->current();
        sim->Switch(from, from == self->boot[cpu] ? self->worker[cpu] : self->boot[cpu]);
      } else {
        sim->Point();
      }
    }
  }
  Simulator* sim = nullptr;
  Fiber* boot[2] = {};
  Fiber* worker[2] = {};
  int checks = 0;
};

TEST(SwitchChecks, TheRunningFibersStackAndIdFollowEverySwitch) {
  RandomDecider d(7);
  SimOptions options;
  options.cpus = 2;
  Simulator sim(options, d);
  Checking machine;
  machine.sim = &sim;
  sim.SetMachine(&machine);
  for (int cpu = 0; cpu < 2; ++cpu) {
    machine.boot[cpu] = sim.CreateFiber("boot", &Checking::Body, &machine);
    machine.worker[cpu] = sim.CreateFiber("worker", &Checking::Body, &machine);
    sim.SetBootFiber(cpu, machine.boot[cpu]);
  }
  Outcome o = sim.Run();
  EXPECT_EQ(o.kind, Outcome::Kind::kPass) << o.invariant << ": " << o.message;
  EXPECT_EQ(machine.checks, 400);
  EXPECT_GT(o.switches, 20u);
  EXPECT_GT(o.preemptions, 20u);
}

}  // namespace
}  // namespace switchyard::sim
