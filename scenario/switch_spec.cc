// The switch-routine model's registration: options map onto switch_routine::Config; `routine`
// names a compiled routine (ours, glibc's, Boost's); `arch` and `convention`, when given, pick
// the first routine that matches and must agree with an explicit `routine`; a bug selects the
// mutant program that carries it.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernel_models/switch/switch_routine.h"
#include "kernel_models/switch/user_routine.h"
#include "scenario/models.h"

namespace switchyard::scenario {
namespace {

using switch_routine::Arch;
using switch_routine::Convention;
using switch_routine::CorrectRoutines;

constexpr Arch kArchs[] = {Arch::kX86_64, Arch::kI386, Arch::kRiscv64};
constexpr Convention kConventions[] = {Convention::kSwap, Convention::kFcontext,
                                       Convention::kUcontext};

std::vector<std::string> RoutineNames() {
  std::vector<std::string> names;
  for (const switch_routine::Routine& r : CorrectRoutines()) names.push_back(r.name);
  return names;
}

int64_t UserValue() { return static_cast<int64_t>(CorrectRoutines().size()); }

absl::StatusOr<const switch_routine::Routine*> UserRoutine(const Options& o,
                                                           const std::string& file) {
  return switch_routine::BuildUserRoutine(file, kArchs[o.at("arch")],
                                          kConventions[o.at("convention")]);
}

switch_routine::Config ToConfig(const Options& o, const std::string& bug,
                                const switch_routine::Routine* user) {
  switch_routine::Config c;
  c.routine = o.at("routine") == UserValue()
                  ? user
                  : &CorrectRoutines()[static_cast<size_t>(o.at("routine"))];
  c.switches = static_cast<uint32_t>(o.at("switches"));
  c.signals = o.at("signals") != 0;
  c.signal_window = static_cast<uint32_t>(o.at("signal_window"));
  c.strict = o.at("strict") != 0;
  for (const switch_routine::Bug& b : switch_routine::Bugs()) {
    if (bug == b.name) c.routine = switch_routine::FindRoutine(b.routine);
  }
  return c;
}

}  // namespace

ModelSpec SwitchSpec() {
  ModelSpec m;
  m.name = "switch";
  m.description =
      "a context switch routine (swap: sy_swap(from, to) + sy_make(area, stack_top, entry); "
      "fcontext: Boost's jump_fcontext + make_fcontext; ucontext: getcontext, makecontext, "
      "swapcontext) linked into a harness that switches among 4 contexts in decider order, run "
      "instruction by instruction in Unicorn and checked against the ABI";
  m.fingerprint = switch_routine::kFingerprint;
  const int64_t last = static_cast<int64_t>(CorrectRoutines().size()) - 1;
  m.user_file_option = "routine";
  m.user_file_value = last + 1;
  std::string routines;
  for (size_t i = 0; i < CorrectRoutines().size(); ++i) {
    absl::StrAppend(&routines, i == 0 ? "" : ", ", CorrectRoutines()[i].name, " (",
                    CorrectRoutines()[i].source, ")");
  }
  // name, default, min, max, help, swarm range
  m.options = {
      {"routine", 0, 0, last + 1,
       absl::StrCat("the routine: a file of your own (--routine=path/switch.S, built for --arch "
                    "with --convention) or one by name: ",
                    routines),
       0, last},
      {"arch", 0, 0, 2, "x86_64, i386 or riscv64: picks a routine of that architecture", 1, 0},
      {"convention", 0, 0, 2, "swap, fcontext or ucontext: picks a routine of that convention", 1,
       0},
      {"switches", 40, 1, 100000, "switches per run", 10, 80},
      {"signals", 1, 0, 1, "asynchronous signals at decider-chosen instructions of the routine", 0,
       1},
      {"signal_window", 48, 1, 10000,
       "the decider picks one of this many instructions of each switch (or none) for a signal", 8,
       96},
      {"strict", 0, 0, 1, "misaligned loads and stores are violations", 0, 1},
  };
  m.options[0].value_names = RoutineNames();
  m.options[1].value_names = {"x86_64", "i386", "riscv64"};
  m.options[2].value_names = {"swap", "fcontext", "ucontext"};
  for (const switch_routine::Bug& b : switch_routine::Bugs()) {
    m.bugs.push_back({b.name, b.description});
  }
  m.invariants = switch_routine::InvariantNames();
  m.adjust = [](Options* o, const std::set<std::string>& given) {
    if (given.count("routine") && o->at("routine") == UserValue()) return;
    if (given.count("routine")) {
      const switch_routine::Routine& r = CorrectRoutines()[static_cast<size_t>(o->at("routine"))];
      for (int i = 0; i < 3; ++i) {
        if (!given.count("arch") && kArchs[i] == r.arch) (*o)["arch"] = i;
        if (!given.count("convention") && kConventions[i] == r.convention) (*o)["convention"] = i;
      }
      return;
    }
    for (size_t i = 0; i < CorrectRoutines().size(); ++i) {
      const switch_routine::Routine& r = CorrectRoutines()[i];
      bool arch = !given.count("arch") || kArchs[o->at("arch")] == r.arch;
      bool convention =
          !given.count("convention") || kConventions[o->at("convention")] == r.convention;
      if (arch && convention) {
        (*o)["routine"] = static_cast<int64_t>(i);
        (*o)["arch"] = 0;
        (*o)["convention"] = 0;
        for (int k = 0; k < 3; ++k) {
          if (kArchs[k] == r.arch) (*o)["arch"] = k;
          if (kConventions[k] == r.convention) (*o)["convention"] = k;
        }
        return;
      }
    }
    (*o)["routine"] = -1;  // none matches: check() says so
  };
  m.check = [](const Options& o) -> std::string {
    int64_t routine = o.at("routine");
    std::string wanted =
        absl::StrCat(switch_routine::ArchName(kArchs[o.at("arch")]), " ",
                     switch_routine::ConventionName(kConventions[o.at("convention")]));
    if (routine == UserValue()) return "";
    if (routine < 0) {
      return absl::StrCat("no routine for ", wanted,
                          " yet (routines: ", absl::StrJoin(RoutineNames(), ", "), ")");
    }
    const switch_routine::Routine& r = CorrectRoutines()[static_cast<size_t>(routine)];
    if (kArchs[o.at("arch")] != r.arch || kConventions[o.at("convention")] != r.convention) {
      return absl::StrCat("routine ", r.name, " is ", switch_routine::ArchName(r.arch), " ",
                          switch_routine::ConventionName(r.convention), ", not ", wanted);
    }
    return "";
  };
  m.cpus = [](const Options&) { return 1; };
  m.pct_expected_steps = 300;
  m.prepare = [](const Options& o, const std::string& file) -> std::string {
    absl::StatusOr<const switch_routine::Routine*> built = UserRoutine(o, file);
    return built.ok() ? "" : std::string(built.status().message());
  };
  m.run = [](const RunRequest& r) {
    const switch_routine::Routine* user = nullptr;
    if (r.options.at("routine") == UserValue()) {
      absl::StatusOr<const switch_routine::Routine*> built = UserRoutine(r.options, r.user_file);
      if (!built.ok()) {
        sim::Outcome o;
        o.kind = sim::Outcome::Kind::kSafety;
        o.invariant = "routine-builds";
        o.message = std::string(built.status().message());
        return o;
      }
      user = *built;
    }
    return switch_routine::Run(ToConfig(r.options, r.bug, user), r.decider, r.sim_options, r.after);
  };
  return m;
}

}  // namespace switchyard::scenario
