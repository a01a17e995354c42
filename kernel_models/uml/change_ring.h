// The change ring of a UML mm_struct (Dike, "A user-mode port of the Linux kernel", 2000): a
// circular buffer of the virtual pages whose mappings changed while processes using the mm were
// stopped, and the arithmetic a process uses to catch up with it from its private absolute count.
//
// The ring keeps the last `slots` changes. The mm counts every change ever made (an absolute
// count); change number n lives in slot n % slots until change n + slots overwrites it. A process
// stores the absolute count it has applied up to. On switch-in, when the mm's count minus its own
// is at most `slots`, every unseen change is still in the ring and it replays them oldest first;
// otherwise some were overwritten (the ring "wrapped" for this process) and it scans its whole
// address space against the page table (fix_range over everything).
//
// Why absolute: several processes (CLONE_VM threads) share one mm while their host address spaces
// are at different positions, and a slot index alone cannot tell "up to date" from "a full lap
// behind".
//
// The two planted bugs of the arithmetic are PositionFlaw values, so that the stateful test can
// drive the flawed variants as well as the correct one.
#ifndef SWITCHYARD_KERNEL_MODELS_UML_CHANGE_RING_H_
#define SWITCHYARD_KERNEL_MODELS_UML_CHANGE_RING_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/arena.h"

namespace switchyard::uml {

enum class PositionFlaw {
  kNone,
  kWrapOffByOne,       // the wrap test is `count - seen > slots + 1`
  kSlotIndexPosition,  // the process stores `count % slots` instead of the absolute count
};

class ChangeRing {
 public:
  // REQUIRES: slots >= 1.
  explicit ChangeRing(int slots);

  int slots() const { return static_cast<int>(slot_pages_.size()); }
  // Changes ever appended.
  uint64_t count() const { return count_; }
  // Records that the mapping of `page` changed: it becomes change number count().
  void Append(int page);
  // The page recorded in change n's slot. REQUIRES: n < count(). If change n has been overwritten
  // (count() > n + slots), this is the later change's page, exactly as the real buffer reads.
  int SlotPage(uint64_t n) const;

 private:
  sim::ArenaVector<int> slot_pages_;
  uint64_t count_ = 0;
};

// What a process does on switch-in to catch up with its mm's ring.
struct CatchUpPlan {
  bool rescan = false;  // the ring wrapped for this process: fix the whole address space
  uint64_t first = 0;   // otherwise replay changes [first, last), oldest first
  uint64_t last = 0;
};

// The plan for a process whose stored position is `position`. REQUIRES (correct model):
// position <= ring.count().
CatchUpPlan PlanCatchUp(const ChangeRing& ring, uint64_t position,
                        PositionFlaw flaw = PositionFlaw::kNone);

// The position a process stores once it has caught up: the absolute count (with the flaw
// kSlotIndexPosition, the slot index count % slots).
uint64_t CaughtUpPosition(const ChangeRing& ring, PositionFlaw flaw = PositionFlaw::kNone);

}  // namespace switchyard::uml

#endif  // SWITCHYARD_KERNEL_MODELS_UML_CHANGE_RING_H_
