// Instruction-level models (arch/emu, Unicorn):
//   BM_EmuMachineCreate       cost of one emulated CPU (uc_open, map, load): paid once per run
//   BM_UltRun/P/PREEMPT       complete threads-library runs per second for correct program P
//                             (ult::CorrectPrograms order), cooperative or preemptive; counter
//                             emulated instructions per second
//   BM_Xv6Run/EMULATED        default xv6 runs per second, native swtch (0) and --swtch=1 (1):
//                             the ratio of the two, from the same run, is the cost of
//                             running the real swtch.S
#include <unicorn/unicorn.h>

#include "arch/emu/elf_image.h"
#include "arch/emu/machine.h"
#include "benchmark/benchmark.h"
#include "kernel_models/ult/ult.h"
#include "kernel_models/xv6/xv6.h"

namespace switchyard {
namespace {

void BM_EmuMachineCreate(benchmark::State& state) {
  emu::Elf elf(*ult::CorrectPrograms()[1].image);
  for (auto _ : state) {
    emu::Machine m(emu::Isa::kI386, elf, 0x10000, 0x40000);
    benchmark::DoNotOptimize(m.pc());
  }
}
BENCHMARK(BM_EmuMachineCreate)->Unit(benchmark::kMicrosecond);

void BM_UltRun(benchmark::State& state) {
  ult::Config config;
  config.program = &ult::CorrectPrograms()[static_cast<size_t>(state.range(0))];
  config.preemptive = state.range(1) != 0;
  uint64_t seed = 0, instructions = 0, failures = 0;
  for (auto _ : state) {
    sim::RandomDecider d(seed++);
    sim::Outcome o = ult::Run(config, d, sim::SimOptions{}, nullptr);
    instructions += ult::LastRunInstructions();
    failures += o.kind != sim::Outcome::Kind::kPass;
  }
  state.SetItemsProcessed(state.iterations());  // runs
  state.counters["insns/s"] =
      benchmark::Counter(static_cast<double>(instructions), benchmark::Counter::kIsRate);
  state.counters["insns/run"] = static_cast<double>(instructions) / state.iterations();
  state.counters["failures"] = static_cast<double>(failures);
}
BENCHMARK(BM_UltRun)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMicrosecond);

void BM_Xv6Run(benchmark::State& state) {
  xv6::Config config;
  config.swtch_emulated = state.range(0) != 0;
  uint64_t seed = 0, failures = 0, swtch = 0;
  for (auto _ : state) {
    sim::RandomDecider d(seed++);
    sim::Outcome o = xv6::Run(config, d, sim::SimOptions{});
    swtch += o.switches;
    failures += o.kind != sim::Outcome::Kind::kPass;
  }
  state.SetItemsProcessed(state.iterations());  // runs
  state.counters["swtch/s"] =
      benchmark::Counter(static_cast<double>(swtch), benchmark::Counter::kIsRate);
  state.counters["failures"] = static_cast<double>(failures);
}
BENCHMARK(BM_Xv6Run)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace switchyard

BENCHMARK_MAIN();
