/*
 * switchyard's own ucontext functions for x86-64 System V, ELF, GNU as, on glibc's ucontext_t
 * (<sys/ucontext.h>): getcontext, makecontext (no arguments passed, uc_link not followed) and
 * swapcontext. The signal mask goes through rt_sigprocmask like glibc's.
 *
 *   ucontext_t offsets used        gregs: r12 0x48, r13 0x50, r14 0x58, r15 0x60, rbp 0x78,
 *                                  rbx 0x80, rsp 0xa0, rip 0xa8; fpregs 0xe0; uc_sigmask 0x128;
 *   uc_stack: ss_sp 0x10, ss_size 0x20          __fpregs_mem: x87 CW 0x1a8, MXCSR 0x1c0
 *
 * Planted mutant (-D): BUG_NEW_CONTEXT_ALL_BLOCKED: makecontext gives the new context a mask
 * with every signal blocked (instead of the one getcontext saved).
 */
#define SAVE(uc)                 \
        movq %rbx, 0x80(uc);     \
        movq %rbp, 0x78(uc);     \
        movq %r12, 0x48(uc);     \
        movq %r13, 0x50(uc);     \
        movq %r14, 0x58(uc);     \
        movq %r15, 0x60(uc);     \
        movq (%rsp), %rcx;       \
        movq %rcx, 0xa8(uc);     \
        leaq 8(%rsp), %rcx;      \
        movq %rcx, 0xa0(uc);     \
        leaq 0x1a8(uc), %rcx;    \
        movq %rcx, 0xe0(uc);     \
        fnstcw 0x1a8(uc);        \
        stmxcsr 0x1c0(uc)

        .text
        .globl getcontext
        .type getcontext, @function
getcontext:
        SAVE(%rdi)
        leaq 0x128(%rdi), %rdx  /* rt_sigprocmask(SIG_BLOCK, NULL, &ucp->uc_sigmask, 8) */
        xorl %esi, %esi
        xorl %edi, %edi
        movl $8, %r10d
        movl $14, %eax
        syscall
        xorl %eax, %eax
        ret
        .size getcontext, .-getcontext

        .globl swapcontext
        .type swapcontext, @function
swapcontext:
        SAVE(%rdi)
        movq %rsi, %r12         /* r12 is saved: keep ucp across the system call */
        leaq 0x128(%rdi), %rdx  /* rt_sigprocmask(SIG_SETMASK, &ucp->uc_sigmask, &oucp->...) */
        leaq 0x128(%rsi), %rsi
        movl $2, %edi
        movl $8, %r10d
        movl $14, %eax
        syscall
        movq %r12, %rdx
        fldcw 0x1a8(%rdx)
        ldmxcsr 0x1c0(%rdx)
        movq 0xa0(%rdx), %rsp
        movq 0x80(%rdx), %rbx
        movq 0x78(%rdx), %rbp
        movq 0x48(%rdx), %r12
        movq 0x50(%rdx), %r13
        movq 0x58(%rdx), %r14
        movq 0x60(%rdx), %r15
        movq 0xa8(%rdx), %rcx
        pushq %rcx              /* the resume address, on the resumed stack */
        xorl %eax, %eax
        ret
        .size swapcontext, .-swapcontext

        .globl makecontext
        .type makecontext, @function
makecontext:
        movq 0x10(%rdi), %rax   /* ss_sp + ss_size, 16-byte aligned */
        addq 0x20(%rdi), %rax
        andq $-16, %rax
        subq $8, %rax
        movq $0, (%rax)         /* func's return address: 0, not code */
        movq %rax, 0xa0(%rdi)   /* func starts with (rsp + 8) % 16 == 0 */
        movq %rsi, 0xa8(%rdi)
#if defined(BUG_NEW_CONTEXT_ALL_BLOCKED)
        movq $-1, 0x128(%rdi)   /* every signal blocked in the new context */
#endif
        ret
        .size makecontext, .-makecontext
        .section .note.GNU-stack,"",@progbits
