// The workload's user mode: each process interprets its program; system calls and faults enter
// the UML kernel.
#include "absl/strings/str_cat.h"
#include "kernel_models/uml/kernel.h"

namespace switchyard::uml {

void Kernel::user_main() {
  task_struct* p = current_;
  p->user_mode = true;
  for (;;) {
    const Action& action = p->user.program->actions[p->user.pc++];
    switch (action.op) {
      case Op::kRead:
      case Op::kWrite:
        touch(p, action.arg, action.op == Op::kWrite);
        break;
      case Op::kSleep:
        p->user_mode = false;
        sleep_ticks(action.arg);
        return_to_user(p);
        break;
      case Op::kFork:
      case Op::kClone:
        p->user_mode = false;
        sim_.CoarsePoint();  // system call entry
        do_fork(action.op == Op::kClone, action.child);
        return_to_user(p);
        break;
      case Op::kReclaim:
        // The process allocates under pressure and reclaims memory itself, in its own context.
        p->user_mode = false;
        for (int i = 0; i < action.arg; ++i) {
          sim_.CoarsePoint();  // before reclaim
          if (!try_to_free_pages(p)) break;
          check_no_lost_unmaps(p, "after it reclaimed a page");
        }
        sim_.CoarsePoint();  // after reclaim
        return_to_user(p);
        break;
      case Op::kExit:
        sim_.NoteProgress();
        do_exit();
    }
    sim_.NoteProgress();
  }
}

// A read or write of `page` through the host process's own address space. A touch with no host
// mapping faults; a touch through a stale mapping reaches whatever the frame holds now.
void Kernel::touch(task_struct* p, int page, bool write) {
  check_user_mode_interruptible(p);
  sim_.Point();  // user mode: the timer may preempt the process here
  check_timer_delivered(p);
  // The instruction itself is one access: the host's MMU translates through the host mapping
  // and the load or store happens at once, so the timer cannot arrive between the two (Ghost:
  // no points). A missing mapping faults into the kernel, whose code makes points again.
  sim::Simulator::Ghost instruction;
  while (p->host.map[page] < 0) {
    sim::Simulator::Ghost::Pause kernel(instruction);
    handle_page_fault(p, page);
  }
  const int frame = p->host.map[page];
  page_frame& f = frames_[frame];
  if (f.mm != p->mm->id || f.page != page) {
    std::string message =
        absl::StrCat("pid ", p->pid, " ", write ? "writes" : "reads", " page ", page, " of mm ",
                     p->mm->id, " through host frame ", frame, ", which ",
                     f.mm < 0 ? std::string("is free")
                              : absl::StrCat("belongs to mm ", f.mm, " page ", f.page,
                                             " (it sees 0x", absl::Hex(f.value), ")"));
    sim_.Fail("isolation", std::move(message));
  }
  if (write) {
    f.value = (static_cast<uint64_t>(p->pid) << 32) | ++write_serial_;
  }
  const uint64_t value = f.value;
  if (write) {  // checker state: what the page should hold
    p->mm->contents[page] = value;
  } else {
    SY_CHECK(value == p->mm->contents[page]);
  }
  sim_.NoteProgress();
}

}  // namespace switchyard::uml
