// The command's flags (Abseil flags), shared by the subcommands. Each subcommand lists the ones
// it accepts in main.cc.
#ifndef SWITCHYARD_CLI_FLAGS_H_
#define SWITCHYARD_CLI_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, bug);
ABSL_DECLARE_FLAG(std::string, strategy);
ABSL_DECLARE_FLAG(int, pct_depth);
ABSL_DECLARE_FLAG(uint64_t, burst_max);
ABSL_DECLARE_FLAG(std::string, granularity);
ABSL_DECLARE_FLAG(bool, swarm);
ABSL_DECLARE_FLAG(std::string, trace);
ABSL_DECLARE_FLAG(std::string, trace_out);
ABSL_DECLARE_FLAG(int64_t, runs);
ABSL_DECLARE_FLAG(absl::Duration, time);
ABSL_DECLARE_FLAG(int, jobs);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(bool, keep_going);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, fuzz_input);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(int, preemption_bound);
ABSL_DECLARE_FLAG(std::string, dpor);
ABSL_DECLARE_FLAG(std::string, enumerate);

#endif  // SWITCHYARD_CLI_FLAGS_H_
