// The UML model's planted bugs: names and one-line descriptions for --bug and `switchyard list`.
#include "kernel_models/uml/kernel.h"

namespace switchyard::uml {

std::vector<Bug> AllBugs() {
  return {Bug::kWrapOffByOne,
          Bug::kPositionModulo,
          Bug::kSelfReclaimKeepsMapping,
          Bug::kContinueBeforeStop,
          Bug::kKswapdChecksBeforeSleeping,
          Bug::kReturnToUserInterruptible,
          Bug::kReturnToUserKeepsSignalsBlocked,
          Bug::kReclaimAssumesUserMm};
}

const char* BugName(Bug bug) {
  switch (bug) {
    case Bug::kNone:
      return "none";
    case Bug::kWrapOffByOne:
      return "wrap-off-by-one";
    case Bug::kPositionModulo:
      return "position-modulo";
    case Bug::kSelfReclaimKeepsMapping:
      return "self-reclaim-keeps-mapping";
    case Bug::kContinueBeforeStop:
      return "continue-before-stop";
    case Bug::kKswapdChecksBeforeSleeping:
      return "kswapd-checks-before-sleeping";
    case Bug::kReturnToUserInterruptible:
      return "return-to-user-interruptible";
    case Bug::kReturnToUserKeepsSignalsBlocked:
      return "return-to-user-keeps-signals-blocked";
    case Bug::kReclaimAssumesUserMm:
      return "reclaim-assumes-user-mm";
  }
  return "?";
}

const char* BugDescription(Bug bug) {
  switch (bug) {
    case Bug::kNone:
      return "the correct kernel";
    case Bug::kWrapOffByOne:
      return "the wrap test is off by one (mm_count - seen > slots + 1): with N+1 unseen changes "
             "the oldest is silently skipped";
    case Bug::kPositionModulo:
      return "a process stores its position as count % slots instead of the absolute count: a "
             "full lap behind, it believes it is up to date";
    case Bug::kSelfReclaimKeepsMapping:
      return "a page reclaimed from the running process itself is appended to the ring but not "
             "removed from its own host address space at once";
    case Bug::kContinueBeforeStop:
      return "the tracing thread continues the new process before stopping the old: two UML "
             "processes run on the host at once";
    case Bug::kKswapdChecksBeforeSleeping:
      return "kswapd tests its goal before it sets TASK_INTERRUPTIBLE: a tick in between asks "
             "for pages, finds it running and does not wake it (narrow window: access "
             "granularity only)";
    case Bug::kReturnToUserInterruptible:
      return "the return to user mode tests need_resched with signals unblocked: a tick after "
             "the test goes unanswered (narrow window: access granularity only)";
    case Bug::kReturnToUserKeepsSignalsBlocked:
      return "the return to user mode's fast path (no reschedule due) returns with signals still "
             "blocked: the timer cannot preempt the process until it next enters the kernel";
    case Bug::kReclaimAssumesUserMm:
      return "try_to_free_pages() looks at the reclaimer's own mm without checking for a kernel "
             "thread: when kswapd reclaims, it dereferences its null mm (a host crash, SIGSEGV)";
  }
  return "?";
}

}  // namespace switchyard::uml
