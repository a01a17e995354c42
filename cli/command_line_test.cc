// Proves the subcommand flag parser accepts only the subcommand's flags, parses values through
// Abseil, and reports every mistake as one line.
#include "cli/command_line.h"

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, test_count, 3, "a count");
ABSL_FLAG(bool, test_verbose, false, "be verbose");

namespace switchyard::cli {
namespace {

TEST(ParseArgs, SetsAllowedFlagsAndKeepsPositionals) {
  ParsedArgs parsed;
  std::string error;
  ASSERT_TRUE(ParseArgs({"file.json", "--test_count=7", "--test_verbose"},
                        {"test_count", "test_verbose"}, &parsed, &error))
      << error;
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 7);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
  ASSERT_EQ(parsed.positional.size(), 1u);
  EXPECT_EQ(parsed.positional[0], "file.json");
  ASSERT_TRUE(ParseArgs({"--notest_verbose"}, {"test_verbose"}, &parsed, &error)) << error;
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_verbose));
}

TEST(ParseArgs, RejectsFlagNotAllowedForSubcommand) {
  ParsedArgs parsed;
  std::string error;
  EXPECT_FALSE(ParseArgs({"--test_count=1"}, {"test_verbose"}, &parsed, &error));
  EXPECT_EQ(error, "unknown flag '--test_count' for this subcommand");
}

TEST(ParseArgs, RejectsBadValueAndMissingValue) {
  ParsedArgs parsed;
  std::string error;
  EXPECT_FALSE(ParseArgs({"--test_count=many"}, {"test_count"}, &parsed, &error));
  EXPECT_NE(error.find("bad value 'many' for --test_count"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
  EXPECT_FALSE(ParseArgs({"--test_count"}, {"test_count"}, &parsed, &error));
  EXPECT_EQ(error, "flag '--test_count' needs a value: --test_count=VALUE");
  EXPECT_FALSE(ParseArgs({"-x"}, {"test_count"}, &parsed, &error));
}

TEST(ParseArgs, DoubleDashEndsFlags) {
  ParsedArgs parsed;
  std::string error;
  ASSERT_TRUE(ParseArgs({"--", "--test_count=1"}, {}, &parsed, &error)) << error;
  ASSERT_EQ(parsed.positional.size(), 1u);
  EXPECT_EQ(parsed.positional[0], "--test_count=1");
}

}  // namespace
}  // namespace switchyard::cli
