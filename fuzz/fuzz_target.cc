#include "fuzz/fuzz_target.h"

#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "scenario/fuzz_input.h"
#include "scenario/isolation.h"

namespace switchyard::fuzz {
namespace {
std::string bug;
}  // namespace

void Initialize(const char* model) {
  const char* env = std::getenv("SWITCHYARD_BUG");
  bug = env == nullptr || std::string(env) == "none" ? "" : env;
  scenario::Scenario s;
  std::span<const uint8_t> rest;
  absl::Status status = scenario::ScenarioFromFuzzInput(model, bug, {}, &s, &rest);
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
  absl::Status status = scenario::ScenarioFromFuzzInput(model, bug, {data, size}, &s, &decisions);
  if (!status.ok()) return 0;  // not a valid configuration: nothing to run
  std::unique_ptr<sim::Decider> decider = scenario::MakeDecider(s, nullptr, decisions);
  scenario::RunResult r = scenario::RunWith(s, *decider, false);
  if (r.outcome.kind != sim::Outcome::Kind::kPass) {
    std::fprintf(
        stderr,
        "switchyard fuzz: %s: %s at step %llu: %s\n"
        "triage: bazel run --config=opt //:switchyard -- replay --fuzz_input=/abs/path/CRASH_FILE "
        "--model=%s --bug=%s -o "
        "repro.json\n",
        scenario::OutcomeKindName(r.outcome.kind).c_str(), r.outcome.invariant.c_str(),
        static_cast<unsigned long long>(r.outcome.step), r.outcome.message.c_str(), model,
        bug.empty() ? "none" : bug.c_str());
    std::abort();
  }
  return 0;
}

}  // namespace switchyard::fuzz
