/*
 * An example of a routine another project checks with switchyard: a switch in the shape of the
 * MIT 6.1810 uthread's thread_switch, for x86-64, exported under the swap convention's names.
 *
 *   void sy_swap(struct context *from, struct context *to);    rdi, rsi
 *   void sy_make(struct context *c, void *stack_top, void (*entry)(void));
 *
 *   struct context: 0 rsp, 8 rbx, 16 rbp, 24 r12, 32 r13, 40 r14, 48 r15, 56 mxcsr, 60 x87 cw
 */
        .text
        .globl sy_swap
sy_swap:
        movq %rsp, 0(%rdi)
        movq %rbx, 8(%rdi)
        movq %rbp, 16(%rdi)
        movq %r12, 24(%rdi)
        movq %r13, 32(%rdi)
        movq %r14, 40(%rdi)
        movq %r15, 48(%rdi)
        stmxcsr 56(%rdi)
        fnstcw 60(%rdi)
        movq 0(%rsi), %rsp
        movq 8(%rsi), %rbx
        movq 16(%rsi), %rbp
        movq 24(%rsi), %r12
        movq 32(%rsi), %r13
        movq 40(%rsi), %r14
        movq 48(%rsi), %r15
        ldmxcsr 56(%rsi)
        fldcw 60(%rsi)
        ret

        .globl sy_make
sy_make:
        andq $-16, %rsi
        movq $0, -8(%rsi)       /* entry's return address: not code */
        movq %rdx, -16(%rsi)    /* sy_swap's ret enters entry with (rsp + 8) % 16 == 0 */
        leaq -16(%rsi), %rax
        movq %rax, 0(%rdi)
        stmxcsr 56(%rdi)
        fnstcw 60(%rdi)
        ret
        .section .note.GNU-stack,"",@progbits
