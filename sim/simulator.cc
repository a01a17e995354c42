#include "sim/simulator.h"

#include <malloc.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace switchyard::sim {

const char* KindName(Outcome::Kind kind) {
  switch (kind) {
    case Outcome::Kind::kPass:
      return "pass";
    case Outcome::Kind::kSafety:
      return "safety violation";
    case Outcome::Kind::kLiveness:
      return "liveness violation";
    case Outcome::Kind::kDiverged:
      return "replay diverged";
    case Outcome::Kind::kCrash:
      return "crash";
    case Outcome::Kind::kHang:
      return "hang";
  }
  return "?";
}

namespace {

// Keeps the memory a run frees in the process for the next run. A run grows its decision log
// (one entry per schedule choice: tens of thousands at access granularity) and its other vectors
// by doubling; with glibc's defaults the large blocks are mmapped or trimmed from the heap's top
// when freed, so every run faulted them in again, page by page: two thirds of the CPU time of
// an instrumented run (bench/README.md, "Instrumented code"). Only where memory comes from
// changes, never what a run does. Once per process, at the first Simulator.
void KeepFreedMemory() {
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);   // glibc's largest: blocks below it come from the heap
    mallopt(M_TRIM_THRESHOLD, 256 << 20);  // give the heap's top back only above this
    mallopt(M_TOP_PAD, 16 << 20);          // and grow it in large steps
    return true;
  }();
  (void)done;
}

}  // namespace

const char* GranularityName(Granularity granularity) {
  return granularity == Granularity::kAccess ? "access" : "coarse";
}

Simulator::Simulator(const SimOptions& options, Decider& decider)
    : options_(options),
      decider_(decider),
      trace_(options.keep_trace),
      host_(arch::HostContext("simulator")) {
  KeepFreedMemory();
  observer_ = options.access_observer;
  SY_CHECK(options.cpus >= 1 && options.cpus <= kMaxCpus);
  vcpus_.resize(options.cpus);
  ++serial_;
}

Simulator::~Simulator() {
  if (cell_points_ == this) cell_points_ = nullptr;
  if (active_ == this) active_ = nullptr;
}

Fiber* Simulator::CreateFiber(std::string name, void (*entry)(void*), void* arg) {
  auto fiber = std::make_unique<Fiber>();
  fiber->sim = this;
  fiber->id = static_cast<uint32_t>(fibers_.size());
  fiber->name = std::move(name);
  fiber->stack = arch::Stack::Allocate(options_.stack_bytes);
  fibers_.push_back(std::move(fiber));
  Fiber* f = fibers_.back().get();
  ResetFiber(f, entry, arg);
  return f;
}

void Simulator::ResetFiber(Fiber* fiber, void (*entry)(void*), void* arg) {
  if (fiber->state == Fiber::State::kRunning) {
    Fail("stack-reused-while-running",
         absl::StrCat("a new thread is built on the stack of '", fiber->name,
                      "', which is still running on cpu", fiber->cpu));
  }
  changed_ = true;
  if (running_) ReportGlobal();
  fiber->entry = entry;
  fiber->arg = arg;
  fiber->state = Fiber::State::kFresh;
  fiber->cpu = -1;
  fiber->context = arch::Context{};
  fiber->context.name = fiber->name.c_str();
  arch::MakeContext(&fiber->context, fiber->stack, &Simulator::FiberStart, fiber);
}

void Simulator::RetireFiber(Fiber* fiber) {
  SY_CHECK(fiber->state != Fiber::State::kRunning);
  changed_ = true;
  if (running_) ReportGlobal();
  fiber->state = Fiber::State::kRetired;
}

void Simulator::FiberStart(void* arg) {
  Fiber* fiber = static_cast<Fiber*>(arg);
  // A fresh fiber may be first resumed from inside Step, where cell accesses are not points.
  Simulator* sim = fiber->sim;
  cell_points_ = sim->options_.granularity == Granularity::kAccess ? sim : nullptr;
  fiber->entry(fiber->arg);
  fiber->sim->Fail("fiber-returned", absl::StrCat("kernel thread '", fiber->name,
                                                  "' returned from its entry function"));
}

