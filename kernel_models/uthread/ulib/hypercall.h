// The hypercalls between a threads program's stand-in user library (ulib.c) and the uthread
// model (uthread.cc): the number goes in a7 (RISC-V, `ecall`) or eax (i386, `int $0x80`), the
// arguments in a0-a2 or ebx, ecx, edx, the result comes back in a0 or eax.
#ifndef SWITCHYARD_KERNEL_MODELS_UTHREAD_ULIB_HYPERCALL_H_
#define SWITCHYARD_KERNEL_MODELS_UTHREAD_ULIB_HYPERCALL_H_

#define SY_HC_EXIT 0x5501    // (status): the program ends
#define SY_HC_WRITE 0x5502   // (fd, buffer, bytes) -> bytes
#define SY_HC_PRINTF 0x5503  // (fd, format, &va_list): xv6's printf formats, done by the host
#define SY_HC_SBRK 0x5504    // (bytes) -> the old break, or -1
#define SY_HC_UPTIME 0x5505  // () -> ticks (virtual: one per system call, and sleep's)
#define SY_HC_SLEEP 0x5506   // (ticks) -> 0, the clock moved on by ticks
#define SY_HC_GETPID 0x5507  // () -> 3
#define SY_HC_AGAIN 0x5508   // sy_again ran: the host did not intercept it (a defect of ours)
// xv6's alarm lab: every `ticks` ticks of the program's time (a tick: 1,000 instructions; the
// decider picks the instruction) the host calls handler, with the interrupted registers saved;
// the handler ends with sigreturn(), which restores them. No delivery while a handler runs.
#define SY_HC_SIGALARM 0x5509   // (ticks, handler) -> 0; ticks 0 turns it off
#define SY_HC_SIGRETURN 0x550a  // () -> the interrupted a0/eax: it returns to where the alarm hit

#endif  // SWITCHYARD_KERNEL_MODELS_UTHREAD_ULIB_HYPERCALL_H_
