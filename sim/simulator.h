// The deterministic simulator: virtual CPUs, virtual time and timers, fibers on native switch
// routines, preemption points, invariants and outcomes.
//
// A model's kernel threads are fibers. All of them run on one host thread; the simulator
// interleaves vCPUs only at preemption points, and every choice there comes from the run's
// Decider. At the default granularity (access), every load, store and atomic of shared memory
// by compiler-instrumented code (sim/instrumentation.h: the models' kernel code, a user's tree)
// is a point, as are the model's explicit Point, Spin and WaitForInterrupt; at coarse
// granularity, accesses are not points and the model's hand-placed CoarsePoints stand in for them
// (how the models ran before; kept to measure what access granularity costs and finds). Between two
// points a fiber runs alone, so a model reads like the kernel it models: straight-line code with
// its real names, whose `swtch` really switches stacks (Simulator::Switch).
//
// Steps and time. Each point is one step. The vCPUs that are not idle run in parallel, so one
// tick of virtual time passes for every k explicit points (Point, Spin, WaitForInterrupt,
// CoarsePoint; not cell accesses) when k vCPUs are busy. When every vCPU waits for
// an interrupt, time jumps to the next timer. Each vCPU has a periodic timer; one-shot
// timers model device completions and raise an external interrupt line, which the first vCPU
// with interrupts enabled takes (as a PLIC routing to every hart does). An interrupt is delivered
// at the next point where its vCPU has interrupts enabled: the model's Trap handler runs on the
// current fiber's stack with interrupts off, and they are on again when it returns.
//
// Checks. Switch verifies, before switching, that the saving fiber is the one running on this
// vCPU, that the target is not running on any vCPU (one-thread-per-core), that its context was
// saved by a switch and not resumed since, and that it has not been retired. Registered
// invariants run at every step at which anything they read may have changed: after a store that
// changed a cell, a switch, an interrupt, a change of a vCPU's interrupt state, a timer, fiber
// setup or retirement, an explicit point, or Changed(); a step reached through cell accesses
// alone, with none of those since the last check, skips them, because no checker can see a
// difference. (Model code between two points that writes plain memory its checkers read must call
// Changed(); the models' checkers read cells, simulator state, and plain state written next to a
// cell store or an interrupt-state change. SimOptions::check_every_step turns the skipping off;
// tests prove both give the same outcomes.) The first failure ends the run; so does a liveness
// failure: the step budget is exhausted, no progress (Simulator::NoteProgress) happens within the
// progress budget, or every vCPU spins with interrupts off (deadlock). At access granularity a vCPU
// that spins stays "spinning" across the cell reads of its spin loop; any store that changes a cell
// ends every vCPU's spin (it may have released the lock).
//
// Accesses. Every cell access that is performed at access granularity is reported, in the order
// performed, to the AccessObserver if one is set (for partial-order reduction): the step, the
// cell's id, read/write/read-modify-write, the vCPU and the fiber. Work of a step that is not a
// cell access but that other vCPUs can observe (time passing at an explicit point, timers firing,
// an interrupt taken, a switch) is reported as a write of kGlobalCell. A step's accesses carry the
// step at which the decider picked its vCPU, so the work done while one step ends (time, timers)
// belongs to the step that ran up to it.
//
// Rules for model code on fibers: a fiber's frames must not own heap memory (no std::string or
// std::vector locals), because a run that ends abandons the fibers where they stand and their
// destructors never run; keep state in the model's objects. Fiber entry functions must never
// return: a kernel thread that returns is reported as the violation "fiber-returned".
#ifndef SWITCHYARD_SIM_SIMULATOR_H_
#define SWITCHYARD_SIM_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "arch/context.h"
#include "sim/decider.h"
#include "sim/trace.h"

