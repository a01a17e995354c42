#include "sim/platform_host.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/check.h"
#include "sim/instrumentation.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/common_interface_defs.h>
#endif
#endif

namespace switchyard::sim {
namespace {

Platform* current_platform = nullptr;

}  // namespace

Platform::Platform(Simulator& sim) : sim_(sim) {
  SY_CHECK(current_platform == nullptr);
  current_platform = this;
  sim_.SetMachine(this);
}

Platform::~Platform() {
  if (current_platform == this) current_platform = nullptr;
}

Platform& Platform::Current() {
  if (current_platform == nullptr) {
    std::fprintf(stderr,
                 "switchyard: code under test called the platform (sim/platform.h) outside a "
                 "simulation\n");
    std::abort();
  }
  return *current_platform;
}

void Platform::Boot(int cpu, void (*entry)(int cpu)) {
  Fiber* fiber = sim_.CreateFiber(absl::StrCat("cpu", cpu, " boot"), &Platform::BootStart, this);
  if (boot_entries_.size() <= fiber->id) boot_entries_.resize(fiber->id + 1);
  boot_entries_[fiber->id] = entry;
  sim_.SetBootFiber(cpu, fiber);
}

void Platform::BootStart(void* platform) {
  auto* self = static_cast<Platform*>(platform);
  const Fiber* fiber = self->sim_.current();
  self->boot_entries_[fiber->id](self->sim_.cpu());
}

void Platform::ThreadStart(void* platform) {
  auto* self = static_cast<Platform*>(platform);
  const Fiber* fiber = self->sim_.current();
  reinterpret_cast<void (*)()>(self->thread_entries_[fiber->id])();
}

void Platform::Trap(int /*cpu*/, int line) {
  if (trap_ == nullptr) {
    sim_.Fail("no-trap-entry",
              absl::StrCat("interrupt line ", line,
                           " arrived, but the code under test registered no trap entry "
                           "(sy_set_trap)"));
  }
  trap_(line);
}

void Platform::CpuStatePoint(bool write, const void* pc) {
  Instrumentation::Settle();
  if (Simulator::points() == nullptr || !sim_.intr_get()) return;
  sim_.InstrumentedAccess(Instrumentation::kCpuStateRegion << Instrumentation::kGranuleBits |
                              static_cast<uint32_t>(sim_.cpu()),
                          write ? AccessKind::kWrite : AccessKind::kRead, pc, false);
}

void Platform::Reenter(void (*fn)()) {
  Instrumentation::Settle();
  const Fiber* f = sim_.current();
  Instrumentation::ResetCallStack(f->id);
  auto top = reinterpret_cast<uintptr_t>(f->stack.base()) + f->stack.size();
  top &= ~uintptr_t{15};
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  // The abandoned frames' redzones would stay poisoned under the new ones (as after longjmp).
  __asan_handle_no_return();
#endif
#endif
#if defined(__x86_64__)
  // A call pushes the return address: the callee starts with rsp % 16 == 8, as the ABI wants.
  asm volatile("mov %0, %%rsp\n\txor %%ebp, %%ebp\n\tcall *%1\n\tud2" : : "r"(top), "r"(fn));
#elif defined(__aarch64__)
  asm volatile("mov sp, %0\n\tmov x29, xzr\n\tblr %1\n\tbrk #0" : : "r"(top), "r"(fn));
#else
#error "sy_reenter: no stack switch for this architecture"
#endif
  __builtin_unreachable();
}

uint64_t Platform::Choose(const char* stream, uint64_t options) {
  if (options == 0 || options > UINT32_MAX) {
    std::string message =
        absl::StrCat("sy_choose(\"", stream, "\", ", options, "): options must be 1..2^32-1");
    sim_.Fail("platform-misuse", std::move(message));
  }
  auto [it, inserted] = streams_.try_emplace(stream, 0);
  if (inserted) it->second = sim_.decider().Stream(stream);
  return sim_.decider().Choose(it->second, static_cast<uint32_t>(options));
}

void Platform::Swtch(sy_context* old_context, sy_context* new_context) {
  Instrumentation::Settle();
  Fiber* from = sim_.current();
  Fiber* to = nullptr;
  if (new_context->entry == SY_SAVED) {
    auto it = fibers_by_context_.find(new_context);
    if (it == fibers_by_context_.end() || new_context->token != it->second->id + 1u) {
      std::string message = absl::StrCat(
          "cpu", sim_.cpu(), " switches to a context marked saved that no switch saved (token ",
          new_context->token, "): a copied or corrupted context");
      sim_.Fail("resume-saved-context", std::move(message));
    }
    to = it->second;
  } else {
    if (new_context->entry == 0) {
      std::string message = absl::StrCat(
          "cpu", sim_.cpu(), " switches to a context with no saved thread and no entry point");
      sim_.Fail("resume-saved-context", std::move(message));
    }
    auto [it, inserted] = fibers_by_context_.try_emplace(new_context, nullptr);
    if (inserted) {
      it->second = sim_.CreateFiber(absl::StrCat("thread", fibers_by_context_.size()),
                                    &Platform::ThreadStart, this);
    } else {
      sim_.ResetFiber(it->second, &Platform::ThreadStart, this);
    }
    to = it->second;
    if (thread_entries_.size() <= to->id) thread_entries_.resize(to->id + 1);
    thread_entries_[to->id] = new_context->entry;
    Instrumentation::ResetCallStack(to->id);
  }
  old_context->entry = SY_SAVED;
  old_context->token = from->id + 1u;
  fibers_by_context_[old_context] = from;
  sim_.Switch(from, to);
}

}  // namespace switchyard::sim

