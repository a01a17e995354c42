// Simulator and xv6-model throughput. Run: bazel run --config=opt //bench:sim_bench
//   BM_ToyPoints        preemption points per second on the toy model (4 vCPUs, a point after
//                       each tiny step), random schedule; items/s = points/s.
//   BM_ToyPointsNoPreempt  the same with a schedule that never preempts (BytesDecider with no
//                       bytes): the cost of a point without a host switch, the baseline.
//   BM_Xv6Run           complete default xv6 runs per second on one core; counters give
//                       simulated swtch calls and steps per second.
//   BM_Xv6Scaling/C/P   runs per second as CPUs (C) and process slots/forks (P) grow.
#include "benchmark/benchmark.h"
#include "kernel_models/xv6/xv6.h"
#include "sim/testing/toy_model.h"

namespace switchyard {
namespace {

void ToyPoints(benchmark::State& state, bool preempt) {
  sim::testing::ToyOptions options;
  options.cpus = 4;
  options.iterations = 2000;
  uint64_t points = 0;
  uint64_t seed = 0;
  for (auto _ : state) {
    sim::RandomDecider random(seed++);
    sim::BytesDecider never(nullptr, 0);
    sim::Decider& d = preempt ? static_cast<sim::Decider&>(random) : never;
    sim::SimOptions sim_options;
    sim_options.max_steps = UINT64_MAX;
    sim::Outcome o = sim::testing::RunToy(options, d, sim_options);
    points += o.step;
  }
  state.SetItemsProcessed(static_cast<int64_t>(points));
}

void BM_ToyPoints(benchmark::State& state) { ToyPoints(state, true); }
void BM_ToyPointsNoPreempt(benchmark::State& state) { ToyPoints(state, false); }
BENCHMARK(BM_ToyPoints)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ToyPointsNoPreempt)->Unit(benchmark::kMillisecond);

void RunXv6(benchmark::State& state, const xv6::Config& config) {
  uint64_t seed = 0, swtch = 0, steps = 0, failures = 0;
  for (auto _ : state) {
    sim::RandomDecider d(seed++);
    sim::Outcome o = xv6::Run(config, d, sim::SimOptions{});
    swtch += o.switches;
    steps += o.step;
    failures += o.kind != sim::Outcome::Kind::kPass;
  }
  state.SetItemsProcessed(state.iterations());  // runs
  state.counters["swtch/s"] =
      benchmark::Counter(static_cast<double>(swtch), benchmark::Counter::kIsRate);
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
  state.counters["steps/run"] = static_cast<double>(steps) / state.iterations();
  state.counters["failures"] = static_cast<double>(failures);
}

void BM_Xv6Run(benchmark::State& state) { RunXv6(state, xv6::Config{}); }
BENCHMARK(BM_Xv6Run)->Unit(benchmark::kMicrosecond);

void BM_Xv6Scaling(benchmark::State& state) {
  xv6::Config config;
  config.ncpu = static_cast<int>(state.range(0));
  config.nproc = static_cast<int>(state.range(1));
  config.workload.children = config.nproc / 2;
  config.workload.max_forks = config.nproc;
  config.timer_period = 8 * config.nproc + 40;
  RunXv6(state, config);
}
BENCHMARK(BM_Xv6Scaling)->ArgsProduct({{1, 2, 4, 8}, {8, 16, 32}})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace switchyard

BENCHMARK_MAIN();
