#include "kernel_models/uml/workload.h"

#include "base/check.h"

namespace switchyard::uml {

Workload::Workload(const WorkloadOptions& options, int pages, sim::Decider& decider,
                   sim::StreamId stream)
    : options_(options), pages_(pages), decider_(decider), stream_(stream) {
  SY_CHECK(options.processes >= 1);
  SY_CHECK(options.program_length >= 1);
  SY_CHECK(pages >= 1);
  for (int i = 0; i < options.processes; ++i) {
    ++processes_;
    boot_.push_back(Generate(0));
  }
}

Workload::~Workload() {
  for (Program* p : programs_) sim::ArenaDelete(p);
}

Program* Workload::New() {
  programs_.push_back(sim::ArenaNew<Program>());
  return programs_.back();
}

const Program* Workload::Generate(int depth) {
  Program* p = New();
  const int weights[] = {options_.touch_weight, options_.sleep_weight, options_.fork_weight,
                         options_.clone_weight, options_.reclaim_weight};
  enum Choice { kTouch, kSleep, kFork, kClone, kReclaim };
  int total = 0;
  for (int w : weights) total += w;
  SY_CHECK(total >= 1);
  // A process works on a few pages of its own: touching the same pages again is what makes a
  // stale host mapping observable.
  const uint32_t hot = 1 + decider_.Choose(stream_, static_cast<uint32_t>(pages_));
  const int base = static_cast<int>(decider_.Choose(stream_, static_cast<uint32_t>(pages_)));
  int length = 1 + static_cast<int>(decider_.Choose(stream_, options_.program_length));
  for (int i = 0; i < length; ++i) {
    int draw = static_cast<int>(decider_.Choose(stream_, static_cast<uint32_t>(total)));
    int c = 0;
    while (draw >= weights[c]) draw -= weights[c++];
    switch (static_cast<Choice>(c)) {
      case kTouch: {
        int page = (base + static_cast<int>(decider_.Choose(stream_, hot))) % pages_;
        Op op = decider_.Choose(stream_, 2) == 0 ? Op::kRead : Op::kWrite;
        p->actions.push_back({op, page});
        break;
      }
      case kSleep:
        p->actions.push_back(
            {Op::kSleep, 1 + static_cast<int>(decider_.Choose(
                                 stream_, static_cast<uint32_t>(options_.sleep_ticks_max)))});
        break;
      case kFork:
      case kClone: {
        if (depth >= options_.depth || children_ >= options_.max_children) break;
        ++children_;
        ++processes_;
        const Program* child = Generate(depth + 1);
        p->actions.push_back({c == kFork ? Op::kFork : Op::kClone, 0, child});
        break;
      }
      case kReclaim:
        p->actions.push_back(
            {Op::kReclaim, 1 + static_cast<int>(decider_.Choose(
                                   stream_, static_cast<uint32_t>(options_.reclaim_max)))});
        break;
    }
  }
  p->actions.push_back({Op::kExit});
  return p;
}

}  // namespace switchyard::uml
