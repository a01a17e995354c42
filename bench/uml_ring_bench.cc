// The cost of catching a host address space up with its mm_struct's change ring: a replay of the
// unseen changes versus a full rescan (fix_range over every page), as N (slots) and the address
// space grow, and the rate at which changes are appended and applied. Run with
//   bazel run --config=opt //bench:uml_ring_bench
// The per-page fix is the model's (compare the host mapping with the page-table entry and repair
// it); in real UML each repaired page also costs a host munmap/mmap, which this leaves out.
#include <vector>

#include "benchmark/benchmark.h"
#include "kernel_models/uml/change_ring.h"

namespace switchyard::uml {
namespace {

// A host address space and the page table it caches: frame by virtual page, -1 for none.
struct AddressSpace {
  std::vector<int> host;
  std::vector<int> pte;
  explicit AddressSpace(int pages) : host(pages), pte(pages) {
    for (int i = 0; i < pages; ++i) host[i] = pte[i] = i;
  }
  // fix_range for one page: make the host mapping agree with the page table.
  void Fix(int page) {
    if (host[page] != pte[page]) host[page] = pte[page];
  }
};

// Replays N unseen changes (the most a replay can ever be) in an address space of `pages`.
void BM_Replay(benchmark::State& state) {
  const int slots = static_cast<int>(state.range(0));
  const int pages = static_cast<int>(state.range(1));
  ChangeRing ring(slots);
  AddressSpace as(pages);
  for (int i = 0; i < 4 * slots; ++i) ring.Append((i * 7919) % pages);
  for (auto _ : state) {
    uint64_t position = ring.count() - static_cast<uint64_t>(slots);
    CatchUpPlan plan = PlanCatchUp(ring, position);
    for (uint64_t n = plan.first; n < plan.last; ++n) {
      int page = ring.SlotPage(n);
      as.pte[page] ^= 1;  // the change the ring recorded
      as.Fix(page);
    }
    benchmark::DoNotOptimize(as.host.data());
  }
  state.SetItemsProcessed(state.iterations() * slots);
}
BENCHMARK(BM_Replay)->ArgsProduct({{1, 4, 16, 64, 256, 1024}, {1024}});

// A rescan: fix_range over the whole address space, whatever the number of changes.
void BM_Rescan(benchmark::State& state) {
  const int pages = static_cast<int>(state.range(0));
  ChangeRing ring(1);
  AddressSpace as(pages);
  for (int i = 0; i < 4; ++i) ring.Append(i % pages);
  for (auto _ : state) {
    CatchUpPlan plan = PlanCatchUp(ring, 0);
    benchmark::DoNotOptimize(plan.rescan);
    as.pte[static_cast<size_t>(state.iterations()) % pages] ^= 1;
    for (int page = 0; page < pages; ++page) as.Fix(page);
    benchmark::DoNotOptimize(as.host.data());
  }
  state.SetItemsProcessed(state.iterations() * pages);
}
BENCHMARK(BM_Rescan)->Arg(64)->Arg(256)->Arg(1024)->Arg(4096)->Arg(16384)->Arg(65536);

// Changes applied per second: kswapd appends a burst of k changes while three processes sharing
// the mm sleep; each then catches up (a replay when k <= N, a rescan otherwise).
void BM_AppendAndCatchUp(benchmark::State& state) {
  const int slots = static_cast<int>(state.range(0));
  const int burst = static_cast<int>(state.range(1));
  constexpr int kPages = 1024;
  constexpr int kThreads = 3;
  ChangeRing ring(slots);
  std::vector<AddressSpace> spaces(kThreads, AddressSpace(kPages));
  std::vector<uint64_t> position(kThreads, 0);
  AddressSpace& mm = spaces[0];  // its pte vector doubles as the shared page table
  int next = 0;
  for (auto _ : state) {
    for (int i = 0; i < burst; ++i) {
      int page = next;
      next = (next + 7919) % kPages;
      mm.pte[page] ^= 1;
      ring.Append(page);
    }
    for (int t = 0; t < kThreads; ++t) {
      AddressSpace& as = spaces[t];
      CatchUpPlan plan = PlanCatchUp(ring, position[t]);
      if (plan.rescan) {
        for (int page = 0; page < kPages; ++page) {
          if (as.host[page] != mm.pte[page]) as.host[page] = mm.pte[page];
        }
      } else {
        for (uint64_t n = plan.first; n < plan.last; ++n) {
          int page = ring.SlotPage(n);
          if (as.host[page] != mm.pte[page]) as.host[page] = mm.pte[page];
        }
      }
      position[t] = CaughtUpPosition(ring);
    }
    benchmark::DoNotOptimize(spaces.data());
  }
  state.SetItemsProcessed(state.iterations() * burst);
  state.SetLabel(burst > slots ? "rescans" : "replays");
}
BENCHMARK(BM_AppendAndCatchUp)->ArgsProduct({{4, 16, 64}, {4, 16, 64}});

}  // namespace
}  // namespace switchyard::uml
