// A model of User-Mode Linux's (2000) context switching and address-space updates, running on
// switchyard's simulator.
//
// Every process of the virtual machine is a host process with its own host address space. The
// UML kernel runs on one virtual CPU (UML was uniprocessor then). A tracing thread performs every
// switch: the outgoing process hands it the switch (switch_to), and it stops the old host process
// and then continues the new one, so that at most one UML process runs on the host at any moment.
//
// The page tables live in the UML kernel (mm_struct); a host address space is only a cache of
// them that each host process keeps up to date itself. When a page of a stopped process is
// swapped out, its page-table entry goes and its frame is freed and reused, but the process's host
// mapping cannot be touched from outside; the page's address is appended to the change ring in
// its mm_struct instead (change_ring.h). On switch-in the process replays the changes it has not
// seen, oldest first, or, when the ring has wrapped for it, scans its whole address space against
// the page table (fix_range). Several processes share one mm_struct (CLONE_VM threads), each with
// its own host address space and its own private absolute count. A process that reclaims memory
// itself while running removes its own host mapping of a reclaimed page at once.
//
// Kernel threads (the idle task and kswapd) are host processes too and are scheduled like
// processes; they have no mm. The kernel is not preemptible (2.4): the timer interrupt preempts a
// process only in user mode; in kernel mode it sets need_resched, which is honoured on the way
// back to user mode and in kswapd's loop.
//
// Preemption points. The model's code (fork.cc, mm.cc, sched.cc, tracer.cc, user.cc and
// change_ring.cc) is compiled with ThreadSanitizer instrumentation (sim/instrumented.bzl), so at
// access granularity (the default) every load and store it makes is a point where the timer (the
// host's SIGVTALRM) may arrive while signals are unblocked: task states, need_resched, jiffies,
// page tables, change rings, host maps and frames alike. Its memory comes from the run's heap
// arena (sim/arena.h), so cell ids are the same in every run. Checker state (seen_truth, in_sync,
// contents) and checks are ghost code (Simulator::Ghost): never points. A user-mode touch is one
// instruction: the host MMU's translation and the access happen at once. The explicit points
// left stand for what no access does: the tracing thread between stopping the old host process
// and continuing the new one (the host may run anything), each page touch in user mode, and, at
// coarse granularity only (CoarsePoint), kernel entry, reclaim and kswapd's loop.
//
// Contracts (checkers.cc): a process's private count never passes its mm's count; kswapd never
// goes to sleep with work pending (a lost wakeup); a process never enters user mode with a
// reschedule pending.
//
// Planted bugs (Bug below) reintroduce classic mistakes; the default is the correct kernel.
#ifndef SWITCHYARD_KERNEL_MODELS_UML_KERNEL_H_
#define SWITCHYARD_KERNEL_MODELS_UML_KERNEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/check.h"
#include "kernel_models/uml/change_ring.h"
#include "kernel_models/uml/workload.h"
#include "sim/arena.h"
#include "sim/simulator.h"

