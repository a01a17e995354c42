// The bounded exhaustive search as a Bazel test:
//   verify --model=M [--bug=B] [--seed=S] [--preemption_bound=K] [--dpor=sleep|off]
//          [--expect=verified|found|crash] [--expect_preemptions=P] [--OPTION=N ...]
// --expect=verified (the default): the search must end "verified". --expect=found: it must find
// a violation of the planted bug, with exactly P preemptions when --expect_preemptions is given
// (the fewest, since bounds are searched in increasing order). --expect=crash: the same, and the
// violation must be a crash of the host (the run isolated after it killed the search's process,
// search/dfs.h). The reproducer goes to
// TEST_UNDECLARED_OUTPUTS_DIR.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "scenario/scenario.h"
#include "search/dfs.h"
#include "sim/reproducer.h"

namespace switchyard::search {
namespace {

int Main(int argc, char** argv) {
  scenario::Scenario s;
  s.strategy = "dfs";
  SearchOptions options;
  std::string expect = "verified";
  int expect_preemptions = -1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&arg](const char* prefix, std::string* out) {
      if (arg.rfind(prefix, 0) != 0) return false;
      *out = arg.substr(std::string(prefix).size());
      return true;
    };
    std::string v;
    int64_t n = 0;
    if (value("--model=", &s.model) || value("--bug=", &s.bug) || value("--expect=", &expect) ||
        value("--granularity=", &s.granularity)) {
    } else if (value("--seed=", &v) && absl::SimpleAtoi(v, &s.seed)) {
    } else if (value("--preemption_bound=", &v) && absl::SimpleAtoi(v, &options.preemption_bound)) {
    } else if (value("--expect_preemptions=", &v) && absl::SimpleAtoi(v, &expect_preemptions)) {
    } else if (value("--dpor=", &v)) {
      options.reduction = v != "off";
    } else if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos &&
               absl::SimpleAtoi(arg.substr(arg.find('=') + 1), &n)) {
      s.options[arg.substr(2, arg.find('=') - 2)] = n;
    } else {
      std::fprintf(stderr, "verify: unknown argument '%s'\n", arg.c_str());
      return 2;
    }
  }
  if (absl::Status status = scenario::Resolve(&s); !status.ok()) {
    std::fprintf(stderr, "verify: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  std::printf("verify: %s; preemption bound %d; reduction %s; expect %s\n",
              scenario::Describe(s).c_str(), options.preemption_bound,
              options.reduction ? "sleep" : "off", expect.c_str());
  // A schedule that crashes the host is a violation of kind crash (SearchSurvivingCrashes).
  return SearchSurvivingCrashes(
      s, options,
      [&](const SearchResult& r) {
        std::printf("%s: bound %d, %" PRIu64 " schedules, %" PRIu64 " pruned, %" PRIu64
                    " cut short, deepest %" PRIu64 " branch points, %.2f s\n",
                    StatusName(r.status), r.bound, r.schedules, r.pruned, r.blocked, r.deepest,
                    r.seconds);
        if (r.status == SearchResult::Status::kViolation) {
          const sim::Outcome& o = r.violation.outcome;
          std::string dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR") != nullptr
                                ? std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")
                                : ".";
          std::string path = absl::StrCat(dir, "/", s.model, "-dfs-seed", s.seed, ".json");
          absl::Status written = sim::WriteReproducer(path, scenario::ToReproducer(s, r.violation));
          std::printf("%s %s at step %" PRIu64 " with %d preemptions: %s\nreproducer: %s%s\n",
                      scenario::OutcomeKindName(o.kind).c_str(), o.invariant.c_str(), o.step,
                      r.violation_preemptions, o.message.c_str(), path.c_str(),
                      written.ok() ? "" : " (could not be written)");
        }
        if (expect == "verified") return r.status == SearchResult::Status::kVerified ? 0 : 1;
        if (r.status != SearchResult::Status::kViolation) {
          std::printf("FAIL: the search did not find the planted bug\n");
          return 1;
        }
        if (expect == "crash" && !r.crashed) {
          std::printf("FAIL: the violation found is not a crash\n");
          return 1;
        }
        if (expect_preemptions >= 0 && r.violation_preemptions != expect_preemptions) {
          std::printf("FAIL: found with %d preemptions, expected %d\n", r.violation_preemptions,
                      expect_preemptions);
          return 1;
        }
        return 0;
      },
      nullptr,
      [](int signal, uint64_t run) {
        std::printf("the search's process died of %s in run %" PRIu64
                    ": searching again, that run "
                    "isolated\n",
                    scenario::SignalName(signal).c_str(), run);
      });
}

}  // namespace
}  // namespace switchyard::search

int main(int argc, char** argv) { return switchyard::search::Main(argc, argv); }
