#include "views/timeline.h"

#include "absl/strings/str_cat.h"

namespace switchyard::views {

const std::string& RunView::FiberName(uint32_t fiber) const {
  static const std::string unknown = "?";
  return fiber < fiber_names.size() ? fiber_names[fiber] : unknown;
}

const SourceLocation& RunView::LocationOf(const sim::PointRecord& point) const {
  static const SourceLocation unknown{"?", "", 0, "", "", ""};
  auto it = symbols.locations.find(point.pc);
  return it == symbols.locations.end() ? unknown : it->second;
}

std::string RunView::ViolationLine() const {
  if (outcome.kind == sim::Outcome::Kind::kPass) return "";
  return absl::StrCat(outcome.invariant, ": ", outcome.message);
}

void SymbolizePoints(RunView* view) {
  std::vector<const void*> pcs;
  pcs.reserve(view->points.size());
  for (const sim::PointRecord& p : view->points) pcs.push_back(p.pc);
  view->symbols = Symbolize(pcs);
}

std::string DescribeEvent(const RunView& view, const sim::TraceRecord& r) {
  switch (r.kind) {
    case sim::EventKind::kCpu:
      return absl::StrCat("runs (was on cpu", r.a, ")");
    case sim::EventKind::kSwitch:
      return absl::StrCat("swtch ", view.FiberName(static_cast<uint32_t>(r.a)), " -> ",
                          view.FiberName(static_cast<uint32_t>(r.b)));
    case sim::EventKind::kInterrupt:
      return r.a == 0 ? std::string("timer interrupt") : absl::StrCat("interrupt line ", r.a);
    case sim::EventKind::kNote:
      return absl::StrCat(r.label, "(", r.a, ", ", r.b, ")");
    case sim::EventKind::kViolation:
      return absl::StrCat("VIOLATION ", view.ViolationLine());
    case sim::EventKind::kIdle:
      return "wfi: waits for an interrupt";
  }
  return "?";
}

std::vector<Entry> BuildEntries(const RunView& view) {
  std::vector<Entry> entries;
  const int cpus = view.cpus();
  std::vector<Standing> standing(cpus);
  std::vector<const SourceLocation*> last_location(view.fiber_names.size(), nullptr);
  for (int c = 0; c < cpus; ++c) standing[c].fiber = view.boot_fibers[c];
  auto all_boot = [&] {
    for (int c = 0; c < cpus; ++c) {
      if (standing[c].fiber != view.boot_fibers[c]) return false;
    }
    return true;
  };
  const sim::PointRecord* previous = nullptr;
  size_t next_record = 0;
  auto emit_events_before = [&](uint64_t step) {
    for (; next_record < view.records.size() && view.records[next_record].step < step;
         ++next_record) {
      const sim::TraceRecord& r = view.records[next_record];
      if (r.cpu >= cpus) continue;
      Entry e;
      e.event = &r;
      e.step = r.step;
      e.cpu = r.cpu;
      bool quiet_kind = r.kind == sim::EventKind::kCpu || r.kind == sim::EventKind::kIdle ||
                        (r.kind == sim::EventKind::kInterrupt && r.a == 0);
      if (r.kind == sim::EventKind::kSwitch) {
        standing[r.cpu].fiber = static_cast<uint32_t>(r.b);
        standing[r.cpu].location = r.b < last_location.size() ? last_location[r.b] : nullptr;
      }
      if (r.kind == sim::EventKind::kIdle) standing[r.cpu].idle = true;
      if (r.kind == sim::EventKind::kInterrupt) standing[r.cpu].idle = false;
      e.quiet = quiet_kind && all_boot();
      e.standing = standing;
      entries.push_back(std::move(e));
    }
  };
  for (const sim::PointRecord& p : view.points) {
    emit_events_before(p.step);
    if (p.cpu >= cpus) continue;
    Entry e;
    e.point = &p;
    e.step = p.step;
    e.cpu = p.cpu;
    e.preempted = previous != nullptr && previous->cpu != p.cpu &&
                  previous->kind != sim::PointKind::kSpin &&
                  previous->kind != sim::PointKind::kWait && !standing[previous->cpu].idle;
    const SourceLocation* location = &view.LocationOf(p);
    standing[p.cpu].fiber = p.fiber;
    standing[p.cpu].location = location;
    if (p.kind != sim::PointKind::kWait) standing[p.cpu].idle = false;
    if (p.fiber < last_location.size()) last_location[p.fiber] = location;
    e.quiet = all_boot();
    e.standing = standing;
    entries.push_back(std::move(e));
    previous = &p;
  }
  emit_events_before(UINT64_MAX);
  return entries;
}

std::vector<std::pair<size_t, size_t>> IdleStretches(const std::vector<Entry>& entries,
                                                     uint64_t min_steps) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t i = 0;
  while (i < entries.size()) {
    if (!entries[i].quiet) {
      ++i;
      continue;
    }
    size_t j = i;
    uint64_t points = 0;
    while (j < entries.size() && entries[j].quiet) points += entries[j++].point != nullptr;
    if (points >= min_steps) out.emplace_back(i, j);
    i = j;
  }
  return out;
}

}  // namespace switchyard::views
