// The compiled routines (BUILD: switch_routine_program), the correct ones and the mutants. Keep in
// step with BUILD.
#include <string_view>
#include <utility>

#include "kernel_models/switch/boost_fcontext_x86_64.h"
#include "kernel_models/switch/glibc_ucontext_i386.h"
#include "kernel_models/switch/glibc_ucontext_riscv64.h"
#include "kernel_models/switch/glibc_ucontext_x86_64.h"
#include "kernel_models/switch/own_fcontext_x86_64.h"
#include "kernel_models/switch/own_fcontext_x86_64_frame_one_word_off.h"
#include "kernel_models/switch/own_swap_i386.h"
#include "kernel_models/switch/own_swap_i386_callee_saved_not_saved.h"
#include "kernel_models/switch/own_swap_i386_fpu_not_preserved.h"
#include "kernel_models/switch/own_swap_i386_frame_one_word_off.h"
#include "kernel_models/switch/own_swap_i386_sp_in_save_area.h"
#include "kernel_models/switch/own_swap_i386_writes_suspended_slot.h"
#include "kernel_models/switch/own_swap_riscv64.h"
#include "kernel_models/switch/own_swap_riscv64_callee_saved_not_saved.h"
#include "kernel_models/switch/own_swap_riscv64_fpu_not_preserved.h"
#include "kernel_models/switch/own_swap_riscv64_frame_one_word_off.h"
#include "kernel_models/switch/own_swap_riscv64_sp_in_save_area.h"
#include "kernel_models/switch/own_swap_riscv64_writes_suspended_slot.h"
#include "kernel_models/switch/own_swap_x86_64.h"
#include "kernel_models/switch/own_swap_x86_64_callee_saved_not_saved.h"
#include "kernel_models/switch/own_swap_x86_64_fpu_not_preserved.h"
#include "kernel_models/switch/own_swap_x86_64_frame_one_word_off.h"
#include "kernel_models/switch/own_swap_x86_64_sp_in_save_area.h"
#include "kernel_models/switch/own_swap_x86_64_writes_suspended_slot.h"
#include "kernel_models/switch/own_ucontext_x86_64.h"
#include "kernel_models/switch/own_ucontext_x86_64_new_context_all_blocked.h"
#include "kernel_models/switch/switch_routine.h"

