// The instrumentation runtime: every memory access of compiler-instrumented code is a point.
//
// Code under test (a kernel's C files, a model's C++) is compiled with clang's or gcc's
// ThreadSanitizer instrumentation (`-fsanitize=thread`) and linked with THIS runtime instead of
// the sanitizer's: the compiler calls __tsan_read4, __tsan_write8, __tsan_atomic32_exchange,
// __tsan_func_entry, ... (sim/tsan_abi.inc defines every entry point clang 14 and gcc 12 emit) and
// each call lands here. While a simulator runs at access granularity (Simulator::points()), an
// access to shared memory is:
//   - a point of the running simulator, exactly as a Cell access is: another vCPU may run first,
//     and a pending interrupt is delivered when this vCPU has interrupts on;
//   - recorded: cell id (below), read / write / read-modify-write, the code address, and the
//     fiber's call stack from function entry and exit (CallStack).
// Atomics are performed here, after their point, one at a time (the simulator runs one host
// thread, so every atomic is sequentially consistent; weaker orders are not explored). An atomic
// read-modify-write that leaves memory unchanged (a failed test-and-set or compare-and-swap) is
// a failed iteration of a spin-wait (Simulator::InstrumentedAccess).
//
// Not points:
//   - any access outside a run, in the simulator's own work (checkers, timer callbacks), or at
//     coarse granularity;
//   - the running fiber's own stack (its locals: no other vCPU can name them, or if it can, the
//     code passed it a pointer, which is a write the filter does not see; see below);
//   - ranges declared private (DeclarePrivate: read-only data; DeclareForRun: a model's own
//     configuration and ghost state), and the running Simulator object itself (its always-inline
//     helpers, inlined into instrumented code);
//   - per-CPU memory (DeclareForRun, RunMemory::kPerCpu: xv6's struct cpu, a hart's sepc) while
//     the running vCPU has interrupts off. A CPU shares such memory only with its own interrupt
//     handlers, so another vCPU running just before the access is the same execution as it
//     running at the next shared access; only an interrupt arriving there makes a difference.
//     With interrupts on it is a point like any shared access. This keeps schedules dense in
//     the choices that matter. Declared with a stride (an xv6 tree's cpus[]), only an access
//     wholly inside the running vCPU's own entry is filtered: another's is shared after all (a
//     stale mycpu()), a point. What this gives up: a vCPU that reads another's entry (a bug)
//     sees that entry's interrupts-off sections as one step, and partial-order reduction does
//     not record their writes.
// Another fiber's stack is shared memory: a process's kernel stack that another CPU reads is a
// real race.
//
// Cell ids. An address is the same variable in every execution of the same scenario only if
// allocation is deterministic; raw addresses are not (ASLR, the host heap's history). So memory
// that code under test may share is registered as regions (RegisterRegion: a module's writable
// data, a heap arena) whose base may differ between processes but whose contents are laid out the
// same way in every run; a cell id is the region's number and the offset in 8-byte granules
// (bits 31-24: region 1..kMaxRegions, bits 23-0: granule). Another fiber's stack is region
// kStackRegion with the owning fiber's id and the granule within its stack. Ids never contain
// raw addresses, so they are the same across processes and builds of the same code. Two
// variables in one granule share an id: partial-order reduction then sees a dependency that may
// not exist, which costs reduction, never soundness.
//
// Performed atomics. Contracts that keep their own ghost record of what the code under test did
// (which CPU took which spin lock: kernel_models/xv6/lock_contracts.h) must not derive it from
// fields that code maintains, so they watch the atomics themselves: an AtomicObserver, when one
// is set, is called after every atomic store, read-modify-write and compare-and-swap that was a
// point, on the fiber that performed it, with the value before and after (the low 64 bits). It
// may end the run (Simulator::Fail). Atomics outside a run, or of filtered memory, are not shown.
// The same for plain accesses: an AccessObserver is called after every plain access (1-16 bytes or
// a range) that was a point, once the access's point has passed (this fiber runs again, on the
// vCPU it now runs on) and before the access happens, and before every plain write to per-CPU
// memory with interrupts off (no point, but it changes what checkers read); contracts that judge
// who may touch which field (kernel_models/xv6/lock_contracts.h) watch these.
//
// Errors, as violations of the running simulation naming the code's address (views turn it into
// file:line): an access to memory in no region and no fiber stack ("unattributed-access": a wild
// or dangling pointer, or memory the harness does not own); an access to the models' heap arena
// outside a live block ("heap-buffer-overflow", "heap-use-after-free": sim/arena.h); an access
// from a host thread the simulator does not own ("foreign-thread-access"); an access of more
// than kMaxAccessBytes by a plain hook. Outside a run, the hooks do nothing and check nothing.
//
// What the instrumentation cannot see: accesses in code that is not instrumented (libc's memcpy
// and string functions called from code under test; clang 14 turns struct copies into calls to
// the plain memcpy), the compiler's reorderings of plain accesses, and instructions that touch
// no memory (an interrupt between two of them is delivered at the next access or platform call:
// sim/platform.h makes every CPU-state operation a point for that reason).
#ifndef SWITCHYARD_SIM_INSTRUMENTATION_H_
#define SWITCHYARD_SIM_INSTRUMENTATION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "sim/simulator.h"

