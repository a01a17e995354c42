// Scheduling: schedule(), the process half of switch_to(), the timer, the idle task and kswapd
// (kernel/sched.c, kernel/timer.c, mm/vmscan.c and arch/um/kernel/process.c of 2.4-era UML).
#include "absl/strings/str_cat.h"
#include "kernel_models/uml/kernel.h"

namespace switchyard::uml {

// Picks the next task and switches to it. The caller has already set current's state:
// TASK_RUNNING to stay runnable (preemption), TASK_INTERRUPTIBLE to sleep, TASK_ZOMBIE to exit.
// Which runnable task runs next is the decider's choice (stream "runqueue", a thread pick, so
// that PCT schedules tasks by priority); the idle task runs only when nothing else can.
void Kernel::schedule() {
  task_struct* prev = current_;
  SY_CHECK(prev != nullptr);
  // spin_lock_irq(&runqueue_lock): the tick must not change task states under the scan.
  const bool intena = sim_.intr_get();
  sim_.intr_off();
  prev->need_resched = false;
  candidates_.clear();
  for (int i = 0; i < config_.max_tasks; ++i) {
    task_struct* t = &task_[i];
    if (t->state == TASK_RUNNING && t != idle_) candidates_.push_back(t);
  }
  task_struct* next = idle_;
  if (!candidates_.empty()) {
    candidate_pids_.clear();
    for (const task_struct* t : candidates_)
      candidate_pids_.push_back(static_cast<uint32_t>(t->pid));
    next = candidates_[sim_.decider().PickThread(runqueue_stream_, candidate_pids_, sim_.step())];
  }
  if (next != prev) {
    if (prev == kswapd_task_) check_kswapd_sleeps_idle();
    switch_to(prev, next);
  }
  if (intena) sim_.intr_on();
}

// The process half of a switch: hand the switch to the tracing thread, which stops this host
// process and continues `next`'s. Returns when the tracing thread continues this process again;
// a process that exits never returns.
void Kernel::switch_to(task_struct* prev, task_struct* next) {
  SY_CHECK(prev == current_);
  SY_CHECK(prev != next);
  prev->intena = sim_.intr_get();
  sim_.intr_off();
  switch_prev_ = prev;
  switch_next_ = next;
  sim_.Switch(prev->thread, tracer_thread_);
  // Continued by the tracing thread.
  switch_in(prev);
  if (prev->intena) sim_.intr_on();
}

// Runs in a process that the tracing thread has just continued, before it does anything else:
// bring its host address space up to date with its mm.
void Kernel::switch_in(task_struct* p) {
  SY_CHECK(current_ == p);
  SY_CHECK(p->host.running);
  if (p->mm != nullptr) flush_tlb_mm(p);
  sim::Simulator::Ghost ghost;  // checker state
  p->in_sync = true;
}

// The timer interrupt (the host's SIGVTALRM, passed on by the tracing thread). It advances
// jiffies, wakes sleepers whose time has come, draws this tick's memory pressure, and asks for a
// reschedule. The kernel is not preemptible: only a process in user mode is switched out at once.
void Kernel::timer_interrupt() {
  ++jiffies_;
  for (int i = 0; i < config_.max_tasks; ++i) {
    task_struct* t = &task_[i];
    if (t->kind == task_struct::kUser && t->state == TASK_INTERRUPTIBLE &&
        t->wake_tick <= jiffies_) {
      wake_up_process(t);
    }
  }
  if (sim_.decider().Choose(pressure_stream_, static_cast<uint32_t>(pressure_odds_)) == 0) {
    wakeup_kswapd(1 + static_cast<int>(sim_.decider().Choose(
                          pressure_stream_, static_cast<uint32_t>(config_.workload.pressure_max))));
  }
  task_struct* p = current_;
  if (p == nullptr) return;  // the tracing thread runs with interrupts off; never here
  p->need_resched = true;
  if (p->user_mode) {
    p->user_mode = false;
    schedule();
    p->user_mode = true;
  }
}

void Kernel::Trap(int cpu, int line) {
  SY_CHECK(cpu == 0);
  if (line == sim::kTimerLine) timer_interrupt();
}

void Kernel::wake_up_process(task_struct* p) {
  SY_CHECK(p->state == TASK_INTERRUPTIBLE);
  p->state = TASK_RUNNING;
}

// sys_nanosleep: sleep for `ticks` timer ticks.
void Kernel::sleep_ticks(int ticks) {
  task_struct* p = current_;
  p->wake_tick = jiffies_ + static_cast<uint64_t>(ticks);
  p->state = TASK_INTERRUPTIBLE;
  schedule();
  SY_CHECK(p->state == TASK_RUNNING);
}

// The idle task (pid 0). When nothing is runnable its host process pauses until a signal: the
// vCPU waits for the timer.
void Kernel::cpu_idle() {
  for (;;) {
    sim_.intr_on();
    if (runnable_count() == 0) sim_.WaitForInterrupt();
    schedule();
  }
}

int Kernel::runnable_count() const {
  int n = 0;
  for (int i = 0; i < config_.max_tasks; ++i) {
    if (task_[i].state == TASK_RUNNING && &task_[i] != idle_) ++n;
  }
  return n;
}

// The swap daemon. It is a kernel thread, and so a host process of its own, scheduled like any
// process, as in UML: when it runs, every UML process is stopped, so every page it swaps out
// belongs to a sleeping process and reaches that process through its mm's change ring. Running it
// from the timer instead would swap pages out from under the running process's host address
// space, which the real system never does from kswapd.
void Kernel::kswapd() {
  task_struct* self = kswapd_task_;
  for (;;) {
    if (config_.bug == Bug::kKswapdChecksBeforeSleeping) {
      // The planted bug: a tick between the test and the state change asks for work and finds
      // kswapd still TASK_RUNNING, so it does not wake it; kswapd then sleeps with work to do.
      while (kswapd_goal_ == 0) {
        self->state = TASK_INTERRUPTIBLE;
        schedule();
      }
    } else {
      // As kswapd() in 2.4's mm/vmscan.c: announce the sleep first, then test, so a wakeup
      // between the test and schedule() makes the task runnable again.
      for (;;) {
        self->state = TASK_INTERRUPTIBLE;
        if (kswapd_goal_ != 0) break;
        schedule();
      }
      self->state = TASK_RUNNING;
    }
    // One page per pass; the timer may tick here and ask for a reschedule.
    sim_.CoarsePoint();
    if (kswapd_goal_ > 0) {
      if (try_to_free_pages(self)) {
        kswapd_goal_ -= 1;
        sim_.NoteProgress();
      } else {
        kswapd_goal_ = 0;  // nothing left in memory to swap
      }
    }
    if (self->need_resched) schedule();
  }
}

// Asks kswapd to free `pages` more pages.
void Kernel::wakeup_kswapd(int pages) {
  // The wait queue's lock is taken with interrupts saved and off (spin_lock_irqsave): a tick
  // must not wake kswapd between the test and the wakeup.
  const bool intena = sim_.intr_get();
  sim_.intr_off();
  kswapd_goal_ += pages;
  // The window "kswapd-checks-before-sleeping" needs: work asked of kswapd while it is the
  // running task, between its state change and its test.
  if (current_ == kswapd_task_ && kswapd_task_->state == TASK_INTERRUPTIBLE) {
    sim_.Mark("kswapd-woken-in-its-sleep-window");
  }
  if (kswapd_task_ != nullptr && kswapd_task_->state == TASK_INTERRUPTIBLE) {
    wake_up_process(kswapd_task_);
  }
  if (intena) sim_.intr_on();
}

}  // namespace switchyard::uml
