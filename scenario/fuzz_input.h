// Fuzzer inputs as scenarios. The first bytes choose the model's options (one byte per option
// that has a swarm range, mapped onto that range; a missing byte leaves the default), the rest
// feed a BytesDecider that makes every decision of the run. The fuzz targets and
// `switchyard replay --fuzz-input=FILE` share this decoding, so a crash input found by libFuzzer
// replays in the CLI and becomes a reproducer file.
#ifndef SWITCHYARD_SCENARIO_FUZZ_INPUT_H_
#define SWITCHYARD_SCENARIO_FUZZ_INPUT_H_

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "scenario/scenario.h"

namespace switchyard::scenario {

// Fills *scenario (strategy "bytes") and *decisions (the bytes left for the decider).
absl::Status ScenarioFromFuzzInput(const std::string& model, const std::string& bug,
                                   std::span<const uint8_t> input, Scenario* scenario,
                                   std::span<const uint8_t>* decisions);

}  // namespace switchyard::scenario

#endif  // SWITCHYARD_SCENARIO_FUZZ_INPUT_H_
