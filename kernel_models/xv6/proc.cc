// Processes, the per-CPU scheduler, sleep and wakeup (kernel/proc.c).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

// Return the current struct proc *, or zero if none.
proc* Kernel::myproc() {
  push_off();
  cpu* c = mycpu();
  proc* p = c->proc;
  pop_off();
  return p;
}

int Kernel::allocpid() {
  acquire(&pid_lock_);
  int pid = nextpid_;
  nextpid_ = nextpid_ + 1;
  release(&pid_lock_);
  return pid;
}

// Look in the process table for an UNUSED proc. If found, initialize state required to run in
// the kernel, and return with p->lock held. If there are no free procs, return 0.
proc* Kernel::allocproc() {
  proc* p;
  for (p = proc_; p < &proc_[config_.nproc]; p++) {
    acquire(&p->lock);
    if (p->state == UNUSED) goto found;
    release(&p->lock);
  }
  return nullptr;

found:
  p->pid = allocpid();
  CheckUniquePid(p);
  p->state = USED;
  p->trapframe_epc = 0;  // a new program starts at its first instruction
  // Set up new context to start executing at forkret, which returns to user space.
  if (p->context == nullptr) {
    p->context = sim_.CreateFiber(absl::StrCat("proc[", p - proc_, "]"), &Kernel::ForkretMain, p);
    sim::Simulator::Ghost checker_state;
    uint32_t id = sim_.FiberId(p->context);
    if (proc_of_fiber_.size() <= id) proc_of_fiber_.resize(id + 1, nullptr);
    proc_of_fiber_[id] = p;
  } else {
    sim_.ResetFiber(p->context, &Kernel::ForkretMain, p);
  }
  EmulateAllocContext(static_cast<int>(p - proc_));
  return p;
}

// free a proc structure and the data hanging from it. p->lock must be held.
void Kernel::freeproc(proc* p) {
  p->name[0] = 0;
  p->pid = 0;
  p->parent = nullptr;
  p->chan = nullptr;
  p->killed = 0;
  p->xstate = 0;
  user(p) = UserProcess{};
  p->state = UNUSED;
}

// Set up first user process.
void Kernel::userinit() {
  proc* p = allocproc();
  initproc_ = p;
  user(p).program = workload_.init_program();
  std::snprintf(p->name, sizeof p->name, "initcode");
  p->state = RUNNABLE;
  release(&p->lock);
}

// Create a new process, copying the parent. Sets up child kernel stack to return as if from
// fork() system call.
int Kernel::fork(const Program* program) {
  proc* p = myproc();
  proc* np = allocproc();
  if (np == nullptr) return -1;
  if (config_.bug == Bug::kForkRunnableBeforeProgram) {
    // The planted bug: the child is published as RUNNABLE before it is complete. Once np->lock
    // is released another CPU's scheduler may run it, and its user mode finds no program.
    int pid = np->pid;
    np->state = RUNNABLE;
    release(&np->lock);
    acquire(&wait_lock_);
    np->parent = p;
    release(&wait_lock_);
    user(np).program = program;
    std::snprintf(np->name, sizeof np->name, "%s", p->name);
    sim_.Note("fork", static_cast<uint64_t>(p->pid), static_cast<uint64_t>(pid));
    return pid;
  }
  // The child runs its own program (the model's stand-in for copying the parent's memory).
  user(np).program = program;
  std::snprintf(np->name, sizeof np->name, "%s", p->name);
  int pid = np->pid;
  release(&np->lock);

  acquire(&wait_lock_);
  np->parent = p;
  release(&wait_lock_);

  acquire(&np->lock);
  np->state = RUNNABLE;
  release(&np->lock);
  sim_.Note("fork", static_cast<uint64_t>(p->pid), static_cast<uint64_t>(pid));
  return pid;
}

// Pass p's abandoned children to init. Caller must hold wait_lock.
void Kernel::reparent(proc* p) {
  for (proc* pp = proc_; pp < &proc_[config_.nproc]; pp++) {
    if (pp->parent == p) {
      pp->parent = initproc_;
      wakeup(initproc_);
    }
  }
}