void Simulator::SetBootFiber(int cpu, Fiber* fiber) {
  SY_CHECK(!running_);
  SY_CHECK(cpu >= 0 && cpu < cpus());
  SY_CHECK(fiber->state == Fiber::State::kFresh);
  vcpus_[cpu].boot = fiber;
}

void Simulator::SetPeriodicTimer(int cpu, uint64_t period, uint64_t first) {
  SY_CHECK(cpu >= 0 && cpu < cpus());
  vcpus_[cpu].timer_period = period;
  vcpus_[cpu].next_timer = first;
  next_due_ = 0;  // recomputed at the next step
}

void Simulator::AddInvariant(std::string name, Checker checker) {
  invariants_.emplace_back(std::move(name), std::move(checker));
}

void Simulator::AddInvariants(std::vector<std::string> names, GroupChecker checker) {
  invariant_groups_.emplace_back(std::move(names), std::move(checker));
}

void Simulator::RaiseExternal(int line) {
  SY_CHECK(line >= 1 && line <= kMaxExternalLines);
  external_pending_ |= 1u << line;
}

void Simulator::AddOneShot(uint64_t delay, std::function<void()> fire) {
  one_shots_.push_back({now_ + delay, one_shot_sequence_++, std::move(fire)});
  next_due_ = std::min(next_due_, now_ + delay);
  std::push_heap(one_shots_.begin(), one_shots_.end(), &OneShot::Later);
}

std::vector<std::string> Simulator::FiberNames() const {
  std::vector<std::string> names;
  for (const auto& f : fibers_) names.push_back(f->name);
  return names;
}

std::vector<uint32_t> Simulator::BootFiberIds() const {
  std::vector<uint32_t> ids;
  for (const Vcpu& v : vcpus_) ids.push_back(v.boot->id);
  return ids;
}

const std::string& Simulator::FiberName(const Fiber* fiber) const { return fiber->name; }

void Simulator::Record(EventKind kind, uint64_t a, uint64_t b, const char* label) {
  trace_.Record(
      {step_, now_, vcpus_[cpu_].current->id, static_cast<uint8_t>(cpu_), kind, a, b, label});
}

Outcome Simulator::Run() {
  SY_CHECK(!running_);
  SY_CHECK(machine_ != nullptr);
  for (int i = 0; i < cpus(); ++i) {
    Vcpu& v = vcpus_[i];
    SY_CHECK(v.boot != nullptr);
    v.current = v.boot;
    v.boot->state = Fiber::State::kRunning;
    v.boot->cpu = i;
  }
  running_ = true;
  // The first vCPU to run is a schedule decision too (PCT starts with its highest priority).
  uint8_t all[kMaxCpus];
  for (int i = 0; i < cpus(); ++i) all[i] = static_cast<uint8_t>(i);
  cpu_ = all[decider_.PickCpu({all, static_cast<size_t>(cpus())}, 0)];
  decider_.SetPosition(0, cpu_);
  NoteRunning();
  cell_points_ = options_.granularity == Granularity::kAccess ? this : nullptr;
  active_ = this;
  arch::SwitchContext(&host_, &vcpus_[cpu_].current->context);
  // Back on the host stack: End() switched here.
  active_ = nullptr;
  cell_points_ = nullptr;
  outcome_.trace_hash = trace_.hash();
  return outcome_;
}

void Simulator::End(Outcome::Kind kind, std::string invariant, std::string message) {
  SY_CHECK(running_ && !ended_);
  ended_ = true;
  // No access is a point from here on, whoever called (a checker on a fiber, with points on):
  // what End runs, the machine's ExplainStuck, is not the model's work.
  cell_points_ = nullptr;
  outcome_.kind = kind;
  outcome_.invariant = std::move(invariant);
  outcome_.message = std::move(message);
  outcome_.step = step_;
  outcome_.time = now_;
  for (const auto& [name, count] : marks_) outcome_.marks.emplace_back(name, count);
  if (kind == Outcome::Kind::kLiveness) outcome_.stuck = machine_->ExplainStuck();
  std::sort(outcome_.marks.begin(), outcome_.marks.end());
  if (kind != Outcome::Kind::kPass) {
    Record(EventKind::kViolation, 0, 0,
           kind == Outcome::Kind::kDiverged ? "replay-diverged" : "violation");
  }
  arch::SwitchContext(&vcpus_[cpu_].current->context, &host_);
  __builtin_unreachable();  // nothing switches back to an ended run
}

