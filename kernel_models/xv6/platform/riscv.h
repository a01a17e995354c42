// switchyard's riscv.h for xv6-riscv trees: replaces the tree's kernel/riscv.h when a tree is
// compiled natively under the simulator (kernel_models/xv6/platform/README.md).
//
// What it maps. Every CSR access of the tree's code becomes an operation on the running vCPU's
// state kept by the platform (platform.c): tp is the vCPU id (sy_cpuid), sstatus.SIE is the
// vCPU's interrupt-enable flag (sy_intr_*), sstatus.SPP/SPIE, sepc, scause, stval, stvec, sip,
// sie, satp and stimecmp are per-vCPU registers that the platform's trap entry and user-mode
// emulation read and write as the hardware would, and time is virtual time. Each CSR access is a
// point while interrupts are on (sim/platform.h): real hardware can take an interrupt between any
// two instructions. Machine-mode CSRs (start.c's) exist so that code naming them compiles; their
// writes are ignored, as start.c is not compiled.
//
// The constants (page size, PTE bits, Sv39 index arithmetic, SSTATUS and SIE bits) are those of
// the RISC-V privileged specification. MAXVA is not 2^38: the trampoline page at MAXVA-PGSIZE is
// also a host address where the platform maps its trampoline (platform.c), so MAXVA sits where
// the host's address space (and AddressSanitizer's shadow) leaves room. Page-table walks use 39
// bits of a virtual address, as Sv39 does, so the larger MAXVA only moves where TRAMPOLINE and
// TRAPFRAME are named, not how user page tables work.
#ifndef SWITCHYARD_XV6_PLATFORM_RISCV_H_
#define SWITCHYARD_XV6_PLATFORM_RISCV_H_

#ifndef __ASSEMBLER__

// The platform's CSR file (platform.c). Numbers are the CSRs' own encodings.
enum {
  XV6_CSR_SSTATUS = 0x100,
  XV6_CSR_SIE = 0x104,
  XV6_CSR_STVEC = 0x105,
  XV6_CSR_SEPC = 0x141,
  XV6_CSR_SCAUSE = 0x142,
  XV6_CSR_STVAL = 0x143,
  XV6_CSR_SIP = 0x144,
  XV6_CSR_STIMECMP = 0x14D,
  XV6_CSR_SATP = 0x180,
  XV6_CSR_MSTATUS = 0x300,
  XV6_CSR_MEDELEG = 0x302,
  XV6_CSR_MIDELEG = 0x303,
  XV6_CSR_MIE = 0x304,
  XV6_CSR_MTVEC = 0x305,
  XV6_CSR_MCOUNTEREN = 0x306,
  XV6_CSR_MENVCFG = 0x30A,
  XV6_CSR_MSCRATCH = 0x340,
  XV6_CSR_MEPC = 0x341,
  XV6_CSR_PMPCFG0 = 0x3A0,
  XV6_CSR_PMPADDR0 = 0x3B0,
  XV6_CSR_MHARTID = 0xF14,
};
unsigned long xv6_csr_read(int csr);
void xv6_csr_write(int csr, unsigned long value);
int sy_cpuid(void);
int sy_intr_get(void);
void sy_intr_on(void);
void sy_intr_off(void);
void sy_wfi(void);
unsigned long xv6_time(void);

#define XV6_CSR(name, NAME)                                                    \
  static inline uint64 r_##name(void) { return xv6_csr_read(XV6_CSR_##NAME); } \
  static inline void w_##name(uint64 x) { xv6_csr_write(XV6_CSR_##NAME, x); }

