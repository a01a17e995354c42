/* The harness program for a switch routine: context 0 creates SY_CONTEXTS - 1 contexts with the
 * convention's create function, then the contexts switch among themselves in the order the host's
 * decider chooses (SY_HC_CHOOSE), each through sy_call (the architecture's call_*.S), where the
 * host loads distinct callee-saved values before the routine and checks them after it. Between
 * switches each context fills a local array on its own stack and checks it after the next switch.
 *
 * The convention is chosen at compile time: -DCONVENTION_SWAP (sy_swap(from, to) and
 * sy_make(area, stack_top, entry)), -DCONVENTION_FCONTEXT (Boost.Context's jump_fcontext and
 * make_fcontext), -DCONVENTION_UCONTEXT (getcontext, makecontext, swapcontext). */
#include "kernel_models/switch/harness/harness.h"

typedef unsigned long word;

/* call_*.S: calls fn(a, b) with the callee-saved registers saved around it; the result's
 * registers (rax:rdx, eax:edx, a0:a1) land in result[0..1]. */
extern void sy_call(void *fn, word a, word b, word *result);

#if defined(__x86_64__)
static inline word hypercall(word number, word a, word b) {
  word result;
  __asm__ volatile("int $0x80" : "=a"(result) : "a"(number), "D"(a), "S"(b) : "memory");
  return result;
}
static inline long rt_sigprocmask(int how, const void *set, void *old) {
  long result;
  register long size __asm__("r10") = 8;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "a"(14), "D"(how), "S"(set), "d"(old), "r"(size)
                   : "rcx", "r11", "memory");
  return result;
}
#elif defined(__i386__)
static inline word hypercall(word number, word a, word b) {
  word result;
  __asm__ volatile("int $0x80" : "=a"(result) : "a"(number), "b"(a), "c"(b) : "memory");
  return result;
}
static inline long rt_sigprocmask(int how, const void *set, void *old) {
  long result;
  __asm__ volatile("int $0x80"
                   : "=a"(result)
                   : "a"(175), "b"(how), "c"(set), "d"(old), "S"(8)
                   : "memory");
  return result;
}
#elif defined(__riscv)
static inline word hypercall(word number, word a, word b) {
  register word a7 __asm__("a7") = number;
  register word a0 __asm__("a0") = a;
  register word a1 __asm__("a1") = b;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1) : "memory");
  return a0;
}
static inline long rt_sigprocmask(int how, const void *set, void *old) {
  register long a7 __asm__("a7") = 135;
  register long a0 __asm__("a0") = how;
  register long a1 __asm__("a1") = (long)set;
  register long a2 __asm__("a2") = (long)old;
  register long a3 __asm__("a3") = 8;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1), "r"(a2), "r"(a3) : "memory");
  return a0;
}
#endif

unsigned char sy_stacks[SY_CONTEXTS][SY_STACK_BYTES] __attribute__((aligned(16)));
volatile word sy_target;  /* the context the switch in progress goes to (the host reads it) */

#if defined(CONVENTION_SWAP)
unsigned char sy_areas[SY_CONTEXTS][SY_AREA_BYTES] __attribute__((aligned(16)));
extern void sy_swap(void *from, void *to);
extern void sy_make(void *area, void *stack_top, void (*entry)(void));
#define AREA(i) ((word)sy_areas[i])
#define AREA_BYTES SY_AREA_BYTES
#elif defined(CONVENTION_FCONTEXT)
typedef void *fcontext_t;
typedef struct {
  fcontext_t fctx;
  void *data;
} transfer_t;
extern transfer_t jump_fcontext(fcontext_t const to, void *vp);
extern fcontext_t make_fcontext(void *sp, word size, void (*fn)(transfer_t));
fcontext_t sy_handles[SY_CONTEXTS];
#define AREA(i) 0
#define AREA_BYTES 0
#elif defined(CONVENTION_UCONTEXT)
#include <ucontext.h>
ucontext_t sy_ucontexts[SY_CONTEXTS];
#define AREA(i) ((word)&sy_ucontexts[i])
#define AREA_BYTES sizeof(ucontext_t)
#else
#error "define CONVENTION_SWAP, CONVENTION_FCONTEXT or CONVENTION_UCONTEXT"
#endif