// ---- The C functions of sim/platform.h ----

using switchyard::sim::Instrumentation;
using switchyard::sim::Platform;

// retain: --gc-sections (opt builds) must keep them although nothing in the executable calls them.
#define SY_EXPORT extern "C" __attribute__((visibility("default"), used, retain))

SY_EXPORT int sy_cpuid(void) {
  Platform& p = Platform::Current();
  p.CpuStatePoint(false, __builtin_return_address(0));
  return p.sim().cpu();
}

SY_EXPORT int sy_intr_get(void) {
  Platform& p = Platform::Current();
  p.CpuStatePoint(false, __builtin_return_address(0));
  return p.sim().intr_get() ? 1 : 0;
}

SY_EXPORT void sy_intr_on(void) {
  Platform& p = Platform::Current();
  p.CpuStatePoint(true, __builtin_return_address(0));
  p.sim().intr_on();
  // A pending interrupt is taken right after interrupts come on, as on hardware.
  if (p.sim().interrupt_pending()) p.CpuStatePoint(false, __builtin_return_address(0));
}

SY_EXPORT void sy_intr_off(void) {
  Platform& p = Platform::Current();
  // The interrupt may land just before the instruction that turns interrupts off.
  p.CpuStatePoint(true, __builtin_return_address(0));
  p.sim().intr_off();
}

SY_EXPORT int sy_cpu_state_point(int write) {
  Platform& p = Platform::Current();
  p.CpuStatePoint(write != 0, __builtin_return_address(0));
  return p.sim().cpu();
}

SY_EXPORT void sy_reenter(void (*fn)(void)) { Platform::Current().Reenter(fn); }

SY_EXPORT uint64_t sy_choose(const char* stream, uint64_t options) {
  return Platform::Current().Choose(stream, options);
}

SY_EXPORT void sy_wfi(void) {
  Instrumentation::Settle();
  Platform::Current().sim().WaitForInterrupt();
}

SY_EXPORT void sy_spin(void) {
  Instrumentation::Settle();
  Platform::Current().sim().Spin();
}

SY_EXPORT void sy_swtch(struct sy_context* old_context, struct sy_context* new_context) {
  Platform::Current().Swtch(old_context, new_context);
}

SY_EXPORT void sy_set_trap(void (*trap)(int line)) { Platform::Current().SetTrap(trap); }

SY_EXPORT void sy_after(uint64_t delay, void (*fire)(void* arg), void* arg) {
  Platform::Current().sim().AddOneShot(delay, [fire, arg] { fire(arg); });
}

SY_EXPORT void sy_raise(int line) { Platform::Current().sim().RaiseExternal(line); }

SY_EXPORT uint64_t sy_now(void) { return Platform::Current().sim().now(); }

SY_EXPORT void sy_panic_at(const char* message, const void* pc) {
  Instrumentation::Settle();
  std::string why = absl::StrCat(message, " (at ", Instrumentation::DescribeCode(pc), ")");
  Platform::Current().sim().Fail("panic", std::move(why));
}

SY_EXPORT void sy_panic(const char* message) { sy_panic_at(message, __builtin_return_address(0)); }

SY_EXPORT void sy_fail(const char* invariant, const char* message) {
  Instrumentation::Settle();
  const void* pc = __builtin_return_address(0);
  std::string why = absl::StrCat(message, " (at ", Instrumentation::DescribeCode(pc), ")");
  std::string name = invariant;  // moved: nothing is left on the abandoned stack
  Platform::Current().sim().Fail(std::move(name), std::move(why));
}

SY_EXPORT void sy_finish(void) {
  Instrumentation::Settle();
  Platform::Current().sim().Finish();
}

SY_EXPORT void sy_progress(void) { Platform::Current().sim().NoteProgress(); }

SY_EXPORT void sy_mark(const char* site) { Platform::Current().sim().Mark(site); }

SY_EXPORT void sy_note(const char* label, uint64_t a, uint64_t b) {
  Platform::Current().sim().Note(label, a, b);
}

SY_EXPORT void sy_private(const void* address, uint64_t size) {
  Instrumentation::DeclarePrivate(reinterpret_cast<uintptr_t>(address), size);
}
