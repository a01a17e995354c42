#include "scenario/models.h"

#include "absl/strings/str_join.h"

namespace switchyard::scenario {

const std::vector<ModelSpec>& Models() {
  static const std::vector<ModelSpec> models = {Xv6Spec(), UmlSpec(), UltSpec(), SwitchSpec(),
                                                UthreadSpec()};
  return models;
}

const ModelSpec* FindModel(std::string_view name) {
  for (const ModelSpec& m : Models()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string ModelNames() {
  std::vector<std::string> names;
  for (const ModelSpec& m : Models()) names.push_back(m.name);
  return absl::StrJoin(names, ", ");
}

}  // namespace switchyard::scenario
