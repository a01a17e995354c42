// The ThreadSanitizer instrumentation ABI, implemented by switchyard (sim/instrumentation.h).
//
// Every entry point that clang 14 and gcc 12 emit under -fsanitize=thread, plus the memory
// intrinsics and volatile variants later clang versions and flags emit. Each captures the
// instrumented code's address (its own return address) and hands the access to Instrumentation.
// Atomics are performed here, after their point, with the memory order ignored: the simulator
// runs one host thread, so each atomic is one indivisible step of a sequentially consistent
// execution. This runtime never starts threads, keeps no shadow memory and reports no data
// races: the point is the schedule, and checkers judge its outcome.
//
// The symbols are exported from the executable (the library's linkopts), so that a code-under-
// test module loaded with dlopen (sim/module.h) binds to them.
#include <cstdint>
#include <cstring>

#include "sim/instrumentation.h"

using switchyard::sim::AccessKind;
using switchyard::sim::Instrumentation;

#define SY_PC __builtin_return_address(0)
// retain: --gc-sections (opt builds) must keep them although nothing in the executable calls them.
#define SY_EXPORT extern "C" __attribute__((visibility("default"), used, retain))

SY_EXPORT void __tsan_init() {}
// SY_PC is inside the instrumented function itself (its call of the hook): FunctionObserver's.
SY_EXPORT void __tsan_func_entry(void* caller_pc) {
  Instrumentation::FunctionEntry(caller_pc, SY_PC);
}
SY_EXPORT void __tsan_func_exit() { Instrumentation::FunctionExit(SY_PC); }
SY_EXPORT void __tsan_ignore_thread_begin() {}
SY_EXPORT void __tsan_ignore_thread_end() {}

// Plain accesses: aligned, unaligned and volatile of 1 to 16 bytes.
#define SY_PLAIN(N)                                                                                \
  SY_EXPORT void __tsan_read##N(void* a) { Instrumentation::Plain(a, N, false, SY_PC); }           \
  SY_EXPORT void __tsan_write##N(void* a) { Instrumentation::Plain(a, N, true, SY_PC); }           \
  SY_EXPORT void __tsan_unaligned_read##N(void* a) { Instrumentation::Plain(a, N, false, SY_PC); } \
  SY_EXPORT void __tsan_unaligned_write##N(void* a) { Instrumentation::Plain(a, N, true, SY_PC); } \
  SY_EXPORT void __tsan_volatile_read##N(void* a) { Instrumentation::Plain(a, N, false, SY_PC); }  \
  SY_EXPORT void __tsan_volatile_write##N(void* a) { Instrumentation::Plain(a, N, true, SY_PC); }  \
  SY_EXPORT void __tsan_unaligned_volatile_read##N(void* a) {                                      \
    Instrumentation::Plain(a, N, false, SY_PC);                                                    \
  }                                                                                                \
  SY_EXPORT void __tsan_unaligned_volatile_write##N(void* a) {                                     \
    Instrumentation::Plain(a, N, true, SY_PC);                                                     \
  }                                                                                                \
  SY_EXPORT void __tsan_read##N##_pc(void* a, void* pc) {                                          \
    Instrumentation::Plain(a, N, false, pc);                                                       \
  }                                                                                                \
  SY_EXPORT void __tsan_write##N##_pc(void* a, void* pc) { Instrumentation::Plain(a, N, true, pc); }
SY_PLAIN(1)
SY_PLAIN(2)
SY_PLAIN(4)
SY_PLAIN(8)
SY_PLAIN(16)
#undef SY_PLAIN

// Ranges (gcc's struct copies) are one access each: a point, then the copy.
SY_EXPORT void __tsan_read_range(void* a, unsigned long size) {
  Instrumentation::Plain(a, size, false, SY_PC);
}
SY_EXPORT void __tsan_write_range(void* a, unsigned long size) {
  Instrumentation::Plain(a, size, true, SY_PC);
}

