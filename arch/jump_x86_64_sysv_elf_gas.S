/*
 * Fiber context switch for x86-64, System V ABI, ELF, GNU assembler syntax.
 *
 *   extern "C" void switchyard_jump_context(void** save_sp, void* load_sp);
 *                                           rdi             rsi
 *
 * Pushes the callee-saved registers on the running stack, stores the stack pointer in *save_sp,
 * switches to load_sp, pops the frame found there and jumps to its return address. Everything
 * else the ABI lets a call clobber, so the compiler has already saved what it needs.
 *
 *   ---------------------------------------------------------------
 *   | offset |  0  |  8  | 16  | 24  | 32  | 40  |      48        |
 *   |--------+-----+-----+-----+-----+-----+-----+----------------|
 *   | slot   | r15 | r14 | r13 | r12 | rbx | rbp | return address |
 *   ---------------------------------------------------------------
 *   a saved stack pointer points at offset 0; the frame is 56 bytes (arch/frame_layout.h)
 *
 * Not saved: MXCSR and the x87 control word. The ABI makes their control bits callee-saved, but
 * saving and reloading them (stmxcsr/ldmxcsr, fnstcw/fldcw) made a switch cost about 90 ns
 * instead of 2.3 ns in //bench:switch_bench on the development machine. Every fiber therefore
 * shares the host thread's floating-point environment: a fiber that changes the rounding mode or
 * the exception masks changes them for every fiber of the thread.
 *
 * The switch ends with pop + jmp, not ret: the CPU's return-stack predictor always guesses the
 * wrong target for a switch's ret (it expects the caller of this call, not the other fiber's
 * resume point). Measured with ret, a switch cost 14 ns instead of 3.1 ns on one machine and
 * 7.3 ns instead of 2.3 ns on another; the indirect-branch predictor learns the jmp's targets.
 */
#if defined(__x86_64__)

#include "arch/frame_layout.h"

.text

.globl switchyard_jump_context
.type switchyard_jump_context, @function
.align 16
switchyard_jump_context:
    .cfi_startproc
    /* Save the leaving context: the call pushed its return address (offset 48). */
    pushq %rbp                  /* offset 40 */
    .cfi_adjust_cfa_offset 8
    pushq %rbx                  /* offset 32 */
    .cfi_adjust_cfa_offset 8
    pushq %r12                  /* offset 24 */
    .cfi_adjust_cfa_offset 8
    pushq %r13                  /* offset 16 */
    .cfi_adjust_cfa_offset 8
    pushq %r14                  /* offset 8 */
    .cfi_adjust_cfa_offset 8
    pushq %r15                  /* offset 0 */
    .cfi_adjust_cfa_offset 8
    movq %rsp, (%rdi)           /* *save_sp = the leaving context's frame */

    /* Resume the other context from the frame it left on its own stack. */
    movq %rsi, %rsp             /* load_sp: from here on we run on the other stack */
    popq %r15                   /* offset 0 */
    .cfi_adjust_cfa_offset -8
    popq %r14                   /* offset 8 */
    .cfi_adjust_cfa_offset -8
    popq %r13                   /* offset 16 */
    .cfi_adjust_cfa_offset -8
    popq %r12                   /* offset 24 */
    .cfi_adjust_cfa_offset -8
    popq %rbx                   /* offset 32 */
    .cfi_adjust_cfa_offset -8
    popq %rbp                   /* offset 40 */
    .cfi_adjust_cfa_offset -8
    popq %rcx                   /* offset 48: return address, into a caller-saved scratch */
    .cfi_adjust_cfa_offset -8
    .cfi_register rip, rcx
    jmpq *%rcx                  /* return by jump: see the header on why not ret */
    .cfi_endproc
.size switchyard_jump_context, .-switchyard_jump_context

/*
 * First code a new context runs. MakeContext builds a frame whose return address is this
 * label and whose r12, r13, r14 and rbp slots hold the entry function, its argument, the
 * fiber's name and 0, so that the first switch into the context "returns" here with
 * rsp = top of the stack, 16-byte aligned, as a call site needs it.
 */
.globl switchyard_start_context
.type switchyard_start_context, @function
.hidden switchyard_start_context
.align 16
switchyard_start_context:
    .cfi_startproc
    .cfi_undefined rip          /* outermost frame: unwinders and debuggers stop here */
    movq %r13, %rdi             /* the entry function's argument */
    movq %r12, %rsi             /* the entry function */
    callq switchyard_fiber_start  /* C++ (context.cc): finishes ASan's switch, calls entry */
    /* The entry function returned, which a fiber must never do: nothing is above us. */
    movq %r14, %rdi             /* the fiber's name, for the message */
    callq switchyard_fiber_returned  /* prints one line and aborts; never returns */
    ud2                         /* unreachable: trap rather than run whatever follows */
    .cfi_endproc
.size switchyard_start_context, .-switchyard_start_context

#endif  /* defined(__x86_64__) */

/* The stacks are not executable. */
.section .note.GNU-stack,"",%progbits
