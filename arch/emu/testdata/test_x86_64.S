# arch/emu's test program for x86-64: counts in rcx, makes hypercall 7 with `int $0x80` and
# hypercall 14 (rt_sigprocmask's number) with `syscall`, keeps an MXCSR the host set, then
# dereferences null (a fault the emulator must report).
        .text
        .globl _start
_start:
        xorq %rcx, %rcx
        movq $3, %rbx
loop:
        incq %rcx
        decq %rbx
        jnz loop
        movq $7, %rax
        movq %rcx, %rbx
        int $0x80
        .globl after_hypercall
after_hypercall:
        movq $14, %rax
        syscall
        .globl after_syscall
after_syscall:
        stmxcsr mxcsr_slot(%rip)
        movq $0, %rax
        movq (%rax), %rax
        .data
        .globl mxcsr_slot
mxcsr_slot:
        .long 0
