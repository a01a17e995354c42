// switchyard's memlayout.h for xv6-riscv trees: replaces kernel/memlayout.h when a tree runs
// natively under the simulator (kernel_models/xv6/platform/README.md).
//
// Physical memory is at a fixed host address that the host maps for the module
// (kernel_models/xv6/tree.cc), so that KERNBASE and PHYSTOP are constants, as in xv6: lab trees
// size arrays by them (the cow lab's `int refcount[(PHYSTOP - KERNBASE) / PGSIZE]`). Its first
// page holds the trampoline, kalloc.c's `end` follows (platform.c) and freerange(end, PHYSTOP)
// hands out the rest. Device addresses and IRQ numbers keep QEMU virt's values: only the platform
// interprets them. TRAMPOLINE and TRAPFRAME sit under MAXVA as in xv6 (see riscv.h for why MAXVA is
// where it is); KSTACK names the virtual address of a process's kernel stack in the kernel page
// table, which the platform does not use: kernel threads run on the simulator's fiber stacks.
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

// Physical memory: [KERNBASE, PHYSTOP), mapped by the host and restored before every run with
// the module's data: the kernel's page (the trampoline), then kalloc.c's 160 pages from `end`
// (platform.c). Not xv6's 0x80000000: that is inside AddressSanitizer's shadow of low memory
// (0x7fff8000-0x8fff6fff) in an ASan host, and 0x40000000 is free in every process, in and out of
// ASan. Small enough that a tree's array
// sized PHYSTOP / PGSIZE (one entry per page from address 0, as some cow labs do) stays ~1 MiB.
#define XV6_PHYS_PAGES 161
#define KERNBASE 0x40000000L
#define PHYSTOP (KERNBASE + XV6_PHYS_PAGES * 4096L)

#define TRAMPOLINE (MAXVA - PGSIZE)
#define KSTACK(p) (TRAMPOLINE - ((p) + 1) * 2 * PGSIZE)
#define TRAPFRAME (TRAMPOLINE - PGSIZE)

#endif  // SWITCHYARD_XV6_PLATFORM_MEMLAYOUT_H_
