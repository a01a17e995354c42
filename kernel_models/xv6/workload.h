// The xv6 model's workload: what each simulated process does in user mode.
//
// A program is a list of actions drawn by the decider before the run starts (stream
// "workload"), so the schedule does not change what the processes try to do. Actions compute,
// fork a child with its own program, wait for a child and check its exit status, read the disk
// (sleeping on the I/O), sleep for clock ticks, signal or wait on a semaphore shared with a
// child, kill a child, and exit with a code.
//
// The generator keeps every workload terminating on a correct kernel: a child that waits on a
// semaphore is forked by a parent whose next actions signal it before the parent waits or exits,
// and only children with no semaphore to signal may be killed.
#ifndef SWITCHYARD_KERNEL_MODELS_XV6_WORKLOAD_H_
#define SWITCHYARD_KERNEL_MODELS_XV6_WORKLOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/decider.h"

namespace switchyard::xv6 {

struct WorkloadOptions {
  int children = 3;        // processes init forks
  int program_length = 6;  // most actions in a program (before its exit)
  int depth = 2;           // how deep forks nest below init's children
  int max_forks = 12;      // forks in the whole workload
  int compute_max = 8;     // most user-mode steps in one compute action
  int disk_latency_max = 40;
  int sleep_ticks_max = 2;
  // Which actions the generator may draw.
  bool fork = true;
  bool disk = true;
  bool sleep_ticks = true;
  bool semaphores = true;
  bool kill = true;
};

enum class Op {
  kCompute,
  kFork,
  kWait,
  kDiskRead,
  kSleepTicks,
  kSemUp,
  kSemDown,
  kKill,
  kExit,
  kReapAllAndHalt
};

struct Program;

struct Action {
  Op op;
  int arg = 0;                     // steps, ticks, semaphore id, block number, or child index
  const Program* child = nullptr;  // for kFork
};

struct Program {
  std::vector<Action> actions;  // ends with kExit (or kReapAllAndHalt for init)
  int exit_code = 0;
  bool signals_others = false;  // has a kSemUp: must not be killed
};

// What one process is doing in user mode.
struct UserProcess {
  const Program* program = nullptr;
  int pc = 0;
  std::vector<int> children;  // pids forked, in order (-1 when fork failed)
};

// User mode's instruction fetch and its own memory, for the kernel model's interpreter (user.cc).
// Defined in workload.cc, which is not instrumented: user memory is not the kernel's, and its
// accesses are never points.
// The action at u.pc into *action, or false when the pc is outside the program (an instruction
// page fault).
bool FetchAction(const UserProcess& u, Action* action);
// The pid of the index-th child u forked (-1 when that fork failed), or -1 when it forked fewer.
int ChildPid(const UserProcess& u, int index);
// Records a fork's result, in order.
void AddChild(UserProcess& u, int pid);

class Workload {
 public:
  // Draws every program. `semaphores` receives the number of semaphores the programs use.
  Workload(const WorkloadOptions& options, sim::Decider& decider, sim::StreamId stream);
  const Program* init_program() const { return init_; }
  int semaphores() const { return semaphores_; }

 private:
  const Program* Generate(int depth, bool waits_on_semaphore, int semaphore);
  Program* New();

  WorkloadOptions options_;
  sim::Decider& decider_;
  sim::StreamId stream_;
  std::vector<std::unique_ptr<Program>> programs_;
  const Program* init_ = nullptr;
  int semaphores_ = 0;
  int forks_ = 0;
};

}  // namespace switchyard::xv6

#endif  // SWITCHYARD_KERNEL_MODELS_XV6_WORKLOAD_H_
