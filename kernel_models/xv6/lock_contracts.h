// Contracts on any xv6-riscv tree (its spin locks, the fields they guard, the per-CPU state and
// push_off()/pop_off()), each judged against a ghost record that the checker keeps itself; first
// the record of lock ownership. A checker that derived ownership from `lk->cpu` or `lk->locked`
// would report whatever a bug wrote there (issue 24, item 3: a release() that forgets to clear
// `lk->cpu` once made the old checker report a lock-order inversion that never happened).
//
// The ghost record. The tree's acquire() and release() are found by symbol (their code ranges in
// the module, LockLayout); the checker watches the atomics themselves
// (Instrumentation::AtomicObserver):
//   - an atomic swap or compare-and-swap performed inside acquire() that takes a word from 0 to
//     non-zero is an acquire, by the vCPU that performed it, of the spin lock at that address;
//     any swap inside acquire() is an attempt;
//   - an atomic store of 0 inside release() (__sync_lock_release) is a release.
// Ownership belongs to the CPU, not the thread: xv6 hands p->lock across swtch between a process
// and its CPU's scheduler (sched() and scheduler()), always on one CPU.
//
// Contracts, each a violation of that name whose message names the CPU, the lock ("wait_lock",
// "kmem.lock", "proc[3].lock (pid 4)"), where it was taken and the code (module+offset and
// function; `replay --trace=interleaving` shows the file:line):
//   lock-order                  wait_lock is acquired (attempted) by a CPU that holds any
//                               proc[i].lock: xv6's proc.c says wait_lock "must be acquired before
//                               any p->lock". Needs `wait_lock` (trees from 2021 on).
//   no-lock-held-in-user-mode   a CPU returns to user mode holding a spin lock.
//   interrupts-off-while-holding-spinlock
//                               a vCPU has interrupts on while it holds a spin lock (an interrupt
//                               handler could then spin forever on its own thread's lock).
//   release-by-non-owner        release() frees a lock that the releasing CPU does not hold.
//   release-clears-owner        release() frees a lock while its owner field `lk->cpu` still
//                               names a CPU: once another CPU takes the lock, holding() on the
//                               old one says yes (a stale owner). Reads the field to CHECK it,
//                               never to decide who holds what. Needs `cpu` in struct spinlock.
// Contracts on the per-CPU state and on the fields the locks guard, judged against two more
// ghost records: which kernel thread each vCPU runs (from the platform's swtch hook: the context
// a switch resumes, never the tree's c->proc), and where each thread ran before (migrations):
//   per-cpu-state-by-own-cpu    a plain write into cpus[k] by a vCPU other than k. struct cpu is
//                               written only by its own CPU; a write from elsewhere is a stale
//                               mycpu() (issue 24, item 1: push_off() that reads mycpu() before
//                               intr_off(), interrupted there and resumed on another CPU). The
//                               message names the thread's migration.
//   guarded-field-under-lock    a plain access to p->pid, p->state, p->chan, p->killed or
//                               p->xstate of proc[i] by a CPU that does not hold proc[i].lock,
//                               or to p->parent by one that holds neither wait_lock nor
//                               proc[i].lock (xv6's proc.h: "p->lock must be held when using
//                               these", "wait_lock must be held when using this"; freeproc() on
//                               allocproc()'s failure path clears parent under p->lock alone,
//                               where no other process can reach the slot). The one access xv6
//                               documents as safe without the lock is a process reading its own
//                               fields (getpid's myproc()->pid; older trees' myproc()->killed):
//                               only the process itself changes those, or a reader sees an old or
//                               new value of a word. Issue 24, item 2: kill() comparing p->pid
//                               before acquire(&p->lock). The parent rule needs `wait_lock`.
// And the contract of push_off()/pop_off(), on a ghost record of their nesting per vCPU kept from
// their entries and exits (Instrumentation::FunctionObserver; found by symbol like acquire()),
// never from c->noff or c->intena:
//   push-off-disables-interrupts
//                               push_off() returns with interrupts on.
//   pop-off-restores-interrupts the pop_off() that matches a thread's outermost push_off() leaves
//                               interrupts as that push_off() found them, and an inner one
//                               leaves them off. The state found belongs to a process's thread,
//                               not the CPU: sched() carries it across swtch() (xv6's intena), so
//                               the record moves it with the thread at each switch (scheduler()
//                               keeps what the CPU has). Catches a sched() that does not give it
//                               back, and a push_off() that reads the state after turning
//                               interrupts off.
// A contract whose needs the tree does not meet is skipped, and LockLayout::skipped says why.
// Determinism: locks are told apart by address only within a run; names and messages use symbol
// names and offsets in the module, never raw addresses, and nothing iterates a hashed container.
#ifndef SWITCHYARD_KERNEL_MODELS_XV6_LOCK_CONTRACTS_H_
#define SWITCHYARD_KERNEL_MODELS_XV6_LOCK_CONTRACTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/instrumentation.h"
#include "sim/module.h"
#include "sim/simulator.h"

