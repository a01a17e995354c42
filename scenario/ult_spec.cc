// The user-level threads library model's registration: options map onto ult::Config; a bug
// selects the compiled program that carries it.
#include "absl/strings/str_cat.h"
#include "kernel_models/ult/ult.h"
#include "scenario/models.h"

namespace switchyard::scenario {
namespace {

ult::Config ToConfig(const Options& o, const std::string& bug) {
  ult::Config c;
  c.program = &ult::CorrectPrograms()[static_cast<size_t>(o.at("program"))];
  c.preemptive = o.at("preemptive") != 0;
  c.timer_max = static_cast<uint32_t>(o.at("timer_max"));
  c.choices = static_cast<uint32_t>(o.at("choices"));
  c.check_callee_saved = o.at("check_callee_saved") != 0;
  for (const ult::Bug& b : ult::Bugs()) {
    if (bug == b.name) {
      c.program = ult::FindProgram(b.program);
      c.preemptive = c.preemptive || b.preemptive;
    }
  }
  return c;
}

}  // namespace

ModelSpec UltSpec() {
  ModelSpec m;
  m.name = "ult";
  m.description =
      "a cooperative user-level threads library (ring of contexts, release(), ebp-only "
      "switch_context) compiled for i386 and run instruction by instruction in Unicorn";
  m.fingerprint = ult::kFingerprint;
  std::string programs;
  for (size_t i = 0; i < ult::CorrectPrograms().size(); ++i) {
    absl::StrAppend(&programs, i == 0 ? "" : ", ", i, "=", ult::CorrectPrograms()[i].name);
  }
  const int64_t last_program = static_cast<int64_t>(ult::CorrectPrograms().size()) - 1;
  // name, default, min, max, help, swarm range
  m.options = {
      {"program", 1, 0, last_program,
       absl::StrCat("compiled configuration of the correct library (", programs, ")"), 0,
       last_program},
      {"preemptive", 0, 0, 1, "a virtual timer signal whose handler calls release()", 0, 1},
      {"timer_max", 400, 1, 100000, "most instructions between timer signals", 50, 800},
      {"choices", 120, 1, 100000, "the workload's decisions before the run ends", 40, 200},
      {"check_callee_saved", 1, 0, 1, "check ebx/esi/edi/ebp across release() (the ABI)"},
  };
  for (const ult::Bug& b : ult::Bugs()) {
    BugSpec spec{b.name, b.description, false, false, {}};
    if (b.needs_preemptive_option) spec.needs_options["preemptive"] = 1;
    m.bugs.push_back(std::move(spec));
  }
  m.invariants = ult::InvariantNames();
  m.cpus = [](const Options&) { return 1; };
  m.pct_expected_steps = 150;
  m.run = [](const RunRequest& r) {
    return ult::Run(ToConfig(r.options, r.bug), r.decider, r.sim_options, r.after);
  };
  return m;
}

}  // namespace switchyard::scenario
