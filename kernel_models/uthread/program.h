// A threads program of the user's, built at run time (`switchyard explore --model=uthread
// --program=DIR --arch=riscv64`): DIR is an xv6 tree with the 6.1810 lab's user/uthread.c and
// user/uthread_switch.S, or any directory whose .c files are a threads program and whose .S
// file is its switch routine. The files are compiled with the Debian cross compiler and xv6's
// user flags (-O, frame pointers, -ffreestanding) against switchyard's stand-in for xv6's user
// library (ulib/), in a fresh directory under $TMPDIR: nothing is written into DIR, and the
// compiler's messages and line tables name DIR's own files.
//
// Contract: a build happens once per (DIR, arch) and process, before any run (the CLI builds
// while it checks the options, so forked workers inherit it). Errors are one line (or the
// compiler's own messages after one line): a directory that is not a threads program, a file
// that does not compile, a function the stand-in library does not provide (named).
#ifndef SWITCHYARD_KERNEL_MODELS_UTHREAD_PROGRAM_H_
#define SWITCHYARD_KERNEL_MODELS_UTHREAD_PROGRAM_H_

#include <string>

#include "absl/status/statusor.h"
#include "kernel_models/uthread/uthread.h"

namespace switchyard::uthread {

absl::StatusOr<const Program*> BuildProgram(const std::string& dir, Arch arch);

// A hash of the files BuildProgram compiles from `dir` (the .c and .S files, and the .h files
// beside them), read now, as 16 hex digits; "" when `dir` is not a threads program. Reproducers
// record it so that a replay against a changed program says so.
std::string ProgramSourcesFingerprint(const std::string& dir);

}  // namespace switchyard::uthread

#endif  // SWITCHYARD_KERNEL_MODELS_UTHREAD_PROGRAM_H_
