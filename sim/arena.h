// The per-run heap of a model whose code is compiler-instrumented (sim/instrumentation.h).
//
// An instrumented access is identified across executions by where it lands in a registered
// region, never by its raw address. The host heap gives a run's objects different addresses in
// every run (and every process), so a model that allocates (page tables, rings, host maps, its
// kernel object itself) allocates from this arena instead: one anonymous mapping per process,
// registered as region Instrumentation::kArenaRegion, with a bump pointer that every Scope resets
// to the start. The same scenario then makes the same allocations at the same offsets in every
// run, and its cell ids are the same in every run and process.
//
//   sim::Arena::Scope heap;                        // a run begins: the arena is empty again
//   Kernel* k = sim::ArenaNew<Kernel>(config, sim);
//   sim::ArenaVector<int> map(pages, -1);          // allocates from the arena
//   ...
//   sim::ArenaDelete(k);                           // destructors run; memory comes back at the
//                                                  // next Scope
//
// Nothing allocated in a scope may be used after the next scope begins. Memory is never reused
// within a scope, so a run allocates at most kSize bytes in all; past that the process stops with
// a one-line message (a model that needs more is misconfigured). Run N+1 cannot see run N: a
// scope zeroes what the last one used.
//
// Memory errors. Instrumented code that reads or writes arena memory outside a live allocation is
// a violation of the running simulation (sim/instrumentation.h asks Classify): past the end of a
// block (every block is followed by a kRedzone-byte gap that is never allocated:
// "heap-buffer-overflow"), or in a block that was freed (a vector's old storage after it grew:
// "heap-use-after-free"). Granularity is 8 bytes: an overflow that stays inside the block's last
// granule is not seen. Code that is not instrumented (the standard library's own functions) is
// not checked.
//
// Outside a scope, ArenaAllocator falls back to operator new and delete, so that the model's
// types still work in plain unit tests (kernel_models/uml/change_ring_test.cc).
//
// A Scope also declares the executable's read-only segments private (not points: constants and
// string literals cannot be shared state), as sim/module.h does for a loaded module's.
//
// One host thread; scopes do not nest.
#ifndef SWITCHYARD_SIM_ARENA_H_
#define SWITCHYARD_SIM_ARENA_H_

#include <cstddef>
#include <new>
#include <utility>
#include <vector>

namespace switchyard::sim {

class Arena {
 public:
  static constexpr size_t kSize = size_t{64} << 20;  // bytes a run may allocate

  class Scope {
   public:
    // Empties the arena (zeroing what the last scope used) and sends ArenaAllocator to it.
    // REQUIRES: no other scope is open.
    Scope();
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
  };

  // `bytes` aligned to `alignment` (a power of two): from the arena inside a scope, else from
  // operator new.
  static void* Allocate(size_t bytes, size_t alignment);
  // Returns `bytes` at `p` from Allocate. Arena memory is not reused in this scope (it comes back
  // at the next), but it is no longer live: instrumented code that touches it again is a
  // violation.
  static void Deallocate(void* p, size_t bytes, size_t alignment) noexcept;
  // Whether `p` is arena memory.
  static bool Contains(const void* p);
  static constexpr size_t kRedzone = 16;  // bytes after every block, never allocated
  enum class State { kLive, kFreed, kUnallocated };
  // `bytes` at `p`, which is arena memory: inside live blocks of the open scope, or touching a
  // freed block, or touching memory no block of this scope covers (a redzone, past the end).
  static State Classify(const void* p, size_t bytes);
  // Bytes the open (or last) scope has allocated.
  static size_t used();
};

// A standard allocator over the arena (stateless: every instance is equal).
template <typename T>
struct ArenaAllocator {
  using value_type = T;
  ArenaAllocator() = default;
  template <typename U>
  ArenaAllocator(const ArenaAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator
  T* allocate(size_t n) { return static_cast<T*>(Arena::Allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, size_t n) noexcept { Arena::Deallocate(p, n * sizeof(T), alignof(T)); }
  template <typename U>
  bool operator==(const ArenaAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using ArenaVector = std::vector<T, ArenaAllocator<T>>;

// new and delete through the arena.
template <typename T, typename... Args>
T* ArenaNew(Args&&... args) {
  return new (Arena::Allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
}
template <typename T>
void ArenaDelete(T* p) {
  if (p == nullptr) return;
  p->~T();
  Arena::Deallocate(p, sizeof(T), alignof(T));
}

}  // namespace switchyard::sim

#endif  // SWITCHYARD_SIM_ARENA_H_
