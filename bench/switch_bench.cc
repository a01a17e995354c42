// Cost of one context switch: switchyard's SwitchContext against Boost.Context's fiber (its
// jump_fcontext underneath) and glibc's swapcontext, each a ping-pong between the benchmark's own
// context and one fiber. One iteration is one switch (a round trip counts as two). Ends with a
// summary line: each cost from this run and its ratio to ours.
// Run: bazel run --config=opt //bench:switch_bench
#include <benchmark/benchmark.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "arch/context.h"
#include "boost/context/detail/fcontext.hpp"
#include "boost/context/fiber.hpp"

namespace {

using switchyard::arch::Context;
using switchyard::arch::HostContext;
using switchyard::arch::kDefaultStackBytes;
using switchyard::arch::MakeContext;
using switchyard::arch::Stack;
using switchyard::arch::SwitchContext;

// ---- switchyard ----

struct PingPong {
  Context host;
  Context fiber;
  int64_t resumptions = 0;  // of the fiber, to check the benchmark measured real switches
};

void Ponger(void* arg) {
  auto* ping_pong = static_cast<PingPong*>(arg);
  for (;;) {
    ++ping_pong->resumptions;
    SwitchContext(&ping_pong->fiber, &ping_pong->host);
  }
}

void BM_SwitchContext(benchmark::State& state) {
  PingPong ping_pong;
  ping_pong.host = HostContext("bench");
  ping_pong.fiber.name = "ponger";
  Stack stack = Stack::Allocate(kDefaultStackBytes);
  MakeContext(&ping_pong.fiber, stack, Ponger, &ping_pong);
  // Each batch is a round trip: host -> fiber -> host, two switches, two iterations.
  while (state.KeepRunningBatch(2)) {
    SwitchContext(&ping_pong.host, &ping_pong.fiber);
  }
  if (2 * ping_pong.resumptions != static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("the fiber did not run once per round trip");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SwitchContext);

#if !SWITCHYARD_ARCH_ASAN
// The bare assembly, without SwitchContext's two checks (from != to, to was made): shows what
// those checks cost. Not annotated for ASan, so only meaningful in an optimised, ASan-free build.
struct RawPingPong {
  void* host_sp = nullptr;
  void* fiber_sp = nullptr;
};

void RawPonger(void* arg) {
  auto* ping_pong = static_cast<RawPingPong*>(arg);
  for (;;) {
    switchyard_jump_context(&ping_pong->fiber_sp, ping_pong->host_sp);
  }
}

void BM_JumpContextUnchecked(benchmark::State& state) {
  RawPingPong raw;
  Context fiber;
  fiber.name = "raw-ponger";
  Stack stack = Stack::Allocate(kDefaultStackBytes);
  MakeContext(&fiber, stack, RawPonger, &raw);
  raw.fiber_sp = fiber.sp;
  while (state.KeepRunningBatch(2)) {
    switchyard_jump_context(&raw.host_sp, raw.fiber_sp);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_JumpContextUnchecked);
#endif  // !SWITCHYARD_ARCH_ASAN

// ---- Boost.Context ----

// boost::context::fiber over Boost's own stack allocator (fixedsize_stack): resume() switches to
// the other side and returns the fiber to switch back to, the same pair of jump_fcontext calls
// per round trip as ours.
void BM_BoostContextFiber(benchmark::State& state) {
  namespace ctx = boost::context;
  int64_t resumptions = 0;
  ctx::fiber fiber{std::allocator_arg, ctx::fixedsize_stack(kDefaultStackBytes),
                   [&resumptions](ctx::fiber&& host) {
                     for (;;) {
                       ++resumptions;
                       host = std::move(host).resume();
                     }
                     return std::move(host);
                   }};
  while (state.KeepRunningBatch(2)) {
    fiber = std::move(fiber).resume();
  }
  if (2 * resumptions != static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("the fiber did not run once per round trip");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  // The fiber never returns; destroying it unwinds its stack with Boost's forced_unwind.
}
BENCHMARK(BM_BoostContextFiber);

// Boost's bare jump_fcontext (boost::context::detail, the routine under fiber), on one of our
// stacks: the like-for-like comparison with BM_JumpContextUnchecked.
int64_t fcontext_resumptions = 0;

void FcontextPonger(boost::context::detail::transfer_t from) {
  for (;;) {
    ++fcontext_resumptions;
    from = boost::context::detail::jump_fcontext(from.fctx, nullptr);
  }
}

void BM_BoostJumpFcontext(benchmark::State& state) {
  namespace detail = boost::context::detail;
  Stack stack = Stack::Allocate(kDefaultStackBytes);
  fcontext_resumptions = 0;
  detail::fcontext_t fiber = detail::make_fcontext(static_cast<char*>(stack.base()) + stack.size(),
                                                   stack.size(), FcontextPonger);
  while (state.KeepRunningBatch(2)) {
    fiber = detail::jump_fcontext(fiber, nullptr).fctx;
  }
  if (2 * fcontext_resumptions != static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("the fiber did not run once per round trip");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_BoostJumpFcontext);

// ---- glibc ucontext ----

// makecontext passes only int arguments; the fiber finds its state here.
struct UcontextPingPong {
  ucontext_t host;
  ucontext_t fiber;
  int64_t resumptions = 0;
};
UcontextPingPong* ucontext_ping_pong = nullptr;

void UcontextPonger() {
  for (;;) {
    ++ucontext_ping_pong->resumptions;
    swapcontext(&ucontext_ping_pong->fiber, &ucontext_ping_pong->host);
  }
}

void BM_Swapcontext(benchmark::State& state) {
  UcontextPingPong ping_pong;
  ucontext_ping_pong = &ping_pong;
  Stack stack = Stack::Allocate(kDefaultStackBytes);
  if (getcontext(&ping_pong.fiber) != 0) {
    state.SkipWithError("getcontext failed");
    return;
  }
  ping_pong.fiber.uc_stack.ss_sp = stack.base();
  ping_pong.fiber.uc_stack.ss_size = stack.size();
  ping_pong.fiber.uc_link = nullptr;
  makecontext(&ping_pong.fiber, UcontextPonger, 0);
  while (state.KeepRunningBatch(2)) {
    swapcontext(&ping_pong.host, &ping_pong.fiber);
  }
  if (2 * ping_pong.resumptions != static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("the fiber did not run once per round trip");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  ucontext_ping_pong = nullptr;
}
BENCHMARK(BM_Swapcontext);

// The console report, plus each benchmark's time per iteration (per switch) for the summary:
// the median when --benchmark_repetitions asks for several runs, else the single run.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  // Colour only on a terminal, as the library's own console reporter does by default.
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) != 0 ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) {
        continue;
      }
      const std::string& name = run.run_name.function_name;
      const double seconds =
          run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") {
          median_ns_[name] = seconds * 1e9;
        }
      } else {
        last_ns_[name] = seconds * 1e9;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // Nanoseconds per switch for `name`, or a negative number if it did not run.
  double NsPerSwitch(const std::string& name) const {
    if (auto it = median_ns_.find(name); it != median_ns_.end()) {
      return it->second;
    }
    if (auto it = last_ns_.find(name); it != last_ns_.end()) {
      return it->second;
    }
    return -1;
  }

 private:
  std::map<std::string, double> median_ns_;
  std::map<std::string, double> last_ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const double ours = reporter.NsPerSwitch("BM_SwitchContext");
  const double boost = reporter.NsPerSwitch("BM_BoostContextFiber");
  const double glibc = reporter.NsPerSwitch("BM_Swapcontext");
  if (ours > 0 && glibc > 0 && boost > 0) {
    std::printf(
        "summary: SwitchContext %.2f ns/switch, Boost.Context fiber %.2f ns/switch, swapcontext "
        "%.2f ns/switch; Boost/SwitchContext = %.2fx, swapcontext/SwitchContext = %.1fx\n",
        ours, boost, glibc, boost / ours, glibc / ours);
  } else {
    std::printf("summary: not computed (a filter or an error left out one of the three)\n");
  }
  return 0;
}
