// Mutual exclusion spin locks (kernel/spinlock.c).
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

void Kernel::initlock(spinlock* lk, const char* name) {
  lk->name = name;
  lk->locked = 0;
  lk->cpu = nullptr;
}

// Acquire the lock. Loops (spins) until the lock is acquired.
void Kernel::acquire(spinlock* lk) {
  const bool early = config_.bug == Bug::kAcquireBeforePushOff;
  // The window "acquire-before-push-off" needs: an interrupt due while acquire() begins with
  // interrupts on.
  if (sim_.intr_get() && sim_.interrupt_pending()) sim_.Mark("interrupt-due-at-acquire");
  if (!early) {
    push_off();  // disable interrupts to avoid deadlock.
    if (holding(lk)) panic("acquire");
  }
  CheckLockOrder(lk);
  // Another CPU may take the lock first: this is where locks are raced for. (At access
  // granularity the amoswap below is the point.)
  sim_.CoarsePoint();
  spinning_on_[cpuid()] = lk;
  // On RISC-V, the sync_lock_test_and_set turns into an atomic swap: amoswap.w.aq a5, a5, (s1).
  // A swap that finds the lock held leaves memory as it was: the simulator counts it as a failed
  // iteration of a spin-wait (sim/instrumentation.h).
  while (__sync_lock_test_and_set(&lk->locked, 1) != 0) sim_.CoarseSpin();
  // Tell the C compiler and the processor to not move loads or stores past this point.
  __sync_synchronize();
  spinning_on_[cpuid()] = nullptr;
  locks_held_[cpuid()] += 1;
  // Record info about lock acquisition for holding() and debugging.
  lk->cpu = mycpu();
  // The planted bug: interrupts go off only now; one taken just before ran its handler on this
  // CPU while the lock was held, and the handler may want the same lock.
  if (early) push_off();
}

// Release the lock.
void Kernel::release(spinlock* lk) {
  if (!holding(lk)) panic("release");
  lk->cpu = nullptr;
  // Tell the C compiler and the CPU to not move loads or stores past this point.
  __sync_synchronize();
  // Release the lock, equivalent to lk->locked = 0 (amoswap.w zero, zero, (s1)).
  __sync_lock_release(&lk->locked);
  locks_held_[cpuid()] -= 1;
  pop_off();
  sim_.CoarsePoint();
}

// Check whether this cpu is holding the lock. Interrupts must be off.
bool Kernel::holding(spinlock* lk) { return lk->locked && lk->cpu == mycpu(); }

// push_off/pop_off are like intr_off()/intr_on() except that they are matched: it takes two
// pop_off()s to undo two push_off()s. Also, if interrupts are initially off, then push_off,
// pop_off leaves them off.
void Kernel::push_off() {
  const int intr_before = sim_.intr_get();  // ghost: what the outermost pop_off() must give back
  bool old = sim_.intr_get();
  sim_.intr_off();
  // The planted bug "push-off-saves-after-off": the state is read once interrupts are off.
  if (config_.bug == Bug::kPushOffSavesAfterOff) old = sim_.intr_get();
  if (mycpu()->noff == 0) {
    mycpu()->intena = old;
    intr_before_push_off_[cpuid()] = intr_before;
  }
  mycpu()->noff += 1;
}

void Kernel::pop_off() {
  cpu* c = mycpu();
  if (sim_.intr_get()) panic("pop_off - interruptible");
  if (c->noff < 1) panic("pop_off");
  if (config_.bug == Bug::kPopOffEnablesEarly) {
    // The planted bug: interrupts come back on while noff still counts this nesting, so an
    // interrupt taken before the decrement runs its handler as if a lock were still held.
    if (c->noff == 1 && c->intena) sim_.intr_on();
    c->noff -= 1;
  } else {
    c->noff -= 1;
    if (c->noff == 0 && c->intena) {
      // The window "pop-off-enables-early" needs: an interrupt waiting for this very moment.
      if (sim_.interrupt_pending()) sim_.Mark("interrupt-waits-for-pop-off");
      sim_.intr_on();
    }
  }
  sim::Simulator::Ghost check;  // a contract check, not the kernel's work: never a point
  if (c->noff == 0) CheckPopOffRestored(sim_.intr_get());
}

}  // namespace switchyard::xv6