void Simulator::Mark(const char* site) {
  for (auto& [name, count] : marks_) {
    if (std::strcmp(name, site) == 0) {
      ++count;
      return;
    }
  }
  marks_.emplace_back(site, 1);
}

void Simulator::Fail(std::string invariant, std::string message) {
  End(Outcome::Kind::kSafety, std::move(invariant), std::move(message));
}

void Simulator::FailLiveness(std::string invariant, std::string message) {
  End(Outcome::Kind::kLiveness, std::move(invariant), std::move(message));
}

void Simulator::Finish() { End(Outcome::Kind::kPass, "", ""); }

void Simulator::Switch(Fiber* from, Fiber* to) {
  Vcpu& v = vcpus_[cpu_];
  if (from != v.current) {
    Fail("switch-saves-running-thread",
         absl::StrCat("cpu", cpu_, " saves its running thread '", v.current->name,
                      "' into the context of '", from->name, "'"));
  }
  if (to->state == Fiber::State::kRunning) {
    if (to->cpu == cpu_) {
      Fail("resume-saved-context",
           absl::StrCat("cpu", cpu_, " switches to '", to->name, "', which is itself"));
    }
    Fail("one-thread-per-core", absl::StrCat("cpu", cpu_, " switches to '", to->name,
                                             "', which is running on cpu", to->cpu));
  }
  if (to->state == Fiber::State::kRetired) {
    Fail("no-resume-after-finish",
         absl::StrCat("cpu", cpu_, " switches to '", to->name, "', whose thread has finished"));
  }
  SY_CHECK(to->state == Fiber::State::kSaved || to->state == Fiber::State::kFresh);
  ++outcome_.switches;
  changed_ = true;
  ReportGlobal();
  Record(EventKind::kSwitch, from->id, to->id);
  from->state = Fiber::State::kSaved;
  from->cpu = -1;
  to->state = Fiber::State::kRunning;
  to->cpu = cpu_;
  v.current = to;
  NoteRunning();
  arch::SwitchContext(&from->context, &to->context);
}

void Simulator::AdvanceTime() {
  // The vCPUs that are not idle run in parallel on a real machine: one tick of virtual time
  // passes when each of them could have taken a step. (With one tick per step, a vCPU of an
  // 8-CPU machine would see its timer fire 8 times as often, measured in its own steps.)
  ReportGlobal(kTimeCell);
  int active = 0;
  for (const Vcpu& v : vcpus_) active += !v.idle;
  if (++steps_this_tick_ >= std::max(active, 1)) {
    steps_this_tick_ = 0;
    ++now_;
  }
}

void Simulator::Point() { PointAt(__builtin_return_address(0)); }

void Simulator::PointAt(const void* pc) { Step(StepKind::kPoint, pc); }

void Simulator::InstrumentedAccess(uint32_t cell, AccessKind kind, const void* pc, bool spin) {
  const PointKind point =
      static_cast<PointKind>(static_cast<int>(kind) + static_cast<int>(PointKind::kRead));
  if (spin) {
    vcpus_[cpu_].spinning = true;
    vcpus_[cpu_].spin_epoch = spin_epoch_;
    Step(StepKind::kSpin, pc, cell, point);
  } else if (options_.accesses_per_tick != 0 &&
             (++accesses_this_tick_ >= options_.accesses_per_tick || ticks_owed_ != 0)) {
    // This access stands for the explicit point that instrumented code does not have: time
    // passes here (see SimOptions::accesses_per_tick), with the ticks that accesses which were
    // no points owe (PassTime): the step passes one, the rest pass first.
    if (accesses_this_tick_ >= options_.accesses_per_tick) {
      accesses_this_tick_ = 0;
      ++ticks_owed_;
    }
    for (; ticks_owed_ > 1; --ticks_owed_) AdvanceTime();
    ticks_owed_ = 0;
    Step(StepKind::kInstrumentedTick, pc, cell, point);
  } else {
    Step(StepKind::kInstrumentedAccess, pc, cell, point);
  }
  if (observer_ != nullptr) {
    observer_->OnAccess({step_, cell, vcpus_[cpu_].current->id, kind, static_cast<uint8_t>(cpu_)});
  }
}

