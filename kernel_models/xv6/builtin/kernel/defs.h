// switchyard's own xv6-compatible kernel: every function a kernel file calls in another.
struct buf;
struct context;
struct file;
struct inode;
struct proc;
struct spinlock;
struct sleeplock;

// bio.c
void binit(void);
struct buf* bread(uint, uint);
void brelse(struct buf*);
void bwrite(struct buf*);
void bpin(struct buf*);
void bunpin(struct buf*);

// kalloc.c
void* kalloc(void);
void kfree(void*);
void kinit(void);

// printf.c (the platform's)
int printf(char*, ...);
void panic(char*) __attribute__((noreturn));

// plic.c and virtio_disk.c (the platform's)
int plic_claim(void);
void plic_complete(int);
void virtio_disk_rw(struct buf*, int);
void virtio_disk_intr(void);

// proc.c
int cpuid(void);
void exit(int) __attribute__((noreturn));
int fork(void);
int kill(int);
void setkilled(struct proc*);
int killed(struct proc*);
struct cpu* mycpu(void);
struct proc* myproc(void);
void procinit(void);
void scheduler(void) __attribute__((noreturn));
void sched(void);
void sleep(void*, struct spinlock*);
void userinit(void);
int wait(uint64);
void wakeup(void*);
void yield(void);
pagetable_t proc_pagetable(struct proc*);
void proc_freepagetable(pagetable_t, uint64);

// swtch.S (the platform's)
void swtch(struct context*, struct context*);

// spinlock.c
void acquire(struct spinlock*);
int holding(struct spinlock*);
void initlock(struct spinlock*, char*);
void release(struct spinlock*);
void push_off(void);
void pop_off(void);

// sleeplock.c
void acquiresleep(struct sleeplock*);
void releasesleep(struct sleeplock*);
int holdingsleep(struct sleeplock*);
void initsleeplock(struct sleeplock*, char*);

// string.c (the platform's)
void* memset(void*, int, uint);
void* memmove(void*, const void*, uint);
char* safestrcpy(char*, const char*, int);

// syscall.c
void argint(int, int*);
void argaddr(int, uint64*);
void syscall(void);

// trap.c
extern uint ticks;
extern struct spinlock tickslock;
void trapinit(void);
void trapinithart(void);
void usertrapret(void);
void kerneltrap(void);
void usertrap(void);
int devintr(void);
void clockintr(void);

// vm.c
pte_t* walk(pagetable_t, uint64, int);
uint64 walkaddr(pagetable_t, uint64);
int mappages(pagetable_t, uint64, uint64, uint64, int);
pagetable_t uvmcreate(void);
void uvmfirst(pagetable_t, uchar*, uint);
int uvmcopy(pagetable_t, pagetable_t, uint64);
void uvmfree(pagetable_t, uint64);
void uvmunmap(pagetable_t, uint64, uint64, int);
int copyout(pagetable_t, uint64, char*, uint64);
int copyin(pagetable_t, char*, uint64, uint64);

#define NELEM(x) (sizeof(x) / sizeof((x)[0]))
