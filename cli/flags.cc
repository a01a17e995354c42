#include "cli/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, model, "xv6", "the model to run (see `switchyard list`)");
ABSL_FLAG(uint64_t, seed, 0, "the run's seed (explore: the first seed of the campaign)");
ABSL_FLAG(std::string, bug, "none", "a planted bug of the model, or none");
ABSL_FLAG(std::string, strategy, "",
          "how schedule decisions are made: random, pct, burst (sticky: a vCPU runs for "
          "log-uniform bursts of points), conflict (burst, ending bursts near conflicting "
          "accesses), swarm (each seed draws random, pct or burst and their parameters) or dfs; "
          "default swarm for explore, random for the other subcommands");
ABSL_FLAG(int, pct_depth, 3, "PCT's depth d: d-1 priority change points");
ABSL_FLAG(uint64_t, burst_max, 0,
          "--strategy=burst or conflict: the longest burst of schedule points a vCPU keeps "
          "running for (lengths are log-uniform below it); 0: the model's expected run length");
ABSL_FLAG(std::string, granularity, "access",
          "where vCPUs interleave: access (every shared-state access) or coarse (hand-placed "
          "points only)");
ABSL_FLAG(bool, swarm, false, "let each seed also draw the model's options");
ABSL_FLAG(std::string, trace, "",
          "print the run's timeline: text, interleaving (a column per vCPU, source lines), "
          "chrome (Perfetto JSON) or html (a self-contained page)");
ABSL_FLAG(std::string, trace_out, "", "write the timeline to this file instead of stdout");
ABSL_FLAG(int64_t, runs, 0, "runs in the campaign (default 1000 unless --time is given)");
ABSL_FLAG(absl::Duration, time, absl::ZeroDuration(),
          "stop the campaign after this long (30s, 10m)");
ABSL_FLAG(int, jobs, 1, "processes running the campaign; what is found does not depend on it");
ABSL_FLAG(std::string, out, "switchyard-out", "directory for reproducer files");
ABSL_FLAG(bool, keep_going, false, "do not stop at the first violation; keep one per invariant");
ABSL_FLAG(bool, json, false, "print one JSON object instead of text");
ABSL_FLAG(std::string, fuzz_input, "",
          "replay a libFuzzer input (with --model, --bug) instead of a file");
ABSL_FLAG(std::string, output, "", "where to write the resulting reproducer (-o)");
ABSL_FLAG(int, preemption_bound, 2,
          "--strategy=dfs: the most preemptions in a schedule (bounds 0..K are searched in turn)");
ABSL_FLAG(std::string, dpor, "sleep",
          "--strategy=dfs: partial-order reduction: sleep (sleep sets over recorded accesses) or "
          "off");
ABSL_FLAG(std::string, enumerate, "schedule",
          "--strategy=dfs: schedule (other streams come from the seed) or all (every choice)");