// Exit the current process. Does not return. An exited process remains in the zombie state
// until its parent calls wait().
void Kernel::exit(int status) {
  proc* p = myproc();
  if (p == initproc_) panic("init exiting");

  acquire(&wait_lock_);
  // Give any children to init.
  reparent(p);
  // Parent might be sleeping in wait().
  wakeup(p->parent);
  acquire(&p->lock);
  p->xstate = status;
  p->state = ZOMBIE;
  sim_.Note("exit", static_cast<uint64_t>(p->pid), static_cast<uint64_t>(status));
  release(&wait_lock_);

  // Jump into the scheduler, never to return.
  sched();
  panic("zombie exit");
}

// Wait for a child process to exit and return its pid. Return -1 if this process has no
// children.
int Kernel::wait(int* status) {
  proc* p = myproc();
  acquire(&wait_lock_);
  for (;;) {
    // Scan through table looking for exited children.
    bool havekids = false;
    for (proc* pp = proc_; pp < &proc_[config_.nproc]; pp++) {
      if (pp->parent == p) {
        // make sure the child isn't still in exit() or swtch().
        acquire(&pp->lock);
        havekids = true;
        if (pp->state == ZOMBIE) {
          // Found one.
          int pid = pp->pid;
          *status = pp->xstate;
          freeproc(pp);
          release(&pp->lock);
          release(&wait_lock_);
          return pid;
        }
        release(&pp->lock);
      }
    }
    // No point waiting if we don't have any children.
    if (!havekids || killed(p)) {
      release(&wait_lock_);
      return -1;
    }
    // Wait for a child to exit.
    sleep(p, &wait_lock_);  // DOC: wait-sleep
  }
}

// Per-CPU process scheduler. Each CPU calls scheduler() after setting itself up. Scheduler
// never returns. It loops, doing:
//  - choose a process to run.
//  - swtch to start running that process.
//  - eventually that process transfers control via swtch back to the scheduler.
void Kernel::scheduler() {
  cpu* c = mycpu();
  c->proc = nullptr;
  for (;;) {
    // The most recent process to run may have had interrupts turned off; enable them to avoid a
    // deadlock if all processes are waiting. Then turn them back off to avoid a possible race
    // between an interrupt and wfi.
    if (config_.bug != Bug::kSchedulerNoInterrupts) {
      sim_.intr_on();
      // An explicit point: between intr_on() and intr_off() no shared state is touched, but a
      // pending interrupt is taken at this instruction boundary.
      sim_.Point();
    }
    sim_.intr_off();

    bool found = false;
    for (proc* p = proc_; p < &proc_[config_.nproc]; p++) {
      acquire(&p->lock);
      if (p->state == RUNNABLE) {
        // Switch to chosen process. It is the process's job to release its lock and then
        // reacquire it before jumping back to us.
        p->state = RUNNING;
        c->proc = p;
        EmulateSwtch(config_.nproc + cpuid(), static_cast<int>(p - proc_));
        sim_.Switch(c->context, p->context);  // swtch(&c->context, &p->context)
        // With the planted bug "sched-releases-early" the process let go of p->lock before its
        // swtch back to us; take it again so the release below is balanced.
        if (config_.bug == Bug::kSchedReleasesEarly) acquire(&p->lock);

        // Process is done running for now. It should have changed its p->state before coming
        // back.
        if (config_.bug != Bug::kSchedulerKeepsCProc) c->proc = nullptr;
        found = true;
      }
      release(&p->lock);
    }
    if (!found) {
      // nothing to run; stop running on this core until an interrupt.
      sim_.WaitForInterrupt();  // wfi
    }
  }
}

