// switchyard's own xv6-compatible kernel: spin locks, and interrupt disabling that nests.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "defs.h"

// Planted bugs of this file (proc.c lists them all); 0 is the correct kernel.
extern int xv6_planted_bug;
enum {
  BUG_RELEASE_KEEPS_OWNER = 4,
  BUG_RELEASE_POPS_BEFORE_UNLOCK = 6,
  BUG_DOUBLE_RELEASE = 7,
  BUG_PUSH_OFF_READS_CPU_EARLY = 8,
  BUG_PUSH_OFF_SAVES_AFTER_OFF = 11,
  BUG_POP_OFF_ENABLES_EARLY = 16,
  BUG_ACQUIRE_BEFORE_PUSH_OFF = 18,
};

void initlock(struct spinlock* lk, char* name) {
  lk->name = name;
  lk->locked = 0;
  lk->cpu = 0;
}

// Spins until the lock is ours. Interrupts stay off until the matching release, so that an
// interrupt handler on this CPU cannot spin on a lock its own thread holds.
void acquire(struct spinlock* lk) {
  if (xv6_planted_bug == BUG_ACQUIRE_BEFORE_PUSH_OFF) {
    while (__sync_lock_test_and_set(&lk->locked, 1) != 0) {
    }
    __sync_synchronize();
    lk->cpu = mycpu();
    push_off();
    return;
  }
  push_off();
  if (holding(lk)) panic("acquire");
  // An atomic swap (amoswap.w.aq on RISC-V).
  while (__sync_lock_test_and_set(&lk->locked, 1) != 0) {
  }
  // Nothing of the critical section may move above the swap.
  __sync_synchronize();
  lk->cpu = mycpu();
}

void release(struct spinlock* lk) {
  if (xv6_planted_bug != BUG_DOUBLE_RELEASE && !holding(lk)) panic("release");
  if (xv6_planted_bug != BUG_RELEASE_KEEPS_OWNER) lk->cpu = 0;
  // Nothing of the critical section may move below the store that frees the lock.
  __sync_synchronize();
  if (xv6_planted_bug == BUG_RELEASE_POPS_BEFORE_UNLOCK) {
    pop_off();
    __sync_lock_release(&lk->locked);
    return;
  }
  __sync_lock_release(&lk->locked);
  pop_off();
}

// This CPU holds the lock. Interrupts must be off.
int holding(struct spinlock* lk) { return lk->locked && lk->cpu == mycpu(); }

// Like intr_off()/intr_on(), but matched: two push_off()s need two pop_off()s, and interrupts
// come back on only if they were on before the first.
void push_off(void) {
  if (xv6_planted_bug == BUG_PUSH_OFF_SAVES_AFTER_OFF) intr_off();
  int old = intr_get();
  if (xv6_planted_bug == BUG_PUSH_OFF_READS_CPU_EARLY) {
    struct cpu* c = mycpu();
    intr_off();
    if (c->noff == 0) c->intena = old;
    c->noff += 1;
    return;
  }
  intr_off();
  if (mycpu()->noff == 0) mycpu()->intena = old;
  mycpu()->noff += 1;
}

void pop_off(void) {
  struct cpu* c = mycpu();
  if (intr_get()) panic("pop_off - interruptible");
  if (c->noff < 1) panic("pop_off");
  if (xv6_planted_bug == BUG_POP_OFF_ENABLES_EARLY) {
    if (c->noff == 1 && c->intena) intr_on();
    c->noff -= 1;
    return;
  }
  c->noff -= 1;
  if (c->noff == 0 && c->intena) intr_on();
}
