// Shared-state cells: kernel state that vCPUs, or a thread and an interrupt handler, share.
//
// Hand-placed preemption points miss every window their author did not foresee. A Cell<T> makes
// every read and write of a shared variable a point instead (in the spirit of loom's and Relacy's
// instrumented atomics): before the access, the simulator may run another vCPU, and delivers a
// pending interrupt when interrupts are on; the access itself is then recorded (cell, kind, vCPU,
// fiber) for partial-order reduction. Models keep reading like the kernel:
//
//   p->state = SLEEPING;                  // a point, then a write
//   if (p->state == RUNNABLE) ...         // a point, then a read
//   while (lk->locked.exchange(true)) ..  // amoswap: one point, one read-modify-write access
//   c->noff += 1;                         // one point, one read-modify-write access
//
// A compound assignment is one access (x86 has one instruction for it, and RISC-V models use it
// only on values no other vCPU writes at the same time); where the window inside an increment
// matters, write it as a read and a write.
//
// When accesses are not points:
//   - at --granularity=coarse, where the models' hand-placed points (Simulator::CoarsePoint) stand
//     in for them, as before cells existed;
//   - when no simulator is running (setting up a model, inspecting it after a run), and inside the
//     simulator's own work: invariant checkers and one-shot timer callbacks read cells freely.
//   - peek() and poke() never are: for ghost bookkeeping that the modelled kernel does not do
//     (markers, debugging output) and that must not perturb the schedule.
//
// A CpuCell is per-CPU state (xv6's struct cpu, a hart's CSRs) that only its own CPU and that
// CPU's interrupt handlers touch. Another vCPU running just before such an access is the same
// execution as it running at the next shared access, so an access is a point only when
// interrupts are on (an interrupt may arrive there), and is not reported to the observer
// otherwise. This keeps schedules dense in the choices that matter.
//
// Cell ids are given in construction order since the current Simulator was created, so they are
// the same in every execution of the same scenario (partial-order reduction compares accesses
// across executions) and never depend on addresses.
#ifndef SWITCHYARD_SIM_CELL_H_
#define SWITCHYARD_SIM_CELL_H_

#include <cstdint>
#include <type_traits>

#include "sim/simulator.h"

namespace switchyard::sim {

enum class CellScope : uint8_t { kShared, kCpu };

template <typename T, CellScope scope = CellScope::kShared>
class Cell {
  static_assert(std::is_trivially_copyable_v<T>, "a cell holds a machine word or a small struct");

 public:
  Cell() : value_{}, id_(Simulator::NewCellId()) {}
  Cell(T value) : value_(value), id_(Simulator::NewCellId()) {}  // NOLINT: reads like C
  // A copy is a new variable: it gets a new id and copying it is not an access.
  Cell(const Cell& other) : value_(other.value_), id_(Simulator::NewCellId()) {}
  [[gnu::always_inline]] Cell& operator=(const Cell& other) {
    return *this = static_cast<T>(other);
  }

  // A read: a point, then the load.
  [[gnu::always_inline]] operator T() const {  // NOLINT: reads like C
    Access(AccessKind::kRead);
    return value_;
  }
  // Always inlined, as every accessor here: the access's recorded code address must be in the
  // model's code (views/symbolize.h), not in this header.
  [[gnu::always_inline]] T operator->() const requires std::is_pointer_v<T> {
    return static_cast<T>(*this);
  }
  // A write: a point, then the store.
  [[gnu::always_inline]] Cell& operator=(T value) {
    Access(AccessKind::kWrite);
    Store(value);
    return *this;
  }
  // Atomic swap (RISC-V amoswap, x86 xchg): one access. Returns the old value.
  [[gnu::always_inline]] T exchange(T value) {
    Access(AccessKind::kReadModifyWrite);
    T old = value_;
    Store(value);
    return old;
  }
  // Compound assignments: one read-modify-write access each (see the header comment).
  template <typename U>
  [[gnu::always_inline]] Cell& operator+=(U delta) {
    Access(AccessKind::kReadModifyWrite);
    Store(static_cast<T>(value_ + delta));
    return *this;
  }
  template <typename U>
  [[gnu::always_inline]] Cell& operator-=(U delta) {
    Access(AccessKind::kReadModifyWrite);
    Store(static_cast<T>(value_ - delta));
    return *this;
  }
  [[gnu::always_inline]] T operator++(int) {
    T old = value_;
    *this += 1;
    return old;
  }
  [[gnu::always_inline]] Cell& operator++() { return *this += 1; }

  // Ghost access: no point, not recorded. Only for what the modelled kernel does not do.
  T peek() const { return value_; }
  void poke(T value) { value_ = value; }

  uint32_t id() const { return id_; }

 private:
  [[gnu::always_inline]] void Access(AccessKind kind) const {
    if constexpr (scope == CellScope::kShared) {
      Simulator::CellAccess(id_, kind);
    } else {
      Simulator::CpuCellAccess(id_, kind);
    }
  }
  // A store that changes the value may let a spinning vCPU through (Simulator::NoteStore).
  void Store(T value) {
    if (!Same(value_, value)) Simulator::CellChanged();
    value_ = value;
  }
  static bool Same(const T& a, const T& b) {
    if constexpr (std::is_scalar_v<T>) {
      return a == b;
    } else {
      return __builtin_memcmp(&a, &b, sizeof(T)) == 0;
    }
  }

  T value_;
  uint32_t id_;
};

template <typename T>
using CpuCell = Cell<T, CellScope::kCpu>;

}  // namespace switchyard::sim

#endif  // SWITCHYARD_SIM_CELL_H_
