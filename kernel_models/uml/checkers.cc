// The UML model's invariants.
//
//   one-uml-process-on-host   at most one UML host process is running (not stopped) at any
//                             moment; checked at every step.
//   runs-only-when-continued  the thread the vCPU runs is the current task's, and its host
//                             process is running; checked at every step.
//   no-lost-unmaps            whenever a process runs, every host mapping it has is in its page
//                             table with the same frame; checked after each switch-in, after each
//                             page it reclaims itself, and at every step while it runs.
//   isolation                 no process reads or writes a frame owned by another mm, by another
//                             page of its own, or by nobody (freed by a swap-out); checked at
//                             each touch. It needs no shadow state: it is what a user would see,
//                             and it catches every address-space bug even with the two checks
//                             above switched off (Config::check_*).
//   wrap-accounting           on switch-in a process rescans exactly when the ring has wrapped
//                             for it (more than N unseen changes), and otherwise replays exactly
//                             the unseen changes, oldest first; checked at each switch-in
//                             against every change the mm ever made.
//   no-leaked-frames          when every process has exited, every frame is free.
//   private-count-bounded     every process's private count is at most its mm's count (the
//                             paper: a process never believes it saw a change not yet made);
//                             checked at every step.
//   kswapd-sleeps-idle        kswapd never switches out asleep (TASK_INTERRUPTIBLE) while pages
//                             are asked of it: that is a lost wakeup; checked at each switch.
//   no-pending-resched-in-user  a process never returns to user mode with need_resched set: the
//                             tick that asked for it would go unanswered until the next one;
//                             checked at each return to user mode.
//   new-task-interruptible    a new task starts (ret_from_fork) with signals unblocked.
// Interrupt delivery, on the simulator's ghost record of who blocked signals (intr_off's call
// site and thread, or the timer's entry), never on the kernel's own fields:
//   user-mode-interruptible   a process never runs user code (a touch of its memory) with the
//                             timer's signal blocked; the message names the function,
//                             file:line and thread that blocked it.
//   timer-delivered           (liveness) after a step of user code, the timer is not left
//                             pending for more than kTimerPendingTicksMax periods.
// Reported elsewhere: the simulator's generic switch checks and liveness outcomes.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernel_models/uml/kernel.h"

