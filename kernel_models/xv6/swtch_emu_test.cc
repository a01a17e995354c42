// The real swtch.S keeps every thread's ra, sp and s0-s11 across any sequence of switches; the
// two planted bugs are reported in swtch's terms.
#include "kernel_models/xv6/swtch_emu.h"

#include <string>

#include "gtest/gtest.h"

namespace switchyard::xv6 {
namespace {

// Two schedulers (contexts 0, 1) and four processes (2..5) switching like xv6: scheduler to
// process, process back to its scheduler. Returns the first violation or "".
std::string RunSchedule(EmulatedSwtch::Variant variant) {
  EmulatedSwtch e(variant, 6);
  for (int p = 2; p < 6; ++p) e.InitContext(p, 0x80001000 + 16 * p, 0x80100000 + 0x1000 * p);
  e.Start(0);
  e.Start(1);
  for (int round = 0; round < 20; ++round) {
    int cpu = round % 2;
    int p = 2 + (round * 3) % 4;
    if (std::string why = e.Swtch(cpu, p); !why.empty()) return why;
    if (std::string why = e.Swtch(p, cpu); !why.empty()) return why;
  }
  return "";
}

TEST(SwtchEmuTest, RealSwtchRestoresEveryRegister) {
  EXPECT_EQ(RunSchedule(EmulatedSwtch::Variant::kCorrect), "");
}

TEST(SwtchEmuTest, ForgottenRegisterIsReported) {
  std::string why = RunSchedule(EmulatedSwtch::Variant::kForgetsS11);
  EXPECT_NE(why.find("s11 was"), std::string::npos) << why;
}

TEST(SwtchEmuTest, FieldOrderDisagreementIsReported) {
  std::string why = RunSchedule(EmulatedSwtch::Variant::kContextOutOfOrder);
  EXPECT_NE(why.find("field order"), std::string::npos) << why;
}

// Any routine, with the contexts after its image and the C side's layout given: a struct twice as
// large with ra and sp where swtch.S has them passes; with them swapped, the first switch into a
// new context names the field order and the C side's offsets.
TEST(SwtchEmuTest, AnyRoutineWithTheCSidesLayout) {
  SwtchRoutine routine = EmulatedSwtch::BuiltinRoutine(EmulatedSwtch::Variant::kCorrect);
  routine.context_size = 224;
  for (bool swapped : {false, true}) {
    routine.ra_offset = swapped ? 8 : 0;
    routine.sp_offset = swapped ? 0 : 8;
    EmulatedSwtch e(routine, 300, /*plant_bug=*/false);
    e.SetName(299, "proc[297].context");
    e.Start(0);
    e.InitContext(299, 0x80001000, 0x80100000);
    std::string why = e.Swtch(0, 299);
    if (!swapped) {
      EXPECT_EQ(why, "");
      EXPECT_EQ(e.Swtch(299, 0), "");
      EXPECT_EQ(e.Swtch(0, 299), "");
    } else {
      EXPECT_EQ(why,
                "proc[297].context, new from allocproc, started with ra=0x80100000 "
                "sp=0x80001000 instead of ra=0x80001000 sp=0x80100000: struct context's field "
                "order disagrees with swtch.S's offsets (the C side has ra at 8 and sp at 0)");
    }
  }
}

// Reset brings back what the constructor made: the same switches give the same instructions and
// registers, and nothing started or named before is remembered.
TEST(SwtchEmuTest, ResetForgetsTheRunBefore) {
  EmulatedSwtch e(EmulatedSwtch::BuiltinRoutine(EmulatedSwtch::Variant::kCorrect), 3,
                  /*plant_bug=*/false);
  for (int round = 0; round < 3; ++round) {
    if (round > 0) e.Reset(false);
    EXPECT_EQ(e.switches(), 0u);
    EXPECT_EQ(e.instructions(), 0u);
    e.Start(0);
    e.InitContext(2, 0x80001000, 0x80100000);
    ASSERT_EQ(e.Swtch(0, 2), "");
    ASSERT_EQ(e.Swtch(2, 0), "");
    EXPECT_EQ(e.instructions(), 58u);
  }
}

TEST(SwtchEmuTest, RunsTwentyNineInstructionsPerSwitch) {
  EmulatedSwtch e(EmulatedSwtch::Variant::kCorrect, 2);
  e.Start(0);
  e.InitContext(1, 0x80001000, 0x80100000);
  ASSERT_EQ(e.Swtch(0, 1), "");
  EXPECT_EQ(e.instructions(), 29u);  // 14 sd, 14 ld, ret
}

}  // namespace
}  // namespace switchyard::xv6