namespace switchyard::switch_routine {
namespace {

constexpr const char* kOwnSwap[] = {"kernel_models/switch/routines/swap_x86_64_sysv_elf_gas.S",
                                    "kernel_models/switch/routines/swap_i386_sysv_elf_gas.S",
                                    "kernel_models/switch/routines/swap_riscv64_lp64d_elf_gas.S"};
size_t kCorrectCount = 0;

const std::vector<Routine>& AllRoutines() {
  static const std::vector<Routine> routines = [] {
    std::vector<Routine> r = {
        {"own-swap-x86_64", kOwnSwap[0], Arch::kX86_64, Convention::kSwap, &emu::own_swap_x86_64,
         "sy_swap"},
        {"glibc-ucontext-x86_64",
         "glibc 2.36's getcontext/makecontext/swapcontext, from the host's libc.a (libc6-dev)",
         Arch::kX86_64, Convention::kUcontext, &emu::glibc_ucontext_x86_64, "swapcontext"},
        {"boost-fcontext-x86_64",
         "Boost.Context 1.74's jump_fcontext/make_fcontext, from libboost_context.a "
         "(libboost-context-dev)",
         Arch::kX86_64, Convention::kFcontext, &emu::boost_fcontext_x86_64, "jump_fcontext"},
        {"own-ucontext-x86_64", "kernel_models/switch/routines/ucontext_x86_64_sysv_elf_gas.S",
         Arch::kX86_64, Convention::kUcontext, &emu::own_ucontext_x86_64, "swapcontext"},
        {"own-fcontext-x86_64", "kernel_models/switch/routines/fcontext_x86_64_sysv_elf_gas.S",
         Arch::kX86_64, Convention::kFcontext, &emu::own_fcontext_x86_64, "jump_fcontext"},
        {"own-swap-i386", kOwnSwap[1], Arch::kI386, Convention::kSwap, &emu::own_swap_i386,
         "sy_swap"},
        {"glibc-ucontext-i386",
         "glibc 2.36's getcontext/makecontext/swapcontext, from libc6-dev-i386-cross's libc.a",
         Arch::kI386, Convention::kUcontext, &emu::glibc_ucontext_i386, "swapcontext"},
        {"own-swap-riscv64", kOwnSwap[2], Arch::kRiscv64, Convention::kSwap, &emu::own_swap_riscv64,
         "sy_swap"},
        {"glibc-ucontext-riscv64",
         "glibc 2.36's getcontext/makecontext/swapcontext, from libc6-dev-riscv64-cross's libc.a",
         Arch::kRiscv64, Convention::kUcontext, &emu::glibc_ucontext_riscv64, "swapcontext"},
    };
    kCorrectCount = r.size();
    const std::pair<const char*, const emu::ElfImage*> mutants[] = {
        {"own-swap-x86_64-callee-saved-not-saved", &emu::own_swap_x86_64_callee_saved_not_saved},
        {"own-swap-x86_64-fpu-not-preserved", &emu::own_swap_x86_64_fpu_not_preserved},
        {"own-swap-x86_64-frame-one-word-off", &emu::own_swap_x86_64_frame_one_word_off},
        {"own-swap-x86_64-sp-in-save-area", &emu::own_swap_x86_64_sp_in_save_area},
        {"own-swap-x86_64-writes-suspended-slot", &emu::own_swap_x86_64_writes_suspended_slot},
        {"own-swap-i386-callee-saved-not-saved", &emu::own_swap_i386_callee_saved_not_saved},
        {"own-swap-i386-fpu-not-preserved", &emu::own_swap_i386_fpu_not_preserved},
        {"own-swap-i386-frame-one-word-off", &emu::own_swap_i386_frame_one_word_off},
        {"own-swap-i386-sp-in-save-area", &emu::own_swap_i386_sp_in_save_area},
        {"own-swap-i386-writes-suspended-slot", &emu::own_swap_i386_writes_suspended_slot},
        {"own-swap-riscv64-callee-saved-not-saved", &emu::own_swap_riscv64_callee_saved_not_saved},
        {"own-swap-riscv64-fpu-not-preserved", &emu::own_swap_riscv64_fpu_not_preserved},
        {"own-swap-riscv64-frame-one-word-off", &emu::own_swap_riscv64_frame_one_word_off},
        {"own-swap-riscv64-sp-in-save-area", &emu::own_swap_riscv64_sp_in_save_area},
        {"own-swap-riscv64-writes-suspended-slot", &emu::own_swap_riscv64_writes_suspended_slot},
    };
    r.push_back({"own-ucontext-x86_64-new-context-all-blocked",
                 "kernel_models/switch/routines/ucontext_x86_64_sysv_elf_gas.S", Arch::kX86_64,
                 Convention::kUcontext, &emu::own_ucontext_x86_64_new_context_all_blocked,
                 "swapcontext"});
    r.push_back({"own-fcontext-x86_64-frame-one-word-off",
                 "kernel_models/switch/routines/fcontext_x86_64_sysv_elf_gas.S", Arch::kX86_64,
                 Convention::kFcontext, &emu::own_fcontext_x86_64_frame_one_word_off,
                 "jump_fcontext"});
    for (const auto& [name, image] : mutants) {
      std::string_view n = name;
      int arch = n.find("x86_64") != n.npos ? 0 : n.find("i386") != n.npos ? 1 : 2;
      const Arch arches[] = {Arch::kX86_64, Arch::kI386, Arch::kRiscv64};
      r.push_back({name, kOwnSwap[arch], arches[arch], Convention::kSwap, image, "sy_swap"});
    }
    return r;
  }();
  return routines;
}

}  // namespace

const std::vector<Routine>& CorrectRoutines() {
  // AllRoutines() sets kCorrectCount: call it before reading it (the operands of + are
  // unsequenced, and g++ read kCorrectCount first, which gave no routines at all).
  static const std::vector<Routine> routines = [] {
    const std::vector<Routine>& all = AllRoutines();
    return std::vector<Routine>(all.begin(), all.begin() + static_cast<long>(kCorrectCount));
  }();
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
      {"x86_64-new-context-signals-blocked",
       "our own makecontext starts the new context with every signal blocked",
       "own-ucontext-x86_64-new-context-all-blocked"},
      {"x86_64-fcontext-frame-one-word-off",
       "our own make_fcontext builds the first frame one word too low: fn starts misaligned",
       "own-fcontext-x86_64-frame-one-word-off"},
      {"i386-callee-saved-not-saved", "the i386 swap routine neither saves nor restores edi",
       "own-swap-i386-callee-saved-not-saved"},
      {"i386-fpu-not-preserved", "the i386 swap routine does not switch the x87 control word",
       "own-swap-i386-fpu-not-preserved"},
      {"i386-frame-one-word-off",
       "the i386 sy_make builds the first frame one word too low: entry starts misaligned",
       "own-swap-i386-frame-one-word-off"},
      {"i386-sp-in-save-area",
       "the i386 routine pushes the registers into the save area: mid-switch esp points into it",
       "own-swap-i386-sp-in-save-area"},
      {"i386-writes-suspended-slot",
       "the i386 routine writes a link into the save area of the context that switched out "
       "before it, which is suspended",
       "own-swap-i386-writes-suspended-slot"},
      {"riscv64-callee-saved-not-saved",
       "the RISC-V swap routine neither saves nor restores s11 (xv6's swtch-forgets-s11)",
       "own-swap-riscv64-callee-saved-not-saved"},
      {"riscv64-fpu-not-preserved", "the RISC-V swap routine does not switch fs0-fs11",
       "own-swap-riscv64-fpu-not-preserved"},
      {"riscv64-frame-one-word-off",
       "the RISC-V sy_make gives the new context a stack pointer one word low: misaligned",
       "own-swap-riscv64-frame-one-word-off"},
      {"riscv64-sp-in-save-area",
       "the RISC-V routine points sp at the save areas while it stores and loads them",
       "own-swap-riscv64-sp-in-save-area"},
      {"riscv64-writes-suspended-slot",
       "the RISC-V routine writes a link into the save area of the context that switched out "
       "before it, which is suspended",
       "own-swap-riscv64-writes-suspended-slot"},
  };
  return bugs;
}

}  // namespace switchyard::switch_routine
