// The xv6 model's invariants, checked by the simulator after every step, and its contract
// checks, made at the site where xv6's comments make each promise.
//
// Invariants (every step):
//   c-proc-agrees      the process a CPU thinks it runs (c->proc) is the thread its vCPU runs:
//                      the scheduler thread has c->proc == 0 (or p, while it holds p->lock
//                      around its swtch()), a process thread has c->proc == p.
//   state-consistency  for every process whose p->lock is free: RUNNING exactly when its thread
//                      is on a CPU; RUNNABLE, SLEEPING, USED, ZOMBIE and UNUSED on none. (While
//                      p->lock is held, its holder may be between the state change and swtch.)
//   runnable-context-saved  a RUNNABLE process's thread runs on no CPU, except on the CPU that
//                      holds its p->lock (yield() between the state change and swtch).
//   interrupts-off-while-holding  "interrupts must be off while holding a spinlock" (the comment
//                      on push_off): no CPU that holds a spinlock has interrupts enabled.
// Contracts (at their sites):
//   pop-off-restores-interrupts  "if interrupts are initially off, then push_off, pop_off leaves
//                      them off": after the outermost pop_off() interrupts are on exactly when
//                      they were before the outermost push_off() of that nesting.
//   intena-belongs-to-thread  "intena is a property of this kernel thread, not this CPU": after
//                      sched()'s swtch() returns, c->intena is what the thread had when it called
//                      sched().
//   user-mode-holds-no-locks  a CPU returns to user mode holding no spinlock, with noff == 0 and
//                      interrupts on.
//   lock-order         "wait_lock must be acquired before any p->lock".
//   sleep-holds-lock   sleep(chan, lk) is called holding lk.
//   unique-pids        allocproc() gives a pid no other live process has.
//   new-process-interruptible  a new process's first return to user mode (forkret ->
//                      usertrapret) leaves interrupts on.
// Interrupt delivery (at every step of user code, on the simulator's ghost record of who turned
// interrupts off: intr_off's call site and thread, or a trap's entry):
//   user-mode-interruptible  user code never runs with interrupts off; the message names the
//                      function, file:line and thread that turned them off.
//   timer-delivered    (liveness) a CPU's timer interrupt is not left pending for more than
//                      kTimerPendingTicksMax periods while the CPU runs user code.
// Reported elsewhere: xv6's own panics ("panic: SITE"), wrong exit statuses ("exit-status"),
// slots left over when the workload ends ("no-leaked-procs"), and the simulator's generic
// switch checks and liveness outcomes.
//
// This file is compiled without instrumentation (plain_srcs in BUILD): contract checks are
// ghost code and must not add points, and the per-step invariants run on the hot path.
#include "absl/strings/str_cat.h"
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

std::vector<std::string> Kernel::InvariantNames() {
  return {"swtch-restores-registers (--swtch=emulated)",
          "c-proc-agrees",
          "state-consistency",
          "runnable-context-saved",
          "interrupts-off-while-holding",
          "pop-off-restores-interrupts (contract)",
          "intena-belongs-to-thread (contract)",
          "user-mode-holds-no-locks (contract)",
          "lock-order (contract)",
          "sleep-holds-lock (contract)",
          "unique-pids (contract)",
          "new-process-interruptible (contract)",
          "user-mode-interruptible (contract)",
          "timer-delivered (liveness, contract)",
          "panic: SITE (xv6's own panics)",
          "exit-status",
          "no-leaked-procs",
          "one-thread-per-core",
          "resume-saved-context",
          "switch-saves-running-thread",
          "stack-reused-while-running",
          "no-progress (liveness)",
          "deadlock (liveness)",
          "step-budget (liveness)"};
}

