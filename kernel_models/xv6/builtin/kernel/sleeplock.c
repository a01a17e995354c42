// switchyard's own xv6-compatible kernel: locks held across sleeps (a disk buffer's, say).
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "proc.h"
#include "defs.h"

void initsleeplock(struct sleeplock* lk, char* name) {
  initlock(&lk->lk, "sleep lock");
  lk->name = name;
  lk->locked = 0;
  lk->pid = 0;
}

void acquiresleep(struct sleeplock* lk) {
  acquire(&lk->lk);
  while (lk->locked) sleep(lk, &lk->lk);
  lk->locked = 1;
  lk->pid = myproc()->pid;
  release(&lk->lk);
}

void releasesleep(struct sleeplock* lk) {
  acquire(&lk->lk);
  lk->locked = 0;
  lk->pid = 0;
  wakeup(lk);
  release(&lk->lk);
}

int holdingsleep(struct sleeplock* lk) {
  acquire(&lk->lk);
  int r = lk->locked && (lk->pid == myproc()->pid);
  release(&lk->lk);
  return r;
}
