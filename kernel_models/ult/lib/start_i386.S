/* Entry: the host sets esp to the top of stacks[0] (the main thread's stack) before starting. */
        .text
        .globl _start
_start:
        subl $12, %esp          /* (esp + 4) % 16 == 0 at main_thread's entry, as if called */
        call main_thread
        movl $3, %eax           /* HC_HALT */
        int $0x80
        .globl sigreturn_stub
sigreturn_stub:
        movl $4, %eax           /* HC_SIGRETURN: the host restores the interrupted registers */
        int $0x80
1:      jmp 1b
