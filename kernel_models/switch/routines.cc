// The compiled routines (BUILD: switch_routine_program), the correct ones and the mutants. Keep in
// step with BUILD.
#include "kernel_models/switch/boost_fcontext_x86_64.h"
#include "kernel_models/switch/glibc_ucontext_x86_64.h"
#include "kernel_models/switch/own_swap_x86_64.h"
#include "kernel_models/switch/own_swap_x86_64_callee_saved_not_saved.h"
#include "kernel_models/switch/own_swap_x86_64_fpu_not_preserved.h"
#include "kernel_models/switch/own_swap_x86_64_frame_one_word_off.h"
#include "kernel_models/switch/own_swap_x86_64_sp_in_save_area.h"
#include "kernel_models/switch/own_swap_x86_64_writes_suspended_slot.h"
#include "kernel_models/switch/switch_routine.h"

namespace switchyard::switch_routine {
namespace {

constexpr const char* kOwnSwap = "kernel_models/switch/routines/swap_x86_64_sysv_elf_gas.S";

const std::vector<Routine>& AllRoutines() {
  static const std::vector<Routine> routines = {
      {"own-swap-x86_64", kOwnSwap, Arch::kX86_64, Convention::kSwap, &emu::own_swap_x86_64,
       "sy_swap"},
      {"glibc-ucontext-x86_64",
       "glibc 2.36's getcontext/makecontext/swapcontext, from the host's libc.a (libc6-dev)",
       Arch::kX86_64, Convention::kUcontext, &emu::glibc_ucontext_x86_64, "swapcontext"},
      {"boost-fcontext-x86_64",
       "Boost.Context 1.74's jump_fcontext/make_fcontext, from libboost_context.a "
       "(libboost-context-dev)",
       Arch::kX86_64, Convention::kFcontext, &emu::boost_fcontext_x86_64, "jump_fcontext"},
      {"own-swap-x86_64-callee-saved-not-saved", kOwnSwap, Arch::kX86_64, Convention::kSwap,
       &emu::own_swap_x86_64_callee_saved_not_saved, "sy_swap"},
      {"own-swap-x86_64-fpu-not-preserved", kOwnSwap, Arch::kX86_64, Convention::kSwap,
       &emu::own_swap_x86_64_fpu_not_preserved, "sy_swap"},
      {"own-swap-x86_64-frame-one-word-off", kOwnSwap, Arch::kX86_64, Convention::kSwap,
       &emu::own_swap_x86_64_frame_one_word_off, "sy_swap"},
      {"own-swap-x86_64-sp-in-save-area", kOwnSwap, Arch::kX86_64, Convention::kSwap,
       &emu::own_swap_x86_64_sp_in_save_area, "sy_swap"},
      {"own-swap-x86_64-writes-suspended-slot", kOwnSwap, Arch::kX86_64, Convention::kSwap,
       &emu::own_swap_x86_64_writes_suspended_slot, "sy_swap"},
  };
  return routines;
}

}  // namespace

const std::vector<Routine>& CorrectRoutines() {
  static const std::vector<Routine> routines(AllRoutines().begin(), AllRoutines().begin() + 3);
  return routines;
}

const Routine* FindRoutine(std::string_view name) {
  for (const Routine& r : AllRoutines()) {
    if (name == r.name) return &r;
  }
  return nullptr;
}

const std::vector<Bug>& Bugs() {
  static const std::vector<Bug> bugs = {
      {"x86_64-callee-saved-not-saved", "the x86-64 swap routine neither saves nor restores r15",
       "own-swap-x86_64-callee-saved-not-saved"},
      {"x86_64-fpu-not-preserved",
       "the x86-64 swap routine does not switch MXCSR and the x87 control word",
       "own-swap-x86_64-fpu-not-preserved"},
      {"x86_64-frame-one-word-off",
       "sy_make builds the first frame one word too low: the entry function starts misaligned",
       "own-swap-x86_64-frame-one-word-off"},
      {"x86_64-sp-in-save-area",
       "the routine pushes the registers into the save area: mid-switch rsp points into it, and "
       "a signal's frame lands on what lies below",
       "own-swap-x86_64-sp-in-save-area"},
      {"x86_64-writes-suspended-slot",
       "the routine writes a link into the save area of the context that switched out before it, "
       "which is suspended",
       "own-swap-x86_64-writes-suspended-slot"},
  };
  return bugs;
}

}  // namespace switchyard::switch_routine
