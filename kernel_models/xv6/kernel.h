// A model of xv6-riscv's process and scheduling machinery (kernel/proc.c, kernel/spinlock.c, the
// timer and device paths of kernel/trap.c, and kernel/virtio_disk.c's request/interrupt/wakeup
// protocol), running on switchyard's simulator.
//
// The model keeps xv6's names and structure so that it can be read next to the original: each
// CPU runs scheduler() on its own kernel thread; a process gives up the CPU through sched(),
// which swtch()es to the CPU's scheduler context with p->lock held; allocproc() gives a new
// process a context that starts in forkret(); sleep()/wakeup() rely on p->lock to avoid lost
// wakeups; spinlocks disable interrupts with push_off()/pop_off(). Kernel threads are simulator
// fibers and swtch() is Simulator::Switch, so the stacks really switch.
//
// What is left out, on purpose: page tables and user memory (the workload's "user mode" is a
// program the process interprets), files, and the file system.
//
// Preemption points. The model's kernel code (kernel.cc, proc.cc, spinlock.cc, swtch.cc, trap.cc,
// user.cc and virtio_disk.cc) is compiled with ThreadSanitizer instrumentation
// (sim/instrumented.bzl), the one mechanism that makes the points of every model and of a user's
// tree (sim/instrumentation.h). At access granularity (the default) every load, store and atomic
// it makes of the kernel's memory (the Kernel's "kernel memory" members below, in the run's heap
// arena: sim/arena.h) is a point where another CPU may run and an interrupt may arrive: lock
// words (an amoswap, as xv6's __sync_lock_test_and_set), p->state, p->chan, the process table
// scans, ticks, semaphore counts, the disk's used ring alike. Per-CPU memory that a CPU shares only
// with its own interrupt handlers (struct cpu: c->proc, c->noff, c->intena; the hart's sepc) makes
// points only while interrupts are on (Instrumentation::RunMemory::kPerCpu). The model's own
// state (configuration, workload, the interpreted user mode, ghost state, sstatus.SPP) is
// declared private: never a point. The explicit points left are the ones no access stands for:
// an interrupt window between intr_on() and intr_off() in the scheduler, each step of user-mode
// computation, wfi, and the secondary CPUs' wait for `started`. At coarse granularity the
// hand-placed CoarsePoints in acquire() and release(), and a Spin per failed test-and-set
// (CoarseSpin), are the only other points.
//
// Contracts. Ghost state (never read by the modelled kernel) records what xv6's comments
// promise, and checkers compare the kernel's real state with it (see checkers.cc).
//
// Planted bugs (Bug below) reintroduce classic mistakes; the default is the correct kernel.
#ifndef SWITCHYARD_KERNEL_MODELS_XV6_KERNEL_H_
#define SWITCHYARD_KERNEL_MODELS_XV6_KERNEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/check.h"
#include "kernel_models/xv6/swtch_emu.h"
#include "kernel_models/xv6/workload.h"
#include "sim/arena.h"
#include "sim/simulator.h"

namespace switchyard::xv6 {

inline constexpr int kMaxCpus = 8;    // NCPU in param.h
inline constexpr int kMaxProcs = 64;  // NPROC in param.h
static_assert(kMaxCpus <= sim::kMaxCpus);
inline constexpr int kDiskLine = 1;  // VIRTIO0_IRQ, as an external line of the simulator
// The pc a trap from kernel mode leaves in sepc: no user program has an instruction there.
inline constexpr int kKernelPc = 0x80000000 >> 8;
// timer-delivered: the most timer periods a timer interrupt may stay pending while its CPU runs
// user code (with interrupts on it is taken at the next step; the vCPU may wait for the others
// for up to the simulator's fairness window, far less than a period).
inline constexpr uint64_t kTimerPendingTicksMax = 4;

enum class Bug {
  kNone,
  kWakeupWithoutLock,      // wakeup() reads p->state without holding p->lock
  kSchedReleasesEarly,     // sched() releases p->lock before swtch()
  kSchedulerNoInterrupts,  // scheduler() never enables interrupts
  kForkretKeepsLock,       // forkret() does not release p->lock
  kSchedulerKeepsCProc,    // scheduler() does not clear c->proc after swtch() returns
  // Narrow windows, visible only at access granularity:
  kPopOffEnablesEarly,    // pop_off() turns interrupts on before it decrements noff
  kUsertrapIntrOnEarly,   // usertrap() turns interrupts on before it saves sepc
  kAcquireBeforePushOff,  // acquire() takes the lock before it turns interrupts off
  // Contracts broken without any other symptom:
  kSchedForgetsIntena,    // sched() does not restore the thread's intena after swtch()
  kPushOffSavesAfterOff,  // push_off() reads the interrupt state after turning them off
  // swtch.S at instruction level (they turn --swtch=emulated on):
  kSwtchForgetsS11,    // swtch.S does not save s11
  kContextOutOfOrder,  // struct context declares sp before ra; swtch.S has ra at 0
  // Host crashes (a finding of kind "crash", reported from an isolated run):
  kForkRunnableBeforeProgram,  // fork() makes the child RUNNABLE before it sets its program
};

struct Config {
  int ncpu = 2;
  int nproc = 8;
  uint64_t timer_period = 100;  // ticks between timer interrupts; at least 8 * nproc + 20
  WorkloadOptions workload;
  Bug bug = Bug::kNone;
  // Check the contracts of xv6's comments (checkers.cc). Off only in the test that proves the
  // contract-only bugs have no other symptom.
  bool check_contracts = true;
  // --swtch=emulated: each swtch also runs the real RISC-V swtch.S in the emulator (swtch.cc).
  bool swtch_emulated = false;
};

// Mutual exclusion lock (kernel/spinlock.h).
struct spinlock {
  unsigned int locked = 0;  // Is the lock held?
  const char* name = "";
  struct cpu* cpu = nullptr;  // the cpu holding the lock
};

enum procstate { UNUSED, USED, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

// A disk request buffer (kernel/buf.h), one per process here.
struct buf {
  int disk = 0;  // does the disk "own" buf?
  int blockno = 0;
};

struct proc {
  spinlock lock;

