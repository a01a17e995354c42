// The xv6 model's registration: its options map onto xv6::Config.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "kernel_models/xv6/tree.h"
#include "kernel_models/xv6/xv6.h"
#include "scenario/models.h"

namespace switchyard::scenario {
namespace {

xv6::Config ToConfig(const Options& o, const std::string& bug) {
  xv6::Config c;
  c.ncpu = static_cast<int>(o.at("cpus"));
  c.nproc = static_cast<int>(o.at("nproc"));
  c.timer_period = static_cast<uint64_t>(o.at("timer_period"));
  xv6::WorkloadOptions& w = c.workload;
  w.children = static_cast<int>(o.at("children"));
  w.program_length = static_cast<int>(o.at("program_length"));
  w.depth = static_cast<int>(o.at("depth"));
  w.max_forks = static_cast<int>(o.at("max_forks"));
  w.compute_max = static_cast<int>(o.at("compute_max"));
  w.disk_latency_max = static_cast<int>(o.at("disk_latency_max"));
  w.sleep_ticks_max = static_cast<int>(o.at("sleep_ticks_max"));
  w.fork = o.at("fork") != 0;
  w.disk = o.at("disk") != 0;
  w.sleep_ticks = o.at("sleep_ticks") != 0;
  w.semaphores = o.at("semaphores") != 0;
  w.kill = o.at("kill") != 0;
  for (xv6::Bug b : xv6::AllBugs()) {
    if (bug == xv6::BugName(b)) c.bug = b;
  }
  c.swtch_emulated = o.at("swtch") != 0;
  return c;
}

// --kernel: the built-in C++ model, switchyard's own C tree, or a tree of the user's.
enum Kernel : int64_t { kKernelModel = 0, kKernelBuiltin = 1, kKernelDirectory = 2 };

// The planted bugs that switchyard's own C tree has (kernel_models/xv6/builtin/kernel/proc.c
// lists them by number). Those without a description here are the C++ model's bugs of the same
// name, planted in the tree as well; the others are the tree's alone.
struct TreeBugSpec {
  const char* name;
  int number;
  const char* description;  // null: the C++ model's bug of that name describes it
};
constexpr TreeBugSpec kTreeBugs[] = {
    {"scheduler-keeps-c-proc", 1, nullptr},
    {"forkret-keeps-lock", 2, nullptr},
    {"wakeup-without-lock", 3, nullptr},
    {"release-keeps-owner", 4,
     "release() does not clear lk->cpu: holding() on the old owner says yes while another CPU "
     "takes the lock (--kernel=builtin only)"},
    {"exit-wait-lock-under-p-lock", 5,
     "exit() takes its p->lock before wait_lock, against the order wait() relies on "
     "(--kernel=builtin only)"},
    {"release-pops-before-unlock", 6,
     "release() calls pop_off() before it frees the lock: interrupts come back on while the lock "
     "is still held (--kernel=builtin only)"},
    {"double-release", 7,
     "release() does not check holding(), and wait() releases a child's p->lock a second time "
     "(--kernel=builtin only)"},
    {"push-off-reads-cpu-early", 8,
     "push_off() reads mycpu() before intr_off(): an interrupt in between moves the thread to "
     "another CPU, where it updates the first CPU's noff and intena (--kernel=builtin only)"},
    {"kill-checks-pid-unlocked", 9,
     "kill() compares p->pid before it takes p->lock and not again: a slot freed and reused in "
     "between is killed instead (--kernel=builtin only)"},
    {"sched-forgets-intena", 10, nullptr},
    {"push-off-saves-after-off", 11, nullptr},
    {"sched-releases-early", 14, nullptr},
    {"scheduler-no-interrupts", 15, nullptr},
    {"pop-off-enables-early", 16, nullptr},
    {"usertrap-intr-on-early", 17, nullptr},
    {"acquire-before-push-off", 18, nullptr},
    {"fork-runnable-before-program", 19, nullptr},
    {"swtch-forgets-s11", xv6::kSwtchForgetsS11Bug, nullptr},  // in its kernel/swtch.S
    {"bget-looks-up-unlocked", 12,
     "bget() looks for a cached copy of the block before it takes bcache.lock: two processes "
     "that miss the same block at once each recycle a buffer for it (--kernel=builtin only)"},
    {"bget-keeps-valid", 13,
     "bget() recycles a buffer for another block without clearing b->valid: bread() returns the "
     "old block's contents (--kernel=builtin only)"},
};

int TreeBug(const std::string& bug) {
  for (const TreeBugSpec& b : kTreeBugs) {
    if (bug == b.name) return b.number;
  }
  return 0;
}

std::string TreeBugNames() {
  std::string names;
  for (const TreeBugSpec& b : kTreeBugs) absl::StrAppend(&names, names.empty() ? "" : ", ", b.name);
  return names;
}

// The directory of the tree a scenario runs: the user's, or switchyard's own written once per
// process into the cache.
absl::StatusOr<std::string> TreeRoot(const Options& o, const std::string& user_file) {
  if (o.at("kernel") != kKernelBuiltin) return user_file;
  static std::string builtin_root;
  if (builtin_root.empty()) {
    absl::StatusOr<std::string> written = xv6::WriteBuiltinTree("");
    if (!written.ok()) return written.status();
    builtin_root = *written;
  }
  return builtin_root;
}

// The tree a scenario runs: built and loaded once per process (xv6::LoadTreeOnce).
absl::StatusOr<const xv6::LoadedTree*> TreeFor(const Options& o, const std::string& user_file) {
  absl::StatusOr<std::string> root = TreeRoot(o, user_file);
  if (!root.ok()) return root.status();
  return xv6::LoadTreeOnce(*root);
}

}  // namespace

ModelSpec Xv6Spec() {
  ModelSpec m;
  m.name = "xv6";
  m.description =
      "xv6-riscv's multi-CPU scheduler: per-CPU scheduler threads, sched/swtch/yield, "
      "sleep/wakeup, spinlocks with push_off/pop_off, timer preemption, forkret, a disk";
  m.fingerprint = xv6::kFingerprint;
  // name, default, min, max, help, swarm range
  m.options = {
      {"kernel",
       kKernelModel,
       kKernelModel,
       kKernelDirectory,
       "the kernel: model (the built-in C++ model, every option below), builtin (switchyard's "
       "own xv6-compatible C tree, compiled at run time as yours is) or the directory of your "
       "own xv6-riscv tree (--kernel=~/xv6-riscv: its kernel/proc.c, spinlock.c, sleeplock.c, "
       "kalloc.c, vm.c, trap.c, syscall.c, sysproc.c and bio.c, unmodified; a tree takes the "
       "options below but --nproc (its NPROC), --timer_period and --semaphores)",
       1,
       0,
       {"model", "builtin"},
       /*absent_in_old_files=*/true},
      {"cpus", 2, 1, xv6::kMaxCpus, "CPUs (NCPU)", 1, 4},
      {"swtch", 0, 0, 1,
       "1 (emulated): each swtch also runs the real RISC-V swtch.S in Unicorn (a tree's own "
       "kernel/swtch.S)"},
      {"nproc", 8, 2, xv6::kMaxProcs, "process slots (NPROC)", 3, 12},
      {"timer_period", 100, 36, 100000, "ticks between timer interrupts on each CPU", 120, 400},
      {"children", 3, 0, 32, "processes init forks", 1, 5},
      {"program_length", 6, 1, 64, "most actions in a program", 2, 10},
      {"depth", 2, 0, 8, "how deep forks nest below init's children", 0, 3},
      {"max_forks", 12, 0, 256, "forks in the whole workload", 2, 20},
      {"compute_max", 8, 1, 10000, "most user-mode steps in one compute action", 1, 30},
      {"disk_latency_max", 40, 1, 100000, "most ticks a disk request takes", 1, 200},
      {"sleep_ticks_max", 2, 1, 100, "most clock ticks one sleep() waits", 1, 3},
      {"fork", 1, 0, 1, "workloads may fork", 0, 1},
      {"disk", 1, 0, 1, "workloads may read the disk", 0, 1},
      {"sleep_ticks", 1, 0, 1, "workloads may sleep for ticks", 0, 1},
      {"semaphores", 1, 0, 1, "workloads may signal children through semaphores", 0, 1},
      {"kill", 1, 0, 1, "workloads may kill children", 0, 1},
  };
  for (xv6::Bug b : xv6::AllBugs()) {
    // At access granularity the lost wakeup's window needs the sleeper to run from release(lk)
    // to p->state = SLEEPING while the waker stands still: about 1 random run in 1,000.
    // The model's bugs that switchyard's own tree lacks say so, as the tree's own bugs do.
    m.bugs.push_back({xv6::BugName(b),
                      TreeBug(xv6::BugName(b)) != 0
                          ? std::string(xv6::BugDescription(b))
                          : absl::StrCat(xv6::BugDescription(b), " (--kernel=model only)"),
                      b == xv6::Bug::kWakeupWithoutLock,
                      b == xv6::Bug::kForkRunnableBeforeProgram,
                      {}});
  }
  for (const TreeBugSpec& b : kTreeBugs) {
    if (b.description == nullptr) continue;
    m.bugs.push_back({b.name, b.description, false, false, {{"kernel", kKernelBuiltin}}});
  }
  m.invariants = xv6::Kernel::InvariantNames();
  // A tree's (--kernel=builtin or DIR): the platform's checks (kernel_models/xv6/platform/
  // README.md) and the contracts of kernel_models/xv6/lock_contracts.h, where the C++ model's
  // names differ.
  for (const char* name :
       {"cpu-proc-agrees", "wait-returns-exit-status", "fork-returns-unique-pid",
        "bread-returns-requested-block", "one-buffer-per-block", "bread-returns-latest-write",
        "lock-order", "no-lock-held-in-user-mode", "interrupts-off-while-holding-spinlock",
        "release-by-non-owner", "release-clears-owner", "guarded-field-under-lock",
        "per-cpu-state-by-own-cpu", "push-off-disables-interrupts", "pop-off-restores-interrupts",
        "stack-reused-while-running", "user-program"}) {
    if (std::find(m.invariants.begin(), m.invariants.end(), name) == m.invariants.end()) {
      m.invariants.push_back(name);
    }
  }
  // A timer period left at its default grows with nproc, so `--nproc=32` alone just works.
  m.adjust = [](Options* o, const std::set<std::string>& given) {
    if (!given.count("timer_period")) {
      (*o)["timer_period"] = std::max<int64_t>(o->at("timer_period"), 8 * o->at("nproc") + 20);
    }
  };
  // A tree (builtin or the user's) takes the workload's options too, but not its sizes (NPROC is
  // the tree's), its timer or the model's semaphores.
  m.option_applies = [](const Options& o, const std::string& name) {
    auto kernel = o.find("kernel");
    return kernel == o.end() || kernel->second == kKernelModel ||
           (name != "nproc" && name != "timer_period" && name != "semaphores");
  };
  m.check = [](const Options& o) -> std::string {
    // Each tick costs cpu0 a wakeup() scan of every slot, and a preempted process waits for
    // a scheduler scan of every slot. A timer that fires again before a process gets back to
    // user mode preempts it forever: a livelock of the configuration, not a kernel bug (real
    // xv6's tick is a million cycles, far longer than both scans).
    int64_t least = 8 * o.at("nproc") + 20;
    if (o.at("timer_period") < least) {
      return absl::StrCat("timer_period=", o.at("timer_period"),
                          " must be at least 8*nproc+20=", least,
                          ", so that a process can run between two timer ticks");
    }
    return "";
  };
  m.prepare_always = true;  // switchyard's own tree is compiled as a user's is
  // A tree's points are its instrumented accesses (the platform's CSR points aside): a coarse run
  // of the builtin tree makes 8 steps.
  m.access_granularity_only = [](const Options& o) { return o.at("kernel") != kKernelModel; };
  m.user_file_option = "kernel";
  m.user_file_value = kKernelDirectory;
  m.prepare = [](const Options& o, const std::string& user_file) -> std::string {
    if (o.at("kernel") == kKernelModel) return "";
    absl::StatusOr<const xv6::LoadedTree*> tree = TreeFor(o, user_file);
    if (!tree.ok()) return std::string(tree.status().message());
    if (o.at("cpus") > (*tree)->ncpu()) {
      return absl::StrCat("--cpus=", o.at("cpus"), " is more than the tree's NCPU (",
                          (*tree)->ncpu(), ")");
    }
    if (o.at("swtch") != 0 && !(*tree)->has_swtch_routine()) {
      return absl::StrCat("--swtch=1 needs the tree's swtch.S in the emulator: ",
                          (*tree)->swtch_error());
    }
    return "";
  };
  // Reproducers of a tree record a hash of its sources (read again, not the loaded tree's: a
  // replay compares the tree as it is now with the file).
  m.user_code_fingerprint = [](const Options& o, const std::string& user_file) -> std::string {
    if (o.at("kernel") == kKernelModel) return "";
    absl::StatusOr<std::string> root = TreeRoot(o, user_file);
    if (!root.ok()) return "";
    absl::StatusOr<std::string> hash = xv6::TreeSourcesFingerprint(*root);
    return hash.ok() ? *hash : "";
  };
  m.check_bug = [](const Options& o, const std::string& bug) -> std::string {
    if (o.at("kernel") == kKernelModel) {
      for (xv6::Bug b : xv6::AllBugs()) {
        if (bug == xv6::BugName(b)) return "";
      }
      return absl::StrCat("--bug=", bug,
                          " is planted only in switchyard's own C tree: add --kernel=builtin");
    }
    if (o.at("kernel") == kKernelDirectory) {
      return absl::StrCat("--bug=", bug,
                          ": a tree of your own has no planted bugs (plant the bug in a copy of "
                          "your tree and give that directory)");
    }
    if (TreeBug(bug) == 0) {
      return absl::StrCat("--bug=", bug,
                          " is planted only in the C++ model; switchyard's own C tree has ",
                          TreeBugNames());
    }
    // Planted in the tree's swtch.S, which runs in the emulator.
    if (TreeBug(bug) == xv6::kSwtchForgetsS11Bug) {
      absl::StatusOr<const xv6::LoadedTree*> tree = TreeFor(o, "");
      if (!tree.ok()) return std::string(tree.status().message());
      if (!(*tree)->has_swtch_routine()) {
        return absl::StrCat("--bug=", bug,
                            " needs the tree's swtch.S in the emulator: ", (*tree)->swtch_error());
      }
    }
    return "";
  };
  m.cpus = [](const Options& o) { return static_cast<int>(o.at("cpus")); };
  m.pct_expected_steps = 3000;
  // A tree's run is some 20,000 to 50,000 points (every access of the kernel but a CPU's own
  // struct cpu with interrupts off).
  m.pct_steps = [](const Options& o) -> uint64_t {
    return o.at("kernel") == kKernelModel ? 3000 : 40000;
  };
  m.run = [](const RunRequest& r) {
    if (r.options.at("kernel") == kKernelModel) {
      return xv6::Run(ToConfig(r.options, r.bug), r.decider, r.sim_options, r.after);
    }
    // prepare() built and loaded the tree in this process, or Resolve failed.
    absl::StatusOr<const xv6::LoadedTree*> tree = TreeFor(r.options, r.user_file);
    SY_CHECK(tree.ok());
    xv6::TreeRunConfig config;
    config.cpus = static_cast<int>(r.options.at("cpus"));
    config.planted_bug = TreeBug(r.bug);
    config.swtch_emulated = r.options.at("swtch") != 0;
    xv6::TreeWorkload& w = config.workload;
    w.children = static_cast<int32_t>(r.options.at("children"));
    w.program_length = static_cast<int32_t>(r.options.at("program_length"));
    w.depth = static_cast<int32_t>(r.options.at("depth"));
    w.max_forks = static_cast<int32_t>(r.options.at("max_forks"));
    w.compute_max = static_cast<int32_t>(r.options.at("compute_max"));
    w.disk_latency_max = static_cast<int32_t>(r.options.at("disk_latency_max"));
    w.sleep_ticks_max = static_cast<int32_t>(r.options.at("sleep_ticks_max"));
    w.fork = r.options.at("fork") != 0;
    w.disk = r.options.at("disk") != 0;
    w.sleep_ticks = r.options.at("sleep_ticks") != 0;
    w.kill = r.options.at("kill") != 0;
    return (*tree)->Run(config, r.decider, r.sim_options, r.after);
  };
  return m;
}

}  // namespace switchyard::scenario