namespace switchyard::sim {

inline constexpr int kMaxCpus = 16;
inline constexpr int kTimerLine = 0;          // each vCPU's own timer
inline constexpr int kMaxExternalLines = 31;  // external lines are 1..kMaxExternalLines

// Where vCPUs may interleave: at every shared-state access (the default), or only at the
// model's hand-placed points.
enum class Granularity : uint8_t { kAccess, kCoarse };
const char* GranularityName(Granularity granularity);

enum class AccessKind : uint8_t { kRead, kWrite, kReadModifyWrite };

// One performed access to a shared-state cell.
struct Access {
  uint64_t step;  // the step at which the accessing fiber was last resumed
  uint32_t cell;
  uint32_t fiber;
  AccessKind kind;
  uint8_t cpu;
};

// The cell id of the pseudo-accesses the simulator reports for work that is not a cell access
// but that another vCPU's steps may observe: virtual time passing at an explicit point, timers
// and device callbacks firing, an interrupt taken, a fiber switched, built or retired. Partial-
// order reduction treats such a step as dependent on every other step.
inline constexpr uint32_t kGlobalCell = 0xFFFFFFFFu;
// Virtual time: every explicit point reads and writes it (a read-modify-write of this cell), so
// two steps that both pass time do not commute, but a step that passes time commutes with one
// that only touches other cells. Timers firing are global (kGlobalCell).
inline constexpr uint32_t kTimeCell = 0xFFFFFFFEu;

class AccessObserver {
 public:
  virtual ~AccessObserver() = default;
  virtual void OnAccess(const Access& access) = 0;
};

struct SimOptions {
  int cpus = 2;
  Granularity granularity = Granularity::kAccess;
  uint64_t max_steps = 2'000'000;
  uint64_t progress_budget_ticks = 200'000;  // liveness: no NoteProgress for this long
  bool keep_trace = false;                   // keep records for the timeline exports
  // Fairness: a vCPU that could run but has not for this many steps runs next, whatever the
  // decider says (no decision is recorded for it). Real CPUs run in parallel, so a schedule that
  // starves one forever is not a possible execution, and a liveness failure found that way
  // would be imaginary. Models must give liveness budgets well above cpus * this.
  uint64_t fairness_window_steps = 200;
  size_t stack_bytes = arch::kDefaultStackBytes;
  // Run the invariants at every step, even where nothing they read can have changed (a
  // cross-check of the skipping; see "Checks" in the header comment).
  bool check_every_step = false;
  // Receives every performed cell access and the kGlobalCell pseudo-accesses (see "Accesses" in
  // the header comment); the same as SetAccessObserver before Run. Null: none.
  AccessObserver* access_observer = nullptr;
  // Virtual time for compiler-instrumented code (sim/instrumentation.h), which has no explicit
  // points: every this many instrumented accesses count as one explicit point (see "Steps and
  // time"). 0: instrumented accesses never pass time (cells never do).
  uint32_t accesses_per_tick = 0;
  // Where a pending interrupt may land in compiler-instrumented code: false, before any access
  // (the decider picks how many of the next ones it lets pass); true, only before an access to
  // a cell that interrupt handlers have touched in the run so far (see DeliverInterrupts in
  // simulator.cc). For a model whose handlers do not switch away in the middle of the code they
  // interrupt, as UML's timer does not in the kernel, this keeps landing places as dense in the
  // accesses that matter as hand-placed cells were. Where handlers yield (xv6's timer), the
  // accesses other threads race with matter too, and the reduction slows bugs down (bench/
  // README.md, "The UML model on compiler instrumentation").
  bool interrupts_at_handler_footprint = false;
};

// For a liveness failure, where the model can tell: one stuck thread, what it waits for, and the
// last step at which it could have been woken (the last wakeup on its channel) with why that
// wakeup did not apply. Only for reading (views, `explain`): never part of the trace hash.
struct StuckExplanation {
  uint32_t fiber = 0;        // the stuck thread
  std::string waits_for;     // in the model's terms: "the disk buffer of proc[2]"
  uint64_t slept_step = 0;   // the step at which it went to sleep (0: unknown)
  uint64_t wakeup_step = 0;  // the last wakeup on its channel (0: there was none)
  int wakeup_cpu = -1;
  // That wakeup looked while the thread was on its way to sleep: a lost wakeup. Views show
  // these first.
  bool lost = false;
  std::string why;  // one line: why that wakeup did not wake it
};

// The model's machine-level hooks, called by the simulator.
class Machine {
 public:
  virtual ~Machine() = default;
  // Handles interrupt `line` on vCPU `cpu`, on the current fiber's stack, interrupts off.
  virtual void Trap(int cpu, int line) = 0;
  // For a liveness failure: what each stuck thread waits for, in the model's terms, one line.
  virtual std::string DescribeStuck() = 0;
  // For a liveness failure: for each stuck thread, the last step it could have been woken, where
  // the model can tell (see StuckExplanation). Called once, when the run ends with one.
  virtual std::vector<StuckExplanation> ExplainStuck() { return {}; }
};

struct Outcome {
  // kCrash: the host process died during the run (a signal); the simulator never reports it
  // itself: scenario/isolation.h runs the model in a child process and classifies its death.
  // kHang: the host process stopped reaching points (code under test looping without touching
  // shared memory); like kCrash, only scenario/isolation.h's watchdog reports it.
  enum class Kind { kPass, kSafety, kLiveness, kDiverged, kCrash, kHang };
  Kind kind = Kind::kPass;
  std::string invariant;  // the violated invariant's name; empty for a pass
  std::string message;    // one line in the model's terms
  uint64_t step = 0;
  uint64_t time = 0;
  uint64_t trace_hash = 0;
  // Statistics.
  uint64_t switches = 0;     // model swtch calls
  uint64_t preemptions = 0;  // the simulator moved away from a vCPU that could still run
  uint64_t interrupts = 0;
  // How often each rare interleaving marked by the model (Simulator::Mark) was reached, by name.
  std::vector<std::pair<std::string, uint64_t>> marks;
  // Liveness failures: the model's explanation of each stuck thread (Machine::ExplainStuck).
  std::vector<StuckExplanation> stuck;
};

const char* KindName(Outcome::Kind kind);

// A simulated kernel thread. Models hold Fiber* handles owned by the Simulator and use only the
// Simulator's functions on them; the fields are here so that the per-step queries inline.
struct Fiber {
  enum class State { kFresh, kSaved, kRunning, kRetired };
  class Simulator* sim;
  uint32_t id;
  std::string name;
  arch::Stack stack;
  arch::Context context;
  void (*entry)(void*);
  void* arg;
  State state = State::kFresh;
  int cpu = -1;  // the vCPU it is running on, when kRunning
};

class Simulator {
 public:
  Simulator(const SimOptions& options, Decider& decider);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // ---- Setup, before Run ----

