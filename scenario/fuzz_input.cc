#include "scenario/fuzz_input.h"

namespace switchyard::scenario {

absl::Status ScenarioFromFuzzInput(const std::string& model, const std::string& bug,
                                   std::span<const uint8_t> input, Scenario* scenario,
                                   std::span<const uint8_t>* decisions) {
  Scenario s;
  s.model = model;
  s.bug = bug;
  s.strategy = "bytes";
  const ModelSpec* m = FindModel(model);
  size_t used = 0;
  if (m != nullptr) {
    for (const OptionSpec& o : m->options) {
      if (o.swarm_min > o.swarm_max) continue;
      if (used < input.size()) {
        s.options[o.name] = o.swarm_min + input[used] % (o.swarm_max - o.swarm_min + 1);
      }
      ++used;
    }
  }
  absl::Status status = Resolve(&s);
  if (!status.ok()) return status;
  *scenario = s;
  *decisions = used < input.size() ? input.subspan(used) : std::span<const uint8_t>();
  return absl::OkStatus();
}

}  // namespace switchyard::scenario