// Memory intrinsics (clang 15 and later call these instead of memcpy and memset).
SY_EXPORT void* __tsan_memcpy(void* dst, const void* src, unsigned long size) {
  if (size != 0) {
    Instrumentation::Plain(src, size, false, SY_PC);
    Instrumentation::Plain(dst, size, true, SY_PC);
  }
  return std::memcpy(dst, src, size);
}
SY_EXPORT void* __tsan_memmove(void* dst, const void* src, unsigned long size) {
  if (size != 0) {
    Instrumentation::Plain(src, size, false, SY_PC);
    Instrumentation::Plain(dst, size, true, SY_PC);
  }
  return std::memmove(dst, src, size);
}
SY_EXPORT void* __tsan_memset(void* dst, int value, unsigned long size) {
  if (size != 0) Instrumentation::Plain(dst, size, true, SY_PC);
  return std::memset(dst, value, size);
}

// C++ virtual calls: the vtable pointer is an ordinary word of the object.
SY_EXPORT void __tsan_vptr_update(void** vptr, void* /*new_value*/) {
  Instrumentation::Plain(vptr, sizeof(void*), true, SY_PC);
}
SY_EXPORT void __tsan_vptr_read(void** vptr) {
  Instrumentation::Plain(vptr, sizeof(void*), false, SY_PC);
}

// Fences order nothing in a sequentially consistent, one-at-a-time execution.
SY_EXPORT void __tsan_atomic_thread_fence(int /*order*/) {}
SY_EXPORT void __tsan_atomic_signal_fence(int /*order*/) {}

namespace {

// Plain loads and stores: one host thread performs every atomic of a run, one at a time (and
// 16-byte __atomic builtins would need libatomic).
template <typename T>
T Load(const volatile T* a) {
  T v;
  std::memcpy(&v, const_cast<const T*>(a), sizeof(T));
  return v;
}
template <typename T>
void Store(volatile T* a, T v) {
  std::memcpy(const_cast<T*>(a), &v, sizeof(T));
}

// Tells the atomic observer (sim/instrumentation.h) what an atomic that was a point did.
// `sets_value`: a store, swap or compare-and-swap (not an arithmetic or bitwise fetch-op).
template <typename T>
[[gnu::always_inline]] inline void Performed(volatile T* a, AccessKind kind, bool sets_value,
                                             T before, T after, const void* pc) {
  Instrumentation::AtomicPerformed({const_cast<const T*>(a), sizeof(T), kind, sets_value,
                                    static_cast<uint64_t>(before), static_cast<uint64_t>(after),
                                    pc});
}

// One atomic read-modify-write: a point (a spin-wait iteration when it changes nothing), the
// operation, and the news that memory changed.
// `swap`: the operation is an exchange (the new value does not depend on the old).
template <typename T, typename Op>
[[gnu::always_inline]] inline T Rmw(volatile T* a, T v, Op op, bool swap, const void* pc) {
  // The value after the point is the one the operation sees; whether it will change memory is
  // decided on the value before the point only as a hint for spin detection, and checked again.
  const T before = Load(a);
  const bool point =
      Instrumentation::Atomic(const_cast<const T*>(a), sizeof(T), AccessKind::kReadModifyWrite,
                              op(before, v) != before, pc);
  const T old = Load(a);
  const T now = op(old, v);
  Store(a, now);
  if (now != old) Instrumentation::AtomicChanged();
  if (point) Performed(a, AccessKind::kReadModifyWrite, swap, old, now, pc);
  return old;
}

template <typename T>
[[gnu::always_inline]] inline bool Cas(volatile T* a, T* expected, T desired, const void* pc) {
  const T before = Load(a);
  const bool point =
      Instrumentation::Atomic(const_cast<const T*>(a), sizeof(T), AccessKind::kReadModifyWrite,
                              before == *expected && desired != before, pc);
  const T old = Load(a);
  if (old == *expected) {
    Store(a, desired);
    if (desired != old) Instrumentation::AtomicChanged();
    if (point) Performed(a, AccessKind::kReadModifyWrite, true, old, desired, pc);
    return true;
  }
  *expected = old;
  if (point) Performed(a, AccessKind::kReadModifyWrite, true, old, old, pc);
  return false;
}

}  // namespace

