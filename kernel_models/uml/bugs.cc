// The UML model's planted bugs: names and one-line descriptions for --bug and `switchyard list`.
#include "kernel_models/uml/kernel.h"

namespace switchyard::uml {

std::vector<Bug> AllBugs() {
  return {Bug::kWrapOffByOne, Bug::kPositionModulo, Bug::kSelfReclaimKeepsMapping,
          Bug::kContinueBeforeStop};
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
  }
  return "?";
}

}  // namespace switchyard::uml
