#include "scenario/scenario.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/check.h"
#include "sim/instrumentation.h"

namespace switchyard::scenario {
namespace {

bool KnownStrategy(const std::string& s) {
  for (const char* k : kStrategies) {
    if (s == k) return true;
  }
  return false;
}

std::string BugNames(const ModelSpec& m) {
  std::vector<std::string> names;
  for (const BugSpec& b : m.bugs) names.push_back(b.name);
  return absl::StrJoin(names, ", ");
}

}  // namespace

absl::Status Resolve(Scenario* s) {
  const ModelSpec* m = FindModel(s->model);
  if (m == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown model '", s->model, "' (models: ", ModelNames(), ")"));
  }
  if (!s->bug.empty() && s->bug != "none") {
    bool known = false;
    for (const BugSpec& b : m->bugs) known = known || b.name == s->bug;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat("unknown bug '", s->bug, "' for model ",
                                                     m->name, " (bugs: ", BugNames(*m), ")"));
    }
  }
  if (s->bug == "none") s->bug.clear();
  if (!KnownStrategy(s->strategy)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown strategy '", s->strategy,
                     "' (strategies: random, pct, burst, conflict, swarm, dfs)"));
  }
  if (s->granularity != "access" && s->granularity != "coarse") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown granularity '", s->granularity, "' (granularities: access, coarse)"));
  }
  if (s->pct_depth < 1 || s->pct_depth > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("PCT depth ", s->pct_depth, " is out of range [1, 64]"));
  }
  if (s->burst_max > kBurstMaxLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("burst_max ", s->burst_max, " is out of range [1, ", kBurstMaxLimit, "]"));
  }
  if (s->burst_max != 0 && !UsesBursts(s->strategy)) {
    return absl::InvalidArgumentError(
        absl::StrCat("burst_max is for --strategy=burst or conflict, not ", s->strategy));
  }
  for (const auto& [name, value] : s->options) {
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& o : m->options) {
      if (o.name == name) spec = &o;
    }
    if (spec == nullptr) {
      std::vector<std::string> names;
      for (const OptionSpec& o : m->options) names.push_back(o.name);
      return absl::InvalidArgumentError(absl::StrCat("model ", m->name, " has no option '", name,
                                                     "' (options: ", absl::StrJoin(names, ", "),
                                                     ")"));
    }
    if (value < spec->min || value > spec->max) {
      return absl::InvalidArgumentError(absl::StrCat(
          "option ", name, "=", value, " is out of range [", spec->min, ", ", spec->max, "]"));
    }
  }
  // Swarm draws come from their own generator, seeded from the run seed: the same seed gives
  // the same options whatever the strategy, and the choices do not enter the decision log.
  std::set<std::string> given;
  for (const auto& [name, value] : s->options) given.insert(name);
  uint64_t swarm_state = s->seed ^ sim::HashName("swarm");
  for (const OptionSpec& o : m->options) {
    bool drawn = s->swarm && o.swarm_min <= o.swarm_max;
    uint64_t draw = drawn ? sim::SplitMix64(&swarm_state) : 0;
    if (s->options.count(o.name)) continue;
    s->options[o.name] =
        drawn ? o.swarm_min + static_cast<int64_t>(draw % (o.swarm_max - o.swarm_min + 1))
              : o.default_value;
  }
  s->swarm = false;  // the options are explicit now
  if (m->adjust) m->adjust(&s->options, given);
  if (m->check) {
    std::string problem = m->check(s->options);
    if (!problem.empty()) return absl::InvalidArgumentError(problem);
  }
  bool wants_file =
      !m->user_file_option.empty() && s->options.at(m->user_file_option) == m->user_file_value;
  if (wants_file && s->user_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("option ", m->user_file_option, "=",
                                                   m->user_file_value, " needs a file: --",
                                                   m->user_file_option, "=PATH"));
  }
  if (!wants_file) s->user_file.clear();
  if (s->strategy == "swarm" || (UsesBursts(s->strategy) && s->burst_max == 0)) {
    const uint64_t run_length = m->pct_steps ? m->pct_steps(s->options) : m->pct_expected_steps;
    if (s->strategy == "swarm") {
      DrawStrategy(s->seed, run_length, s);
    } else {
      s->burst_max = run_length;
    }
  }
  if (s->granularity == "coarse" && m->access_granularity_only &&
      m->access_granularity_only(s->options)) {
    return absl::InvalidArgumentError(
        "--granularity=coarse: this code's points are its memory accesses (it is compiled with "
        "instrumentation), so a coarse run would make almost none and check almost nothing; use "
        "the default --granularity=access");
  }
  if (!s->bug.empty() && m->check_bug) {
    std::string problem = m->check_bug(s->options, s->bug);
    if (!problem.empty()) return absl::InvalidArgumentError(problem);
  }
  if ((wants_file || m->prepare_always) && m->prepare) {
    std::string problem = m->prepare(s->options, s->user_file);
    if (!problem.empty()) return absl::InvalidArgumentError(problem);
  }
  return absl::OkStatus();
}

