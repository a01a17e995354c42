// A campaign as a Bazel test: campaign_test --model=M --runs=N [--bug=B] [--strategy=S]
// [--burst_max=N]
// [--granularity=G] [--swarm] [--OPTION=N ...] [--expect=pass|found|crash]
// [--expect_invariant=NAME]
//
// --OPTION=N sets one of the model's options (--preemptive=1). With --expect_invariant, the
// finding must be a violation of that invariant: a bug found under another name fails the test.
//
// Sharded: with TEST_TOTAL_SHARDS=T and TEST_SHARD_INDEX=I, this shard runs the seeds i < N with
// i % T == I, so the shards together run exactly seeds 0..N-1. A violation (or, with
// --expect=found, a bug that was not found; with --expect=crash, a finding of another kind)
// fails the test; the reproducer goes to
// TEST_UNDECLARED_OUTPUTS_DIR and the log names the `switchyard replay` command.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "scenario/isolation.h"
#include "scenario/scenario.h"

namespace switchyard::scenario {
namespace {

uint64_t EnvNumber(const char* name, uint64_t otherwise) {
  const char* value = std::getenv(name);
  uint64_t n;
  return value != nullptr && absl::SimpleAtoi(value, &n) ? n : otherwise;
}

int Main(int argc, char** argv) {
  Scenario s;
  uint64_t runs = 1000;
  std::string expect = "pass";
  std::string expect_invariant;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--model=", 0) == 0) {
      s.model = arg.substr(8);
    } else if (arg.rfind("--bug=", 0) == 0) {
      s.bug = arg.substr(6);
    } else if (arg.rfind("--runs=", 0) == 0 && absl::SimpleAtoi(arg.substr(7), &runs)) {
    } else if (arg.rfind("--strategy=", 0) == 0) {
      s.strategy = arg.substr(11);
    } else if (arg.rfind("--burst_max=", 0) == 0 &&
               absl::SimpleAtoi(arg.substr(12), &s.burst_max)) {
    } else if (arg.rfind("--granularity=", 0) == 0) {
      s.granularity = arg.substr(14);
    } else if (arg == "--swarm") {
      s.swarm = true;
    } else if (arg.rfind("--expect=", 0) == 0) {
      expect = arg.substr(9);
    } else if (arg.rfind("--expect_invariant=", 0) == 0) {
      expect_invariant = arg.substr(19);
    } else if (int64_t value; arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos &&
                              absl::SimpleAtoi(arg.substr(arg.find('=') + 1), &value)) {
      // A model option; Resolve rejects a name the model does not have.
      s.options[arg.substr(2, arg.find('=') - 2)] = value;
    } else {
      std::fprintf(stderr, "campaign: unknown argument '%s'\n", arg.c_str());
      return 2;
    }
  }
  // With --swarm each seed draws its own options: keep the unresolved scenario and resolve a copy
  // per seed (Resolve makes the drawn options explicit).
  const Scenario unresolved = s;
  if (absl::Status status = Resolve(&s); !status.ok()) {
    std::fprintf(stderr, "campaign: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  // Tell Bazel this test understands sharding.
  if (const char* status_file = std::getenv("TEST_SHARD_STATUS_FILE")) {
    if (FILE* f = std::fopen(status_file, "w")) std::fclose(f);
  }
  const uint64_t shards = EnvNumber("TEST_TOTAL_SHARDS", 1);
  const uint64_t shard = EnvNumber("TEST_SHARD_INDEX", 0);
  std::printf("campaign: %s; seeds %" PRIu64 "..%" PRIu64 ", shard %" PRIu64 " of %" PRIu64
              "; expect %s\n",
              Describe(s).c_str(), uint64_t{0}, runs - 1, shard, shards, expect.c_str());
  if (unresolved.swarm) std::printf("campaign: swarm: options drawn per seed\n");
  if (unresolved.strategy == "swarm") std::printf("campaign: strategy drawn per seed\n");
  uint64_t done = 0;
  const absl::Time start = absl::Now();  // for the log only: runs never read the clock
  for (uint64_t i = shard; i < runs; i += shards) {
    if (DrawsPerSeed(unresolved)) {
      s = unresolved;
      s.seed = i;
      if (absl::Status status = Resolve(&s); !status.ok()) {
        std::printf("seed %" PRIu64 ": %s\n0 passed, 1 failed\n", i,
                    std::string(status.message()).c_str());
        return 1;
      }
    }
    s.seed = i;
    RunResult r = RunScenarioGuarded(s);
    ++done;
    if (r.outcome.kind == sim::Outcome::Kind::kPass) continue;
    std::string dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR") != nullptr
                          ? std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")
                          : ".";
    std::string path = absl::StrCat(dir, "/", s.model, "-seed", s.seed, ".json");
    absl::Status written = sim::WriteReproducer(path, ToReproducer(s, r));
    std::printf("seed %" PRIu64 ": %s %s: %s\nreproduce: %s\nreproducer: %s%s\n", s.seed,
                OutcomeKindName(r.outcome.kind).c_str(), r.outcome.invariant.c_str(),
                r.outcome.message.c_str(), RunCommand(s).c_str(), path.c_str(),
                written.ok() ? "" : " (could not be written)");
    if (!expect_invariant.empty() && r.outcome.invariant != expect_invariant) {
      std::printf("expected a violation of %s\n0 passed, 1 failed\n", expect_invariant.c_str());
      return 1;
    }
    if (expect == "found" || (expect == "crash" && r.outcome.kind == sim::Outcome::Kind::kCrash)) {
      std::printf("found after %" PRIu64 " runs in this shard (%.2f s)\n1 passed, 0 failed\n", done,
                  absl::ToDoubleSeconds(absl::Now() - start));
      return 0;
    }
    std::printf("0 passed, 1 failed\n");
    return 1;
  }
  if (expect == "found" || expect == "crash") {
    std::printf("%s was not found in %" PRIu64 " runs\n0 passed, 1 failed\n", s.bug.c_str(), done);
    return 1;
  }
  std::printf("%" PRIu64 " passed, 0 failed\n", done);
  return 0;
}

}  // namespace
}  // namespace switchyard::scenario

int main(int argc, char** argv) { return switchyard::scenario::Main(argc, argv); }
