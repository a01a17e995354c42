// libFuzzer target for the reproducer reader: any bytes must give a reproducer or a one-line
// error, never a crash; whatever parses must survive a write and a second read unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sim/reproducer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<switchyard::sim::Reproducer> r = switchyard::sim::ReproducerFromJson(text);
  if (!r.ok()) {
    if (std::string(r.status().message()).find('\n') != std::string::npos) std::abort();
    return 0;
  }
  std::string written = switchyard::sim::ReproducerToJson(*r);
  absl::StatusOr<switchyard::sim::Reproducer> again = switchyard::sim::ReproducerFromJson(written);
  if (!again.ok() || switchyard::sim::ReproducerToJson(*again) != written) std::abort();
  return 0;
}
