// views::LocateCode on a module loaded in this process: each `MODULE+0xOFFSET[ (SYMBOL)]` of it
// in a message becomes the code's file:line and function; names of modules not loaded here, and
// every name when no symbolizer runs, stay as they are.
#include "views/symbolize.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "sim/module.h"

namespace switchyard::views {
namespace {

// "libinstrumented_fixture.so+0x..." for an address a few bytes into fixture_boot(), as the
// simulator names a return address there.
std::string FixtureBootName() {
  static sim::Module* fixture = [] {
    auto loaded = sim::Module::Load("sim/libinstrumented_fixture.so");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded->release();
  }();
  void* boot = fixture->Symbol("fixture_boot");
  Dl_info info{};
  EXPECT_NE(dladdr(boot, &info), 0);
  return absl::StrFormat(
      "libinstrumented_fixture.so+0x%x",
      reinterpret_cast<uintptr_t>(boot) + 4 - reinterpret_cast<uintptr_t>(info.dli_fbase));
}

TEST(LocateCode, NamesTheFileLineAndFunctionOfEachLoadedName) {
  const std::string name = FixtureBootName();
  const std::string located = LocateCode("fixture panics (at " + name + " (fixture_boot)) after " +
                                         name + ", not at other.so+0x10 (f)");
  EXPECT_EQ(located.rfind("fixture panics (at sim/testing/instrumented_fixture.c:", 0), 0u)
      << located;
  // Both names, the dladdr symbol replaced; the module that is not loaded left alone.
  EXPECT_NE(located.find(" in fixture_boot()) after sim/testing/instrumented_fixture.c:"),
            std::string::npos)
      << located;
  EXPECT_NE(located.find(" in fixture_boot(), not at other.so+0x10 (f)"), std::string::npos)
      << located;
  EXPECT_EQ(located.find("libinstrumented_fixture.so"), std::string::npos) << located;
}

TEST(LocateCode, WithoutASymbolizerTheMessageStaysAsItIs) {
  const std::string message = "fixture panics (at " + FixtureBootName() + ")";
  setenv("SWITCHYARD_SYMBOLIZER", "/nonexistent/llvm-symbolizer", 1);
  EXPECT_EQ(LocateCode(message), message);
  unsetenv("SWITCHYARD_SYMBOLIZER");
  EXPECT_EQ(LocateCode("no code here, nor in x.so+0x (y)"), "no code here, nor in x.so+0x (y)");
}

}  // namespace
}  // namespace switchyard::views