  // p->lock must be held when using these:
  procstate state = UNUSED;
  const void* chan = nullptr;  // if non-zero, sleeping on chan
  int killed = 0;
  int xstate = 0;
  int pid = 0;

  // wait_lock must be held when using this:
  proc* parent = nullptr;

  // these are private to the process, so p->lock need not be held.
  sim::Fiber* context = nullptr;  // the kernel thread; swtch() here to run the process
  int trapframe_epc = 0;          // p->trapframe->epc: the user pc to return to
  char name[16] = {};
  buf b;
  class Kernel* kernel = nullptr;  // the model's back pointer, for the thread entry
};

// Per-CPU state (kernel/proc.h).
struct cpu {
  struct proc* proc = nullptr;    // The process running on this cpu, or null.
  sim::Fiber* context = nullptr;  // swtch() here to enter scheduler().
  int noff = 0;                   // Depth of push_off() nesting.
  int intena = 0;                 // Were interrupts enabled before push_off()?
};

// Ghost state for the contracts of spinlock.c and proc.c, per kernel thread: what sched()
// must hand back to the thread after its swtch() (see checkers.cc).
struct ThreadGhost {
  int intena_at_sched = 0;            // c->intena when the thread called sched()
  bool intr_before_push_off = false;  // the CPU's ghost intr_before_push_off_ then
  bool new_process = false;           // set in forkret(): its first return to user mode is due
};

// A counting semaphore built on sleep/wakeup, the way xv6's pipes and sleeplocks are.
struct semaphore {
  spinlock lock;
  int count = 0;
};

class Kernel : public sim::Machine {
 public:
  Kernel(const Config& config, sim::Simulator& sim);

  // sim::Machine
  void Trap(int cpuid, int line) override;
  std::string DescribeStuck() override;
  std::vector<sim::StuckExplanation> ExplainStuck() override;

  // Names of the model's own invariants, for `switchyard list`.
  static std::vector<std::string> InvariantNames();

  // ---- spinlock.c ----
  void initlock(spinlock* lk, const char* name);
  void acquire(spinlock* lk);
  void release(spinlock* lk);
  bool holding(spinlock* lk);
  void push_off();
  void pop_off();

  // ---- proc.c ----
  int cpuid() { return sim_.cpu(); }
  cpu* mycpu() { return &cpus_[sim_.cpu()]; }
  proc* myproc();
  int allocpid();
  proc* allocproc();
  void freeproc(proc* p);
  void userinit();
  int fork(const Program* program);
  void reparent(proc* p);
  [[noreturn]] void exit(int status);
  int wait(int* status);
  [[noreturn]] void scheduler();
  void sched();
  void yield();
  void forkret();
  void sleep(const void* chan, spinlock* lk);
  void wakeup(const void* chan);
  int kill(int pid);
  int killed(proc* p);

  // ---- trap.c ----
  void usertrap_syscall(proc* p);     // the syscall half of usertrap()
  void usertrap_interrupt(int line);  // the device-interrupt half of usertrap()
  void usertrapret();
  void kerneltrap(int line);
  int devintr(int line);
  void clockintr();

  // ---- virtio_disk.c ----
  void virtio_disk_rw(buf* b);
  void virtio_disk_intr();

  // ---- system calls used by the workload (sysproc.c and friends) ----
  int sys_sleep(int n);
  int sem_down(int id);
  void sem_up(int id);

  [[noreturn]] void panic(const char* site);

  // The workload's user-mode interpreter (user.cc): runs the current process's program.
  [[noreturn]] void UserMain();
  // One system call on behalf of the current process (user.cc).
  void Syscall(const Action& action);