namespace switchyard::xv6 {

// xv6_layout[] of the platform (platform.c), by index.
enum LayoutIndex {
  XV6_LAYOUT_ENTRIES = 0,
  XV6_LAYOUT_NPROC,
  XV6_LAYOUT_SIZEOF_PROC,
  XV6_LAYOUT_PROC_LOCK,
  XV6_LAYOUT_PROC_PID,
  XV6_LAYOUT_LOCK_LOCKED,
  XV6_LAYOUT_LOCK_CPU,
  XV6_LAYOUT_SIZEOF_CPU,
  XV6_LAYOUT_SIZEOF_SPINLOCK,
  XV6_LAYOUT_PROC_STATE,
  XV6_LAYOUT_PROC_CHAN,
  XV6_LAYOUT_PROC_KILLED,
  XV6_LAYOUT_PROC_XSTATE,
  XV6_LAYOUT_PROC_PARENT,
  XV6_LAYOUT_PROC_CONTEXT,
  XV6_LAYOUT_CPU_PROC,
  XV6_LAYOUT_CPU_CONTEXT,
  XV6_LAYOUT_CPU_NOFF,
  XV6_LAYOUT_CPU_INTENA,
  XV6_LAYOUT_RUNNING,
  XV6_LAYOUT_CONTEXT_RA,
  XV6_LAYOUT_CONTEXT_SP,
  XV6_LAYOUT_SIZEOF_CONTEXT,
  XV6_LAYOUT_COUNT,
};

// What the contracts need from one loaded tree, found once when it is loaded.
struct LockLayout {
  uintptr_t acquire_begin = 0, acquire_end = 0;    // acquire()'s code; 0: not found
  uintptr_t release_begin = 0, release_end = 0;    // release()'s code; 0: not found
  uintptr_t push_off_begin = 0, push_off_end = 0;  // push_off()'s code; 0: not found
  uintptr_t pop_off_begin = 0, pop_off_end = 0;    // pop_off()'s code; 0: not found
  uintptr_t wait_lock = 0;                         // 0: the tree has none
  uintptr_t proc = 0;                              // proc[NPROC]
  int nproc = 0;
  size_t sizeof_proc = 0, proc_lock = 0, proc_pid = 0;
  size_t sizeof_spinlock = 0;
  size_t lock_locked = 0;      // offsetof(struct spinlock, locked)
  size_t lock_cpu = SIZE_MAX;  // offsetof(struct spinlock, cpu); SIZE_MAX: none
  uintptr_t cpus = 0;          // cpus[NCPU]
  size_t sizeof_cpu = 0;
  int ncpu = 0;
  // The fields the guarded-field contract watches, offsets in struct proc.
  size_t proc_state = 0, proc_chan = 0, proc_killed = 0, proc_xstate = 0, proc_parent = 0;
  size_t proc_context = 0;  // where a process's kernel thread is saved: identifies the thread
  // struct cpu's fields, for naming them in messages.
  size_t cpu_proc = 0, cpu_context = 0, cpu_noff = 0, cpu_intena = 0;
  int running = 0;  // the tree's RUNNING
  // struct context: where allocproc's ra and sp are, and its size (for --swtch=1).
  size_t context_ra = 0, context_sp = 0, sizeof_context = 0;
  // The ends of cpus[] and proc[] (0: the tree has none), and whether [a, a + size) overlaps them.
  uintptr_t cpus_end() const {
    return cpus == 0 ? 0 : cpus + static_cast<uintptr_t>(ncpu) * sizeof_cpu;
  }
  uintptr_t proc_end() const {
    return proc == 0 ? 0 : proc + static_cast<uintptr_t>(nproc) * sizeof_proc;
  }
  bool InCpus(uintptr_t a, size_t size) const {
    return cpus != 0 && a + size > cpus && a < cpus_end();
  }
  bool InProcs(uintptr_t a, size_t size) const {
    return proc != 0 && a + size > proc && a < proc_end();
  }
  bool swtch_hook = false;              // the platform tells each switch (LoadedTree sets it)
  const sim::Module* module = nullptr;  // for naming locks by symbol
  std::vector<std::string> skipped;     // "lock-order (the tree has no `wait_lock`...)"
  bool enabled = false;                 // acquire() and release() were found

