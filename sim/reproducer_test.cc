// Proves reproducer files round-trip, and that malformed, truncated, wrong-format and
// wrong-version files are one-line errors, never crashes.
#include "sim/reproducer.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace switchyard::sim {
namespace {

Reproducer Example() {
  Reproducer r;
  r.model = "xv6";
  r.model_fingerprint = "xv6-1";
  r.options = {{"cpus", 2}, {"nproc", 8}};
  r.bug = "wakeup-without-lock";
  r.strategy = "random";
  r.seed = 1234567890123ull;
  r.pct_depth = 3;
  r.outcome_kind = "liveness";
  r.invariant = "no-progress";
  r.message = "pid 3 sleeps on chan 7";
  r.step = 999;
  r.trace_hash = 0xDEADBEEFCAFEF00Dull;
  r.log.stream_names = {"schedule", "workload"};
  r.log.decisions = {{0, 2, 1}, {1, 7, 6}, {0, 3, 0}};
  return r;
}

TEST(Reproducer, RoundTrips) {
  std::string text = ReproducerToJson(Example());
  absl::StatusOr<Reproducer> back = ReproducerFromJson(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(ReproducerToJson(*back), text);
  EXPECT_EQ(back->trace_hash, 0xDEADBEEFCAFEF00Dull);
  EXPECT_EQ(back->log.decisions, Example().log.decisions);
}

void ExpectOneLineError(const std::string& text, const std::string& fragment) {
  absl::StatusOr<Reproducer> r = ReproducerFromJson(text);
  ASSERT_FALSE(r.ok()) << text;
  std::string message(r.status().message());
  EXPECT_NE(message.find(fragment), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(Reproducer, EveryTruncationIsAnError) {
  std::string text = ReproducerToJson(Example());
  // Every proper prefix must be rejected (the last byte is a newline, so stop before the brace).
  for (size_t n = 0; n + 2 < text.size(); ++n) {
    EXPECT_FALSE(ReproducerFromJson(text.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(Reproducer, BadFilesAreOneLineErrors) {
  ExpectOneLineError("{not json", "malformed or truncated");
  ExpectOneLineError("[1,2]", "not a JSON object");
  ExpectOneLineError(R"({"format":"something-else"})", "format is 'something-else'");
  std::string text = ReproducerToJson(Example());
  std::string future = text;
  future.replace(future.find("\"version\": 1"), 12, "\"version\": 9");
  ExpectOneLineError(future, "version 9 is not supported");
  std::string bad_decision = text;
  bad_decision.replace(bad_decision.find("6\n"), 1, "9");  // value 9 among 7 options
  ExpectOneLineError(bad_decision, "decision 1");
  std::string bad_hash = text;
  bad_hash.replace(bad_hash.find("0xdeadbeef"), 10, "0xnothexxx");
  ExpectOneLineError(bad_hash, "trace_hash");
}

TEST(Reproducer, WritesAtomicallyAndReadsBack) {
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/repro.json";
  ASSERT_TRUE(WriteReproducer(path, Example()).ok());
  absl::StatusOr<Reproducer> back = ReadReproducer(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->seed, Example().seed);
  EXPECT_FALSE(ReadReproducer(dir + "/missing.json").ok());
  absl::Status bad = WriteReproducer(dir + "/no/such/dir/repro.json", Example());
  EXPECT_FALSE(bad.ok());
  FILE* leftover = std::fopen((dir + "/no/such/dir/repro.json.tmp").c_str(), "r");
  EXPECT_EQ(leftover, nullptr);
}

}  // namespace
}  // namespace switchyard::sim
