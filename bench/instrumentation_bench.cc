// Access points per second: compiler-instrumented C (sim/instrumentation.h) against the same
// work with hand-placed points, in the same run. Run: bazel run --config=opt
// //bench:instrumentation_bench
//   BM_InstrumentedLockedCounter  sim/testing/instrumented_fixture.c in MODE_LOCKED_COUNTER:
//                       2 vCPUs, 2,000 increments each under a test-and-set lock; every load,
//                       store and atomic is a point. items/s = points (steps) per second.
//   BM_PointLockedCounter  the same loop on fibers with a Simulator::Point before each access:
//                       the baseline (the simulator's step without the hook).
//   .../NoPreempt        a schedule that never preempts (no host switches): the cost of a point.
// Counters: points per run, runs per second, and the share of instrumented accesses that the
// own-stack filter kept from being points.
#include <cstdlib>

#include "benchmark/benchmark.h"
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

// The baseline: the same algorithm on plain memory with a hand-placed point before each access
// (Simulator::Point, as a model's explicit points are): the simulator's step alone, without the
// hook that decides what an address is.
struct PointCounter : sim::Machine {
  sim::Simulator* sim = nullptr;
  int counter = 0;
  int lock = 0;
  int finished = 0;
  void Trap(int, int) override {}
  std::string DescribeStuck() override { return ""; }
  static void Boot(void* arg) {
    auto* self = static_cast<PointCounter*>(arg);
    for (int i = 0; i < kRounds; ++i) {
      for (;;) {
        self->sim->Point();
        const int old = self->lock;
        self->lock = 1;
        if (old == 0) break;
        self->sim->Spin();
      }
      self->sim->Point();
      int value = self->counter;
      self->sim->Point();
      self->counter = value + 1;
      self->sim->Point();
      self->lock = 0;
    }
    self->sim->Point();
    self->finished += 1;
    if (self->finished == kCpus) self->sim->Finish();
    for (;;) self->sim->Spin();
  }
};

void Points(benchmark::State& state, bool preempt) {
  uint64_t seed = 0, steps = 0;
  for (auto _ : state) {
    sim::RandomDecider random(seed++);
    sim::BytesDecider never(nullptr, 0);
    sim::Decider& d = preempt ? static_cast<sim::Decider&>(random) : never;
    sim::SimOptions options;
    options.cpus = kCpus;
    options.max_steps = UINT64_MAX;
    sim::Simulator s(options, d);
    PointCounter model;
    model.sim = &s;
    s.SetMachine(&model);
    for (int cpu = 0; cpu < kCpus; ++cpu) {
      s.SetBootFiber(cpu, s.CreateFiber("cpu", &PointCounter::Boot, &model));
    }
    sim::Outcome o = s.Run();
    if (o.kind != sim::Outcome::Kind::kPass) state.SkipWithError(o.message.c_str());
    steps += o.step;
  }
  Report(state, steps);
}

void BM_InstrumentedLockedCounter(benchmark::State& state) { Instrumented(state, true); }
void BM_InstrumentedLockedCounterNoPreempt(benchmark::State& state) { Instrumented(state, false); }
void BM_PointLockedCounter(benchmark::State& state) { Points(state, true); }
void BM_PointLockedCounterNoPreempt(benchmark::State& state) { Points(state, false); }
BENCHMARK(BM_InstrumentedLockedCounter)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PointLockedCounter)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_InstrumentedLockedCounterNoPreempt)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PointLockedCounterNoPreempt)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace switchyard

BENCHMARK_MAIN();
