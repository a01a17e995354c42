#include "kernel_models/uml/uml.h"

namespace switchyard::uml {

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after) {
  options.cpus = 1;  // UML then was uniprocessor
  // The timer never switches away inside the kernel (it is not preemptible), so a pending tick
  // needs to land only before accesses to what the handler touches (sim/simulator.h).
  options.interrupts_at_handler_footprint = true;
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

}  // namespace switchyard::uml
