// A user's xv6-riscv tree under the simulator: compile it natively with the xv6 platform
// (kernel_models/xv6/platform/) and ThreadSanitizer instrumentation into a module, load it, and
// run its own scheduler, locks, traps and system calls on virtual CPUs.
//
// Build (BuildTree). The tree's kernel/proc.c, spinlock.c, sleeplock.c, kalloc.c, vm.c, trap.c,
// syscall.c, sysproc.c and bio.c are compiled by clang with -fsanitize=thread, in place (the tree
// is only read: a clang VFS overlay puts the platform's riscv.h and memlayout.h where the tree's
// are, so diagnostics and line tables name the user's own files; the platform's riscv.h includes
// the tree's own riscv.h definitions that it lacks, TreeRiscvDefinitions); the platform
// (platform.c) is compiled without instrumentation. Objects and the module go to a cache directory
// keyed by a hash of every source, the platform and the flags: an unchanged tree is not compiled
// again. The tree's kernel/swtch.S is assembled by the RISC-V cross compiler for --swtch=1
// (TreeRunConfig::swtch_emulated). What a tree offers is detected, not assumed: its timer's scause
// (a machine-mode timervec's software interrupt, or Sstc's supervisor timer), printf's return type,
// and the system calls whose implementations live in files that are not compiled (sysfile.c, a
// lab's extra calls): those return -1. Any other symbol the compiled files need and nobody defines
// is an error that names it and the file that needs it.
//
// Run (LoadedTree). Loading the module runs the tree's own initialisation once (kinit, procinit,
// trapinit, userinit) in a one-vCPU simulation and snapshots the kernel's memory after it; every
// run starts from that snapshot, boots each vCPU into the tree's scheduler() and runs the
// platform's user programs (platform.c) under the run's decider.
//
// Errors: a one-line absl::Status (not an xv6 tree, a missing file, a compiler's errors as it
// printed them, an unresolved symbol, a module that cannot be loaded).
#ifndef SWITCHYARD_KERNEL_MODELS_XV6_TREE_H_
#define SWITCHYARD_KERNEL_MODELS_XV6_TREE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arch/emu/elf_image.h"
#include "kernel_models/xv6/lock_contracts.h"
#include "kernel_models/xv6/swtch_emu.h"
#include "sim/decider.h"
#include "sim/module.h"
#include "sim/simulator.h"

namespace switchyard::xv6 {

struct BuiltTree {
  std::string tree;                 // the tree's directory, absolute
  std::string module_path;          // the compiled module in the cache
  std::string fingerprint;          // hex hash of the compiled sources, the platform and the flags
  std::string sources_fingerprint;  // hex hash of the tree's own sources (TreeSourcesFingerprint)
  bool cached = false;              // the module was already in the cache
  std::vector<std::string> notes;   // what was detected ("timer: Sstc stimecmp", ...)
  // The tree's kernel/swtch.S assembled by the RISC-V cross compiler and linked alone at
  // kSwtchTextAddress (for --swtch=1), or empty with swtch_error saying why not (no such file,
  // the assembler's own message). A tree without one still runs natively.
  std::string swtch_elf;
  std::string swtch_error;
};

// Compiles `tree` (a directory holding kernel/proc.c, ...). `cache_dir` empty: the default,
// $XDG_CACHE_HOME/switchyard or ~/.cache/switchyard. `progress` gets one line when compiling.
absl::StatusOr<BuiltTree> BuildTree(const std::string& tree, const std::string& cache_dir,
                                    const std::function<void(const std::string&)>& progress);

// A hash (16 hex digits, FNV-1a: the same in every process) of the tree's sources that a build
// reads: the compiled kernel/*.c, every header in kernel/ and kernel/swtch.S. Reproducers record
// it, so that a replay can say that the tree changed since. Errors: BuildTree's for a directory
// that is not a tree.
absl::StatusOr<std::string> TreeSourcesFingerprint(const std::string& tree);

// What the platform's riscv.h includes from the tree's own riscv.h, which it replaces: the tree's
// preprocessor lines (multi-line macros whole; conditionals as written) minus #include, #error,
// #pragma, #line and every #define or #undef of a name `platform_headers` (the platform's riscv.h
// and memlayout.h) use; every other
// line left empty and a #line naming `tree_path`, so that messages name the tree's file:line.
std::string TreeRiscvDefinitions(const std::string& tree_riscv_h, const std::string& tree_path,
                                 const std::string& platform_headers);

// Writes switchyard's own xv6-compatible tree (kernel_models/xv6/builtin, embedded in the
// binary) into the cache directory and returns its root, for BuildTree.
absl::StatusOr<std::string> WriteBuiltinTree(const std::string& cache_dir);

// The tree at `tree` built (progress lines on stderr) and loaded once per process: later calls
// with the same directory return the same tree. Only one tree can be loaded in a process (its
// trampoline page and physical memory sit at fixed addresses); asking for another is an error.
absl::StatusOr<const class LoadedTree*> LoadTreeOnce(const std::string& tree);

// switchyard's own tree's swtch-forgets-s11: the word `swtch_planted_bug` of its kernel/swtch.S.
inline constexpr int kSwtchForgetsS11Bug = 20;

// The platform's user programs (platform/README.md), as the C++ model's workload options have
// them (workload.h), with the same defaults. The layout of platform.c's struct xv6_workload.
struct TreeWorkload {
  int32_t children = 3;           // processes init forks
  int32_t program_length = 6;     // most actions in a child's program (>= 1)
  int32_t depth = 2;              // how deep forks nest below init's children
  int32_t max_forks = 12;         // forks in the whole run, init's included
  int32_t compute_max = 8;        // most user instructions in one compute action (>= 1)
  int32_t disk_latency_max = 40;  // most ticks a disk request takes (>= 1)
  int32_t sleep_ticks_max = 2;    // most ticks one sleep() asks for (>= 1)
  // Which actions programs may draw (0 or 1).
  int32_t fork = 1, disk = 1, sleep_ticks = 1, kill = 1;
};

struct TreeRunConfig {
  int cpus = 2;
  uint64_t timer_period = 300;  // ticks of virtual time between a vCPU's timer interrupts
  // Written into the tree's `xv6_planted_bug` before the run, if the tree has one (switchyard's
  // own tree does: kernel_models/xv6/builtin/kernel/proc.c); 0 is the correct kernel.
  // kSwtchForgetsS11Bug is planted in its swtch.S instead, and runs that swtch.S.
  int planted_bug = 0;
  // --swtch=1: every swtch() also runs the tree's own swtch.S in the RISC-V emulator
  // (swtch_emu.h), which fails the run with swtch-restores-registers when a thread does not get
  // its ra, sp and s0-s11 back, or a new one does not start at allocproc's ra and sp (a struct
  // context whose fields are not where swtch.S loads them). Observes only: a run that passes
  // has the same trace as without it. REQUIRES: has_swtch_routine().
  bool swtch_emulated = false;
  TreeWorkload workload;
  // The spin-lock contracts on a ghost record of lock ownership (lock_contracts.h). Off only to
  // show what the tree's own checks (its panic()s) find by themselves.
  bool lock_contracts = true;
  // release-clears-owner, the one contract that reads the tree's owner field (to check it). Off
  // only to show what the ghost record alone concludes when that field is stale.
  bool check_owner_field = true;
  // cpu-proc-agrees re-reads every proc slot at every check instead of only the slots that
  // changed since it last held (LockContracts): tests compare the two.
  bool cpu_proc_every_slot = false;
};

class LoadedTree {
 public:
  // Loads the module, maps its physical memory at KERNBASE and its trampoline page at TRAMPOLINE,
  // and runs the tree's initialisation (see the header comment). One tree per process: both sit
  // at fixed addresses.
  static absl::StatusOr<std::unique_ptr<LoadedTree>> Load(const BuiltTree& built);

