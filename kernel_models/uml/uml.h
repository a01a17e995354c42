// The User-Mode Linux model's public entry point: build the kernel on a simulator and run it
// once.
#ifndef SWITCHYARD_KERNEL_MODELS_UML_UML_H_
#define SWITCHYARD_KERNEL_MODELS_UML_UML_H_

#include <functional>

#include "kernel_models/uml/kernel.h"
#include "sim/decider.h"
#include "sim/simulator.h"

namespace switchyard::uml {

// Bump when a change to the model changes what a seed does, so old reproducers are known to be
// from another model version.
inline constexpr const char* kFingerprint = "uml-3";

// Names of the model's invariants, for `switchyard list`.
inline std::vector<std::string> InvariantNames() { return Kernel::InvariantNames(); }

// Runs the model once on one vCPU (options.cpus is overridden). When `after` is given it is
// called with the finished simulator (for trace exports) before the simulator is destroyed.
sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after = {});

}  // namespace switchyard::uml

#endif  // SWITCHYARD_KERNEL_MODELS_UML_UML_H_
