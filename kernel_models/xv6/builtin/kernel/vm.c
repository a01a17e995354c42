// switchyard's own xv6-compatible kernel: user page tables (Sv39, three levels of 512 PTEs).
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "defs.h"

// The PTE for virtual address va, creating the page-table pages on the way when alloc is set.
pte_t* walk(pagetable_t pagetable, uint64 va, int alloc) {
  if (va >= MAXVA) panic("walk");
  for (int level = 2; level > 0; level--) {
    pte_t* pte = &pagetable[PX(level, va)];
    if (*pte & PTE_V) {
      pagetable = (pagetable_t)PTE2PA(*pte);
    } else {
      if (!alloc || (pagetable = (pde_t*)kalloc()) == 0) return 0;
      memset(pagetable, 0, PGSIZE);
      *pte = PA2PTE(pagetable) | PTE_V;
    }
  }
  return &pagetable[PX(0, va)];
}

// The physical address of a user page, or 0.
uint64 walkaddr(pagetable_t pagetable, uint64 va) {
  if (va >= MAXVA) return 0;
  pte_t* pte = walk(pagetable, va, 0);
  if (pte == 0 || (*pte & PTE_V) == 0 || (*pte & PTE_U) == 0) return 0;
  return PTE2PA(*pte);
}

// Maps [va, va + size) to [pa, pa + size). Returns -1 when a page-table page cannot be had.
int mappages(pagetable_t pagetable, uint64 va, uint64 size, uint64 pa, int perm) {
  if ((va % PGSIZE) != 0) panic("mappages: va not aligned");
  if (size == 0) panic("mappages: size");
  uint64 last = va + size - PGSIZE;
  for (uint64 a = va;; a += PGSIZE, pa += PGSIZE) {
    pte_t* pte = walk(pagetable, a, 1);
    if (pte == 0) return -1;
    if (*pte & PTE_V) panic("mappages: remap");
    *pte = PA2PTE(pa) | perm | PTE_V;
    if (a == last) break;
  }
  return 0;
}

void uvmunmap(pagetable_t pagetable, uint64 va, uint64 npages, int do_free) {
  if ((va % PGSIZE) != 0) panic("uvmunmap: not aligned");
  for (uint64 a = va; a < va + npages * PGSIZE; a += PGSIZE) {
    pte_t* pte = walk(pagetable, a, 0);
    if (pte == 0) panic("uvmunmap: walk");
    if ((*pte & PTE_V) == 0) panic("uvmunmap: not mapped");
    if (PTE_FLAGS(*pte) == PTE_V) panic("uvmunmap: not a leaf");
    if (do_free) kfree((void*)PTE2PA(*pte));
    *pte = 0;
  }
}

pagetable_t uvmcreate(void) {
  pagetable_t pagetable = (pagetable_t)kalloc();
  if (pagetable == 0) return 0;
  memset(pagetable, 0, PGSIZE);
  return pagetable;
}

// The first process's one page, holding its code.
void uvmfirst(pagetable_t pagetable, uchar* src, uint sz) {
  if (sz >= PGSIZE) panic("uvmfirst: more than a page");
  char* mem = kalloc();
  memset(mem, 0, PGSIZE);
  mappages(pagetable, 0, PGSIZE, (uint64)mem, PTE_W | PTE_R | PTE_X | PTE_U);
  memmove(mem, src, sz);
}

// Frees the page-table pages; every leaf must already be unmapped.
static void freewalk(pagetable_t pagetable) {
  for (int i = 0; i < 512; i++) {
    pte_t pte = pagetable[i];
    if ((pte & PTE_V) && (pte & (PTE_R | PTE_W | PTE_X)) == 0) {
      freewalk((pagetable_t)PTE2PA(pte));
      pagetable[i] = 0;
    } else if (pte & PTE_V) {
      panic("freewalk: leaf");
    }
  }
  kfree((void*)pagetable);
}

void uvmfree(pagetable_t pagetable, uint64 sz) {
  if (sz > 0) uvmunmap(pagetable, 0, PGROUNDUP(sz) / PGSIZE, 1);
  freewalk(pagetable);
}

// Copies a parent's memory into a child's page table: pages and contents. Returns -1 (with
// nothing left mapped) when memory runs out.
int uvmcopy(pagetable_t old, pagetable_t new, uint64 sz) {
  uint64 i;
  for (i = 0; i < sz; i += PGSIZE) {
    pte_t* pte = walk(old, i, 0);
    if (pte == 0 || (*pte & PTE_V) == 0) panic("uvmcopy: not mapped");
    uint64 pa = PTE2PA(*pte);
    uint flags = PTE_FLAGS(*pte);
    char* mem = kalloc();
    if (mem == 0) goto err;
    memmove(mem, (char*)pa, PGSIZE);
    if (mappages(new, i, PGSIZE, (uint64)mem, flags) != 0) {
      kfree(mem);
      goto err;
    }
  }
  return 0;
err:
  uvmunmap(new, 0, i / PGSIZE, 1);
  return -1;
}

int copyout(pagetable_t pagetable, uint64 dstva, char* src, uint64 len) {
  while (len > 0) {
    uint64 va0 = PGROUNDDOWN(dstva);
    uint64 pa0 = walkaddr(pagetable, va0);
    if (pa0 == 0) return -1;
    uint64 n = PGSIZE - (dstva - va0);
    if (n > len) n = len;
    memmove((void*)(pa0 + (dstva - va0)), src, n);
    len -= n;
    src += n;
    dstva = va0 + PGSIZE;
  }
  return 0;
}

int copyin(pagetable_t pagetable, char* dst, uint64 srcva, uint64 len) {
  while (len > 0) {
    uint64 va0 = PGROUNDDOWN(srcva);
    uint64 pa0 = walkaddr(pagetable, va0);
    if (pa0 == 0) return -1;
    uint64 n = PGSIZE - (srcva - va0);
    if (n > len) n = len;
    memmove(dst, (void*)(pa0 + (srcva - va0)), n);
    len -= n;
    dst += n;
    srcva = va0 + PGSIZE;
  }
  return 0;
}
