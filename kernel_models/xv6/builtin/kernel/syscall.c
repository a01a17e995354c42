// switchyard's own xv6-compatible kernel: system call dispatch.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "syscall.h"
#include "defs.h"

static uint64 argraw(int n) {
  struct proc* p = myproc();
  switch (n) {
    case 0:
      return p->trapframe->a0;
    case 1:
      return p->trapframe->a1;
    case 2:
      return p->trapframe->a2;
    case 3:
      return p->trapframe->a3;
    case 4:
      return p->trapframe->a4;
    case 5:
      return p->trapframe->a5;
  }
  panic("argraw");
}

void argint(int n, int* ip) { *ip = argraw(n); }
void argaddr(int n, uint64* ip) { *ip = argraw(n); }

extern uint64 sys_fork(void);
extern uint64 sys_exit(void);
extern uint64 sys_wait(void);
extern uint64 sys_kill(void);
extern uint64 sys_getpid(void);
extern uint64 sys_sleep(void);
extern uint64 sys_uptime(void);
// The platform's stand-ins for files: blocks of the disk through bio.c.
extern uint64 sys_read(void);
extern uint64 sys_write(void);

static uint64 (*syscalls[])(void) = {
    [SYS_fork] = sys_fork,     [SYS_exit] = sys_exit,     [SYS_wait] = sys_wait,
    [SYS_kill] = sys_kill,     [SYS_getpid] = sys_getpid, [SYS_sleep] = sys_sleep,
    [SYS_uptime] = sys_uptime, [SYS_read] = sys_read,     [SYS_write] = sys_write,
};

void syscall(void) {
  struct proc* p = myproc();
  int num = p->trapframe->a7;
  if (num > 0 && num < NELEM(syscalls) && syscalls[num]) {
    p->trapframe->a0 = syscalls[num]();
  } else {
    p->trapframe->a0 = -1;  // an unknown system call
  }
}
