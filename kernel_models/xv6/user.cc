// The workload's user mode: each process interprets its program; system calls enter the kernel
// the way usertrap() does.
#include "absl/strings/str_cat.h"
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

void Kernel::UserMain() {
  for (;;) {
    proc* p = myproc();
    UserProcess& u = user(p);
    const int pc = u.pc;
    Action action{};
    if (!FetchAction(u, &action)) {
      // usertrap(): unexpected scause 0xc (instruction page fault): setkilled(p); exit(-1).
      {
        sim::Simulator::Ghost trace;  // the trace's record, not the kernel's work
        sim_.Note("page-fault", static_cast<uint64_t>(p->pid), static_cast<uint64_t>(pc));
      }
      sim_.intr_off();  // the trap clears SIE
      user_mode_[cpuid()] = false;
      acquire(&p->lock);  // setkilled(p)
      p->killed = 1;
      release(&p->lock);
      exit(-1);
    }
    u.pc = pc + 1;
    if (action.op == Op::kCompute) {
      // User-mode work: interrupts are on, and every step is an explicit point (user code
      // touches no kernel state; this is where the timer preempts it).
      for (int i = 0; i < action.arg; ++i) {
        sim_.NoteProgress();
        CheckUserCode();
        sim_.Point();
        CheckTimerDelivered();
      }
      continue;
    }
    // ecall: the trap saves the pc of the ecall in sepc and turns interrupts off, at once.
    CheckUserCode();
    sim_.intr_off();
    sepc_[cpuid()] = pc;
    Syscall(action);
  }
}

void Kernel::Syscall(const Action& action) {
  proc* p = myproc();
  usertrap_syscall(p);
  int status = 0;
  switch (action.op) {
    case Op::kFork: {
      int pid = fork(action.child);
      AddChild(user(p), pid);
      sim::Simulator::Ghost bookkeeping;  // the workload's, not the kernel's
      if (pid > 0) {
        if (expected_status_.size() <= static_cast<size_t>(pid)) {
          expected_status_.resize(pid + 1, 0);
          kill_sent_.resize(pid + 1, false);
        }
        expected_status_[pid] = action.child->exit_code;
      }
      break;
    }
    case Op::kWait:
    case Op::kReapAllAndHalt:
      for (;;) {
        int pid = wait(&status);
        sim::Simulator::Ghost check;  // the workload's, not the kernel's
        if (pid > 0) {
          int want = expected_status_[pid];
          if (status != want && !(kill_sent_[pid] && status == -1)) {
            sim_.Fail("exit-status", absl::StrCat("wait() in pid ", p->pid, " got status ", status,
                                                  " for pid ", pid, ", whose program exits with ",
                                                  want, kill_sent_[pid] ? " (or -1, killed)" : ""));
          }
        }
        if (action.op == Op::kWait || pid < 0) break;
      }
      if (action.op == Op::kReapAllAndHalt) CheckWorkloadDone();
      break;
    case Op::kDiskRead:
      p->b.blockno = action.arg;
      virtio_disk_rw(&p->b);
      break;
    case Op::kSleepTicks:
      sys_sleep(action.arg);
      break;
    case Op::kSemDown:
      sem_down(action.arg);
      break;
    case Op::kSemUp:
      sem_up(action.arg);
      break;
    case Op::kKill: {
      // A process whose pc was corrupted (a planted bug) may reach a kill of a child it never
      // forked: like kill() of a pid that does not exist, it does nothing.
      int pid = ChildPid(user(p), action.arg);
      if (pid > 0) {
        {
          sim::Simulator::Ghost bookkeeping;  // the workload's, not the kernel's
          kill_sent_[pid] = true;
        }
        kill(pid);
      }
      break;
    }
    case Op::kExit:
      exit(action.arg);
    case Op::kCompute:
      break;
  }
  sim_.NoteProgress();
  if (killed(myproc())) exit(-1);
  usertrapret();
}

int Kernel::sys_sleep(int n) {
  acquire(&tickslock_);
  unsigned ticks0 = ticks_;
  while (ticks_ - ticks0 < static_cast<unsigned>(n)) {
    if (killed(myproc())) {
      release(&tickslock_);
      return -1;
    }
    sleep(&ticks_, &tickslock_);
  }
  release(&tickslock_);
  return 0;
}

int Kernel::sem_down(int id) {
  semaphore* s = &sems_[id];
  acquire(&s->lock);
  while (s->count == 0) {
    if (killed(myproc())) {
      release(&s->lock);
      return -1;
    }
    sleep(s, &s->lock);
  }
  s->count -= 1;
  release(&s->lock);
  return 0;
}

void Kernel::sem_up(int id) {
  semaphore* s = &sems_[id];
  acquire(&s->lock);
  s->count += 1;
  wakeup(s);
  release(&s->lock);
}

}  // namespace switchyard::xv6