void Kernel::AddInvariants() {
  // One pass over the CPUs. interrupts-off-while-holding is a contract (see Config).
  sim_.AddInvariants({"c-proc-agrees", "interrupts-off-while-holding"}, [this](std::string* why) {
    for (int i = 0; i < config_.ncpu; ++i) {
      const sim::Fiber* running = sim_.CurrentOn(i);
      uint32_t id = sim_.FiberId(running);
      proc* thread = id < proc_of_fiber_.size() ? proc_of_fiber_[id] : nullptr;
      proc* p = cpus_[i].proc;
      // The scheduler sets c->proc just before its swtch() and clears it just after,
      // holding p->lock throughout: inside that window it runs with c->proc == p.
      bool scheduler_window =
          thread == nullptr && p != nullptr && p->lock.locked && p->lock.cpu == &cpus_[i];
      if (p != thread && !scheduler_window) {
        *why = absl::StrCat("cpu", i, " runs ", sim_.FiberName(running), " but its c->proc is ",
                            p == nullptr ? std::string("0") : absl::StrCat("pid ", p->pid));
        return 0;
      }
      if (config_.check_contracts && locks_held_[i] != 0 && sim_.InterruptsEnabledOn(i)) {
        *why = absl::StrCat("cpu", i, " holds ", locks_held_[i],
                            " spinlock(s) with interrupts enabled: an interrupt handler that "
                            "takes one of them spins forever");
        return 1;
      }
    }
    return -1;
  });
  // One pass over the process table.
  sim_.AddInvariants({"state-consistency", "runnable-context-saved"}, [this](std::string* why) {
    for (int i = 0; i < config_.nproc; ++i) {
      const proc& p = proc_[i];
      if (p.context == nullptr) continue;
      const int on = sim_.RunningOn(p.context);
      const procstate state = p.state;
      const bool locked = p.lock.locked;
      if (!locked && (state == RUNNING) != (on >= 0)) {
        *why = state == RUNNING ? absl::StrCat("pid ", p.pid, " is RUNNING but on no CPU")
                                : absl::StrCat("pid ", p.pid, " is ", StateName(state),
                                               " but its thread runs on cpu", on);
        return 0;
      }
      if (state == RUNNABLE && on >= 0 && !(locked && p.lock.cpu == &cpus_[on])) {
        *why = absl::StrCat("pid ", p.pid,
                            " is RUNNABLE, so any CPU may run it, but its thread still runs "
                            "on cpu",
                            on, " without holding its p->lock");
        return 1;
      }
    }
    return -1;
  });
}

ThreadGhost& Kernel::ghost() {
  uint32_t id = sim_.FiberId(sim_.current());
  if (ghost_.size() <= id) ghost_.resize(id + 1);
  return ghost_[id];
}

void Kernel::CheckPopOffRestored(bool intr_after) {
  if (!config_.check_contracts) return;
  bool before = intr_before_push_off_[cpuid()];
  if (intr_after == before) return;
  proc* p = mycpu()->proc;
  sim_.Fail("pop-off-restores-interrupts",
            absl::StrCat("the outermost pop_off() on cpu", cpuid(),
                         p != nullptr ? absl::StrCat(" in pid ", p->pid) : "",
                         " leaves interrupts ", intr_after ? "on" : "off", ", but they were ",
                         before ? "on" : "off", " before the matching push_off()"));
}

void Kernel::CheckIntenaRestored() {
  if (!config_.check_contracts) return;
  int now = mycpu()->intena;
  int want = ghost().intena_at_sched;
  if (now == want) return;
  proc* p = mycpu()->proc;
  sim_.Fail("intena-belongs-to-thread",
            absl::StrCat("pid ", p != nullptr ? p->pid : 0, " returns from sched() on cpu", cpuid(),
                         " with c->intena=", now, ", but it called sched() with intena=", want,
                         ": it inherits the scheduler's interrupt state"));
}

void Kernel::CheckUserModeEntry(bool interrupts_on) {
  if (!config_.check_contracts) return;
  const cpu* c = mycpu();
  if (locks_held_[cpuid()] == 0 && c->noff == 0 && interrupts_on) return;
  proc* p = c->proc;
  sim_.Fail("user-mode-holds-no-locks",
            absl::StrCat("pid ", p != nullptr ? p->pid : 0, " returns to user mode on cpu", cpuid(),
                         " holding ", locks_held_[cpuid()], " spinlock(s), noff=", c->noff,
                         ", interrupts ", interrupts_on ? "on" : "off"));
}