  // The model whose Trap and DescribeStuck the simulator calls. REQUIRES: set before Run.
  void SetMachine(Machine* machine) { machine_ = machine; }

  // A new fiber that will start in entry(arg) the first time something switches to it. Fiber ids
  // are given in creation order.
  Fiber* CreateFiber(std::string name, void (*entry)(void*), void* arg);
  // The fiber vCPU `cpu` runs first. REQUIRES: every vCPU gets one before Run.
  void SetBootFiber(int cpu, Fiber* fiber);
  // vCPU `cpu`'s timer fires at `first` and then every `period` ticks. period 0 disables it.
  void SetPeriodicTimer(int cpu, uint64_t period, uint64_t first);
  // A checker returns true when the invariant holds; otherwise it sets *why to one line.
  using Checker = std::function<bool(std::string* why)>;
  void AddInvariant(std::string name, Checker checker);
  // Several invariants checked in one pass over the same state (a model's process table, say):
  // the checker returns -1 when all hold, otherwise the index in `names` of the one violated,
  // with *why set. They run after the invariants added before them.
  using GroupChecker = std::function<int(std::string* why)>;
  void AddInvariants(std::vector<std::string> names, GroupChecker checker);
  // Receives every performed cell access (see the header comment). Null: none.
  void SetAccessObserver(AccessObserver* observer) { observer_ = observer; }
  // Runs until the model calls Finish, a check fails, or a budget runs out. Call once.
  Outcome Run();

  // ---- Called by model code running on fibers ----

