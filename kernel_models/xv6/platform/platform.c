// The xv6-riscv platform: the hardware and the parts of xv6 outside scheduling, for a tree's own
// proc.c, spinlock.c, sleeplock.c, kalloc.c, vm.c, trap.c, syscall.c, sysproc.c and bio.c running
// natively under the simulator (README.md in this directory). Compiled with the tree's headers
// (types.h, param.h, spinlock.h, proc.h, defs.h, syscall.h) and switchyard's riscv.h and
// memlayout.h, WITHOUT instrumentation: this file is the machine, not code under test.
//
// What it maps:
//   - the CSRs (riscv.h) onto per-vCPU registers here, with a point per access while interrupts
//     are on; tp onto the vCPU id; SIE onto the vCPU's interrupt flag;
//   - swtch onto sy_swtch: struct context's ra and sp are sy_context's entry and token, so a
//     context allocproc made (ra = forkret) starts a new kernel thread in forkret;
//   - the trampoline: trap.c's usertrapret jumps to TRAMPOLINE + (userret - trampoline), where the
//     host maps a page (kernel_models/xv6/tree.cc) whose userret slot jumps to xv6_userret below:
//     sret into the simulated user program. A trap from user mode (an ecall, or an interrupt
//     while the program runs) saves what uservec saves and calls the tree's usertrap on an empty
//     kernel stack (sy_reenter), as uservec does;
//   - timer interrupts (line 0) into the tree's usertrap or kerneltrap with the tree's timer
//     scause (XV6_TIMER_SCAUSE: 0x8000000000000001 for trees whose machine-mode timervec raises a
//     software interrupt, 0x8000000000000005 for trees with Sstc's stimecmp);
//   - panic onto sy_panic (a violation "panic" with the message and the tree's file:line);
//   - the disk onto a device with a drawn latency whose completion interrupt goes through the
//     tree's devintr() into virtio_disk_intr() here, which wakes the tree's sleepers.
// What it stands in for: physical memory (`end`, at KERNBASE, which the host maps; kalloc.c hands
// out its pages), the kernel page table (vm.c's user page-table code runs; kvminit does not,
// kernel threads run on the simulator's stacks; older trees' procinit maps kernel stacks into an
// empty one), the file system and files (namei and friends return a placeholder inode; read and
// write go to disk blocks through the tree's bio.c), the console (printf formats nothing), the
// PLIC, virtio's descriptor rings, and string.c (memset, memmove and friends here are one ranged
// access each instead of a point per byte).
// The user programs: pid 1 forks children, waits for each and checks its exit status; each
// child does a decider-chosen mix of computing, sleep, kill of any pid, getpid, read and write
// of a disk block, and fork, then exits with a status of its own.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "buf.h"
#include "proc.h"
#include "defs.h"
#include "syscall.h"
#include "sy_platform.h"

// The pc a trap from the kernel leaves in sepc: an address in the kernel's text (its first page,
// below etext), which no user program's pc can be.
#define XV6_KERNEL_PC (KERNBASE + 0x800L)

// The user programs' options: switchyard's --children, --program_length, --depth, --max_forks,
// --compute_max, --disk_latency_max, --sleep_ticks_max and which actions programs may draw
// (--fork, --disk, --sleep_ticks, --kill), as the C++ model's workload has them. The host writes
// them before every run (kernel_models/xv6/tree.h: TreeWorkload, the same layout; it checks
// xv6_workload_size).
struct xv6_workload {
  int children;          // processes init forks
  int program_length;    // most actions in a child's program
  int depth;             // how deep forks nest below init's children
  int max_forks;         // forks in the whole run
  int compute_max;       // most user instructions in one compute action
  int disk_latency_max;  // most ticks a disk request takes
  int sleep_ticks_max;   // most ticks one sleep() asks for
  int fork, disk, sleep_ticks, kill;  // may programs draw them
} xv6_workload = {3, 6, 2, 12, 8, 40, 2, 1, 1, 1, 1};
const unsigned long xv6_workload_size = sizeof xv6_workload;

#ifndef XV6_TIMER_SCAUSE
#define XV6_TIMER_SCAUSE 0x8000000000000001L
#endif

extern struct proc proc[NPROC];
extern struct cpu cpus[NCPU];

// ---- Memory the tree expects from its linker script and trampoline.S ----

// Physical memory, which the host maps at KERNBASE (kernel_models/xv6/tree.cc), laid out as
// xv6's kernel.ld lays out the kernel: its first page is the kernel's and holds trampoline.S's
// page (uservec at offset 0, userret at 64), and kalloc.c's `end`, where its free pages start,
// follows. So the physical address a tree maps at TRAMPOLINE is in [KERNBASE, PHYSTOP), as in
// xv6: cow labs index their page counts by every physical address they map. These are absolute
// symbols. The module is linked with them in a dynamic list, so that each reference goes through
// the GOT and the loader fills in the absolute address (glibc does not add the load address to
// an SHN_ABS symbol); a reference the linker resolved inside the module would be relocated by
// the load address like any other.
// The kernel's text ends (`etext`) where `end` begins: kvminit() maps [KERNBASE, etext) as text
// and [etext, PHYSTOP) as data, as xv6 does.
__asm__(
    ".globl trampoline\n.globl uservec\n.globl userret\n.globl end\n.globl etext\n"
    ".set trampoline, 0x40000000\n.set uservec, 0x40000000\n.set userret, 0x40000040\n"
    ".set end, 0x40001000\n.set etext, 0x40001000\n");
