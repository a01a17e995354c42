// `switchyard shrink FILE [-o OUT]`: a smaller reproducer that still fails the same invariant.
//
// The run is driven by a lenient replay of a list of decision values (a value that no longer
// fits its choice, or a missing one, means the default: no preemption, the first option), so
// the shrinker can change the scenario and the list freely and keep whatever still fails:
//   1. the model's options, each toward its minimum (fewer CPUs, processes, actions);
//   2. the decision list, cut short from the end;
//   3. chunks of decisions set to the default, halving the chunk size down to one.
// The result is recorded exactly (its own decision log) and verified by a strict replay.
//
// Every candidate runs isolated (scenario/isolation.h): a candidate may crash the code under
// test, which for a crash reproducer is the failure to keep (the same signal) and for any other
// is just a candidate that does not fail the same way.
#include <cinttypes>
#include <cstdio>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/flags.h"
#include "cli/subcommands.h"
#include "scenario/isolation.h"
#include "sim/reproducer.h"
#include "views/symbolize.h"

namespace switchyard::cli {
namespace {

constexpr int kMaxAttempts = 4000;

struct Candidate {
  scenario::Options options;
  std::vector<uint32_t> values;
};

class Shrinker {
 public:
  Shrinker(const scenario::Scenario& base, const sim::Reproducer& file)
      : base_(base), kind_(file.outcome_kind), invariant_(file.invariant) {}

  // Runs the candidate; on the same failure, returns the run (whose log is the exact record).
  std::optional<scenario::RunResult> Fails(const Candidate& c) {
    if (attempts_ >= kMaxAttempts) return std::nullopt;
    scenario::Scenario s = base_;
    s.options = c.options;
    s.strategy = "lenient";
    if (!scenario::Resolve(&s).ok()) return std::nullopt;  // not a valid configuration
    ++attempts_;
    scenario::RunResult r = scenario::ResultOf(scenario::RunScenarioIsolated(
        s, [&c] { return std::make_unique<sim::LenientReplayDecider>(c.values); }));
    if (scenario::OutcomeKindName(r.outcome.kind) != kind_ || r.outcome.invariant != invariant_) {
      return std::nullopt;
    }
    return r;
  }

  // Keeps `c` (normalised to what the run actually decided) if it still fails.
  bool Try(Candidate c, Candidate* best) {
    std::optional<scenario::RunResult> r = Fails(c);
    if (!r) return false;
    c.values.clear();
    for (const sim::Decision& d : r->log.decisions) c.values.push_back(d.value);
    while (!c.values.empty() && c.values.back() == 0) c.values.pop_back();
    *best = std::move(c);
    return true;
  }

  int attempts() const { return attempts_; }

