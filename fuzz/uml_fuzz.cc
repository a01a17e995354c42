// libFuzzer target for the User-Mode Linux model. It must find each planted bug
// (SWITCHYARD_BUG=NAME) and nothing in the correct model.
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  switchyard::fuzz::Initialize("uml");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return switchyard::fuzz::RunModel("uml", data, size);
}
