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

// Fills *scenario (strategy "bytes") and *decisions (the bytes left for the decider). The
// options in `fixed` (and the user's code in `user_file`, for the model's user_file_option) are
// taken as given; the others are drawn from the input's first bytes.
absl::Status ScenarioFromFuzzInput(const std::string& model, const std::string& bug,
                                   std::span<const uint8_t> input, Scenario* scenario,
                                   std::span<const uint8_t>* decisions, const Options& fixed = {},
                                   const std::string& user_file = "");

// The value of the model's option `name` as a user gives it on the command line (a number, one
// of its value names, or, for the model's user_file_option, a path to the user's own code, made
// absolute in *user_file): into (*options)[name]. Errors are one line.
absl::Status ParseOptionValue(const std::string& model, const std::string& name,
                              const std::string& value, Options* options, std::string* user_file);

}  // namespace switchyard::scenario

#endif  // SWITCHYARD_SCENARIO_FUZZ_INPUT_H_
