// switchyard's own xv6-compatible kernel: the physical page allocator, a free list threaded
// through the free pages themselves.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "spinlock.h"
#include "riscv.h"
#include "defs.h"

extern char end[];  // the first free physical address (the platform's memory)

struct run {
  struct run* next;
};

struct {
  struct spinlock lock;
  struct run* freelist;
} kmem;

void kinit(void) {
  initlock(&kmem.lock, "kmem");
  for (char* p = (char*)PGROUNDUP((uint64)end); p + PGSIZE <= (char*)PHYSTOP; p += PGSIZE) {
    kfree(p);
  }
}

// Returns a page that kalloc() handed out.
void kfree(void* pa) {
  if (((uint64)pa % PGSIZE) != 0 || (char*)pa < end || (uint64)pa >= PHYSTOP) panic("kfree");
  memset(pa, 1, PGSIZE);  // junk, so that a dangling reference reads nonsense
  struct run* r = (struct run*)pa;
  acquire(&kmem.lock);
  r->next = kmem.freelist;
  kmem.freelist = r;
  release(&kmem.lock);
}

// One 4096-byte page, or 0 when none is left.
void* kalloc(void) {
  acquire(&kmem.lock);
  struct run* r = kmem.freelist;
  if (r) kmem.freelist = r->next;
  release(&kmem.lock);
  if (r) memset((char*)r, 5, PGSIZE);
  return (void*)r;
}