XV6_CSR(mstatus, MSTATUS)
XV6_CSR(mepc, MEPC)
XV6_CSR(sstatus, SSTATUS)
XV6_CSR(sip, SIP)
XV6_CSR(sie, SIE)
XV6_CSR(mie, MIE)
XV6_CSR(sepc, SEPC)
XV6_CSR(medeleg, MEDELEG)
XV6_CSR(mideleg, MIDELEG)
XV6_CSR(stvec, STVEC)
XV6_CSR(mtvec, MTVEC)
XV6_CSR(pmpcfg0, PMPCFG0)
XV6_CSR(pmpaddr0, PMPADDR0)
XV6_CSR(satp, SATP)
XV6_CSR(mscratch, MSCRATCH)
XV6_CSR(scause, SCAUSE)
XV6_CSR(stval, STVAL)
XV6_CSR(mcounteren, MCOUNTEREN)
XV6_CSR(menvcfg, MENVCFG)
XV6_CSR(stimecmp, STIMECMP)
#undef XV6_CSR

static inline uint64 r_mhartid(void) { return (uint64)sy_cpuid(); }
static inline uint64 r_tp(void) { return (uint64)sy_cpuid(); }
static inline void w_tp(uint64 x) { (void)x; }  // the vCPU id is the hart's own
static inline uint64 r_time(void) { return xv6_time(); }
static inline uint64 r_sp(void) { return (uint64)__builtin_frame_address(0); }
static inline uint64 r_ra(void) { return (uint64)__builtin_return_address(0); }
static inline void sfence_vma(void) {}

static inline void intr_on(void) { sy_intr_on(); }
static inline void intr_off(void) { sy_intr_off(); }
static inline int intr_get(void) { return sy_intr_get(); }

typedef uint64 pte_t;
typedef uint64* pagetable_t;  // 512 PTEs

#endif  // __ASSEMBLER__

#define MSTATUS_MPP_MASK (3L << 11)
#define MSTATUS_MPP_M (3L << 11)
#define MSTATUS_MPP_S (1L << 11)
#define MSTATUS_MPP_U (0L << 11)
#define MSTATUS_MIE (1L << 3)

#define SSTATUS_SPP (1L << 8)   // previous mode: 1 supervisor, 0 user
#define SSTATUS_SPIE (1L << 5)  // supervisor previous interrupt enable
#define SSTATUS_UPIE (1L << 4)
#define SSTATUS_SIE (1L << 1)  // supervisor interrupt enable
#define SSTATUS_UIE (1L << 0)

#define SIE_SEIE (1L << 9)
#define SIE_STIE (1L << 5)
#define SIE_SSIE (1L << 1)
#define MIE_MEIE (1L << 11)
#define MIE_MTIE (1L << 7)
#define MIE_MSIE (1L << 3)
#define MIE_STIE (1L << 5)

#define SATP_SV39 (8L << 60)
#define MAKE_SATP(pagetable) (SATP_SV39 | (((uint64)pagetable) >> 12))

#define PGSIZE 4096
#define PGSHIFT 12
#define PGROUNDUP(sz) (((sz) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(a) (((a)) & ~(PGSIZE - 1))

#define PTE_V (1L << 0)
#define PTE_R (1L << 1)
#define PTE_W (1L << 2)
#define PTE_X (1L << 3)
#define PTE_U (1L << 4)

#define PA2PTE(pa) ((((uint64)pa) >> 12) << 10)
#define PTE2PA(pte) (((pte) >> 10) << 12)
#define PTE_FLAGS(pte) ((pte)&0x3FF)

#define PXMASK 0x1FF
#define PXSHIFT(level) (PGSHIFT + (9 * (level)))
#define PX(level, va) ((((uint64)(va)) >> PXSHIFT(level)) & PXMASK)

// See the header comment: a host address that is free in every process, in and out of ASan.
#define MAXVA 0x500000000000L

// The tree's own definitions. This file replaces the tree's riscv.h wholesale, but labs add
// constants there that their other files use (the cow lab's `#define PTE_COW (1L << 8)`, or
// PTE_RSW). BuildTree (kernel_models/xv6/tree.cc) copies the tree's riscv.h's preprocessor
// lines, minus every #define of a name this file or memlayout.h uses, and nothing that is not a
// directive (the tree's CSR accessors), into this header in the cache directory; the tree is
// never written.
// Last, so that the tree's definitions may use the constants above.
#include "sy_tree_riscv.h"

#endif  // SWITCHYARD_XV6_PLATFORM_RISCV_H_