bool Simulator::PassTime() {
  if (options_.accesses_per_tick == 0) return false;
  if (ticks_owed_ >= kMaxTicksOwed) return true;  // this access is a point and pays them
  if (++accesses_this_tick_ >= options_.accesses_per_tick) {
    accesses_this_tick_ = 0;
    ++ticks_owed_;
  }
  return false;
}

const Fiber* Simulator::FiberOwningStack(uintptr_t address) const {
  for (const auto& f : fibers_) {
    const auto base = reinterpret_cast<uintptr_t>(f->stack.base());
    if (address >= base && address - base < f->stack.size()) return f.get();
  }
  return nullptr;
}

void Simulator::EndSpins() {
  changed_ = true;
  ++spin_epoch_;
  vcpus_[cpu_].spinning = false;
}

void Simulator::Spin() {
  vcpus_[cpu_].spinning = true;
  vcpus_[cpu_].spin_epoch = spin_epoch_;
  Step(StepKind::kSpin, __builtin_return_address(0), 0, PointKind::kSpin);
}

void Simulator::WaitForInterrupt() {
  if (!PendingFor(cpu_)) {
    vcpus_[cpu_].idle = true;
    Record(EventKind::kIdle, 0, 0);
  }
  Step(StepKind::kWait, __builtin_return_address(0), 0, PointKind::kWait);
}

bool Simulator::PendingFor(int cpu) const {
  return vcpus_[cpu].timer_pending || external_pending_ != 0;
}

void Simulator::CheckInvariants() {
  for (auto& [name, checker] : invariants_) {
    if (__builtin_expect(!checker(&why_), 0)) Fail(name, std::move(why_));
  }
  for (auto& [names, checker] : invariant_groups_) {
    int violated = checker(&why_);
    if (__builtin_expect(violated >= 0, 0)) {
      SY_CHECK(static_cast<size_t>(violated) < names.size());
      Fail(names[violated], std::move(why_));
    }
  }
}

std::string Simulator::InterruptsOff::Where() const {
  if (function[0] == 0) return "nowhere: off since the run began";
  std::string where = function;
  if (file[0] != 0) where += " (" + std::string(file) + ":" + std::to_string(line) + ")";
  return where + " at step " + std::to_string(step);
}

void Simulator::FireDueTimers() {
  changed_ = true;  // a timer or a device callback may have changed what checkers read
  ReportGlobal();
  for (Vcpu& v : vcpus_) {
    if (v.timer_period != 0 && v.next_timer <= now_) {
      if (!v.timer_pending) v.timer_pending_since = now_;
      v.timer_pending = true;
      v.idle = false;
      // A timer that fell behind (its vCPU was not scheduled) fires once, not once per period.
      while (v.next_timer <= now_) v.next_timer += v.timer_period;
    }
  }
  while (!one_shots_.empty() && one_shots_.front().time <= now_) {
    std::pop_heap(one_shots_.begin(), one_shots_.end(), &OneShot::Later);
    std::function<void()> fire = std::move(one_shots_.back().fire);
    one_shots_.pop_back();
    fire();
  }
  if (external_pending_ != 0) {
    for (Vcpu& v : vcpus_) v.idle = false;
  }
  next_due_ = one_shots_.empty() ? UINT64_MAX : one_shots_.front().time;
  for (const Vcpu& v : vcpus_) {
    if (v.timer_period != 0) next_due_ = std::min(next_due_, v.next_timer);
  }
}

void Simulator::AdvanceToNextEvent() {
  uint64_t next = UINT64_MAX;
  for (const Vcpu& v : vcpus_) {
    if (v.timer_period != 0) next = std::min(next, v.next_timer);
  }
  if (!one_shots_.empty()) next = std::min(next, one_shots_.front().time);
  if (next == UINT64_MAX) {
    // Build the message first: temporaries of the call's own expression would never be
    // destroyed, because FailLiveness does not return.
    std::string message = absl::StrCat("every vCPU waits for an interrupt and no timer is set; ",
                                       machine_->DescribeStuck());
    FailLiveness("deadlock", std::move(message));
  }
  now_ = std::max(now_, next);
  FireDueTimers();
}

