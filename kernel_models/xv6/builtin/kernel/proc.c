// switchyard's own xv6-compatible kernel: processes, each CPU's scheduler, sleep and wakeup.
//
// Planted bugs (xv6_planted_bug, set by the harness for a run; 0 is the correct kernel):
//   1 scheduler-keeps-c-proc  the scheduler does not clear c->proc after a process gives the CPU
//                             back, so the CPU still names a process that runs elsewhere
//   2 forkret-keeps-lock      a new process's first return to user mode keeps p->lock
//   3 wakeup-without-lock     wakeup() tests a sleeper's state before taking its p->lock: a
//                             wakeup that races sleep() is lost
//   4 release-keeps-owner     release() does not clear lk->cpu (spinlock.c): holding() on the
//                             old owner says yes while another CPU takes the lock
//   5 exit-wait-lock-under-p-lock
//                             exit() takes its p->lock before wait_lock, against the order
//                             wait() relies on
//   6 release-pops-before-unlock
//                             release() calls pop_off() before it frees the lock (spinlock.c):
//                             interrupts come back on while the lock is still held
//   7 double-release          release() does not check holding() (spinlock.c), and wait()
//                             releases a child's p->lock a second time when the child is not a
//                             zombie
//   8 push-off-reads-cpu-early
//                             push_off() reads mycpu() before intr_off() (spinlock.c): an
//                             interrupt in between can move the thread to another CPU, and it
//                             updates the first CPU's noff and intena
//   9 kill-checks-pid-unlocked
//                             kill() compares p->pid before it takes p->lock and does not compare
//                             again: the slot can be freed and reused by another process between
//                             the two, and kill() then kills that one
//  10 sched-forgets-intena    sched() does not give the thread back its intena after swtch(): it
//                             runs on with the interrupt state of the CPU it resumes on
//  11 push-off-saves-after-off
//                             push_off() reads the interrupt state after intr_off() (spinlock.c),
//                             so the outermost pop_off() never turns interrupts back on
//  14 sched-releases-early    sched() releases p->lock before swtch(): another CPU's scheduler
//                             runs the process while this CPU is still on its kernel stack
//  15 scheduler-no-interrupts the scheduler never turns interrupts on, not even for wfi: with
//                             every process waiting for the disk or for ticks, no CPU takes the
//                             interrupt
//  16 pop-off-enables-early   pop_off() turns interrupts on before it decrements noff
//                             (spinlock.c): an interrupt in between yields with noff == 2
//  17 usertrap-intr-on-early  usertrap() turns interrupts on before it saves sepc (trap.c): an
//                             interrupt in between leaves the kernel's pc there, and the system
//                             call returns to it
//  18 acquire-before-push-off acquire() takes the lock before push_off() (spinlock.c): an
//                             interrupt in between runs with the lock held and interrupts on
//  19 fork-runnable-before-program
//                             fork() makes the child RUNNABLE and releases its lock before it
//                             copies the parent's memory and registers: another CPU runs the
//                             child with its trapframe not yet written
//  20 swtch-forgets-s11       swtch.S does not save s11 (a word in swtch.S, not xv6_planted_bug:
//                             swtch.S runs only in the emulator, which planting it turns on)
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "defs.h"

enum {
  BUG_SCHEDULER_KEEPS_C_PROC = 1,
  BUG_FORKRET_KEEPS_LOCK = 2,
  BUG_WAKEUP_WITHOUT_LOCK = 3,
  BUG_EXIT_WAIT_LOCK_UNDER_P_LOCK = 5,
  BUG_DOUBLE_RELEASE = 7,
  BUG_KILL_CHECKS_PID_UNLOCKED = 9,
  BUG_SCHED_FORGETS_INTENA = 10,
  BUG_SCHED_RELEASES_EARLY = 14,
  BUG_SCHEDULER_NO_INTERRUPTS = 15,
  BUG_FORK_RUNNABLE_BEFORE_PROGRAM = 19,
};
int xv6_planted_bug;

struct cpu cpus[NCPU];
struct proc proc[NPROC];
struct proc* initproc;

int nextpid = 1;
struct spinlock pid_lock;

// wait_lock orders a parent's wait() against its children's exit(), so that no wakeup of a
// parent is lost; take it before any p->lock.
struct spinlock wait_lock;

