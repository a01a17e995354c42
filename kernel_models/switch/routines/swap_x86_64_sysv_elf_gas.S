/*
 * switchyard's own switch routine for the swap convention, x86-64 System V, ELF, GNU as.
 *
 *   void sy_swap(void *from, void *to);                        rdi, rsi
 *   void sy_make(void *area, void *stack_top, void (*entry)(void));   rdi, rsi, rdx
 *
 * sy_swap pushes the running context's callee-saved state on its own stack, stores the stack
 * pointer in from's save area (offset 0), loads to's and pops what it finds there. sy_make builds
 * the frame a first sy_swap into `area` pops: entry as the return address, so that entry starts
 * with (rsp + 8) % 16 == 0 and a return address of 0 above it (returning from entry faults).
 *
 *   -------------------------------------------------------------------------------------
 *   | offset | 0x00  | 0x04   | 0x08 | 0x10 | 0x18 | 0x20 | 0x28 | 0x30 | 0x38           |
 *   |--------+-------+--------+------+------+------+------+------+------+----------------|
 *   | slot   | MXCSR | x87 CW | r12  | r13  | r14  | r15  | rbx  | rbp  | return address |
 *   -------------------------------------------------------------------------------------
 *   the saved stack pointer points at offset 0 (the layout of Boost.Context's jump_fcontext)
 *
 * Planted mutants (-D), each a bug class the model must find:
 *   BUG_CALLEE_SAVED_NOT_SAVED  r15 is neither saved nor restored
 *   BUG_FPU_NOT_PRESERVED       MXCSR and the x87 control word are not switched
 *   BUG_FRAME_ONE_WORD_OFF      sy_make's first frame is one word too low: entry is misaligned
 *   BUG_SP_IN_SAVE_AREA         the registers are pushed into from's save area: mid-switch, rsp
 *                               points into it (a signal frame then lands on whatever lies below)
 *   BUG_WRITES_SUSPENDED_SLOT   a "previous context" link is written into the save area of the
 *                               context that switched out before, which is suspended
 */
        .text
#if defined(BUG_SP_IN_SAVE_AREA)
/* Save area: 0x00 MXCSR, 0x04 x87 CW, 0x08 r12, r13, r14, r15, rbx, rbp, 0x38 rsp. */
        .globl sy_swap
        .type sy_swap, @function
sy_swap:
        movq %rsp, %rax
        leaq 0x40(%rdi), %rsp   /* push into the save area: rsp points into it until the load */
        pushq %rax
        pushq %rbp
        pushq %rbx
        pushq %r15
        pushq %r14
        pushq %r13
        pushq %r12
        leaq -8(%rsp), %rsp
        stmxcsr (%rsp)
        fnstcw 4(%rsp)
        movq %rsi, %rsp         /* pop from to's save area */
        ldmxcsr (%rsp)
        fldcw 4(%rsp)
        leaq 8(%rsp), %rsp
        popq %r12
        popq %r13
        popq %r14
        popq %r15
        popq %rbx
        popq %rbp
        popq %rsp               /* to's stack: its return address is on top */
        ret
        .size sy_swap, .-sy_swap

        .globl sy_make
        .type sy_make, @function
sy_make:
        andq $-16, %rsi
        movq $0, -8(%rsi)       /* entry's return address */
        movq %rdx, -16(%rsi)    /* sy_swap's ret goes to entry */
        leaq -16(%rsi), %rax
        movq %rax, 0x38(%rdi)
        stmxcsr (%rdi)
        fnstcw 4(%rdi)
        ret
        .size sy_make, .-sy_make
#else
        .globl sy_swap
        .type sy_swap, @function
sy_swap:
        leaq -0x38(%rsp), %rsp
#if !defined(BUG_FPU_NOT_PRESERVED)
        stmxcsr (%rsp)          /* MXCSR's control bits are callee-saved */
        fnstcw 0x4(%rsp)        /* and so is the x87 control word */
#endif
        movq %r12, 0x08(%rsp)
        movq %r13, 0x10(%rsp)
        movq %r14, 0x18(%rsp)
#if !defined(BUG_CALLEE_SAVED_NOT_SAVED)
        movq %r15, 0x20(%rsp)
#endif
        movq %rbx, 0x28(%rsp)
        movq %rbp, 0x30(%rsp)
        movq %rsp, (%rdi)       /* from->sp */
#if defined(BUG_WRITES_SUSPENDED_SLOT)
        movq sy_previous(%rip), %rax
        testq %rax, %rax
        jz 1f
        movq %rdi, 8(%rax)      /* link the context that switched out before to this one */
1:      movq %rdi, sy_previous(%rip)
#endif
        movq (%rsi), %rsp       /* to->sp: from here on, to's stack */
#if !defined(BUG_FPU_NOT_PRESERVED)
        ldmxcsr (%rsp)
        fldcw 0x4(%rsp)
#endif
        movq 0x08(%rsp), %r12
        movq 0x10(%rsp), %r13
        movq 0x18(%rsp), %r14
#if !defined(BUG_CALLEE_SAVED_NOT_SAVED)
        movq 0x20(%rsp), %r15
#endif
        movq 0x28(%rsp), %rbx
        movq 0x30(%rsp), %rbp
        leaq 0x38(%rsp), %rsp
        ret
        .size sy_swap, .-sy_swap

        .globl sy_make
        .type sy_make, @function
sy_make:
        andq $-16, %rsi         /* the stack top, 16-byte aligned */
#if defined(BUG_FRAME_ONE_WORD_OFF)
        leaq -0x50(%rsi), %rax  /* one word too low: entry starts with rsp % 16 == 0 */
#else
        leaq -0x48(%rsi), %rax  /* entry's return address slot is top - 8 */
#endif
        movq $0, 0x40(%rax)     /* entry's own return address: 0, not code */
        movq %rdx, 0x38(%rax)   /* sy_swap's ret enters entry */
        stmxcsr (%rax)          /* the new context starts with the creator's MXCSR and x87 CW */
        fnstcw 0x4(%rax)
        movq $0, 0x08(%rax)
        movq $0, 0x10(%rax)
        movq $0, 0x18(%rax)
        movq $0, 0x20(%rax)
        movq $0, 0x28(%rax)
        movq $0, 0x30(%rax)
        movq %rax, (%rdi)       /* area->sp */
        ret
        .size sy_make, .-sy_make
#endif
#if defined(BUG_WRITES_SUSPENDED_SLOT)
        .bss
        .align 8
sy_previous:
        .quad 0
#endif
        .section .note.GNU-stack,"",@progbits