namespace switchyard::uml {

inline constexpr int kMaxTasks = 64;      // NR_TASKS, kernel threads included
inline constexpr int kKernelThreads = 2;  // the idle task and kswapd
// timer-delivered: the most timer periods the timer may stay pending after a step of user code
// (with signals unblocked it is taken at that step).
inline constexpr uint64_t kTimerPendingTicksMax = 4;

enum class Bug {
  kNone,
  kWrapOffByOne,             // the wrap test is `mm_count - seen > slots + 1`
  kPositionModulo,           // a process stores its position as count % slots
  kSelfReclaimKeepsMapping,  // a page reclaimed from the running process stays in its host map
  kContinueBeforeStop,       // the tracing thread continues the new process before stopping the old
  // Narrow windows, visible only at access granularity:
  kKswapdChecksBeforeSleeping,  // kswapd tests its goal before it sets TASK_INTERRUPTIBLE
  kReturnToUserInterruptible,   // the return to user mode tests need_resched with signals open
  // Preemption lost without any other symptom (interrupt-delivery contracts):
  kReturnToUserKeepsSignalsBlocked,  // the return to user mode's fast path leaves them blocked
  // Host crashes (a finding of kind "crash", reported from an isolated run):
  kReclaimAssumesUserMm,  // try_to_free_pages() reads the reclaimer's mm without a null check
};

struct Config {
  int slots = 4;               // N: change slots in each mm_struct's ring
  int max_tasks = 24;          // task_struct slots, kernel threads included
  int pages = 8;               // virtual pages in each address space
  int frames = 16;             // physical frames of the virtual machine
  uint64_t timer_period = 20;  // ticks between timer interrupts
  WorkloadOptions workload;
  // Check wrap-accounting at every switch-in. Off, the ring's bugs must show as lost unmaps or
  // isolation failures instead.
  bool check_wrap_accounting = true;
  // Check no-lost-unmaps. With both checks off, every planted address-space bug must still be
  // observable: a process touches a frame that belongs to someone else (isolation).
  bool check_no_lost_unmaps = true;
  Bug bug = Bug::kNone;
};

// One virtual page's page-table entry.
struct pte_t {
  enum State { kNone, kPresent, kSwapped };
  State state = kNone;
  int frame = -1;     // when kPresent
  uint64_t swap = 0;  // the page's contents while kSwapped
};

struct mm_struct {
  int id = 0;                   // in creation order
  int users = 0;                // tasks using this mm; 0 once it is freed
  sim::ArenaVector<pte_t> pgd;  // the page table, by virtual page
  ChangeRing changes;           // pages whose mappings changed, and the absolute count
  // Checker state: every change ever appended, oldest first (the plain model of the ring).
  sim::ArenaVector<int> history;
  // Checker state: the contents each page should have (what the last write stored).
  sim::ArenaVector<uint64_t> contents;

  mm_struct(int id, int pages, int slots)
      : id(id),
        pgd(static_cast<size_t>(pages)),
        changes(slots),
        contents(static_cast<size_t>(pages), 0) {}
};

// A host process: its own address space (virtual page -> frame, or -1) and whether the tracing
// thread has it stopped.
struct host_process {
  int pid = 0;  // host pid
  bool alive = false;
  bool running = false;
  sim::ArenaVector<int> map;
};

// A physical frame of the virtual machine.
struct page_frame {
  int mm = -1;  // owner mm id, -1 when free
  int page = -1;
  uint64_t value = 0;
};

enum task_state { TASK_UNUSED, TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_ZOMBIE };

struct task_struct {
  int pid = 0;
  task_state state = TASK_UNUSED;  // TASK_RUNNING: runnable or running
  char comm[16] = {};
  enum Kind { kUser, kIdle, kKswapd } kind = kUser;
  mm_struct* mm = nullptr;  // null for kernel threads
  host_process host;
  // The position in mm->changes this process's host address space has applied up to (the
  // private absolute count). Private to the process.
  uint64_t vm_seen = 0;
  bool need_resched = false;
  bool user_mode = false;  // in user mode: the timer preempts at once
  bool intena = false;     // interrupt state saved across switch_to
  uint64_t wake_tick = 0;  // TASK_INTERRUPTIBLE in sleep: when the timer wakes it
  UserProcess user;
  sim::Fiber* thread = nullptr;  // the host process's execution; the tracing thread resumes it
  class Kernel* kernel = nullptr;
  // Checker state: the true count of changes applied, and whether the host address space has
  // been brought up to date since the process was last continued.
  uint64_t seen_truth = 0;
  bool in_sync = false;
};

class Kernel : public sim::Machine {
 public:
  Kernel(const Config& config, sim::Simulator& sim);
  ~Kernel() override;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // sim::Machine
  void Trap(int cpu, int line) override;
  std::string DescribeStuck() override;

  // Names of the model's invariants, for `switchyard list`.
  static std::vector<std::string> InvariantNames();

  // ---- the tracing thread (tracer.cc) ----
  [[noreturn]] void tracer();
  void start_kernel();
  void stop_process(task_struct* p);
  void continue_process(task_struct* p);
  void kill_process(task_struct* p);