extern char trampoline[];  // the trampoline page
void forkret(void);
static void freeproc(struct proc* p);

void procinit(void) {
  initlock(&pid_lock, "nextpid");
  initlock(&wait_lock, "wait_lock");
  for (struct proc* p = proc; p < &proc[NPROC]; p++) {
    initlock(&p->lock, "proc");
    p->state = UNUSED;
    p->kstack = KSTACK((int)(p - proc));
  }
}

// The hart's id. Interrupts must be off, or the thread could move to another hart meanwhile.
int cpuid(void) { return r_tp(); }

// This hart's struct cpu. Interrupts must be off.
struct cpu* mycpu(void) { return &cpus[cpuid()]; }

// The running process, or 0.
struct proc* myproc(void) {
  push_off();
  struct proc* p = mycpu()->proc;
  pop_off();
  return p;
}

static int allocpid(void) {
  acquire(&pid_lock);
  int pid = nextpid;
  nextpid = nextpid + 1;
  release(&pid_lock);
  return pid;
}

// An UNUSED slot made ready to run in the kernel (its thread starts in forkret), returned with
// p->lock held; 0 when none is free or memory runs out.
static struct proc* allocproc(void) {
  struct proc* p;
  for (p = proc; p < &proc[NPROC]; p++) {
    acquire(&p->lock);
    if (p->state == UNUSED) goto found;
    release(&p->lock);
  }
  return 0;

found:
  p->pid = allocpid();
  p->state = USED;
  if ((p->trapframe = (struct trapframe*)kalloc()) == 0) {
    freeproc(p);
    release(&p->lock);
    return 0;
  }
  p->pagetable = proc_pagetable(p);
  if (p->pagetable == 0) {
    freeproc(p);
    release(&p->lock);
    return 0;
  }
  memset(&p->context, 0, sizeof(p->context));
  p->context.ra = (uint64)forkret;
  p->context.sp = p->kstack + PGSIZE;
  return p;
}

// Frees a slot and everything hanging from it. p->lock must be held.
static void freeproc(struct proc* p) {
  if (p->trapframe) kfree((void*)p->trapframe);
  p->trapframe = 0;
  if (p->pagetable) proc_freepagetable(p->pagetable, p->sz);
  p->pagetable = 0;
  p->sz = 0;
  p->pid = 0;
  p->parent = 0;
  p->name[0] = 0;
  p->chan = 0;
  p->killed = 0;
  p->xstate = 0;
  p->state = UNUSED;
}

// A user page table with the trampoline and the trapframe mapped and no user memory.
pagetable_t proc_pagetable(struct proc* p) {
  pagetable_t pagetable = uvmcreate();
  if (pagetable == 0) return 0;
  if (mappages(pagetable, TRAMPOLINE, PGSIZE, (uint64)trampoline, PTE_R | PTE_X) < 0) {
    uvmfree(pagetable, 0);
    return 0;
  }
  if (mappages(pagetable, TRAPFRAME, PGSIZE, (uint64)(p->trapframe), PTE_R | PTE_W) < 0) {
    uvmunmap(pagetable, TRAMPOLINE, 1, 0);
    uvmfree(pagetable, 0);
    return 0;
  }
  return pagetable;
}

void proc_freepagetable(pagetable_t pagetable, uint64 sz) {
  uvmunmap(pagetable, TRAMPOLINE, 1, 0);
  uvmunmap(pagetable, TRAPFRAME, 1, 0);
  uvmfree(pagetable, sz);
}

// The first process's code: never executed natively (the platform runs the user programs), but
// it fills the first user page as a real init would.
static uchar initcode[] = {0x73, 0x00, 0x00, 0x00};

void userinit(void) {
  struct proc* p = allocproc();
  initproc = p;
  uvmfirst(p->pagetable, initcode, sizeof(initcode));
  p->sz = PGSIZE;
  p->trapframe->epc = 0;
  p->trapframe->sp = PGSIZE;
  safestrcpy(p->name, "initcode", sizeof(p->name));
  p->state = RUNNABLE;
  release(&p->lock);
}

