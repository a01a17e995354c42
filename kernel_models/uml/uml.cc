#include "kernel_models/uml/uml.h"

namespace switchyard::uml {

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after) {
  options.cpus = 1;  // UML then was uniprocessor
  sim::Simulator simulator(options, decider);
  Kernel kernel(config, simulator);
  sim::Outcome outcome = simulator.Run();
  if (after) after(simulator);
  return outcome;
}

}  // namespace switchyard::uml
