// The xv6 model's planted bugs: names and one-line descriptions for --bug and `switchyard list`.
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

std::vector<Bug> AllBugs() {
  return {Bug::kWakeupWithoutLock, Bug::kSchedReleasesEarly, Bug::kSchedulerNoInterrupts,
          Bug::kForkretKeepsLock, Bug::kSchedulerKeepsCProc};
}

const char* BugName(Bug bug) {
  switch (bug) {
    case Bug::kNone:
      return "none";
    case Bug::kWakeupWithoutLock:
      return "wakeup-without-lock";
    case Bug::kSchedReleasesEarly:
      return "sched-releases-early";
    case Bug::kSchedulerNoInterrupts:
      return "scheduler-no-interrupts";
    case Bug::kForkretKeepsLock:
      return "forkret-keeps-lock";
    case Bug::kSchedulerKeepsCProc:
      return "scheduler-keeps-c-proc";
  }
  return "?";
}

const char* BugDescription(Bug bug) {
  switch (bug) {
    case Bug::kNone:
      return "the correct kernel";
    case Bug::kWakeupWithoutLock:
      return "wakeup() reads a sleeper's state without holding its p->lock: a wakeup is lost";
    case Bug::kSchedReleasesEarly:
      return "sched() releases p->lock before swtch(): another CPU can run the process while it "
             "is still on its kernel stack";
    case Bug::kSchedulerNoInterrupts:
      return "the scheduler loop never enables interrupts: with every process waiting for I/O or "
             "ticks, no CPU sees the completion";
    case Bug::kForkretKeepsLock:
      return "forkret() does not release p->lock: the new process's first timer tick panics or "
             "deadlocks";
    case Bug::kSchedulerKeepsCProc:
      return "the scheduler does not clear c->proc after swtch() returns: a timer tick in the "
             "scheduler yields a process that is not running there";
  }
  return "?";
}

}  // namespace switchyard::xv6
