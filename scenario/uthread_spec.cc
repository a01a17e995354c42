// The uthread model's registration: `program` is the built-in fixture or a directory of the
// user's (--program=DIR: an xv6 tree with the Multithreading lab, or a C threads program with
// its .S switch routine), built for `arch`; a bug selects the fixture's mutant.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "kernel_models/uthread/program.h"
#include "kernel_models/uthread/uthread.h"
#include "scenario/models.h"

namespace switchyard::scenario {
namespace {

enum ProgramOption : int64_t { kFixture = 0, kDirectory = 1 };
constexpr uthread::Arch kArchs[] = {uthread::Arch::kRiscv64, uthread::Arch::kI386};

absl::StatusOr<const uthread::Program*> ProgramFor(const Options& o, const std::string& bug,
                                                   const std::string& user_file) {
  uthread::Arch arch = kArchs[o.at("arch")];
  if (o.at("program") == kDirectory) return uthread::BuildProgram(user_file, arch);
  const uthread::Program* p = uthread::FindFixture(arch, bug);
  if (p == nullptr) return absl::NotFoundError("no fixture " + bug);
  return p;
}

}  // namespace

ModelSpec UthreadSpec() {
  ModelSpec m;
  m.name = "uthread";
  m.description =
      "a whole user-level threads program (the 6.1810 Multithreading lab's user/uthread.c and "
      "user/uthread_switch.S, or any C threads program with its .S switch routine), built with "
      "the cross compiler against switchyard's stand-in for xv6's user library and run "
      "instruction by instruction in Unicorn; the decider adds yields";
  m.fingerprint = uthread::kFingerprint;
  // name, default, min, max, help, swarm range
  m.options = {
      {"program", kFixture, kFixture, kDirectory,
       "the program: fixture (switchyard's own lab-style program) or a directory of yours "
       "(--program=~/xv6-labs: its user/uthread.c and user/uthread_switch.S; or any directory of "
       ".c files and a .S switch routine)",
       1, 0},
      {"arch", 0, 0, 1, "riscv64 (the lab's) or i386", 1, 0},
      {"extra_yields", 1, 0, 8,
       "at each call of the yield function the decider may add up to this many more", 0, 3},
      {"budget", 5'000'000, 10'000, 1'000'000'000,
       "instructions a run may take before thread-progress fails", 1, 0},
      {"reference", 1, 0, 1,
       "output-matches-reference: rerun with every switch made by switchyard and compare output", 1,
       0},
      {"abi_alignment", 0, 0, 1,
       "thread-entry checks the psABI's 16-byte stack alignment (default: word alignment)", 1, 0},
      {"timer", 1, 0, 1,
       "deliver the alarm a program asks for with xv6's sigalarm(ticks, handler), at a "
       "decider-chosen instruction of each period (a tick: 1,000 instructions)",
       1, 0},
  };
  m.options[0].value_names = {"fixture"};
  m.options[1].value_names = {"riscv64", "i386"};
  for (const uthread::Bug& b : uthread::Bugs()) m.bugs.push_back({b.name, b.description});
  m.invariants = uthread::InvariantNames();
  m.cpus = [](const Options&) { return 1; };
  m.pct_expected_steps = 1500;
  m.user_file_option = "program";
  m.user_file_value = kDirectory;
  m.prepare = [](const Options& o, const std::string& user_file) -> std::string {
    if (o.at("program") != kDirectory) return "";
    absl::StatusOr<const uthread::Program*> p = ProgramFor(o, "", user_file);
    if (!p.ok()) return std::string(p.status().message());
    static bool said = false;  // once per process, not per run
    if (!(*p)->skipped.empty() && !said) {
      std::fprintf(stderr, "switchyard: %s: %s\n", user_file.c_str(), (*p)->skipped.c_str());
      said = true;
    }
    return "";
  };
  // Reproducers of a directory record a hash of its sources (read again: a replay compares the
  // program as it is now with the file).
  m.user_code_fingerprint = [](const Options& o, const std::string& user_file) -> std::string {
    if (o.at("program") != kDirectory) return "";
    return uthread::ProgramSourcesFingerprint(user_file);
  };
  m.check_bug = [](const Options& o, const std::string& bug) -> std::string {
    if (o.at("program") == kDirectory) {
      return absl::StrCat("--bug=", bug,
                          ": a program of your own has no planted bugs (plant one in a copy and "
                          "give that directory)");
    }
    return "";
  };
  m.run = [](const RunRequest& r) {
    absl::StatusOr<const uthread::Program*> p = ProgramFor(r.options, r.bug, r.user_file);
    if (!p.ok()) {
      sim::Outcome o;
      o.kind = sim::Outcome::Kind::kSafety;
      o.invariant = "program-builds";
      o.message = std::string(p.status().message());
      return o;
    }
    uthread::Config c;
    c.program = *p;
    c.extra_yields = static_cast<uint32_t>(r.options.at("extra_yields"));
    c.budget = static_cast<uint64_t>(r.options.at("budget"));
    c.reference = r.options.at("reference") != 0;
    c.abi_alignment = r.options.at("abi_alignment") != 0;
    c.timer = r.options.at("timer") != 0;
    return uthread::Run(c, r.decider, r.sim_options, r.after);
  };
  return m;
}

}  // namespace switchyard::scenario
