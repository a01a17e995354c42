// The body of switch.bzl's switch_routine_test: explores one routine with every check on, seeds
// 0..runs-1 (`--runs=N`, `--seed=S` override), prints each violation with the seed, and exits 1
// on the first one (0 when every run passes).
#ifndef SWITCHYARD_KERNEL_MODELS_SWITCH_ROUTINE_TEST_MAIN_H_
#define SWITCHYARD_KERNEL_MODELS_SWITCH_ROUTINE_TEST_MAIN_H_

#include <cstdint>

#include "kernel_models/switch/switch_routine.h"

namespace switchyard::switch_routine {

int RoutineTestMain(int argc, char** argv, const Routine& routine, uint64_t runs);

}  // namespace switchyard::switch_routine

#endif  // SWITCHYARD_KERNEL_MODELS_SWITCH_ROUTINE_TEST_MAIN_H_