  // A preemption point: the end of one step. Runs the invariants, fires due timers, lets the
  // decider pick the vCPU to run next, and delivers pending interrupts to this fiber's vCPU.
  void Point();
  // The same, where the location views show is `pc` instead of the caller's (emulated code:
  // sim::EmulatedPc in trace.h).
  void PointAt(const void* pc);
  // A hand-placed point that only coarse granularity needs: at access granularity the
  // instrumented accesses around it are points already. Virtual time passes here at both
  // granularities (accesses do not advance it), so a tick is the same amount of model work at
  // both.
  // Always inlined, so that Point's return address (the location views show) is in the model's
  // code at every optimisation level.
  [[gnu::always_inline]] void CoarsePoint() {
    if (options_.granularity == Granularity::kCoarse) {
      Point();
    } else {
      AdvanceTime();
    }
  }
  Granularity granularity() const { return options_.granularity; }
  // A preemption point for one failed iteration of a spin-wait: this vCPU cannot make progress
  // until another runs, so the simulator prefers another vCPU.
  void Spin();
  // Spin() at coarse granularity, for a spin-wait on an instrumented atomic (xv6's acquire()):
  // at access granularity the iteration's failed test-and-set or compare-and-swap was its spin
  // step already (InstrumentedAccess), and this does nothing. Always inlined, as CoarsePoint.
  [[gnu::always_inline]] void CoarseSpin() {
    if (options_.granularity == Granularity::kCoarse) Spin();
  }
  // `wfi`: stop this vCPU until an interrupt is pending for it (even if interrupts are off).
  void WaitForInterrupt();
  // The model's swtch: saves the running fiber `from` and resumes `to` on this vCPU. Returns when
  // something switches back to `from`. Checks the switch first (see the header comment).
  void Switch(Fiber* from, Fiber* to);
  // Gives `fiber` a fresh first frame that starts in entry(arg) (a new kernel thread on the old
  // stack, as allocproc does). A running fiber is the violation "stack-reused-while-running".
  void ResetFiber(Fiber* fiber, void (*entry)(void*), void* arg);
  // Marks `fiber` finished: switching to it is the violation "no-resume-after-finish".
  void RetireFiber(Fiber* fiber);

  // Ends the run with a safety violation named `invariant`. Never returns.
  [[noreturn]] void Fail(std::string invariant, std::string message);
  // Ends the run with a liveness failure. Never returns.
  [[noreturn]] void FailLiveness(std::string invariant, std::string message);
  // Ends the run: the workload completed. Never returns.
  [[noreturn]] void Finish();
  // The model changed plain (non-cell) memory that its invariant checkers read, in a stretch
  // that may contain only cell reads (see "Checks" in the header comment).
  void Changed() { changed_ = true; }
  // The model did useful work; resets the no-progress budget.
  void NoteProgress() { last_progress_ = now_; }

  // Interrupt-enable flag of the running vCPU (RISC-V sstatus.SIE).
  bool intr_get() const { return vcpus_[cpu_].intena; }
  // An interrupt is pending for the running vCPU (for marks: the model may be in a window where
  // it would be taken).
  bool interrupt_pending() const { return PendingFor(cpu_); }
  // Interrupt-enable flag of any vCPU, for checkers.
  bool InterruptsEnabledOn(int cpu) const { return vcpus_[cpu].intena; }
  void intr_on() { SetIntena(true); }
  // The call site's function, file and line are the ghost record of who turned interrupts off
  // (InterruptsOffBy); they are never part of the trace.
  void intr_off(const char* function = __builtin_FUNCTION(), const char* file = __builtin_FILE(),
                int line = __builtin_LINE()) {
    if (vcpus_[cpu_].intena) {
      vcpus_[cpu_].off = {function, file, line, vcpus_[cpu_].current->id, step_};
    }
    SetIntena(false);
  }
  // Ghost, for contracts on interrupt delivery: where interrupts last went from on to off on a
  // vCPU, and on which fiber. Kept by the simulator (intr_off's call site, or a trap's entry),
  // never derived from state the model maintains. function "" : they have not been turned off
  // since the run began (vCPUs start with interrupts off).
  struct InterruptsOff {
    const char* function = "";
    const char* file = "";  // "" for a trap's entry
    int line = 0;
    uint32_t fiber = 0;
    uint64_t step = 0;
    // "push_off (kernel_models/xv6/spinlock.cc:58) at step 120", "the trap entry at step 7", or
    // "nowhere: off since the run began".
    std::string Where() const;
  };
  const InterruptsOff& InterruptsOffBy(int cpu) const { return vcpus_[cpu].off; }
  // The virtual time at which vCPU `cpu`'s timer interrupt became pending; UINT64_MAX when none
  // is pending.
  uint64_t TimerPendingSince(int cpu) const {
    return vcpus_[cpu].timer_pending ? vcpus_[cpu].timer_pending_since : UINT64_MAX;
  }
  // Raises external interrupt line `line` (1..kMaxExternalLines) until a vCPU takes it.
  void RaiseExternal(int line);
  // Calls `fire` (device side: no points, no switches) when `delay` ticks have passed.
  void AddOneShot(uint64_t delay, std::function<void()> fire);
  // Counts a visit to a rare interleaving the model marks (FoundationDB's habit), so a test can
  // prove that exploration reaches it. `site` must be a string literal. Not part of the trace.
  void Mark(const char* site);
  // Records a model event in the trace. `label` must be a string literal.
  void Note(const char* label, uint64_t a = 0, uint64_t b = 0) {
    Record(EventKind::kNote, a, b, label);
  }

