// Measures which compiled configurations of the threads library work: for each program, the
// number of seeds (of --runs) that fail, cooperative and preemptive, with and without the ABI's
// callee-saved check, and the first failure's message. Prints the README's table (markdown).
//   bazel run -c opt //kernel_models/ult:config_table -- 200
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernel_models/ult/ult.h"

using switchyard::ult::AllPrograms;
using switchyard::ult::Config;
using switchyard::ult::Program;

int main(int argc, char** argv) {
  uint64_t runs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100;
  if (runs == 0) {
    std::fprintf(stderr, "config_table: runs must be a positive number\n");
    return 2;
  }
  std::printf(
      "| program | flags | cooperative | preemptive | cooperative, no ABI check | first failure "
      "|\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Program& p : AllPrograms()) {
    std::string first;
    std::string cells[3];
    for (int mode = 0; mode < 3; ++mode) {
      uint64_t fails = 0;
      for (uint64_t seed = 0; seed < runs; ++seed) {
        Config config;
        config.program = &p;
        config.preemptive = mode == 1;
        config.check_callee_saved = mode != 2;
        switchyard::sim::RandomDecider decider(seed);
        switchyard::sim::Outcome o =
            switchyard::ult::Run(config, decider, switchyard::sim::SimOptions{}, nullptr);
        if (o.kind != switchyard::sim::Outcome::Kind::kPass) {
          if (fails++ == 0 && first.empty()) first = o.invariant + ": " + o.message;
        }
      }
      cells[mode] = std::to_string(fails) + "/" + std::to_string(runs);
    }
    std::printf("| %s | `%s` | %s | %s | %s | %s |\n", p.name, p.flags, cells[0].c_str(),
                cells[1].c_str(), cells[2].c_str(), first.c_str());
  }
  return 0;
}
