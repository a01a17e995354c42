/* The harness program's contract with the host (kernel_models/switch/switch_routine.cc): the
 * number of contexts and their memory, and the hypercalls. Keep in step with the constants at the
 * top of switch_routine.cc. */
#ifndef SWITCH_HARNESS_H
#define SWITCH_HARNESS_H

#define SY_CONTEXTS 4       /* context 0 is the program's main context; 1..3 are created */
#define SY_STACK_BYTES 8192 /* per context; the stacks are one array, context 0 first */
#define SY_AREA_BYTES 256   /* per context's save area (the swap convention) */

/* Hypercalls: `int $0x80` (x86), `ecall` (RISC-V); number in eax/rax/a7, arguments in the
 * first two argument registers (rdi, rsi / ebx, ecx / a0, a1), result in eax/rax/a0. Numbers
 * that are also Linux system calls (rt_sigprocmask) are served as those. */
#define SY_HC_CHOOSE 0x5301 /* result = the decider's value in [0, a) */
#define SY_HC_FAIL 0x5302   /* a context's self-check failed: a = context, b = which */
#define SY_HC_READY 0x5303  /* every context is created; the run's switches begin */
#define SY_HC_HALT 0x5304   /* never reached: the host ends the run at its budget */

/* The signal mask context i runs with (ucontext): distinct per context, none of SIGKILL, SIGSTOP.
 */
#define SY_MASK(i) ((1ul << (2 + (i))) | (1ul << (11 + 2 * (i))))

#endif
