// switchyard: the command-line entry point. Each subcommand names its flags; see `switchyard help`.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/subcommands.h"

namespace switchyard::cli {
namespace {

struct Subcommand {
  const char* name;
  const char* usage;
  const char* summary;
  std::vector<std::string> flags;
  bool model_options;  // accepts the model's options as --name=value
  int (*handler)(const ParsedArgs& args);
};

int HelpMain(const ParsedArgs& args);

const std::vector<std::string> kScenarioFlags = {"model",     "seed",      "bug",   "strategy",
                                                 "pct_depth", "burst_max", "swarm", "granularity"};

std::vector<std::string> With(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> subcommands = {
      {"run",
       "switchyard run --model=M --seed=S [--bug=B] "
       "[--strategy=random|pct|burst|conflict|swarm|dfs] [--burst_max=N] "
       "[--granularity=access|coarse] [--MODEL_OPTION=N "
       "...] [--trace=text|interleaving|chrome|html] [--trace_out=FILE] [-o REPRODUCER]",
       "one run: prints its outcome and trace hash",
       With(kScenarioFlags,
            {"trace", "trace_out", "output", "preemption_bound", "dpor", "enumerate", "out"}),
       true, RunMain},
      {"explore",
       "switchyard explore --model=M [--bug=B] [--strategy=swarm|random|pct|burst|conflict|dfs] "
       "[--burst_max=N] [--preemption_bound=K] [--dpor=sleep|off] [--enumerate=schedule|all] "
       "[--granularity=access|coarse] [--runs=N] [--time=30s] "
       "[--jobs=K] [--seed=S] [--out=DIR] [--keep_going] [--swarm] [--MODEL_OPTION=N ...]",
       "a campaign over consecutive seeds; writes a reproducer for what it finds",
       With(kScenarioFlags, {"runs", "time", "jobs", "out", "keep_going", "preemption_bound",
                             "dpor", "enumerate", "output"}),
       true, ExploreMain},
      {"replay",
       "switchyard replay FILE [--trace=text|interleaving|chrome|html] [--trace_out=FILE]\n"
       "       switchyard replay --fuzz_input=FILE --model=M [--bug=B] [--kernel=builtin|DIR] "
       "[-o REPRODUCER]",
       "replays a reproducer file (or a libFuzzer input): same violation, same trace hash",
       {"trace", "trace_out", "fuzz_input", "model", "bug", "output"},
       true,
       ReplayMain},
      {"shrink",
       "switchyard shrink FILE [-o OUT]",
       "writes a smaller reproducer that still fails the same invariant",
       {"output"},
       false,
       ShrinkMain},
      {"check-determinism", "switchyard check-determinism --model=M [--runs=N] [--bug=B]",
       "runs each seed in two processes and compares the trace hashes",
       With(kScenarioFlags, {"runs"}), true, CheckDeterminismMain},
      {"list",
       "switchyard list [--json]",
       "lists models with their options, planted bugs and invariants, and the strategies",
       {"json"},
       false,
       ListMain},
      {"help",
       "switchyard help [SUBCOMMAND]",
       "shows help for switchyard or one subcommand",
       {},
       false,
       HelpMain},
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
  if (s.model_options) {
    std::printf("\nmodel options: see `switchyard list` (for example --cpus=4 for xv6)\n");
  }
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
  // Under `bazel run`, relative paths (reproducers, --out, --trace_out) mean the directory the
  // user ran bazel from, not the runfiles tree.
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY")) {
    if (chdir(dir) != 0) {
      std::fprintf(stderr, "switchyard: cannot enter %s\n", dir);
      return kExitUsage;
    }
  }
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
  if (!ParseArgs({args.begin() + 1, args.end()}, s->flags, &parsed, &error, s->model_options)) {
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