// Also fails when a header of the tree defines KERNBASE or PHYSTOP again after memlayout.h (a cow
// lab's defs.h, for an array it declares there): its memory is not the platform's.
_Static_assert(KERNBASE == 0x40000000L && PHYSTOP == KERNBASE + XV6_PHYS_PAGES * 4096L,
               "a header of the tree defines KERNBASE or PHYSTOP again (memlayout.h is the "
               "platform's, whose physical memory is XV6_PHYS_PAGES pages at 0x40000000)");
extern char end[];
// For the host: where to map physical memory, and where the module's code sees `end`.
const uint64 xv6_phys_base = KERNBASE;
const uint64 xv6_phys_size = PHYSTOP - KERNBASE;
char* xv6_end(void) { return end; }
void kernelvec(void) {}
void timervec(void) {}

// ---- The harts' registers ----

struct hart {
  uint64 sstatus;  // SPP and SPIE; SIE is the vCPU's own flag (sy_intr_*)
  uint64 sepc, scause, stval, stvec, sip, sie, satp, stimecmp;
  int user;  // running the user program
};
static struct hart harts[NCPU];

unsigned long xv6_time(void) {
  sy_cpu_state_point(0);
  return sy_now();
}

static uint64* csr(struct hart* h, int number) {
  switch (number) {
    case XV6_CSR_SEPC:
      return &h->sepc;
    case XV6_CSR_SCAUSE:
      return &h->scause;
    case XV6_CSR_STVAL:
      return &h->stval;
    case XV6_CSR_STVEC:
      return &h->stvec;
    case XV6_CSR_SIP:
      return &h->sip;
    case XV6_CSR_SIE:
      return &h->sie;
    case XV6_CSR_SATP:
      return &h->satp;
    case XV6_CSR_STIMECMP:
      return &h->stimecmp;
    default:
      return 0;  // machine mode: start.c is not compiled
  }
}

unsigned long xv6_csr_read(int number) {
  if (number == XV6_CSR_SSTATUS) {
    const int on = sy_intr_get();  // the point
    return harts[sy_cpu_state_point(0)].sstatus | (on ? SSTATUS_SIE : 0);
  }
  const int cpu = sy_cpu_state_point(0);
  uint64* r = csr(&harts[cpu], number);
  return r != 0 ? *r : 0;
}

void xv6_csr_write(int number, unsigned long value) {
  if (number == XV6_CSR_SSTATUS) {
    const int cpu = sy_cpu_state_point(1);
    harts[cpu].sstatus = value & (SSTATUS_SPP | SSTATUS_SPIE);
    if (value & SSTATUS_SIE) {
      sy_intr_on();
    } else {
      sy_intr_off();
    }
    return;
  }
  const int cpu = sy_cpu_state_point(1);
  uint64* r = csr(&harts[cpu], number);
  if (r != 0) *r = value;
}

// ---- swtch.S ----

// Set by the host before the tree's initialisation runs: told, on the running vCPU, before each
// switch, so that the contracts know which kernel thread runs where without reading c->proc
// (kernel_models/xv6/lock_contracts.h). `starts`: `new` was never saved by a switch, so it starts
// a new thread (allocproc's ra = forkret; sim/platform.h's SY_SAVED).
void (*xv6_swtch_hook)(struct context* old, struct context* new, int starts);

void swtch(struct context* old, struct context* new) {
  if (xv6_swtch_hook != 0) {
    xv6_swtch_hook(old, new, ((struct sy_context*)new)->entry != SY_SAVED);
  }
  sy_swtch((struct sy_context*)old, (struct sy_context*)new);
}

// ---- printf.c, console, PLIC, devices ----

// The violation names panic()'s caller, the tree's code that gave up.
void panic(char* s) { sy_panic_at(s, __builtin_return_address(0)); }

// Formats nothing: the console is outside scheduling. Declared by defs.h as the tree declares it.
#ifndef XV6_PRINTF_VOID
int printf(char* fmt, ...) {
  (void)fmt;
  return 0;
}
#else
void printf(char* fmt, ...) { (void)fmt; }
#endif

// The traps lab adds backtrace() to printf.c, which the platform stands in for (sys_sleep calls
// it). Weak: a tree that defines it in a compiled file keeps its own.
__attribute__((weak)) void backtrace(void) {}

void consoleinit(void) {}
void uartintr(void) {}
void plicinit(void) {}
void plicinithart(void) {}