 private:
  friend class Checkers;
  static void SchedulerMain(void* arg);
  static void ForkretMain(void* arg);
  void AddInvariants();
  // The running thread's ghost. The reference lasts until the thread's next point or switch.
  ThreadGhost& ghost();
  // Contract checks at the sites where xv6's comments make the promise (checkers.cc).
  void CheckLockOrder(const spinlock* lk);
  void CheckPopOffRestored(bool intr_after);
  void CheckIntenaRestored();
  void CheckUserModeEntry(bool interrupts_on);
  void CheckNewProcessEntry();
  void CheckUserCode();
  void CheckTimerDelivered();
  std::string ThreadName(uint32_t fiber) const;
  void CheckUniquePid(const proc* p);
  void CheckSleepHoldsLock(const spinlock* lk);
  std::string ChanName(const void* chan) const;
  const char* StateName(procstate s) const;
  void CheckWorkloadDone();

  struct WakeupSeen {
    const void* chan = nullptr;
    uint64_t step = 0;
    int cpu = -1;
    procstate state[kMaxProcs] = {};
    uint64_t state_step[kMaxProcs] = {};  // 0: this wakeup did not read it
  };
  // The running thread's user mode (user.cc).
  UserProcess& user(const proc* p) { return user_[p - proc_]; }
  void EmulateSwtch(int old_context, int new_context);
  void EmulateAllocContext(int context);
  WakeupSeen& LastWakeupOn(const void* chan);
  void NoteWakeupRead(const void* chan, const proc* p, procstate seen);

  // ---- The model's own state, not the kernel's memory: declared private for the run (never a
  // point). Every member from config_ up to cpus_. ----
  Config config_;
  sim::Simulator& sim_;
  // swtch.cc: --swtch=emulated. Contexts: proc i is i, CPU i's scheduler is nproc + i.
  std::unique_ptr<EmulatedSwtch> swtch_emu_;
  sim::StreamId workload_stream_;
  sim::StreamId disk_stream_;
  Workload workload_;
  // Each process's user mode, by proc index: the program it runs, its pc and its own record of
  // its children. User memory, interpreted by the model (workload.cc), never the kernel's.
  UserProcess user_[kMaxProcs];
  // Hardware state: is this CPU in user mode (sstatus.SPP clear)? Traps clear it.
  bool user_mode_[kMaxCpus] = {};
  const spinlock* spinning_on_[kMaxCpus] = {};  // for liveness reports
  // Ghost state. The vectors' elements are on the host heap: code that touches them runs inside a
  // sim::Simulator::Ghost (no access is a point there, and none is checked).
  std::vector<proc*> proc_of_fiber_;  // by simulator fiber id; null for scheduler threads
  // Contract ghosts: per kernel thread, by simulator fiber id; per CPU, how many spinlocks it
  // holds.
  std::vector<ThreadGhost> ghost_;
  int locks_held_[kMaxCpus] = {};
  // Whether interrupts were on before the outermost push_off() of the CPU's current nesting.
  // sched() hands it to the thread and back, as it does c->intena; the scheduler thread adopts
  // the nesting it resumes into.
  bool intr_before_push_off_[kMaxCpus] = {};
  // Workload bookkeeping, by pid: the exit status each process's program ends with, and whether
  // a kill was sent to it (then -1 is an acceptable status too).
  std::vector<int> expected_status_;
  std::vector<bool> kill_sent_;
  // Ghost, for explaining a lost wakeup (ExplainStuck): the last wakeup() on each channel and
  // what it read of each process's state, and when each process last entered sleep() and set
  // SLEEPING. Steps, never part of the trace.
  std::vector<WakeupSeen> last_wakeups_;
  uint64_t sleep_entered_[kMaxProcs] = {};
  uint64_t sleeping_set_[kMaxProcs] = {};

  // ---- The kernel's memory: xv6's globals. Every access is a point; struct cpu and the harts'
  // sepc are per-CPU (points only while interrupts are on). ----
  cpu cpus_[kMaxCpus];
  // Each hart's sepc: a trap sets it to the interrupted pc, sret jumps to it. Reading it is an
  // instruction like any other, so an interrupt may arrive just before.
  int sepc_[kMaxCpus] = {};
  proc proc_[kMaxProcs];
  proc* initproc_ = nullptr;
  int nextpid_ = 1;
  spinlock pid_lock_;
  // helps ensure that wakeups of wait()ing parents are not lost. helps obey the memory model
  // when using p->parent. must be acquired before any p->lock.
  spinlock wait_lock_;
  spinlock tickslock_;
  unsigned ticks_ = 0;
  int started_ = 0;
  sim::ArenaVector<semaphore> sems_;
  // The disk: requests in flight complete after a latency drawn by the decider; the device puts
  // them on the used ring and raises the interrupt line.
  struct {
    spinlock vdisk_lock;
    sim::ArenaVector<buf*> used;  // completed requests not yet seen by virtio_disk_intr
  } disk_;
};

const char* BugName(Bug bug);
const char* BugDescription(Bug bug);
std::vector<Bug> AllBugs();

}  // namespace switchyard::xv6

#endif  // SWITCHYARD_KERNEL_MODELS_XV6_KERNEL_H_