int Simulator::PickNext(StepKind kind) {
  const int n = cpus();
  for (;;) {
    uint8_t candidates[kMaxCpus];
    uint32_t count = 0;
    bool all_stuck_spinning = true;
    for (int k = 0, c = cpu_; k < n; ++k, c = c + 1 == n ? 0 : c + 1) {
      // the running vCPU first, then round robin
      const Vcpu& v = vcpus_[c];
      if (v.idle) {
        all_stuck_spinning = false;
        continue;
      }
      const bool stuck = v.spinning && v.spin_epoch == spin_epoch_ && !v.intena;
      if (!stuck) all_stuck_spinning = false;
      if (c == cpu_ && kind == StepKind::kSpin) continue;  // it just failed; let another run
      // Nothing has changed since it last failed, and no interrupt can reach it: running it
      // again is a step in which nothing happens. Leaving it out keeps a schedule that favours
      // spinners from starving the lock's holder.
      if (stuck) continue;
      candidates[count++] = static_cast<uint8_t>(c);
    }
    if (all_stuck_spinning) {
      std::string message =
          absl::StrCat("every vCPU spins with interrupts off; ", machine_->DescribeStuck());
      FailLiveness("deadlock", std::move(message));
    }
    if (count == 0) {
      if (kind == StepKind::kSpin && !vcpus_[cpu_].idle) return cpu_;  // others are all idle
      AdvanceToNextEvent();
      continue;
    }
    uint32_t starved = 0;
    for (uint32_t i = 1; i < count; ++i) {
      if (step_ - vcpus_[candidates[i]].last_ran > options_.fairness_window_steps &&
          (starved == 0 || vcpus_[candidates[i]].last_ran < vcpus_[candidates[starved]].last_ran)) {
        starved = i;
      }
    }
    uint32_t index = starved != 0 ? starved : decider_.PickCpu({candidates, count}, step_);
    SY_CHECK(index < count);
    vcpus_[candidates[index]].last_ran = step_;
    return candidates[index];
  }
}

void Simulator::Step(StepKind kind, const void* pc, uint32_t cell, PointKind point) {
  if (__builtin_expect(trap_fiber_ != 0, 0) && options_.interrupts_at_handler_footprint &&
      IsAccess(kind) && trap_fiber_ == vcpus_[cpu_].current->id + 1) {
    handler_cells_.insert(cell);
  }
  ++step_;
  if (trace_.keeps_records()) {
    trace_.RecordPoint(
        {step_, vcpus_[cpu_].current->id, cell, static_cast<uint8_t>(cpu_), point, pc});
  }
  // The simulator's own work (checkers, timer callbacks, liveness reports) reads cells without
  // making points; the model's trap handler, run by DeliverInterrupts, makes them again.
  Simulator* const points = cell_points_;
  cell_points_ = nullptr;
  // Time is counted in the model's explicit points, at either granularity (see CoarsePoint), so
  // timer periods and liveness budgets mean the same amount of work at both.
  if (kind != StepKind::kInstrumentedAccess) AdvanceTime();
  // A spin loop's own cell reads do not end its spin; a store that changes a cell does (EndSpins).
  if (kind != StepKind::kSpin && !IsAccess(kind)) {
    vcpus_[cpu_].spinning = false;
    ++spin_epoch_;
  }
  if (changed_ || !IsAccess(kind) || options_.check_every_step) {
    changed_ = false;
    if (!invariants_.empty() || !invariant_groups_.empty()) CheckInvariants();
  }
  if (decider_.divergence()) {
    End(Outcome::Kind::kDiverged, "replay-diverged", decider_.divergence()->detail);
  }
  if (step_ >= options_.max_steps) {
    std::string message = absl::StrCat("the run took ", options_.max_steps,
                                       " steps without finishing; ", machine_->DescribeStuck());
    FailLiveness("step-budget", std::move(message));
  }
  if (now_ - last_progress_ > options_.progress_budget_ticks) {
    std::string message = absl::StrCat("no progress for ", options_.progress_budget_ticks,
                                       " ticks; ", machine_->DescribeStuck());
    FailLiveness("no-progress", std::move(message));
  }
  if (decider_.wants_accesses() && point >= PointKind::kRead) {
    decider_.NoteAccess(cpu_, cell, point != PointKind::kRead, step_);
  }
  if (now_ >= next_due_ || external_pending_ != 0) FireDueTimers();
  int next = PickNext(kind);
  decider_.SetPosition(step_, next);
  if (next != cpu_) {
    const Vcpu& was = vcpus_[cpu_];
    if (!was.idle && !(kind == StepKind::kSpin)) ++outcome_.preemptions;
    int previous = cpu_;
    Fiber* from = was.current;
    cpu_ = next;
    NoteRunning();
    trace_.RecordCpu(step_, now_, vcpus_[cpu_].current->id, static_cast<uint8_t>(cpu_),
                     static_cast<uint64_t>(previous));
    arch::SwitchContext(&from->context, &vcpus_[next].current->context);
    // Resumed: whoever switched here set cpu_ to this fiber's vCPU.
  }
  vcpus_[cpu_].idle = false;
  cell_points_ = points;
  // DeliverInterrupts' own first test, kept here so that a step with nothing to deliver makes
  // no call.
  if (vcpus_[cpu_].intena && PendingFor(cpu_)) DeliverInterrupts(kind, cell);
}

