/*
 * Fiber context switch for AArch64, AAPCS64, ELF, GNU assembler syntax.
 *
 *   extern "C" void switchyard_jump_context(void** save_sp, void* load_sp);
 *                                           x0              x1
 *
 * Stores the callee-saved registers in a frame on the running stack, stores the stack pointer
 * in *save_sp, switches to load_sp, loads the frame found there and branches to its saved x30.
 * Everything else the ABI lets a call clobber, so the compiler has already saved what it needs.
 *
 *   -------------------------------------------------------------------------------
 *   | offset |  0  |  8  | 16  | 24  | 32  | 40  | 48  | 56  |  64  |  72  |  80  |
 *   |--------+-----+-----+-----+-----+-----+-----+-----+-----+------+------+------|
 *   | slot   | d8  | d9  | d10 | d11 | d12 | d13 | d14 | d15 | x19  | x20  | x21  |
 *   -------------------------------------------------------------------------------
 *   | offset |  88 |  96 | 104 | 112 | 120 | 128 | 136 | 144 |          152       |
 *   |--------+-----+-----+-----+-----+-----+-----+-----+-----+--------------------|
 *   | slot   | x22 | x23 | x24 | x25 | x26 | x27 | x28 | x29 | x30 (return addr.) |
 *   -------------------------------------------------------------------------------
 *   a saved stack pointer points at offset 0; the frame is 160 bytes, a multiple of 16 as sp
 *   must always be (arch/frame_layout.h)
 *
 * Not saved: FPCR (rounding mode, flush-to-zero). Every fiber shares the host thread's
 * floating-point environment, as on x86-64 where reloading MXCSR would cost more than the
 * switch itself.
 *
 * The switch ends with br, not ret, for the reason the x86-64 version gives: a ret is predicted
 * from the return-address stack, which never holds the other fiber's resume point.
 */
#if defined(__aarch64__)

#include "arch/frame_layout.h"

.text

.globl switchyard_jump_context
.type switchyard_jump_context, %function
.p2align 4
switchyard_jump_context:
    .cfi_startproc
    /* Save the leaving context. */
    sub sp, sp, #SWITCHYARD_FRAME_BYTES           /* room for the frame; keeps sp 16-aligned */
    .cfi_adjust_cfa_offset SWITCHYARD_FRAME_BYTES
    stp d8, d9, [sp, #SWITCHYARD_FRAME_D8]        /* offsets 0, 8 */
    stp d10, d11, [sp, #SWITCHYARD_FRAME_D10]     /* offsets 16, 24 */
    stp d12, d13, [sp, #SWITCHYARD_FRAME_D12]     /* offsets 32, 40 */
    stp d14, d15, [sp, #SWITCHYARD_FRAME_D14]     /* offsets 48, 56 */
    stp x19, x20, [sp, #SWITCHYARD_FRAME_X19]     /* offsets 64, 72 */
    stp x21, x22, [sp, #SWITCHYARD_FRAME_X21]     /* offsets 80, 88 */
    stp x23, x24, [sp, #SWITCHYARD_FRAME_X23]     /* offsets 96, 104 */
    stp x25, x26, [sp, #SWITCHYARD_FRAME_X25]     /* offsets 112, 120 */
    stp x27, x28, [sp, #SWITCHYARD_FRAME_X27]     /* offsets 128, 136 */
    stp x29, x30, [sp, #SWITCHYARD_FRAME_X29]     /* offsets 144, 152: x30 is where we resume */
    mov x9, sp                                    /* sp cannot be stored directly */
    str x9, [x0]                                  /* *save_sp = the leaving context's frame */

    /* Resume the other context from the frame it left on its own stack. */
    mov sp, x1                                    /* load_sp: now on the other stack */
    ldp d8, d9, [sp, #SWITCHYARD_FRAME_D8]        /* offsets 0, 8 */
    ldp d10, d11, [sp, #SWITCHYARD_FRAME_D10]     /* offsets 16, 24 */
    ldp d12, d13, [sp, #SWITCHYARD_FRAME_D12]     /* offsets 32, 40 */
    ldp d14, d15, [sp, #SWITCHYARD_FRAME_D14]     /* offsets 48, 56 */
    ldp x19, x20, [sp, #SWITCHYARD_FRAME_X19]     /* offsets 64, 72 */
    ldp x21, x22, [sp, #SWITCHYARD_FRAME_X21]     /* offsets 80, 88 */
    ldp x23, x24, [sp, #SWITCHYARD_FRAME_X23]     /* offsets 96, 104 */
    ldp x25, x26, [sp, #SWITCHYARD_FRAME_X25]     /* offsets 112, 120 */
    ldp x27, x28, [sp, #SWITCHYARD_FRAME_X27]     /* offsets 128, 136 */
    ldp x29, x30, [sp, #SWITCHYARD_FRAME_X29]     /* offsets 144, 152 */
    add sp, sp, #SWITCHYARD_FRAME_BYTES           /* pop the frame */
    .cfi_adjust_cfa_offset -SWITCHYARD_FRAME_BYTES
    br x30                                        /* return by branch: see the header */
    .cfi_endproc
.size switchyard_jump_context, .-switchyard_jump_context

/*
 * First code a new context runs. MakeContext builds a frame whose x30 slot is this label and
 * whose x19, x20, x21 and x29 slots hold the entry function, its argument, the fiber's name and
 * 0, so that the first switch into the context branches here with sp = top of the stack.
 */
.globl switchyard_start_context
.type switchyard_start_context, %function
.hidden switchyard_start_context
.p2align 4
switchyard_start_context:
    .cfi_startproc
    .cfi_undefined x30                            /* outermost frame: unwinders stop here */
    mov x0, x20                                   /* the entry function's argument */
    mov x1, x19                                   /* the entry function */
    bl switchyard_fiber_start                     /* C++: finish ASan's switch, call entry */
    /* The entry function returned, which a fiber must never do: nothing is above us. */
    mov x0, x21                                   /* the fiber's name, for the message */
    bl switchyard_fiber_returned                  /* prints one line and aborts; never returns */
    udf #0                                        /* unreachable: trap rather than run on */
    .cfi_endproc
.size switchyard_start_context, .-switchyard_start_context

#endif  /* defined(__aarch64__) */

/* The stacks are not executable. */
.section .note.GNU-stack,"",%progbits
