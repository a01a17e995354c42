// libFuzzer target for the xv6 model. It must find each planted bug (SWITCHYARD_BUG=NAME) and
// nothing in the correct kernel.
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  switchyard::fuzz::Initialize("xv6");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return switchyard::fuzz::RunModel("xv6", data, size);
}