// ---- The disk: virtio_disk.c's protocol, without its descriptor rings ----
//
// virtio_disk_rw() queues the request under the driver's lock and sleeps on the buffer until the
// device is done, as the tree's own driver does (and sleeps on the queue when it is full). The
// device finishes each request after a drawn latency and raises VIRTIO0_IRQ; a CPU with
// interrupts on takes it into the tree's devintr(), whose plic_claim() names the disk, and
// virtio_disk_intr() moves the data under the same lock, clears b->disk and calls the tree's
// wakeup(b). Accesses to b->disk and b->data here are points, as the driver's would be.
//
// The disk holds one word per block (the first 8 bytes; the rest reads as zeros) for blocks below
// XV6_DISK_BLOCKS. Blocks from XV6_FILL_BLOCK on read as zeros at once, without a request: in some
// runs pid 1 reads NBUF of them first, so that the blocks the children use recycle buffers.
#define XV6_DISK_BLOCKS 2
#define XV6_FILL_BLOCK 1000
#define XV6_DISK_QUEUE 8
// What the blocks hold before anybody writes: not the zeros a recycled buffer holds, so that a
// buffer recycled without being read (b->valid left set) shows.
#define XV6_DISK_FIRST_WORD 1000001
static struct {
  struct spinlock lock;  // the driver's (disk.vdisk_lock in xv6)
  struct buf* request[XV6_DISK_QUEUE];  // in flight, or 0
  char write[XV6_DISK_QUEUE];
  char done[XV6_DISK_QUEUE];  // the device finished; the interrupt has not yet been handled
  uint64 word[XV6_DISK_BLOCKS];
} disk = {.word = {XV6_DISK_FIRST_WORD, XV6_DISK_FIRST_WORD + 1}};

void __tsan_read_range(const void* address, unsigned long size);
void __tsan_write_range(const void* address, unsigned long size);

// The device side (sy_after): outside any thread.
static void disk_finished(void* slot) {
  disk.done[(long)slot] = 1;
  sy_raise(VIRTIO0_IRQ);
}

void virtio_disk_rw(struct buf* b, int write) {
  if (b->blockno >= XV6_FILL_BLOCK && !write) {
    memset(b->data, 0, BSIZE);
    return;
  }
  acquire(&disk.lock);
  int slot = -1;
  for (;;) {
    for (int i = 0; i < XV6_DISK_QUEUE && slot < 0; i++) {
      if (disk.request[i] == 0) slot = i;
    }
    if (slot >= 0) break;
    sleep(&disk.request[0], &disk.lock);
  }
  disk.request[slot] = b;
  disk.write[slot] = (char)write;
  __tsan_write_range(&b->disk, sizeof b->disk);
  b->disk = 1;
  sy_after(1 + sy_choose("xv6-disk-latency", (uint64)xv6_workload.disk_latency_max), disk_finished,
           (void*)(long)slot);
  for (;;) {
    __tsan_read_range(&b->disk, sizeof b->disk);
    if (b->disk != 1) break;
    sleep(b, &disk.lock);
  }
  release(&disk.lock);
}

int plic_claim(void) {
  for (int i = 0; i < XV6_DISK_QUEUE; i++) {
    if (disk.done[i]) return VIRTIO0_IRQ;
  }
  return 0;
}

void plic_complete(int irq) { (void)irq; }

void virtio_disk_intr(void) {
  acquire(&disk.lock);
  for (int i = 0; i < XV6_DISK_QUEUE; i++) {
    if (!disk.done[i]) continue;
    struct buf* b = disk.request[i];
    uint64* word = b->blockno < XV6_DISK_BLOCKS ? &disk.word[b->blockno] : 0;
    if (disk.write[i]) {
      __tsan_read_range(b->data, sizeof(uint64));
      if (word != 0) *word = *(uint64*)b->data;
    } else {
      memset(b->data, 0, BSIZE);
      *(uint64*)b->data = word != 0 ? *word : 0;
    }
    disk.done[i] = 0;
    disk.request[i] = 0;
    __tsan_write_range(&b->disk, sizeof b->disk);
    b->disk = 0;
    wakeup(b);
  }
  wakeup(&disk.request[0]);  // a request that found the queue full
  release(&disk.lock);
}

// ---- string.c: one ranged access per call ----

void* memset(void* dst, int c, uint n) {
  if (n != 0) __tsan_write_range(dst, n);
  char* d = (char*)dst;
  for (uint i = 0; i < n; i++) d[i] = (char)c;
  return dst;
}

int memcmp(const void* v1, const void* v2, uint n) {
  if (n != 0) {
    __tsan_read_range(v1, n);
    __tsan_read_range(v2, n);
  }
  const uchar* s1 = v1;
  const uchar* s2 = v2;
  for (uint i = 0; i < n; i++) {
    if (s1[i] != s2[i]) return s1[i] - s2[i];
  }
  return 0;
}

void* memmove(void* dst, const void* src, uint n) {
  if (n == 0) return dst;
  __tsan_read_range(src, n);
  __tsan_write_range(dst, n);
  const char* s = src;
  char* d = dst;
  if (s < d && s + n > d) {
    for (uint i = n; i > 0; i--) d[i - 1] = s[i - 1];
  } else {
    for (uint i = 0; i < n; i++) d[i] = s[i];
  }
  return dst;
}

void* memcpy(void* dst, const void* src, uint n) { return memmove(dst, src, n); }

int strncmp(const char* p, const char* q, uint n) {
  while (n > 0 && *p && *p == *q) n--, p++, q++;
  if (n == 0) return 0;
  return (uchar)*p - (uchar)*q;
}

