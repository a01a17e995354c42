#include "views/html.h"

#include <map>

#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "views/timeline.h"

namespace switchyard::views {
namespace {

using nlohmann::json;

const char* InstantClass(sim::EventKind kind) {
  switch (kind) {
    case sim::EventKind::kSwitch:
      return "switch";
    case sim::EventKind::kInterrupt:
      return "interrupt";
    case sim::EventKind::kNote:
      return "note";
    case sim::EventKind::kViolation:
      return "violation";
    case sim::EventKind::kIdle:
      return "idle";
    case sim::EventKind::kCpu:
      break;
  }
  return "";
}

// The page: data in a JSON script element, drawn by the inline script into SVG on load.
constexpr const char* kPage = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>@TITLE@</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:12px;color:#222}
h1{font-size:16px;margin:0 0 6px}
#violation{background:#fde8e8;border-left:4px solid #c00;padding:6px 10px;white-space:pre-wrap}
#violation.pass{background:#e8f5e8;border-color:#080}
.why{background:#fff7e0;border-left:4px solid #d90;padding:4px 10px;margin-top:4px;white-space:pre-wrap}
code,.mono{font-family:ui-monospace,Menlo,monospace}
#controls{margin:8px 0}
#controls button{font-size:13px;margin-right:4px}
svg{border:1px solid #ccc;background:#fafafa;cursor:grab;user-select:none}
.lane-label{font:bold 12px ui-monospace,monospace;fill:#333}
.slice{stroke:#fff;stroke-width:.5}
.slice-label{font:11px ui-monospace,monospace;fill:#000;pointer-events:none}
.instant{stroke-width:1.5}
.instant.interrupt{stroke:#e67e00}
.instant.switch{stroke:#333}
.instant.note{stroke:#2a7ae2}
.instant.idle{stroke:#aaa}
.instant.violation{stroke:#d00;stroke-width:3}
.instant.explained{stroke:#90c;stroke-width:3}
.idle-band{fill:#ddd;opacity:.5}
#tip{position:fixed;display:none;background:#222;color:#eee;padding:6px 8px;border-radius:4px;
  font:12px ui-monospace,monospace;max-width:760px;white-space:pre-wrap;pointer-events:none}
#legend span{margin-right:12px}
</style></head><body>
<h1>@TITLE@</h1>
<div id="violation"></div>
<div id="explanations"></div>
<div id="controls"><button id="zoom-in">zoom in</button><button id="zoom-out">zoom out</button>
<button id="zoom-reset">whole run</button><button id="zoom-violation">around the violation</button>
<span id="range" class="mono"></span></div>
<svg id="timeline" xmlns="http://www.w3.org/2000/svg"></svg>
<div id="legend" class="mono"><span style="color:#e67e00">| interrupt</span><span>| swtch</span>
<span style="color:#2a7ae2">| note</span><span style="color:#aaa">| wfi</span>
<span style="color:#d00">| violation</span><span style="color:#90c">| the last wakeup of a stuck thread</span><span>grey band: idle stretch (only boot threads ran)</span></div>
<p id="replay" class="mono"></p>
<p id="note"></p>
<div id="tip"></div>
<script type="application/json" id="data">@DATA@</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const svg = document.getElementById("timeline"), tip = document.getElementById("tip");
const NS = "http://www.w3.org/2000/svg", LANE = 56, TOP = 22, LEFT = 60;
let W = Math.max(600, document.body.clientWidth - 30), view = [0, D.end + 1];
svg.setAttribute("width", W); svg.setAttribute("height", TOP + LANE * D.cpus + 6);
const v = document.getElementById("violation");
v.textContent = D.violation || "pass"; if (!D.violation) v.className = "pass";
for (const e of D.explanations) {
  const d = document.createElement("div"); d.className = "why"; d.textContent = e;
  document.getElementById("explanations").appendChild(d);
}
document.getElementById("replay").textContent = D.replay ? "replay: " + D.replay : "";
document.getElementById("note").textContent = D.note || "";
function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  parent.appendChild(e); return e;
}
function x(step) { return LEFT + (step - view[0]) / (view[1] - view[0]) * (W - LEFT - 4); }
function colour(fiber) { return "hsl(" + ((fiber * 137) % 360) + ",55%,72%)"; }
function loc(i) {
  if (i < 0) return "?";
  const l = D.locations[i];
  return l.line ? l.function + " (" + l.file + ":" + l.line + ")" + (l.text ? "\n    " + l.text : "")
                : l.short;
}
// The last point of `cpu` at or before `step`: where it stood.
function pointAt(cpu, step) {
  const p = D.points[cpu]; let lo = 0, hi = p.length - 1, best = -1;
  while (lo <= hi) { const m = (lo + hi) >> 1; if (p[m][0] <= step) { best = m; lo = m + 1; } else hi = m - 1; }
  return best < 0 ? null : p[best];
}
function draw() {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  document.getElementById("range").textContent = "steps " + Math.floor(view[0]) + " to " + Math.ceil(view[1]);
  for (const [a, b] of D.idle) {
    if (b < view[0] || a > view[1]) continue;
    el("rect", {class: "idle-band", x: Math.max(LEFT, x(a)), y: TOP - 4,
                width: Math.max(1, Math.min(W, x(b)) - Math.max(LEFT, x(a))), height: LANE * D.cpus}, svg);
  }
  for (let c = 0; c < D.cpus; ++c) {
    const g = el("g", {class: "lane", "data-cpu": c}, svg), y = TOP + c * LANE;
    el("text", {class: "lane-label", x: 4, y: y + LANE / 2}, g).textContent = "cpu" + c;
    el("line", {x1: LEFT, x2: W, y1: y + LANE - 2, y2: y + LANE - 2, stroke: "#ddd"}, g);
    for (const s of D.slices) {
      if (s.cpu !== c || s.to < view[0] || s.from > view[1]) continue;
      const x0 = Math.max(LEFT, x(s.from)), x1 = Math.min(W, x(s.to));
      const r = el("rect", {class: "slice", x: x0, y: y + 14, width: Math.max(1, x1 - x0), height: LANE - 20,
                            fill: colour(s.fiber), "data-fiber": s.name}, g);
      r.dataset.kind = "slice";
      if (x1 - x0 > 8 * s.name.length) el("text", {class: "slice-label", x: x0 + 3, y: y + 28}, g).textContent = s.name;
    }
    for (const i of D.instants) {
      if (i.cpu !== c || i.step < view[0] || i.step > view[1]) continue;
      const xi = x(i.step);
      const ln = el("line", {class: "instant " + i.kind, x1: xi, x2: xi, y1: y + 2, y2: y + 14}, g);
      ln.dataset.label = "step " + i.step + "  cpu" + c + "  " + i.label + (i.loc ? "\nat " + i.loc : "");
    }
  }
}
function zoom(factor, centre) {
  const span = (view[1] - view[0]) * factor, c = centre === undefined ? (view[0] + view[1]) / 2 : centre;
  const f = (c - view[0]) / (view[1] - view[0]);
  view = [Math.max(0, c - f * span), Math.min(D.end + 1, c + (1 - f) * span)];
  if (view[1] - view[0] < 4) view[1] = view[0] + 4;
  draw();
}
function stepAt(px) { return view[0] + (px - LEFT) / (W - LEFT - 4) * (view[1] - view[0]); }
document.getElementById("zoom-in").onclick = () => zoom(0.5);
document.getElementById("zoom-out").onclick = () => zoom(2);
document.getElementById("zoom-reset").onclick = () => { view = [0, D.end + 1]; draw(); };
document.getElementById("zoom-violation").textContent = D.focus_label;
document.getElementById("zoom-violation").onclick = () => {
  const at = D.focus; view = [Math.max(0, at - 60), Math.min(D.end + 1, at + 20)]; draw();
};
svg.addEventListener("wheel", ev => {
  ev.preventDefault(); const r = svg.getBoundingClientRect();
  zoom(ev.deltaY < 0 ? 0.8 : 1.25, stepAt(ev.clientX - r.left));
}, {passive: false});
let drag = null;
svg.addEventListener("mousedown", ev => { drag = {x: ev.clientX, view: view.slice()}; });
window.addEventListener("mouseup", () => { drag = null; });
svg.addEventListener("mousemove", ev => {
  const r = svg.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
  if (drag) {
    const d = (ev.clientX - drag.x) / (W - LEFT - 4) * (drag.view[1] - drag.view[0]);
    view = [drag.view[0] - d, drag.view[1] - d]; draw(); return;
  }
  const cpu = Math.floor((py - TOP) / LANE);
  if (px < LEFT || cpu < 0 || cpu >= D.cpus) { tip.style.display = "none"; return; }
  let text;
  if (ev.target.dataset && ev.target.dataset.label) {
    text = ev.target.dataset.label;
  } else {
    const p = pointAt(cpu, Math.round(stepAt(px)));
    text = p ? "step " + p[0] + "  cpu" + cpu + "  " + D.fibers[p[2]] + "\nat " + loc(p[1]) : "cpu" + cpu;
  }
  tip.textContent = text; tip.style.display = "block";
  tip.style.left = (ev.clientX + 12) + "px"; tip.style.top = (ev.clientY + 12) + "px";
});
svg.addEventListener("mouseleave", () => { tip.style.display = "none"; });
draw();
</script></body></html>
)HTML";

}  // namespace

std::vector<std::string> EventLocations(const RunView& view) {
  std::vector<std::string> out(view.records.size());
  for (const Entry& e : BuildEntries(view)) {
    if (e.event == nullptr) continue;
    const Standing& s = e.standing[e.cpu];
    if (s.location != nullptr) {
      out[static_cast<size_t>(e.event - view.records.data())] = s.location->Long();
    }
  }
  return out;
}

std::string FormatHtml(const RunView& view, const std::string& title) {
  std::vector<Entry> entries = BuildEntries(view);
  json data;
  data["cpus"] = view.cpus();
  data["end"] = view.points.empty() ? 0 : view.points.back().step;
  data["violation"] = view.outcome.kind == sim::Outcome::Kind::kPass
                          ? ""
                          : std::string(sim::KindName(view.outcome.kind)) + " " +
                                view.ViolationLine() + " (step " +
                                std::to_string(view.outcome.step) + ")";
  data["focus"] = view.outcome.step;
  json explanations = json::array();
  for (const sim::StuckExplanation& e : view.outcome.stuck) {
    explanations.push_back(std::string(e.lost ? "LOST WAKEUP: " : "stuck: ") +
                           view.FiberName(e.fiber) + " waits for " + e.waits_for +
                           "\nwhy: " + e.why);
  }
  for (auto it = view.outcome.stuck.rbegin(); it != view.outcome.stuck.rend(); ++it) {
    if (it->wakeup_step != 0) data["focus"] = it->wakeup_step;  // the first explained one
  }
  data["focus_label"] =
      view.outcome.stuck.empty() ? "around the violation" : "around the last wakeup";
  data["explanations"] = explanations;
  data["replay"] = view.replay_command;
  data["note"] = view.symbols.note;
  data["fibers"] = view.fiber_names;
  // Locations, numbered in order of first use.
  std::map<const SourceLocation*, int> index;
  json locations = json::array();
  auto location_index = [&](const SourceLocation* l) {
    if (l == nullptr) return -1;
    auto [it, added] = index.emplace(l, static_cast<int>(index.size()));
    if (added) {
      locations.push_back({{"function", l->function},
                           {"file", l->file},
                           {"line", l->line},
                           {"text", l->text},
                           {"short", l->Short()}});
    }
    return it->second;
  };
  json points = json::array();
  for (int c = 0; c < view.cpus(); ++c) points.push_back(json::array());
  json instants = json::array();
  json slices = json::array();
  std::vector<uint32_t> running = view.boot_fibers;
  std::vector<uint64_t> since(view.cpus(), 0);
  auto close_slice = [&](int cpu, uint64_t now) {
    if (now > since[cpu]) {
      slices.push_back({{"cpu", cpu},
                        {"fiber", running[cpu]},
                        {"name", view.FiberName(running[cpu])},
                        {"from", since[cpu]},
                        {"to", now}});
    }
    since[cpu] = now;
  };
  for (const Entry& e : entries) {
    if (e.point != nullptr) {
      points[e.cpu].push_back({e.step, location_index(e.standing[e.cpu].location), e.point->fiber});
      continue;
    }
    const sim::TraceRecord& r = *e.event;
    if (r.kind == sim::EventKind::kCpu) continue;
    if (r.kind == sim::EventKind::kSwitch) {
      close_slice(e.cpu, r.step);
      running[e.cpu] = static_cast<uint32_t>(r.b);
    }
    const Standing& s = e.standing[e.cpu];
    instants.push_back({{"cpu", e.cpu},
                        {"step", r.step},
                        {"kind", InstantClass(r.kind)},
                        {"label", DescribeEvent(view, r)},
                        {"loc", s.location != nullptr ? s.location->Long() : ""}});
  }
  for (int c = 0; c < view.cpus(); ++c) close_slice(c, data["end"].get<uint64_t>() + 1);
  for (const sim::StuckExplanation& e : view.outcome.stuck) {
    if (e.wakeup_step == 0 || e.wakeup_cpu < 0 || e.wakeup_cpu >= view.cpus()) continue;
    instants.push_back({{"cpu", e.wakeup_cpu},
                        {"step", e.wakeup_step},
                        {"kind", "explained"},
                        {"label", "the last wakeup for " + view.FiberName(e.fiber) + ": " + e.why},
                        {"loc", ""}});
  }
  json idle = json::array();
  for (const auto& [begin, end] : IdleStretches(entries, 24)) {
    uint64_t first = 0, last = 0;
    for (size_t i = begin; i < end; ++i) {
      if (entries[i].point == nullptr) continue;
      if (first == 0) first = entries[i].step;
      last = entries[i].step;
    }
    idle.push_back({first, last});
  }
  data["locations"] = locations;
  data["points"] = points;
  data["instants"] = instants;
  data["slices"] = slices;
  data["idle"] = idle;
  // Inside a script element, "</" would end it early.
  std::string encoded = absl::StrReplaceAll(data.dump(), {{"</", "<\\/"}});
  std::string escaped_title =
      absl::StrReplaceAll(title, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}});
  return absl::StrReplaceAll(kPage, {{"@TITLE@", escaped_title}, {"@DATA@", encoded}});
}

}  // namespace switchyard::views
