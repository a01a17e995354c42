// Parses `switchyard SUBCOMMAND [--flag=value ...] [ARG ...]` against Abseil flags.
//
// Abseil's own ParseCommandLine exits with status 1 and several lines on an unknown flag, and it
// accepts every flag for every subcommand. switchyard promises one line and exit status 2, and
// each subcommand names the flags it understands, so the parsing is done here: each `--name` or
// `--name=value` is looked up with absl::FindCommandLineFlag, checked against the subcommand's
// list, and set with CommandLineFlag::ParseFrom.
#ifndef SWITCHYARD_CLI_COMMAND_LINE_H_
#define SWITCHYARD_CLI_COMMAND_LINE_H_

#include <string>
#include <vector>

namespace switchyard::cli {

// Exit statuses shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitSafety = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLiveness = 3;
inline constexpr int kExitDiverged = 4;
inline constexpr int kExitCrash = 5;  // the code under test crashed the host process
inline constexpr int kExitHang = 6;   // the code under test stopped reaching points (watchdog)

struct ParsedArgs {
  std::vector<std::string> positional;
  bool help = false;  // --help or -h was given
  // `--name=value` flags that are not Abseil flags, when the caller accepts them (model options).
  std::vector<std::pair<std::string, std::string>> extra;
};

// Parses args (everything after the subcommand name). `allowed_flags` are the Abseil flag names
// this subcommand accepts; dashes in a flag's name are read as underscores (--trace-out is
// --trace_out), and `-o FILE` is --output=FILE. With `accept_extra`, other `--name=value` flags
// are returned in ParsedArgs::extra for the caller to check. On error returns false and sets
// *error to one line (without the program name) saying what is wrong.
bool ParseArgs(const std::vector<std::string>& args, const std::vector<std::string>& allowed_flags,
               ParsedArgs* parsed, std::string* error, bool accept_extra = false);

// One line per flag: `  --name=DEFAULT  help text`.
std::string DescribeFlags(const std::vector<std::string>& flag_names);

}  // namespace switchyard::cli

#endif  // SWITCHYARD_CLI_COMMAND_LINE_H_
