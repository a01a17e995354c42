// Access points per second: compiler-instrumented C (sim/instrumentation.h) against the same
// work on Cells, in the same run. Run: bazel run --config=opt //bench:instrumentation_bench
//   BM_InstrumentedLockedCounter  sim/testing/instrumented_fixture.c in MODE_LOCKED_COUNTER:
//                       2 vCPUs, 2,000 increments each under a test-and-set lock; every load,
//                       store and atomic is a point. items/s = points (steps) per second.
//   BM_CellLockedCounter  the same loop written with sim::Cell on fibers: the baseline.
//   .../NoPreempt        a schedule that never preempts (no host switches): the cost of a point.
// Counters: points per run, runs per second, and the share of instrumented accesses that the
// own-stack filter kept from being points.
#include <cstdlib>

#include "benchmark/benchmark.h"
#include "sim/cell.h"
#include "sim/instrumentation.h"
#include "sim/module.h"
#include "sim/platform_host.h"
#include "sim/simulator.h"

namespace switchyard {
namespace {

constexpr int kRounds = 2000;
constexpr int kCpus = 2;

sim::Module& Fixture() {
  static sim::Module* module = [] {
    auto loaded = sim::Module::Load("sim/libinstrumented_fixture.so");
    if (!loaded.ok()) {
      fprintf(stderr, "%s\n", std::string(loaded.status().message()).c_str());
      std::exit(2);
    }
    return loaded->release();
  }();
  return *module;
}

void Report(benchmark::State& state, uint64_t steps) {
  state.SetItemsProcessed(static_cast<int64_t>(steps));
  state.counters["points/run"] =
      static_cast<double>(steps) / static_cast<double>(state.iterations());
  state.counters["runs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void Instrumented(benchmark::State& state, bool preempt) {
  sim::Module& m = Fixture();
  auto* boot = reinterpret_cast<void (*)(int)>(m.Symbol("fixture_boot"));
  uint64_t seed = 0, steps = 0;
  const auto before = sim::Instrumentation::counters();
  for (auto _ : state) {
    m.Reset();
    *static_cast<int*>(m.Symbol("fixture_mode")) = 1;  // MODE_LOCKED_COUNTER
    *static_cast<int*>(m.Symbol("fixture_rounds")) = kRounds;
    *static_cast<int*>(m.Symbol("fixture_cpus_count")) = kCpus;
    sim::RandomDecider random(seed++);
    sim::BytesDecider never(nullptr, 0);
    sim::Decider& d = preempt ? static_cast<sim::Decider&>(random) : never;
    sim::SimOptions options;
    options.cpus = kCpus;
    options.max_steps = UINT64_MAX;
    sim::Simulator s(options, d);
    sim::Platform platform(s);
    for (int cpu = 0; cpu < kCpus; ++cpu) platform.Boot(cpu, boot);
    sim::Outcome o = s.Run();
    if (o.kind != sim::Outcome::Kind::kPass) state.SkipWithError(o.message.c_str());
    steps += o.step;
  }
  Report(state, steps);
  const auto after = sim::Instrumentation::counters();
  const double points = static_cast<double>(after.points - before.points);
  const double filtered = static_cast<double>(after.own_stack - before.own_stack);
  state.counters["own-stack filtered %"] = 100.0 * filtered / (points + filtered);
}

// The baseline: the same algorithm on Cells.
struct CellCounter : sim::Machine {
  sim::Simulator* sim = nullptr;
  sim::Cell<int> counter = 0;
  sim::Cell<int> lock = 0;
  sim::Cell<int> finished = 0;
  void Trap(int, int) override {}
  std::string DescribeStuck() override { return ""; }
  static void Boot(void* arg) {
    auto* self = static_cast<CellCounter*>(arg);
    for (int i = 0; i < kRounds; ++i) {
      while (self->lock.exchange(1) != 0) {
      }
      int value = self->counter;
      self->counter = value + 1;
      self->lock = 0;
    }
    self->finished += 1;
    if (self->finished == kCpus) self->sim->Finish();
    for (;;) self->sim->Spin();
  }
};

void Cells(benchmark::State& state, bool preempt) {
  uint64_t seed = 0, steps = 0;
  for (auto _ : state) {
    sim::RandomDecider random(seed++);
    sim::BytesDecider never(nullptr, 0);
    sim::Decider& d = preempt ? static_cast<sim::Decider&>(random) : never;
    sim::SimOptions options;
    options.cpus = kCpus;
    options.max_steps = UINT64_MAX;
    sim::Simulator s(options, d);
    CellCounter model;
    model.sim = &s;
    s.SetMachine(&model);
    for (int cpu = 0; cpu < kCpus; ++cpu) {
      s.SetBootFiber(cpu, s.CreateFiber("cpu", &CellCounter::Boot, &model));
    }
    sim::Outcome o = s.Run();
    if (o.kind != sim::Outcome::Kind::kPass) state.SkipWithError(o.message.c_str());
    steps += o.step;
  }
  Report(state, steps);
}

void BM_InstrumentedLockedCounter(benchmark::State& state) { Instrumented(state, true); }
void BM_InstrumentedLockedCounterNoPreempt(benchmark::State& state) { Instrumented(state, false); }
void BM_CellLockedCounter(benchmark::State& state) { Cells(state, true); }
void BM_CellLockedCounterNoPreempt(benchmark::State& state) { Cells(state, false); }
BENCHMARK(BM_InstrumentedLockedCounter)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CellLockedCounter)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_InstrumentedLockedCounterNoPreempt)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CellLockedCounterNoPreempt)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace switchyard

BENCHMARK_MAIN();
