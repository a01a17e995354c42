// `switchyard run` and `switchyard replay`, and the helpers the subcommands share.
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/flags.h"
#include "cli/subcommands.h"
#include "scenario/fuzz_input.h"
#include "sim/reproducer.h"
#include "views/html.h"
#include "views/interleaving.h"
#include "views/symbolize.h"

namespace switchyard::cli {

int UsageError(const char* subcommand, const std::string& what) {
  std::fprintf(stderr, "switchyard %s: %s; run 'switchyard help %s'\n", subcommand, what.c_str(),
               subcommand);
  return kExitUsage;
}

bool ScenarioFromFlags(const char* subcommand, const ParsedArgs& args, scenario::Scenario* s,
                       scenario::Scenario* unresolved) {
  s->model = absl::GetFlag(FLAGS_model);
  s->seed = absl::GetFlag(FLAGS_seed);
  s->bug = absl::GetFlag(FLAGS_bug);
  s->strategy = absl::GetFlag(FLAGS_strategy);
  if (s->strategy.empty()) {
    s->strategy = std::string(subcommand) == "explore" ? kExploreDefaultStrategy : "random";
  }
  s->pct_depth = absl::GetFlag(FLAGS_pct_depth);
  s->burst_max = absl::GetFlag(FLAGS_burst_max);
  s->granularity = absl::GetFlag(FLAGS_granularity);
  s->swarm = absl::GetFlag(FLAGS_swarm);
  if (s->strategy != "random" && s->strategy != "pct" && !scenario::UsesBursts(s->strategy) &&
      s->strategy != "swarm" && s->strategy != "dfs") {
    UsageError(subcommand,
               absl::StrCat("--strategy must be random, pct, burst, conflict, swarm or dfs, not '",
                            s->strategy, "' (replay a file with `switchyard replay`)"));
    return false;
  }
  if (s->burst_max != 0 && !scenario::UsesBursts(s->strategy)) {
    UsageError(subcommand,
               absl::StrCat("--burst_max is for --strategy=burst or conflict, not --strategy=",
                            s->strategy));
    return false;
  }
  if (s->burst_max > scenario::kBurstMaxLimit) {
    UsageError(subcommand, absl::StrCat("--burst_max must be at most ", scenario::kBurstMaxLimit,
                                        ", not ", s->burst_max));
    return false;
  }
  const scenario::ModelSpec* model = scenario::FindModel(s->model);
  for (const auto& [name, value] : args.extra) {
    int64_t v;
    const scenario::OptionSpec* spec = nullptr;
    for (size_t i = 0; model != nullptr && i < model->options.size(); ++i) {
      if (model->options[i].name == name) spec = &model->options[i];
    }
    if (spec != nullptr && !spec->value_names.empty() && !absl::SimpleAtoi(value, &v)) {
      auto it = std::find(spec->value_names.begin(), spec->value_names.end(), value);
      if (it == spec->value_names.end() && name == model->user_file_option) {
        // Not a name: a file of the user's own code.
        char resolved[PATH_MAX];
        if (realpath(value.c_str(), resolved) == nullptr) {
          UsageError(subcommand,
                     absl::StrCat("--", name, "=", value, ": no such file (and not one of: ",
                                  absl::StrJoin(spec->value_names, ", "), ")"));
          return false;
        }
        s->user_file = resolved;
        s->options[name] = model->user_file_value;
        continue;
      }
      if (it == spec->value_names.end()) {
        UsageError(subcommand, absl::StrCat("unknown ", name, " '", value, "' for model ", s->model,
                                            " (", absl::StrJoin(spec->value_names, ", "), ")"));
        return false;
      }
      v = it - spec->value_names.begin();
    } else if (!absl::SimpleAtoi(value, &v)) {
      if (model != nullptr && spec == nullptr) {
        // Not a number because it is not an option of this model (--kernel=DIR given to a model
        // that takes --program=DIR): say that, not what the value should have been.
        std::vector<std::string> names;
        for (const scenario::OptionSpec& o : model->options) names.push_back(o.name);
        UsageError(subcommand, absl::StrCat("unknown flag: model ", s->model, " has no option '",
                                            name, "' (options: ", absl::StrJoin(names, ", "), ")"));
        return false;
      }
      UsageError(subcommand,
                 absl::StrCat("model option --", name, " needs an integer, not '", value, "'"));
      return false;
    }
    s->options[name] = v;
  }
  if (unresolved != nullptr) *unresolved = *s;
  absl::Status status = scenario::Resolve(s);
  if (!status.ok()) {
    std::string message(status.message());
    if (message.find("has no option") != std::string::npos) {
      message = absl::StrCat("unknown flag: ", message);
    }
    UsageError(subcommand, message);
    return false;
  }
  return true;
}

std::string ReproducerPathInOut(const scenario::Scenario& s, const std::string& invariant,
                                const std::string& suffix) {
  std::string safe;
  for (char c : invariant) safe += (isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  std::string dir = absl::GetFlag(FLAGS_out);
  mkdir(dir.c_str(), 0777);  // an existing directory is fine; a failure shows on the write
  // What ran: the planted bug, or the user's code by its directory's name (an xv6 tree, a
  // threads program), so that findings in two trees do not overwrite each other's files.
  std::string what = s.bug.empty() ? "correct" : s.bug;
  if (s.bug.empty() && !s.user_file.empty()) {
    std::string base = s.user_file;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    base = base.substr(base.rfind('/') + 1);
    what.clear();
    for (char c : base) {
      what += (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
    }
    if (what.empty() || what == "." || what == "..") what = "tree";
  }
  return absl::StrCat(dir, "/", s.model, "-", what, "-", safe, "-", suffix, ".json");
}

void PrintOutcome(const scenario::RunResult& r) {
  const sim::Outcome& o = r.outcome;
  if (o.kind == sim::Outcome::Kind::kPass) {
    std::printf("outcome: pass\n");
  } else {
    std::printf("outcome: %s: %s at step %" PRIu64 " (time %" PRIu64 "): %s\n",
                sim::KindName(o.kind), o.invariant.c_str(), o.step, o.time,
                views::LocateCode(o.message).c_str());
  }
  std::printf("stats: steps %" PRIu64 ", switches %" PRIu64 ", preemptions %" PRIu64
              ", interrupts %" PRIu64 ", decisions %zu\n",
              o.step, o.switches, o.preemptions, o.interrupts, r.log.decisions.size());
  if (const uint64_t filtered = r.not_points.total(); filtered != 0) {
    const uint64_t all = filtered + r.access_points;
    std::printf("accesses: %" PRIu64 " of instrumented code, %" PRIu64
                " points; not points: %" PRIu64 " (%.1f%%): own stack %" PRIu64 ", private %" PRIu64
                ", per-CPU with interrupts off %" PRIu64 "\n",
                all, r.access_points, filtered, 100.0 * static_cast<double>(filtered) / all,
                r.not_points.own_stack, r.not_points.private_, r.not_points.per_cpu_off);
  }
  if (!o.marks.empty()) {
    std::printf("rare interleavings reached:");
    for (const auto& [site, count] : o.marks) {
      std::printf(" %s=%" PRIu64, site.c_str(), count);
    }
    std::printf("\n");
  }
  std::printf("trace hash: 0x%016" PRIx64 "\n", o.trace_hash);
}

bool CheckTraceFlags(const char* subcommand) {
  std::string trace = absl::GetFlag(FLAGS_trace);
  if (!trace.empty() && trace != "text" && trace != "chrome" && trace != "interleaving" &&
      trace != "html") {
    UsageError(subcommand, absl::StrCat("--trace must be text, interleaving, chrome or html, not '",
                                        trace, "'"));
    return false;
  }
  if (trace.empty() && !absl::GetFlag(FLAGS_trace_out).empty()) {
    UsageError(subcommand, "--trace_out needs --trace=text, interleaving, chrome or html");
    return false;
  }
  return true;
}

bool WriteTimeline(const char* subcommand, const scenario::RunResult& r, const std::string& title,
                   const std::string& replay_command) {
  std::string trace = absl::GetFlag(FLAGS_trace);
  if (trace.empty()) return true;
  std::string violation =
      r.outcome.invariant.empty() ? "" : r.outcome.invariant + ": " + r.outcome.message;
  std::string text;
  if (trace == "text") {
    text = sim::FormatTextTimeline(r.records, r.fiber_names, violation);
  } else {
    views::RunView view;
    view.records = r.records;
    view.points = r.points;
    view.fiber_names = r.fiber_names;
    view.boot_fibers = r.boot_fibers;
    view.outcome = r.outcome;
    view.replay_command = replay_command;
    views::SymbolizePoints(&view);
    if (trace == "interleaving") {
      text = views::FormatInterleaving(view);
    } else if (trace == "html") {
      text = views::FormatHtml(view, title);
    } else {
      std::vector<std::string> where = views::EventLocations(view);
      text = sim::FormatChromeTrace(r.records, r.fiber_names, r.boot_fibers, r.outcome.time,
                                    violation, &where);
    }
  }
  std::string path = absl::GetFlag(FLAGS_trace_out);
  if (path.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return true;
  }
  absl::Status status = sim::WriteFileAtomically(path, text);
  if (!status.ok()) {
    std::fprintf(stderr, "switchyard %s: %s\n", subcommand, std::string(status.message()).c_str());
    return false;
  }
  const char* how = trace == "chrome" ? "open it in ui.perfetto.dev or chrome://tracing"
                    : trace == "html" ? "open it in a browser; it needs no network"
                                      : "text";
  std::printf("timeline: %s (%s)\n", path.c_str(), how);
  return true;
}

int RunMain(const ParsedArgs& args) {
  if (!args.positional.empty()) {
    return UsageError("run", absl::StrCat("unexpected argument '", args.positional[0], "'"));
  }
  scenario::Scenario s;
  if (!ScenarioFromFlags("run", args, &s) || !CheckTraceFlags("run")) return kExitUsage;
  if (s.strategy == "dfs") return DfsMain("run", s);
  std::printf("switchyard run: %s\n", scenario::Describe(s).c_str());
  std::fflush(stdout);
  int signal = 0;
  int code = RunInChild(
      [&s] {
        bool keep_trace = !absl::GetFlag(FLAGS_trace).empty();
        scenario::RunResult r = scenario::RunScenario(s, keep_trace);
        scenario::StopHangWatchdog();
        if (!WriteTimeline("run", r, scenario::Describe(s), scenario::RunCommand(s))) {
          return kExitUsage;
        }
        PrintOutcome(r);
        if (!absl::GetFlag(FLAGS_output).empty()) {
          absl::Status status =
              sim::WriteReproducer(absl::GetFlag(FLAGS_output), scenario::ToReproducer(s, r));
          if (!status.ok()) return UsageError("run", std::string(status.message()));
          std::printf("reproducer: %s\n", absl::GetFlag(FLAGS_output).c_str());
        }
        if (r.outcome.kind != sim::Outcome::Kind::kPass) {
          std::printf("reproduce: %s\n", scenario::RunCommand(s).c_str());
        }
        return scenario::ExitStatus(r.outcome);
      },
      &signal);
  if (code >= 0) return code;
  // The run crashed the process that made it: run it again, isolated, to see where.
  scenario::IsolatedRun crash =
      scenario::RunScenarioIsolated(s, [&s] { return scenario::MakeDecider(s, nullptr, {}); });
  if (!crash.crashed) {
    std::printf("outcome: crash: %s, but not when run again in isolation (%s)\n",
                scenario::SignalName(signal).c_str(), crash.outcome.invariant.c_str());
    return kExitCrash;
  }
  PrintCrash(crash);
  if (!absl::GetFlag(FLAGS_output).empty()) {
    absl::Status status = sim::WriteReproducer(
        absl::GetFlag(FLAGS_output), scenario::ToReproducer(s, scenario::ResultOf(crash)));
    if (!status.ok()) return UsageError("run", std::string(status.message()));
    std::printf("reproducer: %s\n", absl::GetFlag(FLAGS_output).c_str());
  }
  std::printf("reproduce: %s\n", scenario::RunCommand(s).c_str());
  return kExitCrash;
}

namespace {

// replay --fuzz_input=FILE: run a libFuzzer input as the fuzz target does.
int ReplayFuzzInput(const ParsedArgs& args) {
  if (!args.positional.empty()) {
    return UsageError("replay", "give either a reproducer FILE or --fuzz_input, not both");
  }
  absl::StatusOr<std::string> bytes = sim::ReadFile(absl::GetFlag(FLAGS_fuzz_input));
  if (!bytes.ok()) return UsageError("replay", std::string(bytes.status().message()));
  scenario::Scenario s;
  std::span<const uint8_t> decisions;
  std::span<const uint8_t> input(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  std::string bug = absl::GetFlag(FLAGS_bug);
  // The code under test the fuzz target was given (SWITCHYARD_KERNEL=...: --kernel=...).
  scenario::Options fixed;
  std::string user_file;
  for (const auto& [name, value] : args.extra) {
    absl::Status parsed =
        scenario::ParseOptionValue(absl::GetFlag(FLAGS_model), name, value, &fixed, &user_file);
    if (!parsed.ok()) return UsageError("replay", std::string(parsed.message()));
  }
  absl::Status status =
      scenario::ScenarioFromFuzzInput(absl::GetFlag(FLAGS_model), bug == "none" ? "" : bug, input,
                                      &s, &decisions, fixed, user_file);
  if (!status.ok()) return UsageError("replay", std::string(status.message()));
  std::printf("switchyard replay: fuzz input %s (%zu bytes): %s\n",
              absl::GetFlag(FLAGS_fuzz_input).c_str(), bytes->size(),
              scenario::Describe(s).c_str());
  std::string out = absl::GetFlag(FLAGS_output);
  int signal = 0;
  int code = RunInChild(
      [&] {
        std::unique_ptr<sim::Decider> decider = scenario::MakeDecider(s, nullptr, decisions);
        scenario::RunResult r = scenario::RunWith(s, *decider, !absl::GetFlag(FLAGS_trace).empty());
        scenario::StopHangWatchdog();
        if (!WriteTimeline("replay", r, scenario::Describe(s), "")) return kExitUsage;
        PrintOutcome(r);
        if (!out.empty()) {
          absl::Status written = sim::WriteReproducer(out, scenario::ToReproducer(s, r));
          if (!written.ok()) return UsageError("replay", std::string(written.message()));
          std::printf("reproducer: %s\nreplay: %s\n", out.c_str(),
                      scenario::ReplayCommand(out).c_str());
        }
        return scenario::ExitStatus(r.outcome);
      },
      &signal);
  if (code >= 0) return code;
  scenario::IsolatedRun crash = scenario::RunScenarioIsolated(
      s, [&s, decisions] { return scenario::MakeDecider(s, nullptr, decisions); });
  PrintCrash(crash);
  if (!out.empty() && crash.crashed) {
    absl::Status written =
        sim::WriteReproducer(out, scenario::ToReproducer(s, scenario::ResultOf(crash)));
    if (!written.ok()) return UsageError("replay", std::string(written.message()));
    std::printf("reproducer: %s\nreplay: %s\n", out.c_str(), scenario::ReplayCommand(out).c_str());
  }
  return kExitCrash;
}

}  // namespace

int ReplayMain(const ParsedArgs& args) {
  if (!CheckTraceFlags("replay")) return kExitUsage;
  if (!absl::GetFlag(FLAGS_fuzz_input).empty()) return ReplayFuzzInput(args);
  if (args.positional.size() != 1) {
    return UsageError("replay", "give one reproducer FILE (or --fuzz_input=FILE --model=M)");
  }
  if (!args.extra.empty()) {
    return UsageError("replay", absl::StrCat("--", args.extra.front().first,
                                             " is for --fuzz_input: a reproducer file records "
                                             "its model's options"));
  }
  const std::string& path = args.positional[0];
  absl::StatusOr<sim::Reproducer> file = sim::ReadReproducer(path);
  if (!file.ok()) return UsageError("replay", std::string(file.status().message()));
  scenario::Scenario s;
  absl::Status status = scenario::FromReproducer(*file, &s);
  if (!status.ok()) return UsageError("replay", absl::StrCat(path, ": ", status.message()));
  std::string found_by = file->strategy;
  if (file->strategy == "pct") absl::StrAppend(&found_by, " pct_depth=", file->pct_depth);
  if (file->burst_max != 0) absl::StrAppend(&found_by, " burst_max=", file->burst_max);
  std::printf("switchyard replay: %s: %s (found by %s)\n", path.c_str(),
              scenario::Describe(s).c_str(), found_by.c_str());
  if (std::string change = scenario::UserCodeChange(*file, s); !change.empty()) {
    std::printf("switchyard replay: %s\n", change.c_str());
  }
  if (file->outcome_kind == "crash" || file->outcome_kind == "hang") {
    // A crash or a hang is replayed isolated: it kills the process that replays it (a hang is
    // stopped by the watchdog).
    scenario::IsolatedRun crash = scenario::RunScenarioIsolated(
        s, [&s, &file] { return scenario::MakeDecider(s, &file->log, {}); });
    PrintCrash(crash);
    if (!crash.crashed || crash.outcome.invariant != file->invariant) {
      std::printf("replay diverged: the file recorded '%s', the replay gave %s '%s'\n",
                  file->invariant.c_str(), scenario::OutcomeKindName(crash.outcome.kind).c_str(),
                  crash.outcome.invariant.c_str());
      return kExitDiverged;
    }
    std::printf("replay matches: the same %s\n", file->outcome_kind.c_str());
    return scenario::ExitStatus(crash.outcome);
  }
  int signal = 0;
  int code = RunInChild([&] { return ReplayBody(path, s, *file); }, &signal);
  if (code >= 0) return code;
  scenario::IsolatedRun crash = scenario::RunScenarioIsolated(
      s, [&s, &file] { return scenario::MakeDecider(s, &file->log, {}); });
  PrintCrash(crash);
  std::printf("replay diverged: the file recorded %s '%s', the replay crashed\n",
              file->outcome_kind.c_str(), file->invariant.c_str());
  return kExitCrash;
}

int ReplayBody(const std::string& path, const scenario::Scenario& s,
               const sim::Reproducer& file_value) {
  const sim::Reproducer* file = &file_value;
  std::unique_ptr<sim::Decider> decider = scenario::MakeDecider(s, &file->log, {});
  scenario::RunResult r = scenario::RunWith(s, *decider, !absl::GetFlag(FLAGS_trace).empty());
  scenario::StopHangWatchdog();
  std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (!WriteTimeline("replay", r, absl::StrCat(name, ": ", scenario::Describe(s)),
                     scenario::ReplayCommand(path, "--trace=interleaving"))) {
    return kExitUsage;
  }
  PrintOutcome(r);
  if (r.outcome.kind == sim::Outcome::Kind::kDiverged) {
    std::printf("replay diverged at step %" PRIu64 ": %s\n", r.outcome.step,
                r.outcome.message.c_str());
    return kExitDiverged;
  }
  if (r.outcome.trace_hash != file->trace_hash ||
      scenario::OutcomeKindName(r.outcome.kind) != file->outcome_kind ||
      r.outcome.invariant != file->invariant) {
    std::printf("replay diverged: the file recorded %s '%s' with trace hash 0x%016" PRIx64
                ", the replay gave %s '%s' with trace hash 0x%016" PRIx64 "\n",
                file->outcome_kind.c_str(), file->invariant.c_str(), file->trace_hash,
                scenario::OutcomeKindName(r.outcome.kind).c_str(), r.outcome.invariant.c_str(),
                r.outcome.trace_hash);
    return kExitDiverged;
  }
  std::printf("replay matches: same outcome, same trace hash\n");
  return scenario::ExitStatus(r.outcome);
}

}  // namespace switchyard::cli