// Switch to scheduler. Must hold only p->lock and have changed proc->state. Saves and restores
// intena because intena is a property of this kernel thread, not this CPU.
void Kernel::sched() {
  proc* p = myproc();
  if (!holding(&p->lock)) panic("sched p->lock");
  if (mycpu()->noff != 1) panic("sched locks");
  if (p->state == RUNNING) panic("sched running");
  if (sim_.intr_get()) panic("sched interruptible");

  int intena = mycpu()->intena;
  {
    sim::Simulator::Ghost checker_state;  // what this thread must get back, on any CPU
    ghost().intena_at_sched = intena;
    ghost().intr_before_push_off = intr_before_push_off_[cpuid()];
  }
  // The planted bug: let go of p->lock before the switch. Another CPU's scheduler can now pick
  // the process while this CPU is still running on its kernel stack.
  if (config_.bug == Bug::kSchedReleasesEarly) release(&p->lock);
  EmulateSwtch(static_cast<int>(p - proc_), config_.nproc + cpuid());
  sim_.Switch(p->context, mycpu()->context);  // swtch(&p->context, &mycpu()->context)
  {
    sim::Simulator::Ghost checker_state;
    intr_before_push_off_[cpuid()] = ghost().intr_before_push_off;
  }
  if (config_.bug != Bug::kSchedForgetsIntena) mycpu()->intena = intena;
  CheckIntenaRestored();
}

// Give up the CPU for one scheduling round.
void Kernel::yield() {
  proc* p = myproc();
  acquire(&p->lock);
  p->state = RUNNABLE;
  sched();
  release(&p->lock);
}

// A fork child's very first scheduling by scheduler() will swtch to forkret.
void Kernel::forkret() {
  {
    sim::Simulator::Ghost checker_state;
    ghost().new_process = true;
  }
  // Still holding p->lock from scheduler.
  if (config_.bug != Bug::kForkretKeepsLock) release(&myproc()->lock);
  usertrapret();
}

// Atomically release lock and sleep on chan. Reacquires lock when awakened.
void Kernel::sleep(const void* chan, spinlock* lk) {
  proc* p = myproc();
  sleep_entered_[p - proc_] = sim_.step();  // ghost, for ExplainStuck
  CheckSleepHoldsLock(lk);
  // Must acquire p->lock in order to change p->state and then call sched. Once we hold
  // p->lock, we can be guaranteed that we won't miss any wakeup (wakeup locks p->lock), so it's
  // okay to release lk.
  acquire(&p->lock);  // DOC: sleeplock1
  release(lk);

  // Go to sleep.
  p->chan = chan;
  p->state = SLEEPING;
  sleeping_set_[p - proc_] = sim_.step();  // ghost, for ExplainStuck
  sim_.Note("sleep", static_cast<uint64_t>(p->pid));

  sched();

  // Tidy up.
  p->chan = nullptr;

  // Reacquire original lock.
  release(&p->lock);
  acquire(lk);
}

// Wake up all processes sleeping on chan. Must be called without any p->lock.
void Kernel::wakeup(const void* chan) {
  {
    sim::Simulator::Ghost checker_state;  // for ExplainStuck
    WakeupSeen& seen = LastWakeupOn(chan);
    seen.step = sim_.step();
    seen.cpu = cpuid();
    for (uint64_t& step : seen.state_step) step = 0;
  }
  for (proc* p = proc_; p < &proc_[config_.nproc]; p++) {
    if (p == myproc()) continue;
    if (config_.bug == Bug::kWakeupWithoutLock) {
      // The planted bug: look before locking. A sleeper between release(lk) and
      // p->state = SLEEPING is missed, and its wakeup is lost.
      procstate state = p->state;
      NoteWakeupRead(chan, p, state);  // ghost, for ExplainStuck
      if (state == SLEEPING && p->chan == chan) {
        acquire(&p->lock);
        p->state = RUNNABLE;
        sim_.Note("wakeup", static_cast<uint64_t>(p->pid));
        release(&p->lock);
      }
      continue;
    }
    // For the marker only (the kernel never looks): the sleeper may hold its lock because it is
    // inside sleep(), between release(lk) and sched(): the window a lost wakeup needs.
    bool raced;
    {
      sim::Simulator::Ghost marker;  // the kernel never looks
      raced = p->lock.locked != 0;
    }
    acquire(&p->lock);
    procstate state = p->state;
    NoteWakeupRead(chan, p, state);  // ghost, for ExplainStuck
    if (state == SLEEPING && p->chan == chan) {
      if (raced) sim_.Mark("wakeup-raced-sleep");
      p->state = RUNNABLE;
      sim_.Note("wakeup", static_cast<uint64_t>(p->pid));
    }
    release(&p->lock);
  }
}

