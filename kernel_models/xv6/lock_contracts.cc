#include "kernel_models/xv6/lock_contracts.h"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/check.h"

namespace switchyard::xv6 {
namespace {

using sim::Instrumentation;

// The run whose contracts the platform's user-entry hook reaches (one run at a time).
LockContracts* active = nullptr;

// The code range of the function at `entry`, from its ELF symbol's size.
bool FunctionRange(void* entry, uintptr_t* begin, uintptr_t* end) {
  Dl_info info;
  ElfW(Sym)* symbol = nullptr;  // dladdr1 fills it
  if (entry == nullptr ||
      dladdr1(entry, &info, reinterpret_cast<void**>(&symbol), RTLD_DL_SYMENT) == 0 ||
      symbol == nullptr || symbol->st_size == 0) {
    return false;
  }
  *begin = reinterpret_cast<uintptr_t>(entry);
  *end = *begin + symbol->st_size;
  return true;
}

std::string Code(const void* pc) {
  return pc != nullptr ? Instrumentation::DescribeCode(pc) : "an unknown caller";
}

}  // namespace

LockLayout LockLayout::Find(const sim::Module& m) {
  LockLayout l;
  l.module = &m;
  const auto* layout = static_cast<const unsigned long*>(m.Symbol("xv6_layout"));
  if (layout == nullptr || layout[XV6_LAYOUT_ENTRIES] < XV6_LAYOUT_COUNT) {
    l.skipped.push_back("every spin-lock contract (the module has no xv6_layout of the platform)");
    return l;
  }
  // The tree's sizes and offsets, whatever contracts it can have (--swtch=1 needs them too).
  l.nproc = static_cast<int>(layout[XV6_LAYOUT_NPROC]);
  l.sizeof_proc = layout[XV6_LAYOUT_SIZEOF_PROC];
  l.proc_lock = layout[XV6_LAYOUT_PROC_LOCK];
  l.proc_pid = layout[XV6_LAYOUT_PROC_PID];
  l.lock_locked = layout[XV6_LAYOUT_LOCK_LOCKED];
  l.sizeof_cpu = layout[XV6_LAYOUT_SIZEOF_CPU];
  l.sizeof_spinlock = layout[XV6_LAYOUT_SIZEOF_SPINLOCK];
  if (layout[XV6_LAYOUT_LOCK_CPU] != static_cast<unsigned long>(-1)) {
    l.lock_cpu = layout[XV6_LAYOUT_LOCK_CPU];
  }
  l.proc_state = layout[XV6_LAYOUT_PROC_STATE];
  l.proc_chan = layout[XV6_LAYOUT_PROC_CHAN];
  l.proc_killed = layout[XV6_LAYOUT_PROC_KILLED];
  l.proc_xstate = layout[XV6_LAYOUT_PROC_XSTATE];
  l.proc_parent = layout[XV6_LAYOUT_PROC_PARENT];
  l.proc_context = layout[XV6_LAYOUT_PROC_CONTEXT];
  l.cpu_proc = layout[XV6_LAYOUT_CPU_PROC];
  l.cpu_context = layout[XV6_LAYOUT_CPU_CONTEXT];
  l.cpu_noff = layout[XV6_LAYOUT_CPU_NOFF];
  l.cpu_intena = layout[XV6_LAYOUT_CPU_INTENA];
  l.running = static_cast<int>(layout[XV6_LAYOUT_RUNNING]);
  if (const auto* ncpu = static_cast<const int*>(m.Symbol("xv6_ncpu")); ncpu != nullptr) {
    l.ncpu = *ncpu;
  }
  l.proc = reinterpret_cast<uintptr_t>(m.Symbol("proc"));
  l.cpus = reinterpret_cast<uintptr_t>(m.Symbol("cpus"));
  l.context_ra = layout[XV6_LAYOUT_CONTEXT_RA];
  l.context_sp = layout[XV6_LAYOUT_CONTEXT_SP];
  l.sizeof_context = layout[XV6_LAYOUT_SIZEOF_CONTEXT];
  if (!FunctionRange(m.Symbol("acquire"), &l.acquire_begin, &l.acquire_end) ||
      !FunctionRange(m.Symbol("release"), &l.release_begin, &l.release_end)) {
    l.skipped.push_back(
        "lock-order, no-lock-held-in-user-mode, interrupts-off-while-holding-spinlock, "
        "release-by-non-owner and release-clears-owner (the tree defines no acquire() or no "
        "release(), which the ghost record of lock ownership watches)");
    return l;
  }
  if (!FunctionRange(m.Symbol("push_off"), &l.push_off_begin, &l.push_off_end) ||
      !FunctionRange(m.Symbol("pop_off"), &l.pop_off_begin, &l.pop_off_end)) {
    l.push_off_begin = l.push_off_end = l.pop_off_begin = l.pop_off_end = 0;
    l.skipped.push_back(
        "push-off-disables-interrupts and pop-off-restores-interrupts (the tree defines no "
        "push_off() or no pop_off())");
  }
  l.enabled = true;
  l.wait_lock = reinterpret_cast<uintptr_t>(m.Symbol("wait_lock"));
  if (l.wait_lock == 0 || l.proc == 0) {
    l.skipped.push_back(
        "lock-order (the tree has no `wait_lock`: xv6 before 2021 orders wait() against exit() "
        "with the parent's p->lock instead)");
    l.wait_lock = 0;
  }
  if (l.proc == 0) {
    l.skipped.push_back("guarded-field-under-lock (the tree has no global `proc` array)");
  } else if (l.wait_lock == 0) {
    l.skipped.push_back(
        "guarded-field-under-lock for p->parent (the tree has no `wait_lock`, which guards it "
        "from 2021 on)");
  }
  if (l.cpus == 0 || l.ncpu == 0) {
    l.skipped.push_back("per-cpu-state-by-own-cpu (the tree has no global `cpus` array)");
  }
  if (l.lock_cpu == SIZE_MAX || l.cpus == 0) {
    l.skipped.push_back("release-clears-owner (struct spinlock has no field `cpu`)");
    l.lock_cpu = SIZE_MAX;
  }
  return l;
}

LockContracts::LockContracts(const LockLayout& layout, sim::Simulator& sim, bool check_owner_field,
                             bool every_slot)
    : layout_(layout),
      sim_(sim),
      check_owner_field_(check_owner_field),
      every_slot_(every_slot),
      held_(sim.cpus()),
      running_(sim.cpus(), -1),
      threads_(layout.nproc),
      nesting_(sim.cpus()),
      on_cpu_(layout.nproc, -1),
      dirty_slots_((layout.nproc + 63) / 64, ~uint64_t{0}) {
  SY_CHECK(layout.enabled);
  SY_CHECK(active == nullptr);
  active = this;
  Instrumentation::SetAtomicObserver(&LockContracts::Observe, this);
  // Told only of what they check (an access elsewhere, a function other than push_off() and
  // pop_off(), costs the hooks no call): cpus[] and proc[], push_off() and pop_off().
  std::vector<Instrumentation::Range> data, code;
  if (layout.cpus_end() > layout.cpus) data.push_back({layout.cpus, layout.cpus_end()});
  if (layout.proc_end() > layout.proc) data.push_back({layout.proc, layout.proc_end()});
  if (!data.empty()) Instrumentation::SetAccessObserver(&LockContracts::ObserveAccess, this, data);
  if (layout.push_off_begin < layout.push_off_end) {
    code.push_back({layout.push_off_begin, layout.push_off_end});
  }
  if (layout.pop_off_begin < layout.pop_off_end) {
    code.push_back({layout.pop_off_begin, layout.pop_off_end});
  }
  if (layout.push_off_begin != 0 && !code.empty()) {
    Instrumentation::SetFunctionObserver(&LockContracts::ObserveFunction, this, code);
  }
}

LockContracts::~LockContracts() {
  Instrumentation::SetAtomicObserver(nullptr, nullptr);
  Instrumentation::SetAccessObserver(nullptr, nullptr);
  Instrumentation::SetFunctionObserver(nullptr, nullptr);
  active = nullptr;
}

void LockContracts::AddInvariants() {
  sim_.AddInvariant("interrupts-off-while-holding-spinlock", [this](std::string* why) {
    for (int cpu = 0; cpu < sim_.cpus(); ++cpu) {
      if (held_[cpu].empty() || !sim_.InterruptsEnabledOn(cpu)) continue;
      *why = absl::StrCat("cpu", cpu, " has interrupts on while it holds ", Held(held_[cpu].back()),
                          ": an interrupt handler on cpu", cpu,
                          " that takes the same lock would spin forever");
      return false;
    }
    return true;
  });
  if (!layout_.swtch_hook || layout_.cpus == 0 || layout_.proc == 0) return;
  sim_.AddInvariant("cpu-proc-agrees", [this](std::string* why) { return CpuProcAgrees(why); });
}

bool LockContracts::CpuProcAgrees(std::string* why) {
  if (!cpu_proc_dirty_) return true;
  const LockLayout& l = layout_;
  auto proc_of = [this](uintptr_t p) -> int {  // the slot c->proc names; -1: null; -2: elsewhere
    if (p == 0) return -1;
    const int slot = SlotAt(p, 0);
    return slot >= 0 ? slot : -2;
  };
  auto lock_of = [&l](int slot) { return l.proc + slot * l.sizeof_proc + l.proc_lock; };
  for (int cpu = 0; cpu < sim_.cpus(); ++cpu) {
    uintptr_t field = 0;  // the tree's c->proc, checked
    std::memcpy(&field, reinterpret_cast<const void*>(l.cpus + cpu * l.sizeof_cpu + l.cpu_proc),
                sizeof field);
    const int named = proc_of(field);
    const int slot = running_[cpu];
    if (slot >= 0 && named != slot) {
      *why = absl::StrCat("cpu", cpu, " runs ", ThreadOf(cpu), ", but its c->proc ",
                          named == -1 ? std::string("is null")
                          : named == -2
                              ? std::string("points outside proc[]")
                              : absl::StrCat("names proc[", named, "] (pid ", PidOf(named), ")"));
      return false;
    }
    if (slot < 0 && named != -1 && (named == -2 || !Holds(cpu, lock_of(named)))) {
      *why = absl::StrCat(
          "cpu", cpu, " runs its scheduler with c->proc ",
          named == -2 ? std::string("pointing outside proc[]")
                      : absl::StrCat("naming proc[", named, "] (pid ", PidOf(named), ")"),
          named == -2 ? "" : ", whose p->lock it does not hold",
          ": once the process is runnable again, another CPU can run it while this CPU still "
          "names it (the scheduler must clear c->proc after swtch() returns)");
      return false;
    }
  }
  // Which vCPU runs each slot's thread (-1: none), from the record; then, for each slot written,
  // or whose lock or thread changed, since the check last held (in slot order, so that the first
  // disagreeing slot is reported as a scan of all would), the cheap comparison first, and the
  // lock record only for a slot that disagrees (this runs after most steps).
  for (int slot : last_on_cpu_) on_cpu_[slot] = -1;
  last_on_cpu_.clear();
  for (int cpu = 0; cpu < sim_.cpus(); ++cpu) {
    if (running_[cpu] >= 0) {
      on_cpu_[running_[cpu]] = cpu;
      last_on_cpu_.push_back(running_[cpu]);
    }
  }
  if (every_slot_) std::fill(dirty_slots_.begin(), dirty_slots_.end(), ~uint64_t{0});
  for (size_t word = 0; word < dirty_slots_.size(); ++word) {
    for (uint64_t bits = dirty_slots_[word]; bits != 0; bits &= bits - 1) {
      const int slot = static_cast<int>(word * 64) + __builtin_ctzll(bits);
      if (slot >= l.nproc) break;
      int state = 0;  // the tree's p->state, checked
      std::memcpy(&state,
                  reinterpret_cast<const void*>(l.proc + slot * l.sizeof_proc + l.proc_state),
                  sizeof state);
      const int on = on_cpu_[slot];
      if ((state == l.running) == (on >= 0)) continue;
      int holder = -1;
      // Mid-change, under p->lock: its release marks the slot again.
      if (HolderOf(lock_of(slot), &holder) != nullptr) continue;
      *why = state == l.running
                 ? absl::StrCat("proc[", slot, "] (pid ", PidOf(slot),
                                ") is RUNNING outside its p->lock, but no CPU runs its thread")
                 : absl::StrCat("cpu", on, " runs ", ThreadOf(on),
                                ", whose p->state is not RUNNING outside its p->lock");
      return false;
    }
  }
  std::fill(dirty_slots_.begin(), dirty_slots_.end(), 0);
  cpu_proc_dirty_ = false;
  return true;
}

void LockContracts::MarkSlotsIn(uintptr_t address, size_t size) {
  const LockLayout& l = layout_;
  if (!l.InProcs(address, size)) return;
  // One division: an access of a few bytes lies in one slot; a range goes on slot by slot.
  const uintptr_t first = address < l.proc ? l.proc : address;
  const uintptr_t end = std::min(address + size, l.proc_end());
  auto slot = static_cast<int>((first - l.proc) / l.sizeof_proc);
  for (uintptr_t base = l.proc + slot * l.sizeof_proc; base < end; base += l.sizeof_proc) {
    MarkSlot(slot++);
  }
}

void LockContracts::OnUserEntry(int cpu, int pid) {
  if (active != nullptr) active->UserEntry(cpu, pid);
}

void LockContracts::OnSwtch(const void* old, const void* next, int starts) {
  if (active != nullptr) active->Swtch(old, next, starts != 0);
}

void LockContracts::Swtch(const void* old, const void* next, bool starts) {
  cpu_proc_dirty_ = true;
  const int cpu = sim_.cpu();
  const int from = ProcSlotOfContext(old);
  const int to = ProcSlotOfContext(next);
  MarkSlot(running_[cpu]);  // the thread the record had on this vCPU, which may not be `from`
  MarkSlot(from);
  MarkSlot(to);
  // The interrupt state the outermost push_off() found goes with a process's thread: sched()
  // saves c->intena before swtch() and gives it back after. scheduler() does not: it takes the
  // CPU's as the process left it (and turns interrupts on itself), and a new process entering
  // forkret() takes the scheduler's.
  if (from >= 0) {
    threads_[from].has_found_on = true;
    threads_[from].found_on = nesting_[cpu].found_on;
    threads_[from].where = nesting_[cpu].where;
  }
  if (to >= 0 && starts) threads_[to] = Thread{};  // a new process in the slot
  if (to >= 0 && threads_[to].has_found_on) {
    nesting_[cpu].found_on = threads_[to].found_on;
    nesting_[cpu].where = threads_[to].where;
  }
  if (from >= 0) threads_[from].left = sim_.step();
  running_[cpu] = to;
  if (to < 0) return;
  Thread& t = threads_[to];
  if (t.cpu >= 0 && t.cpu != cpu) {
    t.moved_from = t.cpu;
    t.moved_to = cpu;
    t.moved_left = t.left;
    t.moved_at = sim_.step();
  }
  t.cpu = cpu;
  t.resumed = sim_.step();
}

int LockContracts::ProcSlotOfContext(const void* context) const {
  return SlotAt(reinterpret_cast<uintptr_t>(context), layout_.proc_context);
}

int LockContracts::PidOf(int slot) const {
  int pid = 0;  // the tree's field, read only to name the process in a message
  std::memcpy(
      &pid,
      reinterpret_cast<const void*>(layout_.proc + slot * layout_.sizeof_proc + layout_.proc_pid),
      sizeof pid);
  return pid;
}

bool LockContracts::Holds(int cpu, uintptr_t lock) const {
  for (const Holding& h : held_[cpu]) {
    if (h.lock == lock) return true;
  }
  return false;
}

std::string LockContracts::ThreadOf(int cpu) const {
  const int slot = running_[cpu];
  if (slot < 0) return absl::StrCat("cpu", cpu, "'s scheduler thread");
  const Thread& t = threads_[slot];
  std::string text = absl::StrCat("the kernel thread of proc[", slot, "] (pid ", PidOf(slot), ")");
  if (t.moved_from >= 0) {
    absl::StrAppend(&text, ", which ran on cpu", t.moved_from, " until step ", t.moved_left,
                    " and was resumed on cpu", t.moved_to, " at step ", t.moved_at);
    if (t.resumed != t.moved_at) {
      absl::StrAppend(&text, " (last switched to on cpu", t.cpu, " at step ", t.resumed, ")");
    }
  } else if (t.cpu >= 0) {
    absl::StrAppend(&text, ", which has run on cpu", t.cpu, " since step ", t.resumed);
  }
  return text;
}

void LockContracts::ObserveAccess(void* self, const Instrumentation::AccessEvent& event) {
  auto* contracts = static_cast<LockContracts*>(self);
  const auto a = reinterpret_cast<uintptr_t>(event.address);
  const LockLayout& l = contracts->layout_;
  if (event.write) {
    contracts->cpu_proc_dirty_ = true;  // into cpus[] or proc[]: the only ranges
    // A plain write of p->state without its p->lock is guarded-field-under-lock's finding first,
    // and one under the lock is followed by the release that marks the slot; marked here too, so
    // that cpu-proc-agrees does not depend on another contract's order.
    contracts->MarkSlotsIn(a, event.size);
  }
  if (event.write && l.InCpus(a, event.size)) {
    contracts->CheckCpuWrite(contracts->sim_.cpu(), event);
  }
  if (l.InProcs(a, event.size)) contracts->CheckProcAccess(contracts->sim_.cpu(), event);
}

void LockContracts::CheckCpuWrite(int cpu, const Instrumentation::AccessEvent& e) {
  const LockLayout& l = layout_;
  const auto a = reinterpret_cast<uintptr_t>(e.address);
  const uintptr_t first = a < l.cpus ? l.cpus : a;
  const auto index = static_cast<int>((first - l.cpus) / l.sizeof_cpu);
  if (index == cpu) return;
  // Fail() never returns and this fiber's frames are never unwound: only the moved-in message
  // may own memory when it is called.
  std::string why;
  {
    const size_t offset = (first - l.cpus) % l.sizeof_cpu;
    std::string field = absl::StrCat("+", offset);
    if (offset == l.cpu_noff) field = ".noff";
    if (offset == l.cpu_intena) field = ".intena";
    if (offset == l.cpu_proc) field = ".proc";
    if (offset >= l.cpu_context && offset < l.cpu_context + 14 * 8) field = ".context";
    why = absl::StrCat("cpu", cpu, " writes cpus[", index, "]", field, " at ", Code(e.pc),
                       ", running ", ThreadOf(cpu),
                       ": a CPU's struct cpu is written only by that CPU, so this thread used "
                       "a mycpu() it read on cpu",
                       index,
                       " (mycpu() is valid only while interrupts are off: an interrupt can move "
                       "the thread to another CPU)");
  }
  sim_.Fail("per-cpu-state-by-own-cpu", std::move(why));
}

void LockContracts::CheckProcAccess(int cpu, const Instrumentation::AccessEvent& e) {
  const LockLayout& l = layout_;
  const auto a = reinterpret_cast<uintptr_t>(e.address);
  const uintptr_t end = a + e.size;
  const uintptr_t first = a < l.proc ? l.proc : a;
  const auto slot = static_cast<int>((first - l.proc) / l.sizeof_proc);
  const uintptr_t base = l.proc + static_cast<uintptr_t>(slot) * l.sizeof_proc;
  struct Field {
    const char* name;
    size_t offset, size;
    bool parent;
  };
  const Field fields[] = {
      {"pid", l.proc_pid, sizeof(int), false},       {"state", l.proc_state, sizeof(int), false},
      {"chan", l.proc_chan, sizeof(void*), false},   {"killed", l.proc_killed, sizeof(int), false},
      {"xstate", l.proc_xstate, sizeof(int), false}, {"parent", l.proc_parent, sizeof(void*), true},
  };
  for (const Field& f : fields) {
    if (!(a < base + f.offset + f.size && base + f.offset < end)) continue;
    const uintptr_t own_lock = base + l.proc_lock;
    if (Holds(cpu, own_lock)) continue;
    if (f.parent && (l.wait_lock == 0 || Holds(cpu, l.wait_lock))) continue;
    if (!e.write && running_[cpu] == slot) continue;  // a process reads its own field
    std::string why = absl::StrCat(
        "cpu", cpu, e.write ? " writes " : " reads ", "proc[", slot, "].", f.name, " (pid ",
        PidOf(slot), ") at ", Code(e.pc), " without holding ",
        f.parent ? "wait_lock (or that proc's lock)" : Name(own_lock), ", running ", ThreadOf(cpu),
        ": ",
        f.parent ? "wait_lock must be held when using p->parent (xv6's proc.h)"
                 : "p->lock must be held when using p->state, p->chan, p->killed, p->xstate "
                   "and p->pid (xv6's proc.h); another CPU can change it meanwhile");
    sim_.Fail("guarded-field-under-lock", std::move(why));
  }
}

void LockContracts::ObserveFunction(void* self, bool entry, const void* pc) {
  static_cast<LockContracts*>(self)->OnFunction(entry, pc);
}

void LockContracts::OnFunction(bool entry, const void* pc) {
  const auto p = reinterpret_cast<uintptr_t>(pc);
  const LockLayout& l = layout_;
  const bool push = p >= l.push_off_begin && p < l.push_off_end;
  const bool pop = p >= l.pop_off_begin && p < l.pop_off_end;
  if (!push && !pop) return;
  const uint32_t fiber = sim_.current()->id;
  if (fiber >= push_found_on_.size()) {
    push_found_on_.resize(fiber + 1);
    pop_expects_on_.resize(fiber + 1);
  }
  const int cpu = sim_.cpu();
  Nesting& n = nesting_[cpu];
  if (push && entry) {
    // What push_off() finds, before it reads or changes anything (an interrupt taken before its
    // intr_off() may move the thread: the nesting is counted at the exit, on the CPU it is then).
    push_found_on_[fiber].push_back(sim_.InterruptsEnabledOn(cpu));
    return;
  }
  if (push) {
    if (push_found_on_[fiber].empty()) return;  // entered before the run's first point
    const bool found_on = push_found_on_[fiber].back();
    push_found_on_[fiber].pop_back();
    if (sim_.InterruptsEnabledOn(cpu)) {
      sim_.Fail("push-off-disables-interrupts",
                absl::StrCat("cpu", cpu, ": push_off() returns to ",
                             Code(Instrumentation::InnermostCaller()), " with interrupts on"));
    }
    if (n.depth++ == 0) {
      n.found_on = found_on;
      n.where = Instrumentation::InnermostCaller();
      n.step = sim_.step();
    }
    return;
  }
  if (entry) {
    // Interrupts are off from here until pop_off() turns them on (or it panics): the thread
    // cannot move before the nesting is counted down.
    bool expects_on = false;
    if (n.depth > 0 && --n.depth == 0) expects_on = n.found_on;
    pop_expects_on_[fiber].push_back(expects_on);
    return;
  }
  if (pop_expects_on_[fiber].empty()) return;
  const bool expects_on = pop_expects_on_[fiber].back();
  pop_expects_on_[fiber].pop_back();
  const bool on = sim_.InterruptsEnabledOn(cpu);
  if (on == expects_on) return;
  // Fail() never returns and this fiber's frames are never unwound: only the moved-in message
  // may own memory when it is called.
  std::string why;
  if (on) {
    why = absl::StrCat(
        "cpu", cpu, ": pop_off() returns to ", Code(Instrumentation::InnermostCaller()),
        " with interrupts on, but they must stay off: ",
        n.depth > 0 ? "push_off()s are still unmatched on this CPU"
                    : absl::StrCat("the outermost push_off() (called from ", Code(n.where), ") of ",
                                   ThreadOf(cpu), " found them off"));
  } else {
    why = absl::StrCat(
        "cpu", cpu, ": pop_off() returns to ", Code(Instrumentation::InnermostCaller()),
        " with interrupts off, but the outermost push_off() (called from ", Code(n.where), ") of ",
        ThreadOf(cpu), " found them on: this thread now runs with interrupts off for good");
  }
  sim_.Fail("pop-off-restores-interrupts", std::move(why));
}

void LockContracts::Observe(void* self, const Instrumentation::AtomicEvent& event) {
  static_cast<LockContracts*>(self)->OnAtomic(event);
}

void LockContracts::OnAtomic(const Instrumentation::AtomicEvent& e) {
  // Any atomic in cpus[] or proc[] (p->lock, and c->proc or p->state if a tree writes them
  // atomically) may change what cpu-proc-agrees reads.
  if (const auto a = reinterpret_cast<uintptr_t>(e.address);
      layout_.InCpus(a, e.size) || layout_.InProcs(a, e.size)) {
    cpu_proc_dirty_ = true;
    MarkSlotsIn(a, e.size);
  }
  const auto pc = reinterpret_cast<uintptr_t>(e.pc);
  const uintptr_t lock = reinterpret_cast<uintptr_t>(e.address) - layout_.lock_locked;
  if (pc >= layout_.acquire_begin && pc < layout_.acquire_end) {
    // A swap inside acquire() is an attempt; one that took the word from 0 is the acquire. The
    // lock lab's statistics (fetch_add on lk->n) are not swaps.
    if (e.kind != sim::AccessKind::kReadModifyWrite || !e.sets_value) return;
    const int cpu = sim_.cpu();
    if (lock == layout_.wait_lock && layout_.wait_lock != 0) {
      for (const Holding& h : held_[cpu]) {
        if (!IsProcLock(h.lock)) continue;
        std::string why = absl::StrCat(
            "cpu", cpu, " acquires wait_lock at ", Code(Instrumentation::InnermostCaller()),
            " while holding ", Held(h),
            ": wait_lock must be acquired before any p->lock (xv6's proc.c), or a parent in "
            "wait() and a child in exit() can deadlock");
        sim_.Fail("lock-order", std::move(why));
      }
    }
    if (e.before == 0 && e.after != 0) Acquired(cpu, lock, Instrumentation::InnermostCaller());
    return;
  }
  if (pc >= layout_.release_begin && pc < layout_.release_end &&
      e.kind == sim::AccessKind::kWrite && e.after == 0) {
    Released(sim_.cpu(), lock, Instrumentation::InnermostCaller());
  }
}

void LockContracts::Acquired(int cpu, uintptr_t lock, const void* where) {
  // A lock the record still gives to a CPU was freed by something that is not release() (a plain
  // store of 0): the new acquire is what the record keeps.
  int owner = -1;
  if (HolderOf(lock, &owner) != nullptr) {
    std::vector<Holding>& list = held_[owner];
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (it->lock == lock) {
        list.erase(it);
        break;
      }
    }
  }
  held_[cpu].push_back({lock, sim_.step(), where});
}

