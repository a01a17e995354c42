// Native context switching for the simulator's fibers: guarded pooled stacks, a saved context,
// and a switch that costs a few nanoseconds (arch/jump_*.S) instead of glibc swapcontext's
// system call.
//
// A fiber is a Context made by MakeContext on a Stack; the thread's own stack is the Context
// that HostContext returns. SwitchContext(from, to) saves the running context into *from and
// resumes *to. Nothing here schedules: the simulator decides who runs next.
//
// Under AddressSanitizer every switch is annotated (__sanitizer_start_switch_fiber /
// __sanitizer_finish_switch_fiber) so ASan knows which stack is live, and stacks are registered
// with LeakSanitizer as root regions, so heap objects referenced only from a parked fiber's
// stack are not reported as leaks.
//
// Not per fiber: the floating-point environment (MXCSR and the x87 control word on x86-64,
// FPCR on AArch64). All fibers of a thread share the host's; see arch/jump_x86_64_sysv_elf_gas.S.
#ifndef SWITCHYARD_ARCH_CONTEXT_H_
#define SWITCHYARD_ARCH_CONTEXT_H_

#include <cstddef>
#include <cstdint>

#include "arch/frame_layout.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SWITCHYARD_ARCH_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SWITCHYARD_ARCH_ASAN)
#define SWITCHYARD_ARCH_ASAN 1
#endif
#if !defined(SWITCHYARD_ARCH_ASAN)
#define SWITCHYARD_ARCH_ASAN 0
#endif

#if SWITCHYARD_ARCH_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

// Saves the callee-saved registers on the running stack, stores the stack pointer in *save_sp
// and resumes the context whose stack pointer is load_sp. Defined in arch/jump_*.S; call it
// through SwitchContext, which also keeps AddressSanitizer informed.
extern "C" void switchyard_jump_context(void** save_sp, void* load_sp);

namespace switchyard::arch {

struct Context;

namespace internal {
struct StackRecord;  // context.cc: one per mapped stack, for the pool and the overflow reporter
}  // namespace internal

// A guarded, mmap'ed stack. Move-only. The usable region is [base(), base() + size()); a
// PROT_NONE guard region (kStackGuardBytes) lies just below base(). Stacks are pooled
// process-wide and never unmapped: a destroyed Stack's memory is handed to the next Allocate of
// the same rounded size, because simulations allocate tens of stacks per run and run thousands
// of times per second.
class Stack {
 public:
  Stack() = default;  // empty

  // REQUIRES: usable_bytes > 0. Rounds up to whole pages. Aborts with a one-line message if the
  // memory cannot be mapped.
  static Stack Allocate(size_t usable_bytes);

  Stack(Stack&& other) noexcept;
  Stack& operator=(Stack&& other) noexcept;
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  ~Stack();  // returns the memory to the pool

  void* base() const { return base_; }
  size_t size() const { return size_; }
  bool empty() const { return record_ == nullptr; }

 private:
  friend void MakeContext(Context* ctx, const Stack& stack, void (*entry)(void*), void* arg);
  void Release();

