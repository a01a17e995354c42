// A finished run as the views (views/interleaving.h, views/html.h) read it: the trace records,
// one point record per step, fiber names, the outcome, the model's explanation of a liveness
// failure, and the source location of every recorded code address.
#ifndef SWITCHYARD_VIEWS_RUN_VIEW_H_
#define SWITCHYARD_VIEWS_RUN_VIEW_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/simulator.h"
#include "sim/trace.h"
#include "views/symbolize.h"

namespace switchyard::views {

struct RunView {
  std::vector<sim::TraceRecord> records;
  std::vector<sim::PointRecord> points;  // one per step, in step order
  std::vector<std::string> fiber_names;
  std::vector<uint32_t> boot_fibers;  // index = vCPU
  sim::Outcome outcome;
  // What the model says about a liveness failure, one entry per stuck thread (may be empty).
  std::vector<sim::StuckExplanation> explanations;
  Symbolized symbols;          // locations of every pc in `points`
  std::string replay_command;  // pasteable; "" if none

  int cpus() const { return static_cast<int>(boot_fibers.size()); }
  const std::string& FiberName(uint32_t fiber) const;
  // The location of a point's pc, or an unknown location.
  const SourceLocation& LocationOf(const sim::PointRecord& point) const;
  // "no-progress: no progress for ..." or "" for a pass.
  std::string ViolationLine() const;
};

// Symbolizes the points' pcs and fills `symbols`.
void SymbolizePoints(RunView* view);

}  // namespace switchyard::views

#endif  // SWITCHYARD_VIEWS_RUN_VIEW_H_
