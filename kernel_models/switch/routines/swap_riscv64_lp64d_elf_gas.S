/*
 * switchyard's own switch routine for the swap convention, RISC-V 64 LP64D, ELF, GNU as (the
 * shape of xv6's swtch.S, with the floating-point callee-saved registers).
 *
 *   void sy_swap(void *from, void *to);                                a0, a1
 *   void sy_make(void *area, void *stack_top, void (*entry)(void));    a0, a1, a2
 *
 *   save area: 0 ra, 8 sp, 16..104 s0-s11, 112..200 fs0-fs11
 *
 * sy_make points ra at sy_start and keeps entry in s1: sy_start enters entry with ra = 0 (a return
 * from entry faults instead of running code) and sp % 16 == 0.
 *
 * Planted mutants (-D): BUG_CALLEE_SAVED_NOT_SAVED (s11, as in xv6's swtch-forgets-s11),
 * BUG_FPU_NOT_PRESERVED (fs0-fs11 not switched), BUG_FRAME_ONE_WORD_OFF (sp one word low),
 * BUG_SP_IN_SAVE_AREA (sp is pointed at the save areas and the registers stored through it),
 * BUG_WRITES_SUSPENDED_SLOT (a link written at offset 208 of the save area of the context that
 * switched out before, which is suspended).
 */
        .text
        .globl sy_swap
        .type sy_swap, @function
sy_swap:
#if defined(BUG_SP_IN_SAVE_AREA)
        mv t0, sp
        mv sp, a0               /* sp points into from's save area while it is saved */
#define a0 sp
        sd ra, 0(a0)
        sd t0, 8(a0)
#else
        sd ra, 0(a0)
        sd sp, 8(a0)
#endif
        sd s0, 16(a0)
        sd s1, 24(a0)
        sd s2, 32(a0)
        sd s3, 40(a0)
        sd s4, 48(a0)
        sd s5, 56(a0)
        sd s6, 64(a0)
        sd s7, 72(a0)
        sd s8, 80(a0)
        sd s9, 88(a0)
        sd s10, 96(a0)
#if !defined(BUG_CALLEE_SAVED_NOT_SAVED)
        sd s11, 104(a0)
#endif
#if !defined(BUG_FPU_NOT_PRESERVED)
        fsd fs0, 112(a0)
        fsd fs1, 120(a0)
        fsd fs2, 128(a0)
        fsd fs3, 136(a0)
        fsd fs4, 144(a0)
        fsd fs5, 152(a0)
        fsd fs6, 160(a0)
        fsd fs7, 168(a0)
        fsd fs8, 176(a0)
        fsd fs9, 184(a0)
        fsd fs10, 192(a0)
        fsd fs11, 200(a0)
#endif
#if defined(BUG_SP_IN_SAVE_AREA)
#undef a0
        mv sp, a1               /* and into to's while it is loaded */
#define a1 sp
#endif
#if defined(BUG_WRITES_SUSPENDED_SLOT)
        la t1, sy_previous
        ld t2, 0(t1)
        beqz t2, 1f
        sd a0, 208(t2)          /* link the context that switched out before to this one */
1:      sd a0, 0(t1)
#endif
        ld ra, 0(a1)
#if !defined(BUG_SP_IN_SAVE_AREA)
        ld sp, 8(a1)
#endif
        ld s0, 16(a1)
        ld s1, 24(a1)
        ld s2, 32(a1)
        ld s3, 40(a1)
        ld s4, 48(a1)
        ld s5, 56(a1)
        ld s6, 64(a1)
        ld s7, 72(a1)
        ld s8, 80(a1)
        ld s9, 88(a1)
        ld s10, 96(a1)
#if !defined(BUG_CALLEE_SAVED_NOT_SAVED)
        ld s11, 104(a1)
#endif
#if !defined(BUG_FPU_NOT_PRESERVED)
        fld fs0, 112(a1)
        fld fs1, 120(a1)
        fld fs2, 128(a1)
        fld fs3, 136(a1)
        fld fs4, 144(a1)
        fld fs5, 152(a1)
        fld fs6, 160(a1)
        fld fs7, 168(a1)
        fld fs8, 176(a1)
        fld fs9, 184(a1)
        fld fs10, 192(a1)
        fld fs11, 200(a1)
#endif
#if defined(BUG_SP_IN_SAVE_AREA)
#undef a1
        ld sp, 8(sp)            /* last: to's own stack pointer */
#endif
        ret
        .size sy_swap, .-sy_swap

        .globl sy_make
        .type sy_make, @function
sy_make:
        andi a1, a1, -16
#if defined(BUG_FRAME_ONE_WORD_OFF)
        addi a1, a1, -8         /* one word low: entry starts misaligned */
#endif
        la t0, sy_start
        sd t0, 0(a0)            /* ra: the first sy_swap into the area returns to sy_start */
        sd a1, 8(a0)            /* sp */
        sd a2, 24(a0)           /* s1: the entry function */
        ret
        .size sy_make, .-sy_make

        .type sy_start, @function
sy_start:
        li ra, 0                /* a return from entry faults */
        jr s1
        .size sy_start, .-sy_start
#if defined(BUG_WRITES_SUSPENDED_SLOT)
        .bss
        .align 3
sy_previous:
        .dword 0
#endif
        .section .note.GNU-stack,"",@progbits
