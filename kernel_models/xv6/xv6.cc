#include "kernel_models/xv6/xv6.h"

namespace switchyard::xv6 {

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after) {
  options.cpus = config.ncpu;
  sim::Simulator simulator(options, decider);
  Kernel kernel(config, simulator);
  sim::Outcome outcome = simulator.Run();
  if (after) after(simulator);
  return outcome;
}

}  // namespace switchyard::xv6