 private:
  scenario::Scenario base_;
  std::string kind_;
  std::string invariant_;
  int attempts_ = 0;
};

size_t NonDefault(const std::vector<uint32_t>& values) {
  size_t n = 0;
  for (uint32_t v : values) n += v != 0;
  return n;
}

}  // namespace

int ShrinkMain(const ParsedArgs& args) {
  if (args.positional.size() != 1) return UsageError("shrink", "give one reproducer FILE");
  const std::string& path = args.positional[0];
  absl::StatusOr<sim::Reproducer> file = sim::ReadReproducer(path);
  if (!file.ok()) return UsageError("shrink", std::string(file.status().message()));
  if (file->outcome_kind == "pass") {
    return UsageError("shrink", absl::StrCat(path, " records a pass; there is nothing to shrink"));
  }
  scenario::Scenario s;
  absl::Status status = scenario::FromReproducer(*file, &s);
  if (!status.ok()) return UsageError("shrink", absl::StrCat(path, ": ", status.message()));
  if (std::string change = scenario::UserCodeChange(*file, s); !change.empty()) {
    std::printf("switchyard shrink: %s\n", change.c_str());
  }
  std::string out = absl::GetFlag(FLAGS_output);
  if (out.empty()) {
    out = path.size() > 5 && path.substr(path.size() - 5) == ".json"
              ? path.substr(0, path.size() - 5) + ".shrunk.json"
              : path + ".shrunk.json";
  }
  std::printf("switchyard shrink: %s: %s, %s %s\n", path.c_str(), scenario::Describe(s).c_str(),
              file->outcome_kind.c_str(), file->invariant.c_str());

  Shrinker shrinker(s, *file);
  Candidate best{s.options, {}};
  for (const sim::Decision& d : file->log.decisions) best.values.push_back(d.value);
  std::optional<scenario::RunResult> before = shrinker.Fails(best);
  if (!before) {
    std::fprintf(stderr,
                 "switchyard shrink: %s does not reproduce its violation; replay it to see why\n",
                 path.c_str());
    return kExitDiverged;
  }

  // 1. Options toward their minimums.
  const scenario::ModelSpec* m = scenario::FindModel(s.model);
  for (bool changed = true; changed;) {
    changed = false;
    for (const scenario::OptionSpec& o : m->options) {
      int64_t current = best.options.at(o.name);
      for (int64_t target : {o.min, current - (current - o.min) / 2, current - 1}) {
        if (target >= current || target < o.min) continue;
        Candidate c = best;
        c.options[o.name] = target;
        if (shrinker.Try(c, &best)) {
          changed = true;
          break;
        }
      }
    }
  }
  // 2. Cut the decision list short.
  for (size_t keep = best.values.size() / 2; keep > 0 && !best.values.empty(); keep /= 2) {
    Candidate c = best;
    c.values.resize(std::min(keep, c.values.size()));
    shrinker.Try(c, &best);
  }
  // 3. Chunks of decisions to the default.
  for (size_t chunk = std::max<size_t>(best.values.size() / 2, 1); chunk >= 1; chunk /= 2) {
    for (size_t start = 0; start < best.values.size(); start += chunk) {
      size_t end = std::min(start + chunk, best.values.size());
      bool any = false;
      for (size_t i = start; i < end; ++i) any = any || best.values[i] != 0;
      if (!any) continue;
      Candidate c = best;
      for (size_t i = start; i < end; ++i) c.values[i] = 0;
      shrinker.Try(c, &best);
    }
    if (chunk == 1) break;
  }

  // Record the result exactly and check it replays strictly.
  std::optional<scenario::RunResult> after = shrinker.Fails(best);
  scenario::Scenario result = s;
  result.options = best.options;
  if (!after) {
    std::fprintf(stderr, "switchyard shrink: internal error: the shrunk run no longer fails\n");
    return kExitDiverged;
  }
  result.strategy = "replay";
  scenario::RunResult check = scenario::ResultOf(scenario::RunScenarioIsolated(
      result, [&after] { return std::make_unique<sim::ReplayDecider>(after->log); }));
  if (check.outcome.trace_hash != after->outcome.trace_hash ||
      check.outcome.invariant != after->outcome.invariant) {
    std::fprintf(stderr, "switchyard shrink: internal error: the shrunk log does not replay\n");
    return kExitDiverged;
  }
  sim::Reproducer shrunk = scenario::ToReproducer(result, check);
  shrunk.strategy = "shrunk";
  status = sim::WriteReproducer(out, shrunk);
  if (!status.ok()) return UsageError("shrink", std::string(status.message()));

  std::vector<uint32_t> original;
  for (const sim::Decision& d : file->log.decisions) original.push_back(d.value);
  auto row = [](const char* what, uint64_t a, uint64_t b) {
    std::printf("  %-28s %10" PRIu64 " -> %" PRIu64 "\n", what, a, b);
  };
  std::printf("shrunk in %d runs:\n", shrinker.attempts());
  row("decisions", original.size(), check.log.decisions.size());
  row("non-default decisions", NonDefault(original), NonDefault(best.values));
  row("preemptions", before->outcome.preemptions, check.outcome.preemptions);
  row("switches", before->outcome.switches, check.outcome.switches);
  row("steps", before->outcome.step, check.outcome.step);
  for (const auto& [name, value] : s.options) {
    if (best.options.at(name) != value) row(name.c_str(), value, best.options.at(name));
  }
  if (check.outcome.kind == sim::Outcome::Kind::kCrash) {  // its invariant says "crash: SIG..."
    std::printf("outcome: %s: %s\n", check.outcome.invariant.c_str(),
                check.outcome.message.c_str());
  } else {
    std::printf("outcome: %s: %s: %s\n", sim::KindName(check.outcome.kind),
                check.outcome.invariant.c_str(), views::LocateCode(check.outcome.message).c_str());
  }
  std::printf("reproducer: %s\nreplay: %s\nlook at it: %s\n", out.c_str(),
              scenario::ReplayCommand(out).c_str(),
              scenario::ReplayCommand(out, "--trace=interleaving").c_str());
  return scenario::ExitStatus(check.outcome);
}

}  // namespace switchyard::cli