  // ---- Called by the instrumentation runtime (sim/instrumentation.h) ----

  // The running simulator while accesses are points (access granularity, inside a run, outside
  // ghost code and the simulator's own work), else null.
  static Simulator* points() { return cell_points_; }
  // Ghost code: while one is alive, no access is a point (cells and instrumented code alike).
  // For what the modelled kernel does not do but a model's checkers keep (shadow state, checks
  // called from model code on a fiber), so that it cannot perturb the schedule.
  class Ghost {
   public:
    Ghost() : saved_(cell_points_) { cell_points_ = nullptr; }
    ~Ghost() { cell_points_ = saved_; }
    Ghost(const Ghost&) = delete;
    Ghost& operator=(const Ghost&) = delete;
    // Points again, inside a ghost, while one is alive (real work called from ghost code).
    class Pause {
     public:
      explicit Pause(const Ghost& ghost) : saved_(cell_points_) { cell_points_ = ghost.saved_; }
      ~Pause() { cell_points_ = saved_; }
      Pause(const Pause&) = delete;
      Pause& operator=(const Pause&) = delete;

     private:
      Simulator* saved_;
    };

   private:
    Simulator* saved_;
  };
  // A point before an instrumented access to `cell` by the code at `pc`; then records it.
  // `spin`: an atomic read-modify-write that will leave memory as it was (a failed test-and-set
  // or compare-and-swap), which is one failed iteration of a spin-wait: the vCPU is spinning
  // until a store changes memory (see Spin and EndSpins).
  void InstrumentedAccess(uint32_t cell, AccessKind kind, const void* pc, bool spin);
  // An instrumented access that is no point but takes as long as one (per-CPU memory declared to
  // pass time: sim/instrumentation.h): it counts toward SimOptions::accesses_per_tick, and a tick
  // it completes passes at the next instrumented access that is a point and not a spin-wait
  // iteration (all owed ticks at once, deterministically). No step, no decision. Returns true,
  // counting nothing, when kMaxTicksOwed are owed already: the caller must make this access a
  // point, which pays them, so that code that touches only such memory (a loop over its own
  // struct cpu with interrupts off) still reaches points, the step budget and liveness checks.
  bool PassTime();
  static constexpr uint32_t kMaxTicksOwed = 16;
  // An instrumented store changed memory: spinning vCPUs may get through now, and checkers may
  // see a difference.
  void InstrumentedStoreChanged() { EndSpins(); }
  // The fiber whose stack holds `address` (its usable region), or null.
  const Fiber* FiberOwningStack(uintptr_t address) const;
  // Fibers created so far (ids are 0..fiber_count()-1).
  uint32_t fiber_count() const { return static_cast<uint32_t>(fibers_.size()); }
  // Counts Simulator objects created in this process: the instrumentation runtime resets its
  // per-run state (shadow call stacks) when this changes.
  static uint64_t serial() { return serial_; }

