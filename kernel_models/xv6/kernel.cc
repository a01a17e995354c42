// Boot (kernel/main.c), panic, and the model's bookkeeping around the kernel.
#include "kernel_models/xv6/kernel.h"

#include "absl/strings/str_cat.h"
#include "sim/instrumentation.h"

namespace switchyard::xv6 {

Kernel::Kernel(const Config& config, sim::Simulator& sim)
    : config_(config),
      sim_(sim),
      workload_stream_(sim.decider().Stream("workload")),
      disk_stream_(sim.decider().Stream("disk-latency")),
      workload_(config.workload, sim.decider(), workload_stream_) {
  SY_CHECK(config.ncpu >= 1 && config.ncpu <= kMaxCpus);
  SY_CHECK(config.nproc >= 2 && config.nproc <= kMaxProcs);
  SY_CHECK(config.ncpu == sim.cpus());
  // The model's own members are never points; struct cpu and sepc are per-CPU (kernel.h).
  sim::Instrumentation::DeclareForRun(this,
                                      static_cast<size_t>(reinterpret_cast<const char*>(&cpus_) -
                                                          reinterpret_cast<const char*>(this)),
                                      sim::Instrumentation::RunMemory::kPrivate);
  sim::Instrumentation::DeclareForRun(cpus_, sizeof cpus_,
                                      sim::Instrumentation::RunMemory::kPerCpu);
  sim::Instrumentation::DeclareForRun(sepc_, sizeof sepc_,
                                      sim::Instrumentation::RunMemory::kPerCpu);
  sim.SetMachine(this);
  initlock(&pid_lock_, "nextpid");
  initlock(&wait_lock_, "wait_lock");
  initlock(&tickslock_, "time");
  initlock(&disk_.vdisk_lock, "virtio_disk");
  for (proc* p = proc_; p < &proc_[config.nproc]; p++) {
    initlock(&p->lock, "proc");
    p->kernel = this;
  }
  sems_.resize(workload_.semaphores());
  for (semaphore& s : sems_) initlock(&s.lock, "semaphore");

  sim::StreamId phase = sim.decider().Stream("timer-phase");
  for (int i = 0; i < config.ncpu; ++i) {
    cpus_[i].context =
        sim.CreateFiber(absl::StrCat("cpu", i, "-scheduler"), &Kernel::SchedulerMain, this);
    sim.SetBootFiber(i, cpus_[i].context);
    uint64_t first = 1 + sim.decider().Choose(phase, static_cast<uint32_t>(config.timer_period));
    sim.SetPeriodicTimer(i, config.timer_period, first);
  }
  if (config.swtch_emulated || config.bug == Bug::kSwtchForgetsS11 ||
      config.bug == Bug::kContextOutOfOrder) {
    swtch_emu_ = std::make_unique<EmulatedSwtch>(
        config.bug == Bug::kSwtchForgetsS11     ? EmulatedSwtch::Variant::kForgetsS11
        : config.bug == Bug::kContextOutOfOrder ? EmulatedSwtch::Variant::kContextOutOfOrder
                                                : EmulatedSwtch::Variant::kCorrect,
        config.nproc + config.ncpu);
  }
  AddInvariants();
}

// main(): cpu 0 creates the first process; every CPU then runs its scheduler.
void Kernel::SchedulerMain(void* arg) {
  Kernel* k = static_cast<Kernel*>(arg);
  if (k->cpuid() == 0) {
    k->userinit();  // first user process
    __sync_synchronize();
    k->started_ = 1;
  } else {
    while (k->started_ == 0) k->sim_.Spin();
    __sync_synchronize();
  }
  k->scheduler();
}

void Kernel::ForkretMain(void* arg) {
  proc* p = static_cast<proc*>(arg);
  Kernel* kernel;
  {
    sim::Simulator::Ghost model;  // the model's back pointer, not xv6's memory
    kernel = p->kernel;
  }
  kernel->forkret();
  kernel->UserMain();
}

void Kernel::panic(const char* site) {
  sim::Simulator::Ghost report;  // the message, not the kernel's work: never a point
  proc* p = cpus_[cpuid()].proc;
  std::string message = absl::StrCat("panic(\"", site, "\") on cpu", cpuid(),
                                     p != nullptr ? absl::StrCat(" in pid ", p->pid) : "");
  sim_.Fail(absl::StrCat("panic: ", site), std::move(message));
}

const char* Kernel::StateName(procstate s) const {
  switch (s) {
    case UNUSED:
      return "UNUSED";
    case USED:
      return "USED";
    case SLEEPING:
      return "SLEEPING";
    case RUNNABLE:
      return "RUNNABLE";
    case RUNNING:
      return "RUNNING";
    case ZOMBIE:
      return "ZOMBIE";
  }
  return "?";
}

std::string Kernel::ChanName(const void* chan) const {
  if (chan == nullptr) return "nothing";
  if (chan == &ticks_) return "ticks (sleep)";
  for (int i = 0; i < config_.nproc; ++i) {
    if (chan == &proc_[i]) return absl::StrCat("proc[", i, "] (wait for a child)");
    if (chan == &proc_[i].b) return absl::StrCat("the disk buffer of proc[", i, "]");
  }
  for (size_t i = 0; i < sems_.size(); ++i) {
    if (chan == &sems_[i]) return absl::StrCat("semaphore ", i);
  }
  return "an unknown channel";
}

std::string Kernel::DescribeStuck() {
  std::string out;
  for (int i = 0; i < config_.nproc; ++i) {
    const proc& p = proc_[i];
    if (p.state == UNUSED) continue;
    absl::StrAppend(&out, out.empty() ? "" : "; ", "pid ", p.pid, " ", StateName(p.state));
    if (p.state == SLEEPING) absl::StrAppend(&out, " on ", ChanName(p.chan));
    if (p.lock.locked) absl::StrAppend(&out, ", its lock held");
  }
  for (int i = 0; i < config_.ncpu; ++i) {
    const spinlock* lk = spinning_on_[i];
    if (lk == nullptr) continue;
    int holder = lk->cpu == nullptr ? -1 : static_cast<int>(lk->cpu - cpus_);
    absl::StrAppend(&out, out.empty() ? "" : "; ", "cpu", i, " spins on lock '", lk->name, "'");
    for (int j = 0; j < config_.nproc; ++j) {
      if (lk == &proc_[j].lock) absl::StrAppend(&out, " of pid ", proc_[j].pid);
    }
    if (lk->locked) {
      absl::StrAppend(&out, " held by cpu", holder);
    } else {
      absl::StrAppend(&out, " (free now)");
    }
  }
  return out.empty() ? "no processes" : out;
}

}  // namespace switchyard::xv6