void DrawStrategy(uint64_t seed, uint64_t run_length, Scenario* s) {
  SY_CHECK(run_length >= 1);
  uint64_t state = seed ^ sim::HashName("strategy-swarm");
  const uint32_t which = sim::Bounded(sim::SplitMix64(&state), 4);
  const uint64_t parameter = sim::SplitMix64(&state);
  s->burst_max = 0;
  if (which == 0) {
    s->strategy = "random";
  } else if (which == 1) {
    s->strategy = "pct";
    s->pct_depth = 2 + static_cast<int>(sim::Bounded(parameter, 4));
  } else {
    s->strategy = "burst";
    s->burst_max = std::max<uint64_t>(2, run_length >> sim::Bounded(parameter, 5));
  }
}

std::unique_ptr<sim::Decider> MakeDecider(const Scenario& s, const sim::DecisionLog* log,
                                          std::span<const uint8_t> bytes) {
  if (s.strategy == "pct") {
    const ModelSpec* m = FindModel(s.model);
    return std::make_unique<sim::PctDecider>(
        s.seed, s.pct_depth, m->pct_steps ? m->pct_steps(s.options) : m->pct_expected_steps,
        m->cpus(s.options));
  }
  if (UsesBursts(s.strategy)) {
    SY_CHECK(s.burst_max >= 1);  // Resolve writes it in
    return std::make_unique<sim::BurstDecider>(s.seed, s.burst_max, s.strategy == "conflict");
  }
  if (s.strategy == "replay") return std::make_unique<sim::ReplayDecider>(*log);
  if (s.strategy == "lenient") {
    std::vector<uint32_t> values;
    for (const sim::Decision& d : log->decisions) values.push_back(d.value);
    return std::make_unique<sim::LenientReplayDecider>(std::move(values));
  }
  if (s.strategy == "bytes") return std::make_unique<sim::BytesDecider>(bytes.data(), bytes.size());
  return std::make_unique<sim::RandomDecider>(s.seed);
}

namespace {

// The test hooks SWITCHYARD_TEST_CRASH_SEEDS=S1,S2,... and SWITCHYARD_TEST_HANG_SEEDS: a run with
// one of these seeds crashes with SIGSEGV, or loops forever without a point, before its first
// step, so that a test can place a crash or a hang at a chosen run of a campaign
// (//cli:crash_test). Each read once per process.
bool CrashHookSeed(uint64_t seed, const char* variable) {
  static std::map<std::string, std::vector<uint64_t>> cache;
  auto [it, fresh] = cache.try_emplace(variable);
  if (fresh) {
    std::vector<uint64_t>& out = it->second;
    const char* value = std::getenv(variable);
    for (absl::string_view field :
         absl::StrSplit(value != nullptr ? value : "", ',', absl::SkipWhitespace())) {
      uint64_t n;
      if (absl::SimpleAtoi(field, &n)) out.push_back(n);
    }
  }
  const std::vector<uint64_t>& seeds = it->second;
  return !seeds.empty() && std::find(seeds.begin(), seeds.end(), seed) != seeds.end();
}

}  // namespace

