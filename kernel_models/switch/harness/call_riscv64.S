/* The harness's entry and its checked call for RISC-V 64 (LP64D).
 *
 * sy_call(fn, a, b, result): saves ra and the C caller's callee-saved registers (s0-s11,
 * fs0-fs11), calls fn(a, b), stores a0:a1 into result[0..1], restores and returns. At
 * sy_before_call the host loads the running context's distinct values into s0-s11 and fs0-fs11
 * (junk into t1, t2, a2-a7); at sy_after_call it checks them.
 *
 *   frame (208 bytes): 0 ra, 8..96 s0-s11, 104..192 fs0-fs11, 200 result pointer */
        .text
        .globl _start
_start:
        .option push
        .option norelax
        la gp, __global_pointer$  /* the linker relaxes small-data accesses to gp + offset */
        .option pop
        andi sp, sp, -16
        call sy_main
        li a7, 0x5304           /* SY_HC_HALT */
        ecall
1:      j 1b

        .globl sy_call
        .type sy_call, @function
sy_call:
        addi sp, sp, -208
        sd ra, 0(sp)
        sd s0, 8(sp)
        sd s1, 16(sp)
        sd s2, 24(sp)
        sd s3, 32(sp)
        sd s4, 40(sp)
        sd s5, 48(sp)
        sd s6, 56(sp)
        sd s7, 64(sp)
        sd s8, 72(sp)
        sd s9, 80(sp)
        sd s10, 88(sp)
        sd s11, 96(sp)
        fsd fs0, 104(sp)
        fsd fs1, 112(sp)
        fsd fs2, 120(sp)
        fsd fs3, 128(sp)
        fsd fs4, 136(sp)
        fsd fs5, 144(sp)
        fsd fs6, 152(sp)
        fsd fs7, 160(sp)
        fsd fs8, 168(sp)
        fsd fs9, 176(sp)
        fsd fs10, 184(sp)
        fsd fs11, 192(sp)
        sd a3, 200(sp)
        mv t0, a0
        mv a0, a1
        mv a1, a2
        .globl sy_before_call
sy_before_call:
        jalr t0
        .globl sy_after_call
sy_after_call:
        ld a3, 200(sp)
        sd a0, 0(a3)
        sd a1, 8(a3)
        ld ra, 0(sp)
        ld s0, 8(sp)
        ld s1, 16(sp)
        ld s2, 24(sp)
        ld s3, 32(sp)
        ld s4, 40(sp)
        ld s5, 48(sp)
        ld s6, 56(sp)
        ld s7, 64(sp)
        ld s8, 72(sp)
        ld s9, 80(sp)
        ld s10, 88(sp)
        ld s11, 96(sp)
        fld fs0, 104(sp)
        fld fs1, 112(sp)
        fld fs2, 120(sp)
        fld fs3, 128(sp)
        fld fs4, 136(sp)
        fld fs5, 144(sp)
        fld fs6, 152(sp)
        fld fs7, 160(sp)
        fld fs8, 168(sp)
        fld fs9, 176(sp)
        fld fs10, 184(sp)
        fld fs11, 192(sp)
        addi sp, sp, 208
        ret
        .size sy_call, .-sy_call
        .section .note.GNU-stack,"",@progbits