namespace switchyard::uml {

std::vector<std::string> Kernel::InvariantNames() {
  return {"one-uml-process-on-host",
          "runs-only-when-continued",
          "no-lost-unmaps",
          "isolation",
          "wrap-accounting",
          "no-leaked-frames",
          "private-count-bounded",
          "kswapd-sleeps-idle (contract)",
          "no-pending-resched-in-user (contract)",
          "new-task-interruptible (contract)",
          "user-mode-interruptible (contract)",
          "timer-delivered (liveness, contract)",
          "one-thread-per-core",
          "resume-saved-context",
          "switch-saves-running-thread",
          "no-resume-after-finish",
          "no-progress (liveness)",
          "deadlock (liveness)",
          "step-budget (liveness)"};
}

bool Kernel::host_agrees(const task_struct* p, std::string* why) const {
  const mm_struct* mm = p->mm;
  for (int page = 0; page < config_.pages; ++page) {
    int host = p->host.map[page];
    if (host < 0) continue;
    const pte_t& e = mm->pgd[page];
    if (e.state == pte_t::kPresent && e.frame == host) continue;
    *why = absl::StrCat(
        "pid ", p->pid, " (host pid ", p->host.pid, ") maps page ", page, " to frame ", host,
        " but its page table (mm ", mm->id, ") has ",
        e.state == pte_t::kPresent
            ? absl::StrCat("frame ", e.frame)
            : std::string(e.state == pte_t::kSwapped ? "it swapped out" : "no page there"),
        "; private count ", p->seen_truth, ", mm count ", mm->changes.count(), ", ", config_.slots,
        " slots");
    return false;
  }
  return true;
}

void Kernel::check_no_lost_unmaps(const task_struct* p, const char* when) {
  sim::Simulator::Ghost ghost;  // a check, not the kernel's work: never a point
  if (!config_.check_no_lost_unmaps) return;
  std::string why;
  if (host_agrees(p, &why)) return;
  absl::StrAppend(&why, " (", when, ")");
  sim_.Fail("no-lost-unmaps", std::move(why));
}

void Kernel::check_wrap_accounting(task_struct* p, bool rescanned) {
  sim::Simulator::Ghost ghost;  // a check, not the kernel's work: never a point
  const mm_struct* mm = p->mm;
  const uint64_t count = mm->changes.count();
  const uint64_t unseen = count - p->seen_truth;
  const bool wrapped = unseen > static_cast<uint64_t>(config_.slots);
  std::string message;
  if (rescanned && !wrapped) {
    message = absl::StrCat("pid ", p->pid, " rescanned its address space with ", unseen,
                           " unseen changes, which ", config_.slots, " slots still hold");
  } else if (!rescanned && wrapped) {
    message = absl::StrCat("pid ", p->pid, " replayed [", absl::StrJoin(replayed_, ","),
                           "] instead of rescanning: ", unseen, " unseen changes (count ",
                           p->seen_truth, " -> ", count, ") overflow ", config_.slots, " slots");
  } else if (!rescanned) {
    bool same = replayed_.size() == unseen;
    for (uint64_t i = 0; same && i < unseen; ++i) {
      same = replayed_[i] == mm->history[p->seen_truth + i];
    }
    if (same) return;
    // Scoped so that the vector is gone before Fail abandons this fiber.
    {
      std::vector<int> want(mm->history.begin() + static_cast<ptrdiff_t>(p->seen_truth),
                            mm->history.end());
      message = absl::StrCat("pid ", p->pid, " replayed [", absl::StrJoin(replayed_, ","),
                             "] but its unseen changes (count ", p->seen_truth, " -> ", count, ", ",
                             config_.slots, " slots) are [", absl::StrJoin(want, ","), "]");
    }
  } else {
    return;
  }
  sim_.Fail("wrap-accounting", std::move(message));
}

void Kernel::AddInvariants() {
  sim_.AddInvariant("one-uml-process-on-host", [this](std::string* why) {
    int running = 0;
    for (int i = 0; i < config_.max_tasks; ++i) {
      if (task_[i].host.alive && task_[i].host.running) ++running;
    }
    if (running <= 1) return true;
    *why = absl::StrCat(running, " UML host processes run at once:");
    for (int i = 0; i < config_.max_tasks; ++i) {
      const task_struct& t = task_[i];
      if (t.host.alive && t.host.running) {
        absl::StrAppend(why, " pid ", t.pid, " (", t.comm, ", host pid ", t.host.pid, ")");
      }
    }
    return false;
  });
  sim_.AddInvariant("runs-only-when-continued", [this](std::string* why) {
    const sim::Fiber* running = sim_.CurrentOn(0);
    if (running == tracer_thread_) return current_ == nullptr || current_->thread != running;
    if (current_ != nullptr && current_->thread == running && current_->host.running) return true;
    *why = absl::StrCat(
        "cpu0 runs ", sim_.FiberName(running), " but the current task is ",
        current_ == nullptr
            ? std::string("none")
            : absl::StrCat("pid ", current_->pid,
                           current_->host.running ? "" : ", whose host process is stopped"));
    return false;
  });
  sim_.AddInvariant("no-lost-unmaps", [this](std::string* why) {
    const task_struct* p = current_;
    if (!config_.check_no_lost_unmaps) return true;
    // In user mode only: inside the kernel the process cannot touch its host mappings, and a
    // step may fall between a page-table update and the unmap that follows it (every access of
    // the model's code is a point).
    if (p == nullptr || p->mm == nullptr || !p->in_sync || !p->user_mode) return true;
    return host_agrees(p, why);
  });
  sim_.AddInvariant("private-count-bounded", [this](std::string* why) {
    for (int i = 0; i < config_.max_tasks; ++i) {
      const task_struct& t = task_[i];
      if (t.mm == nullptr || t.state == TASK_UNUSED || t.vm_seen <= t.mm->changes.count()) continue;
      *why = absl::StrCat("pid ", t.pid, " has applied up to change ", t.vm_seen, " but mm ",
                          t.mm->id, " has made only ", t.mm->changes.count());
      return false;
    }
    return true;
  });
}

void Kernel::check_kswapd_sleeps_idle() {
  sim::Simulator::Ghost ghost;  // a check, not the kernel's work: never a point
  const task_struct* k = kswapd_task_;
  if (k->state != TASK_INTERRUPTIBLE || kswapd_goal_ == 0) return;
  sim_.Fail("kswapd-sleeps-idle", absl::StrCat("kswapd goes to sleep with ", kswapd_goal_,
                                               " page(s) asked of it: the wakeup that asked was "
                                               "lost (it found kswapd still running)"));
}

void Kernel::check_no_pending_resched(const task_struct* p) {
  sim::Simulator::Ghost ghost;  // a check, not the kernel's work: never a point
  if (!p->need_resched) return;
  sim_.Fail("no-pending-resched-in-user",
            absl::StrCat("pid ", p->pid, " returns to user mode with need_resched set: a tick ",
                         "arrived after the test and its reschedule waits for the next tick"));
}

std::string Kernel::interrupts_off_by() const {
  const sim::Simulator::InterruptsOff& off = sim_.InterruptsOffBy(0);
  std::string thread = off.fiber == sim_.FiberId(tracer_thread_)
                           ? std::string("the tracing thread")
                           : absl::StrCat("fiber ", off.fiber);
  for (int i = 0; i < config_.max_tasks; ++i) {
    const task_struct& t = task_[i];
    if (t.thread != nullptr && sim_.FiberId(t.thread) == off.fiber) {
      thread = absl::StrCat("task[", i, "]'s thread");
    }
  }
  if (off.function[0] == 0) return "signals have been blocked since the run began";
  return absl::StrCat("blocked in ", off.Where(), " by ", thread);
}

void Kernel::check_new_task_interruptible(const task_struct* p) {
  sim::Simulator::Ghost ghost;  // a check, not the kernel's work: never a point
  if (sim_.intr_get()) return;
  std::string message = absl::StrCat("new task pid ", p->pid, " (", p->comm,
                                     ") starts with signals blocked: ", interrupts_off_by());
  sim_.Fail("new-task-interruptible", std::move(message));
}

void Kernel::check_user_mode_interruptible(const task_struct* p) {
  sim::Simulator::Ghost ghost;  // a check, not the kernel's work: never a point
  if (sim_.intr_get()) return;
  std::string message = absl::StrCat("pid ", p->pid,
                                     " runs user code with signals blocked, so the timer cannot "
                                     "preempt it: ",
                                     interrupts_off_by());
  sim_.Fail("user-mode-interruptible", std::move(message));
}

void Kernel::check_timer_delivered(const task_struct* p) {
  sim::Simulator::Ghost ghost;  // a check, not the kernel's work: never a point
  const uint64_t since = sim_.TimerPendingSince(0);
  const uint64_t bound = kTimerPendingTicksMax * config_.timer_period;
  if (since == UINT64_MAX || sim_.now() - since <= bound) return;
  std::string message =
      absl::StrCat("the timer has been pending since time ", since, " (", sim_.now() - since,
                   " ticks, more than ", bound, ") while pid ", p->pid, " runs user code");
  sim_.FailLiveness("timer-delivered", std::move(message));
}

}  // namespace switchyard::uml
