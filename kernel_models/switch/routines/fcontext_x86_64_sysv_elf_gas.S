/*
 * switchyard's own fcontext functions (Boost.Context's shape) for x86-64 System V, ELF, GNU as.
 *
 *   transfer_t jump_fcontext(fcontext_t to, void *data);                       rdi, rsi
 *   fcontext_t make_fcontext(void *stack_top, size_t size, void (*fn)(transfer_t));
 *
 * A suspended context is its stack pointer; the frame it points at:
 *
 *   | 0x00 MXCSR | 0x04 x87 CW | 0x08 r12 | 0x10 r13 | 0x18 r14 | 0x20 r15 | 0x28 rbx |
 *   | 0x30 rbp   | 0x38 resume address                                                  |
 *
 * jump_fcontext returns {the context that jumped here, data} in rax:rdx; a new context's fn gets
 * them as its transfer_t argument (rdi, rsi) and starts with (rsp + 8) % 16 == 0 and a return
 * address of 0.
 *
 * Planted mutant (-D): BUG_FRAME_ONE_WORD_OFF: make_fcontext's frame one word too low.
 */
        .text
        .globl jump_fcontext
        .type jump_fcontext, @function
jump_fcontext:
        leaq -0x38(%rsp), %rsp
        stmxcsr (%rsp)
        fnstcw 0x4(%rsp)
        movq %r12, 0x08(%rsp)
        movq %r13, 0x10(%rsp)
        movq %r14, 0x18(%rsp)
        movq %r15, 0x20(%rsp)
        movq %rbx, 0x28(%rsp)
        movq %rbp, 0x30(%rsp)
        movq %rsp, %rax         /* the leaving context's handle */
        movq %rdi, %rsp         /* to: from here on, to's stack */
        movq 0x38(%rsp), %r8
        ldmxcsr (%rsp)
        fldcw 0x4(%rsp)
        movq 0x08(%rsp), %r12
        movq 0x10(%rsp), %r13
        movq 0x18(%rsp), %r14
        movq 0x20(%rsp), %r15
        movq 0x28(%rsp), %rbx
        movq 0x30(%rsp), %rbp
        leaq 0x40(%rsp), %rsp
        movq %rsi, %rdx         /* transfer_t {rax, rdx} for a jump_fcontext that returns */
        movq %rax, %rdi         /* and {rdi, rsi} for a new context's fn */
        jmp *%r8
        .size jump_fcontext, .-jump_fcontext

        .globl make_fcontext
        .type make_fcontext, @function
make_fcontext:
        movq %rdi, %rax
        andq $-16, %rax
#if defined(BUG_FRAME_ONE_WORD_OFF)
        leaq -0x50(%rax), %rax  /* one word too low: fn starts with rsp % 16 == 0 */
#else
        leaq -0x48(%rax), %rax  /* fn's return address slot is top - 8 */
#endif
        movq %rdx, 0x38(%rax)   /* the first jump resumes at fn */
        movq $0, 0x40(%rax)     /* fn's return address: 0, not code */
        stmxcsr (%rax)
        fnstcw 0x4(%rax)
        ret
        .size make_fcontext, .-make_fcontext
        .section .note.GNU-stack,"",@progbits
