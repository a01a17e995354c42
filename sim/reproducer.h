// Reproducer files: everything needed to run a failing (or any) run again, as JSON.
//
// A reproducer holds the format version, the model and a fingerprint of its version, the
// model's options, the planted bug, the strategy and seed, the outcome it recorded, the trace
// hash, and the decision log. Replaying the log reproduces the trace hash; when the model has
// changed, the replay diverges and says where (see ReplayDecider).
//
// Reading never crashes: a malformed, truncated, wrong-format or wrong-version file is an error
// Status whose message is one line saying what is wrong. Writing is atomic: the file is written
// beside its destination and renamed over it, so a reproducer is never seen half-written.
#ifndef SWITCHYARD_SIM_REPRODUCER_H_
#define SWITCHYARD_SIM_REPRODUCER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/decider.h"

namespace switchyard::sim {

inline constexpr int kReproducerVersion = 1;

struct Reproducer {
  std::string model;
  std::string model_fingerprint;
  std::map<std::string, int64_t> options;  // ordered: files and hashes never depend on hashing
  std::string bug;                         // empty: the correct model
  std::string strategy;                    // how the run was first found: random, pct, bytes, ...
  uint64_t seed = 0;
  int pct_depth = 0;
  // --strategy=burst's longest burst; 0 for the other strategies. Optional in files (files from
  // before burst existed have none).
  uint64_t burst_max = 0;
  // Where vCPUs interleave: "access" or "coarse". Files from before granularity existed ran
  // coarse, and read so.
  std::string granularity = "access";
  // A file of the user's own code the model builds (the switch model's --routine=PATH); empty
  // when the model runs only code built into switchyard. Absolute.
  std::string user_file;
  // A hash of the user's code as the model compiled it (an xv6 tree's sources), so that a replay
  // can say that it changed since; empty when the model has none. Optional in files.
  std::string user_file_fingerprint;
  std::string outcome_kind;  // "pass", "safety", "liveness"
  std::string invariant;
  std::string message;
  uint64_t step = 0;
  uint64_t trace_hash = 0;
  DecisionLog log;
};

std::string ReproducerToJson(const Reproducer& r);
absl::StatusOr<Reproducer> ReproducerFromJson(const std::string& text);

// Atomic write: `path`.tmp then rename. Errors name the path and the reason.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);
absl::StatusOr<std::string> ReadFile(const std::string& path);

absl::Status WriteReproducer(const std::string& path, const Reproducer& r);
absl::StatusOr<Reproducer> ReadReproducer(const std::string& path);

}  // namespace switchyard::sim

#endif  // SWITCHYARD_SIM_REPRODUCER_H_
