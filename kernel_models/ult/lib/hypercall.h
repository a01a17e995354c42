/* The threads library's only way out of the emulated CPU: `int $0x80`, number in eax, arguments
 * in ebx and ecx, result in eax. The host (kernel_models/ult/machine_model.cc) answers. */
#ifndef ULT_HYPERCALL_H
#define ULT_HYPERCALL_H

#define HC_CHOOSE 1    /* eax = decider's value in [0, ebx) */
#define HC_FAIL 2      /* a thread's self-check failed: ebx = what, ecx = value */
#define HC_HALT 3      /* the workload is over */
#define HC_SIGRETURN 4 /* the timer signal's handler returned (from sigreturn_stub) */

#define FAIL_LOCALS 1   /* values kept across release() changed; ecx = thread id */
#define FAIL_ARGUMENT 2 /* a new thread's argument is wrong; ecx = thread id */
#define FAIL_RING 3     /* code that must never run ran; ecx = thread id */
#define FAIL_TRAP 4     /* a new thread returned into its frame's trap slot; ecx = id */

static inline unsigned hypercall(unsigned number, unsigned a, unsigned b) {
  unsigned result;
  __asm__ volatile("int $0x80" : "=a"(result) : "a"(number), "b"(a), "c"(b) : "memory");
  return result;
}

#endif
