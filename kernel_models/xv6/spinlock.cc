// Mutual exclusion spin locks (kernel/spinlock.c).
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

void Kernel::initlock(spinlock* lk, const char* name) {
  lk->name = name;
  lk->locked = false;
  lk->cpu = nullptr;
}

// Acquire the lock. Loops (spins) until the lock is acquired.
void Kernel::acquire(spinlock* lk) {
  push_off();  // disable interrupts to avoid deadlock.
  if (holding(lk)) panic("acquire");
  // Another CPU may take the lock first: this is where locks are raced for.
  sim_.Point();
  spinning_on_[cpuid()] = lk;
  while (lk->locked) sim_.Spin();
  spinning_on_[cpuid()] = nullptr;
  lk->locked = true;
  // Record info about lock acquisition for holding() and debugging.
  lk->cpu = mycpu();
}

// Release the lock.
void Kernel::release(spinlock* lk) {
  if (!holding(lk)) panic("release");
  lk->cpu = nullptr;
  lk->locked = false;
  pop_off();
  sim_.Point();
}

// Check whether this cpu is holding the lock. Interrupts must be off.
bool Kernel::holding(spinlock* lk) { return lk->locked && lk->cpu == mycpu(); }

// push_off/pop_off are like intr_off()/intr_on() except that they are matched: it takes two
// pop_off()s to undo two push_off()s. Also, if interrupts are initially off, then push_off,
// pop_off leaves them off.
void Kernel::push_off() {
  bool old = sim_.intr_get();
  sim_.intr_off();
  if (mycpu()->noff == 0) mycpu()->intena = old;
  mycpu()->noff += 1;
}

void Kernel::pop_off() {
  cpu* c = mycpu();
  if (sim_.intr_get()) panic("pop_off - interruptible");
  if (c->noff < 1) panic("pop_off");
  c->noff -= 1;
  if (c->noff == 0 && c->intena) sim_.intr_on();
}

}  // namespace switchyard::xv6
