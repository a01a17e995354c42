/* The harness's entry and its checked call for x86-64 (System V).
 *
 * sy_call(fn, a, b, result): saves the C caller's callee-saved registers, calls fn(a, b), stores
 * rax:rdx into result[0..1], restores and returns. At sy_before_call the host loads the running
 * context's distinct values into rbx, rbp, r12-r15, the x87 control word and MXCSR (and junk into
 * the caller-saved registers that are not arguments); at sy_after_call it checks them.
 *
 *   sy_call's frame            offset from rsp at sy_before_call
 *   +------------------+
 *   | result pointer   |  0x00
 *   | r15 r14 r13 r12  |  0x08 .. 0x20
 *   | rbp rbx          |  0x28 .. 0x30
 *   | return address   |  0x38
 *   +------------------+ */
        .text
        .globl _start
_start:
        andq $-16, %rsp
        call sy_main
        movq $0x5304, %rax      /* SY_HC_HALT */
        int $0x80
        hlt

        .globl sy_call
        .type sy_call, @function
sy_call:
        pushq %rbx
        pushq %rbp
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        pushq %rcx              /* rsp % 16 == 0 here: the call below is aligned */
        movq %rdi, %rax
        movq %rsi, %rdi
        movq %rdx, %rsi
        .globl sy_before_call
sy_before_call:
        call *%rax
        .globl sy_after_call
sy_after_call:
        popq %rcx
        movq %rax, (%rcx)
        movq %rdx, 8(%rcx)
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbp
        popq %rbx
        ret
        .size sy_call, .-sy_call
        .section .note.GNU-stack,"",@progbits
