// Keep in step with programs.bzl: one entry per compiled configuration.
#include "kernel_models/ult/ult.h"
#include "kernel_models/ult/ult_bug_frame_misaligned.h"
#include "kernel_models/ult/ult_bug_frame_off_by_one.h"
#include "kernel_models/ult/ult_bug_release_returns_blocked.h"
#include "kernel_models/ult/ult_bug_remove_running.h"
#include "kernel_models/ult/ult_bug_signal_race.h"
#include "kernel_models/ult/ult_bug_threadcount.h"
#include "kernel_models/ult/ult_ebp_O0.h"
#include "kernel_models/ult/ult_ebp_O0_nolocal.h"
#include "kernel_models/ult/ult_ebp_O0_omit_fp.h"
#include "kernel_models/ult/ult_ebp_O1_fp.h"
#include "kernel_models/ult/ult_ebp_O2.h"
#include "kernel_models/ult/ult_ebp_O2_fp.h"
#include "kernel_models/ult/ult_ebp_O2_fp_noinline.h"
#include "kernel_models/ult/ult_regs_O0.h"
#include "kernel_models/ult/ult_regs_O2.h"
#include "kernel_models/ult/ult_regs_O2_fp.h"
#include "kernel_models/ult/ult_regs_Os.h"

namespace switchyard::ult {

const std::vector<Program>& AllPrograms() {
  static const std::vector<Program> programs = {
      {"regs-O0", "-O0", &emu::ult_regs_O0, true},
      {"regs-O2", "-O2", &emu::ult_regs_O2, true},
      {"regs-O2-fp", "-O2 -fno-omit-frame-pointer", &emu::ult_regs_O2_fp, true},
      {"regs-Os", "-Os", &emu::ult_regs_Os, true},
      {"ebp-O0", "-O0", &emu::ult_ebp_O0, false},
      {"ebp-O0-nolocal", "-O0 -DSWITCH_NO_LOCAL", &emu::ult_ebp_O0_nolocal, false},
      {"ebp-O0-omit-fp", "-O0 -fomit-frame-pointer", &emu::ult_ebp_O0_omit_fp, false},
      {"ebp-O1-fp", "-O1 -fno-omit-frame-pointer", &emu::ult_ebp_O1_fp, false},
      {"ebp-O2", "-O2", &emu::ult_ebp_O2, false},
      {"ebp-O2-fp", "-O2 -fno-omit-frame-pointer", &emu::ult_ebp_O2_fp, false},
      {"ebp-O2-fp-noinline", "-O2 -fno-omit-frame-pointer -DSWITCH_NOINLINE",
       &emu::ult_ebp_O2_fp_noinline, false},
      {"bug-frame-off-by-one", "-O2 -DBUG_FRAME_OFF_BY_ONE", &emu::ult_bug_frame_off_by_one, false},
      {"bug-frame-misaligned", "-O2 -DBUG_FRAME_MISALIGNED", &emu::ult_bug_frame_misaligned, false},
      {"bug-remove-running", "-O2 -DBUG_REMOVE_RUNNING", &emu::ult_bug_remove_running, false},
      {"bug-threadcount", "-O2 -DBUG_THREADCOUNT_NOT_UPDATED", &emu::ult_bug_threadcount, false},
      {"bug-signal-race", "-O2 -DBUG_SIGNAL_RACE", &emu::ult_bug_signal_race, false},
      {"bug-release-returns-blocked", "-O2 -DBUG_RELEASE_RETURNS_BLOCKED",
       &emu::ult_bug_release_returns_blocked, false},
  };
  return programs;
}

const std::vector<Program>& CorrectPrograms() {
  static const std::vector<Program> programs = [] {
    std::vector<Program> correct;
    for (const Program& p : AllPrograms()) {
      if (p.correct) correct.push_back(p);
    }
    return correct;
  }();
  return programs;
}

}  // namespace switchyard::ult
