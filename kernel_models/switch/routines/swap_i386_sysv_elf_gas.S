/*
 * switchyard's own switch routine for the swap convention, i386 System V (cdecl), ELF, GNU as.
 *
 *   void sy_swap(void *from, void *to);                     4(%esp), 8(%esp)
 *   void sy_make(void *area, void *stack_top, void (*entry)(void));
 *
 * sy_swap pushes the running context's callee-saved state on its own stack, stores esp in from's
 * save area (offset 0), loads to's and pops what it finds there. sy_make builds the frame a first
 * sy_swap into `area` pops, so that entry starts with (esp + 4) % 16 == 0 and a return address
 * of 0.
 *
 *   --------------------------------------------------------------------
 *   | offset | 0x00   | 0x04 | 0x08 | 0x0c | 0x10 | 0x14                |
 *   |--------+--------+------+------+------+------+---------------------|
 *   | slot   | x87 CW | edi  | esi  | ebx  | ebp  | return address      |
 *   --------------------------------------------------------------------
 *
 * Planted mutants (-D): BUG_CALLEE_SAVED_NOT_SAVED (edi), BUG_FPU_NOT_PRESERVED (x87 CW),
 * BUG_FRAME_ONE_WORD_OFF (sy_make's frame one word too low), BUG_SP_IN_SAVE_AREA (the registers
 * are pushed into from's save area: mid-switch esp points into it), BUG_WRITES_SUSPENDED_SLOT (a
 * link written into the save area of the context that switched out before, which is suspended).
 */
        .text
#if defined(BUG_SP_IN_SAVE_AREA)
/* Save area: 0x00 x87 CW, 0x04 edi, 0x08 esi, 0x0c ebx, 0x10 ebp, 0x14 esp. */
        .globl sy_swap
        .type sy_swap, @function
sy_swap:
        movl 4(%esp), %eax
        movl 8(%esp), %edx
        movl %esp, %ecx
        leal 0x18(%eax), %esp   /* push into the save area: esp points into it until the load */
        pushl %ecx
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        leal -4(%esp), %esp
        fnstcw (%esp)
        movl %edx, %esp         /* pop from to's save area */
        fldcw (%esp)
        leal 4(%esp), %esp
        popl %edi
        popl %esi
        popl %ebx
        popl %ebp
        popl %esp               /* to's stack: its return address is on top */
        ret
        .size sy_swap, .-sy_swap

        .globl sy_make
        .type sy_make, @function
sy_make:
        movl 4(%esp), %eax
        movl 8(%esp), %ecx
        movl 12(%esp), %edx
        andl $-16, %ecx
        movl $0, -4(%ecx)       /* entry's return address */
        movl %edx, -8(%ecx)     /* sy_swap's ret enters entry with (esp + 4) % 16 == 0 */
        leal -8(%ecx), %ecx
        movl %ecx, 0x14(%eax)
        fnstcw (%eax)
        ret
        .size sy_make, .-sy_make
#else
        .globl sy_swap
        .type sy_swap, @function
sy_swap:
        movl 4(%esp), %eax      /* from */
        movl 8(%esp), %edx      /* to */
        leal -0x14(%esp), %esp
#if !defined(BUG_FPU_NOT_PRESERVED)
        fnstcw (%esp)           /* the x87 control word is callee-saved */
#endif
#if !defined(BUG_CALLEE_SAVED_NOT_SAVED)
        movl %edi, 0x04(%esp)
#endif
        movl %esi, 0x08(%esp)
        movl %ebx, 0x0c(%esp)
        movl %ebp, 0x10(%esp)
        movl %esp, (%eax)       /* from->sp */
#if defined(BUG_WRITES_SUSPENDED_SLOT)
        movl sy_previous, %ecx
        testl %ecx, %ecx
        jz 1f
        movl %eax, 4(%ecx)      /* link the context that switched out before to this one */
1:      movl %eax, sy_previous
#endif
        movl (%edx), %esp       /* to->sp: from here on, to's stack */
#if !defined(BUG_FPU_NOT_PRESERVED)
        fldcw (%esp)
#endif
#if !defined(BUG_CALLEE_SAVED_NOT_SAVED)
        movl 0x04(%esp), %edi
#endif
        movl 0x08(%esp), %esi
        movl 0x0c(%esp), %ebx
        movl 0x10(%esp), %ebp
        leal 0x14(%esp), %esp
        ret
        .size sy_swap, .-sy_swap

        .globl sy_make
        .type sy_make, @function
sy_make:
        movl 4(%esp), %eax      /* area */
        movl 8(%esp), %ecx      /* stack top */
        movl 12(%esp), %edx     /* entry */
        andl $-16, %ecx
#if defined(BUG_FRAME_ONE_WORD_OFF)
        leal -0x20(%ecx), %ecx  /* one word too low: entry starts with esp % 16 == 8 */
#else
        leal -0x1c(%ecx), %ecx  /* entry's return address slot is top - 4 */
#endif
        movl $0, 0x18(%ecx)     /* entry's own return address: 0, not code */
        movl %edx, 0x14(%ecx)   /* sy_swap's ret enters entry */
        fnstcw (%ecx)           /* the new context starts with the creator's x87 CW */
        movl $0, 0x04(%ecx)
        movl $0, 0x08(%ecx)
        movl $0, 0x0c(%ecx)
        movl $0, 0x10(%ecx)
        movl %ecx, (%eax)       /* area->sp */
        ret
        .size sy_make, .-sy_make
#endif
#if defined(BUG_WRITES_SUSPENDED_SLOT)
        .bss
        .align 4
sy_previous:
        .long 0
#endif
        .section .note.GNU-stack,"",@progbits