void LockContracts::Released(int cpu, uintptr_t lock, const void* where) {
  int owner = -1;
  const Holding* h = HolderOf(lock, &owner);
  if (owner != cpu) {
    std::string why = absl::StrCat("cpu", cpu, " releases ", Name(lock), " at ", Code(where),
                                   ", but the ghost record says ");
    if (h == nullptr) {
      absl::StrAppend(&why, "no CPU holds it");
    } else {
      absl::StrAppend(&why, "cpu", owner, " holds it (taken at ", Code(h->where), " at step ",
                      h->step, ")");
    }
    sim_.Fail("release-by-non-owner", std::move(why));
  }
  if (check_owner_field_ && layout_.lock_cpu != SIZE_MAX) {
    // The tree's own bookkeeping, checked against the ghost record (never used to decide who
    // holds what): release() clears lk->cpu before it frees the lock.
    uintptr_t named = 0;
    std::memcpy(&named, reinterpret_cast<const void*>(lock + layout_.lock_cpu), sizeof named);
    if (named != 0) {
      // Fail() never returns and this fiber's frames are never unwound: only the moved-in
      // message may own memory when it is called.
      std::string why;
      {
        std::string stale = "a pointer outside cpus[]";
        const uintptr_t end = layout_.cpus + sim::kMaxCpus * layout_.sizeof_cpu;
        if (named >= layout_.cpus && named < end && layout_.sizeof_cpu != 0) {
          const uintptr_t index = (named - layout_.cpus) / layout_.sizeof_cpu;
          stale = absl::StrCat("cpus[", index, "] (cpu", index, ")");
        }
        why = absl::StrCat("cpu", cpu, " frees ", Name(lock), " at ", Code(where),
                           " while its owner field `cpu` ", "still names ", stale,
                           ": once another CPU takes the lock, holding() on that CPU says "
                           "it holds it too (a stale owner; release() must clear lk->cpu "
                           "first)");
      }
      sim_.Fail("release-clears-owner", std::move(why));
    }
  }
  std::vector<Holding>& list = held_[cpu];
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->lock == lock) {
      list.erase(it);
      break;
    }
  }
}

