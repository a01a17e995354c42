// Traps: the timer and device interrupt paths of kernel/trap.c.
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

// The simulator delivers an interrupt on the current thread's stack with interrupts off; where
// it came from (user or kernel mode) decides the path, as stvec does.
void Kernel::Trap(int cpuid, int line) {
  // The hart saves the interrupted pc in sepc: the user pc, or somewhere in the kernel. The
  // hardware's work, not the kernel's: never a point.
  {
    sim::Simulator::Ghost hart;
    proc* p = cpus_[cpuid].proc;
    sepc_[cpuid] = user_mode_[cpuid] && p != nullptr ? user(p).pc : kKernelPc;
  }
  if (user_mode_[cpuid]) {
    usertrap_interrupt(line);
  } else {
    kerneltrap(line);
  }
}

// The interrupt half of usertrap(): handle an interrupt from user space.
void Kernel::usertrap_interrupt(int line) {
  user_mode_[cpuid()] = false;
  proc* p = myproc();
  int which_dev = devintr(line);
  if (killed(p)) exit(-1);
  // give up the CPU if this is a timer interrupt.
  if (which_dev == 2) yield();
  // usertrapret(): back to user mode; the simulator restores interrupts as sret does.
  CheckUserModeEntry(/*interrupts_on=*/true);
  user_mode_[cpuid()] = true;
}

// The system-call half of usertrap(): the process asked for a service.
void Kernel::usertrap_syscall(proc* p) {
  user_mode_[cpuid()] = false;
  // The window "usertrap-intr-on-early" needs: an interrupt that became due during the ecall.
  if (sim_.interrupt_pending()) sim_.Mark("interrupt-due-at-syscall-entry");
  // The planted bug: interrupts on while sepc still holds the user pc.
  if (config_.bug == Bug::kUsertrapIntrOnEarly) sim_.intr_on();
  // save user program counter.
  p->trapframe_epc = sepc_[cpuid()];
  if (killed(p)) exit(-1);
  // sepc points to the ecall instruction, but we want to return to the next instruction.
  p->trapframe_epc += 1;
  // an interrupt will change sepc, scause, and sstatus, so enable only now that we're done with
  // those registers.
  sim_.intr_on();
}

// return to user space
void Kernel::usertrapret() {
  // we're about to switch the destination of traps from kerneltrap() to usertrap(), so turn off
  // interrupts until we're back in user space, where usertrap() is correct.
  sim_.intr_off();
  user_mode_[cpuid()] = true;
  // set S Exception Program Counter to the saved user pc.
  sepc_[cpuid()] = myproc()->trapframe_epc;
  // sret: jump to sepc and set SIE from SPIE, in one instruction.
  proc* p = myproc();
  {
    sim::Simulator::Ghost hart;  // the hardware's work, not the kernel's
    user(p).pc = sepc_[cpuid()];
  }
  sim_.intr_on();
  sim::Simulator::Ghost check;  // contract checks, not the kernel's work: never points
  if (ghost().new_process) {
    ghost().new_process = false;
    CheckNewProcessEntry();
  }
  CheckUserModeEntry(sim_.intr_get());
}

// interrupts and exceptions from kernel code go here via kernelvec, on whatever the current
// kernel stack is.
void Kernel::kerneltrap(int line) {
  int sepc = sepc_[cpuid()];
  int which_dev = devintr(line);
  // give up the CPU if this is a timer interrupt.
  if (which_dev == 2 && myproc() != nullptr) yield();
  // the yield() may have caused some traps to occur, so restore trap registers for use by
  // kernelvec.S's sepc instruction.
  sepc_[cpuid()] = sepc;
}

void Kernel::clockintr() {
  if (cpuid() == 0) {
    acquire(&tickslock_);
    ticks_++;
    wakeup(&ticks_);
    release(&tickslock_);
  }
  // ask for the next timer interrupt: the simulator's periodic timer does this.
}

// check if it's an external interrupt or software interrupt, and handle it. returns 2 if timer
// interrupt, 1 if other device, 0 if not recognized.
int Kernel::devintr(int line) {
  if (line == sim::kTimerLine) {
    clockintr();
    return 2;
  }
  if (line == kDiskLine) {
    virtio_disk_intr();
    return 1;
  }
  return 0;
}

}  // namespace switchyard::xv6
