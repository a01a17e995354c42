#include "sim/instrumentation.h"

#include <dlfcn.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/check.h"
#include "sim/arena.h"

namespace switchyard::sim {
namespace {

struct Region {
  uintptr_t base;
  size_t size;
  uint32_t number;
  std::string name;
};

struct CallStackFrames {
  const void* frames[Instrumentation::kMaxCallDepth];
  int depth = 0;
  int overflow = 0;  // frames entered beyond kMaxCallDepth, not kept
};

// Process-wide: regions outlive runs (a module is loaded once and reset before every run).
std::vector<Region> regions;
std::vector<std::pair<uintptr_t, size_t>> private_ranges;
// The current run's model ranges (DeclareForRun), valid while Simulator::serial() is
// run_ranges_serial.
struct RunRange {
  uintptr_t base;
  size_t size;
  Instrumentation::RunMemory kind;
  size_t per_cpu_stride;  // kPerCpu: the size of one vCPU's entry; 0: one range for every vCPU
  bool passes_time;       // kPerCpu: filtered accesses still pass time (Simulator::PassTime)
};
std::vector<RunRange> run_ranges;
uint64_t run_ranges_serial = 0;
uintptr_t arena_base = 0;
size_t arena_size = 0;
Instrumentation::Counters g_counters;

// Per run (reset when Simulator::serial() changes).
uint64_t run_serial = 0;
std::vector<CallStackFrames> call_stacks;  // by fiber id
// The plain write whose hook ran last: its store happens right after the hook returns, before
// the fiber reaches another point, so the next hook can tell whether it changed memory.
struct PendingWrite {
  const void* address = nullptr;
  size_t size = 0;
  unsigned char before[Instrumentation::kMaxAccessBytes];
};
PendingWrite pending;
// The host thread that runs simulations, for telling foreign threads apart (0: none yet).
std::atomic<bool> owner_known{false};
pthread_t owner_thread;

bool InRange(uintptr_t a, uintptr_t base, size_t size) { return a >= base && a - base < size; }

// A code address as "module+0xoffset (function)": the same in every process and run.
std::string CodeLocation(const void* pc) {
  Dl_info info;
  if (pc != nullptr && dladdr(pc, &info) != 0 && info.dli_fname != nullptr) {
    const char* base = std::strrchr(info.dli_fname, '/');
    std::string where = absl::StrFormat(
        "%s+0x%x", base != nullptr ? base + 1 : info.dli_fname,
        reinterpret_cast<uintptr_t>(pc) - reinterpret_cast<uintptr_t>(info.dli_fbase));
    if (info.dli_sname != nullptr) absl::StrAppend(&where, " (", info.dli_sname, ")");
    return where;
  }
  return absl::StrFormat("%p", pc);
}

// The common access sizes with fixed-size copies and compares, which the compiler inlines; the
// library's memcpy and memcmp for a size known only at run time were 3% of an instrumented run.
// Calls f with the size as a compile-time constant for 1, 2, 4 and 8 bytes, as a value otherwise.
template <typename F>
[[gnu::always_inline]] inline auto WithAccessSize(size_t size, F f) {
  switch (size) {
    case 1:
      return f(std::integral_constant<size_t, 1>{});
    case 2:
      return f(std::integral_constant<size_t, 2>{});
    case 4:
      return f(std::integral_constant<size_t, 4>{});
    case 8:
      return f(std::integral_constant<size_t, 8>{});
    default:
      return f(size);
  }
}

[[gnu::always_inline]] inline void CopyBefore(PendingWrite& p, const void* address, size_t size) {
  WithAccessSize(size, [&](auto n) { std::memcpy(p.before, address, n); });
}

[[gnu::always_inline]] inline bool SameBytes(const PendingWrite& p) {
  return WithAccessSize(p.size, [&](auto n) { return std::memcmp(p.address, p.before, n) == 0; });
}

// Brings the per-run state up to the running simulator and settles the last plain write.
[[gnu::always_inline]] inline void Sync(Simulator* sim) {
  if (__builtin_expect(run_serial != Simulator::serial(), 0)) {
    run_serial = Simulator::serial();
    call_stacks.clear();
    pending.address = nullptr;
    if (!owner_known.load(std::memory_order_relaxed)) {
      owner_thread = pthread_self();
      owner_known.store(true, std::memory_order_relaxed);
    }
  }
  if (pending.address != nullptr) {
    if (pending.size > Instrumentation::kMaxAccessBytes || !SameBytes(pending)) {
      sim->InstrumentedStoreChanged();
    }
    pending.address = nullptr;
  }
}

// A hook on a host thread that is not the simulator's, while a simulation exists: code under
// test started a thread. There is no simulation on this thread to fail, so the process stops
// with one line; campaigns classify that as a crash with the line as its explanation.
void CheckForeignThread(const void* pc) {
  if (owner_known.load(std::memory_order_relaxed) && !pthread_equal(pthread_self(), owner_thread) &&
      Simulator::serial() != 0) {
    std::fprintf(stderr,
                 "foreign-thread-access: code under test at %s runs on a host thread the "
                 "simulator does not own (code under test must not start threads)\n",
                 CodeLocation(pc).c_str());
    std::abort();
  }
}

[[noreturn]] void FailUnattributed(Simulator* sim, const void* address, size_t size, bool write,
                                   const void* pc) {
  std::string message = absl::StrFormat(
      "code at %s %s %d bytes at %p, which is in no memory of the code under test (no module's "
      "data, heap arena or thread stack): a wild or dangling pointer",
      CodeLocation(pc), write ? "writes" : "reads", size, address);
  sim->Fail("unattributed-access", std::move(message));
}

// Instrumented code touched the model heap outside a live block (sim/arena.h).
[[noreturn]] void FailHeap(Simulator* sim, const void* address, size_t size, bool write,
                           const void* pc, Arena::State state) {
  const bool freed = state == Arena::State::kFreed;
  std::string message = absl::StrFormat(
      "code at %s %s %d bytes at heap offset 0x%x, %s", CodeLocation(pc),
      write ? "writes" : "reads", size, reinterpret_cast<uintptr_t>(address) - arena_base,
      freed ? "in a block that was freed" : "outside every block (past the end of one)");
  sim->Fail(freed ? "heap-use-after-free" : "heap-buffer-overflow", std::move(message));
}

enum class Filter { kPoint, kOwnStack, kPrivate, kPerCpuOff };

// A plain write whose store happens when its hook returns: what it overwrites, for the next hook's
// Sync to tell whether it changed memory.
[[gnu::always_inline]] inline void Remember(const void* address, size_t size) {
  pending.address = address;
  pending.size = size;
  if (size <= Instrumentation::kMaxAccessBytes) CopyBefore(pending, address, size);
}

// Whether [a, a+size) lies in vCPU `cpu`'s entry of a strided per-CPU range.
bool OwnEntry(uintptr_t a, size_t size, const RunRange& r, uintptr_t cpu) {
  const uintptr_t first = a - r.base, last = first + (size == 0 ? 0 : size - 1);
  return last < r.size && first / r.per_cpu_stride == cpu && last / r.per_cpu_stride == cpu;
}

// Decides whether an access is a point and, if so, its cell id.
[[gnu::always_inline]] inline Filter Attribute(Simulator* sim, const void* address, size_t size,
                                               bool write, const void* pc, uint32_t* cell) {
  const auto a = reinterpret_cast<uintptr_t>(address);
  if (sim->OnRunningStack(a)) {
    ++g_counters.own_stack;
    return Filter::kOwnStack;
  }
  for (const auto& [base, bytes] : private_ranges) {
    if (InRange(a, base, bytes)) {
      ++g_counters.private_ranges;
      return Filter::kPrivate;
    }
  }
  if (run_ranges_serial == Simulator::serial()) {
    for (const RunRange& r : run_ranges) {
      if (!InRange(a, r.base, r.size)) continue;
      if (r.kind == Instrumentation::RunMemory::kPrivate) {
        ++g_counters.private_ranges;
        return Filter::kPrivate;
      }
      // With a stride, the whole access must lie in the running vCPU's own entry (its first and
      // its last byte), and time it passes may not pile up past a bound (PassTime's result: a
      // loop over a CPU's own struct cpu with interrupts off still reaches points and budgets).
      if (!sim->intr_get() &&
          (r.per_cpu_stride == 0 || OwnEntry(a, size, r, static_cast<uintptr_t>(sim->cpu()))) &&
          !(r.passes_time && sim->PassTime())) {
        ++g_counters.per_cpu_interrupts_off;
        return Filter::kPerCpuOff;
      }
      break;  // per-CPU memory with interrupts on, or another vCPU's: a point like any shared one
    }
  }
  if (Instrumentation::CellOf(a, cell)) {
    if (*cell >> Instrumentation::kGranuleBits == Instrumentation::kArenaRegion) {
      const Arena::State state = Arena::Classify(address, size);
      if (__builtin_expect(state != Arena::State::kLive, 0)) {
        FailHeap(sim, address, size, write, pc, state);
      }
    }
    return Filter::kPoint;
  }
  // The simulator's own state, read by one of its always-inline helpers (CoarsePoint,
  // CoarseSpin) that the compiler inlined into instrumented code: never memory of the code under
  // test. Before the search of the fibers' stacks: models make it at every acquire() and release().
  if (InRange(a, reinterpret_cast<uintptr_t>(sim), sizeof(Simulator))) {
    ++g_counters.private_ranges;
    return Filter::kPrivate;
  }
  if (const Fiber* owner = sim->FiberOwningStack(a); owner != nullptr) {
    const uintptr_t granule =
        (a - reinterpret_cast<uintptr_t>(owner->stack.base())) >> Instrumentation::kGranuleShift;
    *cell = Instrumentation::kStackRegion << Instrumentation::kGranuleBits |
            (owner->id & 0xFFu) << 16 | (granule & 0xFFFFu);
    return Filter::kPoint;
  }
  FailUnattributed(sim, address, size, write, pc);
}

}  // namespace

int Instrumentation::RegisterRegion(uintptr_t base, size_t size, std::string name) {
  if (regions.size() >= static_cast<size_t>(kMaxRegions)) {
    throw std::invalid_argument(absl::StrCat("more than ", kMaxRegions, " memory regions"));
  }
  if (size == 0 || size > (size_t{1} << (kGranuleShift + kGranuleBits))) {
    throw std::invalid_argument(
        absl::StrCat("memory region '", name, "' has size ", size, ", outside 1..",
                     size_t{1} << (kGranuleShift + kGranuleBits), " bytes"));
  }
  for (const Region& r : regions) {
    if (base < r.base + r.size && r.base < base + size) {
      throw std::invalid_argument(
          absl::StrCat("memory region '", name, "' overlaps region '", r.name, "'"));
    }
  }
  const auto number = static_cast<uint32_t>(regions.size() + 1);
  regions.push_back({base, size, number, std::move(name)});
  return static_cast<int>(number);
}

void Instrumentation::DeclarePrivate(uintptr_t base, size_t size) {
  // Code under test declares its private ranges in every run; keep each once.
  for (const auto& range : private_ranges) {
    if (range.first == base && range.second == size) return;
  }
  private_ranges.emplace_back(base, size);
}

void Instrumentation::DeclareForRun(const void* base, size_t size, RunMemory kind,
                                    size_t per_cpu_stride, bool passes_time) {
  if (run_ranges_serial != Simulator::serial()) {
    run_ranges.clear();
    run_ranges_serial = Simulator::serial();
  }
  SY_CHECK(size != 0);
  SY_CHECK((per_cpu_stride == 0 && !passes_time) || kind == RunMemory::kPerCpu);
  run_ranges.push_back(
      {reinterpret_cast<uintptr_t>(base), size, kind, per_cpu_stride, passes_time});
}

void Instrumentation::SetArena(uintptr_t base, size_t size) {
  SY_CHECK(arena_size == 0 && size != 0 && size <= (size_t{1} << (kGranuleShift + kGranuleBits)));
  arena_base = base;
  arena_size = size;
}

void Instrumentation::Clear() {
  regions.clear();
  private_ranges.clear();
  run_ranges.clear();
}

bool Instrumentation::CellOf(uintptr_t address, uint32_t* cell) {
  if (InRange(address, arena_base, arena_size)) {
    *cell = kArenaRegion << kGranuleBits |
            static_cast<uint32_t>((address - arena_base) >> kGranuleShift);
    return true;
  }
  for (const Region& r : regions) {
    if (InRange(address, r.base, r.size)) {
      *cell = r.number << kGranuleBits | static_cast<uint32_t>((address - r.base) >> kGranuleShift);
      return true;
    }
  }
  return false;
}

std::vector<const void*> Instrumentation::CallStack() {
  std::vector<const void*> frames;
  Simulator* sim = Simulator::points();
  if (sim == nullptr || run_serial != Simulator::serial()) return frames;
  const uint32_t fiber = sim->running_fiber_id();
  if (fiber >= call_stacks.size()) return frames;
  const CallStackFrames& s = call_stacks[fiber];
  for (int i = s.depth - 1; i >= 0; --i) frames.push_back(s.frames[i]);
  return frames;
}

const void* Instrumentation::InnermostCaller() {
  Simulator* sim = Simulator::points();
  if (sim == nullptr || run_serial != Simulator::serial()) return nullptr;
  const uint32_t fiber = sim->running_fiber_id();
  if (fiber >= call_stacks.size() || call_stacks[fiber].depth == 0) return nullptr;
  return call_stacks[fiber].frames[call_stacks[fiber].depth - 1];
}

void Instrumentation::ResetCallStack(uint32_t fiber) {
  if (fiber < call_stacks.size()) call_stacks[fiber] = CallStackFrames{};
}

const Instrumentation::Counters& Instrumentation::counters() { return g_counters; }

void Instrumentation::Plain(const void* address, size_t size, bool write, const void* pc) {
  Simulator* sim = Simulator::points();
  if (sim == nullptr) {
    ++g_counters.outside_run;
    CheckForeignThread(pc);
    return;
  }
  Sync(sim);
  uint32_t cell;
  const Filter filter = Attribute(sim, address, size, write, pc, &cell);
  if (filter != Filter::kPoint) {
    // A per-CPU write with interrupts off is no point, but checkers read what it changes
    // (c->proc): the next hook tells the simulator whether it changed memory, as for a point,
    // and the access observer sees it (contracts that track what changed).
    if (filter == Filter::kPerCpuOff && write) {
      if (access_observer_ != nullptr && Overlaps(access_ranges_, access_range_count_,
                                                  reinterpret_cast<uintptr_t>(address), size)) {
        access_observer_(access_observer_context_, AccessEvent{address, size, write, pc});
      }
      Remember(address, size);
    }
    return;
  }
  ++g_counters.points;
  sim->InstrumentedAccess(cell, write ? AccessKind::kWrite : AccessKind::kRead, pc, false);
  if (access_observer_ != nullptr &&
      Overlaps(access_ranges_, access_range_count_, reinterpret_cast<uintptr_t>(address), size)) {
    access_observer_(access_observer_context_, AccessEvent{address, size, write, pc});
  }
  // Resumed: the store happens when this returns. Remember what it overwrites.
  if (write) Remember(address, size);
}

bool Instrumentation::Atomic(const void* address, size_t size, AccessKind kind, bool will_change,
                             const void* pc) {
  Simulator* sim = Simulator::points();
  if (sim == nullptr) {
    ++g_counters.outside_run;
    CheckForeignThread(pc);
    return false;
  }
  Sync(sim);
  uint32_t cell;
  if (Attribute(sim, address, size, kind != AccessKind::kRead, pc, &cell) != Filter::kPoint) {
    return false;
  }
  ++g_counters.points;
  sim->InstrumentedAccess(cell, kind, pc, kind == AccessKind::kReadModifyWrite && !will_change);
  return true;
}

void Instrumentation::SetAtomicObserver(AtomicObserver observer, void* context) {
  atomic_observer_ = observer;
  atomic_observer_context_ = context;
}

void Instrumentation::SetRanges(absl::Span<const Range> ranges, Range* out, int* count) {
  SY_CHECK(ranges.size() <= static_cast<size_t>(kMaxObservedRanges));
  *count = ranges.size() == 0 ? -1 : static_cast<int>(ranges.size());
  int i = 0;
  for (const Range& r : ranges) {
    SY_CHECK(r.begin < r.end);
    out[i++] = r;
  }
}

void Instrumentation::SetAccessObserver(AccessObserver observer, void* context,
                                        absl::Span<const Range> ranges) {
  access_observer_ = observer;
  access_observer_context_ = context;
  SetRanges(ranges, access_ranges_, &access_range_count_);
}

void Instrumentation::AtomicChanged() {
  if (Simulator* sim = Simulator::points(); sim != nullptr) sim->InstrumentedStoreChanged();
}

void Instrumentation::Settle() {
  if (Simulator* sim = Simulator::points(); sim != nullptr) Sync(sim);
}

void Instrumentation::SetFunctionObserver(FunctionObserver observer, void* context,
                                          absl::Span<const Range> ranges) {
  function_observer_ = observer;
  function_observer_context_ = context;
  SetRanges(ranges, function_ranges_, &function_range_count_);
}

void Instrumentation::FunctionEntry(const void* caller_pc, const void* pc) {
  Simulator* sim = Simulator::points();
  if (sim == nullptr) return;
  Sync(sim);
  if (function_observer_ != nullptr &&
      Overlaps(function_ranges_, function_range_count_, reinterpret_cast<uintptr_t>(pc), 1)) {
    function_observer_(function_observer_context_, true, pc);
  }
  const uint32_t fiber = sim->running_fiber_id();
  if (fiber >= call_stacks.size()) call_stacks.resize(fiber + 1);
  CallStackFrames& s = call_stacks[fiber];
  if (s.depth < kMaxCallDepth) {
    s.frames[s.depth++] = caller_pc;
  } else {
    ++s.overflow;
  }
}

void Instrumentation::FunctionExit(const void* pc) {
  Simulator* sim = Simulator::points();
  if (sim == nullptr || run_serial != Simulator::serial()) return;
  if (function_observer_ != nullptr &&
      Overlaps(function_ranges_, function_range_count_, reinterpret_cast<uintptr_t>(pc), 1)) {
    function_observer_(function_observer_context_, false, pc);
  }
  const uint32_t fiber = sim->running_fiber_id();
  if (fiber >= call_stacks.size()) return;
  CallStackFrames& s = call_stacks[fiber];
  if (s.overflow > 0) {
    --s.overflow;
  } else if (s.depth > 0) {
    --s.depth;
  }
}

std::string Instrumentation::DescribeCode(const void* pc) { return CodeLocation(pc); }

}  // namespace switchyard::sim

// The ThreadSanitizer ABI's entry points, here so that the hooks above inline into them.
#include "sim/tsan_abi.inc"  // IWYU pragma: keep