  // Where the running simulation stands, for a crash report written from a signal handler
  // (plain fields only; no allocation). Null when no simulation runs on this thread.
  struct Whereabouts {
    uint64_t step;
    int cpu;
    uint32_t fiber;
    const char* fiber_name;
  };
  static bool Where(Whereabouts* out) {
    const Simulator* sim = active_;
    if (sim == nullptr) return false;
    const Fiber* f = sim->vcpus_[sim->cpu_].current;
    *out = {sim->step_, sim->cpu_, f != nullptr ? f->id : 0, f != nullptr ? f->name.c_str() : ""};
    return true;
  }

  int cpu() const { return cpu_; }  // the running vCPU
  // The fiber current on vCPU `cpu` (running, or paused at a point).
  const Fiber* CurrentOn(int cpu) const { return vcpus_[cpu].current; }
  // The vCPU `fiber` is current on, or -1.
  int RunningOn(const Fiber* fiber) const {
    return fiber->state == Fiber::State::kRunning ? fiber->cpu : -1;
  }
  // Fiber ids are dense and given in creation order.
  uint32_t FiberId(const Fiber* fiber) const { return fiber->id; }
  int cpus() const { return static_cast<int>(vcpus_.size()); }
  Fiber* current() const { return vcpus_[cpu_].current; }
  // Whether `address` is on the running fiber's stack. Read from members that every switch
  // updates (NoteRunning), so that the instrumentation's first filter, which every hook runs,
  // costs no walk through vcpus_ to the fiber.
  bool OnRunningStack(uintptr_t address) const {
    return address - running_stack_base_ < running_stack_size_;
  }
  // current()->id, from the same members.
  uint32_t running_fiber_id() const { return running_fiber_id_; }
  uint64_t now() const { return now_; }
  uint64_t step() const { return step_; }
  Decider& decider() { return decider_; }
  const Trace& trace() const { return trace_; }
  std::vector<std::string> FiberNames() const;
  std::vector<uint32_t> BootFiberIds() const;
  const std::string& FiberName(const Fiber* fiber) const;

 private:
  struct Vcpu {
    Fiber* boot = nullptr;
    Fiber* current = nullptr;
    bool intena = false;
    bool idle = false;  // in wfi with nothing pending
    // The vCPU's last step was a failed spin-wait iteration in spin epoch `spin_epoch`. Any
    // other kind of step starts a new epoch (it may have released the lock), so only vCPUs that
    // all spun within the current epoch are stuck.
    bool spinning = false;
    uint64_t spin_epoch = 0;
    bool timer_pending = false;
    uint64_t timer_pending_since = 0;  // the time timer_pending was last set
    InterruptsOff off;                 // ghost: see InterruptsOffBy
    uint64_t timer_period = 0;
    uint64_t next_timer = 0;
    uint64_t last_ran = 0;  // the last step it was chosen at
    // Access points a pending interrupt still lets pass before it is taken; -1: not drawn yet.
    int defer = -1;
  };
  // The most access points a pending interrupt may let pass (access granularity).
  static constexpr uint32_t kInterruptDeferMax = 15;
  struct OneShot {
    uint64_t time;
    uint64_t sequence;  // ties are broken by insertion order, never by addresses
    std::function<void()> fire;
    // The heap's order: earliest time first, then insertion order.
    static bool Later(const OneShot& a, const OneShot& b) {
      return std::tie(a.time, a.sequence) > std::tie(b.time, b.sequence);
    }
  };
  // kInstrumentedTick: an instrumented access that also passes time (accesses_per_tick).
  // kInstrumentedAccess: compiler-instrumented code's access (sim/instrumentation.h);
  // kInstrumentedTick: one of those that also passes time (SimOptions::accesses_per_tick).
  enum class StepKind { kPoint, kSpin, kWait, kInstrumentedAccess, kInstrumentedTick };
  static bool IsAccess(StepKind kind) {
    return kind == StepKind::kInstrumentedAccess || kind == StepKind::kInstrumentedTick;
  }