  // Finds everything in `module`. Never fails: what is missing goes to `skipped`.
  static LockLayout Find(const sim::Module& module);
};

// The ghost record and the contracts for one run. REQUIRES: layout.enabled; one at a time.
// `check_owner_field` false leaves out release-clears-owner (tests: what the ghost record alone
// concludes when the tree's owner field is stale). `every_slot` true makes cpu-proc-agrees re-read
// every proc slot at every check (tests: the oracle of its incremental check).
class LockContracts {
 public:
  LockContracts(const LockLayout& layout, sim::Simulator& sim, bool check_owner_field = true,
                bool every_slot = false);
  ~LockContracts();
  LockContracts(const LockContracts&) = delete;
  LockContracts& operator=(const LockContracts&) = delete;

  // Adds interrupts-off-while-holding-spinlock to the simulator's invariants, and, when the
  // platform tells each switch (layout.swtch_hook), cpu-proc-agrees on the ghost record of which
  // thread each vCPU runs:
  //   - a vCPU running a process's thread has that process as c->proc;
  //   - a vCPU running its scheduler has c->proc null, or names a process whose p->lock it holds
  //     (scheduler() sets c->proc before swtch() and clears it after, under p->lock);
  //   - a process whose p->lock no CPU holds is RUNNING exactly when a vCPU runs its thread.
  // c->proc and p->state are read to CHECK them against the record, never to decide what runs.
  void AddInvariants();
  // The platform's hook: `cpu` returns to user mode running `pid` (no-lock-held-in-user-mode).
  static void OnUserEntry(int cpu, int pid);
  // The platform's hook: the running vCPU switches from kernel thread `old` to `next` (the
  // struct context pointers swtch() is given); `starts`: `next` starts a new thread.
  static void OnSwtch(const void* old, const void* next, int starts);

  // "wait_lock", "kmem.lock", "proc[3].lock (pid 4)", or "the spin lock at kernel.so+0x4a0".
  std::string Name(uintptr_t lock) const;

