// The body shared by the model fuzz targets: decode the input into a scenario (options from the
// first bytes, every decision from the rest; see scenario/fuzz_input.h), run it, and crash on a
// violation so libFuzzer keeps the input. The planted bug to hunt comes from the environment
// variable SWITCHYARD_BUG (unset: the correct model, where any violation is a real finding). The
// code under test of a model that takes the user's own comes from SWITCHYARD_KERNEL=builtin|DIR
// (xv6's --kernel) or SWITCHYARD_PROGRAM=DIR (--program: no fuzz target's model takes it yet), as
// on the command line.
#ifndef SWITCHYARD_FUZZ_FUZZ_TARGET_H_
#define SWITCHYARD_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>

namespace switchyard::fuzz {

// Reads SWITCHYARD_BUG (and SWITCHYARD_KERNEL or SWITCHYARD_PROGRAM) once, outside any run, and
// checks them against `model`; exits with status 2 and one line when they do not fit.
void Initialize(const char* model);
int RunModel(const char* model, const uint8_t* data, size_t size);

}  // namespace switchyard::fuzz

#endif  // SWITCHYARD_FUZZ_FUZZ_TARGET_H_
