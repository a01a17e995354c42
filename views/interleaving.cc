#include "views/interleaving.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "views/timeline.h"

namespace switchyard::views {
namespace {

// Fits `s` into `width` columns, padding or cutting with "...".
std::string Fit(const std::string& s, size_t width) {
  if (s.size() <= width) return s + std::string(width - s.size(), ' ');
  return s.substr(0, width - 3) + "...";
}

std::string Trim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

class Formatter {
 public:
  Formatter(const RunView& view, const std::vector<Entry>& entries)
      : view_(view), entries_(entries), width_(view.cpus() <= 2 ? 64 : 44) {}

  std::string Header() const {
    std::string out = absl::StrFormat("%7s  ", "step");
    for (int c = 0; c < view_.cpus(); ++c) {
      absl::StrAppend(&out, "| ", Fit(absl::StrCat("cpu", c), width_), " ");
    }
    return Trim(out) + "\n";
  }

  // One entry as a row. Points: the moving vCPU's cell shows the line's text, the others where
  // they stand. Events: the event in its vCPU's column.
  std::string Row(const Entry& e) const {
    if (e.event != nullptr && e.event->kind == sim::EventKind::kCpu) return "";
    std::string out = e.point != nullptr ? absl::StrFormat("%7d  ", e.step) : std::string(9, ' ');
    for (int c = 0; c < view_.cpus(); ++c) {
      std::string cell;
      if (e.event != nullptr) {
        if (c == e.cpu) {
          cell = absl::StrCat("~ ",
                              e.event->kind == sim::EventKind::kSwitch
                                  ? ""
                                  : absl::StrCat("[", view_.FiberName(e.event->fiber), "] "),
                              DescribeEvent(view_, *e.event));
          if (e.event->kind == sim::EventKind::kViolation) {
            absl::StrAppend(&out, "| ", cell, "\n");
            return out;
          }
        }
      } else if (c == e.cpu) {
        const SourceLocation& loc = *e.standing[c].location;
        cell = absl::StrCat(e.preempted ? "* " : "> ", loc.Short(), loc.text.empty() ? "" : "  ",
                            loc.text);
      } else {
        cell = Standing(e.standing[c]);
      }
      absl::StrAppend(&out, "| ", Fit(cell, width_), " ");
    }
    return Trim(out) + "\n";
  }

  std::string Standing(const views::Standing& s) const {
    if (s.idle) return "  (idle: wfi)";
    if (s.location == nullptr)
      return absl::StrCat("  ", view_.FiberName(s.fiber), " (not started)");
    return absl::StrCat("  ", s.location->Short());
  }

  // Rows [begin, end) with idle stretches collapsed.
  std::string Rows(size_t begin, size_t end, const std::vector<std::pair<size_t, size_t>>& idle,
                   uint64_t highlight = 0, const std::string& why = "") const {
    std::string out;
    size_t i = begin;
    while (i < end) {
      auto stretch = std::find_if(idle.begin(), idle.end(),
                                  [&](const auto& r) { return r.first <= i && i < r.second; });
      if (stretch != idle.end()) {
        size_t stop = std::min(end, stretch->second);
        absl::StrAppend(&out, Collapsed(i, stop));
        i = stop;
        continue;
      }
      std::string row = Row(entries_[i]);
      if (highlight != 0 && entries_[i].point != nullptr && entries_[i].step == highlight) {
        row.pop_back();
        absl::StrAppend(&row, "   <== ", why, "\n");
      }
      absl::StrAppend(&out, row);
      ++i;
    }
    return out;
  }

  std::string Collapsed(size_t begin, size_t end) const {
    uint64_t ticks = 0, first = 0, last = 0;
    bool waited = false;
    for (size_t i = begin; i < end; ++i) {
      const Entry& e = entries_[i];
      if (e.event != nullptr && e.event->kind == sim::EventKind::kInterrupt) ++ticks;
      if (e.event != nullptr && e.event->kind == sim::EventKind::kIdle) waited = true;
      if (e.point != nullptr) {
        if (first == 0) first = e.step;
        last = e.step;
      }
    }
    std::string who = view_.cpus() == 1   ? "the CPU"
                      : view_.cpus() == 2 ? "both CPUs"
                                          : absl::StrCat("all ", view_.cpus(), " CPUs");
    std::string threads;
    for (uint32_t fiber : view_.boot_fibers) {
      absl::StrAppend(&threads, threads.empty() ? "" : ", ", view_.FiberName(fiber));
    }
    return absl::StrCat(
        "         ... steps ", first, "-", last, ": ",
        ticks == 0 ? "" : absl::StrCat(ticks, ticks == 1 ? " timer tick, " : " timer ticks, "), who,
        waited ? " idle" : " in their boot threads", " (only ", threads, " ran) ...\n");
  }

