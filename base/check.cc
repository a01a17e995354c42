#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace switchyard::base {

void CheckFailed(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "switchyard: internal check failed at %s:%d: %s\n", file, line, condition);
  std::abort();
}

}  // namespace switchyard::base
