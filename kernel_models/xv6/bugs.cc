// The xv6 model's planted bugs: names and one-line descriptions for --bug and `switchyard list`.
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

std::vector<Bug> AllBugs() {
  return {Bug::kWakeupWithoutLock,        Bug::kSchedReleasesEarly,   Bug::kSchedulerNoInterrupts,
          Bug::kForkretKeepsLock,         Bug::kSchedulerKeepsCProc,  Bug::kPopOffEnablesEarly,
          Bug::kUsertrapIntrOnEarly,      Bug::kAcquireBeforePushOff, Bug::kSchedForgetsIntena,
          Bug::kPushOffSavesAfterOff,     Bug::kSwtchForgetsS11,      Bug::kContextOutOfOrder,
          Bug::kForkRunnableBeforeProgram};
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
    case Bug::kPopOffEnablesEarly:
      return "pop-off-enables-early";
    case Bug::kAcquireBeforePushOff:
      return "acquire-before-push-off";
    case Bug::kUsertrapIntrOnEarly:
      return "usertrap-intr-on-early";
    case Bug::kSchedForgetsIntena:
      return "sched-forgets-intena";
    case Bug::kPushOffSavesAfterOff:
      return "push-off-saves-after-off";
    case Bug::kSwtchForgetsS11:
      return "swtch-forgets-s11";
    case Bug::kContextOutOfOrder:
      return "context-out-of-order";
    case Bug::kForkRunnableBeforeProgram:
      return "fork-runnable-before-program";
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
    case Bug::kPopOffEnablesEarly:
      return "pop_off() turns interrupts on before it decrements noff: an interrupt taken in "
             "between yields with noff == 2 (narrow window: access granularity only)";
    case Bug::kUsertrapIntrOnEarly:
      return "usertrap() turns interrupts on before it saves sepc: a timer interrupt in between "
             "leaves the kernel's pc there, and the system call returns to it (narrow window: "
             "access granularity only)";
    case Bug::kAcquireBeforePushOff:
      return "acquire() sets lk->cpu before push_off(): an interrupt in between runs with the lock "
             "held and interrupts on (narrow window: access granularity only)";
    case Bug::kSchedForgetsIntena:
      return "sched() does not give the thread back its intena after swtch(): it runs on with the "
             "interrupt state of the scheduler (contract only: no other symptom)";
    case Bug::kPushOffSavesAfterOff:
      return "push_off() reads the interrupt state after turning interrupts off, so the outermost "
             "pop_off() never turns them back on (contract only: no other symptom)";
    case Bug::kSwtchForgetsS11:
      return "swtch.S does not save s11: a thread's s11 comes back with a stale value (runs the "
             "real swtch.S in the emulator)";
    case Bug::kContextOutOfOrder:
      return "struct context declares sp before ra, unlike swtch.S's offsets: a new process "
             "starts at its stack address (runs the real swtch.S in the emulator)";
    case Bug::kForkRunnableBeforeProgram:
      return "fork() makes the child RUNNABLE and releases its lock before it sets the child's "
             "program: another CPU runs the child with a null program (the C++ model: a host "
             "crash, SIGSEGV; a tree: its trapframe not yet copied, user-program)";
  }
  return "?";
}

}  // namespace switchyard::xv6