RunResult RunWith(const Scenario& s, sim::Decider& decider, bool keep_trace,
                  sim::SimOptions sim_options) {
  if (CrashHookSeed(s.seed, "SWITCHYARD_TEST_CRASH_SEEDS")) raise(SIGSEGV);
  if (CrashHookSeed(s.seed, "SWITCHYARD_TEST_HANG_SEEDS")) {
    for (;;) asm volatile("");  // never reaches a point: the hang watchdog must stop it
  }
  const ModelSpec* m = FindModel(s.model);
  RunResult result;
  sim_options.keep_trace = keep_trace;
  sim_options.granularity =
      s.granularity == "coarse" ? sim::Granularity::kCoarse : sim::Granularity::kAccess;
  std::function<void(const sim::Simulator&)> after;
  if (keep_trace) {
    after = [&result](const sim::Simulator& simulator) {
      result.records = simulator.trace().records();
      result.points = simulator.trace().points();
      result.fiber_names = simulator.FiberNames();
      result.boot_fibers = simulator.BootFiberIds();
    };
  }
  const sim::Instrumentation::Counters before = sim::Instrumentation::counters();
  result.outcome = m->run({s.options, s.bug, decider, sim_options, after, s.user_file});
  const sim::Instrumentation::Counters& now = sim::Instrumentation::counters();
  result.not_points.own_stack = now.own_stack - before.own_stack;
  result.not_points.private_ = now.private_ranges - before.private_ranges;
  result.not_points.per_cpu_off = now.per_cpu_interrupts_off - before.per_cpu_interrupts_off;
  result.access_points = now.points - before.points;
  result.log = decider.TakeLog();
  return result;
}

RunResult RunScenario(const Scenario& s, bool keep_trace) {
  std::unique_ptr<sim::Decider> decider = MakeDecider(s, nullptr, {});
  return RunWith(s, *decider, keep_trace);
}

std::string OutcomeKindName(sim::Outcome::Kind kind) {
  switch (kind) {
    case sim::Outcome::Kind::kPass:
      return "pass";
    case sim::Outcome::Kind::kSafety:
      return "safety";
    case sim::Outcome::Kind::kLiveness:
      return "liveness";
    case sim::Outcome::Kind::kDiverged:
      return "diverged";
    case sim::Outcome::Kind::kCrash:
      return "crash";
    case sim::Outcome::Kind::kHang:
      return "hang";
  }
  return "?";
}

int ExitStatus(const sim::Outcome& o) {
  switch (o.kind) {
    case sim::Outcome::Kind::kPass:
      return 0;
    case sim::Outcome::Kind::kSafety:
      return 1;
    case sim::Outcome::Kind::kLiveness:
      return 3;
    case sim::Outcome::Kind::kDiverged:
      return 4;
    case sim::Outcome::Kind::kCrash:
      return 5;
    case sim::Outcome::Kind::kHang:
      return 6;
  }
  return 1;
}

sim::Reproducer ToReproducer(const Scenario& s, const RunResult& r) {
  sim::Reproducer f;
  f.model = s.model;
  f.model_fingerprint = FindModel(s.model)->fingerprint;
  f.options = s.options;
  f.bug = s.bug;
  f.strategy = s.strategy;
  f.seed = s.seed;
  f.pct_depth = s.pct_depth;
  f.burst_max = UsesBursts(s.strategy) ? s.burst_max : 0;
  f.granularity = s.granularity;
  f.user_file = s.user_file;
  if (const ModelSpec* m = FindModel(s.model); m->user_code_fingerprint) {
    f.user_file_fingerprint = m->user_code_fingerprint(s.options, s.user_file);
  }
  f.outcome_kind = OutcomeKindName(r.outcome.kind);
  f.invariant = r.outcome.invariant;
  f.message = r.outcome.message;
  f.step = r.outcome.step;
  f.trace_hash = r.outcome.trace_hash;
  f.log = r.log;
  return f;
}