namespace switchyard::sim {

class Instrumentation {
 public:
  static constexpr int kMaxRegions = 200;            // region numbers 1..kMaxRegions
  static constexpr uint32_t kStackRegion = 0xFD;     // another fiber's stack
  static constexpr uint32_t kCpuStateRegion = 0xFC;  // a vCPU's own registers (sim/platform.h)
  static constexpr uint32_t kArenaRegion = 0xFB;     // the models' per-run heap (sim/arena.h)
  static constexpr uint32_t kGranuleShift = 3;       // 8-byte granules
  static constexpr uint32_t kGranuleBits = 24;       // per region: 128 MiB
  static constexpr size_t kMaxAccessBytes = 16;      // the widest plain hook (__tsan_read16)
  static constexpr int kMaxCallDepth = 64;           // frames kept per fiber; deeper ones counted
  static_assert(kMaxRegions < static_cast<int>(kArenaRegion));
  static_assert(kGranuleShift + kGranuleBits <= 32);

  // Shared memory of code under test whose layout is the same in every run. `name` says what it
  // is in errors ("kernel.so .data"). Regions may not overlap. Returns the region's number.
  // Errors: more than kMaxRegions, or an overlap: a one-line std::invalid_argument.
  static int RegisterRegion(uintptr_t base, size_t size, std::string name);
  // Memory that code under test may touch but that is never a point (read-only data, a CPU's own
  // state). Its accesses are neither points nor recorded.
  static void DeclarePrivate(uintptr_t base, size_t size);
  // What a model's memory in the current run is (DeclareForRun).
  enum class RunMemory {
    kPrivate,  // never a point: the model's configuration, ghost and hardware state
    kPerCpu,   // a point only while the running vCPU has interrupts on (see the header comment)
  };
  // Declares [base, base+size) of the current run's model as `kind`. Declarations last until the
  // next Simulator is created (Simulator::serial()), so a model declares them after creating its
  // simulator, and they never outlive the run's memory. `per_cpu_stride` (kPerCpu only; bytes):
  // the range is an array with vCPU k's entry at [base + k * stride, base + (k + 1) * stride), and
  // only the running vCPU's own entry is filtered: an access to another vCPU's entry is a point
  // (a stale mycpu()), whatever the interrupts. 0: any vCPU's. REQUIRES: size > 0.
  // `passes_time` (kPerCpu only): its accesses while they are no points still count toward
  // virtual time (Simulator::PassTime), so that code with interrupts off takes about as long as
  // when they were points, and a timer still comes due during it (xv6 trees, whose time was
  // counted in all of their accesses; the C++ model counts its points only); once
  // Simulator::kMaxTicksOwed ticks are owed, the next such access is a point.
  static void DeclareForRun(const void* base, size_t size, RunMemory kind,
                            size_t per_cpu_stride = 0, bool passes_time = false);
  // The per-run heap of models (sim/arena.h): region kArenaRegion, whatever else is registered,
  // so that its cell ids do not depend on what the process loaded before. Set once per process.
  static void SetArena(uintptr_t base, size_t size);
  // Forgets every region and private range but the arena (tests; a module that is unloaded).
  static void Clear();

  // The cell id of `address` (see the header comment), or false when it is in no region.
  static bool CellOf(uintptr_t address, uint32_t* cell);

  // The running fiber's call stack as return addresses, innermost first, from function entry
  // and exit of instrumented code (at most kMaxCallDepth). Empty outside a run.
  static std::vector<const void*> CallStack();
  // CallStack()'s innermost frame (where the running instrumented function returns to), without
  // building a vector: for contracts that name the caller of acquire(). Null when there is none.
  static const void* InnermostCaller();
  // A fiber starts a new thread (its old frames are gone): forgets its call stack.
  static void ResetCallStack(uint32_t fiber);
  // Settles the last plain write (whether it changed memory) before a point that is not an
  // access: platform calls (sim/platform.h) call this first.
  static void Settle();
  // A code address as "module+0xoffset (function)", the same in every process: for messages.
  static std::string DescribeCode(const void* pc);