 private:
  struct Holding {
    uintptr_t lock;
    uint64_t step;      // when it was taken
    const void* where;  // acquire()'s caller
  };
  // push_off()/pop_off() nesting on one vCPU.
  struct Nesting {
    int depth = 0;                // push_off()s not yet matched
    bool found_on = false;        // what the outermost push_off() found (the thread's)
    const void* where = nullptr;  // the outermost push_off()'s caller
    uint64_t step = 0;            // when it returned
  };
  // A process's kernel thread (by proc slot): the interrupt state it carries across switches, and
  // where it ran (the ghost record of migrations).
  struct Thread {
    bool has_found_on = false;  // saved at a switch away: given back when it runs again
    bool found_on = false;
    const void* where = nullptr;
    int cpu = -1;          // the vCPU it runs or last ran on; -1: not since the run began
    uint64_t left = 0;     // the step it last switched away
    uint64_t resumed = 0;  // the step it was last switched to
    // Its last move to another vCPU (a stale mycpu() names the vCPU it moved from, however
    // often it was switched out and back since): from moved_from, which it left at moved_left,
    // to moved_to at step moved_at. moved_from -1: it has not moved.
    int moved_from = -1, moved_to = -1;
    uint64_t moved_left = 0, moved_at = 0;
  };
  static void Observe(void* self, const sim::Instrumentation::AtomicEvent& event);
  static void ObserveAccess(void* self, const sim::Instrumentation::AccessEvent& event);
  static void ObserveFunction(void* self, bool entry, const void* pc);
  void OnFunction(bool entry, const void* pc);
  void OnAtomic(const sim::Instrumentation::AtomicEvent& event);
  void Swtch(const void* old, const void* next, bool starts);
  // The proc slot whose field at offset `field` is at `address`; -1: none.
  int SlotAt(uintptr_t address, size_t field) const;
  int ProcSlotOfContext(const void* context) const;  // -1: a CPU's scheduler context
  bool Holds(int cpu, uintptr_t lock) const;
  bool CpuProcAgrees(std::string* why);
  // What cpu-proc-agrees reads has changed since it last held: a swtch (running_), a write into
  // cpus[] or proc[] (c->proc, p->state) or an atomic there (p->lock, the lock record). Set when
  // the hook sees the access, which is before the store lands; the store lands before the step
  // that checks invariants next. Until then the invariant holds as it did.
  bool cpu_proc_dirty_ = true;
  // Marks a proc slot for cpu-proc-agrees to re-read (dirty_slots_); -1: none.
  void MarkSlot(int slot) {
    if (slot >= 0) dirty_slots_[slot >> 6] |= uint64_t{1} << (slot & 63);
  }
  void MarkSlotsIn(uintptr_t address, size_t size);  // every slot [address, +size) overlaps
  int PidOf(int slot) const;  // the tree's p->pid, read only to name a process in messages
  // "the kernel thread of proc[3] (pid 4), which ran on cpu0 until step ...", or a scheduler
  std::string ThreadOf(int cpu) const;
  void CheckCpuWrite(int cpu, const sim::Instrumentation::AccessEvent& event);
  void CheckProcAccess(int cpu, const sim::Instrumentation::AccessEvent& event);
  void Acquired(int cpu, uintptr_t lock, const void* where);
  void Released(int cpu, uintptr_t lock, const void* where);
  void UserEntry(int cpu, int pid);
  bool IsProcLock(uintptr_t lock) const;
  const Holding* HolderOf(uintptr_t lock, int* cpu) const;
  std::string Held(const Holding& h) const;  // "proc[3].lock (pid 4), taken at ... at step 9"

  const LockLayout& layout_;
  sim::Simulator& sim_;
  const bool check_owner_field_;
  const bool every_slot_;
  std::vector<std::vector<Holding>> held_;  // by CPU, in the order taken
  std::vector<int> running_;                // by CPU: the proc slot whose thread runs; -1: none
  std::vector<Thread> threads_;             // by proc slot
  std::vector<Nesting> nesting_;            // by CPU
  mutable std::vector<int> on_cpu_;         // CpuProcAgrees' scratch: by slot, the vCPU or -1
  std::vector<int> last_on_cpu_;            // the slots on_cpu_ sets, to clear them
  // The proc slots written (any byte, by a plain access, a range or an atomic), or whose lock
  // record or thread changed, since cpu-proc-agrees last held (a bit per slot, all set when a run
  // begins), so that it re-reads those slots only: a real tree has NPROC 64, and its scheduler's
  // scan changes one p->lock at a time. The check's first loop (each CPU's c->proc) still runs
  // whenever cpu_proc_dirty_ is set. This relies on every write into proc[] reaching the hooks:
  // the tree's instrumented code, and the platform's memset/memmove, which report their ranges;
  // a write the hooks never see would stay unchecked until its slot is marked again.
  std::vector<uint64_t> dirty_slots_;
  // By fiber, innermost last: what push_off() found at its entry (a stack: an interrupt taken
  // inside push_off() before intr_off() runs a handler that nests its own), and what the pending
  // pop_off()s must leave.
  std::vector<std::vector<bool>> push_found_on_, pop_expects_on_;
};

}  // namespace switchyard::xv6

#endif  // SWITCHYARD_KERNEL_MODELS_XV6_LOCK_CONTRACTS_H_
