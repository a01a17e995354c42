// A tiny model for the simulator's own tests and benchmarks: one worker thread per vCPU, each
// incrementing a shared counter `iterations` times.
//
// With `racy`, an increment is a load, a preemption point, and a store: two vCPUs interleaved at
// that point lose an update, and the "lost-update" check at the end finds it. Without it, the
// increment is guarded by a spinlock (Spin while held). With `switch_to_running`, the worker on
// cpu0 switches to cpu1's worker, which is running there: the simulator must report
// one-thread-per-core before the switch.
#ifndef SWITCHYARD_SIM_TESTING_TOY_MODEL_H_
#define SWITCHYARD_SIM_TESTING_TOY_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/simulator.h"

namespace switchyard::sim::testing {

struct ToyOptions {
  int cpus = 2;
  int iterations = 20;
  bool racy = false;
  bool switch_to_running = false;
  uint64_t timer_period = 0;  // 0: no timers
};

class ToyModel : public Machine {
 public:
  ToyModel(const ToyOptions& options, Simulator& sim);
  void Trap(int cpu, int line) override;
  std::string DescribeStuck() override;
  uint64_t counter() const { return counter_; }

 private:
  static void Worker(void* arg);
  void Increment();

  ToyOptions options_;
  Simulator& sim_;
  std::vector<Fiber*> workers_;
  uint64_t counter_ = 0;
  int lock_holder_ = -1;
  int finished_ = 0;
};

// Runs the toy model once with the given decider and returns the outcome.
Outcome RunToy(const ToyOptions& options, Decider& decider, SimOptions sim_options = {});

}  // namespace switchyard::sim::testing

#endif  // SWITCHYARD_SIM_TESTING_TOY_MODEL_H_
