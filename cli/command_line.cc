#include "cli/command_line.h"

#include <algorithm>

#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"

namespace switchyard::cli {

bool ParseArgs(const std::vector<std::string>& raw_args,
               const std::vector<std::string>& allowed_flags, ParsedArgs* parsed,
               std::string* error, bool accept_extra) {
  std::vector<std::string> args;
  for (size_t i = 0; i < raw_args.size(); ++i) {
    if (raw_args[i] == "-o") {
      if (i + 1 == raw_args.size()) {
        *error = "-o needs a file name: -o FILE";
        return false;
      }
      args.push_back("--output=" + raw_args[++i]);
    } else {
      args.push_back(raw_args[i]);
    }
  }
  bool only_positional = false;
  for (const std::string& arg : args) {
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      parsed->positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      parsed->help = true;
      continue;
    }
    if (arg[1] != '-') {
      *error = absl::StrCat("unknown option '", arg, "' (flags are written --name=value)");
      return false;
    }
    std::string body = arg.substr(2);
    std::string name = body;
    std::string value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    std::replace(name.begin(), name.end(), '-', '_');
    auto allowed = [&](const std::string& n) {
      return std::find(allowed_flags.begin(), allowed_flags.end(), n) != allowed_flags.end();
    };
    absl::CommandLineFlag* flag = allowed(name) ? absl::FindCommandLineFlag(name) : nullptr;
    if (flag == nullptr && !has_value && name.rfind("no", 0) == 0 && allowed(name.substr(2))) {
      // --noflag turns a boolean flag off.
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        flag = negated;
        value = "false";
        has_value = true;
      }
    }
    if (flag == nullptr && accept_extra && has_value) {
      parsed->extra.emplace_back(name, value);
      continue;
    }
    if (flag == nullptr) {
      *error = absl::StrCat("unknown flag '--", name, "' for this subcommand");
      return false;
    }
    if (!has_value) {
      if (!flag->IsOfType<bool>()) {
        *error = absl::StrCat("flag '--", name, "' needs a value: --", name, "=VALUE");
        return false;
      }
      value = "true";
    }
    std::string parse_error;
    if (!flag->ParseFrom(value, &parse_error)) {
      *error = absl::StrCat("bad value '", value, "' for --", name, ": ", parse_error);
      return false;
    }
  }
  return true;
}

std::string DescribeFlags(const std::vector<std::string>& flag_names) {
  std::string out;
  for (const std::string& name : flag_names) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    std::string left = absl::StrCat("  --", name, "=", flag->DefaultValue());
    if (left.size() < 28) left.resize(28, ' ');
    absl::StrAppend(&out, left, "  ", flag->Help(), "\n");
  }
  return out;
}

}  // namespace switchyard::cli
