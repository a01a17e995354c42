// switchyard's own xv6-compatible kernel: processes and CPUs, with xv6's layouts.

// A kernel thread's saved registers (swtch): ra and sp, then the callee-saved s0-s11.
struct context {
  uint64 ra;
  uint64 sp;
  uint64 s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
};

// One hart.
struct cpu {
  struct proc* proc;       // the process running here, or 0
  struct context context;  // the scheduler's thread; sched() switches here
  int noff;                // push_off() depth
  int intena;              // interrupts were on before the outermost push_off()
};

extern struct cpu cpus[NCPU];

// The user registers a trap saves, and what the trap path needs to get back into the kernel.
// One page per process; the offsets are those the trampoline relies on.
struct trapframe {
  uint64 kernel_satp;    // 0: the kernel's page table
  uint64 kernel_sp;      // 8: top of the process's kernel stack
  uint64 kernel_trap;    // 16: usertrap()
  uint64 epc;            // 24: the user pc
  uint64 kernel_hartid;  // 32: the hart's tp
  uint64 ra, sp, gp, tp, t0, t1, t2, s0, s1;
  uint64 a0, a1, a2, a3, a4, a5, a6, a7;
  uint64 s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
  uint64 t3, t4, t5, t6;
};

enum procstate { UNUSED, USED, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

struct proc {
  struct spinlock lock;

  // p->lock guards these:
  enum procstate state;
  void* chan;  // what it sleeps on, if SLEEPING
  int killed;  // it must exit when it next leaves the kernel
  int xstate;  // its exit status, for its parent's wait()
  int pid;

  // wait_lock guards this:
  struct proc* parent;

  // The process's own, no lock needed:
  uint64 kstack;
  uint64 sz;
  pagetable_t pagetable;
  struct trapframe* trapframe;
  struct context context;  // swtch() here to run the process
  struct file* ofile[NOFILE];
  struct inode* cwd;
  char name[16];
};
