#include "sim/trace.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace switchyard::sim {
namespace {

const std::string& NameOf(const std::vector<std::string>& names, uint64_t fiber) {
  static const std::string unknown = "?";
  return fiber < names.size() ? names[fiber] : unknown;
}

std::string Describe(const TraceRecord& r, const std::vector<std::string>& names,
                     const std::string& violation) {
  switch (r.kind) {
    case EventKind::kCpu:
      return absl::StrCat("runs (was on cpu", r.a, ")");
    case EventKind::kSwitch:
      return absl::StrCat("swtch ", NameOf(names, r.a), " -> ", NameOf(names, r.b));
    case EventKind::kInterrupt:
      return absl::StrCat("interrupt line ", r.a);
    case EventKind::kNote:
      return absl::StrCat(r.label, " ", r.a, " ", r.b);
    case EventKind::kViolation:
      return absl::StrCat("VIOLATION ", violation.empty() ? r.label : violation);
    case EventKind::kIdle:
      return "waits for an interrupt";
  }
  return "?";
}

}  // namespace

std::string FormatTextTimeline(const std::vector<TraceRecord>& records,
                               const std::vector<std::string>& fiber_names,
                               const std::string& violation) {
  std::string out;
  for (const TraceRecord& r : records) {
    absl::StrAppendFormat(&out, "step %8d  t=%8d  cpu%d  %-22s %s\n", r.step, r.time, r.cpu,
                          NameOf(fiber_names, r.fiber), Describe(r, fiber_names, violation));
  }
  return out;
}

std::string FormatChromeTrace(const std::vector<TraceRecord>& records,
                              const std::vector<std::string>& fiber_names,
                              const std::vector<uint32_t>& boot_fibers, uint64_t end_time,
                              const std::string& violation, const std::vector<std::string>* where) {
  using nlohmann::json;
  json events = json::array();
  for (size_t cpu = 0; cpu < boot_fibers.size(); ++cpu) {
    events.push_back({{"ph", "M"},
                      {"pid", 1},
                      {"tid", cpu},
                      {"name", "thread_name"},
                      {"args", {{"name", absl::StrCat("cpu", cpu)}}}});
  }
  std::vector<uint32_t> running = boot_fibers;
  std::vector<uint64_t> since(boot_fibers.size(), 0);
  auto close_slice = [&](size_t cpu, uint64_t now) {
    if (now > since[cpu]) {
      events.push_back({{"ph", "X"},
                        {"pid", 1},
                        {"tid", cpu},
                        {"ts", since[cpu]},
                        {"dur", now - since[cpu]},
                        {"name", NameOf(fiber_names, running[cpu])}});
    }
    since[cpu] = now;
  };
  for (size_t i = 0; i < records.size(); ++i) {
    const TraceRecord& r = records[i];
    if (r.cpu >= running.size()) continue;
    if (r.kind == EventKind::kSwitch) {
      close_slice(r.cpu, r.time);
      running[r.cpu] = static_cast<uint32_t>(r.b);
    }
    if (r.kind == EventKind::kCpu) continue;  // host interleaving, not a machine event
    events.push_back({{"ph", "i"},
                      {"s", "t"},
                      {"pid", 1},
                      {"tid", r.cpu},
                      {"ts", r.time},
                      {"name", Describe(r, fiber_names, violation)},
                      {"args", {{"step", r.step}}}});
    if (where != nullptr && i < where->size() && !(*where)[i].empty()) {
      events.back()["args"]["source"] = (*where)[i];
    }
  }
  for (size_t cpu = 0; cpu < running.size(); ++cpu) close_slice(cpu, end_time);
  json doc = {{"traceEvents", events}, {"displayTimeUnit", "ns"}};
  return doc.dump(1);
}

namespace {
EmulatedCode& EmulatedCodeSlot() {
  static EmulatedCode describe;
  return describe;
}
}  // namespace

void SetEmulatedCode(EmulatedCode describe) { EmulatedCodeSlot() = std::move(describe); }
const EmulatedCode& GetEmulatedCode() { return EmulatedCodeSlot(); }

}  // namespace switchyard::sim