void Simulator::DeliverInterrupts(StepKind kind, uint32_t cell) {
  Vcpu& here = vcpus_[cpu_];
  if (!here.intena || !PendingFor(cpu_)) return;
  if (IsAccess(kind)) {
    // SimOptions::interrupts_at_handler_footprint. In compiler-instrumented code every access
    // is a point, most of them to memory no interrupt handler touches. An interrupt that lands
    // before such an access is the same execution as one that lands before the next access
    // that conflicts with a handler, or at the next point that is not an access (where it is
    // delivered at once), as long as the handler does not switch away. So only accesses to the
    // handlers' footprint are landing places then. The footprint is learned as the run goes
    // (the cells handlers have accessed so far, on the interrupted fiber): until the first
    // interrupt every access is a landing place, and a cell a handler first touches later in
    // the run is not one before then. A heuristic reduction of where interrupts land, not of
    // what they may do.
    if (options_.interrupts_at_handler_footprint && !handler_cells_.empty() &&
        !handler_cells_.contains(cell)) {
      return;
    }
    // Virtual time passes only at explicit points, so "when" an interrupt arrives within a tick
    // is which of the following accesses it lands before: the decider picks how many it lets
    // pass. (Otherwise every interrupt would land on the first access after a tick, and a window
    // later in the tick could never be hit.)
    if (here.defer < 0) {
      if (interrupt_stream_ == 0) interrupt_stream_ = decider_.Stream("interrupt-delay");
      here.defer = static_cast<int>(decider_.Choose(interrupt_stream_, kInterruptDeferMax + 1));
    }
    if (here.defer > 0) {
      --here.defer;
      return;
    }
  }
  here.defer = -1;
  for (;;) {
    Vcpu& v = vcpus_[cpu_];
    if (!v.intena) return;
    int line;
    if (v.timer_pending) {
      v.timer_pending = false;
      line = kTimerLine;
    } else if (external_pending_ != 0) {
      line = __builtin_ctz(external_pending_);
      external_pending_ &= ~(1u << line);
    } else {
      return;
    }
    ++outcome_.interrupts;
    changed_ = true;
    ReportGlobal();
    Record(EventKind::kInterrupt, static_cast<uint64_t>(line), 0);
    v.intena = false;  // the trap entry turns interrupts off, as hardware does
    v.off = {"the trap entry", "", 0, v.current->id, step_};
    const uint32_t saved_trap_fiber = trap_fiber_;
    trap_fiber_ = v.current->id + 1;
    machine_->Trap(cpu_, line);
    trap_fiber_ = saved_trap_fiber;
    // The handler may have switched away and come back on another vCPU; sret turns interrupts
    // back on there.
    vcpus_[cpu_].intena = true;
    changed_ = true;
  }
}

}  // namespace switchyard::sim
