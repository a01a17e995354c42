/* The harness's entry and its checked call for i386 (System V, cdecl).
 *
 * sy_call(fn, a, b, result): saves the C caller's callee-saved registers, calls fn(a, b), stores
 * eax:edx into result[0..1], restores and returns. At sy_before_call the host loads the running
 * context's distinct values into ebx, esi, edi, ebp and the x87 control word (junk into ecx and
 * edx); at sy_after_call it checks them.
 *
 *   sy_call's frame at sy_before_call    offset from esp
 *   +------------------------------+
 *   | a, b (fn's arguments), pad   |  0x00 .. 0x08
 *   | ebp edi esi ebx              |  0x0c .. 0x18
 *   | return address               |  0x1c
 *   | fn, a, b, result             |  0x20 .. 0x2c
 *   +------------------------------+
 * sy_vsyscall is what glibc's `call *%gs:0x10` reaches: the host points gs:0x10 at it. */
        .text
        .globl _start
_start:
        andl $-16, %esp
        subl $12, %esp          /* (esp + 4) % 16 == 0 at sy_main's entry, as if called */
        call sy_main
        movl $0x5304, %eax      /* SY_HC_HALT */
        int $0x80
        hlt

        .globl sy_call
        .type sy_call, @function
sy_call:
        pushl %ebx
        pushl %esi
        pushl %edi
        pushl %ebp
        movl 20(%esp), %eax     /* fn */
        movl 24(%esp), %ecx     /* a */
        movl 28(%esp), %edx     /* b */
        subl $4, %esp
        pushl %edx
        pushl %ecx              /* (esp + 4) % 16 == 0 at fn's entry */
        .globl sy_before_call
sy_before_call:
        call *%eax
        .globl sy_after_call
sy_after_call:
        addl $12, %esp
        movl 32(%esp), %ecx
        movl %eax, (%ecx)
        movl %edx, 4(%ecx)
        popl %ebp
        popl %edi
        popl %esi
        popl %ebx
        ret
        .size sy_call, .-sy_call

        .globl sy_vsyscall
        .type sy_vsyscall, @function
sy_vsyscall:
        int $0x80
        ret
        .size sy_vsyscall, .-sy_vsyscall
        .section .note.GNU-stack,"",@progbits