char* strncpy(char* s, const char* t, int n) {
  char* os = s;
  while (n-- > 0 && (*s++ = *t++) != 0) {
  }
  while (n-- > 0) *s++ = 0;
  return os;
}

char* safestrcpy(char* s, const char* t, int n) {
  char* os = s;
  if (n <= 0) return os;
  while (--n > 0 && (*s++ = *t++) != 0) {
  }
  *s = 0;
  return os;
}

int strlen(const char* s) {
  int n = 0;
  while (s[n]) n++;
  return n;
}

// ---- The file system and files: no process opens one ----

static char placeholder_inode[256];
struct inode* namei(char* path) {
  (void)path;
  return (struct inode*)placeholder_inode;
}
struct inode* idup(struct inode* ip) { return ip; }
void iput(struct inode* ip) { (void)ip; }
void begin_op(void) {}
void end_op(void) {}
void fileclose(struct file* f) { (void)f; }
struct file* filedup(struct file* f) { return f; }
void fsinit(int dev) { (void)dev; }

// ---- read and write: blocks of the disk through the tree's buffer cache ----
//
// The stand-in for files: read(block) returns the first word of the disk block as the tree's
// bread() gives it, and write(block, value) stores value there through bread(), bwrite() and
// brelse(); read(-1) reads NBUF blocks nobody else uses (pid 1's first call in some runs), so
// that the cache is full of valid blocks when the children start. Each block that bread() returns
// is progress. Checked against a ghost record of the last value stored into each block's buffer
// while its holder had it from bread():
//   bread-returns-requested-block  the buffer is the block's (dev and blockno), from bread() until
//                                  brelse();
//   one-buffer-per-block           the buffer bread() gave for the block before, if it still holds
//                                  the block, is the one bread() gives now;
//   bread-returns-latest-write     it holds what the last write stored (a write reaches the disk
//                                  before its buffer is recycled).
static uint64 latest[XV6_DISK_BLOCKS] = {XV6_DISK_FIRST_WORD, XV6_DISK_FIRST_WORD + 1};
static int latest_pid[XV6_DISK_BLOCKS];
// The buffer bread() last returned for each block, and to whom.
static struct buf* block_buf[XV6_DISK_BLOCKS];
static int block_buf_pid[XV6_DISK_BLOCKS];

static void check_buffer(struct buf* b, uint blockno, const char* when) {
  if (b->dev == ROOTDEV && b->blockno == blockno) return;
  static char why[200];
  __builtin_snprintf(why, sizeof why,
                     "pid %d asked bread() for block %u, and %s a buffer of block %u (dev %u)",
                     myproc()->pid, blockno, when, b->blockno, b->dev);
  sy_fail("bread-returns-requested-block", why);
}

static struct buf* bread_checked(uint blockno) {
  struct buf* b = bread(ROOTDEV, blockno);
  sy_progress();
  check_buffer(b, blockno, "got");
  if (blockno >= XV6_DISK_BLOCKS) return b;
  struct buf* last = block_buf[blockno];
  if (last != 0 && last != b && last->dev == ROOTDEV && last->blockno == blockno) {
    static char why[200];
    __builtin_snprintf(why, sizeof why,
                       "pid %d got a buffer of block %u from bread(), but the buffer bread() "
                       "gave pid %d for it holds block %u too: two buffers cache one block",
                       myproc()->pid, blockno, block_buf_pid[blockno], blockno);
    sy_fail("one-buffer-per-block", why);
  }
  block_buf[blockno] = b;
  block_buf_pid[blockno] = myproc()->pid;
  return b;
}

static void brelse_checked(struct buf* b, uint blockno) {
  check_buffer(b, blockno, "gives brelse()");
  brelse(b);
}

uint64 sys_read(void) {
  const int block = (int)myproc()->trapframe->a0;
  if (block < 0) {
    for (int i = 0; i < NBUF; i++) {
      brelse_checked(bread_checked(XV6_FILL_BLOCK + i), XV6_FILL_BLOCK + i);
    }
    return 0;
  }
  if (block >= XV6_DISK_BLOCKS) return -1;
  struct buf* b = bread_checked(block);
  __tsan_read_range(b->data, sizeof(uint64));
  const uint64 word = *(uint64*)b->data;
  if (word != latest[block]) {
    static char why[200];
    if (latest_pid[block] != 0) {
      __builtin_snprintf(why, sizeof why,
                         "pid %d read %lu from block %d through bread(), but pid %d's write "
                         "stored %lu there last",
                         myproc()->pid, word, block, latest_pid[block], latest[block]);
    } else {
      __builtin_snprintf(why, sizeof why,
                         "pid %d read %lu from block %d through bread(), but nobody has written "
                         "the block, which holds %lu on the disk",
                         myproc()->pid, word, block, latest[block]);
    }
    sy_fail("bread-returns-latest-write", why);
  }
  brelse_checked(b, block);
  return word;
}