  static void FiberStart(void* fiber);
  void EndSpins();
  // Reports a kGlobalCell write for the step now running (see "Accesses").
  void ReportGlobal(uint32_t cell = kGlobalCell) {
    if (observer_ != nullptr) {
      // The decider's position is the step whose work is running now (see "Accesses").
      const int cpu = decider_.position_cpu();
      observer_->OnAccess({decider_.position_step(), cell, vcpus_[cpu].current->id,
                           AccessKind::kReadModifyWrite, static_cast<uint8_t>(cpu)});
    }
  }
  void SetIntena(bool on) {
    changed_ |= vcpus_[cpu_].intena != on;
    vcpus_[cpu_].intena = on;
  }
  void Step(StepKind kind, const void* pc, uint32_t cell = 0, PointKind point = PointKind::kPoint);
  void AdvanceTime();
  void CheckInvariants();
  void FireDueTimers();
  bool PendingFor(int cpu) const;
  int PickNext(StepKind kind);
  void AdvanceToNextEvent();
  void DeliverInterrupts(StepKind kind, uint32_t cell);
  [[noreturn]] void End(Outcome::Kind kind, std::string invariant, std::string message);
  void Record(EventKind kind, uint64_t a, uint64_t b, const char* label = nullptr);
  // Updates OnRunningStack and running_fiber_id to vcpus_[cpu_].current. Call it after every
  // change of cpu_ or of a vCPU's current fiber and before switching into that fiber (Run,
  // Switch, Step's preemption); outside a run the members are stale.
  void NoteRunning() {
    const Fiber* running = vcpus_[cpu_].current;
    const arch::Stack& stack = running->stack;
    running_fiber_id_ = running->id;
    running_stack_base_ = reinterpret_cast<uintptr_t>(stack.base());
    running_stack_size_ = stack.size();
  }

  // The running simulator while cell accesses are points (a run at access granularity, outside
  // checkers and timer callbacks); null otherwise. One host thread runs one simulation at a time.
  static inline thread_local Simulator* cell_points_ = nullptr;
  static inline thread_local Simulator* active_ = nullptr;  // between Run's start and end
  static inline uint64_t serial_ = 0;

  SimOptions options_;
  Decider& decider_;
  Machine* machine_ = nullptr;
  AccessObserver* observer_ = nullptr;
  StreamId interrupt_stream_ = 0;  // opened at the first deferrable interrupt
  // Cells that interrupt handlers have accessed in this run (on the interrupted fiber, before
  // it switches away): where a pending interrupt may land (DeliverInterrupts).
  absl::flat_hash_set<uint32_t> handler_cells_;
  uint32_t trap_fiber_ = 0;  // 1 + the fiber running a handler; 0: none
  Trace trace_;
  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::vector<Vcpu> vcpus_;
  std::vector<std::pair<std::string, Checker>> invariants_;
  std::vector<std::pair<std::vector<std::string>, GroupChecker>> invariant_groups_;
  std::string why_;  // a checker's explanation; a member so a passing step allocates nothing
  std::vector<std::pair<const char*, uint64_t>> marks_;
  std::vector<OneShot> one_shots_;  // a min-heap on (time, sequence)
  uint64_t one_shot_sequence_ = 0;
  uint64_t next_due_ = 0;          // no timer of either kind is due before this time
  uint32_t external_pending_ = 0;  // bit per line
  arch::Context host_;
  int cpu_ = 0;
  uintptr_t running_stack_base_ = 0;  // vcpus_[cpu_].current's stack (NoteRunning)
  size_t running_stack_size_ = 0;
  uint32_t running_fiber_id_ = 0;
  uint64_t step_ = 0;
  uint64_t now_ = 0;
  uint64_t last_progress_ = 0;
  uint64_t spin_epoch_ = 1;
  int steps_this_tick_ = 0;
  uint32_t accesses_this_tick_ = 0;  // instrumented accesses since the last one that passed time
  uint32_t ticks_owed_ = 0;          // ticks that accesses that were no points made pass (PassTime)
  bool running_ = false;
  bool ended_ = false;
  // Something an invariant checker reads may have changed since the last check.
  bool changed_ = true;
  Outcome outcome_;
};

}  // namespace switchyard::sim

#endif  // SWITCHYARD_SIM_SIMULATOR_H_
