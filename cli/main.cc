// switchyard: the command-line entry point. Each subcommand names its flags; see `switchyard help`.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/command_line.h"

ABSL_FLAG(bool, json, false, "print one JSON object instead of text");

namespace switchyard::cli {
namespace {

struct Subcommand {
  const char* name;
  const char* usage;
  const char* summary;
  std::vector<std::string> flags;
  int (*handler)(const ParsedArgs& args);
};

int ListMain(const ParsedArgs&) {
  std::printf("models: none yet\n");
  return kExitOk;
}

int HelpMain(const ParsedArgs& args);

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> subcommands = {
      {"help",
       "switchyard help [SUBCOMMAND]",
       "show help for switchyard or one subcommand",
       {},
       HelpMain},
      {"list",
       "switchyard list [--json]",
       "list models, their options, planted bugs and invariants",
       {"json"},
       ListMain},
  };
  return subcommands;
}

const Subcommand* FindSubcommand(const std::string& name) {
  for (const Subcommand& s : Subcommands()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

void PrintOverview() {
  std::printf(
      "switchyard: deterministic simulation and fuzzing of context-switch and scheduler code\n\n"
      "usage: switchyard SUBCOMMAND [flags] [args]\n\nsubcommands:\n");
  for (const Subcommand& s : Subcommands()) std::printf("  %-18s %s\n", s.name, s.summary);
  std::printf("\n'switchyard help SUBCOMMAND' shows a subcommand's flags.\n");
}

void PrintSubcommandHelp(const Subcommand& s) {
  std::printf("usage: %s\n\n%s\n", s.usage, s.summary);
  if (!s.flags.empty()) std::printf("\nflags:\n%s", DescribeFlags(s.flags).c_str());
}

int HelpMain(const ParsedArgs& args) {
  if (args.positional.empty()) {
    PrintOverview();
    return kExitOk;
  }
  const Subcommand* s = FindSubcommand(args.positional[0]);
  if (s == nullptr || args.positional.size() > 1) {
    std::fprintf(stderr, "switchyard: no subcommand '%s'; run 'switchyard help' for the list\n",
                 args.positional[0].c_str());
    return kExitUsage;
  }
  PrintSubcommandHelp(*s);
  return kExitOk;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    PrintOverview();
    return args.empty() ? kExitUsage : kExitOk;
  }
  const Subcommand* s = FindSubcommand(args[0]);
  if (s == nullptr) {
    std::fprintf(stderr,
                 "switchyard: unknown subcommand '%s'; run 'switchyard help' for the list\n",
                 args[0].c_str());
    return kExitUsage;
  }
  ParsedArgs parsed;
  std::string error;
  if (!ParseArgs({args.begin() + 1, args.end()}, s->flags, &parsed, &error)) {
    std::fprintf(stderr, "switchyard %s: %s; run 'switchyard help %s'\n", s->name, error.c_str(),
                 s->name);
    return kExitUsage;
  }
  if (parsed.help) {
    PrintSubcommandHelp(*s);
    return kExitOk;
  }
  return s->handler(parsed);
}

}  // namespace
}  // namespace switchyard::cli

int main(int argc, char** argv) { return switchyard::cli::Main(argc, argv); }