  // One performed atomic (see "Performed atomics" in the header comment).
  struct AtomicEvent {
    const void* address;
    size_t size;
    AccessKind kind;  // kWrite (a store) or kReadModifyWrite (swap, fetch-op, compare-and-swap)
    bool sets_value;  // a store, swap or compare-and-swap; false for fetch_add and the other ops
    uint64_t before;  // memory before the operation
    uint64_t after;   // memory after it (== before: a failed test-and-set or compare-and-swap)
    const void* pc;   // the instrumented code that performed it
  };
  using AtomicObserver = void (*)(void* context, const AtomicEvent& event);
  // Sets the observer of performed atomics (null: none). One per process; a run that sets one
  // clears it when it ends.
  static void SetAtomicObserver(AtomicObserver observer, void* context);

  // One plain access that was a point (see "Performed atomics" in the header comment).
  struct AccessEvent {
    const void* address;
    size_t size;     // bytes: 1-16, or a range's length
    bool write;      // includes the write half of a plain read-modify-write (x++)
    const void* pc;  // the instrumented code that makes it
  };
  using AccessObserver = void (*)(void* context, const AccessEvent& event);
  // Address or code ranges an observer is told about: [begin, end).
  struct Range {
    uintptr_t begin, end;
  };
  static constexpr int kMaxObservedRanges = 4;
  // Sets the observer of plain accesses (null: none). One per process; a run that sets one
  // clears it when it ends. `ranges` (at most kMaxObservedRanges; empty: every access): it is told
  // only of accesses that overlap one of them, and the others cost no call.
  static void SetAccessObserver(AccessObserver observer, void* context,
                                absl::Span<const Range> ranges = {});

  // Function entry and exit of instrumented code during a run, on the fiber that runs it; `pc` is
  // an address inside the function (compare it with the function's code range). Not a point:
  // the observer sees where a thread stands, e.g. the entry and the exit of push_off().
  using FunctionObserver = void (*)(void* context, bool entry, const void* pc);
  // Sets the observer of function entry and exit (null: none). One per process. `ranges` (at
  // most kMaxObservedRanges; empty: every function): it is told only of functions whose `pc` lies
  // in one of them.
  static void SetFunctionObserver(FunctionObserver observer, void* context,
                                  absl::Span<const Range> ranges = {});

  // Counters since the process started, for benchmarks and tests.
  struct Counters {
    uint64_t points = 0;                  // accesses that were points
    uint64_t own_stack = 0;               // filtered: the running fiber's own stack
    uint64_t private_ranges = 0;          // filtered: DeclarePrivate, DeclareForRun kPrivate
    uint64_t per_cpu_interrupts_off = 0;  // filtered: DeclareForRun kPerCpu, interrupts off
    uint64_t outside_run = 0;             // hooks called with no simulator at a point
  };
  static const Counters& counters();

  // ---- Called by the __tsan_* entry points (sim/tsan_abi.inc) ----
  // A plain access of `size` bytes; `write` includes the write half of x++ (clang reports the
  // read of a read-modify-write of plain memory as part of the write).
  static void Plain(const void* address, size_t size, bool write, const void* pc);
  // An atomic access. `will_change`: the operation will change memory (it is performed by the
  // caller after this returns). A read-modify-write that will not is a spin-wait iteration.
  // Returns whether it was a point (then the caller reports it with AtomicPerformed).
  static bool Atomic(const void* address, size_t size, AccessKind kind, bool will_change,
                     const void* pc);
  // After an atomic store or read-modify-write that was a point: tells the AtomicObserver.
  static void AtomicPerformed(const AtomicEvent& event) {
    if (atomic_observer_ != nullptr) atomic_observer_(atomic_observer_context_, event);
  }
  // After an atomic store or read-modify-write that changed memory.
  static void AtomicChanged();
  // `pc`: an address inside the function entered or left (its call of the hook).
  static void FunctionEntry(const void* caller_pc, const void* pc);
  static void FunctionExit(const void* pc);

 private:
  static inline AtomicObserver atomic_observer_ = nullptr;
  static inline void* atomic_observer_context_ = nullptr;
  static inline AccessObserver access_observer_ = nullptr;
  static inline void* access_observer_context_ = nullptr;
  static inline FunctionObserver function_observer_ = nullptr;
  static inline void* function_observer_context_ = nullptr;
  // The observers' ranges; a count of -1: all.
  static inline Range access_ranges_[kMaxObservedRanges];
  static inline int access_range_count_ = -1;
  static inline Range function_ranges_[kMaxObservedRanges];
  static inline int function_range_count_ = -1;
  static void SetRanges(absl::Span<const Range> ranges, Range* out, int* count);
  // Whether [address, address + size) overlaps one of `count` ranges (count -1: yes).
  [[gnu::always_inline]] static bool Overlaps(const Range* ranges, int count, uintptr_t address,
                                              size_t size) {
    if (count < 0) return true;
    for (int i = 0; i < count; ++i) {
      if (address + size > ranges[i].begin && address < ranges[i].end) return true;
    }
    return false;
  }
};

}  // namespace switchyard::sim

#endif  // SWITCHYARD_SIM_INSTRUMENTATION_H_
