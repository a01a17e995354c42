// The xv6 model's invariants, checked by the simulator after every step.
//
//   c-proc-agrees      the process a CPU thinks it runs (c->proc) is the thread its vCPU runs:
//                      the scheduler thread has c->proc == 0, a process thread has c->proc == p.
//   state-consistency  for every process whose p->lock is free: RUNNING exactly when its thread
//                      is on a CPU; RUNNABLE, SLEEPING, USED, ZOMBIE and UNUSED on none. (While
//                      p->lock is held, its holder may be between the state change and swtch.)
// Reported elsewhere: xv6's own panics ("panic: SITE"), wrong exit statuses ("exit-status"),
// slots left over when the workload ends ("no-leaked-procs"), and the simulator's generic
// switch checks and liveness outcomes.
#include "absl/strings/str_cat.h"
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

std::vector<std::string> Kernel::InvariantNames() {
  return {"c-proc-agrees",
          "state-consistency",
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
  sim_.AddInvariant("c-proc-agrees", [this](std::string* why) {
    for (int i = 0; i < config_.ncpu; ++i) {
      const sim::Fiber* running = sim_.CurrentOn(i);
      uint32_t id = sim_.FiberId(running);
      proc* thread = id < proc_of_fiber_.size() ? proc_of_fiber_[id] : nullptr;
      if (cpus_[i].proc != thread) {
        *why = absl::StrCat(
            "cpu", i, " runs ", sim_.FiberName(running), " but its c->proc is ",
            cpus_[i].proc == nullptr ? std::string("0") : absl::StrCat("pid ", cpus_[i].proc->pid));
        return false;
      }
    }
    return true;
  });
  sim_.AddInvariant("state-consistency", [this](std::string* why) {
    for (int i = 0; i < config_.nproc; ++i) {
      const proc& p = proc_[i];
      if (p.lock.locked || p.context == nullptr) continue;
      int on = sim_.RunningOn(p.context);
      bool running = p.state == RUNNING;
      if (running != (on >= 0)) {
        *why = running ? absl::StrCat("pid ", p.pid, " is RUNNING but on no CPU")
                       : absl::StrCat("pid ", p.pid, " is ", StateName(p.state),
                                      " but its thread runs on cpu", on);
        return false;
      }
    }
    return true;
  });
}

}  // namespace switchyard::xv6
