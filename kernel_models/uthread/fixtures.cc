// The built-in fixture programs (fixture/, built by BUILD for each architecture and planted bug).
#include <string>
#include <vector>

#include "kernel_models/uthread/fixture_i386.h"
#include "kernel_models/uthread/fixture_i386_picks_current_again.h"
#include "kernel_models/uthread/fixture_i386_ra_not_set.h"
#include "kernel_models/uthread/fixture_i386_register_not_saved.h"
#include "kernel_models/uthread/fixture_i386_resumes_finished_thread.h"
#include "kernel_models/uthread/fixture_i386_sp_at_stack_bottom.h"
#include "kernel_models/uthread/fixture_i386_sp_one_byte_off.h"
#include "kernel_models/uthread/fixture_i386_wrong_offset.h"
#include "kernel_models/uthread/fixture_riscv64.h"
#include "kernel_models/uthread/fixture_riscv64_picks_current_again.h"
#include "kernel_models/uthread/fixture_riscv64_ra_not_set.h"
#include "kernel_models/uthread/fixture_riscv64_register_not_saved.h"
#include "kernel_models/uthread/fixture_riscv64_resumes_finished_thread.h"
#include "kernel_models/uthread/fixture_riscv64_sp_at_stack_bottom.h"
#include "kernel_models/uthread/fixture_riscv64_sp_one_byte_off.h"
#include "kernel_models/uthread/fixture_riscv64_wrong_offset.h"
#include "kernel_models/uthread/uthread.h"

namespace switchyard::uthread {
namespace {

struct Entry {
  Arch arch;
  const char* bug;  // "" for the correct program
  const emu::ElfImage* image;
};

const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries = {
      {Arch::kRiscv64, "", &emu::fixture_riscv64},
      {Arch::kRiscv64, "register-not-saved", &emu::fixture_riscv64_register_not_saved},
      {Arch::kRiscv64, "wrong-offset", &emu::fixture_riscv64_wrong_offset},
      {Arch::kRiscv64, "sp-at-stack-bottom", &emu::fixture_riscv64_sp_at_stack_bottom},
      {Arch::kRiscv64, "sp-one-byte-off", &emu::fixture_riscv64_sp_one_byte_off},
      {Arch::kRiscv64, "ra-not-set", &emu::fixture_riscv64_ra_not_set},
      {Arch::kRiscv64, "picks-current-again", &emu::fixture_riscv64_picks_current_again},
      {Arch::kRiscv64, "resumes-finished-thread", &emu::fixture_riscv64_resumes_finished_thread},
      {Arch::kI386, "", &emu::fixture_i386},
      {Arch::kI386, "register-not-saved", &emu::fixture_i386_register_not_saved},
      {Arch::kI386, "wrong-offset", &emu::fixture_i386_wrong_offset},
      {Arch::kI386, "sp-at-stack-bottom", &emu::fixture_i386_sp_at_stack_bottom},
      {Arch::kI386, "sp-one-byte-off", &emu::fixture_i386_sp_one_byte_off},
      {Arch::kI386, "ra-not-set", &emu::fixture_i386_ra_not_set},
      {Arch::kI386, "picks-current-again", &emu::fixture_i386_picks_current_again},
      {Arch::kI386, "resumes-finished-thread", &emu::fixture_i386_resumes_finished_thread},
  };
  return entries;
}

}  // namespace

const std::vector<Program>& Fixtures() {
  static const std::vector<Program> programs = [] {
    std::vector<Program> out;
    for (const Entry& e : Entries()) {
      Program p;
      p.name = std::string("fixture-") + ArchName(e.arch) + (*e.bug ? "-" : "") + e.bug;
      p.arch = e.arch;
      p.image = e.image;
      p.switch_symbol = "thread_switch";
      p.yield_symbol = "thread_yield";
      out.push_back(p);
    }
    return out;
  }();
  return programs;
}

const std::vector<Bug>& Bugs() {
  static const std::vector<Bug> bugs = {
      {"register-not-saved",
       "thread_switch neither saves nor restores one callee-saved register (s5; i386 ebx)"},
      {"wrong-offset",
       "thread_switch saves one register (s3; i386 esi) at the next register's offset"},
      {"sp-at-stack-bottom",
       "thread_create gives a new thread the lowest address of its stack as its stack pointer"},
      {"sp-one-byte-off", "thread_create gives a new thread the top of its stack minus one byte"},
      {"ra-not-set", "thread_create does not set the new thread's return address (its entry)"},
      {"picks-current-again",
       "thread_schedule searches from the current thread, so a yield picks it again while "
       "others are runnable"},
      {"resumes-finished-thread",
       "a finishing thread marks itself FREE and then yields (RUNNABLE again), so it is "
       "resumed after it finished"},
  };
  return bugs;
}

const Program* FindFixture(Arch arch, const std::string& bug) {
  const std::vector<Entry>& entries = Entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].arch == arch && bug == entries[i].bug) return &Fixtures()[i];
  }
  return nullptr;
}

}  // namespace switchyard::uthread
