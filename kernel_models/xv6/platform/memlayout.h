// switchyard's memlayout.h for xv6-riscv trees: replaces kernel/memlayout.h when a tree runs
// natively under the simulator (kernel_models/xv6/platform/README.md).
//
// Physical memory is an array of the platform (`end` in platform.c), so KERNBASE and PHYSTOP
// name its ends and kalloc.c's freerange(end, PHYSTOP) hands out its pages. Device addresses and
// IRQ numbers keep QEMU virt's values: only the platform interprets them. TRAMPOLINE and
// TRAPFRAME sit under MAXVA as in xv6 (see riscv.h for why MAXVA is where it is); KSTACK names the
// virtual address of a process's kernel stack in the kernel page table, which the platform does
// not use: kernel threads run on the simulator's fiber stacks.
#ifndef SWITCHYARD_XV6_PLATFORM_MEMLAYOUT_H_
#define SWITCHYARD_XV6_PLATFORM_MEMLAYOUT_H_

#define UART0 0x10000000L
#define UART0_IRQ 10
#define VIRTIO0 0x10001000
#define VIRTIO0_IRQ 1
#define CLINT 0x2000000L
#define CLINT_MTIMECMP(hartid) (CLINT + 0x4000 + 8 * (hartid))
#define CLINT_MTIME (CLINT + 0xBFF8)
#define PLIC 0x0c000000L
#define PLIC_PRIORITY (PLIC + 0x0)
#define PLIC_PENDING (PLIC + 0x1000)
#define PLIC_MENABLE(hart) (PLIC + 0x2000 + (hart)*0x100)
#define PLIC_SENABLE(hart) (PLIC + 0x2080 + (hart)*0x100)
#define PLIC_MPRIORITY(hart) (PLIC + 0x200000 + (hart)*0x2000)
#define PLIC_SPRIORITY(hart) (PLIC + 0x201000 + (hart)*0x2000)
#define PLIC_MCLAIM(hart) (PLIC + 0x200004 + (hart)*0x2000)
#define PLIC_SCLAIM(hart) (PLIC + 0x201004 + (hart)*0x2000)

// Physical memory: the platform's array `end` (platform.c), which kalloc.c starts from.
#define XV6_PHYS_PAGES 160
extern char end[];
#define KERNBASE ((uint64)end)
#define PHYSTOP (KERNBASE + XV6_PHYS_PAGES * 4096L)

#define TRAMPOLINE (MAXVA - PGSIZE)
#define KSTACK(p) (TRAMPOLINE - ((p) + 1) * 2 * PGSIZE)
#define TRAPFRAME (TRAMPOLINE - PGSIZE)

#endif  // SWITCHYARD_XV6_PLATFORM_MEMLAYOUT_H_