/* Where the host finds the save areas and stacks: area of context i at [0] + i * [1], [1]
 * bytes long (0: the convention keeps its state on the stack), stacks at [2], [3] bytes each. */
const word sy_layout[4] = {AREA(0), AREA_BYTES, (word)sy_stacks, SY_STACK_BYTES};

/* Glibc's objects refer to these; the harness has no libc. */
__thread int __libc_errno;
void exit(int status) {
  hypercall(SY_HC_FAIL, 0xffff, (word)status);
  for (;;) {
  }
}
void _exit(int status) { exit(status); }
int __syscall_error(void) { return -1; } /* i386 and RISC-V glibc: a failed system call */
unsigned long __stack_chk_guard;          /* RISC-V glibc's stack protector */
void __stack_chk_fail(void) {
  hypercall(SY_HC_FAIL, 0xfffe, 0);
  for (;;) {
  }
}

static void switch_to(word self, word next) {
  word result[2];
  sy_target = next;
#if defined(CONVENTION_SWAP)
  sy_call((void *)sy_swap, AREA(self), AREA(next), result);
#elif defined(CONVENTION_FCONTEXT)
  sy_call((void *)jump_fcontext, (word)sy_handles[next], self, result);
  sy_handles[result[1]] = (fcontext_t)result[0]; /* the context that switched to this one */
#elif defined(CONVENTION_UCONTEXT)
  sy_call((void *)swapcontext, AREA(self), AREA(next), result);
#endif
}

/* A context's life: work on its own stack, let the decider pick the next context, switch. */
static void __attribute__((noreturn, noinline)) context_main(word self) {
  volatile word local[8];
  for (word round = 0;; ++round) {
    for (word i = 0; i < 8; ++i) local[i] = self * 0x10000 + round * 8 + i;
    word next = hypercall(SY_HC_CHOOSE, SY_CONTEXTS - 1, 0);
    if (next >= self) ++next;
    switch_to(self, next);
    for (word i = 0; i < 8; ++i) {
      if (local[i] != self * 0x10000 + round * 8 + i) hypercall(SY_HC_FAIL, self, i);
    }
  }
}

/* New contexts enter here (the host checks the entry's stack and return address). */
#if defined(CONVENTION_SWAP)
void sy_entry(void) { context_main(sy_target); }
#elif defined(CONVENTION_FCONTEXT)
void sy_entry(transfer_t from) {
  sy_handles[(word)from.data] = from.fctx;
  context_main(sy_target);
}
#elif defined(CONVENTION_UCONTEXT)
void sy_entry(void) { context_main(sy_target); }
#endif

void sy_main(void) {
  rt_sigprocmask(2 /* SIG_SETMASK */, &(unsigned long){SY_MASK(0)}, 0);
  for (word i = 1; i < SY_CONTEXTS; ++i) {
    unsigned char *top = sy_stacks[i] + SY_STACK_BYTES;
#if defined(CONVENTION_SWAP)
    sy_make(sy_areas[i], top, sy_entry);
#elif defined(CONVENTION_FCONTEXT)
    sy_handles[i] = make_fcontext(top, SY_STACK_BYTES, sy_entry);
#elif defined(CONVENTION_UCONTEXT)
    /* Each context is created with its own signal mask, which getcontext records. */
    rt_sigprocmask(2, &(unsigned long){SY_MASK(i)}, 0);
    getcontext(&sy_ucontexts[i]);
    sy_ucontexts[i].uc_stack.ss_sp = sy_stacks[i];
    sy_ucontexts[i].uc_stack.ss_size = SY_STACK_BYTES;
    sy_ucontexts[i].uc_link = 0;
    makecontext(&sy_ucontexts[i], sy_entry, 0);
    rt_sigprocmask(2, &(unsigned long){SY_MASK(0)}, 0);
#endif
  }
  hypercall(SY_HC_READY, 0, 0);
  context_main(0);
}