absl::Status FromReproducer(const sim::Reproducer& f, Scenario* s) {
  const ModelSpec* m = FindModel(f.model);
  if (m == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("the reproducer is for unknown model '", f.model,
                                                   "' (models: ", ModelNames(), ")"));
  }
  if (f.model_fingerprint != m->fingerprint) {
    return absl::FailedPreconditionError(
        absl::StrCat("the reproducer was made with model version '", f.model_fingerprint,
                     "', this switchyard has '", m->fingerprint,
                     "'; run it again with `switchyard run` to make a new one"));
  }
  Scenario out;
  out.model = f.model;
  out.options = f.options;
  out.bug = f.bug;
  out.strategy = "replay";
  out.seed = f.seed;
  out.pct_depth = f.pct_depth < 1 ? 3 : f.pct_depth;
  out.granularity = f.granularity;
  out.user_file = f.user_file;
  absl::Status status = Resolve(&out);
  if (!status.ok())
    return absl::InvalidArgumentError(absl::StrCat("the reproducer's ", status.message()));
  // Options added after the file was written that keep its behaviour at their default (xv6's
  // kernel=model) may be missing from it.
  size_t added = 0;
  if (const ModelSpec* m = FindModel(f.model)) {
    for (const OptionSpec& o : m->options) {
      added += o.absent_in_old_files && !f.options.count(o.name);
    }
  }
  if (out.options.size() != f.options.size() + added) {
    return absl::InvalidArgumentError(
        "the reproducer does not list every option of its model; it is from another version");
  }
  *s = out;
  return absl::OkStatus();
}

std::string UserCodeChange(const sim::Reproducer& f, const Scenario& s) {
  const ModelSpec* m = FindModel(s.model);
  if (f.user_file_fingerprint.empty() || m == nullptr || !m->user_code_fingerprint) return "";
  const std::string now = m->user_code_fingerprint(s.options, s.user_file);
  if (now == f.user_file_fingerprint) return "";
  const std::string what =
      s.user_file.empty() ? "switchyard's own tree (--kernel=builtin)" : s.user_file;
  return absl::StrCat("the code under test changed since the reproducer was made: ", what,
                      " has sources hash ", now.empty() ? "(unreadable)" : now,
                      ", the reproducer recorded ", f.user_file_fingerprint,
                      "; replaying anyway (a diverged replay means the change matters)");
}

std::string Describe(const Scenario& s) {
  std::string out = absl::StrCat("model=", s.model, " bug=", s.bug.empty() ? "none" : s.bug,
                                 " strategy=", s.strategy, " seed=", s.seed);
  if (s.strategy == "pct") absl::StrAppend(&out, " pct_depth=", s.pct_depth);
  if (UsesBursts(s.strategy)) absl::StrAppend(&out, " burst_max=", s.burst_max);
  absl::StrAppend(&out, " granularity=", s.granularity);
  const ModelSpec* m = FindModel(s.model);
  for (const auto& [name, value] : s.options) {
    if (m != nullptr && m->option_applies && !m->option_applies(s.options, name)) continue;
    absl::StrAppend(&out, " ", name, "=", value);
  }
  if (!s.user_file.empty()) absl::StrAppend(&out, " file=", s.user_file);
  return out;
}

std::string RunCommand(const Scenario& s) {
  std::string out = absl::StrCat(kCommandPrefix, " run --model=", s.model, " --seed=", s.seed);
  if (!s.bug.empty()) absl::StrAppend(&out, " --bug=", s.bug);
  if (s.strategy != "random") absl::StrAppend(&out, " --strategy=", s.strategy);
  if (s.strategy == "pct") absl::StrAppend(&out, " --pct_depth=", s.pct_depth);
  if (UsesBursts(s.strategy)) absl::StrAppend(&out, " --burst_max=", s.burst_max);
  if (s.granularity != "access") absl::StrAppend(&out, " --granularity=", s.granularity);
  const ModelSpec* m = FindModel(s.model);
  for (const OptionSpec& o : m->options) {
    auto it = s.options.find(o.name);
    if (it == s.options.end()) continue;
    if (!s.user_file.empty() && o.name == m->user_file_option && it->second == m->user_file_value) {
      absl::StrAppend(&out, " --", o.name, "=", s.user_file);
    } else if (it->second != o.default_value) {
      absl::StrAppend(&out, " --", o.name, "=", it->second);
    }
  }
  return out;
}

std::string ReplayCommand(const std::string& path, const std::string& extra) {
  std::string absolute = path;
  if (!path.empty() && path[0] != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) != nullptr) absolute = absl::StrCat(cwd, "/", path);
  }
  return absl::StrCat(kCommandPrefix, " replay ", absolute, extra.empty() ? "" : " ", extra);
}

}  // namespace switchyard::scenario
