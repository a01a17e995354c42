#include "sim/testing/toy_model.h"

#include "absl/strings/str_cat.h"

namespace switchyard::sim::testing {
ToyModel::ToyModel(const ToyOptions& options, Simulator& sim) : options_(options), sim_(sim) {
  sim.SetMachine(this);
  for (int cpu = 0; cpu < options.cpus; ++cpu) {
    Fiber* f = sim.CreateFiber(absl::StrCat("worker", cpu), &ToyModel::Worker, this);
    workers_.push_back(f);
    sim.SetBootFiber(cpu, f);
    if (options.timer_period != 0) sim.SetPeriodicTimer(cpu, options.timer_period, 1 + cpu);
  }
}

void ToyModel::Trap(int, int) {}

std::string ToyModel::DescribeStuck() {
  return absl::StrCat(finished_, " of ", options_.cpus, " workers finished; lock held by cpu",
                      lock_holder_);
}

void ToyModel::Increment() {
  if (options_.racy) {
    uint64_t seen = counter_;
    sim_.Point();
    counter_ = seen + 1;
    return;
  }
  while (lock_holder_ != -1) sim_.Spin();
  lock_holder_ = sim_.cpu();
  sim_.Point();
  ++counter_;
  lock_holder_ = -1;
}

void ToyModel::Worker(void* arg) {
  ToyModel* toy = static_cast<ToyModel*>(arg);
  Simulator& sim = toy->sim_;
  sim.intr_on();
  int cpu = sim.cpu();
  for (int i = 0; i < toy->options_.iterations; ++i) {
    toy->Increment();
    sim.NoteProgress();
    sim.Point();
    if (toy->options_.switch_to_running && cpu == 0 && i == 1 && toy->options_.cpus > 1) {
      sim.Switch(toy->workers_[0], toy->workers_[1]);
    }
  }
  if (++toy->finished_ == toy->options_.cpus) {
    uint64_t want = static_cast<uint64_t>(toy->options_.cpus) * toy->options_.iterations;
    if (toy->counter_ != want) {
      sim.Fail("lost-update",
               absl::StrCat("counter is ", toy->counter_, " after ", want, " increments"));
    }
    sim.Finish();
  }
  for (;;) {
    sim.intr_off();
    sim.WaitForInterrupt();
  }
}

Outcome RunToy(const ToyOptions& options, Decider& decider, SimOptions sim_options) {
  sim_options.cpus = options.cpus;
  Simulator sim(sim_options, decider);
  ToyModel toy(options, sim);
  return sim.Run();
}

}  // namespace switchyard::sim::testing
