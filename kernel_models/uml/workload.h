// The UML model's workload: what each simulated process does in user mode.
//
// A program is a list of actions drawn by the decider before the run starts (stream "workload"),
// so the schedule does not change what the processes try to do. Actions read and write pages of
// the process's address space, sleep for timer ticks, fork a child with a copy of the mm, create a
// thread that shares the mm (clone with CLONE_VM), reclaim memory in the process's own context
// (as an allocation under pressure does), and exit. Every program ends with an exit, so every
// workload terminates on a correct kernel.
#ifndef SWITCHYARD_KERNEL_MODELS_UML_WORKLOAD_H_
#define SWITCHYARD_KERNEL_MODELS_UML_WORKLOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/arena.h"
#include "sim/decider.h"

namespace switchyard::uml {

struct WorkloadOptions {
  int processes = 3;        // user processes started at boot, each with its own mm
  int program_length = 24;  // most actions in a program before its exit
  int depth = 2;            // how deep forks and clones nest below the boot processes
  int max_children = 8;     // forks and clones in the whole workload
  int sleep_ticks_max = 2;  // most timer ticks one sleep lasts
  int reclaim_max = 3;      // most pages a process reclaims itself in one action
  int pressure_max = 5;     // most pages one kswapd wakeup is asked to free
  // Relative weights of the actions the generator draws (0 disables one).
  int touch_weight = 8;
  int sleep_weight = 2;
  int fork_weight = 1;
  int clone_weight = 1;
  int reclaim_weight = 1;
};

enum class Op { kRead, kWrite, kSleep, kFork, kClone, kReclaim, kExit };

struct Program;

struct Action {
  Op op;
  int arg = 0;                     // page, ticks, or pages to reclaim
  const Program* child = nullptr;  // for kFork and kClone
};

struct Program {
  sim::ArenaVector<Action> actions;  // ends with kExit
};

// What one process is doing in user mode.
struct UserProcess {
  const Program* program = nullptr;
  int pc = 0;
};

class Workload {
 public:
  // Draws every program; `pages` is the size of each address space.
  Workload(const WorkloadOptions& options, int pages, sim::Decider& decider, sim::StreamId stream);
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;
  // The programs of the processes started at boot.
  const sim::ArenaVector<const Program*>& boot_programs() const { return boot_; }
  // Processes the workload creates in all (boot processes, forks and clones).
  int processes() const { return processes_; }

 private:
  const Program* Generate(int depth);
  Program* New();

  WorkloadOptions options_;
  int pages_;
  sim::Decider& decider_;
  sim::StreamId stream_;
  sim::ArenaVector<Program*> programs_;
  sim::ArenaVector<const Program*> boot_;
  int children_ = 0;
  int processes_ = 0;
};

}  // namespace switchyard::uml

#endif  // SWITCHYARD_KERNEL_MODELS_UML_WORKLOAD_H_