  // ---- scheduling (sched.cc) ----
  void schedule();
  void switch_to(task_struct* prev, task_struct* next);
  void switch_in(task_struct* p);
  void timer_interrupt();
  void wake_up_process(task_struct* p);
  void sleep_ticks(int ticks);
  [[noreturn]] void cpu_idle();
  [[noreturn]] void kswapd();
  void wakeup_kswapd(int pages);

  // ---- processes (fork.cc) ----
  task_struct* alloc_task(task_struct::Kind kind, const char* comm);
  int do_fork(bool clone_vm, const Program* program);
  mm_struct* mm_alloc();
  mm_struct* dup_mmap(const mm_struct* old);
  void mmput(mm_struct* mm);
  [[noreturn]] void do_exit();
  [[noreturn]] void ret_from_fork();

  // ---- memory (mm.cc) ----
  void flush_tlb_mm(task_struct* p);
  void fix_range(task_struct* p, int start, int end);
  void handle_page_fault(task_struct* p, int page);
  int alloc_frame();
  int get_free_frame();
  void free_frame(int frame);
  bool try_to_free_pages(task_struct* reclaimer);
  void swap_out_page(mm_struct* mm, int page);
  void return_to_user(task_struct* p);

  // ---- user mode (user.cc) ----
  [[noreturn]] void user_main();
  void touch(task_struct* p, int page, bool write);

 private:
  friend class Checkers;
  static void TracerMain(void* arg);
  static void TaskMain(void* arg);
  void AddInvariants();
  void check_no_lost_unmaps(const task_struct* p, const char* when);
  void check_wrap_accounting(task_struct* p, bool rescanned);
  void check_kswapd_sleeps_idle();
  void check_no_pending_resched(const task_struct* p);
  void check_new_task_interruptible(const task_struct* p);
  void check_user_mode_interruptible(const task_struct* p);
  void check_timer_delivered(const task_struct* p);
  std::string interrupts_off_by() const;
  bool host_agrees(const task_struct* p, std::string* why) const;
  int runnable_count() const;
  int user_tasks() const;
  const char* StateName(task_state s) const;
  [[noreturn]] void finish_workload();

  Config config_;
  sim::Simulator& sim_;
  PositionFlaw flaw_;
  sim::StreamId workload_stream_;
  sim::StreamId runqueue_stream_;
  sim::StreamId pressure_stream_;
  sim::StreamId frames_stream_;
  sim::StreamId reclaim_stream_;
  Workload workload_;

  task_struct task_[kMaxTasks];
  task_struct* current_ = nullptr;  // the UML process the host runs; null while the tracer works
  task_struct* idle_ = nullptr;
  task_struct* kswapd_task_ = nullptr;
  sim::Fiber* tracer_thread_ = nullptr;
  // The switch the outgoing process handed to the tracing thread.
  task_struct* switch_prev_ = nullptr;
  task_struct* switch_next_ = nullptr;
  int nextpid_ = 0;
  int next_host_pid_ = 100;
  uint64_t jiffies_ = 0;
  int pressure_odds_ = 1;  // each tick wakes kswapd with probability 1/pressure_odds_
  int kswapd_goal_ = 0;    // pages kswapd has been asked to free
  uint64_t write_serial_ = 0;

  sim::ArenaVector<mm_struct*> mms_;  // by id, freed ones included
  sim::ArenaVector<page_frame> frames_;
  // Scratch space, kept here because fiber frames must not own heap memory.
  sim::ArenaVector<int> scratch_;
  sim::ArenaVector<int> replayed_;  // pages the last catch-up replayed, for wrap-accounting
  sim::ArenaVector<task_struct*> candidates_;
  std::vector<uint32_t> candidate_pids_;  // their pids, for the decider's thread pick
};

const char* BugName(Bug bug);
const char* BugDescription(Bug bug);
std::vector<Bug> AllBugs();

}  // namespace switchyard::uml

#endif  // SWITCHYARD_KERNEL_MODELS_UML_KERNEL_H_
