// The walk both views share: the run's point records and trace events merged in order, with
// where every vCPU stands after each entry (its fiber, that fiber's last location, idle or not),
// which steps were preemptions the decider chose, and which entries belong to idle stretches.
#ifndef SWITCHYARD_VIEWS_TIMELINE_H_
#define SWITCHYARD_VIEWS_TIMELINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "views/run_view.h"

namespace switchyard::views {

struct Standing {
  uint32_t fiber = 0;
  const SourceLocation* location = nullptr;  // null: the fiber has not reached a point yet
  bool idle = false;                         // in wfi with nothing pending
};

struct Entry {
  // A point: `cpu`'s fiber reached `point` (it is about to run that line). An event: a trace
  // record (switch, interrupt, note, idle, violation), which happens after the point of its step.
  const sim::PointRecord* point = nullptr;
  const sim::TraceRecord* event = nullptr;
  uint64_t step = 0;
  int cpu = 0;
  bool preempted = false;  // point: the decider moved here while the previous vCPU could go on
  bool quiet = false;      // every vCPU runs its boot thread; only ticks, idling, scheduler loops
  std::vector<Standing> standing;  // index = vCPU, after this entry
};

std::vector<Entry> BuildEntries(const RunView& view);

// One line for a trace event: "swtch proc[0] -> cpu0-scheduler", "timer interrupt", ...
std::string DescribeEvent(const RunView& view, const sim::TraceRecord& r);

// Index ranges [begin, end) of `entries` that form idle stretches of at least `min_steps` points.
std::vector<std::pair<size_t, size_t>> IdleStretches(const std::vector<Entry>& entries,
                                                     uint64_t min_steps);

}  // namespace switchyard::views

#endif  // SWITCHYARD_VIEWS_TIMELINE_H_
