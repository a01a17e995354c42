// libFuzzer target for the user-level threads library model (real i386 code in Unicorn). It must
// find each planted bug (SWITCHYARD_BUG=NAME) and nothing in the correct library.
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  switchyard::fuzz::Initialize("ult");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return switchyard::fuzz::RunModel("ult", data, size);
}
