#include "kernel_models/xv6/workload.h"

namespace switchyard::xv6 {

bool FetchAction(const UserProcess& u, Action* action) {
  const std::vector<Action>& actions = u.program->actions;
  if (u.pc < 0 || u.pc >= static_cast<int>(actions.size())) return false;
  *action = actions[u.pc];
  return true;
}

int ChildPid(const UserProcess& u, int index) {
  return index >= 0 && static_cast<size_t>(index) < u.children.size() ? u.children[index] : -1;
}

void AddChild(UserProcess& u, int pid) { u.children.push_back(pid); }

Workload::Workload(const WorkloadOptions& options, sim::Decider& decider, sim::StreamId stream)
    : options_(options), decider_(decider), stream_(stream) {
  Program* init = New();
  for (int i = 0; i < options.children && forks_ < options.max_forks; ++i) {
    ++forks_;
    init->actions.push_back({Op::kFork, 0, Generate(1, false, -1)});
  }
  init->actions.push_back({Op::kReapAllAndHalt});
  init_ = init;
}

Program* Workload::New() {
  programs_.push_back(std::make_unique<Program>());
  return programs_.back().get();
}

const Program* Workload::Generate(int depth, bool waits_on_semaphore, int semaphore) {
  Program* p = New();
  if (waits_on_semaphore) p->actions.push_back({Op::kSemDown, semaphore});
  enum Choice { kCompute, kFork, kWait, kDisk, kSleep, kKill, kChoices };
  std::vector<Choice> enabled = {kCompute, kWait};
  if (options_.fork && depth <= options_.depth) enabled.push_back(kFork);
  if (options_.disk) enabled.push_back(kDisk);
  if (options_.sleep_ticks) enabled.push_back(kSleep);
  if (options_.kill) enabled.push_back(kKill);

  int length = 1 + static_cast<int>(decider_.Choose(stream_, options_.program_length));
  int live_children = 0;
  std::vector<int> killable;  // child indexes with no semaphore duties
  int forked = 0;
  for (int i = 0; i < length; ++i) {
    Choice c = enabled[decider_.Choose(stream_, static_cast<uint32_t>(enabled.size()))];
    switch (c) {
      case kCompute:
        p->actions.push_back(
            {Op::kCompute, 1 + static_cast<int>(decider_.Choose(stream_, options_.compute_max))});
        break;
      case kFork: {
        if (forks_ >= options_.max_forks) break;
        ++forks_;
        bool with_semaphore = options_.semaphores && decider_.Choose(stream_, 2) == 1;
        int sem = with_semaphore ? semaphores_++ : -1;
        const Program* child = Generate(depth + 1, with_semaphore, sem);
        p->actions.push_back({Op::kFork, 0, child});
        if (!child->signals_others) killable.push_back(forked);
        ++forked;
        ++live_children;
        if (with_semaphore) {
          // Signal before anything that could wait for this child.
          p->actions.push_back(
              {Op::kCompute, 1 + static_cast<int>(decider_.Choose(stream_, options_.compute_max))});
          p->actions.push_back({Op::kSemUp, sem});
          p->signals_others = true;
        }
        break;
      }
      case kWait:
        if (live_children == 0) break;
        --live_children;
        p->actions.push_back({Op::kWait});
        break;
      case kDisk:
        p->actions.push_back({Op::kDiskRead, static_cast<int>(decider_.Choose(stream_, 64))});
        break;
      case kSleep:
        p->actions.push_back({Op::kSleepTicks, 1 + static_cast<int>(decider_.Choose(
                                                       stream_, options_.sleep_ticks_max))});
        break;
      case kKill:
        if (killable.empty()) break;
        p->actions.push_back(
            {Op::kKill,
             killable[decider_.Choose(stream_, static_cast<uint32_t>(killable.size()))]});
        break;
      case kChoices:
        break;
    }
  }
  // Sometimes wait for every child before exiting; otherwise they are reparented to init.
  if (live_children > 0 && decider_.Choose(stream_, 4) != 0) {
    for (; live_children > 0; --live_children) p->actions.push_back({Op::kWait});
  }
  p->exit_code = static_cast<int>(decider_.Choose(stream_, 100));
  p->actions.push_back({Op::kExit, p->exit_code});
  return p;
}

}  // namespace switchyard::xv6
