# Context switch: save the callee-saved registers in old, load them from new.
#
#   void swtch(struct context *old, struct context *new);
#
# The offsets are struct context's in proc.h: ra, sp, then s0-s11, 8 bytes each. Under the
# platform a tree runs natively and its swtch() is the platform's; with --swtch=1 switchyard also
# assembles this file with the RISC-V cross assembler and runs it in an emulator at every swtch()
# (kernel_models/xv6/swtch_emu.h).
#
# Planted bug (a runtime switch, like proc.c's xv6_planted_bug): when the word swtch_planted_bug
# is non-zero, s11 is not saved (swtch-forgets-s11). t0 is caller-saved: swtch may use it.

.globl swtch
swtch:
        sd ra, 0(a0)
        sd sp, 8(a0)
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
        lla t0, swtch_planted_bug
        lw t0, 0(t0)
        bnez t0, 1f
        sd s11, 104(a0)
1:
        ld ra, 0(a1)
        ld sp, 8(a1)
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
        ld s11, 104(a1)
        ret

        .data
        .balign 4
        .globl swtch_planted_bug
swtch_planted_bug:
        .word 0
