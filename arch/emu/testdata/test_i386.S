# arch/emu's test program for i386: counts in ecx, makes hypercall 7 with ebx = count, then
# dereferences null (a fault the emulator must report).
        .text
        .globl _start
_start:
        xorl %ecx, %ecx
        movl $3, %ebx
loop:
        incl %ecx
        decl %ebx
        jnz loop
        movl $7, %eax
        movl %ecx, %ebx
        int $0x80
        .globl after_hypercall
after_hypercall:
        movl $0, %eax
        movl (%eax), %eax