// A copy of the calling process that returns 0 from the same fork() call.
int fork(void) {
  struct proc* p = myproc();
  struct proc* np = allocproc();
  if (np == 0) return -1;
  if (xv6_planted_bug == BUG_FORK_RUNNABLE_BEFORE_PROGRAM) {
    // Published before it is complete: once np->lock is released another CPU may run the
    // child, whose trapframe is still the fresh page allocproc() gave it.
    int pid = np->pid;
    np->state = RUNNABLE;
    release(&np->lock);
    acquire(&wait_lock);
    np->parent = p;
    release(&wait_lock);
    if (uvmcopy(p->pagetable, np->pagetable, p->sz) < 0) return -1;
    np->sz = p->sz;
    *(np->trapframe) = *(p->trapframe);
    np->trapframe->a0 = 0;
    safestrcpy(np->name, p->name, sizeof(p->name));
    return pid;
  }
  if (uvmcopy(p->pagetable, np->pagetable, p->sz) < 0) {
    freeproc(np);
    release(&np->lock);
    return -1;
  }
  np->sz = p->sz;
  *(np->trapframe) = *(p->trapframe);
  np->trapframe->a0 = 0;
  safestrcpy(np->name, p->name, sizeof(p->name));
  int pid = np->pid;
  release(&np->lock);

  acquire(&wait_lock);
  np->parent = p;
  release(&wait_lock);

  acquire(&np->lock);
  np->state = RUNNABLE;
  release(&np->lock);
  return pid;
}

// Gives p's children to init. Caller holds wait_lock.
static void reparent(struct proc* p) {
  for (struct proc* pp = proc; pp < &proc[NPROC]; pp++) {
    if (pp->parent == p) {
      pp->parent = initproc;
      wakeup(initproc);
    }
  }
}

// Ends the calling process; it stays a ZOMBIE until its parent's wait().
void exit(int status) {
  struct proc* p = myproc();
  if (p == initproc) panic("init exiting");

  if (xv6_planted_bug == BUG_EXIT_WAIT_LOCK_UNDER_P_LOCK) acquire(&p->lock);
  acquire(&wait_lock);
  reparent(p);
  wakeup(p->parent);  // the parent may be sleeping in wait()
  if (xv6_planted_bug != BUG_EXIT_WAIT_LOCK_UNDER_P_LOCK) acquire(&p->lock);
  p->xstate = status;
  p->state = ZOMBIE;
  release(&wait_lock);

  sched();
  panic("zombie exit");
}

// Waits for a child to exit; copies its status to user address addr (unless 0) and returns its
// pid, or -1 when there is no child.
int wait(uint64 addr) {
  struct proc* p = myproc();
  acquire(&wait_lock);
  for (;;) {
    int havekids = 0;
    for (struct proc* pp = proc; pp < &proc[NPROC]; pp++) {
      if (pp->parent != p) continue;
      acquire(&pp->lock);  // so that it is not still in exit() or swtch()
      havekids = 1;
      if (pp->state == ZOMBIE) {
        int pid = pp->pid;
        if (addr != 0 &&
            copyout(p->pagetable, addr, (char*)&pp->xstate, sizeof(pp->xstate)) < 0) {
          release(&pp->lock);
          release(&wait_lock);
          return -1;
        }
        freeproc(pp);
        release(&pp->lock);
        release(&wait_lock);
        return pid;
      }
      release(&pp->lock);
      if (xv6_planted_bug == BUG_DOUBLE_RELEASE) release(&pp->lock);
    }
    if (!havekids || killed(p)) {
      release(&wait_lock);
      return -1;
    }
    sleep(p, &wait_lock);
  }
}

