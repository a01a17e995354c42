# arch/emu's test program for RISC-V 64: stores s0 to memory, hypercall 9 (a7) with a0 = s0 + 1.
        .text
        .globl _start
_start:
        la t0, slot
        sd s0, 0(t0)
        addi a0, s0, 1
        li a7, 9
        ecall
        .globl after_ecall
after_ecall:
        ld s1, 0(t0)
        j after_ecall
        .data
        .globl slot
slot:   .dword 0
