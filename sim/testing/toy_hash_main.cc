// Prints the trace hash of the racy toy model under a random schedule: toy_hash SEED
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "sim/testing/toy_model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: toy_hash SEED\n");
    return 2;
  }
  uint64_t seed = std::strtoull(argv[1], nullptr, 10);
  switchyard::sim::testing::ToyOptions options;
  options.cpus = 3;
  options.racy = true;
  options.timer_period = 5;
  switchyard::sim::RandomDecider decider(seed);
  switchyard::sim::Outcome o = switchyard::sim::testing::RunToy(options, decider);
  std::printf("trace hash %016" PRIx64 "\n", o.trace_hash);
  return 0;
}
