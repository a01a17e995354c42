// Proves reproducer files round-trip (with and without the user code's fingerprint), and that
// malformed, truncated, wrong-format and wrong-version files are one-line errors, never crashes.
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

// A tree's reproducer carries the tree's path and the hash of its sources; a file without the
// hash (every model without user code) reads back without one and is written as before.
TEST(Reproducer, TheUserCodesFingerprintRoundTripsAndIsOptional) {
  Reproducer tree = Example();
  tree.user_file = "/home/me/xv6-riscv";
  tree.user_file_fingerprint = "d7605569f1450908";
  absl::StatusOr<Reproducer> back = ReproducerFromJson(ReproducerToJson(tree));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->user_file, "/home/me/xv6-riscv");
  EXPECT_EQ(back->user_file_fingerprint, "d7605569f1450908");
  const std::string plain = ReproducerToJson(Example());
  EXPECT_EQ(plain.find("user_file_fingerprint"), std::string::npos);
  absl::StatusOr<Reproducer> none = ReproducerFromJson(plain);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->user_file_fingerprint.empty());
}

// A burst run's file records its longest burst; files of the other strategies (and files from
// before burst existed) have no such field and read as 0.
TEST(Reproducer, BurstMaxRoundTripsAndIsOptional) {
  Reproducer burst = Example();
  burst.strategy = "burst";
  burst.burst_max = 40000;
  absl::StatusOr<Reproducer> back = ReproducerFromJson(ReproducerToJson(burst));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->strategy, "burst");
  EXPECT_EQ(back->burst_max, 40000u);
  const std::string plain = ReproducerToJson(Example());
  EXPECT_EQ(plain.find("burst_max"), std::string::npos);
  absl::StatusOr<Reproducer> none = ReproducerFromJson(plain);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->burst_max, 0u);
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
  // Found by the reader's fuzzer: a newline inside a string that an error message echoes made
  // the message two lines. Every string is one line of text; an echoed one is escaped.
  std::string newline_hash = text;
  newline_hash.replace(newline_hash.find("0xdeadbeef"), 10, "0x9m\\u000A,200");
  ExpectOneLineError(newline_hash,
                     "field 'trace_hash' '0x9m\\n,200cafef00d' contains a control character");
  std::string newline_option = text;
  newline_option.replace(newline_option.find("\"cpus\""), 6, "\"cp\\nus\"");
  ExpectOneLineError(newline_option, "option name 'cp\\nus' contains a control character");
  std::string newline_stream = text;
  newline_stream.replace(newline_stream.find("\"workload\""), 10, "\"work\\tload\"");
  ExpectOneLineError(newline_stream, "stream name 'work\\tload' contains a control character");
}

// Every number is checked for type and range before it is converted (a JSON double converted to
// an integer is undefined behaviour). `field` is replaced, value and all, in the example file.
std::string WithNumber(const std::string& field, const std::string& value) {
  std::string text = ReproducerToJson(Example());
  size_t at = text.find("\"" + field + "\": ");
  EXPECT_NE(at, std::string::npos) << field;
  size_t start = at + field.size() + 4;
  size_t end = text.find_first_of(",\n", start);
  return text.substr(0, start) + value + text.substr(end);
}

TEST(Reproducer, NumbersAreCheckedBeforeConversion) {
  const std::string huge = "5555555555555555555555555555555555555555555551";  // 46 digits
  ExpectOneLineError(WithNumber("cpus", huge), "option 'cpus' is not an integer");
  ExpectOneLineError(WithNumber("cpus", "2.5"), "option 'cpus' is not an integer");
  ExpectOneLineError(WithNumber("cpus", "18446744073709551615"), "option 'cpus' is out of range");
  ExpectOneLineError(WithNumber("cpus", "\"2\""), "option 'cpus' is not an integer");
  ExpectOneLineError(WithNumber("seed", "-1"), "field 'seed' is not a non-negative integer");
  ExpectOneLineError(WithNumber("seed", "1e3"), "field 'seed' is not a non-negative integer");
  ExpectOneLineError(WithNumber("seed", huge), "field 'seed' is not a non-negative integer");
  ExpectOneLineError(WithNumber("pct_depth", "65"), "field 'pct_depth' is out of range");
  ExpectOneLineError(WithNumber("pct_depth", "-1"), "field 'pct_depth' is out of range");
  ExpectOneLineError(WithNumber("pct_depth", "3.0"), "field 'pct_depth' is not an integer");
  ExpectOneLineError(WithNumber("version", "1.0"), "field 'version' is not an integer");
  ExpectOneLineError(WithNumber("version", huge), "field 'version' is not an integer");
  ExpectOneLineError(WithNumber("step", "-5"), "field 'step' is not a non-negative integer");
  ExpectOneLineError(WithNumber("step", "9.5e300"), "field 'step' is not a non-negative integer");
  // In range, an option may be any int64, negatives included (the model checks its own range).
  EXPECT_TRUE(ReproducerFromJson(WithNumber("cpus", "-9223372036854775808")).ok());
  EXPECT_TRUE(ReproducerFromJson(WithNumber("seed", "18446744073709551615")).ok());
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