#define SY_ATOMIC(N, T)                                                                           \
  SY_EXPORT T __tsan_atomic##N##_load(const volatile T* a, int) {                                 \
    Instrumentation::Atomic(const_cast<const T*>(a), sizeof(T), AccessKind::kRead, false, SY_PC); \
    return Load(a);                                                                               \
  }                                                                                               \
  SY_EXPORT void __tsan_atomic##N##_store(volatile T* a, T v, int) {                              \
    const bool point = Instrumentation::Atomic(const_cast<const T*>(a), sizeof(T),                \
                                               AccessKind::kWrite, true, SY_PC);                  \
    const T old = Load(a);                                                                        \
    Store(a, v);                                                                                  \
    if (old != v) Instrumentation::AtomicChanged();                                               \
    if (point) Performed(a, AccessKind::kWrite, true, old, v, SY_PC);                             \
  }                                                                                               \
  SY_EXPORT T __tsan_atomic##N##_exchange(volatile T* a, T v, int) {                              \
    return Rmw(                                                                                   \
        a, v, [](T, T x) { return x; }, true, SY_PC);                                             \
  }                                                                                               \
  SY_EXPORT T __tsan_atomic##N##_fetch_add(volatile T* a, T v, int) {                             \
    return Rmw(                                                                                   \
        a, v, [](T o, T x) { return static_cast<T>(o + x); }, false, SY_PC);                      \
  }                                                                                               \
  SY_EXPORT T __tsan_atomic##N##_fetch_sub(volatile T* a, T v, int) {                             \
    return Rmw(                                                                                   \
        a, v, [](T o, T x) { return static_cast<T>(o - x); }, false, SY_PC);                      \
  }                                                                                               \
  SY_EXPORT T __tsan_atomic##N##_fetch_and(volatile T* a, T v, int) {                             \
    return Rmw(                                                                                   \
        a, v, [](T o, T x) { return static_cast<T>(o & x); }, false, SY_PC);                      \
  }                                                                                               \
  SY_EXPORT T __tsan_atomic##N##_fetch_or(volatile T* a, T v, int) {                              \
    return Rmw(                                                                                   \
        a, v, [](T o, T x) { return static_cast<T>(o | x); }, false, SY_PC);                      \
  }                                                                                               \
  SY_EXPORT T __tsan_atomic##N##_fetch_xor(volatile T* a, T v, int) {                             \
    return Rmw(                                                                                   \
        a, v, [](T o, T x) { return static_cast<T>(o ^ x); }, false, SY_PC);                      \
  }                                                                                               \
  SY_EXPORT T __tsan_atomic##N##_fetch_nand(volatile T* a, T v, int) {                            \
    return Rmw(                                                                                   \
        a, v, [](T o, T x) { return static_cast<T>(~(o & x)); }, false, SY_PC);                   \
  }                                                                                               \
  SY_EXPORT int __tsan_atomic##N##_compare_exchange_strong(volatile T* a, T* c, T v, int, int) {  \
    return Cas(a, c, v, SY_PC);                                                                   \
  }                                                                                               \
  SY_EXPORT int __tsan_atomic##N##_compare_exchange_weak(volatile T* a, T* c, T v, int, int) {    \
    return Cas(a, c, v, SY_PC);                                                                   \
  }                                                                                               \
  SY_EXPORT T __tsan_atomic##N##_compare_exchange_val(volatile T* a, T c, T v, int, int) {        \
    Cas(a, &c, v, SY_PC);                                                                         \
    return c;                                                                                     \
  }
SY_ATOMIC(8, uint8_t)
SY_ATOMIC(16, uint16_t)
SY_ATOMIC(32, uint32_t)
SY_ATOMIC(64, uint64_t)
SY_ATOMIC(128, unsigned __int128)
#undef SY_ATOMIC