uint64 sys_write(void) {
  struct proc* p = myproc();
  const int block = (int)p->trapframe->a0;
  const uint64 value = p->trapframe->a1;
  if (block < 0 || block >= XV6_DISK_BLOCKS) return -1;
  struct buf* b = bread_checked(block);
  __tsan_write_range(b->data, sizeof(uint64));
  *(uint64*)b->data = value;
  latest[block] = value;
  latest_pid[block] = p->pid;
  bwrite(b);
  brelse_checked(b, block);
  return 0;
}

// ---- Boot ----

// Everything main() does before the harts start scheduling that does not depend on the run:
// called once, when the module is loaded, before the snapshot that every run starts from.
// vm.c's kernel page table, made by the tree's own kvminit() as main() does: it maps the devices,
// physical memory (the kernel's page, then [etext, PHYSTOP)) and the trampoline, and from 2021 on
// (proc_mapstacks) a kalloc()ed kernel stack for each process, which trees before 2021 map in
// procinit(). Nothing runs on those stacks here (kernel threads run on fiber stacks), but the
// pages are taken, and cow labs that count every mapping of a physical page count these too.
// kvminithart() is not called: satp is never used to translate. A tree without kvminit() (as
// switchyard's own) gets an empty kernel page table if it has one.
extern pagetable_t kernel_pagetable __attribute__((weak));
void kvminit(void) __attribute__((weak));

void xv6_init(void) {
  kinit();
  if (kvminit != 0) {
    kvminit();
  } else if (&kernel_pagetable != 0 && kernel_pagetable == 0) {
    kernel_pagetable = (pagetable_t)kalloc();
    memset(kernel_pagetable, 0, PGSIZE);
  }
  procinit();
  trapinit();
  binit();
  initlock(&disk.lock, "virtio_disk");
  userinit();
}

// Each vCPU's boot: what main() does per hart, then the tree's scheduler.
void xv6_boot(int cpu) {
  (void)cpu;
  harts[cpu].sstatus = SSTATUS_SPP;
  trapinithart();
  scheduler();
}

// ---- Traps ----

// uservec: a trap from user mode saves the user pc and enters usertrap on an empty stack.
static void trap_from_user(struct proc* p, int cpu, uint64 scause) {
  struct hart* h = &harts[cpu];
  h->user = 0;
  h->sstatus = (h->sstatus & ~SSTATUS_SPP) | SSTATUS_SPIE;  // from user, interrupts were on
  h->scause = scause;
  h->sepc = p->trapframe->epc;
  sy_reenter((void (*)(void))p->trapframe->kernel_trap);
}

// The simulator's trap entry: an interrupt on this vCPU, interrupts already off.
static void xv6_trap(int line) {
  const int cpu = sy_cpu_state_point(1);
  struct hart* h = &harts[cpu];
  const uint64 scause = line == 0 ? XV6_TIMER_SCAUSE : 0x8000000000000009L;
  if (line == 0) h->sip |= 2;  // the software interrupt timervec would raise
  if (h->user) trap_from_user(myproc(), cpu, scause);
  // kernelvec: kerneltrap on this stack; sret restores SIE from SPIE. The trap overwrites sepc
  // with the interrupted kernel pc (a constant: no host address enters a run), which kerneltrap
  // saves and restores; code that reads sepc with interrupts on sees it.
  const uint64 saved = h->sstatus;
  h->sstatus = SSTATUS_SPP | SSTATUS_SPIE;
  h->scause = scause;
  h->sepc = XV6_KERNEL_PC;
  kerneltrap();
  harts[sy_cpu_state_point(1)].sstatus = saved;
}

// ---- The user programs ----

// Addresses in the first user page (userinit maps it at 0; fork copies it).
#define STATUS_ADDRESS 0x100
// Instructions: the user pc is 4 * index.
enum {
  INIT_START = 0,  // userinit starts pid 1 here
  INIT_FILLED,     // after read(-1)
  INIT_FORK,       // fork()
  INIT_FORKED,     // the child goes to CHILD_START; the parent forks again or goes to wait
  INIT_WAIT,       // wait(&status)
  INIT_WAITED,     // check the child's status; wait again, or finish when none is left
  CHILD_START = 100,
  CHILD_NEXT,           // choose the next action
  CHILD_COMPUTE,        // user instructions only
  CHILD_SYSCALL,        // the chosen system call (a7, a0 set by CHILD_NEXT)
  CHILD_AFTER_SYSCALL,  // where usertrap returns (it advances epc by 4)
  CHILD_EXIT = 110,
};

// A forked child's depth, in its trapframe's s5 (fork copies it): init's children are 1.
#define DEPTH s5
// Forks drawn so far in this run, init's included (module data: restored before every run).
static int forks;
// fork() calls that returned -1 in this run (a full proc[], or kalloc out of pages): read by tests
// that the workload reaches allocproc's failure paths.
int xv6_fork_failures;

// Ghost records of what each pid asked for, keyed by pid modulo their size: the exit status it
// passed to exit(), and whether anybody tried to kill it; and which pids fork() has handed out
// that wait() has not yet returned (pid 1 from the start). The keys are sound only if no two
// live processes share a pid, so fork-returns-unique-pid checks that first.
#define GHOSTS 1024
static int requested_status[GHOSTS];
static char requested[GHOSTS];
static char was_killed[GHOSTS];
static char live[GHOSTS] = {[1] = 1};