// Each CPU's scheduler thread: runs RUNNABLE processes in turn, forever. A process gives the
// CPU back through sched(), with its p->lock held. A CPU with nothing to run waits in wfi for an
// interrupt instead of scanning proc[] again.
void scheduler(void) {
  struct cpu* c = mycpu();
  c->proc = 0;
  for (;;) {
    // The process that ran last may have left interrupts off: a device must be able to
    // interrupt this CPU, or with every process waiting for one nothing would ever run again.
    // Off again for the scan, so that an interrupt cannot come between the scan and wfi.
    if (xv6_planted_bug != BUG_SCHEDULER_NO_INTERRUPTS) intr_on();
    intr_off();
    int found = 0;
    for (struct proc* p = proc; p < &proc[NPROC]; p++) {
      acquire(&p->lock);
      if (p->state == RUNNABLE) {
        p->state = RUNNING;
        c->proc = p;
        swtch(&c->context, &p->context);
        // The process let go of p->lock before its swtch() back: take it again for the
        // release below.
        if (xv6_planted_bug == BUG_SCHED_RELEASES_EARLY) acquire(&p->lock);
        // Back: the process changed its state before it gave the CPU back.
        if (xv6_planted_bug != BUG_SCHEDULER_KEEPS_C_PROC) c->proc = 0;
        found = 1;
      }
      release(&p->lock);
    }
    if (found == 0) {
      // Nothing to run: wait for an interrupt (one pending already ends the wait at once).
      if (xv6_planted_bug != BUG_SCHEDULER_NO_INTERRUPTS) intr_on();
      asm volatile("wfi");
    }
  }
}

// Switches to this CPU's scheduler. The caller holds exactly p->lock and has changed
// p->state. intena belongs to this thread, not the CPU: it is saved and restored around the
// switch.
void sched(void) {
  struct proc* p = myproc();
  if (!holding(&p->lock)) panic("sched p->lock");
  if (mycpu()->noff != 1) panic("sched locks");
  if (p->state == RUNNING) panic("sched running");
  if (intr_get()) panic("sched interruptible");
  int intena = mycpu()->intena;
  if (xv6_planted_bug == BUG_SCHED_RELEASES_EARLY) release(&p->lock);
  swtch(&p->context, &mycpu()->context);
  if (xv6_planted_bug != BUG_SCHED_FORGETS_INTENA) mycpu()->intena = intena;
}

// Gives up the CPU for one round.
void yield(void) {
  struct proc* p = myproc();
  acquire(&p->lock);
  p->state = RUNNABLE;
  sched();
  release(&p->lock);
}

// A new process's first kernel code: the scheduler switched here holding p->lock.
void forkret(void) {
  static int first = 1;
  if (xv6_planted_bug != BUG_FORKRET_KEEPS_LOCK) release(&myproc()->lock);
  if (first) first = 0;  // (xv6 initialises the file system here, in a process)
  usertrapret();
}

// Releases lk and sleeps on chan atomically; takes lk again when woken.
void sleep(void* chan, struct spinlock* lk) {
  struct proc* p = myproc();
  // Holding p->lock, no wakeup(chan) can slip in between releasing lk and SLEEPING.
  acquire(&p->lock);
  release(lk);
  p->chan = chan;
  p->state = SLEEPING;
  sched();
  p->chan = 0;
  release(&p->lock);
  acquire(lk);
}

// Wakes every process sleeping on chan. Must be called without any p->lock.
void wakeup(void* chan) {
  for (struct proc* p = proc; p < &proc[NPROC]; p++) {
    if (p == myproc()) continue;
    if (xv6_planted_bug == BUG_WAKEUP_WITHOUT_LOCK) {
      if (p->state == SLEEPING && p->chan == chan) {
        acquire(&p->lock);
        p->state = RUNNABLE;
        release(&p->lock);
      }
      continue;
    }
    acquire(&p->lock);
    if (p->state == SLEEPING && p->chan == chan) p->state = RUNNABLE;
    release(&p->lock);
  }
}

// Marks the process with this pid killed; it exits when it next leaves the kernel.
int kill(int pid) {
  for (struct proc* p = proc; p < &proc[NPROC]; p++) {
    if (xv6_planted_bug == BUG_KILL_CHECKS_PID_UNLOCKED) {
      if (p->pid != pid) continue;
      acquire(&p->lock);
      p->killed = 1;
      if (p->state == SLEEPING) p->state = RUNNABLE;
      release(&p->lock);
      return 0;
    }
    acquire(&p->lock);
    if (p->pid == pid) {
      p->killed = 1;
      if (p->state == SLEEPING) p->state = RUNNABLE;  // to notice, it must run
      release(&p->lock);
      return 0;
    }
    release(&p->lock);
  }
  return -1;
}

void setkilled(struct proc* p) {
  acquire(&p->lock);
  p->killed = 1;
  release(&p->lock);
}

int killed(struct proc* p) {
  acquire(&p->lock);
  int k = p->killed;
  release(&p->lock);
  return k;
}
