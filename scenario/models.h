// The registry of models: what each model is called, its options with their defaults and
// ranges, its planted bugs, its invariants, and how to run it. The CLI, the fuzzers and the
// property tests drive models only through this table.
#ifndef SWITCHYARD_SCENARIO_MODELS_H_
#define SWITCHYARD_SCENARIO_MODELS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sim/decider.h"
#include "sim/simulator.h"

namespace switchyard::scenario {

using Options = std::map<std::string, int64_t>;  // ordered: never depends on hashing

struct OptionSpec {
  std::string name;
  int64_t default_value;
  int64_t min;
  int64_t max;
  std::string help;
  // With --swarm, each seed draws the option uniformly from [swarm_min, swarm_max]; an option
  // whose swarm_min > swarm_max is not drawn.
  int64_t swarm_min = 1;
  int64_t swarm_max = 0;
  // When not empty, value i may be given by name (--routine=glibc-ucontext-x86_64); min is 0.
  std::vector<std::string> value_names = {};
  // Added to the model after reproducers were written: a file without it means the default.
  bool absent_in_old_files = false;
};

struct BugSpec {
  std::string name;
  std::string description;
  // Uniform random schedules find it only rarely (a window that needs a long run of one vCPU's
  // steps): PCT, which is built for such orderings, finds it within the usual budget.
  bool rare_under_random = false;
  // It shows as a crash of the host process (kind "crash"): in-process campaigns (tests,
  // benchmarks) run it isolated (scenario/isolation.h).
  bool crashes_host = false;
  // Options without which it cannot show and which it does not force (ult's
  // release-returns-blocked needs preemptive=1): a campaign finds it when it sets them or draws
  // them with --swarm. Property tests and benchmarks set them.
  Options needs_options = {};
};

struct RunRequest {
  const Options& options;  // complete and validated
  const std::string& bug;  // "" for the correct model
  sim::Decider& decider;
  sim::SimOptions sim_options;
  std::function<void(const sim::Simulator&)> after;  // optional: inspect the finished run
  const std::string& user_file = "";                 // Scenario::user_file
};

struct ModelSpec {
  std::string name;
  std::string description;
  std::string fingerprint;  // changes whenever the model's behaviour for a seed changes
  std::vector<OptionSpec> options;
  std::vector<BugSpec> bugs;
  std::vector<std::string> invariants;
  // Adjusts options the user did not give (`given` lists those they did) to fit the ones they
  // did, before `check` runs. Optional.
  std::function<void(Options* options, const std::set<std::string>& given)> adjust;
  // Checks relations between options that ranges cannot express; returns "" or one line.
  std::function<std::string(const Options&)> check;
  // Whether option `name` has any effect under `options` (a user's xv6 tree has no --nproc),
  // so that a run's description leaves out those that do not. Optional: null, all of them.
  std::function<bool(const Options& options, const std::string& name)> option_applies;
  // How many vCPUs the options ask for (PCT needs it before the run).
  std::function<int(const Options&)> cpus;
  // The typical number of steps of a run, PCT's estimate for placing change points.
  uint64_t pct_expected_steps;
  // The same, when it depends on the options (a tree's runs are ten times a model's). Optional.
  std::function<uint64_t(const Options& options)> pct_steps;
  std::function<sim::Outcome(const RunRequest&)> run;
  // Models that run the user's own code (a file given on the command line): builds it once per
  // process before the first run; returns "" or the toolchain's message. Optional.
  std::function<std::string(const Options& options, const std::string& user_file)> prepare;
  // prepare runs for every scenario, not only those given a file: it decides from the options
  // what to build (xv6 compiles switchyard's own tree for --kernel=builtin as it compiles a
  // user's), so that the code is loaded in the process that resolved the scenario (whose views
  // and messages then name its file:line) before any isolated run.
  bool prepare_always = false;
  // Whether these options run code whose only points are its memory accesses (an xv6 tree,
  // compiled with instrumentation): --granularity=coarse is then refused, since a run would make
  // almost no points and check almost nothing. Optional: null, coarse is always allowed.
  std::function<bool(const Options& options)> access_granularity_only;
  // A hash of the user's code as this scenario runs it (an xv6 tree's sources: the user's tree
  // or switchyard's own), recorded in reproducers so that a replay can say that it changed; ""
  // when the options run no such code. Optional.
  std::function<std::string(const Options& options, const std::string& user_file)>
      user_code_fingerprint;
  // The option whose value may be a file of the user's code instead of a number or name, and
  // the value that then stands for "the file". Empty: none.
  std::string user_file_option;
  int64_t user_file_value = -1;
  // Whether planted bug `bug` (non-empty, one of `bugs`) exists with these options; returns ""
  // or why not (a user's own code has no planted bugs). Optional.
  std::function<std::string(const Options& options, const std::string& bug)> check_bug;
};

const std::vector<ModelSpec>& Models();
const ModelSpec* FindModel(std::string_view name);
// "xv6, uml"
std::string ModelNames();

// Per-model registrations, defined next to each adapter.
ModelSpec Xv6Spec();
ModelSpec UmlSpec();
ModelSpec UltSpec();
ModelSpec SwitchSpec();
ModelSpec UthreadSpec();

}  // namespace switchyard::scenario

#endif  // SWITCHYARD_SCENARIO_MODELS_H_