void LockContracts::UserEntry(int cpu, int pid) {
  if (held_[cpu].empty()) return;
  std::string why = absl::StrCat("cpu", cpu, " returns to user mode in pid ", pid, " holding ");
  for (size_t i = 0; i < held_[cpu].size(); ++i) {
    absl::StrAppend(&why, i == 0 ? "" : "; ", Held(held_[cpu][i]));
  }
  sim_.Fail("no-lock-held-in-user-mode", std::move(why));
}

int LockContracts::SlotAt(uintptr_t address, size_t field) const {
  const LockLayout& l = layout_;
  if (l.proc == 0 || l.sizeof_proc == 0 || address < l.proc) return -1;
  const uintptr_t offset = address - l.proc;
  if (offset >= static_cast<uintptr_t>(l.nproc) * l.sizeof_proc ||
      offset % l.sizeof_proc != field) {
    return -1;
  }
  return static_cast<int>(offset / l.sizeof_proc);
}

bool LockContracts::IsProcLock(uintptr_t lock) const {
  return SlotAt(lock, layout_.proc_lock) >= 0;
}

const LockContracts::Holding* LockContracts::HolderOf(uintptr_t lock, int* cpu) const {
  for (int c = 0; c < static_cast<int>(held_.size()); ++c) {
    for (const Holding& h : held_[c]) {
      if (h.lock == lock) {
        *cpu = c;
        return &h;
      }
    }
  }
  *cpu = -1;
  return nullptr;
}

