// The xv6 model's public entry point: build the kernel on a simulator and run it once.
#ifndef SWITCHYARD_KERNEL_MODELS_XV6_XV6_H_
#define SWITCHYARD_KERNEL_MODELS_XV6_XV6_H_

#include "kernel_models/xv6/kernel.h"
#include "sim/decider.h"
#include "sim/simulator.h"

namespace switchyard::xv6 {

// Bump when a change to the model changes what a seed does, so old reproducers are known to be
// from another model version.
inline constexpr const char* kFingerprint = "xv6-4";  // 4: on compiler instrumentation

// Runs the model once. When `after` is given it is called with the finished simulator (for
// trace exports) before the simulator is destroyed.
sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after = {});

}  // namespace switchyard::xv6

#endif  // SWITCHYARD_KERNEL_MODELS_XV6_XV6_H_
