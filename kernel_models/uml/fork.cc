// Creating and ending processes: task slots, fork and clone, exit (kernel/fork.c, kernel/exit.c).
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "kernel_models/uml/kernel.h"

namespace switchyard::uml {

// Finds an unused task_struct and gives it a new stopped host process with an empty address
// space and a kernel thread that starts in ret_from_fork(). Returns null when none is free. The
// caller sets the state to TASK_RUNNING once the task is ready.
task_struct* Kernel::alloc_task(task_struct::Kind kind, const char* comm) {
  task_struct* p = nullptr;
  for (int i = 0; i < config_.max_tasks; ++i) {
    if (task_[i].state == TASK_UNUSED) {
      p = &task_[i];
      break;
    }
  }
  if (p == nullptr) return nullptr;
  p->pid = nextpid_++;
  p->kind = kind;
  std::snprintf(p->comm, sizeof p->comm, "%s", comm);
  p->state = TASK_INTERRUPTIBLE;  // not yet runnable
  p->wake_tick = UINT64_MAX;
  p->mm = nullptr;
  p->vm_seen = 0;
  {
    sim::Simulator::Ghost ghost;  // checker state
    p->seen_truth = 0;
    p->in_sync = false;
  }
  p->need_resched = false;
  p->user_mode = false;
  p->intena = false;
  p->user = UserProcess{};
  p->host.pid = next_host_pid_++;
  p->host.alive = true;
  p->host.running = false;
  p->host.map.assign(static_cast<size_t>(config_.pages), -1);
  if (p->thread == nullptr) {
    p->thread = sim_.CreateFiber(absl::StrCat("task[", p - task_, "]"), &Kernel::TaskMain, p);
  } else {
    sim_.ResetFiber(p->thread, &Kernel::TaskMain, p);
  }
  return p;
}

// Where every task starts once the tracing thread first continues it.
void Kernel::ret_from_fork() {
  task_struct* p = current_;
  switch_in(p);
  sim_.intr_on();
  check_new_task_interruptible(p);
  switch (p->kind) {
    case task_struct::kIdle:
      cpu_idle();
    case task_struct::kKswapd:
      kswapd();
    case task_struct::kUser:
      user_main();
  }
  SY_CHECK(false);
}

mm_struct* Kernel::mm_alloc() {
  mms_.push_back(
      sim::ArenaNew<mm_struct>(static_cast<int>(mms_.size()), config_.pages, config_.slots));
  mm_struct* mm = mms_.back();
  mm->users = 1;
  return mm;
}

// fork()'s copy of the address space: every page the parent has gets its own copy, in a free
// frame when there is one, otherwise straight to swap (fork does not reclaim here).
mm_struct* Kernel::dup_mmap(const mm_struct* old) {
  mm_struct* mm = mm_alloc();
  for (int page = 0; page < config_.pages; ++page) {
    const pte_t& from = old->pgd[page];
    pte_t& to = mm->pgd[page];
    {
      sim::Simulator::Ghost ghost;  // checker state
      mm->contents[page] = old->contents[page];
    }
    if (from.state == pte_t::kNone) continue;
    uint64_t value = from.state == pte_t::kPresent ? frames_[from.frame].value : from.swap;
    int frame = get_free_frame();
    if (frame < 0) {
      to.state = pte_t::kSwapped;
      to.swap = value;
      continue;
    }
    frames_[frame] = {mm->id, page, value};
    to.state = pte_t::kPresent;
    to.frame = frame;
  }
  return mm;
}

// Drops a reference to `mm`; the last user frees its frames.
void Kernel::mmput(mm_struct* mm) {
  SY_CHECK(mm->users >= 1);
  if (--mm->users > 0) return;
  for (pte_t& e : mm->pgd) {
    if (e.state == pte_t::kPresent) free_frame(e.frame);
    e = pte_t{};
  }
}

// fork() (clone_vm false: a copy of the mm) or clone(CLONE_VM) (a thread sharing the mm). Either
// way the child is a new host process with an empty host address space, which agrees with every
// change made so far, so its private count starts at the mm's count.
int Kernel::do_fork(bool clone_vm, const Program* program) {
  task_struct* p = current_;
  task_struct* np = alloc_task(task_struct::kUser, clone_vm ? "thread" : "fork");
  if (np == nullptr) return -1;
  if (clone_vm) {
    np->mm = p->mm;
    ++np->mm->users;
  } else {
    np->mm = dup_mmap(p->mm);
  }
  np->vm_seen = CaughtUpPosition(np->mm->changes, flaw_);
  {
    sim::Simulator::Ghost ghost;  // checker state
    np->seen_truth = np->mm->changes.count();
  }
  np->user.program = program;
  np->state = TASK_RUNNING;
  sim_.Note(clone_vm ? "clone" : "fork", static_cast<uint64_t>(np->pid),
            static_cast<uint64_t>(np->mm->id));
  return np->pid;
}

// The process ends: it drops its mm and becomes a zombie; the tracing thread kills its host
// process when it switches away from it, and the slot is free again.
void Kernel::do_exit() {
  task_struct* p = current_;
  p->user_mode = false;
  mm_struct* mm = p->mm;
  p->mm = nullptr;
  mmput(mm);
  p->state = TASK_ZOMBIE;
  schedule();
  SY_CHECK(false);  // a zombie is never continued
}

}  // namespace switchyard::uml
