/* switch_context(from, to) for i386 that saves what the System V ABI says a callee must
 * preserve (ebp, ebx, esi, edi) and esp, like Boost.Context's jump_i386_sysv_elf_gas.S:
 * push the callee-saved registers on the old stack, save esp in from->esp (offset 4), load esp
 * from to->esp, pop them from the new stack, and return on it. */
        .text
        .globl switch_context
        .type switch_context, @function
switch_context:
        movl 4(%esp), %eax      /* from */
        movl 8(%esp), %edx      /* to */
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        movl %esp, 4(%eax)
        movl 4(%edx), %esp
        popl %edi
        popl %esi
        popl %ebx
        popl %ebp
        ret
        .size switch_context, .-switch_context
