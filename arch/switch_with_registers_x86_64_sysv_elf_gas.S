/*
 * Test helper for arch/context_test.cc: a context switch made with chosen values in every
 * callee-saved register, so the test can see whether the switch preserved them.
 *
 *   extern "C" void switchyard_test_switch_with_registers(const uint64_t values[6],
 *                                                        uint64_t observed[6],
 *                                                        void** save_sp, void* load_sp);
 *                                                        rdi, rsi, rdx, rcx
 *
 * Loads values[] into rbx, rbp, r12, r13, r14, r15 (in that order), calls
 * switchyard_jump_context(save_sp, load_sp) directly, so no compiled code stands between the
 * registers and the switch, and when the context is resumed stores the six registers into
 * observed[] in the same order. The caller's own callee-saved registers are saved and restored
 * around all of it.
 *
 *   ----------------------------------------------------------------------------
 *   | offset from rsp at the call |  0       |  8  | 16  | 24  | 32  | 40  | 48  |
 *   |-----------------------------+----------+-----+-----+-----+-----+-----+-----|
 *   | slot                        | observed | r15 | r14 | r13 | r12 | rbx | rbp |
 *   ----------------------------------------------------------------------------
 *   56 bytes pushed below the return address: rsp is 16-byte aligned at the call.
 */
#if defined(__x86_64__)

.text
.globl switchyard_test_switch_with_registers
.type switchyard_test_switch_with_registers, @function
.align 16
switchyard_test_switch_with_registers:
    .cfi_startproc
    pushq %rbp                   /* the caller's callee-saved registers */
    .cfi_adjust_cfa_offset 8
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    pushq %r12
    .cfi_adjust_cfa_offset 8
    pushq %r13
    .cfi_adjust_cfa_offset 8
    pushq %r14
    .cfi_adjust_cfa_offset 8
    pushq %r15
    .cfi_adjust_cfa_offset 8
    pushq %rsi                   /* observed[], needed after the switch */
    .cfi_adjust_cfa_offset 8

    movq 0(%rdi), %rbx           /* the values under test */
    movq 8(%rdi), %rbp
    movq 16(%rdi), %r12
    movq 24(%rdi), %r13
    movq 32(%rdi), %r14
    movq 40(%rdi), %r15
    movq %rdx, %rdi              /* save_sp */
    movq %rcx, %rsi              /* load_sp */
    callq switchyard_jump_context@PLT

    popq %rax                    /* observed[] */
    .cfi_adjust_cfa_offset -8
    movq %rbx, 0(%rax)           /* what the switch gave back */
    movq %rbp, 8(%rax)
    movq %r12, 16(%rax)
    movq %r13, 24(%rax)
    movq %r14, 32(%rax)
    movq %r15, 40(%rax)

    popq %r15                    /* the caller's registers again */
    .cfi_adjust_cfa_offset -8
    popq %r14
    .cfi_adjust_cfa_offset -8
    popq %r13
    .cfi_adjust_cfa_offset -8
    popq %r12
    .cfi_adjust_cfa_offset -8
    popq %rbx
    .cfi_adjust_cfa_offset -8
    popq %rbp
    .cfi_adjust_cfa_offset -8
    ret
    .cfi_endproc
.size switchyard_test_switch_with_registers, .-switchyard_test_switch_with_registers

#endif  /* defined(__x86_64__) */

.section .note.GNU-stack,"",%progbits
