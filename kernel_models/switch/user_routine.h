// The user's own switch routine, built at run time (`switchyard explore --model=switch
// --routine=path/switch.S --arch=x86_64 --convention=swap`): the file is compiled and linked into
// the harness program with the same Debian toolchain and flags that switch.bzl uses at build
// time, in a fresh directory under $TMPDIR (nothing is written next to the user's file), and the
// ELF is embedded like a built-in routine.
//
// Contract: a build happens once per (file, arch, convention) and process, before any run (the
// CLI builds while it checks the options, so forked workers inherit it); a file that does not
// assemble or link is an error whose text is the toolchain's own message.
#ifndef SWITCHYARD_KERNEL_MODELS_SWITCH_USER_ROUTINE_H_
#define SWITCHYARD_KERNEL_MODELS_SWITCH_USER_ROUTINE_H_

#include <string>

#include "absl/status/statusor.h"
#include "kernel_models/switch/switch_routine.h"

namespace switchyard::switch_routine {

absl::StatusOr<const Routine*> BuildUserRoutine(const std::string& path, Arch arch,
                                                Convention convention);

// The command that builds it, for a Makefile (what BuildUserRoutine runs, with DIR for the
// directory of the harness sources).
std::string UserBuildCommand(const std::string& path, Arch arch, Convention convention,
                             const std::string& dir, const std::string& out);

}  // namespace switchyard::switch_routine

#endif  // SWITCHYARD_KERNEL_MODELS_SWITCH_USER_ROUTINE_H_