// A parent's fork() returned `pid` (> 0).
static void forked(int pid) {
  if (live[pid % GHOSTS]) {
    static char why[160];
    __builtin_snprintf(why, sizeof why,
                       "fork() returned pid %d, which a process that has not been reaped "
                       "already has",
                       pid);
    sy_fail("fork-returns-unique-pid", why);
  }
  live[pid % GHOSTS] = 1;
}

static void jump(struct trapframe* tf, uint64 index) { tf->epc = index * 4; }

static void ecall(struct proc* p, int cpu, int number) {
  p->trapframe->a7 = (uint64)number;
  // The trap turns interrupts off, as every trap does (an interrupt due now lands first, and
  // the ecall runs again after it: epc has not moved). usertrap turns them on again once it has
  // saved sepc and read scause.
  sy_intr_off();
  sy_progress();
  trap_from_user(p, cpu, 8);
}


// The physical page behind user address `va`, or 0: the platform's own walk of a Sv39 page
// table, so that it does not depend on vm.c's walkaddr(), whose signature some lab trees change.
static uint64 user_page(pagetable_t pagetable, uint64 va) {
  for (int level = 2; level > 0; level--) {
    pte_t pte = pagetable[PX(level, va)];
    if ((pte & PTE_V) == 0) return 0;
    pagetable = (pagetable_t)PTE2PA(pte);
  }
  pte_t pte = pagetable[PX(0, va)];
  return (pte & PTE_V) != 0 && (pte & PTE_U) != 0 ? PTE2PA(pte) : 0;
}
// One user instruction: a point (an interrupt may land before it), then its effect.
static void user_step(struct proc* p) {
  const int cpu = sy_cpu_state_point(0);
  struct trapframe* tf = p->trapframe;
  switch (tf->epc / 4) {
    case INIT_START:
      // In one run in eight, fill the buffer cache first (read(-1)): the children's blocks then
      // recycle buffers that hold other valid blocks. It costs about 2.5 times a run's points
      // (each brelse() wakes up through all of proc[]), so not every run pays it.
      if (xv6_workload.disk && sy_choose("xv6-fill-cache", 8) == 0) {
        tf->a0 = (uint64)-1;
        ecall(p, cpu, SYS_read);
      } else {
        jump(tf, INIT_FILLED);
      }
      break;
    case INIT_FILLED:
      tf->s3 = 0;  // children forked so far
      jump(tf, tf->s3 < (uint64)xv6_workload.children && forks < xv6_workload.max_forks
                   ? INIT_FORK
                   : INIT_WAIT);
      break;
    case INIT_FORK:
      forks += 1;
      ecall(p, cpu, SYS_fork);
      break;
    case INIT_FORKED:
      if (tf->a0 == 0) {  // the child
        tf->DEPTH = 1;
        jump(tf, CHILD_START);
      } else {
        if ((int)tf->a0 > 0) forked((int)tf->a0);
        if ((int)tf->a0 < 0) xv6_fork_failures += 1;
        tf->s3 += 1;
        jump(tf, tf->s3 < (uint64)xv6_workload.children && forks < xv6_workload.max_forks
                     ? INIT_FORK
                     : INIT_WAIT);
      }
      break;
    case INIT_WAIT:
      tf->a0 = STATUS_ADDRESS;
      ecall(p, cpu, SYS_wait);
      break;
    case INIT_WAITED: {
      const int pid = (int)tf->a0;
      if (pid < 0) sy_finish();
      uint64 page = user_page(p->pagetable, 0);
      const int status = page != 0 ? *(int*)(page + STATUS_ADDRESS) : -12345;
      const int g = pid % GHOSTS;
      if (!was_killed[g] && (!requested[g] || status != requested_status[g])) {
        static char why[200];
        __builtin_snprintf(why, sizeof why,
                           "wait() returned pid %d with status %d, but it passed %d to exit() "
                           "(%s) and nobody tried to kill it",
                           pid, status, requested_status[g],
                           requested[g] ? "recorded" : "no exit() recorded");
        sy_fail("wait-returns-exit-status", why);
      }
      live[g] = 0;
      jump(tf, INIT_WAIT);
      break;
    }
    case CHILD_START:
      // actions before exit
      tf->s2 = 1 + sy_choose("xv6-user-actions", (uint64)xv6_workload.program_length);
      jump(tf, CHILD_NEXT);
      break;
    case CHILD_NEXT: {
      if (tf->s2 == 0) {
        jump(tf, CHILD_EXIT);
        break;
      }
      tf->s2 -= 1;
      // The actions the options allow, always in this order.
      enum { COMPUTE, SLEEP, KILL, GETPID, READ, WRITE, FORK };
      int enabled[7];
      int n = 0;
      enabled[n++] = COMPUTE;
      if (xv6_workload.sleep_ticks) enabled[n++] = SLEEP;
      if (xv6_workload.kill) enabled[n++] = KILL;
      enabled[n++] = GETPID;
      if (xv6_workload.disk) enabled[n++] = READ;
      if (xv6_workload.disk) enabled[n++] = WRITE;
      if (xv6_workload.fork && tf->DEPTH <= (uint64)xv6_workload.depth) enabled[n++] = FORK;
      switch (enabled[sy_choose("xv6-user-action", (uint64)n)]) {
        case COMPUTE:
          tf->s4 = 1 + sy_choose("xv6-compute", (uint64)xv6_workload.compute_max);
          jump(tf, CHILD_COMPUTE);
          return;
        case SLEEP:
          tf->a7 = SYS_sleep;
          tf->a0 = 1 + sy_choose("xv6-sleep-ticks", (uint64)xv6_workload.sleep_ticks_max);
          break;
        case KILL:  // any pid but init's: siblings, exited ones, ones that do not exist yet
          tf->a7 = SYS_kill;
          tf->a0 = 2 + sy_choose("xv6-kill-pid", 8);
          break;
        case GETPID:
          tf->a7 = SYS_getpid;
          break;
        case READ:
          tf->a7 = SYS_read;
          tf->a0 = sy_choose("xv6-disk-block", XV6_DISK_BLOCKS);
          break;
        case WRITE:
          tf->a7 = SYS_write;
          tf->a0 = sy_choose("xv6-disk-block", XV6_DISK_BLOCKS);
          tf->a1 = 1 + sy_choose("xv6-disk-value", 1000000);
          break;
        default:
          // The whole run's fork budget spent: the action is dropped, as the model's is.
          if (forks >= xv6_workload.max_forks) {
            jump(tf, CHILD_NEXT);
            return;
          }
          forks += 1;
          tf->a7 = SYS_fork;
          break;
      }
      jump(tf, CHILD_SYSCALL);
      break;
    }
    case CHILD_COMPUTE:
      if (tf->s4 > 0) {
        tf->s4 -= 1;
      } else {
        jump(tf, CHILD_NEXT);
      }
      break;
    case CHILD_SYSCALL:
      // Before the call: the killer itself may be killed on its way back to user mode.
      if (tf->a7 == SYS_kill) was_killed[tf->a0 % GHOSTS] = 1;
      tf->s6 = tf->a7;
      ecall(p, cpu, (int)tf->a7);
      break;
    case CHILD_AFTER_SYSCALL:
      if (tf->s6 == SYS_fork && tf->a0 == 0) {  // a grandchild starts over, one deeper
        tf->DEPTH += 1;
        jump(tf, CHILD_START);
        break;
      }
      if (tf->s6 == SYS_fork && (int)tf->a0 > 0) forked((int)tf->a0);
      if (tf->s6 == SYS_fork && (int)tf->a0 < 0) xv6_fork_failures += 1;
      jump(tf, CHILD_NEXT);
      break;
    case CHILD_EXIT: {
      // Drawn, not derived from the pid: a status that comes back to the wrong waiter shows.
      const int status = 1 + (int)sy_choose("xv6-exit-status", 7);
      requested_status[p->pid % GHOSTS] = status;
      requested[p->pid % GHOSTS] = 1;
      tf->a0 = (uint64)status;
      ecall(p, cpu, SYS_exit);
      break;
    }
    default: {
      static char why[160];
      __builtin_snprintf(why, sizeof why,
                         "pid %d's user pc 0x%llx is not in its program%s", p->pid,
                         (unsigned long long)tf->epc,
                         tf->epc == XV6_KERNEL_PC || tf->epc == XV6_KERNEL_PC + 4
                             ? " (the kernel's pc: a trap overwrote sepc before it was saved)"
                             : "");
      sy_fail("user-program", why);
    }
  }
}

