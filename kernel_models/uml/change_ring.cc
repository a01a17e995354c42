#include "kernel_models/uml/change_ring.h"

#include "base/check.h"

namespace switchyard::uml {

ChangeRing::ChangeRing(int slots) {
  SY_CHECK(slots >= 1);
  slot_pages_.assign(static_cast<size_t>(slots), -1);
}

void ChangeRing::Append(int page) {
  SY_CHECK(page >= 0);
  slot_pages_[count_ % slot_pages_.size()] = page;
  ++count_;
}

int ChangeRing::SlotPage(uint64_t n) const {
  SY_CHECK(n < count_);
  return slot_pages_[n % slot_pages_.size()];
}

CatchUpPlan PlanCatchUp(const ChangeRing& ring, uint64_t position, PositionFlaw flaw) {
  const uint64_t slots = static_cast<uint64_t>(ring.slots());
  const uint64_t count = ring.count();
  CatchUpPlan plan;
  plan.last = count;
  if (flaw == PositionFlaw::kSlotIndexPosition) {
    // Only slot indexes are compared: a process a full lap behind looks up to date, and one more
    // than a lap behind replays only the remainder. It never rescans.
    SY_CHECK(position < slots);
    uint64_t pending = (count % slots + slots - position) % slots;
    plan.first = count - pending;
    return plan;
  }
  SY_CHECK(position <= count);
  const uint64_t unseen = count - position;
  const bool wrapped = flaw == PositionFlaw::kWrapOffByOne ? unseen > slots + 1 : unseen > slots;
  if (wrapped) {
    plan.rescan = true;
    plan.first = count;
    return plan;
  }
  plan.first = position;
  return plan;
}

uint64_t CaughtUpPosition(const ChangeRing& ring, PositionFlaw flaw) {
  if (flaw == PositionFlaw::kSlotIndexPosition) {
    return ring.count() % static_cast<uint64_t>(ring.slots());
  }
  return ring.count();
}

}  // namespace switchyard::uml