  void* base_ = nullptr;
  size_t size_ = 0;
  internal::StackRecord* record_ = nullptr;
};

// Bytes of PROT_NONE memory below every stack. More than one page, so that a function with a
// large frame at the bottom of a fiber's stack lands in the guard instead of jumping over it
// into whatever is mapped below. The guard costs address space only, never memory.
inline constexpr size_t kStackGuardBytes = 64 * 1024;

// Default usable size for simulator fibers. ASan's redzones make frames several times larger.
// 128 KiB holds the models' deepest paths several times over under ASan; every byte of a stack is
// unpoisoned whenever a fiber is (re)made on it, so a larger stack slows every run.
inline constexpr size_t kDefaultStackBytes = SWITCHYARD_ARCH_ASAN ? 128 * 1024 : 64 * 1024;

// A saved execution context. `sp` is the saved stack pointer; the callee-saved registers live in
// a frame on that stack (arch/frame_layout.h). The other fields let AddressSanitizer follow
// switches and let errors name the fiber.
struct Context {
  void* sp = nullptr;
  const void* stack_bottom = nullptr;  // lowest address of the context's stack (for ASan)
  size_t stack_size = 0;
  void* fake_stack = nullptr;  // ASan's per-fiber fake stack handle, saved while switched away
  const char* name = "";       // for error messages (stack overflow, returned entry); not owned,
                               // must outlive the context
};

// The calling thread's own context (the host stack), with its stack bounds filled in from
// pthread_getattr_np so that ASan's annotations are right when switching back to it. Its `sp`
// is filled in by the first SwitchContext away from it.
Context HostContext(const char* name);

// Prepares *ctx so that the first SwitchContext into it calls entry(arg) on `stack`, with the
// 16-byte aligned frame the ABI requires. Registers the stack's guard region with the overflow
// reporter under ctx->name (installing the reporter if needed). If entry ever returns, the
// process prints "switchyard: fiber '<name>' returned from its entry function; fiber entry
// functions must never return" and aborts.
// REQUIRES: ctx != nullptr, !stack.empty(), entry != nullptr; `stack` outlives the context.
// Making a context on a stack abandons whatever ran on it before.
void MakeContext(Context* ctx, const Stack& stack, void (*entry)(void*), void* arg);

// Installs, once per process, a SIGSEGV/SIGBUS handler, and once per calling thread an
// alternate signal stack for it (unless the thread has one). A fault inside the guard region of
// a stack that has a context on it prints "switchyard: stack overflow in fiber '<name>' (<N> KiB
// stack); give it a larger stack" and kills the process with the signal's default action. Any
// other fault goes to the handler that was installed before (the default action, or ASan's).
// MakeContext calls this; call it yourself in a thread that runs fibers it did not make.
void InstallStackOverflowReporter();

namespace internal {

// Stops the process with a message naming both contexts. Out of line: the fast path only tests.
[[noreturn]] void DieSwitching(const Context* from, const Context* to);

// Tells ASan the running stack is about to become to's. Compiles to nothing without ASan.
inline void BeginSwitchAnnotation(Context* from, const Context* to) {
#if SWITCHYARD_ARCH_ASAN
  __sanitizer_start_switch_fiber(&from->fake_stack, to->stack_bottom, to->stack_size);
#else
  (void)from;
  (void)to;
#endif
}

// Tells ASan that `from` runs again (something switched back to it).
inline void EndSwitchAnnotation(Context* from) {
#if SWITCHYARD_ARCH_ASAN
  __sanitizer_finish_switch_fiber(from->fake_stack, nullptr, nullptr);
#else
  (void)from;
#endif
}

}  // namespace internal

// Saves the running context into *from and resumes *to; returns when something switches back to
// *from. REQUIRES: from != to; *to was made by MakeContext or saved by an earlier switch.
inline void SwitchContext(Context* from, Context* to) {
  if (from == to || to->sp == nullptr) [[unlikely]] {
    internal::DieSwitching(from, to);
  }
  internal::BeginSwitchAnnotation(from, to);
#if defined(__x86_64__)
  // Enters switchyard_jump_context by push + jmp, not call. The switch leaves by jmp (see
  // arch/jump_x86_64_sysv_elf_gas.S), so a call's entry on the CPU's return-stack predictor was
  // never consumed: every later ret of the resumed fiber was predicted one frame off and
  // mispredicted, up its whole call chain (Step, the access hook, the instrumented code). Without
  // the call the predictor stays balanced. The same frame as a call's: the resume address is the
  // highest slot. 128 bytes are stepped over first, the red zone a leaf caller may use.
  void** save_sp = &from->sp;
  void* load_sp = to->sp;
  asm volatile(
      "leaq -128(%%rsp), %%rsp\n\t"
      "leaq 1f(%%rip), %%rax\n\t"
      "pushq %%rax\n\t"
      "jmp switchyard_jump_context@PLT\n\t"
      "1:\n\t"
      "leaq 128(%%rsp), %%rsp"
      : "+D"(save_sp), "+S"(load_sp)
      :
      : "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
        "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
        "xmm15",
#if defined(__AVX512F__)
        "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25",
        "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k0", "k1", "k2", "k3", "k4", "k5",
        "k6", "k7",
#endif
        "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "mm0", "mm1", "mm2",
        "mm3", "mm4", "mm5", "mm6", "mm7", "memory", "cc", "fpsr");
#else
  switchyard_jump_context(&from->sp, to->sp);
#endif
  internal::EndSwitchAnnotation(from);
}

// The frame layout the assembly uses, checked against what MakeContext assumes.
static_assert(sizeof(void*) == 8, "frame slots are 8 bytes");
static_assert(SWITCHYARD_FRAME_RETURN_ADDRESS == SWITCHYARD_FRAME_BYTES - 8,
              "the resume address is the frame's highest slot");
static_assert(SWITCHYARD_FRAME_BYTES % 8 == 0, "the frame is whole slots");
static_assert(SWITCHYARD_FRAME_START_ENTRY % 8 == 0, "slots are 8-byte aligned");
static_assert(SWITCHYARD_FRAME_START_ARG % 8 == 0, "slots are 8-byte aligned");
static_assert(SWITCHYARD_FRAME_START_NAME % 8 == 0, "slots are 8-byte aligned");
static_assert(SWITCHYARD_FRAME_START_NAME < SWITCHYARD_FRAME_RETURN_ADDRESS,
              "the start registers lie below the resume address");
static_assert(SWITCHYARD_FRAME_START_ENTRY != SWITCHYARD_FRAME_START_ARG,
              "entry and argument do not share a slot");
static_assert(SWITCHYARD_FRAME_START_NAME != SWITCHYARD_FRAME_START_ARG,
              "name and argument do not share a slot");
static_assert(SWITCHYARD_FRAME_START_NAME != SWITCHYARD_FRAME_START_ENTRY,
              "name and entry do not share a slot");
static_assert(SWITCHYARD_FRAME_FRAME_POINTER < SWITCHYARD_FRAME_RETURN_ADDRESS,
              "the frame pointer slot lies below the resume address");
#if defined(__x86_64__)
static_assert(SWITCHYARD_FRAME_BYTES == 7 * 8, "six callee-saved registers and a return address");
// A switch is entered by a call from a 16-byte aligned stack, so the saved frame starts 8 bytes
// off alignment. MakeContext places a new context's first frame the same way below the page
// aligned top of its stack, so the start trampoline runs with rsp 16-byte aligned.
static_assert(SWITCHYARD_FRAME_BYTES % 16 == 8, "frames saved by a call start 8 bytes off");
#elif defined(__aarch64__)
static_assert(SWITCHYARD_FRAME_BYTES == 20 * 8, "x19-x30 and d8-d15");
static_assert(SWITCHYARD_FRAME_BYTES % 16 == 0, "sp is always 16-byte aligned on AArch64");
#endif

}  // namespace switchyard::arch

#endif  // SWITCHYARD_ARCH_CONTEXT_H_