std::string LockContracts::Held(const Holding& h) const {
  return absl::StrCat(Name(h.lock), ", taken at ", Code(h.where), " at step ", h.step);
}

std::string LockContracts::Name(uintptr_t lock) const {
  const LockLayout& l = layout_;
  if (lock == l.wait_lock && l.wait_lock != 0) return "wait_lock";
  if (IsProcLock(lock)) {
    const auto index = static_cast<int>((lock - l.proc) / l.sizeof_proc);
    return absl::StrCat("proc[", index, "].lock (pid ", PidOf(index), ")");
  }
  // Globals by their symbol: a lock that is the whole variable by its name (tickslock), a lock
  // at the start of a larger one as its `.lock` (kmem.lock), anything else by the offset.
  Dl_info info;
  ElfW(Sym)* symbol = nullptr;  // dladdr1 fills it
  if (dladdr1(reinterpret_cast<void*>(lock), &info, reinterpret_cast<void**>(&symbol),
              RTLD_DL_SYMENT) != 0 &&
      info.dli_sname != nullptr && symbol != nullptr) {
    const uintptr_t offset = lock - reinterpret_cast<uintptr_t>(info.dli_saddr);
    if (offset < symbol->st_size) {
      if (offset == 0 && symbol->st_size <= l.sizeof_spinlock) return info.dli_sname;
      if (offset == 0) return absl::StrCat(info.dli_sname, ".lock");
      return absl::StrFormat("%s+0x%x", info.dli_sname, offset);
    }
  }
  if (l.module != nullptr && lock >= l.module->data_begin() &&
      lock - l.module->data_begin() < l.module->data_size()) {
    return absl::StrFormat("the spin lock at the module's data+0x%x",
                           lock - l.module->data_begin());
  }
  return "a spin lock outside the module's data (kalloc'd memory or a stack)";
}

}  // namespace switchyard::xv6