// Set by the host before the tree's initialisation runs (so every run's snapshot has it): told
// each time a CPU returns to user mode, for the contract that no spin lock is held there.
void (*xv6_user_entry_hook)(int cpu, int pid);

// userret: sret into the user program, which runs until it traps.
void xv6_userret(uint64 satp) {
  (void)satp;
  const int cpu = sy_cpu_state_point(1);
  struct hart* h = &harts[cpu];
  struct proc* p = myproc();
  if (xv6_user_entry_hook != 0) xv6_user_entry_hook(cpu, p->pid);
  p->trapframe->epc = h->sepc;
  h->user = 1;
  if (h->sstatus & SSTATUS_SPIE) sy_intr_on();  // a pending interrupt traps right here
  for (;;) user_step(p);
}

// ---- Checks and descriptions, for the host (run by the simulator between steps) ----

// By the tree's own enum: trees before 2021 have no USED (SLEEPING is 1 there, RUNNING 3).
static const char* state_name(enum procstate s) {
  switch (s) {
    case UNUSED:
      return "UNUSED";
    case SLEEPING:
      return "SLEEPING";
    case RUNNABLE:
      return "RUNNABLE";
    case RUNNING:
      return "RUNNING";
    case ZOMBIE:
      return "ZOMBIE";
    default:
      return RUNNING == 4 && s == 1 ? "USED" : "?";
  }
}