  size_t IndexOfStep(uint64_t step) const {
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].point != nullptr && entries_[i].step >= step) return i;
    }
    return entries_.size();
  }

  // The indexes of `rows` point entries before and after `center` (events between included).
  std::pair<size_t, size_t> Window(size_t center, uint64_t before, uint64_t after) const {
    size_t begin = center, end = center;
    for (uint64_t n = 0; begin > 0 && n < before;) n += entries_[--begin].point != nullptr;
    for (uint64_t n = 0; end < entries_.size() && n <= after;)
      n += entries_[end++].point != nullptr;
    while (end < entries_.size() && entries_[end].point == nullptr) ++end;
    return {begin, end};
  }

 private:
  const RunView& view_;
  const std::vector<Entry>& entries_;
  size_t width_;
};

}  // namespace

std::string FormatInterleaving(const RunView& view) {
  std::vector<Entry> entries = BuildEntries(view);
  std::vector<std::pair<size_t, size_t>> idle = IdleStretches(entries, kCollapseMinSteps);
  Formatter f(view, entries);
  std::string out;
  const sim::Outcome& o = view.outcome;
  if (o.kind == sim::Outcome::Kind::kPass) {
    absl::StrAppend(&out, "outcome: pass after ", o.step, " steps\n");
  } else {
    absl::StrAppendFormat(&out, "VIOLATION (%s) %s at step %d, time %d\n  %s\n",
                          sim::KindName(o.kind), o.invariant, o.step, o.time, o.message);
  }
  if (!view.symbols.note.empty()) absl::StrAppend(&out, "note: ", view.symbols.note, "\n");

  // 1-2. The model's explanation, and the rows around the step it points at.
  for (const sim::StuckExplanation& e : o.stuck) {
    absl::StrAppend(&out, "\n", e.lost ? "LOST WAKEUP: " : "stuck: ", view.FiberName(e.fiber),
                    " waits for ", e.waits_for, "\n  why: ", e.why, "\n");
    if (e.wakeup_step == 0) continue;
    absl::StrAppend(&out, "\nside by side at step ", e.wakeup_step, ", the last wakeup on ",
                    e.waits_for, ":\n", f.Header());
    auto [begin, end] = f.Window(f.IndexOfStep(e.wakeup_step), kWindowRows, kWindowRows);
    absl::StrAppend(&out, f.Rows(begin, end, {}, e.wakeup_step,
                                 e.lost ? "the wakeup misses the sleeper" : "the last wakeup"));
  }
  if (o.kind == sim::Outcome::Kind::kSafety) {
    absl::StrAppend(&out, "\nside by side before the violation:\n", f.Header());
    auto [begin, end] = f.Window(entries.size(), 2 * kWindowRows, 0);
    absl::StrAppend(&out, f.Rows(begin, entries.size(), {}));
  }

  // 3. The last steps of every thread, the most recently active first.
  std::map<uint32_t, std::vector<size_t>> by_fiber;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].point != nullptr) by_fiber[entries[i].point->fiber].push_back(i);
  }
  std::vector<std::pair<size_t, uint32_t>> order;
  for (const auto& [fiber, rows] : by_fiber) order.emplace_back(rows.back(), fiber);
  std::sort(order.rbegin(), order.rend());
  absl::StrAppend(&out, "\nlast steps of each thread:\n");
  for (const auto& [last, fiber] : order) {
    absl::StrAppend(&out, "  ", view.FiberName(fiber), ":\n");
    const std::vector<size_t>& rows = by_fiber[fiber];
    for (size_t k = rows.size() > kLastStepsPerThread ? rows.size() - kLastStepsPerThread : 0;
         k < rows.size(); ++k) {
      const Entry& e = entries[rows[k]];
      const SourceLocation& loc = *e.standing[e.cpu].location;
      absl::StrAppendFormat(&out, "    step %7d  cpu%d  %s%s%s\n", e.step, e.cpu, loc.Short(),
                            loc.text.empty() ? "" : "  ", loc.text);
    }
  }

  // 4. Everything.
  absl::StrAppend(&out,
                  "\nfull listing ('>' the vCPU reached this line; '*' the same, by a preemption "
                  "the decider chose; other columns: where that vCPU stands; '~' an event):\n",
                  f.Header(), f.Rows(0, entries.size(), idle));
  if (!view.replay_command.empty()) absl::StrAppend(&out, "\nreplay: ", view.replay_command, "\n");
  return out;
}

}  // namespace switchyard::views
