// The User-Mode Linux model's registration: its options map onto uml::Config.
#include "absl/strings/str_cat.h"
#include "kernel_models/uml/uml.h"
#include "scenario/models.h"

namespace switchyard::scenario {
namespace {

uml::Config ToConfig(const Options& o, const std::string& bug) {
  auto i = [&o](const char* name) { return static_cast<int>(o.at(name)); };
  uml::Config c;
  c.slots = i("slots");
  c.max_tasks = i("max_tasks");
  c.pages = i("pages");
  c.frames = i("frames");
  c.timer_period = static_cast<uint64_t>(o.at("timer_period"));
  uml::WorkloadOptions& w = c.workload;
  w.processes = i("processes");
  w.program_length = i("program_length");
  w.depth = i("depth");
  w.max_children = i("max_children");
  w.sleep_ticks_max = i("sleep_ticks_max");
  w.reclaim_max = i("reclaim_max");
  w.pressure_max = i("pressure_max");
  w.touch_weight = i("touch_weight");
  w.sleep_weight = i("sleep_weight");
  w.fork_weight = i("fork_weight");
  w.clone_weight = i("clone_weight");
  w.reclaim_weight = i("reclaim_weight");
  c.check_wrap_accounting = o.at("check_wrap_accounting") != 0;
  c.check_no_lost_unmaps = o.at("check_no_lost_unmaps") != 0;
  for (uml::Bug b : uml::AllBugs()) {
    if (bug == uml::BugName(b)) c.bug = b;
  }
  return c;
}

}  // namespace

ModelSpec UmlSpec() {
  ModelSpec m;
  m.name = "uml";
  m.description =
      "User-Mode Linux (2000): a tracing thread stops the old host process and continues the "
      "new; mm_struct change rings with per-process absolute counts and a rescan after wrap";
  m.fingerprint = uml::kFingerprint;
  // name, default, min, max, help, swarm range
  m.options = {
      {"slots", 4, 1, 1024, "N: change slots in each mm_struct's ring", 1, 8},
      {"max_tasks", 24, 3, 64, "task_struct slots, kernel threads included"},
      {"pages", 8, 1, 4096, "virtual pages in each address space", 2, 16},
      {"frames", 16, 1, 65536, "physical frames of the virtual machine", 2, 32},
      {"timer_period", 20, 1, 100000, "ticks between timer interrupts", 5, 60},
      {"processes", 3, 1, 16, "user processes started at boot, each with its own mm", 1, 5},
      {"program_length", 24, 1, 256, "most actions in a program", 4, 32},
      {"depth", 2, 0, 8, "how deep forks and clones nest", 0, 3},
      {"max_children", 8, 0, 60, "forks and clones in the whole workload", 0, 12},
      {"sleep_ticks_max", 2, 1, 100, "most timer ticks one sleep lasts", 1, 4},
      {"reclaim_max", 3, 1, 64, "most pages a process reclaims itself in one action", 1, 6},
      {"pressure_max", 5, 1, 64, "most pages one kswapd wakeup is asked to free", 1, 8},
      {"touch_weight", 8, 0, 16, "weight of page touches in programs", 0, 16},
      {"sleep_weight", 2, 0, 16, "weight of sleeps", 0, 16},
      {"fork_weight", 1, 0, 16, "weight of forks (a copy of the mm)", 0, 16},
      {"clone_weight", 1, 0, 16, "weight of CLONE_VM threads (a shared mm)", 0, 16},
      {"reclaim_weight", 1, 0, 16, "weight of reclaiming memory while running", 0, 16},
      {"check_wrap_accounting", 1, 0, 1, "check wrap accounting at each switch-in"},
      {"check_no_lost_unmaps", 1, 0, 1, "check no-lost-unmaps (off: only isolation catches)"},
  };
  for (uml::Bug b : uml::AllBugs()) {
    m.bugs.push_back(
        {uml::BugName(b), uml::BugDescription(b), false, b == uml::Bug::kReclaimAssumesUserMm, {}});
  }
  m.invariants = uml::InvariantNames();
  m.check = [](const Options& o) -> std::string {
    if (o.at("max_tasks") < o.at("processes") + 2) {
      return absl::StrCat("max_tasks=", o.at("max_tasks"),
                          " must be at least processes+2=", o.at("processes") + 2,
                          " (the idle task and kswapd need slots too)");
    }
    if (o.at("touch_weight") + o.at("sleep_weight") + o.at("fork_weight") + o.at("clone_weight") +
            o.at("reclaim_weight") <
        1) {
      return "the action weights (touch, sleep, fork, clone, reclaim) must not all be 0";
    }
    return "";
  };
  m.cpus = [](const Options&) { return 1; };
  m.pct_expected_steps = 250;
  m.run = [](const RunRequest& r) {
    return uml::Run(ToConfig(r.options, r.bug), r.decider, r.sim_options, r.after);
  };
  return m;
}

}  // namespace switchyard::scenario
