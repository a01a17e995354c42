#include "scenario/fuzz_input.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace switchyard::scenario {

absl::Status ScenarioFromFuzzInput(const std::string& model, const std::string& bug,
                                   std::span<const uint8_t> input, Scenario* scenario,
                                   std::span<const uint8_t>* decisions, const Options& fixed,
                                   const std::string& user_file) {
  Scenario s;
  s.model = model;
  s.bug = bug;
  s.strategy = "bytes";
  s.options = fixed;
  s.user_file = user_file;
  const ModelSpec* m = FindModel(model);
  size_t used = 0;
  if (m != nullptr) {
    for (const OptionSpec& o : m->options) {
      if (o.swarm_min > o.swarm_max || fixed.count(o.name) != 0) continue;
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

absl::Status ParseOptionValue(const std::string& model, const std::string& name,
                              const std::string& value, Options* options, std::string* user_file) {
  const ModelSpec* m = FindModel(model);
  if (m == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown model ", model));
  const OptionSpec* spec = nullptr;
  for (const OptionSpec& o : m->options) {
    if (o.name == name) spec = &o;
  }
  if (spec == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("model ", model, " has no option '", name, "'"));
  }
  int64_t v;
  if (absl::SimpleAtoi(value, &v)) {
    (*options)[name] = v;
    return absl::OkStatus();
  }
  auto it = std::find(spec->value_names.begin(), spec->value_names.end(), value);
  if (it != spec->value_names.end()) {
    (*options)[name] = it - spec->value_names.begin();
    return absl::OkStatus();
  }
  if (name == m->user_file_option) {
    char resolved[PATH_MAX];
    if (realpath(value.c_str(), resolved) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(name, "=", value, ": ", std::strerror(errno)));
    }
    *user_file = resolved;
    (*options)[name] = m->user_file_value;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown ", name, " '", value, "' for model ",
                                                 model, " (",
                                                 absl::StrJoin(spec->value_names, ", "), ")"));
}

}  // namespace switchyard::scenario