// c->proc agrees with what runs: outside p->lock's critical sections (the scheduler and sched
// change both under it), a process is RUNNING exactly when it is one CPU's c->proc. Returns 0
// when it holds, otherwise writes one line into why.
int xv6_check_cpu_proc(char* why, int size, int ncpu) {
  for (struct proc* p = proc; p < &proc[NPROC]; p++) {
    if (p->lock.locked) continue;
    int on = 0;
    for (int i = 0; i < ncpu; i++) on += cpus[i].proc == p;
    if (p->state == RUNNING && on != 1) {
      __builtin_snprintf(why, size, "pid %d is RUNNING and is c->proc of %d CPUs", p->pid, on);
      return 1;
    }
    if (p->state != RUNNING && on != 0) {
      __builtin_snprintf(why, size, "pid %d is %s but is c->proc of %d CPUs", p->pid,
                         state_name(p->state), on);
      return 1;
    }
  }
  return 0;
}

// What a sleeper waits for, by its channel: a process (wait() sleeps on its own struct proc), the
// clock, a disk buffer or the disk queue, or a sleep lock.
static void describe_channel(char* out, int size, void* chan) {
  extern uint ticks;
  if ((char*)chan >= (char*)proc && (char*)chan < (char*)&proc[NPROC]) {
    struct proc* q = &proc[((char*)chan - (char*)proc) / sizeof(struct proc)];
    __builtin_snprintf(out, size, " on proc[%d] (pid %d%s)", (int)(q - proc), q->pid,
                       (void*)q == chan ? ": wait() for a child's exit" : "");
  } else if (chan == &ticks) {
    __builtin_snprintf(out, size, " on ticks (sleep())");
  } else if (chan == &disk.request[0]) {
    __builtin_snprintf(out, size, " on the disk's full queue");
  } else {
    for (int i = 0; i < XV6_DISK_QUEUE; i++) {
      struct buf* b = disk.request[i];
      if (b == 0) continue;
      if (chan == b) {
        __builtin_snprintf(out, size, " on a disk request for block %u%s", b->blockno,
                           disk.done[i] ? " (done, its interrupt not yet taken)" : "");
        return;
      }
    }
    __builtin_snprintf(out, size, " on a channel");
  }
}

void xv6_describe(char* out, int size) {
  int n = 0;
  for (struct proc* p = proc; p < &proc[NPROC] && n < size - 160; p++) {
    if (p->state == UNUSED) continue;
    char chan[96] = "";
    if (p->state == SLEEPING) describe_channel(chan, sizeof chan, p->chan);
    n += __builtin_snprintf(out + n, size - n, "%spid %d %s%s", n ? "; " : "", p->pid,
                            state_name(p->state), chan);
  }
  // The lost wakeup wait() can suffer: a parent asleep on itself beside a child that has exited.
  for (struct proc* q = proc; q < &proc[NPROC] && n < size - 200; q++) {
    if (q->state != SLEEPING || q->chan != (void*)q) continue;
    for (struct proc* c = proc; c < &proc[NPROC]; c++) {
      if (c->state != ZOMBIE || c->parent != q) continue;
      n += __builtin_snprintf(out + n, size - n,
                              "; a lost wakeup: pid %d sleeps in wait() while its child pid %d is "
                              "a ZOMBIE (the child's wakeup of its parent came before the parent "
                              "slept, or went to another process)",
                              q->pid, c->pid);
      break;
    }
  }
}

void xv6_platform_start(void) { sy_set_trap(xv6_trap); }

// The layout of the tree's structures as its own headers define them, for the host's ghost lock
// contracts (kernel_models/xv6/lock_contracts.h): they name locks ("proc[3].lock") and read pids
// for messages without assuming one version of xv6. The order is XV6_LAYOUT_* in
// lock_contracts.h; -1 marks a field the tree does not have.
#ifdef XV6_SPINLOCK_HAS_CPU
#define XV6_SPINLOCK_CPU_OFFSET __builtin_offsetof(struct spinlock, cpu)
#else
#define XV6_SPINLOCK_CPU_OFFSET ((unsigned long)-1)
#endif
const unsigned long xv6_layout[] = {
    23,  // entries
    NPROC,
    sizeof(struct proc),
    __builtin_offsetof(struct proc, lock),
    __builtin_offsetof(struct proc, pid),
    __builtin_offsetof(struct spinlock, locked),
    XV6_SPINLOCK_CPU_OFFSET,
    sizeof(struct cpu),
    sizeof(struct spinlock),
    __builtin_offsetof(struct proc, state),
    __builtin_offsetof(struct proc, chan),
    __builtin_offsetof(struct proc, killed),
    __builtin_offsetof(struct proc, xstate),
    __builtin_offsetof(struct proc, parent),
    __builtin_offsetof(struct proc, context),
    __builtin_offsetof(struct cpu, proc),
    __builtin_offsetof(struct cpu, context),
    __builtin_offsetof(struct cpu, noff),
    __builtin_offsetof(struct cpu, intena),
    RUNNING,  // enum procstate: 3 in trees before USED was added, 4 after
    // struct context as swtch.S sees it, for --swtch=1 (kernel_models/xv6/tree.cc)
    __builtin_offsetof(struct context, ra),
    __builtin_offsetof(struct context, sp),
    sizeof(struct context),
};

int xv6_ncpu = NCPU;
