// `switchyard list [--json]`: the models with their options, planted bugs and invariants, and
// the strategies.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "cli/flags.h"
#include "cli/subcommands.h"
#include "nlohmann/json.hpp"

namespace switchyard::cli {

int ListMain(const ParsedArgs& args) {
  if (!args.positional.empty()) return UsageError("list", "list takes no arguments");
  const std::vector<std::string> strategies = {"random",   "pct",   "burst",
                                               "conflict", "swarm", "dfs"};
  if (absl::GetFlag(FLAGS_json)) {
    nlohmann::json models = nlohmann::json::array();
    for (const scenario::ModelSpec& m : scenario::Models()) {
      nlohmann::json options = nlohmann::json::array();
      for (const scenario::OptionSpec& o : m.options) {
        options.push_back({{"name", o.name},
                           {"default", o.default_value},
                           {"min", o.min},
                           {"max", o.max},
                           {"help", o.help},
                           {"names", o.value_names}});
      }
      nlohmann::json bugs = nlohmann::json::array();
      for (const scenario::BugSpec& b : m.bugs) {
        bugs.push_back({{"name", b.name}, {"description", b.description}});
      }
      models.push_back({{"name", m.name},
                        {"description", m.description},
                        {"fingerprint", m.fingerprint},
                        {"options", options},
                        {"bugs", bugs},
                        {"invariants", m.invariants}});
    }
    nlohmann::json doc = {{"models", models}, {"strategies", strategies}};
    std::printf("%s\n", doc.dump(2).c_str());
    return kExitOk;
  }
  for (const scenario::ModelSpec& m : scenario::Models()) {
    std::printf("model %s: %s\n  options:\n", m.name.c_str(), m.description.c_str());
    for (const scenario::OptionSpec& o : m.options) {
      std::printf("    --%-18s default %-6lld [%lld, %lld]  %s\n", o.name.c_str(),
                  static_cast<long long>(o.default_value), static_cast<long long>(o.min),
                  static_cast<long long>(o.max), o.help.c_str());
      if (!o.value_names.empty()) {
        std::printf("    %-20s by name: %s\n", "", absl::StrJoin(o.value_names, ", ").c_str());
      }
    }
    std::printf("  planted bugs (--bug=NAME):\n");
    for (const scenario::BugSpec& b : m.bugs) {
      std::printf("    %-26s %s\n", b.name.c_str(), b.description.c_str());
    }
    std::printf("  invariants:\n");
    for (const std::string& i : m.invariants) std::printf("    %s\n", i.c_str());
  }
  std::printf(
      "strategies (--strategy): random, pct (--pct_depth), burst (sticky scheduling: a vCPU "
      "keeps running for log-uniform bursts up to --burst_max points), conflict (burst whose "
      "bursts also end a few points after an access that conflicts with another vCPU's recent "
      "one), swarm (each seed draws random, pct or burst and their parameters; explore's "
      "default; run and check-determinism default to random), dfs (bounded exhaustive search: "
      "--preemption_bound, --dpor, --enumerate); replay and fuzzer bytes are used by "
      "`replay`\n"
      "granularities (--granularity): access (default: every shared-state access is a "
      "preemption and interrupt point), coarse (only the models' hand-placed points)\n");
  return kExitOk;
}

}  // namespace switchyard::cli
