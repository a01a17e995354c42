// switchyard's own xv6-compatible kernel: traps from user mode and from the kernel, and the
// timer's tick.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "defs.h"

// Planted bugs of this file (proc.c lists them all); 0 is the correct kernel.
extern int xv6_planted_bug;
enum { BUG_USERTRAP_INTR_ON_EARLY = 17 };

struct spinlock tickslock;
uint ticks;

extern char trampoline[], uservec[], userret[];
void kernelvec(void);

void trapinit(void) { initlock(&tickslock, "time"); }

// Traps in the kernel go to kernelvec.
void trapinithart(void) { w_stvec((uint64)kernelvec); }

// A trap from user mode: a system call, an interrupt or an exception. uservec switched to the
// kernel's stack and page table and called here.
void usertrap(void) {
  int which_dev = 0;
  if ((r_sstatus() & SSTATUS_SPP) != 0) panic("usertrap: not from user mode");
  w_stvec((uint64)kernelvec);  // we are in the kernel now
  struct proc* p = myproc();
  if (xv6_planted_bug == BUG_USERTRAP_INTR_ON_EARLY && r_scause() == 8) intr_on();
  p->trapframe->epc = r_sepc();
  if (r_scause() == 8) {
    if (killed(p)) exit(-1);
    p->trapframe->epc += 4;  // return past the ecall
    intr_on();  // sepc, scause and sstatus are saved: interrupts may come now
    syscall();
  } else if ((which_dev = devintr()) != 0) {
    // a device or the timer
  } else {
    setkilled(p);  // an exception: the process dies
  }
  if (killed(p)) exit(-1);
  if (which_dev == 2) yield();  // the timer: give up the CPU
  usertrapret();
}

// Returns to user mode through the trampoline.
void usertrapret(void) {
  struct proc* p = myproc();
  // Traps go to uservec from here on, so no interrupt may come until we are in user mode.
  intr_off();
  w_stvec(TRAMPOLINE + (uservec - trampoline));
  p->trapframe->kernel_satp = r_satp();
  p->trapframe->kernel_sp = p->kstack + PGSIZE;
  p->trapframe->kernel_trap = (uint64)usertrap;
  p->trapframe->kernel_hartid = r_tp();
  uint64 x = r_sstatus();
  x &= ~SSTATUS_SPP;  // sret goes to user mode
  x |= SSTATUS_SPIE;  // with interrupts on
  w_sstatus(x);
  w_sepc(p->trapframe->epc);
  uint64 satp = MAKE_SATP(p->pagetable);
  uint64 trampoline_userret = TRAMPOLINE + (userret - trampoline);
  ((void (*)(uint64))trampoline_userret)(satp);
}

// An interrupt in the kernel: kernelvec saved the registers on the current stack.
void kerneltrap(void) {
  uint64 sepc = r_sepc();
  uint64 sstatus = r_sstatus();
  if ((sstatus & SSTATUS_SPP) == 0) panic("kerneltrap: not from supervisor mode");
  if (intr_get() != 0) panic("kerneltrap: interrupts enabled");
  int which_dev = devintr();
  if (which_dev == 0) panic("kerneltrap");
  if (which_dev == 2 && myproc() != 0 && myproc()->state == RUNNING) yield();
  // yield() may have run other traps: restore what sret uses.
  w_sepc(sepc);
  w_sstatus(sstatus);
}

void clockintr(void) {
  acquire(&tickslock);
  ticks++;
  wakeup(&ticks);
  release(&tickslock);
}

// 2 for the timer, 1 for another device, 0 for anything else.
int devintr(void) {
  uint64 scause = r_scause();
  if (scause == 0x8000000000000001L) {
    // The timer, forwarded by machine mode as a software interrupt.
    if (cpuid() == 0) clockintr();
    w_sip(r_sip() & ~2);
    return 2;
  }
  if (scause == 0x8000000000000009L) {
    // An external interrupt, through the PLIC: the disk's completion.
    int irq = plic_claim();
    if (irq == VIRTIO0_IRQ) virtio_disk_intr();
    if (irq) plic_complete(irq);
    return 1;
  }
  return 0;
}
