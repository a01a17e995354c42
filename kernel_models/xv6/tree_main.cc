// Runs a user's xv6-riscv tree: xv6_tree_main DIR [RUNS] [SEED] [CPUS] [PCT_DEPTH] [FAIRNESS]
// [BUG] [LOCK_CONTRACTS]. A development driver;
// the CLI's --kernel=DIR is the user's way in.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "kernel_models/xv6/tree.h"

int main(int argc, char** argv) {
  using namespace switchyard;
  if (argc < 2) {
    std::fprintf(stderr, "usage: xv6_tree_main DIR [RUNS] [SEED] [CPUS]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 10;
  const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;
  const int cpus = argc > 4 ? std::atoi(argv[4]) : 2;
  const int pct_depth = argc > 5 ? std::atoi(argv[5]) : 0;  // 0: uniform random
  const uint64_t fairness = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 200;
  const int bug = argc > 7 ? std::atoi(argv[7]) : 0;
  // 0: without the spin-lock contracts (to measure what they cost).
  const bool lock_contracts = argc > 8 ? std::atoi(argv[8]) != 0 : true;
  auto built = xv6::BuildTree(
      argv[1], "", [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  if (!built.ok()) {
    std::fprintf(stderr, "%s\n", std::string(built.status().message()).c_str());
    return 2;
  }
  for (const std::string& note : built->notes) std::printf("detected: %s\n", note.c_str());
  auto tree = xv6::LoadedTree::Load(*built);
  if (!tree.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tree.status().message()).c_str());
    return 2;
  }
  for (const std::string& skipped : (*tree)->skipped_checks()) {
    std::printf("check skipped: %s\n", skipped.c_str());
  }
  int failures = 0;
  uint64_t steps = 0;
  for (int i = 0; i < runs; ++i) {
    std::unique_ptr<sim::Decider> decider_owner;
    if (pct_depth > 0) {
      decider_owner = std::make_unique<sim::PctDecider>(seed + i, pct_depth, 60'000, cpus);
    } else {
      decider_owner = std::make_unique<sim::RandomDecider>(seed + i);
    }
    sim::Decider& decider = *decider_owner;
    sim::SimOptions options;
    options.max_steps = 50'000'000;
    options.fairness_window_steps = fairness;
    sim::Outcome out = (*tree)->Run(
        {.cpus = cpus, .planted_bug = bug, .lock_contracts = lock_contracts}, decider, options);
    steps += out.step;
    if (out.kind != sim::Outcome::Kind::kPass) {
      ++failures;
      std::printf("seed %llu: %s %s: %s (step %llu)\n", (unsigned long long)(seed + i),
                  sim::KindName(out.kind), out.invariant.c_str(), out.message.c_str(),
                  (unsigned long long)out.step);
    }
  }
  std::printf("%d runs, %d failures, %llu steps\n", runs, failures, (unsigned long long)steps);
  return failures == 0 ? 0 : 1;
}
