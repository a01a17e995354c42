// Boot and the tracing thread: the host-side half of every switch (arch/um/kernel/trap_user.c and
// process.c in 2.4-era UML).
#include "absl/strings/str_cat.h"
#include "kernel_models/uml/kernel.h"

namespace switchyard::uml {

namespace {

PositionFlaw FlawOf(Bug bug) {
  switch (bug) {
    case Bug::kWrapOffByOne:
      return PositionFlaw::kWrapOffByOne;
    case Bug::kPositionModulo:
      return PositionFlaw::kSlotIndexPosition;
    default:
      return PositionFlaw::kNone;
  }
}

}  // namespace

Kernel::Kernel(const Config& config, sim::Simulator& sim)
    : config_(config),
      sim_(sim),
      flaw_(FlawOf(config.bug)),
      workload_stream_(sim.decider().Stream("workload")),
      runqueue_stream_(sim.decider().Stream("runqueue")),
      pressure_stream_(sim.decider().Stream("pressure")),
      frames_stream_(sim.decider().Stream("frames")),
      reclaim_stream_(sim.decider().Stream("reclaim")),
      workload_(config.workload, config.pages, sim.decider(), workload_stream_) {
  SY_CHECK(config.slots >= 1);
  SY_CHECK(config.pages >= 1);
  SY_CHECK(config.frames >= 1);
  SY_CHECK(config.timer_period >= 1);
  SY_CHECK(config.max_tasks >= kKernelThreads + 1 && config.max_tasks <= kMaxTasks);
  SY_CHECK(sim.cpus() == 1);  // UML then was uniprocessor
  sim.SetMachine(this);
  frames_.resize(static_cast<size_t>(config.frames));
  for (int i = 0; i < kMaxTasks; ++i) task_[i].kernel = this;
  tracer_thread_ = sim.CreateFiber("tracing-thread", &Kernel::TracerMain, this);
  sim.SetBootFiber(0, tracer_thread_);
  // Swarm-style: each run draws how hard memory is pressed, and where the timer starts.
  pressure_odds_ = 1 + static_cast<int>(sim.decider().Choose(pressure_stream_, 4));
  sim::StreamId phase = sim.decider().Stream("timer-phase");
  uint64_t first = 1 + sim.decider().Choose(phase, static_cast<uint32_t>(config.timer_period));
  sim.SetPeriodicTimer(0, config.timer_period, first);
  AddInvariants();
}

Kernel::~Kernel() {
  for (mm_struct* mm : mms_) sim::ArenaDelete(mm);
}

void Kernel::TracerMain(void* arg) { static_cast<Kernel*>(arg)->tracer(); }

void Kernel::TaskMain(void* arg) {
  task_struct* p = static_cast<task_struct*>(arg);
  p->kernel->ret_from_fork();
}

// Creates the idle task, kswapd and the boot processes, each a stopped host process.
void Kernel::start_kernel() {
  idle_ = alloc_task(task_struct::kIdle, "swapper");
  idle_->state = TASK_RUNNING;
  kswapd_task_ = alloc_task(task_struct::kKswapd, "kswapd");
  kswapd_task_->state = TASK_RUNNING;
  for (const Program* program : workload_.boot_programs()) {
    task_struct* p = alloc_task(task_struct::kUser, "init");
    SY_CHECK(p != nullptr);
    p->mm = mm_alloc();
    p->user.program = program;
    p->state = TASK_RUNNING;
  }
}

// The tracing thread. It boots the kernel, continues the idle task, and from then on performs
// every switch that a process hands it in switch_to(): stop the old host process, then continue
// the new one, never two running at once. An exiting process's host process is killed instead.
void Kernel::tracer() {
  start_kernel();
  continue_process(idle_);
  current_ = idle_;
  sim_.Switch(tracer_thread_, idle_->thread);
  for (;;) {
    // Back here: a process called switch_to() and is stopped in it (ptrace stops it).
    task_struct* prev = switch_prev_;
    task_struct* next = switch_next_;
    SY_CHECK(prev != nullptr && next != nullptr && prev != next);
    current_ = nullptr;
    if (config_.bug == Bug::kContinueBeforeStop) {
      // The planted bug: wake the new host process first.
      continue_process(next);
      sim_.Point();
      stop_process(prev);
    } else {
      if (prev->state == TASK_ZOMBIE) {
        kill_process(prev);
      } else {
        stop_process(prev);
      }
      // Between the stop and the continue the host can run anything else.
      sim_.Point();
      continue_process(next);
    }
    if (prev->state == TASK_ZOMBIE) {
      if (prev->host.alive) kill_process(prev);
      sim_.RetireFiber(prev->thread);
      prev->state = TASK_UNUSED;
      if (user_tasks() == 0) finish_workload();
    }
    switch_prev_ = switch_next_ = nullptr;
    current_ = next;
    sim_.Switch(tracer_thread_, next->thread);
  }
}

// kill(pid, SIGSTOP) and wait for the stop.
void Kernel::stop_process(task_struct* p) {
  SY_CHECK(p->host.alive);
  p->host.running = false;
  sim_.Note("host-stop", static_cast<uint64_t>(p->host.pid));
}

// ptrace(PTRACE_CONT): the host process runs again.
void Kernel::continue_process(task_struct* p) {
  SY_CHECK(p->host.alive);
  p->host.running = true;
  {
    sim::Simulator::Ghost ghost;  // checker state
    p->in_sync = false;
  }
  sim_.Note("host-continue", static_cast<uint64_t>(p->host.pid));
}

// kill(pid, SIGKILL): the host process and its address space are gone.
void Kernel::kill_process(task_struct* p) {
  p->host.running = false;
  p->host.alive = false;
  std::fill(p->host.map.begin(), p->host.map.end(), -1);
  sim_.Note("host-kill", static_cast<uint64_t>(p->host.pid));
}

int Kernel::user_tasks() const {
  int n = 0;
  for (int i = 0; i < config_.max_tasks; ++i) {
    const task_struct& p = task_[i];
    if (p.kind == task_struct::kUser && p.state != TASK_UNUSED) ++n;
  }
  return n;
}

// Every user process has exited: every frame must be free again.
void Kernel::finish_workload() {
  for (size_t f = 0; f < frames_.size(); ++f) {
    if (frames_[f].mm < 0) continue;
    std::string message =
        absl::StrCat("every process exited but frame ", f, " still belongs to mm ", frames_[f].mm);
    sim_.Fail("no-leaked-frames", std::move(message));
  }
  sim_.Finish();
}

const char* Kernel::StateName(task_state s) const {
  switch (s) {
    case TASK_UNUSED:
      return "TASK_UNUSED";
    case TASK_RUNNING:
      return "TASK_RUNNING";
    case TASK_INTERRUPTIBLE:
      return "TASK_INTERRUPTIBLE";
    case TASK_ZOMBIE:
      return "TASK_ZOMBIE";
  }
  return "?";
}

std::string Kernel::DescribeStuck() {
  sim::Simulator::Ghost ghost;  // a report, not the kernel's work
  std::string out = absl::StrCat("jiffies ", jiffies_);
  for (int i = 0; i < config_.max_tasks; ++i) {
    const task_struct& p = task_[i];
    if (p.state == TASK_UNUSED) continue;
    absl::StrAppend(&out, "; pid ", p.pid, " (", p.comm, ") ", StateName(p.state));
    if (&p == current_) absl::StrAppend(&out, ", current");
    if (p.state == TASK_INTERRUPTIBLE) {
      if (p.kind == task_struct::kKswapd) {
        absl::StrAppend(&out, " waiting for memory pressure");
      } else {
        absl::StrAppend(&out, " sleeping until tick ", p.wake_tick);
      }
    }
    absl::StrAppend(&out, ", host pid ", p.host.pid, p.host.running ? " running" : " stopped");
  }
  if (current_ == nullptr) absl::StrAppend(&out, "; the tracing thread is between switches");
  return out;
}

}  // namespace switchyard::uml