Kernel::WakeupSeen& Kernel::LastWakeupOn(const void* chan) {
  for (WakeupSeen& w : last_wakeups_) {
    if (w.chan == chan) return w;
  }
  last_wakeups_.emplace_back();
  last_wakeups_.back().chan = chan;
  return last_wakeups_.back();
}

void Kernel::NoteWakeupRead(const void* chan, const proc* p, procstate seen) {
  sim::Simulator::Ghost checker_state;  // for ExplainStuck
  WakeupSeen& w = LastWakeupOn(chan);
  w.state[p - proc_] = seen;
  w.state_step[p - proc_] = sim_.step();
}

// For each process asleep at a liveness failure: the last wakeup() on its channel, and why it
// did not wake it. It runs after the run has ended: its reads are not points.
std::vector<sim::StuckExplanation> Kernel::ExplainStuck() {
  std::vector<sim::StuckExplanation> out;
  for (int i = 0; i < config_.nproc; ++i) {
    const proc& p = proc_[i];
    if (p.state != SLEEPING || p.context == nullptr) continue;
    const void* chan = p.chan;
    sim::StuckExplanation e;
    e.fiber = sim_.FiberId(p.context);
    e.waits_for = ChanName(chan);
    e.slept_step = sleeping_set_[i];
    std::string who = absl::StrCat("pid ", p.pid);
    const WakeupSeen* w = nullptr;
    for (const WakeupSeen& candidate : last_wakeups_) {
      if (candidate.chan == chan) w = &candidate;
    }
    if (w == nullptr) {
      e.why = absl::StrCat(who, " sleeps on ", e.waits_for, " since step ", sleeping_set_[i],
                           "; no wakeup() on that channel ever ran");
    } else if (w->state_step[i] >= sleep_entered_[i] && w->state_step[i] < sleeping_set_[i]) {
      // The race: the wakeup looked while the sleeper was inside sleep(), not yet SLEEPING.
      e.lost = true;
      e.wakeup_step = w->state_step[i];
      e.wakeup_cpu = w->cpu;
      e.why = absl::StrCat("the last wakeup(", e.waits_for, ") read ", who, "'s state at step ",
                           w->state_step[i], " on cpu", w->cpu, " as ", StateName(w->state[i]),
                           ", not SLEEPING, and passed it over: ", who,
                           " was inside sleep() (entered at step ", sleep_entered_[i],
                           ") and set SLEEPING only at step ", sleeping_set_[i],
                           "; no wakeup on that channel came after");
    } else if (w->step < sleep_entered_[i]) {
      e.wakeup_step = w->step;
      e.wakeup_cpu = w->cpu;
      e.why = absl::StrCat("the last wakeup(", e.waits_for, ") ran at step ", w->step, " on cpu",
                           w->cpu, ", before ", who, " entered this sleep() (step ",
                           sleep_entered_[i], "); none came after");
    } else {
      e.wakeup_step = w->step;
      e.wakeup_cpu = w->cpu;
      e.why = absl::StrCat("the last wakeup(", e.waits_for, ") ran at step ", w->step, " on cpu",
                           w->cpu, " while ", who, " was going to sleep (entered step ",
                           sleep_entered_[i], ", SLEEPING at step ", sleeping_set_[i],
                           "), but did not wake it");
    }
    out.push_back(std::move(e));
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const sim::StuckExplanation& e) { return e.lost; });
  return out;
}

// Kill the process with the given pid. The victim won't exit until it tries to return to user
// space (see usertrap() in trap.c).
int Kernel::kill(int pid) {
  for (proc* p = proc_; p < &proc_[config_.nproc]; p++) {
    acquire(&p->lock);
    if (p->pid == pid) {
      p->killed = 1;
      sim_.Note("kill", static_cast<uint64_t>(pid));
      if (p->state == SLEEPING) {
        // Wake process from sleep().
        p->state = RUNNABLE;
      }
      release(&p->lock);
      return 0;
    }
    release(&p->lock);
  }
  return -1;
}

int Kernel::killed(proc* p) {
  acquire(&p->lock);
  int k = p->killed;
  release(&p->lock);
  return k;
}

}  // namespace switchyard::xv6