void Kernel::CheckNewProcessEntry() {
  if (!config_.check_contracts || sim_.intr_get()) return;
  proc* p = myproc();
  const sim::Simulator::InterruptsOff& off = sim_.InterruptsOffBy(cpuid());
  sim_.Fail("new-process-interruptible",
            absl::StrCat("new pid ", p != nullptr ? p->pid : 0,
                         " returns to user mode for the first time on cpu", cpuid(),
                         " with interrupts off (turned off in ", off.Where(), " by ",
                         ThreadName(off.fiber), ")"));
}

std::string Kernel::ThreadName(uint32_t fiber) const {
  const proc* p = fiber < proc_of_fiber_.size() ? proc_of_fiber_[fiber] : nullptr;
  if (p == nullptr) return absl::StrCat("a scheduler thread (fiber ", fiber, ")");
  return absl::StrCat("proc[", p - proc_, "]'s kernel thread");
}

// Before every step of user code (and its ecall): interrupts are on.
void Kernel::CheckUserCode() {
  if (!config_.check_contracts) return;
  const int c = cpuid();
  const proc* p = mycpu()->proc;
  if (!sim_.intr_get()) {
    const sim::Simulator::InterruptsOff& off = sim_.InterruptsOffBy(c);
    std::string message =
        absl::StrCat("pid ", p != nullptr ? p->pid : 0, " runs user code on cpu", c,
                     " with interrupts off: the timer cannot preempt it; they were turned off in ",
                     off.Where(), " by ", ThreadName(off.fiber));
    sim_.Fail("user-mode-interruptible", std::move(message));
  }
}

// After a step of user code: the step delivered any pending interrupt if interrupts were on.
void Kernel::CheckTimerDelivered() {
  if (!config_.check_contracts) return;
  const int c = cpuid();
  const proc* p = mycpu()->proc;
  const uint64_t since = sim_.TimerPendingSince(c);
  const uint64_t bound = kTimerPendingTicksMax * config_.timer_period;
  if (since != UINT64_MAX && sim_.now() - since > bound) {
    std::string message =
        absl::StrCat("cpu", c, "'s timer interrupt has been pending since time ", since, " (",
                     sim_.now() - since, " ticks, more than ", bound, ") while pid ",
                     p != nullptr ? p->pid : 0, " runs user code");
    sim_.FailLiveness("timer-delivered", std::move(message));
  }
}

void Kernel::CheckLockOrder(const spinlock* lk) {
  if (!config_.check_contracts) return;
  if (lk != &wait_lock_) return;
  for (int i = 0; i < config_.nproc; ++i) {
    const spinlock& held = proc_[i].lock;
    if (!held.locked || held.cpu != mycpu()) continue;
    sim_.Fail("lock-order", absl::StrCat("cpu", cpuid(), " acquires wait_lock while holding the ",
                                         "p->lock of pid ", proc_[i].pid,
                                         "; wait_lock must be acquired before any p->lock"));
  }
}

void Kernel::CheckSleepHoldsLock(const spinlock* lk) {
  if (!config_.check_contracts) return;
  if (lk->locked && lk->cpu == mycpu()) return;
  sim_.Fail("sleep-holds-lock", absl::StrCat("sleep() on cpu", cpuid(), " is called without ",
                                             "holding its lock '", lk->name, "'"));
}

void Kernel::CheckUniquePid(const proc* p) {
  if (!config_.check_contracts) return;
  int pid = p->pid;
  for (int i = 0; i < config_.nproc; ++i) {
    const proc& other = proc_[i];
    if (&other == p || other.state == UNUSED || other.pid != pid) continue;
    sim_.Fail("unique-pids", absl::StrCat("allocproc() gives pid ", pid, " to proc[", p - proc_,
                                          "], but proc[", i, "] has it too"));
  }
}

// The workload's end (init's last wait() returned): every process but init was reaped.
void Kernel::CheckWorkloadDone() {
  for (int i = 0; i < config_.nproc; ++i) {
    const proc& p = proc_[i];
    if (&p == initproc_ || p.state == UNUSED) continue;
    std::string message = absl::StrCat("the workload ended but proc[", i, "] (pid ", p.pid, ") is ",
                                       StateName(p.state), "; a zombie or a leaked slot");
    sim_.Fail("no-leaked-procs", std::move(message));
  }
  sim_.Finish();
}

}  // namespace switchyard::xv6
