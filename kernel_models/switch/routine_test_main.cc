#include "kernel_models/switch/routine_test_main.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sim/decider.h"

namespace switchyard::switch_routine {

int RoutineTestMain(int argc, char** argv, const Routine& routine, uint64_t runs) {
  uint64_t seed = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) runs = std::strtoull(argv[i] + 7, nullptr, 10);
    if (std::strncmp(argv[i], "--seed=", 7) == 0) seed = std::strtoull(argv[i] + 7, nullptr, 10);
  }
  std::printf("switch routine %s (%s, %s convention): seeds %llu..%llu\n", routine.name,
              ArchName(routine.arch), ConventionName(routine.convention),
              static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed + runs - 1));
  Config config;
  config.routine = &routine;
  uint64_t switches = 0;
  for (uint64_t s = seed; s < seed + runs; ++s) {
    sim::RandomDecider decider(s);
    sim::Outcome o = Run(config, decider, sim::SimOptions{}, nullptr);
    switches += LastRunSwitches();
    if (o.kind != sim::Outcome::Kind::kPass) {
      std::printf("VIOLATION %s at seed %llu: %s\n", o.invariant.c_str(),
                  static_cast<unsigned long long>(s), o.message.c_str());
      return 1;
    }
  }
  std::printf("pass: %llu runs, %llu switches\n", static_cast<unsigned long long>(runs),
              static_cast<unsigned long long>(switches));
  return 0;
}

}  // namespace switchyard::switch_routine
