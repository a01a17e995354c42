// Memory: page faults, frames, reclaim and swap-out, and the switch-in catch-up of a host address
// space (arch/um/kernel/tlb.c, trap_kern.c, mm/memory.c and mm/vmscan.c of 2.4-era UML).
#include "absl/strings/str_cat.h"
#include "kernel_models/uml/kernel.h"

namespace switchyard::uml {

// Brings p's host address space up to date with its mm on switch-in. When the mm's count minus
// the process's private count is at most N, the unseen changes are all still in the ring: replay
// them, oldest first. Otherwise the ring wrapped for this process: fix_range over the whole
// address space. Either way the process has then seen everything the mm has.
void Kernel::flush_tlb_mm(task_struct* p) {
  mm_struct* mm = p->mm;
  const CatchUpPlan plan = PlanCatchUp(mm->changes, p->vm_seen, flaw_);
  replayed_.clear();
  sim_.Note("catch-up", static_cast<uint64_t>(p->pid), mm->changes.count());
  if (plan.rescan) {
    sim_.Note("fix_range-all", static_cast<uint64_t>(p->pid), mm->changes.count());
    fix_range(p, 0, config_.pages);
  } else {
    for (uint64_t n = plan.first; n < plan.last; ++n) {
      int page = mm->changes.SlotPage(n);
      replayed_.push_back(page);
      sim_.Note("replay", static_cast<uint64_t>(p->pid), static_cast<uint64_t>(page));
      fix_range(p, page, page + 1);
    }
  }
  p->vm_seen = CaughtUpPosition(mm->changes, flaw_);
  if (config_.check_wrap_accounting) check_wrap_accounting(p, plan.rescan);
  check_no_lost_unmaps(p, "after its switch-in");
  sim::Simulator::Ghost ghost;  // checker state
  p->seen_truth = mm->changes.count();
  p->in_sync = true;
}

// Makes p's host mappings of pages [start, end) agree with the page table: a host mapping that
// the page table no longer has, or has to another frame, is unmapped (munmap). Present pages are
// not mapped ahead of time; the next touch faults them in.
void Kernel::fix_range(task_struct* p, int start, int end) {
  const mm_struct* mm = p->mm;
  for (int page = start; page < end; ++page) {
    int host = p->host.map[page];
    if (host < 0) continue;
    const pte_t& e = mm->pgd[page];
    if (e.state == pte_t::kPresent && e.frame == host) continue;
    p->host.map[page] = -1;
    sim_.Note("munmap", static_cast<uint64_t>(p->host.pid), static_cast<uint64_t>(page));
  }
}

// A touch of a page the host process has no mapping for: the host raises SIGSEGV, the tracing
// thread hands it to the UML kernel, which maps the page from the page table, bringing it in
// first (from swap, or a zero page) if it is not present.
void Kernel::handle_page_fault(task_struct* p, int page) {
  p->user_mode = false;
  sim_.CoarsePoint();  // entry to the kernel: the timer may tick (need_resched)
  pte_t& e = p->mm->pgd[page];
  if (e.state != pte_t::kPresent) {
    int frame = alloc_frame();
    frames_[frame] = {p->mm->id, page, e.state == pte_t::kSwapped ? e.swap : 0};
    e.state = pte_t::kPresent;
    e.frame = frame;
  }
  p->host.map[page] = e.frame;  // mmap the frame into the host process
  sim_.Note("fault", static_cast<uint64_t>(page), static_cast<uint64_t>(e.frame));
  return_to_user(p);
}

// Back to user mode: honour a reschedule the timer asked for while in the kernel.
void Kernel::return_to_user(task_struct* p) {
  // As ret_from_sys_call: signals blocked from the test to the return, so a tick cannot set
  // need_resched behind the test. The planted bug leaves them open.
  const bool block = config_.bug != Bug::kReturnToUserInterruptible;
  // The window "return-to-user-interruptible" needs: a tick due as the process heads back.
  if (sim_.interrupt_pending()) sim_.Mark("tick-due-at-return-to-user");
  if (block) sim_.intr_off();
  const bool resched = p->need_resched;
  if (resched) schedule();
  p->user_mode = true;
  check_no_pending_resched(p);
  // The planted bug: the fast path, with no reschedule due, returns with signals still blocked.
  if (config_.bug == Bug::kReturnToUserKeepsSignalsBlocked && !resched) return;
  if (block) sim_.intr_on();
}

// A free frame chosen by the decider (stream "frames"), or -1. Reuse order is arbitrary in the
// real allocator too, and a stale mapping is only visible when its frame is reused.
int Kernel::get_free_frame() {
  scratch_.clear();
  for (int f = 0; f < config_.frames; ++f) {
    if (frames_[f].mm < 0) scratch_.push_back(f);
  }
  if (scratch_.empty()) return -1;
  return scratch_[sim_.decider().Choose(frames_stream_, static_cast<uint32_t>(scratch_.size()))];
}

// __get_free_page for the running process: when memory is exhausted the process reclaims a page
// itself; when it runs low kswapd is woken.
int Kernel::alloc_frame() {
  task_struct* p = current_;
  for (;;) {
    int frame = get_free_frame();
    if (frame >= 0) {
      int free = 0;
      for (const page_frame& f : frames_) free += f.mm < 0 ? 1 : 0;
      if (free <= config_.frames / 4) wakeup_kswapd(1);  // below pages_low
      return frame;
    }
    sim_.CoarsePoint();  // before reclaim
    bool freed = try_to_free_pages(p);
    SY_CHECK(freed);  // every frame in use belongs to a present page
    check_no_lost_unmaps(p, "after it reclaimed a page");
    sim_.CoarsePoint();  // after reclaim
  }
}

void Kernel::free_frame(int frame) {
  SY_CHECK(frames_[frame].mm >= 0);
  frames_[frame] = page_frame{};
}

// Swaps out one page (stream "reclaim" picks it). A process reclaiming for itself picks from its
// own mm half the time, which is the case the planted bug kSelfReclaimKeepsMapping gets wrong.
// Returns false when no page is in memory.
bool Kernel::try_to_free_pages(task_struct* reclaimer) {
  auto has_present = [](const mm_struct* mm) {
    for (const pte_t& e : mm->pgd) {
      if (e.state == pte_t::kPresent) return true;
    }
    return false;
  };
  mm_struct* victim = nullptr;
  mm_struct* own = reclaimer->mm;  // null for kswapd: kernel threads have no mm of their own
  // The planted bug forgets that, as kernel code that assumes current->mm once did.
  const bool user_mm = own != nullptr || config_.bug == Bug::kReclaimAssumesUserMm;
  if (user_mm && has_present(own) && sim_.decider().Choose(reclaim_stream_, 2) == 0) {
    victim = own;
  } else {
    scratch_.clear();
    for (const mm_struct* mm : mms_) {
      if (mm->users > 0 && has_present(mm)) scratch_.push_back(mm->id);
    }
    if (scratch_.empty()) return false;
    victim = mms_[scratch_[sim_.decider().Choose(reclaim_stream_,
                                                 static_cast<uint32_t>(scratch_.size()))]];
  }
  scratch_.clear();
  for (int page = 0; page < config_.pages; ++page) {
    if (victim->pgd[page].state == pte_t::kPresent) scratch_.push_back(page);
  }
  SY_CHECK(!scratch_.empty());
  swap_out_page(
      victim,
      scratch_[sim_.decider().Choose(reclaim_stream_, static_cast<uint32_t>(scratch_.size()))]);
  return true;
}

// try_to_swap_out(): the page goes to swap, its frame is freed for reuse, and its address is
// appended to the mm's change ring for the processes using the mm to apply when they next run.
// If the running process itself uses the mm, its own host mapping goes at once: it will not pass
// through a switch-in before its next touch.
void Kernel::swap_out_page(mm_struct* mm, int page) {
  pte_t& e = mm->pgd[page];
  SY_CHECK(e.state == pte_t::kPresent);
  int frame = e.frame;
  e.state = pte_t::kSwapped;
  e.swap = frames_[frame].value;
  e.frame = -1;
  free_frame(frame);
  mm->changes.Append(page);
  mm->history.push_back(page);
  sim_.Note("swap-out", static_cast<uint64_t>(mm->id), static_cast<uint64_t>(page));
  task_struct* p = current_;
  if (p->mm == mm && config_.bug != Bug::kSelfReclaimKeepsMapping) fix_range(p, page, page + 1);
}

}  // namespace switchyard::uml
