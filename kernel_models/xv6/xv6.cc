#include "kernel_models/xv6/xv6.h"

#include <algorithm>

namespace switchyard::xv6 {

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after) {
  options.cpus = config.ncpu;
  // The longest a correct kernel goes without progress: every process asleep for the longest
  // sleep() or disk request, with room for the timers of every CPU to come round many times.
  // The no-progress budget must also cover the simulator's fairness window on every CPU.
  options.progress_budget_ticks = std::max<uint64_t>(
      (static_cast<uint64_t>(config.workload.sleep_ticks_max) + 20) * config.timer_period +
          4 * static_cast<uint64_t>(config.workload.disk_latency_max),
      8 * options.fairness_window_steps * static_cast<uint64_t>(config.ncpu));
  sim::Simulator simulator(options, decider);
  // The kernel and everything it allocates live in the run's heap arena, so that its
  // instrumented accesses have the same cell ids in every run (sim/arena.h).
  sim::Arena::Scope heap;
  Kernel* kernel = sim::ArenaNew<Kernel>(config, simulator);
  sim::Outcome outcome = simulator.Run();
  if (after) after(simulator);
  sim::ArenaDelete(kernel);
  return outcome;
}

}  // namespace switchyard::xv6