  // One run from the snapshot. REQUIRES: 1 <= config.cpus <= the tree's NCPU; a planted bug
  // only for a tree that has xv6_planted_bug (has_planted_bugs()). Left at their defaults,
  // options.accesses_per_tick becomes 10, the no-progress budget 200,000 ticks (more if the
  // workload's longest sleep or disk request needs it) and max_steps 50,000,000 (see Run for
  // why). --swtch=1 or kSwtchForgetsS11Bug: REQUIRES has_swtch_routine().
  // `after` (optional) inspects the finished run, as xv6::Run's does.
  sim::Outcome Run(const TreeRunConfig& config, sim::Decider& decider, sim::SimOptions options,
                   const std::function<void(const sim::Simulator&)>& after = nullptr) const;

  int ncpu() const { return ncpu_; }
  bool has_planted_bugs() const { return planted_bug_ != nullptr; }
  // Whether --swtch=1 can run: the tree's swtch.S was assembled. If not, swtch_error() says why
  // in one line.
  bool has_swtch_routine() const { return swtch_elf_ != nullptr && swtch_error_.empty(); }
  const std::string& swtch_error() const { return swtch_error_; }
  const BuiltTree& built() const { return built_; }
  // The address of a symbol the tree's module defines, or null: for tests that look at what the
  // tree's initialisation left (a run's memory is restored from the snapshot it took).
  void* Symbol(const char* name) const;
  // The contracts this tree cannot have, each with why ("lock-order (the tree has no
  // `wait_lock`...)"). LoadTreeOnce prints them.
  const std::vector<std::string>& skipped_checks() const { return locks_.skipped; }

 private:
  LoadedTree() = default;
  BuiltTree built_;
  std::unique_ptr<sim::Module> module_;
  int ncpu_ = 0;
  void (*boot_)(int) = nullptr;
  void (*start_)() = nullptr;
  int (*check_cpu_proc_)(char*, int, int) = nullptr;
  void (*describe_)(char*, int) = nullptr;
  int* planted_bug_ = nullptr;        // the tree's xv6_planted_bug, if it has one
  TreeWorkload* workload_ = nullptr;  // the platform's xv6_workload
  LockLayout locks_;
  std::string swtch_image_;  // swtch.elf's bytes, which swtch_elf_ reads
  std::unique_ptr<emu::Elf> swtch_elf_;
  SwtchRoutine swtch_routine_;
  int swtch_contexts_ = 0;  // NPROC + NCPU
  // The emulator --swtch=1 runs swtch.S in: made at the first such run, Reset for each.
  mutable std::unique_ptr<EmulatedSwtch> swtch_emu_;
  std::string swtch_error_;
};

}  // namespace switchyard::xv6

#endif  // SWITCHYARD_KERNEL_MODELS_XV6_TREE_H_
