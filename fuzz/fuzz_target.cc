#include "fuzz/fuzz_target.h"

#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <utility>

#include "scenario/fuzz_input.h"
#include "scenario/isolation.h"

namespace switchyard::fuzz {
namespace {
std::string bug;
// SWITCHYARD_KERNEL (xv6: builtin or a tree's directory) or SWITCHYARD_PROGRAM (uthread): the
// model's user-code option, fixed for the whole campaign.
scenario::Options fixed;
std::string user_file;
std::string user_flag;  // " --kernel=..." for the triage command
}  // namespace

void Initialize(const char* model) {
  const char* env = std::getenv("SWITCHYARD_BUG");
  bug = env == nullptr || std::string(env) == "none" ? "" : env;
  for (const auto& [variable, option] :
       {std::pair<const char*, const char*>{"SWITCHYARD_KERNEL", "kernel"},
        {"SWITCHYARD_PROGRAM", "program"}}) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    absl::Status parsed = scenario::ParseOptionValue(model, option, value, &fixed, &user_file);
    user_flag = std::string(" --") + option + "=" + (user_file.empty() ? value : user_file);
    if (!parsed.ok()) {
      std::fprintf(stderr, "switchyard fuzz: %s: %s\n", variable,
                   std::string(parsed.message()).c_str());
      std::exit(2);
    }
  }
  scenario::Scenario s;
  std::span<const uint8_t> rest;
  absl::Status status =
      scenario::ScenarioFromFuzzInput(model, bug, {}, &s, &rest, fixed, user_file);
  if (!status.ok()) {
    std::fprintf(stderr, "switchyard fuzz: SWITCHYARD_BUG: %s\n",
                 std::string(status.message()).c_str());
    std::exit(2);
  }
  scenario::InstallHangWatchdog(-1, scenario::HangSeconds(), /*abort_on_hang=*/true);
}

int RunModel(const char* model, const uint8_t* data, size_t size) {
  scenario::Scenario s;
  std::span<const uint8_t> decisions;
  absl::Status status =
      scenario::ScenarioFromFuzzInput(model, bug, {data, size}, &s, &decisions, fixed, user_file);
  if (!status.ok()) return 0;  // not a valid configuration: nothing to run
  std::unique_ptr<sim::Decider> decider = scenario::MakeDecider(s, nullptr, decisions);
  scenario::RunResult r = scenario::RunWith(s, *decider, false);
  if (r.outcome.kind != sim::Outcome::Kind::kPass) {
    std::fprintf(
        stderr,
        "switchyard fuzz: %s: %s at step %llu: %s\n"
        "triage: bazel run --config=opt //:switchyard -- replay --fuzz_input=/abs/path/CRASH_FILE "
        "--model=%s --bug=%s%s -o "
        "repro.json\n",
        scenario::OutcomeKindName(r.outcome.kind).c_str(), r.outcome.invariant.c_str(),
        static_cast<unsigned long long>(r.outcome.step), r.outcome.message.c_str(), model,
        bug.empty() ? "none" : bug.c_str(), user_flag.c_str());
    std::abort();
  }
  return 0;
}

}  // namespace switchyard::fuzz
